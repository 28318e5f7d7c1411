// The overlays drawn from the analysis's geometry as SVG in image pixels: tooth outlines
// with FDI numbers, finding outlines in the odontogram's colours with plain words (never
// model class names), only for instances at or above their kind's threshold (rule in
// geometry.ts), styled by the clinician's decisions. Built once per change as markup;
// zoom and pan never touch it.
import type { FindingDecision, Geometry } from "../api";
import { $, esc, input } from "../dom";
import { FINDING_CODES, FINDING_COLOURS, label, percent } from "../findings";
import { addedMarks, drawnInstances, isUpper, outlinePath, toothBoxes } from "../geometry";
import { markIn, onHighlight, setHighlight } from "../highlight";

const svg = (): SVGSVGElement => document.getElementById("overlay") as unknown as SVGSVGElement;

export function renderTeeth(g: Geometry | null): void {
  const layer = $("layer-teeth-g");
  if (!g) {
    layer.innerHTML = "";
    return;
  }
  const boxes = toothBoxes(g);
  layer.innerHTML = g.teeth
    .map((t) => {
      const box = boxes.get(String(t.fdi));
      if (!box) return "";
      const cx = ((box[0] + box[2]) / 2).toFixed(0);
      // The number sits beyond the root's end, where the picture is quiet.
      const [y, dy] = isUpper(t.fdi) ? [box[1], "-0.35em"] : [box[3], "1em"];
      return `<g class="tooth" data-fdi="${t.fdi}"><path d="${outlinePath(t.outline)}"/><text x="${cx}" y="${y}" dy="${dy}">${t.fdi}</text></g>`;
    })
    .join("");
  svg().setAttribute("viewBox", `0 0 ${g.width} ${g.height}`);
  svg().setAttribute("width", String(g.width));
  svg().setAttribute("height", String(g.height));
}

const MARK = { ai: "", confirmed: "✓ ", rejected: "✗ " } as const;

export function renderFindings(g: Geometry | null, thresholds: Record<string, number>, decisions: FindingDecision[]): number {
  const layer = $("layer-findings-g");
  if (!g) {
    layer.innerHTML = "";
    return 0;
  }
  const drawn = drawnInstances(g, thresholds, decisions);
  // Weaker first, so the strongest lies on top.
  drawn.sort((a, b) => a.instance.score - b.instance.score);
  const parts = drawn.map(({ instance: f, fdi, status }) => {
    const colour = FINDING_COLOURS[f.finding] ?? "#ffffff";
    const teeth = ` ${f.teeth.map((t) => t.fdi).join(" ")} `;
    const [x0, y0] = f.box;
    // Short code on the image (the legend below explains it; adjacent teeth' labels would
    // overlap in words), the words on hover.
    const short = `${MARK[status]}${FINDING_CODES[f.finding] ?? label(f.finding)} ${percent(f.score)}`;
    const long = `${MARK[status]}${label(f.finding)} ${percent(f.score)}`;
    return (
      `<g class="inst st-${status}" data-fdi="${fdi ?? ""}" data-kind="${f.finding}" data-teeth="${teeth}" data-id="${f.id}">` +
      `<path d="${outlinePath(f.outline)}" stroke="${colour}" fill="${colour}"/>` +
      `<text x="${x0.toFixed(0)}" y="${y0.toFixed(0)}" dy="-0.3em"><tspan class="sw" fill="${colour}">■ </tspan><tspan class="short">${esc(short)}</tspan><tspan class="long">${esc(long)}</tspan></text></g>`
    );
  });
  for (const m of addedMarks(g, drawn, decisions)) {
    const colour = FINDING_COLOURS[m.finding] ?? "#ffffff";
    const [x0, y0, x1, y1] = m.box;
    parts.push(
      `<g class="inst st-added" data-fdi="${m.fdi}" data-kind="${m.finding}" data-teeth=" ${m.fdi} ">` +
        `<rect x="${x0}" y="${y0}" width="${x1 - x0}" height="${y1 - y0}" rx="12" stroke="${colour}" fill="${colour}"/>` +
        `<text x="${x0}" y="${isUpper(m.fdi) ? y1 : y0}" dy="${isUpper(m.fdi) ? "1em" : "-0.3em"}"><tspan class="sw" fill="${colour}">■ </tspan>+ ${esc(label(m.finding))} (added)</text></g>`,
    );
  }
  layer.innerHTML = parts.join("");
  // Many outlines at once (e.g. the random-weight test models): words only on hover.
  svg().classList.toggle("crowded", drawn.length > 24);
  return drawn.length;
}

function applyLayers(): void {
  const root = svg();
  root.classList.toggle("hide-teeth", !input("layer-teeth").checked);
  root.classList.toggle("hide-findings", !input("layer-findings").checked);
  root.classList.toggle("hide-labels", !input("layer-labels").checked);
  root.style.opacity = input("layer-opacity").value;
}

export function toggleLayer(id: "layer-teeth" | "layer-findings"): void {
  input(id).checked = !input(id).checked;
  applyLayers();
}

export function toggleAll(): void {
  const on = !(input("layer-teeth").checked || input("layer-findings").checked);
  input("layer-teeth").checked = on;
  input("layer-findings").checked = on;
  applyLayers();
}

export function initOverlays(onToothClick: (fdi: string) => void, dragging: () => boolean): void {
  for (const id of ["layer-teeth", "layer-findings", "layer-labels", "layer-opacity"]) input(id).addEventListener("input", applyLayers);
  applyLayers();
  const root = svg();
  root.addEventListener("pointerover", (e) => {
    if (dragging()) return;
    const g = (e.target as Element).closest("[data-fdi]");
    const fdi = g?.getAttribute("data-fdi");
    if (!g || !fdi) return;
    setHighlight(g.classList.contains("inst") ? { fdi, kind: g.getAttribute("data-kind") ?? undefined } : { fdi });
  });
  root.addEventListener("pointerleave", () => setHighlight(null));
  let down: { x: number; y: number } | null = null;
  root.addEventListener("pointerdown", (e) => (down = { x: e.clientX, y: e.clientY }));
  root.addEventListener("click", (e) => {
    // A click, not the end of a drag, on a tooth opens its panel.
    if (down && Math.hypot(e.clientX - down.x, e.clientY - down.y) > 4) return;
    const fdi = (e.target as Element).closest("[data-fdi]")?.getAttribute("data-fdi");
    if (fdi) onToothClick(fdi);
  });
  onHighlight((h) => {
    markIn(
      root,
      h,
      (x) => `.tooth[data-fdi="${x.fdi}"], .inst[data-fdi="${x.fdi}"][data-kind="${x.kind}"]`,
      (x) => `.tooth[data-fdi="${x.fdi}"], .inst[data-teeth~="${x.fdi}"]`,
    );
    root.classList.toggle("has-hl", h !== null);
  });
}
