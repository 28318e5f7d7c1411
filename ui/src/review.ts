// The clinician's review over the AI's 256 scores: which rows are shown, where each comes
// from (ai | confirmed | rejected | added), and what the audit trail says in plain words.
// Pure: no DOM, no IPC.
import type { AuditRow, DecisionKind, FindingDecision, ToothFinding } from "./api";
import { FINDING_KINDS, label, tableRows, type TableQuery } from "./findings";
import { formatLocal } from "./time";

export type Source = "ai" | DecisionKind;

export interface ReviewedFinding extends ToothFinding {
  /** The AI's score is at or above the kind's threshold. */
  over: boolean;
  source: Source;
  note: string | null;
  decidedBy: string | null;
  decidedAt: string | null;
}

export const decisionKey = (fdi: string | number, finding: string): string => `${Number(fdi)}:${finding}`;

export function decisionMap(decisions: FindingDecision[]): Map<string, FindingDecision> {
  return new Map(decisions.map((d) => [decisionKey(d.fdi, d.finding), d]));
}

/** Every (tooth, finding) with its review state, in the order given. */
export function reviewFindings(
  findings: ToothFinding[],
  decisions: FindingDecision[],
  thresholds: Record<string, number>,
): ReviewedFinding[] {
  const byKey = decisionMap(decisions);
  return findings.map((f) => {
    const d = byKey.get(decisionKey(f.fdi, f.finding));
    return {
      fdi: String(Number(f.fdi)),
      finding: f.finding,
      score: f.score,
      over: f.score >= (thresholds[f.finding] ?? 0.5),
      source: d?.decision ?? "ai",
      note: d?.note ?? null,
      decidedBy: d?.decided_by ?? null,
      decidedAt: d?.decided_at ?? null,
    };
  });
}

/** Whether the row belongs in the reviewed record: over threshold (unless rejected) or added. */
export const isPresent = (r: ReviewedFinding): boolean =>
  r.source === "confirmed" || r.source === "added" || (r.source === "ai" && r.over);

/** Whether the row is worth showing in the odontogram and the default table: over threshold or decided. */
export const isNoteworthy = (r: ReviewedFinding): boolean => r.over || r.source !== "ai";

/** The findings table: with "over threshold only", rows over threshold plus every decided row. */
export function reviewTableRows(rows: ReviewedFinding[], q: TableQuery): ReviewedFinding[] {
  const pool = q.aboveThresholdOnly ? rows.filter(isNoteworthy) : rows;
  return tableRows(pool, { ...q, aboveThresholdOnly: false }, {});
}

const KIND_ORDER = new Map<string, number>(FINDING_KINDS.map((k, i) => [k, i]));

/** Per tooth, its noteworthy findings in the legend's order (the odontogram's cells). */
export function toothSummary(rows: ReviewedFinding[]): Map<string, ReviewedFinding[]> {
  const result = new Map<string, ReviewedFinding[]>();
  for (const r of rows) {
    if (!isNoteworthy(r)) continue;
    const list = result.get(r.fdi) ?? [];
    list.push(r);
    result.set(r.fdi, list);
  }
  for (const list of result.values()) list.sort((a, b) => (KIND_ORDER.get(a.finding) ?? 99) - (KIND_ORDER.get(b.finding) ?? 99));
  return result;
}

/** How many rows still wait for a decision, and how many are decided. */
export function reviewProgress(rows: ReviewedFinding[]): { pending: number; decided: number } {
  let pending = 0;
  let decided = 0;
  for (const r of rows) {
    if (r.source !== "ai") decided++;
    else if (r.over) pending++;
  }
  return { pending, decided };
}

export const SOURCE_WORDS: Record<Source, string> = {
  ai: "AI",
  confirmed: "confirmed",
  rejected: "rejected",
  added: "added",
};

const who = (actor: string): string => actor.trim() || "Someone (no name given)";

interface ReviewDetail {
  fdi: number | string;
  finding: string;
  before: string;
  after: string;
  note?: string | null;
}

function parseReview(detail: string | null): ReviewDetail | null {
  if (!detail) return null;
  try {
    const d: unknown = JSON.parse(detail);
    if (typeof d === "object" && d !== null && "fdi" in d && "finding" in d && "after" in d) return d as ReviewDetail;
  } catch {
    // not JSON: no review detail
  }
  return null;
}

/** One audit row in plain words: "Dr A confirmed caries on tooth 36 — 26 Nov 2026, 10:42 CET". */
export function auditSentence(row: AuditRow, options: { timeZone?: string; locale?: string } = {}): string {
  const actor = who(row.actor);
  let what: string;
  switch (row.action) {
    case "reviewed": {
      const d = parseReview(row.detail);
      if (!d) {
        what = `${actor} reviewed a finding`;
        break;
      }
      const finding = `${label(d.finding)} on tooth ${Number(d.fdi)}`;
      const was = d.before && d.before !== "ai" ? ` (was ${d.before})` : "";
      what =
        d.after === "ai"
          ? `${actor} withdrew the decision on ${finding} (was ${d.before}; the AI's score stands)`
          : `${actor} ${d.after} ${finding}${was}`;
      if (d.note) what += ` — note: “${d.note}”`;
      break;
    }
    case "viewed":
      what = `${actor} opened the analysis`;
      break;
    case "created":
      what = row.actor.trim() ? `${actor} added the radiograph for analysis` : "The radiograph was added for analysis";
      break;
    case "approved":
      what = `${actor} approved the analysis`;
      break;
    case "rejected":
      what = `${actor} rejected the analysis; its results were discarded`;
      break;
    case "uploaded":
      // Written when the archive job has filed the approved set (its detail: where).
      what = "The approved set was filed in the archive";
      break;
    case "deleted":
      what = `${actor === "Someone (no name given)" ? "Pano" : actor} deleted temporary files`;
      break;
    default:
      what = `${actor}: ${row.action}`;
  }
  return `${what} — ${formatLocal(row.at, options)}`;
}
