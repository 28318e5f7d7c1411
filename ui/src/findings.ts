// Pure logic over the 256 findings: no DOM, no IPC, so it is unit-tested on its own.
import type { ToothFinding } from "./api";

export const FINDING_KINDS = [
  "MISSING",
  "IMPLANT",
  "RESIDUAL_ROOT",
  "CROWN_BRIDGE",
  "ROOT_CANAL_FILLING",
  "FILLING",
  "CARIES",
  "PERIAPICAL_RADIOLUCENCY",
] as const;

export const FINDING_LABELS: Record<string, string> = {
  MISSING: "missing",
  IMPLANT: "implant",
  RESIDUAL_ROOT: "residual root",
  CROWN_BRIDGE: "crown/bridge",
  ROOT_CANAL_FILLING: "root canal filling",
  FILLING: "filling",
  CARIES: "caries",
  PERIAPICAL_RADIOLUCENCY: "periapical radiolucency",
};

/** Odontogram colours per finding (also used as the legend). */
export const FINDING_COLOURS: Record<string, string> = {
  MISSING: "#8c8c8c",
  IMPLANT: "#6f42c1",
  RESIDUAL_ROOT: "#b35900",
  CROWN_BRIDGE: "#0b7a75",
  ROOT_CANAL_FILLING: "#1f6feb",
  FILLING: "#2da44e",
  CARIES: "#d1242f",
  PERIAPICAL_RADIOLUCENCY: "#bf3989",
};

/** Default thresholds: a finding is shown from this score on (adjustable, remembered). */
export const DEFAULT_THRESHOLDS: Record<string, number> = Object.fromEntries(
  FINDING_KINDS.map((k) => [k, 0.5]),
);

/** The 32 teeth in chart order: upper right 18..11, upper left 21..28, lower left 38..31 reversed, lower right 41..48. */
export const UPPER_TEETH = [18, 17, 16, 15, 14, 13, 12, 11, 21, 22, 23, 24, 25, 26, 27, 28].map(String);
export const LOWER_TEETH = [48, 47, 46, 45, 44, 43, 42, 41, 31, 32, 33, 34, 35, 36, 37, 38].map(String);

/** Each tooth's highest-scoring finding, teeth in FDI order. */
export function strongestPerTooth(findings: ToothFinding[]): ToothFinding[] {
  const best = new Map<string, ToothFinding>();
  for (const f of findings) {
    const current = best.get(f.fdi);
    if (!current || f.score > current.score) best.set(f.fdi, f);
  }
  return [...best.values()].sort((a, b) => Number(a.fdi) - Number(b.fdi));
}

/** Each tooth's strongest finding at or above its threshold; teeth without one are absent. */
export function toothColours(findings: ToothFinding[], thresholds: Record<string, number>): Map<string, ToothFinding> {
  const shown = new Map<string, ToothFinding>();
  for (const f of findings) {
    if (f.score < (thresholds[f.finding] ?? 0.5)) continue;
    const current = shown.get(f.fdi);
    if (!current || f.score > current.score) shown.set(f.fdi, f);
  }
  return shown;
}

export type SortKey = "fdi" | "finding" | "score";

export interface TableQuery {
  kinds: Set<string>;
  minScore: number;
  aboveThresholdOnly: boolean;
  sort: SortKey;
  descending: boolean;
}

/** The findings table's rows for a filter and a sort. */
export function tableRows(findings: ToothFinding[], q: TableQuery, thresholds: Record<string, number>): ToothFinding[] {
  const rows = findings.filter(
    (f) =>
      (q.kinds.size === 0 || q.kinds.has(f.finding)) &&
      f.score >= q.minScore &&
      (!q.aboveThresholdOnly || f.score >= (thresholds[f.finding] ?? 0.5)),
  );
  const key = (f: ToothFinding): number | string =>
    q.sort === "fdi" ? Number(f.fdi) : q.sort === "score" ? f.score : label(f.finding);
  rows.sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    const order = x < y ? -1 : x > y ? 1 : Number(a.fdi) - Number(b.fdi);
    return q.descending ? -order : order;
  });
  return rows;
}

/** Thresholds read back from storage, falling back to the defaults for anything odd. */
export function parseThresholds(text: string | null): Record<string, number> {
  const result = { ...DEFAULT_THRESHOLDS };
  if (!text) return result;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === "object" && parsed !== null) {
      for (const [k, v] of Object.entries(parsed)) {
        if (k in result && typeof v === "number" && v >= 0 && v <= 1) result[k] = v;
      }
    }
  } catch {
    // a damaged value: keep the defaults
  }
  return result;
}

export function percent(score: number): string {
  return `${Math.round(score * 100)}%`;
}

export function label(finding: string): string {
  return FINDING_LABELS[finding] ?? finding;
}
