// Pure logic over the 256 findings: no DOM, no IPC, so it is unit-tested on its own.
import type { ToothFinding } from "./api";

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

/** Each tooth's highest-scoring finding, teeth in FDI order. */
export function strongestPerTooth(findings: ToothFinding[]): ToothFinding[] {
  const best = new Map<string, ToothFinding>();
  for (const f of findings) {
    const current = best.get(f.fdi);
    if (!current || f.score > current.score) best.set(f.fdi, f);
  }
  return [...best.values()].sort((a, b) => Number(a.fdi) - Number(b.fdi));
}

export function percent(score: number): string {
  return `${Math.round(score * 100)}%`;
}

export function label(finding: string): string {
  return FINDING_LABELS[finding] ?? finding;
}
