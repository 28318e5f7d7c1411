//! Worker throughput (prints numbers; not a test): models loaded once, then jobs on the
//! sample radiograph back to back through the same handler the protocol loop calls, with
//! and without debug images; peak memory of the worker process.
//!
//! `cargo bench -p pano-worker --bench throughput [-- --jobs N]`

use std::path::Path;
use std::time::Instant;

use pano_engine::{Engine, EngineOptions};
use pano_worker::run_job;

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmHWM"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let jobs: usize = args
        .iter()
        .position(|a| a == "--jobs")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(8);
    // PANO_BENCH_ROOT: the repository when the binary runs from a copy (a GPU machine).
    let root = std::env::var_os("PANO_BENCH_ROOT")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."));
    let provider = args
        .iter()
        .position(|a| a == "--provider")
        .and_then(|i| args.get(i + 1))
        .map(|p| p.parse().expect("a provider name"))
        .unwrap_or_default();
    let image = std::fs::read(root.join("tests/data/pan-01432.jpg")).unwrap();

    let t = Instant::now();
    let engine = Engine::load(&EngineOptions {
        models_dir: root.join("models/test"),
        provider,
        ..Default::default()
    })
    .unwrap();
    let load = t.elapsed();
    let after_load = peak_rss_mb();
    println!(
        "pano-worker throughput: test models, {} provider, {} cores; models loaded once in {:.2} s",
        engine.provider(),
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        load.as_secs_f64()
    );
    run_job(&engine, &image, "warm-up", false).unwrap();
    for debug in [false, true] {
        let t = Instant::now();
        for i in 0..jobs {
            let out = run_job(&engine, &image, &format!("job-{i}"), debug).unwrap();
            assert_eq!(out.num_findings, 256);
        }
        let secs = t.elapsed().as_secs_f64();
        println!(
            "  {jobs} jobs{}: {:.2} s each, {:.2} jobs/s",
            if debug { " with debug images" } else { "" },
            secs / jobs as f64,
            jobs as f64 / secs
        );
    }
    println!(
        "  memory: {:.0} MB after loading the models, peak {:.0} MB (one worker process)",
        after_load,
        peak_rss_mb()
    );
    // Cloud (GPU) against local (CPU): are the findings the same?
    if engine.provider().to_string() != "cpu" {
        let cpu = Engine::load(&EngineOptions {
            models_dir: root.join("models/test"),
            provider: "cpu".parse().unwrap(),
            ..Default::default()
        })
        .unwrap();
        let a = run_job(&engine, &image, "pan-01432", false).unwrap();
        let b = run_job(&cpu, &image, "pan-01432", false).unwrap();
        let worst = a
            .findings
            .iter()
            .zip(&b.findings)
            .map(|(x, y)| (x.score - y.score).abs())
            .fold(0.0f32, f32::max);
        println!(
            "  {} vs cpu on the sample: CSV {}, largest score difference {:.2e}",
            engine.provider(),
            if a.csv_data == b.csv_data {
                "identical"
            } else {
                "differs"
            },
            worst
        );
    }
}
