// The analysis's vector data (image pixels) turned into what the overlays draw. Pure.
//
// Rule for finding instances: an instance (one detection) is drawn when its OWN score is at
// or above its kind's threshold. Its status follows the clinician's decision on its main
// tooth (the tooth it raised most, `teeth[0]`) for that kind: rejected -> dashed and struck,
// confirmed or added -> solid and marked, no decision -> the AI's (solid, thinner). A finding
// the clinician added where no instance is drawn is marked on that tooth's outline with "+".
import type { FindingDecision, Geometry, GeometryFinding } from "./api";
import { decisionKey } from "./review";

export type Box = [number, number, number, number];

/** One ring [x0,y0,x1,y1,...] as an SVG path ("M x y L ... Z"). */
export function ringPath(ring: number[]): string {
  if (ring.length < 6) return "";
  let d = `M${ring[0]} ${ring[1]}`;
  for (let i = 2; i + 1 < ring.length; i += 2) d += `L${ring[i]} ${ring[i + 1]}`;
  return `${d}Z`;
}

export const outlinePath = (rings: number[][]): string => rings.map(ringPath).join("");

/** The bounding box of rings, or null when they hold no point. */
export function ringsBox(rings: number[][]): Box | null {
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const ring of rings) {
    for (let i = 0; i + 1 < ring.length; i += 2) {
      x0 = Math.min(x0, ring[i]);
      x1 = Math.max(x1, ring[i]);
      y0 = Math.min(y0, ring[i + 1]);
      y1 = Math.max(y1, ring[i + 1]);
    }
  }
  return Number.isFinite(x0) ? [x0, y0, x1, y1] : null;
}

/** Each segmented tooth's bounding box, keyed by FDI as text ("36"). */
export function toothBoxes(g: Geometry): Map<string, Box> {
  const boxes = new Map<string, Box>();
  for (const t of g.teeth) {
    const box = ringsBox(t.outline);
    if (box) boxes.set(String(t.fdi), box);
  }
  return boxes;
}

/** A crop around a box: padded by `pad` of its size, at least `minSize` pixels, kept in the image. Returns [x, y, w, h]. */
export function cropAround(box: Box, width: number, height: number, pad = 0.35, minSize = 200): Box {
  const [x0, y0, x1, y1] = box;
  const w = Math.min(width, Math.max(minSize, (x1 - x0) * (1 + 2 * pad)));
  const h = Math.min(height, Math.max(minSize, (y1 - y0) * (1 + 2 * pad)));
  const cx = (x0 + x1) / 2;
  const cy = (y0 + y1) / 2;
  const x = Math.min(Math.max(0, cx - w / 2), width - w);
  const y = Math.min(Math.max(0, cy - h / 2), height - h);
  return [Math.round(x), Math.round(y), Math.round(w), Math.round(h)];
}

/** The tooth an instance raised most, as text, or null when it touches none. */
export const mainTooth = (f: GeometryFinding): string | null => (f.teeth.length > 0 ? String(f.teeth[0].fdi) : null);

export type InstanceStatus = "ai" | "confirmed" | "rejected";

export interface DrawnInstance {
  instance: GeometryFinding;
  fdi: string | null;
  status: InstanceStatus;
}

/** The finding instances to draw for these thresholds and decisions (see the rule above). */
export function drawnInstances(g: Geometry, thresholds: Record<string, number>, decisions: FindingDecision[]): DrawnInstance[] {
  const byKey = new Map(decisions.map((d) => [decisionKey(d.fdi, d.finding), d.decision]));
  return g.findings
    .filter((f) => f.score >= (thresholds[f.finding] ?? 0.5))
    .map((f) => {
      const fdi = mainTooth(f);
      const d = fdi ? byKey.get(decisionKey(fdi, f.finding)) : undefined;
      const status: InstanceStatus = d === "rejected" ? "rejected" : d === "confirmed" || d === "added" ? "confirmed" : "ai";
      return { instance: f, fdi, status };
    });
}

/** Added findings with no drawn instance of that kind on that tooth: marked on the tooth's outline. */
export function addedMarks(g: Geometry, drawn: DrawnInstance[], decisions: FindingDecision[]): { fdi: string; finding: string; box: Box }[] {
  const boxes = toothBoxes(g);
  const drawnKeys = new Set(drawn.map((d) => (d.fdi ? decisionKey(d.fdi, d.instance.finding) : "")));
  const marks: { fdi: string; finding: string; box: Box }[] = [];
  for (const d of decisions) {
    if (d.decision !== "added" || drawnKeys.has(decisionKey(d.fdi, d.finding))) continue;
    const box = boxes.get(String(Number(d.fdi)));
    if (box) marks.push({ fdi: String(Number(d.fdi)), finding: d.finding, box });
  }
  return marks;
}

/** Instances that touch a tooth (any share), strongest first. */
export function instancesOfTooth(g: Geometry, fdi: string): GeometryFinding[] {
  return g.findings.filter((f) => f.teeth.some((t) => String(t.fdi) === fdi)).sort((a, b) => b.score - a.score);
}

/** Whether an upper-jaw tooth (quadrants 1 and 2; their roots point up in a panoramic). */
export const isUpper = (fdi: string | number): boolean => Math.floor(Number(fdi) / 10) <= 2;
