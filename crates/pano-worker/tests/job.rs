use std::path::Path;

use base64::Engine as _;
use pano_engine::{Engine, EngineOptions};
use pano_imaging::{import_file, ImportLimits};
use pano_worker::{run_job, JobError};

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn engine() -> Engine {
    Engine::load(&EngineOptions {
        models_dir: root().join("models/test"),
        ..Default::default()
    })
    .unwrap()
}

/// Cloud and local results must be identical: the worker's csv_data is the local CSV, byte
/// for byte, and its findings validate as an assessment.
#[test]
fn worker_csv_equals_the_local_engines_csv_byte_for_byte() {
    let engine = engine();
    let path = root().join("tests/data/pan-small-wide.png");
    let bytes = std::fs::read(&path).unwrap();
    let output = run_job(&engine, &bytes, "upload-7f3a", true).unwrap();

    let local = engine
        .analyze(
            &import_file(&path, &ImportLimits::default()).unwrap().rgb,
            "upload-7f3a",
            false,
        )
        .unwrap();
    assert_eq!(output.csv_data, pano_core::write_csv(&local.assessment));
    assert_eq!(output.num_findings, 256);
    assert_eq!(output.assessment("upload-7f3a").unwrap(), local.assessment);

    let json = serde_json::to_string(&output).unwrap();
    let back: pano_core::WorkerOutput = serde_json::from_str(&json).unwrap();
    let debug = back.debug_images.unwrap();
    let jpeg = base64::engine::general_purpose::STANDARD
        .decode(debug.instance_detection)
        .unwrap();
    assert_eq!(&jpeg[..2], b"\xff\xd8");
}

/// The worker's geometry is the local engine's: the cloud draws the same outlines.
#[test]
fn worker_geometry_equals_the_local_engines() {
    let engine = engine();
    let path = root().join("tests/data/pan-01432.jpg");
    let output = run_job(&engine, &std::fs::read(&path).unwrap(), "pan-01432", false).unwrap();
    let image = import_file(&path, &ImportLimits::default()).unwrap().rgb;
    let local = engine.analyze(&image, "pan-01432", false).unwrap();
    let json = serde_json::to_string(&output).unwrap();
    let back: pano_core::WorkerOutput = serde_json::from_str(&json).unwrap();
    let geometry = back
        .geometry(Some(image.dimensions()))
        .unwrap()
        .expect("the worker sends its geometry");
    assert_eq!(geometry, local.geometry);
}

#[test]
fn a_non_image_is_a_job_error_not_a_crash() {
    let engine = engine();
    let err = run_job(&engine, b"<html>403 Forbidden</html>", "x", false).unwrap_err();
    assert!(matches!(err, JobError::Image(_)));
    assert_eq!(
        err.to_output(),
        serde_json::json!({"error": "the image could not be read: not a supported image format (JPEG, PNG, TIFF, BMP or DICOM)"})
    );
}
