// The radiograph viewer: one stage (image + SVG overlays in image pixels) moved by one CSS
// transform; zoom at the cursor, pan by drag and arrow keys, fit and 1:1; brightness,
// contrast, gamma and invert as a filter on the image element only. Nothing is re-rendered
// per frame: a frame sets the transform and one CSS variable (--u, image pixels per screen
// pixel) that keeps strokes and labels at a constant on-screen size.
import { $, input } from "../dom";
import { NEUTRAL, cssFilter, gammaExponent, isNeutral, percentText, type Adjustments } from "../adjust";
import { fitView, limitsFor, panBy, viewTransform, zoomAt, zoomTo, type Limits, type View } from "../viewport";

let view: View = { scale: 1, x: 0, y: 0 };
let limits: Limits = { min: 0.05, max: 8 };
let size = { w: 1, h: 1 };
let fitted = true;
let frame = 0;
let adjustments: Adjustments = { ...NEUTRAL };

const viewer = (): HTMLElement => $("viewer");
const stage = (): HTMLElement => $("stage");

function apply(): void {
  frame = 0;
  const s = stage();
  s.style.transform = viewTransform(view);
  s.style.setProperty("--u", String(1 / view.scale));
  $("zoom-level").textContent = `${Math.round(view.scale * window.devicePixelRatio * 100)} %`;
}

function schedule(): void {
  if (!frame) frame = requestAnimationFrame(apply);
}

// The viewer's and the toolbar's sizes as the ResizeObserver last reported them, so opening
// an analysis never forces a synchronous layout to read them.
let viewerSize: { w: number; h: number } | null = null;
let toolsHeight: number | null = null;

function viewport(): { w: number; h: number } {
  if (viewerSize && viewerSize.w > 1 && viewerSize.h > 1) return viewerSize;
  const r = viewer().getBoundingClientRect();
  return { w: Math.max(1, r.width), h: Math.max(1, r.height) };
}

export function fit(): void {
  const v = viewport();
  // The image fits below the floating toolbar, so nothing of it hides behind the buttons.
  const tools = document.querySelector<HTMLElement>(".viewer-tools");
  const top = Math.min((toolsHeight ?? tools?.offsetHeight ?? 0) + 8, v.h * 0.2);
  view = fitView(size.w, size.h, v.w, v.h - top);
  view = { ...view, y: view.y + top };
  limits = limitsFor(view.scale, window.devicePixelRatio);
  fitted = true;
  schedule();
}

/** One image pixel per device pixel. */
export function oneToOne(): void {
  const v = viewport();
  view = zoomTo(view, 1 / window.devicePixelRatio, v.w, v.h, limits);
  fitted = false;
  schedule();
}

export function zoomBy(factor: number, px?: number, py?: number): void {
  const v = viewport();
  view = zoomAt(view, factor, px ?? v.w / 2, py ?? v.h / 2, limits);
  fitted = false;
  schedule();
}

export function pan(dx: number, dy: number): void {
  const v = viewport();
  view = panBy(view, dx, dy, size.w, size.h, v.w, v.h);
  fitted = false;
  schedule();
}

/** Shows an image of the given size (the analysis's pixels); fits it. */
export function setImage(url: string | null, width: number, height: number): Promise<void> {
  size = { w: width, h: height };
  const img = $<HTMLImageElement>("viewer-image");
  img.width = width;
  img.height = height;
  const s = stage();
  s.style.width = `${width}px`;
  s.style.height = `${height}px`;
  fit();
  if (!url) {
    img.removeAttribute("src");
    img.hidden = true;
    return Promise.resolve();
  }
  img.hidden = false;
  img.src = url;
  return img.decode().catch(() => undefined);
}

function applyAdjustments(): void {
  $("gamma-transfer").querySelectorAll("feFuncR, feFuncG, feFuncB").forEach((f) => f.setAttribute("exponent", String(gammaExponent(adjustments.gamma))));
  const filter = cssFilter(adjustments);
  $("viewer-image").style.filter = filter;
  const crop = document.querySelector<SVGImageElement>("#tooth-crop image");
  if (crop) crop.style.filter = filter;
  input("adj-brightness").value = String(adjustments.brightness);
  input("adj-contrast").value = String(adjustments.contrast);
  input("adj-gamma").value = String(adjustments.gamma);
  input("adj-invert").checked = adjustments.invert;
  $("adj-brightness-value").textContent = percentText(adjustments.brightness);
  $("adj-contrast-value").textContent = percentText(adjustments.contrast);
  $("adj-gamma-value").textContent = adjustments.gamma.toFixed(2);
  ($("adj-reset") as HTMLButtonElement).disabled = isNeutral(adjustments);
}

export const currentFilter = (): string => cssFilter(adjustments);

export function resetAdjustments(): void {
  adjustments = { ...NEUTRAL };
  applyAdjustments();
}

export function toggleInvert(): void {
  adjustments = { ...adjustments, invert: !adjustments.invert };
  applyAdjustments();
}

export function initViewer(onPointerIdle: (dragging: boolean) => void): void {
  const v = viewer();
  v.addEventListener(
    "wheel",
    (e) => {
      e.preventDefault();
      const r = v.getBoundingClientRect();
      const delta = e.deltaMode === 1 ? e.deltaY * 16 : e.deltaY;
      zoomBy(Math.exp(-delta * 0.0015), e.clientX - r.left, e.clientY - r.top);
    },
    { passive: false },
  );
  // A press becomes a drag only after it moves a few pixels, so a click still reaches a tooth.
  let press: { x: number; y: number; id: number; dragging: boolean } | null = null;
  v.addEventListener("pointerdown", (e) => {
    if (e.button !== 0 || (e.target as HTMLElement).closest(".viewer-tools, .empty-state, .failed-state")) return;
    press = { x: e.clientX, y: e.clientY, id: e.pointerId, dragging: false };
  });
  v.addEventListener("pointermove", (e) => {
    if (!press || e.pointerId !== press.id) return;
    if (!press.dragging) {
      if (Math.hypot(e.clientX - press.x, e.clientY - press.y) < 4) return;
      press.dragging = true;
      v.setPointerCapture(e.pointerId);
      v.classList.add("dragging");
      onPointerIdle(true);
    }
    pan(e.clientX - press.x, e.clientY - press.y);
    press = { ...press, x: e.clientX, y: e.clientY };
  });
  const end = (): void => {
    if (press?.dragging) {
      v.classList.remove("dragging");
      onPointerIdle(false);
    }
    press = null;
  };
  v.addEventListener("pointerup", end);
  v.addEventListener("pointercancel", end);
  new ResizeObserver((entries) => {
    for (const e of entries) {
      if (e.target === v) viewerSize = { w: Math.max(1, e.contentRect.width), h: Math.max(1, e.contentRect.height) };
      else toolsHeight = e.contentRect.height;
    }
    if (fitted) fit();
  }).observe(v);
  const toolbar = document.querySelector<HTMLElement>(".viewer-tools");
  if (toolbar) new ResizeObserver((entries) => {
    toolsHeight = entries[0].contentRect.height;
  }).observe(toolbar);
  $("zoom-in").onclick = () => zoomBy(1.25);
  $("zoom-out").onclick = () => zoomBy(0.8);
  $("zoom-reset").onclick = () => fit();
  $("zoom-1to1").onclick = () => oneToOne();
  const slider = (id: string, key: "brightness" | "contrast" | "gamma"): void => {
    input(id).oninput = () => {
      adjustments = { ...adjustments, [key]: Number(input(id).value) };
      applyAdjustments();
    };
  };
  slider("adj-brightness", "brightness");
  slider("adj-contrast", "contrast");
  slider("adj-gamma", "gamma");
  input("adj-invert").onchange = () => {
    adjustments = { ...adjustments, invert: input("adj-invert").checked };
    applyAdjustments();
  };
  $("adj-reset").onclick = () => resetAdjustments();
  applyAdjustments();
}
