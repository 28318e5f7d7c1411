//! `cargo bench -p pano-service --bench first_analysis [-- --models DIR] [--wait S]`
//!
//! How long the first radiograph dropped after the app starts waits for its result, with the
//! engine loaded on first use (the service opened, the image enqueued at once) and with the
//! engine loaded in the background as the app starts (`prepare_local_engine`, the image
//! enqueued S seconds later, default 5: a user picking a file). Each in a fresh process
//! state: a new service and data folder; ONNX Runtime's library stays loaded between the two,
//! so the first variant runs first and pays nothing the second does not.

use std::time::Instant;

use pano_service::{AnalysisService, BackendChoice, RunMode, Secrets, Settings};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let models = value("--models")
        .map(|m| root.join(m))
        .unwrap_or_else(|| root.join("models/test"));
    let wait: f64 = value("--wait").map_or(5.0, |s| s.parse().expect("seconds"));
    let sample = root.join("tests/data/pan-01432.jpg");
    let rt = tokio::runtime::Runtime::new().unwrap();

    let mut results = Vec::new();
    for prepared in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings {
            backend: BackendChoice::Local,
            data_dir: Some(dir.path().to_path_buf()),
            models_dir: Some(models.clone()),
            ..Settings::default()
        };
        let service = AnalysisService::open(settings, Secrets::default()).unwrap();
        if prepared {
            let loading = service.prepare_local_engine(BackendChoice::Local);
            assert!(loading.is_some(), "a local engine is prepared");
            std::thread::sleep(std::time::Duration::from_secs_f64(wait));
        }
        let dropped = Instant::now();
        let id = service.enqueue(&sample, None).unwrap().analysis.id;
        rt.block_on(service.run(RunMode::UntilAnalysed)).unwrap();
        let waited = dropped.elapsed().as_secs_f64();
        let row = service.analysis(&id).unwrap();
        assert!(row.run_ms.is_some(), "the analysis completed");
        results.push(waited);
    }
    println!(
        "first analysis of the sample, {}: drop to result {:.2} s with the engine loaded on first use, \
         {:.2} s with it loaded in the background at start ({wait} s before the drop)",
        models.display(),
        results[0],
        results[1]
    );
}
