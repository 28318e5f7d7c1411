// Small DOM helpers shared by the views.

export const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, className?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (className) e.className = className;
  return e;
}

export const input = (id: string): HTMLInputElement => document.getElementById(id) as HTMLInputElement;

let statusTimer: number | undefined;

/** A status line: errors stay until replaced; other news fades after a while when `fade` is set. */
export function setStatus(id: string, text: string, isError = false, fade = false): void {
  const status = $(id);
  status.textContent = text;
  status.classList.toggle("error", isError);
  status.hidden = text === "";
  if (id === "status") {
    window.clearTimeout(statusTimer);
    if (fade && !isError) statusTimer = window.setTimeout(() => (status.hidden = true), 8000);
  }
}

/** Escapes text for markup built as a string (SVG layers). */
export const esc = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c);

/** Whether the user is typing in a field (keyboard shortcuts stay out of the way). */
export function typingIn(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target instanceof HTMLInputElement) return !["checkbox", "radio", "button", "range"].includes(target.type);
  return target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement || target.isContentEditable;
}

/**
 * A modal confirmation: title, lines, the confirming button's words. Resolves true only when
 * the user confirms (Escape or "Back" resolve false).
 */
export function confirmDialog(title: string, lines: (string | HTMLElement)[], ok: string, danger = false): Promise<boolean> {
  const dialog = $<HTMLDialogElement>("confirm-dialog");
  $("confirm-title").textContent = title;
  $("confirm-body").replaceChildren(...lines.map((l) => (typeof l === "string" ? el("p", l) : l)));
  const okButton = $<HTMLButtonElement>("confirm-ok");
  okButton.textContent = ok;
  okButton.classList.toggle("danger-solid", danger);
  return new Promise((resolve) => {
    const done = (value: boolean): void => {
      okButton.onclick = null;
      $("confirm-cancel").onclick = null;
      dialog.onclose = null;
      if (dialog.open) dialog.close();
      resolve(value);
    };
    okButton.onclick = () => done(true);
    $("confirm-cancel").onclick = () => done(false);
    dialog.onclose = () => done(false);
    dialog.showModal();
    $("confirm-cancel").focus();
  });
}

export { errorText as errorTextOf } from "./api";
