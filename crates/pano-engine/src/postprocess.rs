//! The reference's post-processing: detections + segmentation probabilities -> 8 x 32 scores.

use pano_core::{FindingKind, NUM_TEETH};
use rayon::prelude::*;

use crate::segmentation::{softmax, ClassMap, ClassValues, CLASSES};
use crate::{Detection, ProbabilityField};

/// Rows per band, the unit of parallel work. Buffers are per row, so a band's size only
/// trades scheduling overhead against source rows interpolated twice at band edges.
const BAND_ROWS: usize = 8;

/// `intersection_over_minimum` of two instances' masks.
fn intersection_over_minimum(a: &Detection, b: &Detection) -> f64 {
    let inter = a.mask.intersection(&b.mask) as f64;
    inter / (a.mask.area().min(b.mask.area()) as f64 + 1e-5)
}

/// The instances that score one finding kind, with their indices in `detections`: for
/// MISSING the TOOTH instances after greedy mask NMS (each tooth is its own class, so YOLO's
/// NMS left overlaps); otherwise the instances of the kind's class. Empty masks never reach
/// here (the decoder drops them).
pub fn candidates(
    detections: &[Detection],
    kind: FindingKind,
    tooth_nms: f32,
) -> Vec<(usize, &Detection)> {
    match kind.model_class() {
        None => {
            let mut pool: Vec<(usize, &Detection)> = detections
                .iter()
                .enumerate()
                .filter(|(_, d)| d.class_name.starts_with("TOOTH"))
                .collect();
            pool.sort_by(|a, b| b.1.score.total_cmp(&a.1.score));
            let mut kept: Vec<(usize, &Detection)> = Vec::new();
            for (i, d) in pool {
                // Greedy: d survives if no kept instance suppresses it. Equivalent to the
                // reference's pop-and-filter loop, since suppression only comes from kept ones.
                if kept
                    .iter()
                    .all(|(_, k)| intersection_over_minimum(k, d) < tooth_nms as f64)
                {
                    kept.push((i, d));
                }
            }
            kept
        }
        Some(class) => detections
            .iter()
            .enumerate()
            .filter(|(_, d)| d.class_name == class)
            .collect(),
    }
}

/// The 256 scores, `[finding ordinal][tooth index - 1]`.
pub fn score_findings(
    detections: &[Detection],
    field: &ProbabilityField,
    tooth_nms: f32,
) -> [[f32; NUM_TEETH]; 8] {
    scores_from_contributions(&score_contributions(detections, field, tooth_nms))
}

/// What one candidate instance adds to the scores of its finding kind.
#[derive(Debug, Clone, PartialEq)]
pub struct Contribution {
    pub kind: FindingKind,
    /// Index of the instance in the detections.
    pub detection: usize,
    /// Per tooth (`[tooth index - 1]`), `weight * share / total`: the probability the
    /// instance adds that the tooth has the finding (for MISSING: that it is present).
    /// The scores multiply `1 - factor` over a kind's candidates.
    pub factors: [f64; NUM_TEETH],
}

/// Every candidate's contribution, in the order the scores multiply them (kinds in
/// [`FindingKind::ALL`] order, candidates in [`candidates`] order). Candidates that cover no
/// tooth probability at all contribute nothing and are left out.
pub fn score_contributions(
    detections: &[Detection],
    field: &ProbabilityField,
    tooth_nms: f32,
) -> Vec<Contribution> {
    contributions_and_classes(detections, field, tooth_nms, None)
}

/// [`score_contributions`] and the [`ClassMap`] in one pass over the resized logits: both
/// need the same bilinear resize of the 33 class planes, which reads the whole logit map
/// (hundreds of MB at the original size) from memory; done once, not twice.
pub fn score_contributions_and_class_map(
    detections: &[Detection],
    field: &ProbabilityField,
    tooth_nms: f32,
) -> (Vec<Contribution>, ClassMap) {
    let mut classes = vec![0u8; field.width * field.height];
    let contributions = contributions_and_classes(detections, field, tooth_nms, Some(&mut classes));
    let map = ClassMap {
        width: field.width,
        height: field.height,
        num_classes: field.classes(),
        classes,
    };
    (contributions, map)
}

fn contributions_and_classes(
    detections: &[Detection],
    field: &ProbabilityField,
    tooth_nms: f32,
    classes: Option<&mut [u8]>,
) -> Vec<Contribution> {
    // Every candidate of every kind, tagged with its kind; and its index in `detections`.
    let (cands, indices): (Vec<(usize, &Detection)>, Vec<usize>) = FindingKind::ALL
        .iter()
        .flat_map(|&kind| {
            candidates(detections, kind, tooth_nms)
                .into_iter()
                .map(move |(i, d)| ((kind.ordinal(), d), i))
        })
        .unzip();

    // Per candidate: sum over its pixels of the discounted probabilities, and pixel count.
    let bands: Vec<usize> = (0..field.height).step_by(BAND_ROWS).collect();
    let band = |y0: usize, class_rows: Option<&mut [u8]>| {
        band_sums(
            &cands,
            field,
            y0,
            (y0 + BAND_ROWS).min(field.height),
            class_rows,
        )
    };
    let partials: Vec<Vec<(usize, [f64; CLASSES], u64)>> = match classes {
        Some(classes) => classes
            .par_chunks_mut(BAND_ROWS * field.width)
            .zip(&bands)
            .map(|(rows, &y0)| band(y0, Some(rows)))
            .collect(),
        None => bands.par_iter().map(|&y0| band(y0, None)).collect(),
    };
    let mut sums = vec![[0.0f64; CLASSES]; cands.len()];
    let mut counts = vec![0u64; cands.len()];
    for band in partials {
        for (i, s, n) in band {
            sums[i].iter_mut().zip(&s).for_each(|(a, b)| *a += b);
            counts[i] += n;
        }
    }

    let mut contributions = Vec::with_capacity(cands.len());
    for (i, &(kind, det)) in cands.iter().enumerate() {
        if counts[i] == 0 {
            continue;
        }
        let share: Vec<f64> = sums[i].iter().map(|s| s / counts[i] as f64).collect();
        let total: f64 = share[1..].iter().sum();
        if total <= 0.0 {
            continue;
        }
        let weight = if kind == FindingKind::Missing.ordinal() {
            1.0
        } else {
            det.score as f64
        };
        let mut factors = [0.0f64; NUM_TEETH];
        for (t, f) in factors.iter_mut().enumerate() {
            // Evaluated as the reference does, left to right, so scores stay bit-identical.
            *f = weight * share[t + 1] / total;
        }
        contributions.push(Contribution {
            kind: FindingKind::ALL[kind],
            detection: indices[i],
            factors,
        });
    }
    contributions
}

/// The 256 scores from the contributions: per kind and tooth, one minus the product of
/// `1 - factor` (the probability that no candidate has it); MISSING is its complement.
pub fn scores_from_contributions(contributions: &[Contribution]) -> [[f32; NUM_TEETH]; 8] {
    let mut survival = [[1.0f64; NUM_TEETH]; 8];
    for c in contributions {
        for (s, f) in survival[c.kind.ordinal()].iter_mut().zip(&c.factors) {
            *s *= 1.0 - f;
        }
    }
    let mut scores = [[0.0f32; NUM_TEETH]; 8];
    for k in 0..8 {
        for t in 0..NUM_TEETH {
            let finding = 1.0 - survival[k][t];
            let v = if k == FindingKind::Missing.ordinal() {
                1.0 - finding
            } else {
                finding
            };
            scores[k][t] = (v as f32).clamp(0.0, 1.0);
        }
    }
    scores
}

/// Below this probability the series of [`discount_small`] is exact to float precision.
const SERIES_MAX_P: f32 = 0.125;

/// `1 - (1 - p)^k` for `p <= 0.125`, `k <= 1/2` as two short power series, no `ln` or `exp`:
/// `y = k ln(1 - p) = -k (p + p^2/2 + ... + p^8/8)` (next term < 2e-9), then
/// `1 - e^y = -y (1 + y/2 + y^2/6 + y^3/24 + y^4/120)` (|y| < 0.07, next term < 2e-10).
/// A pixel whose classes are all this unlikely is common where many masks overlap on
/// uncertain ground; it is where the discount costs most.
#[inline(always)]
fn discount_small(p: f32, k: f32) -> f32 {
    let ln_1mp = -p
        * (1.0
            + p * (0.5
                + p * (1.0 / 3.0
                    + p * (0.25 + p * (0.2 + p * (1.0 / 6.0 + p * (1.0 / 7.0 + p * 0.125)))))));
    let y = ln_1mp * k;
    -y * (1.0 + y * (0.5 + y * (1.0 / 6.0 + y * (1.0 / 24.0 + y * (1.0 / 120.0)))))
}

/// `p' = 1 - (1 - p)^(1/d)` for every class of one pixel. Square and fourth roots, the
/// most common cases, use `sqrt` (exact); other roots the vectorisable `fastmath::root`.
#[inline(always)]
fn discount_probabilities(src: &ClassValues, dst: &mut ClassValues, d: u16) {
    match d {
        2 => {
            for c in 0..CLASSES {
                dst[c] = 1.0 - (1.0 - src[c]).sqrt();
            }
        }
        4 => {
            for c in 0..CLASSES {
                dst[c] = 1.0 - (1.0 - src[c]).sqrt().sqrt();
            }
        }
        _ => {
            let inv_d = 1.0 / d as f32;
            let max = src.iter().copied().fold(0.0f32, f32::max);
            if max <= SERIES_MAX_P {
                for c in 0..CLASSES {
                    dst[c] = discount_small(src[c], inv_d);
                }
            } else {
                for c in 0..CLASSES {
                    dst[c] = 1.0 - crate::fastmath::root(1.0 - src[c], inv_d);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_small_probability_series_matches_the_definition() {
        let mut worst = 0.0f64;
        for d in [3u32, 5, 6, 7, 9, 17] {
            let k = 1.0 / d as f32;
            for i in 0..=1250 {
                let p = i as f32 * 1e-4;
                let exact = 1.0 - (1.0 - p as f64).powf(1.0 / d as f64);
                let err = (super::discount_small(p, k) as f64 - exact).abs();
                worst = worst.max(err / exact.max(1e-12));
            }
        }
        assert!(worst < 2e-6, "worst relative error {worst}");
    }
}

/// Per candidate active in rows `y0..y1`: the sum over its pixels there of the discounted
/// class probabilities, and the pixel count. Compiled twice, for AVX2 + FMA processors and for
/// any x86-64, and chosen at run time: the exp/ln work per class doubles its width. Works row by row on each mask's runs of set
/// pixels; every per-pixel step runs over the pixel's 33 contiguous classes and vectorises.
#[multiversion::multiversion(targets("x86_64+avx2+fma"))]
fn band_sums(
    cands: &[(usize, &Detection)],
    field: &ProbabilityField,
    y0: usize,
    y1: usize,
    mut class_rows: Option<&mut [u8]>,
) -> Vec<(usize, [f64; CLASSES], u64)> {
    let active: Vec<usize> = (0..cands.len())
        .filter(|&i| {
            let m = &cands[i].1.mask;
            (m.y0 as usize) < y1 && (m.y1 as usize) >= y0
        })
        .collect();
    if active.is_empty() && class_rows.is_none() {
        return Vec::new();
    }
    // The class map needs every column of every row; the sums only the candidates' extent.
    let (x0, x1) = if class_rows.is_some() {
        (0, field.width)
    } else {
        let x0 = active
            .iter()
            .map(|&i| cands[i].1.mask.x0 as usize)
            .min()
            .unwrap_or(0);
        let x1 = active
            .iter()
            .map(|&i| cands[i].1.mask.x1 as usize + 1)
            .max()
            .unwrap_or(0);
        (x0, x1)
    };
    // Each active candidate's runs, row by row: runs[(y - y0) * active.len() + j].
    let mut runs: Vec<Vec<(u32, u32)>> = vec![Vec::new(); (y1 - y0) * active.len()];
    let mut spans: Vec<Option<(usize, usize)>> = vec![None; y1 - y0];
    for y in y0..y1 {
        let (mut lo, mut hi) = (usize::MAX, 0);
        for (j, &i) in active.iter().enumerate() {
            let r = &mut runs[(y - y0) * active.len() + j];
            cands[i].1.mask.runs_into(y as u32, r);
            if let (Some(first), Some(last)) = (r.first(), r.last()) {
                lo = lo.min(first.0 as usize);
                hi = hi.max(last.1 as usize);
            }
        }
        spans[y - y0] = (lo < hi).then_some((lo, hi));
    }

    // The band's candidates (indices into `active`) grouped by finding kind, once per band.
    let mut by_kind: [Vec<usize>; 8] = Default::default();
    for (j, &i) in active.iter().enumerate() {
        by_kind[cands[i].0].push(j);
    }
    let mut sums = vec![[0.0f64; CLASSES]; active.len()];
    let mut counts = vec![0u64; active.len()];
    let mut probs: Vec<ClassValues> = Vec::new();
    let mut discounted: Vec<ClassValues> = Vec::new();
    let mut discount: Vec<u16> = Vec::new();
    let width = field.width;
    let whole_rows = class_rows.is_some();
    field.for_each_row(
        y0,
        y1,
        x0,
        x1,
        |y| {
            if whole_rows {
                Some((0, width))
            } else {
                spans[y - y0]
            }
        },
        |y, a, logits| {
            let (a, logits) = match class_rows.as_deref_mut() {
                Some(rows) => {
                    // Every column came: the class map's row, then only the masks' span on.
                    crate::segmentation::argmax_row(logits, &mut rows[(y - y0) * width..][..width]);
                    let Some((lo, hi)) = spans[y - y0] else {
                        return;
                    };
                    (lo, &logits[lo..hi])
                }
                None => (a, logits),
            };
            probs.clear();
            probs.resize(logits.len(), [0.0; CLASSES]);
            for (p, l) in probs.iter_mut().zip(logits) {
                softmax(l, p);
            }
            let row_runs = &runs[(y - y0) * active.len()..][..active.len()];
            for of_kind in &by_kind {
                let members = || of_kind.iter().copied().filter(|&j| !row_runs[j].is_empty());
                if members().next().is_none() {
                    continue;
                }
                // How many candidates of this kind cover each column: the reference's
                // `discount`, the same for all of them at that pixel.
                discount.clear();
                discount.resize(logits.len(), 0);
                for j in members() {
                    for &(s, e) in &row_runs[j] {
                        discount[s as usize - a..e as usize - a]
                            .iter_mut()
                            .for_each(|d| *d += 1);
                    }
                }
                // `p' = 1 - (1 - p)^(1/d)`, once per (pixel, kind), only where d > 1.
                discounted.resize(logits.len(), [0.0; CLASSES]);
                for ((dst, p), &d) in discounted.iter_mut().zip(&probs).zip(&discount) {
                    if d > 1 {
                        discount_probabilities(p, dst, d);
                    }
                }
                for j in members() {
                    let mut row_sum = [0.0f32; CLASSES];
                    for &(s, e) in &row_runs[j] {
                        for x in s as usize - a..e as usize - a {
                            let v = if discount[x] > 1 {
                                &discounted[x]
                            } else {
                                &probs[x]
                            };
                            for c in 0..CLASSES {
                                row_sum[c] += v[c];
                            }
                        }
                        counts[j] += (e - s) as u64;
                    }
                    for (acc, v) in sums[j].iter_mut().zip(&row_sum) {
                        *acc += *v as f64;
                    }
                }
            }
        },
    );
    active
        .iter()
        .zip(sums)
        .zip(counts)
        .filter(|(_, n)| *n > 0)
        .map(|((&i, s), n)| (i, s, n))
        .collect()
}
