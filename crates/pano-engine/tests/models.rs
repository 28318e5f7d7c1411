//! Loading refuses models that do not match their manifest, with a specific error.

use std::path::{Path, PathBuf};

use pano_engine::{Engine, EngineError, EngineOptions};

/// The default test pair: the anchor's architectures at a narrow width, exported as the
/// real models are (dynamic YOLO, letterbox `auto`).
fn test_models() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/test")
}

/// The older pair exported with a static 640x640 YOLO input (letterbox `square`).
fn static_models() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/static-640")
}

/// A writable copy of the static-640 pair, with an edit applied to the manifest.
fn copy_models(edit: impl FnOnce(&mut serde_json::Value)) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for f in ["yolo.onnx", "deeplab.onnx"] {
        std::fs::copy(static_models().join(f), dir.path().join(f)).unwrap();
    }
    let mut manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(static_models().join("manifest.json")).unwrap(),
    )
    .unwrap();
    edit(&mut manifest);
    std::fs::write(dir.path().join("manifest.json"), manifest.to_string()).unwrap();
    dir
}

fn load(dir: &Path) -> Result<Engine, EngineError> {
    Engine::load(&EngineOptions {
        models_dir: dir.to_path_buf(),
        ..Default::default()
    })
}

fn sha256(path: &Path) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(std::fs::read(path).unwrap()))
}

#[test]
fn the_test_models_load_and_say_what_they_are() {
    let engine = load(&test_models()).unwrap();
    assert!(engine.manifest().test_model);
    assert_eq!(
        engine.manifest().model_version,
        "anchor-format-narrow-random-1"
    );
    assert_eq!(engine.provider().name(), "cpu");
    let engine = load(&static_models()).unwrap();
    assert!(engine.manifest().test_model);
    assert_eq!(engine.manifest().model_version, "test-random-weights-1");
}

#[test]
fn a_missing_manifest_is_named() {
    let dir = tempfile::tempdir().unwrap();
    match load(dir.path()) {
        Err(EngineError::ManifestMissing(p)) => assert!(p.ends_with("manifest.json")),
        other => panic!("{:?}", other.err()),
    }
}

#[test]
fn a_changed_model_file_fails_its_hash() {
    let dir = copy_models(|_| {});
    let path = dir.path().join("yolo.onnx");
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&path, bytes).unwrap();
    match load(dir.path()) {
        Err(e @ EngineError::ModelHashMismatch { .. }) => assert!(e
            .to_string()
            .contains("yolo.onnx does not match the manifest")),
        other => panic!("{:?}", other.err()),
    }
}

#[test]
fn swapped_models_are_refused_by_shape() {
    let dir = copy_models(|m| {
        m["detection"]["file"] = "deeplab.onnx".into();
        m["segmentation"]["file"] = "yolo.onnx".into();
    });
    let (d, s) = (
        sha256(&dir.path().join("deeplab.onnx")),
        sha256(&dir.path().join("yolo.onnx")),
    );
    let text = std::fs::read_to_string(dir.path().join("manifest.json")).unwrap();
    let mut m: serde_json::Value = serde_json::from_str(&text).unwrap();
    m["detection"]["sha256"] = d.into();
    m["segmentation"]["sha256"] = s.into();
    std::fs::write(dir.path().join("manifest.json"), m.to_string()).unwrap();
    match load(dir.path()) {
        Err(EngineError::ModelMismatch {
            model: "detection",
            detail,
        }) => assert!(detail.contains("no input named 'images'"), "{detail}"),
        other => panic!("{:?}", other.err()),
    }
}

#[test]
fn class_names_must_match_the_model() {
    let dir = copy_models(|m| m["detection"]["class_names"][0] = "TOOTH_99".into());
    match load(dir.path()) {
        Err(EngineError::ModelMismatch {
            model: "detection",
            detail,
        }) => assert!(detail.contains("class names"), "{detail}"),
        other => panic!("{:?}", other.err()),
    }
}

#[test]
fn an_image_size_the_model_does_not_take_is_refused() {
    let dir = copy_models(|m| m["detection"]["image_size"] = 320.into());
    match load(dir.path()) {
        Err(EngineError::ModelMismatch { detail, .. }) => {
            assert!(detail.contains("[1, 3, 320, 320]"), "{detail}")
        }
        other => panic!("{:?}", other.err()),
    }
}

#[test]
fn auto_letterbox_needs_a_model_with_dynamic_size() {
    // The test YOLO is a static 640x640 export: it cannot take 640x352.
    let dir = copy_models(|m| m["detection"]["letterbox"] = "auto".into());
    match load(dir.path()) {
        Err(EngineError::ModelMismatch { detail, .. }) => {
            assert!(detail.contains("dynamic H and W"), "{detail}")
        }
        other => panic!("{:?}", other.err()),
    }
    // A stride that does not divide the image size is refused before any model is read.
    let dir = copy_models(|m| m["detection"]["stride"] = 48.into());
    match load(dir.path()) {
        Err(EngineError::ManifestInvalid { detail, .. }) => {
            assert!(detail.contains("stride 48"), "{detail}")
        }
        other => panic!("{:?}", other.err()),
    }
}

/// A writable copy of the default test pair (dynamic YOLO export, Ultralytics' metadata),
/// with an edit applied to the manifest.
fn copy_anchor_pack(edit: impl FnOnce(&mut serde_json::Value)) -> tempfile::TempDir {
    let pack = test_models();
    let dir = tempfile::tempdir().unwrap();
    for f in ["yolo.onnx", "deeplab.onnx"] {
        std::fs::copy(pack.join(f), dir.path().join(f)).unwrap();
    }
    let mut manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(pack.join("manifest.json")).unwrap())
            .unwrap();
    edit(&mut manifest);
    std::fs::write(dir.path().join("manifest.json"), manifest.to_string()).unwrap();
    dir
}

fn mismatch_detail(dir: &Path) -> String {
    match load(dir) {
        Err(EngineError::ModelMismatch { detail, .. }) => detail,
        other => panic!("{:?}", other.err()),
    }
}

#[test]
fn square_letterbox_refuses_a_model_with_dynamic_size() {
    // Ultralytics letterboxes a dynamic model `auto`; a manifest saying `square` for one
    // would feed it another image than the reference does.
    let dir = copy_anchor_pack(|m| m["detection"]["letterbox"] = "square".into());
    let detail = mismatch_detail(dir.path());
    assert!(detail.contains("needs \"auto\""), "{detail}");
}

#[test]
fn stride_and_image_size_must_agree_with_the_models_metadata() {
    // The unedited pack loads: the checks below fail on the edit, not on the pack.
    load(copy_anchor_pack(|_| {}).path()).unwrap();
    // 64 divides 640, so the manifest alone looks fine; the model says 32.
    let dir = copy_anchor_pack(|m| m["detection"]["stride"] = 64.into());
    let detail = mismatch_detail(dir.path());
    assert!(
        detail.contains("stride is 32") && detail.contains("says 64"),
        "{detail}"
    );
    let dir = copy_anchor_pack(|m| m["detection"]["image_size"] = 320.into());
    let detail = mismatch_detail(dir.path());
    assert!(
        detail.contains("imgsz [640, 640]") && detail.contains("320"),
        "{detail}"
    );
}

#[test]
fn a_strip_the_letterbox_would_scale_to_nothing_is_refused() {
    let engine = load(&test_models()).unwrap();
    let img = image::RgbImage::new(40, 60000);
    assert!(matches!(
        engine.analyze(&img, "x", false),
        Err(EngineError::ImageTooSmall {
            width: 40,
            height: 60000
        })
    ));
}

#[test]
fn a_tiny_image_is_refused_not_analysed() {
    let engine = load(&test_models()).unwrap();
    let img = image::RgbImage::new(20, 400);
    match engine.analyze(&img, "x", false) {
        Err(EngineError::ImageTooSmall {
            width: 20,
            height: 400,
        }) => {}
        other => panic!("{:?}", other.err()),
    }
}

#[test]
fn a_manifest_that_misstates_the_logit_stride_is_named_at_the_first_analysis() {
    // The test pack's DeepLab stops before the head's x4 upsample (`logit_stride` 4). A
    // manifest without it (stride 1) would read its logits as full resolution.
    let dir = copy_anchor_pack(|m| {
        m["segmentation"]
            .as_object_mut()
            .unwrap()
            .remove("logit_stride");
    });
    let engine = load(dir.path()).unwrap();
    let image = pano_imaging::import_file(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/pan-small-wide.png"),
        &pano_imaging::ImportLimits::default(),
    )
    .unwrap();
    match engine.analyze(&image.rgb, "stride", false) {
        Err(EngineError::ModelMismatch {
            model: "segmentation",
            detail,
        }) => assert!(
            detail.contains("output shape") && detail.contains("(logit_stride 1)"),
            "{detail}"
        ),
        other => panic!("{:?}", other.map(|_| "an analysis")),
    }
    // With the stride the manifest states, the same image analyses.
    let engine = load(copy_anchor_pack(|_| {}).path()).unwrap();
    engine.analyze(&image.rgb, "stride", false).unwrap();
}
