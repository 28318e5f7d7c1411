// One hovered thing shared by the table, the odontogram and the overlays: a tooth, or a
// finding on a tooth. Each view listens and marks its own matching elements.

export interface Highlight {
  fdi: string;
  kind?: string;
}

type Listener = (h: Highlight | null) => void;
const listeners: Listener[] = [];
let currentKey = "";

export function onHighlight(fn: Listener): void {
  listeners.push(fn);
}

export function setHighlight(h: Highlight | null): void {
  const key = h ? `${h.fdi}:${h.kind ?? ""}` : "";
  if (key === currentKey) return;
  currentKey = key;
  for (const fn of listeners) fn(h);
}

/** Marks elements of a container that match a highlight with the class `hl`. */
export function markIn(container: ParentNode, h: Highlight | null, withKind: (h: Highlight) => string, toothOnly: (h: Highlight) => string): void {
  for (const e of Array.from(container.querySelectorAll(".hl"))) e.classList.remove("hl");
  if (!h) return;
  const selector = h.kind ? withKind(h) : toothOnly(h);
  for (const e of Array.from(container.querySelectorAll(selector))) e.classList.add("hl");
}
