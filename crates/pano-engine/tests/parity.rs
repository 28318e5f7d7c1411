//! The engine against the anchor's own code: stmharry/dental-pano-ai's `main.py` run
//! unmodified (detectron2 and Ultralytics 8.3.80 on real-format `.pth`/`.pt` checkpoints with
//! random weights), its outputs committed under tests/parity/<pair>/ by
//! models/anchor/parity.py, and the engine running the ONNX pack the exporter made from the
//! same checkpoints (models/test/ for the narrow pair, models/test-stress/ for the stress pair).
//!
//! Tolerances that prove agreement, not resemblance: the same number of detections, each of
//! the same class, score within 1e-4 and float box within 0.01 px; masks compared pixel by
//! pixel (every differing pixel counted and reported; each must lie on a mask's edge); the
//! 256 CSV scores within 1e-4 (5e-4 for the stress pair, see STRESS_CSV_TOLERANCE).
//! `cargo test -p pano-engine --test parity -- --nocapture` prints the parity table.

mod common;

use common::{compare_masks, pair_detections, read_dump, root, DumpedMask, MaskComparison};
use pano_engine::{Engine, EngineOptions};
use pano_imaging::{import_file, ImportLimits};

/// The parity images (models/anchor/parity.py's PARITY_IMAGES), stem and file.
const IMAGES: [(&str, &str); 6] = [
    ("pan-01432", "tests/data/pan-01432.jpg"),
    ("portrait", "tests/parity/images/portrait.jpg"),
    ("max-size", "tests/parity/images/max-size.jpg"),
    ("small", "tests/data/pan-small-wide.png"),
    ("grayscale", "tests/parity/images/grayscale.jpg"),
    ("sixteen-bit", "tests/parity/images/sixteen-bit.png"),
];

const SCORE_TOLERANCE: f32 = 1e-4;
const BOX_TOLERANCE: f32 = 0.01;
/// Each image's own cap on differing mask pixels (measured: at most 11 per million).
const MAX_DIFFERING_PER_MILLION_PER_IMAGE: f64 = 30.0;
/// The stress pair's CSV tolerance. Each of its scores combines up to hundreds of overlapping
/// detections (`1 - prod(1 - score x share)`), each score carrying the ~2e-5 float noise
/// between torch's and ONNX Runtime's convolutions; the noise adds up past 1e-4 on a few
/// entries (the test prints them). The realistic pair keeps 1e-4.
const STRESS_CSV_TOLERANCE: f32 = 5e-4;
/// Ultralytics' max_det: the stress pair fills it on every image.
const MAX_DET: usize = 500;

/// One line of the parity table.
struct Row {
    stem: &'static str,
    size: (u32, u32),
    detections: (usize, usize),
    worst_score: f32,
    worst_box: f32,
    masks: MaskComparison,
    /// Detections paired with the anchor's at another place (near-tied scores swapped).
    reordered: usize,
    /// Detections at the max_det cut whose near-tied partner the anchor cut instead.
    boundary: usize,
    /// Detections NMS kept where the anchor kept an overlapping near-tied one.
    nms_swaps: usize,
    csv_diff: f32,
    /// The CSV entries more than 1e-4 apart, to be explained.
    csv_over: Vec<String>,
    problems: Vec<String>,
}

fn compare(engine: &Engine, pair: &str, stem: &'static str, file: &str, csv_tolerance: f32) -> Row {
    let image = import_file(&root().join(file), &ImportLimits::default()).expect("parity image");
    let (w, h) = (image.width(), image.height());
    let analysis = engine.analyze(&image.rgb, stem, false).expect("analysis");
    let dir = root().join("tests/parity").join(pair);
    let all = read_dump(&dir.join(format!("{stem}.detections.json.gz")));
    // Ultralytics keeps detections whose mask is empty inside their box; the engine drops them
    // (they score nothing and draw nothing). Counted here, so the count check still bites.
    let anchor: Vec<_> = all.iter().filter(|d| d.mask_area > 0).collect();
    let ours = &analysis.detections;
    let mut row = Row {
        stem,
        size: (w, h),
        detections: (ours.len(), anchor.len()),
        worst_score: 0.0,
        worst_box: 0.0,
        masks: MaskComparison::default(),
        reordered: 0,
        boundary: 0,
        nms_swaps: 0,
        csv_diff: 0.0,
        csv_over: Vec::new(),
        problems: Vec::new(),
    };
    if ours.len() != anchor.len() {
        row.problems.push(format!(
            "{} detections, the anchor {} ({} with empty masks left out)",
            ours.len(),
            anchor.len(),
            all.len() - anchor.len()
        ));
    }
    let pairs = pair_detections(ours, &anchor, SCORE_TOLERANCE, BOX_TOLERANCE);
    // With both lists cut at max_det, the last places go to near-tied scores: float noise
    // between CPUs can swap which of two equal-scored detections makes the cut. Such a
    // detection (its score within the tolerance of the anchor's lowest kept one) may go
    // unpaired; any other may not.
    let full = ours.len() == MAX_DET && anchor.len() == MAX_DET;
    let cut = anchor.iter().map(|d| d.score).fold(f32::INFINITY, f32::min);
    let swaps = common::nms_swaps(ours, &anchor, &pairs, SCORE_TOLERANCE);
    for (i, ((a, j), swapped)) in ours.iter().zip(pairs).zip(swaps).enumerate() {
        let Some(j) = j else {
            if swapped.is_some() {
                row.nms_swaps += 1;
            } else if full && a.score <= cut + SCORE_TOLERANCE {
                // With both lists cut at max_det, which of two near-tied detections makes
                // the last place is float noise too.
                row.boundary += 1;
            } else {
                row.problems.push(format!(
                    "#{i}: no detection of the anchor's has class {} and score {}",
                    a.class_name, a.score
                ));
            }
            continue;
        };
        row.reordered += (j != i) as usize;
        let r = anchor[j];
        row.worst_score = row.worst_score.max((a.score - r.score).abs());
        row.worst_box = row
            .worst_box
            .max(common::box_diff(&a.box_xyxy, &r.box_xyxy));
        row.masks
            .add(compare_masks(&a.mask, &DumpedMask::new(r, w, h)));
    }
    let expected = pano_core::parse_csv(
        &std::fs::read_to_string(dir.join(format!("{stem}.csv"))).expect("anchor CSV"),
    )
    .expect("main.py's CSV parses");
    row.csv_diff = analysis.assessment.max_abs_difference(&expected);
    row.csv_over = analysis
        .assessment
        .findings()
        .zip(expected.findings())
        .filter(|(a, b)| (a.score - b.score).abs() > SCORE_TOLERANCE)
        .map(|(a, b)| format!("{} {}: {:.6} vs {:.6}", a.fdi, a.finding, a.score, b.score))
        .collect();
    // A row with nothing in it would agree vacuously.
    if anchor.is_empty() || row.masks.pixels == 0 {
        row.problems
            .push("the anchor's outputs hold no detection with a mask".into());
    }
    if expected.findings().all(|f| f.score == 0.0) {
        row.problems.push("the anchor's CSV is all zeros".into());
    }
    let per_million = row.masks.differing as f64 * 1e6 / row.masks.pixels.max(1) as f64;
    if per_million > MAX_DIFFERING_PER_MILLION_PER_IMAGE {
        row.problems
            .push(format!("{per_million:.1} per million mask pixels differ"));
    }
    if row.worst_score > SCORE_TOLERANCE {
        row.problems.push(format!(
            "a detection score differs by {:.2e}",
            row.worst_score
        ));
    }
    if row.worst_box > BOX_TOLERANCE {
        row.problems
            .push(format!("a box differs by {:.4} px", row.worst_box));
    }
    // Off a mask's edge, a pixel differs only where the mask's logit is within float
    // rounding of 0 inside it: one per million of the masks' pixels at most.
    let off_edge_allowed = (row.masks.pixels / 1_000_000).max(1);
    if let Some((x, y)) = row
        .masks
        .first_off_edge
        .filter(|_| row.masks.off_edge > off_edge_allowed)
    {
        row.problems.push(format!(
            "{} differing mask pixels lie off the mask's edge, the first at ({x}, {y})",
            row.masks.off_edge
        ));
    }
    if row.csv_diff > csv_tolerance {
        row.problems
            .push(format!("a CSV score differs by {:.2e}", row.csv_diff));
    }
    row
}

/// Runs the pair over every parity image, prints the table, then fails on any row that does
/// not agree. Differing mask pixels must all lie on a mask's edge (float ties) and be at most
/// `max_differing_per_million` of the masks' pixels.
fn parity(pair: &str, skip: &[&str], csv_tolerance: f32, max_differing_per_million: f64) {
    let engine = Engine::load(&EngineOptions {
        models_dir: root().join(match pair {
            "narrow" => "models/test",
            _ => "models/test-stress",
        }),
        ..Default::default()
    })
    .expect("the parity pack loads (models/anchor/parity.sh exports it)");
    let rows: Vec<Row> = IMAGES
        .iter()
        .filter(|(stem, _)| !skip.contains(stem))
        .map(|&(stem, file)| compare(&engine, pair, stem, file, csv_tolerance))
        .collect();
    eprintln!("\nparity, pair {pair}: pano vs the anchor's main.py");
    eprintln!(
        "{:<12} {:>10} {:>11} {:>9} {:>11} {:>10} {:>17} {:>11}",
        "image",
        "size",
        "detections",
        "reordered",
        "max |dscore|",
        "max |dbox|",
        "differing pixels",
        "max |dcsv|"
    );
    for r in &rows {
        eprintln!(
            "{:<12} {:>10} {:>11} {:>9} {:>11.2e} {:>10.5} {:>8} / {:<8} {:>11.2e}",
            r.stem,
            format!("{}x{}", r.size.0, r.size.1),
            format!("{}/{}", r.detections.0, r.detections.1),
            r.reordered,
            r.worst_score,
            r.worst_box,
            r.masks.differing,
            r.masks.pixels,
            r.csv_diff
        );
    }
    for r in rows.iter().filter(|r| r.nms_swaps > 0) {
        eprintln!(
            "{}: {} detection(s) kept by NMS where the anchor kept an overlapping near-tied one",
            r.stem, r.nms_swaps
        );
    }
    for r in rows.iter().filter(|r| r.boundary > 0) {
        eprintln!(
            "{}: {} detection(s) at the max_det cut swapped with a near-tied one",
            r.stem, r.boundary
        );
    }
    for r in rows.iter().filter(|r| !r.csv_over.is_empty()) {
        eprintln!(
            "{}: CSV scores more than 1e-4 apart: {}",
            r.stem,
            r.csv_over.join("; ")
        );
    }
    let mut failures: Vec<String> = rows
        .iter()
        .flat_map(|r| r.problems.iter().map(move |p| format!("{}: {p}", r.stem)))
        .collect();
    let differing: u64 = rows.iter().map(|r| r.masks.differing).sum();
    let pixels: u64 = rows.iter().map(|r| r.masks.pixels).sum();
    let per_million = differing as f64 * 1e6 / pixels.max(1) as f64;
    let off_edge: u64 = rows.iter().map(|r| r.masks.off_edge).sum();
    eprintln!(
        "{differing} of {pixels} mask pixels differ ({per_million:.1} per million); {off_edge} of them off a mask's edge"
    );
    if per_million > max_differing_per_million {
        failures.push(format!(
            "{per_million:.1} per million mask pixels differ (allowed {max_differing_per_million})"
        ));
    }
    assert!(failures.is_empty(), "pair {pair}:\n{}", failures.join("\n"));
}

/// Measured: 275 of 30.8 million mask pixels (9 per million), every one on a mask's edge,
/// where the prototype logit is within float rounding of 0.
#[test]
fn the_realistic_pair_agrees_with_the_anchor() {
    parity("narrow", &[], 1e-4, 20.0);
}

/// 500 detections per image (max_det). The sample is left out: main.py keeps 500 float32
/// masks of 2356x1292 and copies of them, more than 24 GB, and is killed (models/anchor/parity.sh).
#[test]
fn the_stress_pair_agrees_with_the_anchor() {
    parity("stress", &["pan-01432"], STRESS_CSV_TOLERANCE, 20.0);
}
