//! The IPC commands through Tauri's mock runtime: what the web UI really receives, over the
//! real service (SQLite, the test models, a folder archive) and the real keychain when one
//! runs (scripts/test.sh starts a private gnome-keyring).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pano_desktop::{setup, AppState};
use pano_keychain::Keychain;
use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{
    get_ipc_response, mock_builder, mock_context, noop_assets, MockRuntime, INVOKE_KEY,
};
use tauri::webview::InvokeRequest;
use tauri::{App, WebviewWindow, WebviewWindowBuilder};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

struct TestApp {
    _app: App<MockRuntime>,
    webview: WebviewWindow<MockRuntime>,
    dir: tempfile::TempDir,
    /// Every answer the UI got, to search for secrets afterwards.
    answers: std::cell::RefCell<Vec<String>>,
}

impl TestApp {
    fn start(settings: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let settings = settings
            .replace("{data}", data.to_str().unwrap())
            .replace("{models}", root().join("models/test").to_str().unwrap())
            .replace("{archive}", dir.path().join("archive").to_str().unwrap());
        std::fs::create_dir_all(dir.path().join("archive")).unwrap();
        let path = dir.path().join("settings.toml");
        std::fs::write(&path, settings).unwrap();
        let keychain = Keychain::new(&format!(
            "app.pano.test.{}.{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let mut app = setup(mock_builder(), AppState::open(path, keychain))
            .build(mock_context(noop_assets()))
            .expect("mock app");
        // The first turn of the event loop runs the setup hook (it starts the queue runner).
        // Deprecated because a loop of it busy-waits; one turn is exactly what is needed.
        #[allow(deprecated)]
        app.run_iteration(|_, _| {});
        let webview = WebviewWindowBuilder::new(&app, "main", Default::default())
            .build()
            .expect("window");
        Self {
            _app: app,
            webview,
            dir,
            answers: Default::default(),
        }
    }

    fn call(&self, cmd: &str, args: Value) -> Result<Value, Value> {
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
        let answer = get_ipc_response(&self.webview, request)
            .map(|b| b.deserialize::<Value>().expect("json body"));
        self.answers.borrow_mut().push(format!("{answer:?}"));
        answer
    }

    fn wait_for_empty_queue(&self) {
        let start = Instant::now();
        while !self
            .call("queue", json!({}))
            .unwrap()
            .as_array()
            .unwrap()
            .is_empty()
        {
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "the queue never emptied"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

const LOCAL: &str = "backend = \"local\"\ndata_dir = \"{data}\"\nmodels_dir = \"{models}\"\n[archive]\nkind = \"folder\"\npath = \"{archive}\"\n";

#[test]
fn app_info_says_the_models_are_test_models_and_why_the_cloud_is_off() {
    let app = TestApp::start(LOCAL);
    let info = app.call("app_info", json!({})).unwrap();
    assert_eq!(info["model_version"], "test-random-weights-1");
    assert_eq!(info["test_model"], true);
    assert!(info["notice"]
        .as_str()
        .unwrap()
        .contains("not for diagnosis"));
    assert_eq!(info["cloud_problem"]["code"], "cloud_not_configured");
    assert_eq!(info["backend"], "local");
}

#[test]
fn a_broken_settings_file_and_missing_models_are_coded_errors() {
    let app = TestApp::start("backend = \"sideways\"\n");
    let err = app.call("app_info", json!({})).unwrap_err();
    assert_eq!(err["code"], "settings_invalid");
    let app = TestApp::start(
        "backend = \"local\"\ndata_dir = \"{data}\"\nmodels_dir = \"/no/such/models\"\n",
    );
    let info = app.call("app_info", json!({})).unwrap();
    assert_eq!(info["models_problem"]["code"], "engine_error");
    assert!(info["models_problem"]["message"]
        .as_str()
        .unwrap()
        .starts_with("no model manifest at"));
}

#[test]
fn drop_analyse_review_approve_and_find_it_again() {
    let app = TestApp::start(LOCAL);
    let sample = root().join("tests/data/pan-small-wide.png");
    let results = app
        .call(
            "enqueue_files",
            json!({ "paths": [sample, root().join("Cargo.toml")] }),
        )
        .unwrap();
    let id = results[0]["analysis"]["id"].as_str().unwrap().to_string();
    assert_eq!(results[1]["error"]["code"], "image_unsupported_format");
    assert!(results[1]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("not a supported image format"));
    app.wait_for_empty_queue();

    let detail = app
        .call("open_analysis", json!({ "id": id, "viewer": "Dr Bell" }))
        .unwrap();
    assert_eq!(detail["analysis"]["status"], "completed");
    assert_eq!(detail["findings"].as_array().unwrap().len(), 256);
    let image = app
        .call(
            "debug_image",
            json!({ "id": id, "kind": "semantic-segmentation" }),
        )
        .unwrap();
    assert!(image
        .as_str()
        .unwrap()
        .starts_with("data:image/jpeg;base64,/9j/"));
    let csv = app
        .call("export_csv", json!({ "id": id, "viewer": "Dr Bell" }))
        .unwrap();
    assert!(csv
        .as_str()
        .unwrap()
        .starts_with("file_name,fdi,finding,score\npan-small-wide,"));

    let early = app
        .call("reject", json!({ "id": "nope", "by": "Dr Bell" }))
        .unwrap_err();
    assert_eq!(early["code"], "no_such_analysis");
    let approved = app
        .call(
            "approve",
            json!({ "id": id, "patient": { "kind": "new", "display_name": "Ada Lovelace", "external_id": null }, "approver": "Dr Bell" }),
        )
        .unwrap();
    assert!(approved["archived_location"]
        .as_str()
        .unwrap()
        .starts_with(app.dir.path().join("archive/patients").to_str().unwrap()));
    let patient = approved["patient"]["id"].as_str().unwrap();
    let found = app
        .call("search_patients", json!({ "query": "ada" }))
        .unwrap();
    assert_eq!(found[0]["id"], patient);
    let history = app
        .call("history", json!({ "filter": { "patient_id": patient } }))
        .unwrap();
    assert_eq!(history[0]["id"], id.as_str());
    assert_eq!(history[0]["status"], "approved");
}

#[test]
fn keys_go_to_the_keychain_and_never_come_back_or_land_anywhere() {
    const RUNPOD_KEY: &str = "rp-NEVER-SHOW-0123456789";
    const S3_SECRET: &str = "s3-NEVER-SHOW-abcdefghij";
    let app = TestApp::start(LOCAL);
    let set = app.call(
        "set_secret",
        json!({ "name": "runpod_api_key", "value": RUNPOD_KEY }),
    );
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
        // No Secret Service here: a clear, coded refusal.
        assert_eq!(set.unwrap_err()["code"], "keychain_unavailable");
        return;
    }
    set.unwrap();
    app.call(
        "set_secret",
        json!({ "name": "s3_access_key_id", "value": "AKIA-PANO-TEST" }),
    )
    .unwrap();
    app.call(
        "set_secret",
        json!({ "name": "s3_secret_access_key", "value": S3_SECRET }),
    )
    .unwrap();
    let status = app.call("secret_status", json!({})).unwrap();
    assert!(
        status
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["is_set"] == true),
        "{status}"
    );
    assert_eq!(
        app.call(
            "set_secret",
            json!({ "name": "runpod_api_key", "value": " " })
        )
        .unwrap_err()["code"],
        "secret_empty"
    );

    // Use the app: settings, an analysis, its review.
    let mut settings = app.call("get_settings", json!({})).unwrap();
    settings["cloud_concurrency"] = json!(2);
    app.call("save_settings", json!({ "settings": settings }))
        .unwrap();
    let results = app
        .call(
            "enqueue_files",
            json!({ "paths": [root().join("tests/data/pan-small-square.png")] }),
        )
        .unwrap();
    let id = results[0]["analysis"]["id"].as_str().unwrap().to_string();
    app.wait_for_empty_queue();
    app.call("open_analysis", json!({ "id": id, "viewer": "Dr Bell" }))
        .unwrap();
    app.call("app_info", json!({})).unwrap();

    // Nowhere: not in any IPC answer, the settings file, the database or the data folder.
    for answer in app.answers.borrow().iter() {
        assert!(
            !answer.contains(RUNPOD_KEY) && !answer.contains(S3_SECRET),
            "{answer}"
        );
    }
    let files = pano_testkit::files_under(app.dir.path());
    assert!(files.iter().any(|f| f.ends_with("pano.sqlite")));
    assert!(files.iter().any(|f| f.ends_with("settings.toml")));
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        for secret in [RUNPOD_KEY, S3_SECRET] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{} holds a key",
                file.display()
            );
        }
    }
    for name in ["runpod_api_key", "s3_access_key_id", "s3_secret_access_key"] {
        app.call("clear_secret", json!({ "name": name })).unwrap();
    }
    let status = app.call("secret_status", json!({})).unwrap();
    assert!(status
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["is_set"] == false));
}
