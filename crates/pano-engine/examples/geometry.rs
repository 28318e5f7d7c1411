//! Writes one radiograph's geometry and its 256 findings as JSON, the data the UI's scripted
//! test backend serves (`ui/e2e/fixtures/`):
//!
//!     cargo run -p pano-engine --example geometry -- IMAGE OUT-GEOMETRY.json OUT-FINDINGS.json
//!
//! The models are `models/test` of the repository unless `PANO_MODELS_DIR` names others.

use std::path::{Path, PathBuf};
use std::time::Instant;

use pano_engine::{Engine, EngineOptions};
use pano_imaging::{import_file, ImportLimits};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    pano_engine::opt_out_of_runtime_telemetry();
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [image_path, geometry_path, findings_path] = args.as_slice() else {
        return Err("usage: geometry IMAGE OUT-GEOMETRY.json OUT-FINDINGS.json".into());
    };
    let models_dir = std::env::var_os("PANO_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/test"));
    let engine = Engine::load(&EngineOptions {
        models_dir,
        ..Default::default()
    })?;
    let image = import_file(image_path, &ImportLimits::default())?;
    let stem = image_path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let t = Instant::now();
    let analysis = engine.analyze(&image.rgb, &stem, false)?;
    let total = t.elapsed();

    let geometry = serde_json::to_vec(&analysis.geometry)?;
    let findings: Vec<_> = analysis.assessment.findings().collect();
    std::fs::write(geometry_path, &geometry)?;
    std::fs::write(findings_path, serde_json::to_vec_pretty(&findings)?)?;
    println!(
        "{}: {} teeth, {} finding instances, {} points, geometry JSON {:.1} KB; \
         extraction {:.1} ms of an analysis of {:.0} ms",
        image_path.display(),
        analysis.geometry.teeth.len(),
        analysis.geometry.findings.len(),
        analysis.geometry.point_count(),
        geometry.len() as f64 / 1024.0,
        analysis.timings.geometry.as_secs_f64() * 1e3,
        total.as_secs_f64() * 1e3,
    );
    Ok(())
}
