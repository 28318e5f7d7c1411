// What the review workspace holds for the open analysis; views read it, main.ts changes it.
import type { AnalysisDetail, FindingDecision, Geometry } from "./api";
import { parseThresholds } from "./findings";
import { reviewFindings, type ReviewedFinding } from "./review";

export const state = {
  thresholds: parseThresholds(localStorage.getItem("pano.thresholds")),
  current: null as AnalysisDetail | null,
  geometry: null as Geometry | null,
  image: null as string | null,
  decisions: [] as FindingDecision[],
  /** The tooth whose panel is open. */
  tooth: null as string | null,
};

export function reviewed(): ReviewedFinding[] {
  return state.current ? reviewFindings(state.current.findings, state.decisions, state.thresholds) : [];
}

/** Decisions may change only while the analysis waits for approval. */
export const reviewable = (): boolean => state.current?.analysis.status === "completed";

export const clinician = (): string => localStorage.getItem("pano.clinician") ?? "";
