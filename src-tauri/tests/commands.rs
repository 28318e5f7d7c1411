//! The IPC commands through Tauri's mock runtime: what the web UI really receives.

use std::path::{Path, PathBuf};

use pano_desktop::{setup, AppState};
use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::WebviewWindowBuilder;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn invoke(state: AppState, cmd: &str, args: Value) -> Result<Value, Value> {
    let app = setup(mock_builder(), state)
        .build(mock_context(noop_assets()))
        .expect("mock app");
    let webview = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .expect("window");
    let request = InvokeRequest {
        cmd: cmd.into(),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        // On Linux the IPC origin is tauri://localhost; http://tauri.localhost counts as remote.
        url: "tauri://localhost".parse().unwrap(),
        body: InvokeBody::Json(args),
        headers: Default::default(),
        invoke_key: INVOKE_KEY.to_string(),
    };
    get_ipc_response(&webview, request).map(|body| body.deserialize::<Value>().expect("json body"))
}

fn test_models() -> AppState {
    AppState::new(Some(root().join("models/test")))
}

#[test]
fn app_info_says_the_models_are_test_models() {
    let info = invoke(test_models(), "app_info", json!({})).unwrap();
    assert_eq!(info["model_version"], "test-random-weights-1");
    assert_eq!(info["test_model"], true);
    assert!(info["notice"]
        .as_str()
        .unwrap()
        .contains("not for diagnosis"));
}

#[test]
fn missing_models_are_a_coded_error() {
    let err = invoke(AppState::new(None), "app_info", json!({})).unwrap_err();
    assert_eq!(err["code"], "models_missing");
    let err = invoke(
        AppState::new(Some(root().join("no-such-folder"))),
        "app_info",
        json!({}),
    )
    .unwrap_err();
    assert_eq!(err["code"], "models_invalid");
    assert!(err["message"]
        .as_str()
        .unwrap()
        .starts_with("no model manifest at"));
}

#[test]
fn analyzing_a_file_returns_256_findings_or_a_coded_error() {
    let sample = root().join("tests/data/pan-small-wide.png");
    let result = invoke(test_models(), "analyze_file", json!({ "path": sample })).unwrap();
    assert_eq!(result["name"], "pan-small-wide");
    assert_eq!(result["width"], 1000);
    assert_eq!(result["findings"].as_array().unwrap().len(), 256);
    assert_eq!(
        result["findings"][0],
        json!({"fdi": "11", "finding": "MISSING", "score": result["findings"][0]["score"]})
    );

    let not_an_image = root().join("Cargo.toml");
    let err = invoke(
        test_models(),
        "analyze_file",
        json!({ "path": not_an_image }),
    )
    .unwrap_err();
    assert_eq!(
        err,
        json!({"code": "image_unsupported", "message": "not a supported image format (JPEG, PNG, TIFF, BMP or DICOM)"})
    );
}
