// The analysis's audit trail in plain words, newest first; "opened" rows folded away unless asked for.
import type { AuditRow } from "../api";
import { $, el, input } from "../dom";
import { auditSentence } from "../review";

let rows: AuditRow[] = [];

export function renderAudit(next?: AuditRow[]): void {
  if (next) rows = next;
  const showViews = input("audit-views").checked;
  const shown = rows.filter((r) => showViews || r.action !== "viewed").slice().reverse();
  $("audit").replaceChildren(
    ...(shown.length === 0
      ? [el("li", "Nothing recorded yet besides opening the analysis.", "muted")]
      : shown.map((r) => el("li", auditSentence(r), `audit-${r.action}`))),
  );
}

export function initAudit(): void {
  input("audit-views").onchange = () => renderAudit();
}
