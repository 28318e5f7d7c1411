//! Per-stage timings and peak memory of one analysis of the sample radiograph.
//!
//!     cargo bench -p pano-engine --bench pipeline [-- IMAGE] [--runs N] [--models DIR]
//!         [--provider P] [--opt-level disable|basic|extended|all] [--arena on|off]
//!         [--memory-pattern on|off] [--shrink-arena on|off] [--spinning on|off]
//!         [--prepacking on|off] [--threads N]
//!         [--concurrent K]
//!         [--vary-shape]
//!
//! The session flags switch one ONNX Runtime setting away from the engine's default, so that
//! each is measured against the rest. `--concurrent K` also runs K analyses at a time (K
//! threads sharing one engine: one image's segmentation overlaps another's detection and
//! post-processing) and prints the throughput beside one-at-a-time.
//!
//! DIR is a model pack relative to the repository root: models/test (the default; the realistic
//! pair in the anchor's format), models/test-stress (its 500-detection variant) or
//! models/static-640 (the older pair with a static 640x640 YOLO).
//!
//! With `PANO_BENCH_PYTHON=<python with the models/scripts requirements>` it also runs the
//! Python reference pipeline on the same image and models, in the same session, and prints
//! the speed-up.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pano_engine::{Engine, EngineOptions, GraphOptimization, SessionTuning, StageTimings};
use pano_imaging::{import_file, ImportLimits};

fn peak_rss_mb() -> f64 {
    rss_mb("VmHWM:")
}

/// A memory line of /proc/self/status (VmRSS: now, VmHWM: the peak so far), in MB.
fn rss_mb(key: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with(key)).map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .unwrap_or("0")
                    .parse::<f64>()
                    .unwrap_or(0.0)
            })
        })
        .unwrap_or(0.0)
        / 1024.0
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    // The repository root; PANO_BENCH_ROOT overrides it where the binary runs from a copy
    // of the tree elsewhere (a GPU machine).
    let root = std::env::var_os("PANO_BENCH_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."));
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let has = |flag: &str| args.iter().any(|a| a == flag);
    let switch = |flag: &str| {
        value(flag).map(|v| match v.as_str() {
            "on" => true,
            "off" => false,
            other => panic!("{flag} takes on or off, not {other}"),
        })
    };
    let runs = value("--runs")
        .and_then(|n| n.parse().ok())
        .unwrap_or(5usize);
    let defaults = SessionTuning::default();
    let tuning = SessionTuning {
        optimization: value("--opt-level")
            .map(|l| GraphOptimization::parse(&l).expect("disable, basic, extended or all"))
            .unwrap_or(defaults.optimization),
        cpu_arena: switch("--arena").unwrap_or(defaults.cpu_arena),
        memory_pattern: switch("--memory-pattern").unwrap_or(defaults.memory_pattern),
        arena_shrinkage: switch("--shrink-arena").unwrap_or(defaults.arena_shrinkage),
        spinning: switch("--spinning").unwrap_or(defaults.spinning),
        prepacking: switch("--prepacking").unwrap_or(defaults.prepacking),
        intra_threads: value("--threads")
            .map(|n| n.parse().expect("a thread count"))
            .or(defaults.intra_threads),
    };
    let vary_shape = has("--vary-shape");
    let concurrent: usize = value("--concurrent")
        .map(|n| n.parse().expect("a number of analyses at a time"))
        .unwrap_or(0);
    let image_path = args
        .iter()
        .enumerate()
        .find(|(i, a)| {
            !a.starts_with("--")
                && (*i == 0
                    || ![
                        "--runs",
                        "--provider",
                        "--models",
                        "--opt-level",
                        "--threads",
                        "--concurrent",
                        "--arena",
                        "--memory-pattern",
                        "--shrink-arena",
                        "--spinning",
                        "--prepacking",
                    ]
                    .contains(&args[i - 1].as_str()))
        })
        .map(|(_, a)| PathBuf::from(a))
        .unwrap_or_else(|| root.join("tests/data/pan-01432.jpg"));
    let models = args
        .iter()
        .position(|a| a == "--models")
        .and_then(|i| args.get(i + 1))
        .map(|m| root.join(m))
        .unwrap_or_else(|| root.join("models/test"));

    let t = Instant::now();
    let provider = args
        .iter()
        .position(|a| a == "--provider")
        .and_then(|i| args.get(i + 1))
        .map(|p| p.parse().expect("a provider name"))
        .unwrap_or_default();
    let engine = Engine::load(&EngineOptions {
        models_dir: models.clone(),
        provider,
        tuning,
        ..Default::default()
    })
    .expect("engine loads");
    let load = t.elapsed();
    let rss_after_load = (rss_mb("VmRSS:"), rss_mb("VmHWM:"));

    let mut decode = Vec::new();
    let mut stages: Vec<StageTimings> = Vec::new();
    let mut name = String::new();
    for i in 0..=runs {
        let t = Instant::now();
        let image = import_file(&image_path, &ImportLimits::default()).expect("sample decodes");
        let d = t.elapsed();
        // A clinic's radiographs differ in size, and ONNX Runtime plans memory per input
        // shape: `--vary-shape` gives every run its own (the image narrowed by 40 px more
        // each time), where the default measures the same shape again and again.
        let rgb = if vary_shape && i > 0 {
            let keep = image.rgb.width().saturating_sub(40 * i as u32).max(64);
            image::imageops::crop_imm(&image.rgb, 0, 0, keep, image.rgb.height()).to_image()
        } else {
            image.rgb.clone()
        };
        let analysis = engine.analyze(&rgb, "bench", true).expect("analysis");
        if i == 0 {
            // Post-processing and mask decoding scale with the masks' total area, so the
            // bench says how deep they overlap (random-weight models: far more than real ones).
            let mask_pixels: u64 = analysis.detections.iter().map(|d| d.mask.area()).sum();
            let geometry_bytes = serde_json::to_vec(&analysis.geometry).map_or(0, |j| j.len());
            name = format!(
                "{} ({}x{}), {} detections, mask pixels {:.1} M ({:.1} per image pixel), \
                 geometry {} points in {:.0} KB of JSON",
                image_path.display(),
                image.width(),
                image.height(),
                analysis.detections.len(),
                mask_pixels as f64 / 1e6,
                mask_pixels as f64 / (image.width() as f64 * image.height() as f64),
                analysis.geometry.point_count(),
                geometry_bytes as f64 / 1024.0
            );
            continue; // warm-up
        }
        decode.push(d);
        stages.push(analysis.timings);
    }
    let pick = |f: fn(&StageTimings) -> Duration| median(stages.iter().map(f).collect());
    let rows: Vec<(&str, Duration)> = vec![
        ("decode", median(decode.clone())),
        ("segmentation pre-processing", pick(|t| t.segmentation_pre)),
        ("segmentation run (ONNX)", pick(|t| t.segmentation_run)),
        ("YOLO pre-processing", pick(|t| t.detection_pre)),
        ("YOLO run (ONNX)", pick(|t| t.detection_run)),
        ("decoding + NMS + masks", pick(|t| t.detection_decode)),
        ("post-processing + class map", pick(|t| t.postprocess)),
        ("geometry (polygons)", pick(|t| t.geometry)),
        ("debug rendering", pick(|t| t.debug_render)),
    ];
    let total = median(
        decode
            .iter()
            .zip(&stages)
            .map(|(d, t)| *d + t.total)
            .collect(),
    );
    let non_onnx = median(
        decode
            .iter()
            .zip(&stages)
            .map(|(d, t)| *d + t.total - t.segmentation_run - t.detection_run)
            .collect(),
    );
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!("pano-engine pipeline benchmark: {name}");
    println!(
        "  models {}, {} execution provider, {cores} cores; median of {runs} runs after one warm-up; engine load {:.3} s",
        engine.manifest().model_version,
        engine.provider(),
        load.as_secs_f64()
    );
    for (label, d) in &rows {
        println!("  {label:<30} {:>9.1} ms", d.as_secs_f64() * 1000.0);
    }
    println!(
        "  {:<30} {:>9.1} ms",
        "all but the two ONNX runs",
        non_onnx.as_secs_f64() * 1000.0
    );
    println!(
        "  {:<30} {:>9.1} ms",
        "total (decode to debug images)",
        total.as_secs_f64() * 1000.0
    );
    println!("  {:<30} {:>9.0} MB", "peak RSS", peak_rss_mb());
    println!(
        "  {:<30} {:>9.0} MB",
        "RSS after the last analysis",
        rss_mb("VmRSS:")
    );
    println!(
        "  RSS after the engine loaded {:.0} MB (peak until then {:.0} MB)",
        rss_after_load.0, rss_after_load.1
    );
    println!(
        "  sessions: {tuning}{}",
        if vary_shape {
            "; a new input shape every run"
        } else {
            ""
        }
    );

    if concurrent > 1 {
        let image = import_file(&image_path, &ImportLimits::default()).expect("sample decodes");
        let count = runs.max(concurrent);
        let next = std::sync::atomic::AtomicUsize::new(0);
        let t = Instant::now();
        std::thread::scope(|scope| {
            for _ in 0..concurrent {
                scope.spawn(|| {
                    while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < count {
                        engine.analyze(&image.rgb, "bench", true).expect("analysis");
                    }
                });
            }
        });
        let each = t.elapsed().as_secs_f64() / count as f64;
        println!(
            "  {concurrent} at a time: {count} analyses, {:.1} ms each ({:.2} images/min; one at a time {:.2}); peak RSS {:.0} MB",
            each * 1000.0,
            60.0 / each,
            60.0 / total.as_secs_f64(),
            peak_rss_mb()
        );
    }

    if let Some(python) = std::env::var_os("PANO_BENCH_PYTHON") {
        let out = tempdir();
        let t = Instant::now();
        let result = std::process::Command::new(python)
            .arg(root.join("models/scripts/reference_pipeline.py"))
            .args([
                "--models",
                models.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ])
            .arg(&image_path)
            .env("YOLO_CONFIG_DIR", &out)
            .output()
            .expect("python runs");
        let wall = t.elapsed();
        let stdout = String::from_utf8_lossy(&result.stdout);
        println!(
            "python reference pipeline (process wall {:.1} s): {}",
            wall.as_secs_f64(),
            stdout.trim()
        );
        if let Some(py_total) = stdout
            .split_whitespace()
            .find_map(|w| w.strip_prefix("total="))
            .and_then(|v| v.trim_end_matches('s').parse::<f64>().ok())
        {
            println!(
                "  speed-up (python total / ours total): {:.1}x",
                py_total / total.as_secs_f64()
            );
        }
        let _ = std::fs::remove_dir_all(out);
    }
}

fn tempdir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pano-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}
