// Keyboard shortcuts: one table, used both to act and to show the help. Pure.

export type Action =
  | "approve"
  | "reject"
  | "next"
  | "toggle-teeth"
  | "toggle-findings"
  | "toggle-overlays"
  | "zoom-in"
  | "zoom-out"
  | "fit"
  | "one-to-one"
  | "pan-left"
  | "pan-right"
  | "pan-up"
  | "pan-down"
  | "invert"
  | "reset-adjustments"
  | "help"
  | "close";

export interface Shortcut {
  keys: string[];
  label: string;
  action: Action;
}

export const SHORTCUTS: Shortcut[] = [
  { keys: ["a"], label: "A", action: "approve" },
  { keys: ["x"], label: "X", action: "reject" },
  { keys: ["n"], label: "N", action: "next" },
  { keys: ["t"], label: "T", action: "toggle-teeth" },
  { keys: ["f"], label: "F", action: "toggle-findings" },
  { keys: ["o"], label: "O", action: "toggle-overlays" },
  { keys: ["+", "="], label: "+", action: "zoom-in" },
  { keys: ["-", "_"], label: "−", action: "zoom-out" },
  { keys: ["0"], label: "0", action: "fit" },
  { keys: ["1"], label: "1", action: "one-to-one" },
  { keys: ["ArrowLeft"], label: "←", action: "pan-left" },
  { keys: ["ArrowRight"], label: "→", action: "pan-right" },
  { keys: ["ArrowUp"], label: "↑", action: "pan-up" },
  { keys: ["ArrowDown"], label: "↓", action: "pan-down" },
  { keys: ["i"], label: "I", action: "invert" },
  { keys: ["r"], label: "R", action: "reset-adjustments" },
  { keys: ["?"], label: "?", action: "help" },
  { keys: ["Escape"], label: "Esc", action: "close" },
];

export const ACTION_WORDS: Record<Action, string> = {
  approve: "Approve and file (asks to confirm)",
  reject: "Reject the analysis (asks to confirm)",
  next: "Next analysis waiting for review",
  "toggle-teeth": "Show or hide tooth outlines",
  "toggle-findings": "Show or hide finding outlines",
  "toggle-overlays": "Show or hide all overlays",
  "zoom-in": "Zoom in",
  "zoom-out": "Zoom out",
  fit: "Fit the image",
  "one-to-one": "1:1 (one image pixel per screen pixel)",
  "pan-left": "Pan left",
  "pan-right": "Pan right",
  "pan-up": "Pan up",
  "pan-down": "Pan down",
  invert: "Invert",
  "reset-adjustments": "Reset brightness, contrast, gamma and invert",
  help: "Show these shortcuts",
  close: "Close a dialog or the tooth panel",
};

/** The keys of an action, for tooltips ("Approve (A)"). */
export const keyLabel = (action: Action): string => SHORTCUTS.filter((s) => s.action === action).map((s) => s.label).join("/");

export interface KeyLike {
  key: string;
  ctrlKey?: boolean;
  metaKey?: boolean;
  altKey?: boolean;
}

/**
 * The action of a key press, or null. Nothing fires while the user types in a field (apart
 * from Escape) or holds Ctrl/Cmd/Alt (the system's own shortcuts).
 */
export function actionFor(e: KeyLike, typing: boolean): Action | null {
  if (e.ctrlKey || e.metaKey || e.altKey) return null;
  if (typing && e.key !== "Escape") return null;
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  return SHORTCUTS.find((s) => s.keys.includes(key))?.action ?? null;
}
