// The tooth panel: a zoomed crop of the radiograph around the tooth (from its outline's
// bounding box), its 8 scores against the thresholds, and its decisions.
import type { Geometry } from "../api";
import { $, el, esc, input } from "../dom";
import { FINDING_COLOURS, FINDING_KINDS, label, percent } from "../findings";
import { cropAround, instancesOfTooth, outlinePath, toothBoxes } from "../geometry";
import { SOURCE_WORDS, type ReviewedFinding } from "../review";
import { formatLocal } from "../time";
import { chip } from "./odontogram";
import { decisionButtons, type Decide } from "./table";

const POSITION = ["", "central incisor", "lateral incisor", "canine", "first premolar", "second premolar", "first molar", "second molar", "third molar"];
const QUADRANT = ["", "upper right", "upper left", "lower left", "lower right"];

export function toothName(fdi: string): string {
  const n = Number(fdi);
  return `${QUADRANT[Math.floor(n / 10)] ?? ""} ${POSITION[n % 10] ?? ""}`.trim();
}

function renderCrop(fdi: string, g: Geometry | null, image: string | null, filter: string): void {
  const crop = $("tooth-crop-wrap");
  const box = g ? toothBoxes(g).get(fdi) : undefined;
  if (!g || !image || !box) {
    crop.replaceChildren(el("p", g ? `Tooth ${fdi} was not found in the segmentation (missing, or not visible).` : "No outlines stored for this analysis.", "muted"));
    return;
  }
  const [x, y, w, h] = cropAround(box, g.width, g.height);
  const tooth = g.teeth.find((t) => String(t.fdi) === fdi);
  const findings = instancesOfTooth(g, fdi)
    .map((f) => `<path class="inst" d="${outlinePath(f.outline)}" stroke="${FINDING_COLOURS[f.finding] ?? "#fff"}" fill="none"><title>${esc(label(f.finding))} ${percent(f.score)}</title></path>`)
    .join("");
  crop.innerHTML =
    `<svg id="tooth-crop" viewBox="${x} ${y} ${w} ${h}" role="img" aria-label="The radiograph around tooth ${fdi}">` +
    `<image href="${image}" x="0" y="0" width="${g.width}" height="${g.height}"/>` +
    `<path class="tooth-outline" d="${tooth ? outlinePath(tooth.outline) : ""}"/>${findings}</svg>`;
  const img = crop.querySelector<SVGImageElement>("image");
  if (img) img.style.filter = filter;
  // Strokes: about 2 screen pixels whatever the crop's scale.
  crop.querySelector("svg")?.style.setProperty("--u", String(w / 340));
}

export function renderTooth(
  fdi: string,
  rows: ReviewedFinding[],
  g: Geometry | null,
  image: string | null,
  filter: string,
  editable: boolean,
  decide: Decide,
): void {
  $("tooth-title").textContent = `Tooth ${fdi} — ${toothName(fdi)}`;
  renderCrop(fdi, g, image, filter);
  const mine = rows.filter((r) => r.fdi === fdi);
  const byKind = new Map(mine.map((r) => [r.finding, r]));
  const note = (): string | null => input("tooth-note").value.trim() || null;
  $("tooth-scores").replaceChildren(
    ...FINDING_KINDS.map((k) => {
      const r = byKind.get(k);
      const tr = el("tr", undefined, r ? `src-${r.source}${r.over ? " over" : ""}` : "");
      tr.dataset.kind = k;
      const name = el("td");
      name.append(chip({ finding: k, source: r?.source ?? "ai" }), document.createTextNode(` ${label(k)}`));
      const bar = el("td", undefined, "bar");
      const meter = el("span", undefined, "meter");
      meter.style.setProperty("--v", String(r?.score ?? 0));
      meter.style.setProperty("--c", FINDING_COLOURS[k]);
      bar.append(meter, el("span", r ? percent(r.score) : "—", "num"));
      const source = el("td", r ? (r.source === "ai" ? (r.over ? "AI: present" : "AI: below") : SOURCE_WORDS[r.source]) : "", "source");
      const actions = el("td", undefined, "actions");
      if (r && editable) actions.append(...decisionButtons(r, decide, note));
      tr.append(name, bar, source, actions);
      return tr;
    }),
  );
  const decided = mine.filter((r) => r.source !== "ai");
  $("tooth-decisions").replaceChildren(
    ...(decided.length === 0
      ? [el("li", editable ? "No decisions on this tooth yet." : "No decisions on this tooth.", "muted")]
      : decided.map((r) =>
          el(
            "li",
            `${r.decidedBy ?? "?"} ${r.source} ${label(r.finding)}${r.note ? ` — “${r.note}”` : ""}${r.decidedAt ? ` — ${formatLocal(r.decidedAt)}` : ""}`,
          ),
        )),
  );
  ($("tooth-note") as HTMLInputElement).disabled = !editable;
}
