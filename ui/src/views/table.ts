// The findings table: rows over threshold plus every decided row by default, with the source
// column and one-click confirm / reject / withdraw; the form that adds a finding the AI missed.
import type { DecisionKind } from "../api";
import { $, el, input } from "../dom";
import { FINDING_KINDS, LOWER_TEETH, UPPER_TEETH, label, percent, type SortKey, type TableQuery } from "../findings";
import { markIn, onHighlight, setHighlight } from "../highlight";
import { SOURCE_WORDS, reviewTableRows, type ReviewedFinding } from "../review";
import { chip } from "./odontogram";

export type Decide = (fdi: string, finding: string, decision: DecisionKind | "clear", note: string | null) => void;

export const tableQuery: TableQuery = { kinds: new Set<string>(), minScore: 0, aboveThresholdOnly: true, sort: "fdi" as SortKey, descending: false };

function actionButton(text: string, title: string, onClick: () => void, cls = ""): HTMLButtonElement {
  const b = el("button", text, `mini ${cls}`);
  b.type = "button";
  b.title = title;
  b.setAttribute("aria-label", title);
  b.onclick = (e) => {
    e.stopPropagation();
    onClick();
  };
  return b;
}

/** The buttons that fit a row's state (only while the analysis is reviewable). */
export function decisionButtons(r: ReviewedFinding, decide: Decide, note: () => string | null): HTMLElement[] {
  const what = `${label(r.finding)} on tooth ${r.fdi}`;
  if (r.source !== "ai") return [actionButton("↺", `Withdraw the decision on ${what} (back to the AI's score)`, () => decide(r.fdi, r.finding, "clear", null), "undo")];
  if (r.over) {
    return [
      actionButton("✓", `Confirm ${what}`, () => decide(r.fdi, r.finding, "confirmed", note()), "confirm"),
      actionButton("✗", `Reject ${what}`, () => decide(r.fdi, r.finding, "rejected", note()), "reject"),
    ];
  }
  return [actionButton("+", `Add ${what} (the AI scored it below the threshold)`, () => decide(r.fdi, r.finding, "added", note()), "add")];
}

export function renderTable(rows: ReviewedFinding[], editable: boolean, decide: Decide, onTooth: (fdi: string) => void): void {
  const body = $<HTMLTableElement>("findings").tBodies[0];
  const shown = reviewTableRows(rows, tableQuery);
  if (shown.length === 0) {
    const tr = el("tr", undefined, "empty-row");
    const td = el(
      "td",
      rows.length === 0
        ? "No results for this analysis."
        : tableQuery.aboveThresholdOnly
          ? "Nothing at or above the thresholds. Lower a threshold, or add a finding the AI missed below."
          : "No finding matches these filters.",
    );
    td.colSpan = 5;
    tr.append(td);
    body.replaceChildren(tr);
    return;
  }
  body.replaceChildren(
    ...shown.map((r) => {
      const tr = el("tr", undefined, `src-${r.source}${r.over ? "" : " below"}`);
      tr.dataset.fdi = r.fdi;
      tr.dataset.kind = r.finding;
      const tooth = el("td");
      const open = el("button", r.fdi, "link");
      open.type = "button";
      open.title = `Open tooth ${r.fdi}`;
      open.onclick = () => onTooth(r.fdi);
      tooth.append(open);
      const finding = el("td");
      finding.append(chip(r), document.createTextNode(` ${label(r.finding)}`));
      if (r.note) finding.title = `Note: ${r.note}`;
      const source = el("td", SOURCE_WORDS[r.source], "source");
      if (r.decidedBy) source.title = `${r.source} by ${r.decidedBy}`;
      const actions = el("td", undefined, "actions");
      if (editable) actions.append(...decisionButtons(r, decide, () => null));
      tr.append(tooth, finding, el("td", percent(r.score), "num"), source, actions);
      tr.onpointerenter = () => setHighlight({ fdi: r.fdi, kind: r.finding });
      tr.onpointerleave = () => setHighlight(null);
      return tr;
    }),
  );
}

export function initTable(rerender: () => void, decide: Decide): void {
  const kind = $<HTMLSelectElement>("filter-kind");
  kind.append(...FINDING_KINDS.map((k) => Object.assign(el("option", label(k)), { value: k })));
  kind.onchange = () => {
    tableQuery.kinds = kind.value ? new Set([kind.value]) : new Set();
    rerender();
  };
  input("filter-min").onchange = () => {
    tableQuery.minScore = Number(input("filter-min").value) || 0;
    rerender();
  };
  input("filter-over").onchange = () => {
    tableQuery.aboveThresholdOnly = input("filter-over").checked;
    rerender();
  };
  for (const button of Array.from(document.querySelectorAll<HTMLButtonElement>("button[data-sort]"))) {
    button.onclick = () => {
      const key = button.dataset.sort as SortKey;
      tableQuery.descending = tableQuery.sort === key ? !tableQuery.descending : key === "score";
      tableQuery.sort = key;
      rerender();
    };
  }
  onHighlight((h) =>
    markIn(
      $("findings"),
      h,
      (x) => `tr[data-fdi="${x.fdi}"][data-kind="${x.kind}"]`,
      (x) => `tr[data-fdi="${x.fdi}"]`,
    ),
  );
  // Adding a finding the AI missed.
  const teeth = $<HTMLSelectElement>("add-fdi");
  teeth.append(...[...UPPER_TEETH, ...LOWER_TEETH].map((t) => Object.assign(el("option", t), { value: t })));
  const kinds = $<HTMLSelectElement>("add-kind");
  kinds.append(...FINDING_KINDS.map((k) => Object.assign(el("option", label(k)), { value: k })));
  $("add-form").onsubmit = (e) => {
    e.preventDefault();
    const note = input("add-note").value.trim() || null;
    decide(teeth.value, kinds.value, "added", note);
    input("add-note").value = "";
  };
}
