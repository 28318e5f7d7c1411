// The odontogram: 32 cells in chart order (the patient's right on the left, as on the
// radiograph), quadrant labels and the midline; every noteworthy finding of a tooth as a
// coloured letter code, styled by its source (AI, confirmed ✓, rejected struck, added +).
import { $, el } from "../dom";
import { FINDING_CODES, FINDING_COLOURS, FINDING_KINDS, LOWER_TEETH, UPPER_TEETH, label, percent, textOn } from "../findings";
import { markIn, onHighlight, setHighlight } from "../highlight";
import { isPresent, toothSummary, type ReviewedFinding } from "../review";


export function chip(r: Pick<ReviewedFinding, "finding" | "source">): HTMLElement {
  const c = el("span", `${r.source === "added" ? "+" : ""}${FINDING_CODES[r.finding] ?? r.finding}${r.source === "confirmed" ? "✓" : ""}`, `chip src-${r.source}`);
  const colour = FINDING_COLOURS[r.finding] ?? "#9e9e9e";
  c.style.setProperty("--c", colour);
  c.style.setProperty("--on-c", textOn(colour));
  return c;
}

function describe(fdi: string, list: ReviewedFinding[]): string {
  if (list.length === 0) return `Tooth ${fdi}: nothing at or above the thresholds`;
  const words = list.map((r) => `${label(r.finding)} ${percent(r.score)}${r.source === "ai" ? "" : ` (${r.source})`}`);
  return `Tooth ${fdi}: ${words.join(", ")}`;
}

export function renderOdontogram(rows: ReviewedFinding[], onTooth: (fdi: string) => void, selected: string | null): void {
  const summary = toothSummary(rows);
  const cell = (fdi: string): HTMLElement => {
    const list = summary.get(fdi) ?? [];
    const b = el("button", undefined, "tooth");
    b.type = "button";
    b.dataset.fdi = fdi;
    b.title = describe(fdi, list);
    b.setAttribute("aria-label", b.title);
    if (fdi === selected) b.setAttribute("aria-pressed", "true");
    const present = list.filter(isPresent);
    if (present.some((r) => r.finding === "MISSING")) b.classList.add("missing");
    b.classList.toggle("marked", list.length > 0);
    const codes = el("span", undefined, "codes");
    codes.append(...list.map(chip));
    b.append(el("span", fdi, "num"), codes);
    b.onclick = () => onTooth(fdi);
    b.onpointerenter = () => setHighlight({ fdi });
    b.onpointerleave = () => setHighlight(null);
    b.onfocus = () => setHighlight({ fdi });
    return b;
  };
  const row = (teeth: string[], cls: string): HTMLElement => {
    const div = el("div", undefined, `teeth ${cls}`);
    teeth.forEach((fdi, i) => {
      if (i === 8) div.append(el("span", undefined, "midline"));
      div.append(cell(fdi));
    });
    return div;
  };
  const quadrants = (a: string, b: string): HTMLElement => {
    const q = el("div", undefined, "quadrants");
    q.append(el("span", a), el("span", b));
    return q;
  };
  $("odontogram").replaceChildren(
    quadrants("Q1 upper right", "Q2 upper left"),
    row(UPPER_TEETH, "upper"),
    row(LOWER_TEETH, "lower"),
    quadrants("Q4 lower right", "Q3 lower left"),
  );
}

export function renderLegend(): void {
  $("legend").replaceChildren(
    ...FINDING_KINDS.map((k) => {
      const item = el("span", undefined, "legend-item");
      item.append(chip({ finding: k, source: "ai" }), document.createTextNode(` ${label(k)}`));
      return item;
    }),
    el("span", "✓ confirmed · struck = rejected · + added", "legend-item muted"),
  );
}

export function initOdontogram(): void {
  onHighlight((h) =>
    markIn(
      $("odontogram"),
      h,
      (x) => `.tooth[data-fdi="${x.fdi}"]`,
      (x) => `.tooth[data-fdi="${x.fdi}"]`,
    ),
  );
  renderLegend();
}

