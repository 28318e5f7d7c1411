//! The analysis's vector geometry (pano-core's `AnalysisGeometry`): tooth regions from the
//! segmentation's per-pixel classes and finding instances from the detection masks, as
//! polygons.
//!
//! Hand-written rather than from imageproc (contours) and geo (simplification): both pull in
//! large dependency trees (nalgebra, rand, rstar, robust predicates ...) for two small
//! algorithms, and CI builds on two cores. The pieces:
//! - 4-connected components per class, by union-find over runs (crate::components);
//! - each component's outer boundary traced along pixel edges (crack following), so a ring's
//!   corners are integer pixel corners and the polygon covers exactly the component's pixels
//!   (holes aside);
//! - Ramer-Douglas-Peucker at 1 px, which turns the staircases of slanted edges into lines.

use std::collections::HashMap;

use pano_core::{
    AnalysisGeometry, Fdi, FindingInstance, FindingKind, Ring, ToothIndex, ToothOutline,
    ToothShare, MAX_GEOMETRY_POINTS,
};
use rayon::prelude::*;

use crate::components::{Component, Components, LabelGrid};
use crate::postprocess::{candidates, Contribution};
use crate::segmentation::ClassMap;
use crate::{BoxMask, Detection};

/// Components smaller than this many pixels are specks of noise, not regions: left out of
/// teeth, and of a finding's outline unless they are all it has.
pub const MIN_COMPONENT_PIXELS: u64 = 64;
/// Ramer-Douglas-Peucker tolerance in pixels.
pub const SIMPLIFY_TOLERANCE: f64 = 1.0;
/// Shares below this are left out of a finding's teeth.
pub const MIN_TOOTH_SHARE: f64 = 0.01;

/// Traced boundaries before simplification: rings of pixel corners in image coordinates.
type CornerRings = Vec<Vec<(u32, u32)>>;

/// The geometry of one analysis. Rings are simplified at [`SIMPLIFY_TOLERANCE`]; should that
/// leave more points than the format allows ([`MAX_GEOMETRY_POINTS`], reachable only with
/// pathological masks such as random-weight models' noise), the tolerance doubles until it
/// fits, so the engine never produces geometry its readers refuse.
pub fn analysis_geometry(
    class_map: &ClassMap,
    detections: &[Detection],
    contributions: &[Contribution],
    tooth_nms: f32,
) -> AnalysisGeometry {
    let (teeth, findings) = rayon::join(
        || tooth_corner_rings(class_map),
        || finding_instances(detections, contributions, tooth_nms),
    );
    // Each ring's RDP thresholds once; every tolerance tried below is then a filter.
    let teeth: Vec<(Fdi, Vec<RankedRing>)> = teeth
        .into_par_iter()
        .map(|(fdi, rings)| (fdi, rank_rings(rings)))
        .collect();
    let findings: Vec<(FindingInstance, Vec<RankedRing>)> = findings
        .into_par_iter()
        .map(|(instance, rings)| (instance, rank_rings(rings)))
        .collect();
    let mut tolerance = SIMPLIFY_TOLERANCE;
    loop {
        let geometry = AnalysisGeometry {
            teeth: teeth
                .iter()
                .map(|(fdi, rings)| ToothOutline {
                    fdi: *fdi,
                    outline: simplify_ranked(rings, tolerance),
                })
                .collect(),
            findings: findings
                .iter()
                .map(|(instance, rings)| FindingInstance {
                    outline: simplify_ranked(rings, tolerance),
                    ..instance.clone()
                })
                .collect(),
            ..AnalysisGeometry::new(class_map.width as u32, class_map.height as u32)
        };
        if geometry.point_count() <= MAX_GEOMETRY_POINTS || tolerance > 1e4 {
            return geometry;
        }
        tolerance *= 2.0;
    }
}

/// A traced ring and, per corner, the largest tolerance at which RDP keeps it
/// ([`rdp_thresholds`]).
type RankedRing = (Vec<(u32, u32)>, Vec<f64>);

fn rank_rings(rings: CornerRings) -> Vec<RankedRing> {
    rings
        .into_iter()
        .map(|corners| {
            let thresholds = rdp_thresholds(&corners, SIMPLIFY_TOLERANCE);
            (corners, thresholds)
        })
        .collect()
}

fn simplify_ranked(rings: &[RankedRing], tolerance: f64) -> Vec<Ring> {
    rings
        .iter()
        .map(|(corners, thresholds)| {
            let simplified = keep_above(corners, thresholds, tolerance);
            // A component of a pixel or two has fewer corners than the tolerance keeps; its
            // exact outline is already tiny.
            Ring::from_points(if simplified.len() >= 3 {
                simplified
            } else {
                corners.clone()
            })
        })
        .collect()
}

/// One entry per tooth class present, with the outer boundaries of its components of at
/// least [`MIN_COMPONENT_PIXELS`], in FDI order.
fn tooth_corner_rings(class_map: &ClassMap) -> Vec<(Fdi, CornerRings)> {
    let labels = LabelGrid {
        width: class_map.width,
        height: class_map.height,
        labels: &class_map.classes,
    };
    let components = labels.components();
    let mut rings: HashMap<u8, CornerRings> = HashMap::new();
    for c in components
        .list
        .iter()
        .filter(|c| c.pixels >= MIN_COMPONENT_PIXELS)
    {
        rings
            .entry(c.label)
            .or_default()
            .push(components.outer_corners(c));
    }
    let mut teeth: Vec<(Fdi, CornerRings)> = rings
        .into_iter()
        .filter_map(|(label, rings)| Some((ToothIndex::new(label as u32).ok()?.fdi(), rings)))
        .collect();
    teeth.sort_by_key(|t| t.0);
    teeth
}

/// Every candidate instance of the seven detected kinds (outline still empty) with its
/// traced boundaries, in kind order, then detection order.
fn finding_instances(
    detections: &[Detection],
    contributions: &[Contribution],
    tooth_nms: f32,
) -> Vec<(FindingInstance, CornerRings)> {
    let by_detection: HashMap<usize, &Contribution> =
        contributions.iter().map(|c| (c.detection, c)).collect();
    let used: Vec<(FindingKind, usize, &Detection)> = FindingKind::ALL
        .iter()
        .filter(|k| **k != FindingKind::Missing)
        .flat_map(|&kind| {
            candidates(detections, kind, tooth_nms)
                .into_iter()
                .map(move |(i, d)| (kind, i, d))
        })
        .collect();
    used.par_iter()
        .enumerate()
        .map(|(id, &(finding, index, d))| {
            let instance = FindingInstance {
                id: id as u32,
                finding,
                score: d.score,
                bbox: d.box_xyxy.map(|v| ((v * 10.0).round() / 10.0).max(0.0)),
                outline: Vec::new(),
                teeth: by_detection
                    .get(&index)
                    .map(|c| tooth_shares(c))
                    .unwrap_or_default(),
            };
            (instance, mask_corner_rings(&d.mask))
        })
        .collect()
}

/// The teeth a contribution raised by at least [`MIN_TOOTH_SHARE`], largest first.
fn tooth_shares(c: &Contribution) -> Vec<ToothShare> {
    let mut shares: Vec<(f64, ToothShare)> = ToothIndex::all()
        .zip(c.factors)
        .filter(|(_, f)| *f >= MIN_TOOTH_SHARE)
        .map(|(tooth, f)| {
            (
                f,
                ToothShare {
                    fdi: tooth.fdi(),
                    // Four decimals say more than anyone reads; the JSON stays short.
                    share: ((f.min(1.0) * 1e4).round() / 1e4) as f32,
                },
            )
        })
        .collect();
    shares.sort_by(|a, b| b.0.total_cmp(&a.0));
    shares.into_iter().map(|(_, s)| s).collect()
}

/// The outer rings of a mask's 4-connected components in image coordinates, simplified at
/// [`SIMPLIFY_TOLERANCE`]: those of at least [`MIN_COMPONENT_PIXELS`], or the largest one
/// where none is that large.
pub fn mask_rings(mask: &BoxMask) -> Vec<Ring> {
    simplify_ranked(&rank_rings(mask_corner_rings(mask)), SIMPLIFY_TOLERANCE)
}

fn mask_corner_rings(mask: &BoxMask) -> CornerRings {
    let mut runs = Vec::new();
    let components =
        Components::from_runs(mask.width() as usize, mask.height() as usize, |y, out| {
            runs.clear();
            mask.runs_into(mask.y0 + y as u32, &mut runs);
            out.extend(runs.iter().map(|&(s, e)| (s - mask.x0, e - mask.x0, 1)));
        });
    let mut kept: Vec<&Component> = components
        .list
        .iter()
        .filter(|c| c.pixels >= MIN_COMPONENT_PIXELS)
        .collect();
    if kept.is_empty() {
        kept.extend(components.list.iter().max_by_key(|c| c.pixels));
    }
    kept.into_iter()
        .map(|c| {
            let mut corners = components.outer_corners(c);
            for p in &mut corners {
                *p = (p.0 + mask.x0, p.1 + mask.y0);
            }
            corners
        })
        .collect()
}

/// Ramer-Douglas-Peucker on a closed ring: split at the first point and the point farthest
/// from it, simplify both halves as open chains.
#[cfg(test)]
fn simplify_closed(ring: &[(u32, u32)], tolerance: f64) -> Vec<(u32, u32)> {
    keep_above(ring, &rdp_thresholds(ring, tolerance), tolerance)
}

fn keep_above(ring: &[(u32, u32)], thresholds: &[f64], tolerance: f64) -> Vec<(u32, u32)> {
    ring.iter()
        .zip(thresholds)
        .filter(|(_, t)| **t > tolerance)
        .map(|(p, _)| *p)
        .collect()
}

/// Per point of a closed ring, the largest tolerance at which Ramer-Douglas-Peucker (as
/// [`simplify_closed`] runs it) keeps the point: RDP keeps a point when its distance from the
/// chord of its segment exceeds the tolerance and every split above it was kept, so the
/// point survives exactly the tolerances below the smallest of those distances. The splits
/// themselves do not depend on the tolerance, so one pass serves every tolerance: the
/// doubling in [`analysis_geometry`] filters instead of simplifying again. Segments whose
/// worst point is within `floor` are not split further (no tolerance tried is below it);
/// their points get their distance, which is at most `floor`. The ends are kept always.
fn rdp_thresholds(ring: &[(u32, u32)], floor: f64) -> Vec<f64> {
    let mut thresholds = vec![f64::INFINITY; ring.len()];
    if ring.len() <= 3 {
        return thresholds;
    }
    let dist2 = |a: (u32, u32), b: (u32, u32)| {
        let (dx, dy) = (a.0 as f64 - b.0 as f64, a.1 as f64 - b.1 as f64);
        dx * dx + dy * dy
    };
    let far = (1..ring.len())
        .max_by(|&i, &j| dist2(ring[0], ring[i]).total_cmp(&dist2(ring[0], ring[j])))
        .unwrap_or(1);
    let closed: Vec<(u32, u32)> = ring.iter().copied().chain([ring[0]]).collect();
    // The closing point (index ring.len(), ring[0] again) is an end of the second chain.
    thresholds.push(f64::INFINITY);
    rank_open_chain(&closed, 0, far, floor, &mut thresholds);
    rank_open_chain(&closed, far, ring.len(), floor, &mut thresholds);
    thresholds.truncate(ring.len());
    thresholds
}

/// Sets the thresholds of `points[first + 1..last]` (see [`rdp_thresholds`]). An explicit
/// stack: a long ring could nest deeper than the thread's stack allows.
fn rank_open_chain(points: &[(u32, u32)], first: usize, last: usize, floor: f64, out: &mut [f64]) {
    let mut stack = vec![(first, last, f64::INFINITY)];
    while let Some((a, b, above)) = stack.pop() {
        if b <= a + 1 {
            continue;
        }
        let (pa, pb) = (points[a], points[b]);
        // The worst point is the last of equal maxima, as RDP's max_by picked it.
        let (mut worst, mut distance) = (a + 1, f64::NEG_INFINITY);
        for (i, p) in points.iter().enumerate().take(b).skip(a + 1) {
            let d = distance_to_segment(*p, pa, pb);
            // Final unless a split below revisits the point.
            out[i] = d.min(above);
            if d >= distance {
                (worst, distance) = (i, d);
            }
        }
        let threshold = distance.min(above);
        out[worst] = threshold;
        if distance > floor {
            stack.push((a, worst, threshold));
            stack.push((worst, b, threshold));
        }
    }
}

fn distance_to_segment(p: (u32, u32), a: (u32, u32), b: (u32, u32)) -> f64 {
    let (px, py) = (p.0 as f64, p.1 as f64);
    let (ax, ay) = (a.0 as f64, a.1 as f64);
    let (bx, by) = (b.0 as f64, b.1 as f64);
    let (dx, dy) = (bx - ax, by - ay);
    let len2 = dx * dx + dy * dy;
    let t = if len2 == 0.0 {
        0.0
    } else {
        (((px - ax) * dx + (py - ay) * dy) / len2).clamp(0.0, 1.0)
    };
    let (cx, cy) = (ax + t * dx, ay + t * dy);
    ((px - cx).powi(2) + (py - cy).powi(2)).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A grid from rows of characters: '.' is background, digits are labels.
    fn grid(rows: &[&str]) -> (usize, usize, Vec<u8>) {
        let w = rows[0].len();
        let labels = rows
            .iter()
            .flat_map(|r| r.bytes())
            .map(|b| if b == b'.' { 0 } else { b - b'0' })
            .collect();
        (w, rows.len(), labels)
    }

    /// Label, pixel count and outer corners of one component.
    type Traced = (u8, u64, Vec<(u32, u32)>);

    fn corners_of(rows: &[&str]) -> Vec<Traced> {
        let (w, h, labels) = grid(rows);
        let comps = LabelGrid {
            width: w,
            height: h,
            labels: &labels,
        }
        .components();
        comps
            .list
            .iter()
            .map(|c| (c.label, c.pixels, comps.outer_corners(c)))
            .collect()
    }

    #[test]
    fn a_rectangle_is_its_four_corners() {
        let found = corners_of(&["......", ".111..", ".111..", "......"]);
        assert_eq!(found, vec![(1, 6, vec![(1, 1), (4, 1), (4, 3), (1, 3)])]);
    }

    #[test]
    fn an_l_shape_has_six_corners_clockwise() {
        let found = corners_of(&["1..", "1..", "111"]);
        assert_eq!(
            found,
            vec![(1, 5, vec![(0, 0), (1, 0), (1, 2), (3, 2), (3, 3), (0, 3)])]
        );
    }

    #[test]
    fn two_components_and_two_labels_are_separate_rings() {
        let found = corners_of(&["11.22", "11.22", ".....", "1...."]);
        assert_eq!(
            found,
            vec![
                (1, 4, vec![(0, 0), (2, 0), (2, 2), (0, 2)]),
                (2, 4, vec![(3, 0), (5, 0), (5, 2), (3, 2)]),
                (1, 1, vec![(0, 3), (1, 3), (1, 4), (0, 4)]),
            ]
        );
    }

    #[test]
    fn a_hole_is_left_out_and_an_island_in_it_is_its_own_ring() {
        let found = corners_of(&["11111", "1...1", "1.2.1", "1...1", "11111"]);
        assert_eq!(
            found,
            vec![
                (1, 16, vec![(0, 0), (5, 0), (5, 5), (0, 5)]),
                (2, 1, vec![(2, 2), (3, 2), (3, 3), (2, 3)]),
            ]
        );
    }

    #[test]
    fn pixels_touching_by_a_corner_are_separate_components() {
        let found = corners_of(&["1.", ".1"]);
        assert_eq!(found.len(), 2);
        // The gap in the middle reaches the outside through the corner at (2, 2), so it is
        // no hole: the outer ring goes in around it, passing that corner twice.
        let found = corners_of(&["111", "1.1", "11."]);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].2,
            vec![
                (0, 0),
                (3, 0),
                (3, 2),
                (2, 2),
                (2, 1),
                (1, 1),
                (1, 2),
                (2, 2),
                (2, 3),
                (0, 3)
            ]
        );
    }

    #[test]
    fn a_staircase_simplifies_to_its_line() {
        // A right triangle whose hypotenuse is a 1-pixel staircase.
        let rows: Vec<String> = (0..20)
            .map(|y| (0..20).map(|x| if x <= y { '1' } else { '.' }).collect())
            .collect();
        let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
        let (w, h, labels) = grid(&rows);
        let comps = LabelGrid {
            width: w,
            height: h,
            labels: &labels,
        }
        .components();
        let c = comps.list[0];
        assert_eq!(comps.outer_corners(&c).len(), 2 + 2 * 20);
        let corners: Vec<(u32, u32)> = comps
            .outer_corners(&c)
            .into_iter()
            .map(|(x, y)| (x + 100, y + 200))
            .collect();
        let points = simplify_closed(&corners, SIMPLIFY_TOLERANCE);
        assert!(points.len() <= 5, "{points:?}");
        assert!(points.contains(&(100, 200)) && points.contains(&(100, 220)));
        assert!(points.contains(&(120, 220)));
    }

    /// Ramer-Douglas-Peucker as written from its definition: recursive, one tolerance.
    fn rdp_by_definition(ring: &[(u32, u32)], tolerance: f64) -> Vec<(u32, u32)> {
        fn chain(p: &[(u32, u32)], a: usize, b: usize, t: f64, keep: &mut [bool]) {
            if b <= a + 1 {
                return;
            }
            let (worst, d) = (a + 1..b)
                .map(|i| (i, distance_to_segment(p[i], p[a], p[b])))
                .max_by(|x, y| x.1.total_cmp(&y.1))
                .unwrap();
            if d > t {
                keep[worst] = true;
                chain(p, a, worst, t, keep);
                chain(p, worst, b, t, keep);
            }
        }
        if ring.len() <= 3 {
            return ring.to_vec();
        }
        let d2 = |q: (u32, u32)| {
            let (dx, dy) = (q.0 as f64 - ring[0].0 as f64, q.1 as f64 - ring[0].1 as f64);
            dx * dx + dy * dy
        };
        let far = (1..ring.len())
            .max_by(|&i, &j| d2(ring[i]).total_cmp(&d2(ring[j])))
            .unwrap();
        let closed: Vec<(u32, u32)> = ring.iter().copied().chain([ring[0]]).collect();
        let mut keep = vec![false; closed.len()];
        keep[0] = true;
        keep[far] = true;
        chain(&closed, 0, far, tolerance, &mut keep);
        chain(&closed, far, ring.len(), tolerance, &mut keep);
        ring.iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(p, _)| *p)
            .collect()
    }

    #[test]
    fn ranked_simplification_is_rdp_at_every_tolerance() {
        let mut seed = 0x853c_49e6_748f_ea9bu64;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as u32
        };
        for case in 0..400 {
            // Random walks on the grid: staircases, spikes, repeated points, collinear runs.
            let n = 1 + next() as usize % 60;
            let mut p = (100u32, 100u32);
            let ring: Vec<(u32, u32)> = (0..n)
                .map(|_| {
                    let step = 1 + next() % if case % 2 == 0 { 2 } else { 9 };
                    match next() % 4 {
                        0 => p.0 += step,
                        1 => p.1 += step,
                        2 => p.0 -= step.min(p.0),
                        _ => p.1 -= step.min(p.1),
                    }
                    p
                })
                .collect();
            let thresholds = rdp_thresholds(&ring, SIMPLIFY_TOLERANCE);
            for t in [1.0, 2.0, 4.0, 8.0, 16.0, 64.0] {
                let expected = rdp_by_definition(&ring, t);
                assert_eq!(
                    keep_above(&ring, &thresholds, t),
                    expected,
                    "case {case}, tolerance {t}: {ring:?}"
                );
                assert_eq!(simplify_closed(&ring, t), expected);
            }
        }
    }

    #[test]
    fn box_masks_become_rings_in_image_coordinates() {
        let mut mask = BoxMask::new(10, 20, 19, 29);
        for y in 20..=25 {
            mask.set_span(y, 10, 14);
        }
        mask.set_span(28, 18, 19);
        // Alone, the two pixels at the bottom right would be its outline; beside the 30
        // pixels above they are a speck.
        let mut small = mask.clone();
        assert_eq!(
            mask_rings(&small),
            vec![Ring::from_points([(10, 20), (15, 20), (15, 26), (10, 26)])]
        );
        small = BoxMask::new(10, 20, 19, 29);
        small.set_span(28, 18, 19);
        small.set_span(22, 11, 11);
        assert_eq!(
            mask_rings(&small),
            vec![Ring::from_points([(18, 28), (20, 28), (20, 29), (18, 29)])]
        );
        // Joined by a bridge, they are one component.
        for y in 20..=28 {
            mask.set_span(y, 10, 19);
        }
        assert_eq!(
            mask_rings(&mask),
            vec![Ring::from_points([(10, 20), (20, 20), (20, 29), (10, 29)])]
        );
    }

    #[test]
    fn specks_are_dropped_from_teeth_and_labels_become_fdi() {
        let (w, h) = (40, 20);
        let mut classes = vec![0u8; w * h];
        for y in 2..12 {
            for x in 2..12 {
                classes[y * w + x] = 1; // 100 px: tooth 11
            }
        }
        classes[15 * w + 30] = 1; // a speck of the same tooth
        for y in 10..18 {
            for x in 20..30 {
                classes[y * w + x] = 32; // 80 px: tooth 48
            }
        }
        classes[w + 35] = 9; // a speck only: tooth 21 is not listed
        let map = ClassMap {
            width: w,
            height: h,
            num_classes: 33,
            classes,
        };
        let geometry = analysis_geometry(&map, &[], &[], 0.5);
        assert_eq!((geometry.width, geometry.height), (40, 20));
        let fdis: Vec<u32> = geometry.teeth.iter().map(|t| t.fdi.number()).collect();
        assert_eq!(fdis, vec![11, 48]);
        assert_eq!(
            geometry.teeth[0].outline,
            vec![Ring::from_points([(2, 2), (12, 2), (12, 12), (2, 12)])]
        );
        assert!(geometry.findings.is_empty());
        geometry.validate().unwrap();
    }
}
