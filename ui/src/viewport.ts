// The viewer's zoom and pan as numbers: one transform, translate(x, y) scale(s), applied to
// the stage that holds the image and its overlays in image pixels. Pure.

export interface View {
  /** Screen (CSS) pixels per image pixel. */
  scale: number;
  x: number;
  y: number;
}

export interface Limits {
  min: number;
  max: number;
}

/** The whole image in the viewport, centred. */
export function fitView(imageW: number, imageH: number, viewW: number, viewH: number): View {
  const scale = Math.min(viewW / imageW, viewH / imageH);
  return { scale, x: (viewW - imageW * scale) / 2, y: (viewH - imageH * scale) / 2 };
}

/** Zoom limits: down to half the fit, up to 8 image pixels per device pixel. */
export function limitsFor(fit: number, devicePixelRatio = 1): Limits {
  return { min: Math.min(fit * 0.5, 1), max: Math.max(8 / devicePixelRatio, fit) };
}

/** Zoom by `factor` keeping the image point under (px, py) where it is. */
export function zoomAt(v: View, factor: number, px: number, py: number, limits: Limits): View {
  const scale = Math.min(limits.max, Math.max(limits.min, v.scale * factor));
  const k = scale / v.scale;
  return { scale, x: px - (px - v.x) * k, y: py - (py - v.y) * k };
}

/** A given scale centred on the viewport's centre point (e.g. 1:1). */
export function zoomTo(v: View, scale: number, viewW: number, viewH: number, limits: Limits): View {
  return zoomAt(v, scale / v.scale, viewW / 2, viewH / 2, limits);
}

/** Pan, keeping part of the image under the viewport's centre. */
export function panBy(v: View, dx: number, dy: number, imageW: number, imageH: number, viewW: number, viewH: number): View {
  const clamp = (value: number, size: number, view: number): number => Math.min(view / 2, Math.max(view / 2 - size, value));
  return { scale: v.scale, x: clamp(v.x + dx, imageW * v.scale, viewW), y: clamp(v.y + dy, imageH * v.scale, viewH) };
}

export const viewTransform = (v: View): string => `translate(${v.x}px, ${v.y}px) scale(${v.scale})`;

/** Image point under a screen point of the viewport. */
export const toImage = (v: View, px: number, py: number): [number, number] => [(px - v.x) / v.scale, (py - v.y) / v.scale];
