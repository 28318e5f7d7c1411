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

/**
 * Colours per finding, shared by the odontogram, the overlays and the legend: the Okabe-Ito
 * palette (distinguishable with the common colour-vision deficiencies), grey for missing.
 * Colour is never the only cue: every finding also has a letter code and a plain word.
 */
export const FINDING_COLOURS: Record<string, string> = {
  MISSING: "#9e9e9e",
  IMPLANT: "#0072b2",
  RESIDUAL_ROOT: "#e69f00",
  CROWN_BRIDGE: "#f0e442",
  ROOT_CANAL_FILLING: "#56b4e9",
  FILLING: "#009e73",
  CARIES: "#d55e00",
  PERIAPICAL_RADIOLUCENCY: "#cc79a7",
};

/** Short codes shown in the odontogram's cells and the legend. */
export const FINDING_CODES: Record<string, string> = {
  MISSING: "M",
  IMPLANT: "I",
  RESIDUAL_ROOT: "RR",
  CROWN_BRIDGE: "Cr",
  ROOT_CANAL_FILLING: "RC",
  FILLING: "F",
  CARIES: "C",
  PERIAPICAL_RADIOLUCENCY: "PA",
};

/** WCAG relative luminance of a #rrggbb colour. */
export function luminance(hex: string): number {
  const channel = (i: number): number => {
    const c = parseInt(hex.slice(1 + 2 * i, 3 + 2 * i), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(0) + 0.7152 * channel(1) + 0.0722 * channel(2);
}

/** WCAG contrast ratio of two #rrggbb colours (1..21). */
export function contrast(a: string, b: string): number {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}

/** Black or white, whichever reads better on the colour (every palette colour reaches AA, 4.5:1). */
export function textOn(background: string): string {
  return contrast(background, "#000000") >= contrast(background, "#ffffff") ? "#000000" : "#ffffff";
}

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
export function tableRows<T extends ToothFinding>(findings: T[], q: TableQuery, thresholds: Record<string, number>): T[] {
  const rows = findings.filter(
    (f) =>
      (q.kinds.size === 0 || q.kinds.has(f.finding)) &&
      f.score >= q.minScore &&
      (!q.aboveThresholdOnly || f.score >= (thresholds[f.finding] ?? 0.5)),
  );
  const key = (f: T): number | string =>
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
