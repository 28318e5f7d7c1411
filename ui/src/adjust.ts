// Brightness, contrast, gamma and invert of the radiograph as one CSS filter on the image
// element (the compositor applies it on the GPU; gamma uses an SVG transfer function that is
// referenced only when gamma differs from 1). Pure.

export interface Adjustments {
  brightness: number;
  contrast: number;
  gamma: number;
  invert: boolean;
}

export const NEUTRAL: Adjustments = { brightness: 1, contrast: 1, gamma: 1, invert: false };

export const isNeutral = (a: Adjustments): boolean =>
  a.brightness === 1 && a.contrast === 1 && a.gamma === 1 && !a.invert;

/** The transfer exponent for a display gamma: gamma > 1 lifts the dark mid-tones. */
export const gammaExponent = (gamma: number): number => 1 / Math.max(0.1, gamma);

export function cssFilter(a: Adjustments, gammaFilterId = "gamma-filter"): string {
  const parts: string[] = [];
  if (a.gamma !== 1) parts.push(`url(#${gammaFilterId})`);
  if (a.brightness !== 1) parts.push(`brightness(${a.brightness})`);
  if (a.contrast !== 1) parts.push(`contrast(${a.contrast})`);
  if (a.invert) parts.push("invert(1)");
  return parts.length ? parts.join(" ") : "none";
}

/** Percent text for a slider's value (1 -> "100 %"). */
export const percentText = (v: number): string => `${Math.round(v * 100)} %`;
