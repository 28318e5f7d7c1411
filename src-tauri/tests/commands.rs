//! The IPC commands through Tauri's mock runtime: what the web UI really receives, over the
//! real service (SQLite, the test models, a folder archive) and a real keychain: every test
//! first makes sure of a private Secret Service (`pano_keychain::test_session`: its own
//! D-Bus session with an unlocked gnome-keyring), and fails when it cannot have one.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pano_desktop::{setup, AppState};
use pano_keychain::Keychain;
use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody, InvokeResponse};
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

fn request(cmd: &str, args: Value) -> InvokeRequest {
    InvokeRequest {
        cmd: cmd.into(),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        // On Linux the IPC origin is tauri://localhost; http://tauri.localhost counts as remote.
        url: "tauri://localhost".parse().unwrap(),
        body: InvokeBody::Json(args),
        headers: Default::default(),
        invoke_key: INVOKE_KEY.to_string(),
    }
}

impl TestApp {
    fn start(settings: &str) -> Self {
        Self::start_with(settings, |state| state)
    }

    fn start_with(settings: &str, adjust: impl FnOnce(AppState) -> AppState) -> Self {
        // Before anything else: it sets the process's D-Bus address. (The child process of
        // the late-keychain test has its own address, where no bus runs yet.)
        if std::env::var_os(LATE_KEYCHAIN_CHILD).is_none() {
            pano_keychain::test_session::ensure();
        }
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
        let mut app = setup(mock_builder(), adjust(AppState::open(path, keychain)))
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
        let answer = get_ipc_response(&self.webview, request(cmd, args))
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

/// Set in the child process of [`a_keychain_that_comes_later_is_read_and_the_service_reopened`]
/// to the socket where its D-Bus session will appear.
const LATE_KEYCHAIN_CHILD: &str = "PANO_TEST_LATE_KEYCHAIN_SOCKET";

const LOCAL: &str = "backend = \"local\"\ndata_dir = \"{data}\"\nmodels_dir = \"{models}\"\n[archive]\nkind = \"folder\"\npath = \"{archive}\"\n";

#[test]
fn app_info_says_the_models_are_test_models_and_why_the_cloud_is_off() {
    let app = TestApp::start(LOCAL);
    let info = app.call("app_info", json!({})).unwrap();
    assert_eq!(info["model_version"], "anchor-format-narrow-random-1");
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
    app.call(
        "set_secret",
        json!({ "name": "runpod_api_key", "value": RUNPOD_KEY }),
    )
    .unwrap();
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

/// Makes a named pipe: opening it for reading blocks until a writer comes, so a command
/// that reads it is stuck exactly as long as the test wants.
#[cfg(unix)]
fn fifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success(), "mkfifo {}", path.display());
}

/// A plain `fn` command runs on the thread that handles the IPC message: in the app that is
/// the main thread, which draws the window (in the mock runtime, the test's thread). Here the
/// settings file is a named pipe, so `get_settings` blocks until the test writes it: the IPC
/// calls must come back at once, and with more such commands stuck than the async runtime
/// has worker threads, that runtime must still run other tasks (the queue, the event
/// forwarding), so the blocking work is on neither. (Other commands use the same `blocking`
/// helper; `enqueue_files` can no longer be held up this way: the service refuses pipes.)
#[cfg(unix)]
#[test]
fn commands_wait_for_files_off_the_main_thread_and_off_the_async_workers() {
    use std::sync::mpsc;
    let app = TestApp::start(LOCAL);
    let stuck = 4 * std::thread::available_parallelism().map_or(4, |n| n.get()) + 8;
    let settings = app.dir.path().join("settings.toml");
    let text = std::fs::read(&settings).unwrap();
    std::fs::remove_file(&settings).unwrap();
    fifo(&settings);

    // Writes the pipe for whoever reads it, from when told or after a minute (so that a
    // build that blocks the calling thread fails instead of hanging). Left running: once
    // nobody reads any more it waits for a reader forever.
    let (go, go_rx) = mpsc::channel::<()>();
    let pipe = settings.clone();
    std::thread::spawn(move || {
        let _ = go_rx.recv_timeout(Duration::from_secs(60));
        loop {
            let _ = std::fs::write(&pipe, &text);
        }
    });

    let (answers, answers_rx) = mpsc::channel::<InvokeResponse>();
    let started = Instant::now();
    for _ in 0..stuck {
        let answers = answers.clone();
        app.webview.as_ref().clone().on_message(
            request("get_settings", json!({})),
            Box::new(move |_, _, response, _, _| {
                let _ = answers.send(response);
            }),
        );
    }
    let handed_over = started.elapsed();
    // A task on the app's async runtime still runs while all those commands wait.
    let (ran, ran_rx) = mpsc::channel();
    tauri::async_runtime::spawn(async move {
        let _ = ran.send(());
    });
    let runtime_free = ran_rx.recv_timeout(Duration::from_secs(10)).is_ok();
    let none_answered = answers_rx.try_recv().is_err();
    go.send(()).ok();
    assert!(
        handed_over < Duration::from_secs(2),
        "the IPC calls took {handed_over:?}: the commands blocked the calling (main) thread"
    );
    assert!(none_answered, "the commands were not stuck on the file");
    assert!(
        runtime_free,
        "the async runtime ran nothing while {stuck} commands waited for a file: they block its workers"
    );
    // Once the file is written every command answers, at least one with settings (readers
    // that woke together share the writes: some read a piece, or nothing, of one).
    let mut settings_seen = false;
    for _ in 0..stuck {
        let response = answers_rx
            .recv_timeout(Duration::from_secs(60))
            .expect("every command answers");
        if let InvokeResponse::Ok(body) = response {
            let value = body.deserialize::<Value>().unwrap();
            settings_seen |= value.get("backend").is_some();
        }
    }
    assert!(settings_seen);
}

#[test]
fn save_csv_writes_only_where_the_save_dialog_says() {
    let chosen = tempfile::tempdir().unwrap();
    let target = chosen.path().join("chosen.csv");
    let asked = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let (t, a) = (target.clone(), asked.clone());
    let app = TestApp::start_with(LOCAL, move |state| {
        state.with_save_dialog(move |suggested| {
            a.lock().unwrap().push(suggested.to_string());
            Some(t.clone())
        })
    });
    let results = app
        .call(
            "enqueue_files",
            json!({ "paths": [root().join("tests/data/pan-small-wide.png")] }),
        )
        .unwrap();
    let id = results[0]["analysis"]["id"].as_str().unwrap().to_string();
    app.wait_for_empty_queue();

    // A path from the UI (the old argument) is not where anything is written.
    let from_ui = app.dir.path().join("from-the-ui.csv");
    let saved = app
        .call(
            "save_csv",
            json!({ "id": id, "viewer": "Dr Bell", "path": from_ui }),
        )
        .unwrap();
    assert_eq!(saved, json!(target));
    assert_eq!(*asked.lock().unwrap(), ["pan-small-wide.csv"]);
    assert!(!from_ui.exists(), "save_csv wrote where the UI said");
    let csv = std::fs::read_to_string(&target).unwrap();
    assert!(csv.starts_with("file_name,fdi,finding,score\npan-small-wide,"));
}

#[test]
fn the_patient_report_is_saved_where_the_dialog_says_and_opened_for_printing() {
    let chosen = tempfile::tempdir().unwrap();
    let target = chosen.path().join("chosen.pdf");
    let asked = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let opened = std::sync::Arc::new(std::sync::Mutex::new(Vec::<PathBuf>::new()));
    let (t, a, o) = (target.clone(), asked.clone(), opened.clone());
    let app = TestApp::start_with(LOCAL, move |state| {
        state
            .with_save_dialog(move |suggested| {
                a.lock().unwrap().push(suggested.to_string());
                Some(t.clone())
            })
            .with_report_opener(move |path| {
                o.lock().unwrap().push(path.to_path_buf());
                Ok(())
            })
    });
    let results = app
        .call(
            "enqueue_files",
            json!({ "paths": [root().join("tests/data/pan-small-wide.png")] }),
        )
        .unwrap();
    let id = results[0]["analysis"]["id"].as_str().unwrap().to_string();
    app.wait_for_empty_queue();

    // Not before approval: the report names a patient and a clinician.
    let early = app.call("save_report", json!({ "id": id })).unwrap_err();
    assert_eq!(early["code"], "report_needs_approval");
    assert!(!target.exists());
    app.call(
        "approve",
        json!({ "id": id, "patient": { "kind": "new", "display_name": "Ada Lovelace/King", "external_id": "OD-7" }, "approver": "Dr Bell" }),
    )
    .unwrap();
    let saved = app.call("save_report", json!({ "id": id })).unwrap();
    assert_eq!(saved, json!(target));
    let asked = asked.lock().unwrap().clone();
    assert_eq!(asked.len(), 1);
    assert!(
        asked[0].starts_with("Ada Lovelace_King panoramic report 20") && asked[0].ends_with(".pdf"),
        "{asked:?}"
    );
    assert!(std::fs::read(&target).unwrap().starts_with(b"%PDF-"));

    app.call("open_report", json!({ "id": id })).unwrap();
    let opened = opened.lock().unwrap().clone();
    assert_eq!(opened.len(), 1);
    assert!(opened[0].starts_with(app.dir.path()), "{opened:?}");
    assert!(std::fs::read(&opened[0]).unwrap().starts_with(b"%PDF-"));
    let missing = app
        .call("open_report", json!({ "id": "nope" }))
        .unwrap_err();
    assert_eq!(missing["code"], "no_such_analysis");
}

#[test]
fn a_practice_system_launch_queues_its_files_for_its_patient() {
    let image = root().join("tests/data/pan-small-wide.png");
    let args: Vec<String> = [
        "--patient-id",
        "1234",
        "--first",
        "Grace",
        "--last",
        "Hopper",
        "--birthdate",
        "19061209",
        image.to_str().unwrap(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let app = TestApp::start_with(LOCAL, move |state| {
        state.launch.lock().unwrap().add(&args);
        state
            .launch
            .lock()
            .unwrap()
            .add(&["--patient-id".into(), "5678".into()]);
        state
    });
    let pending = app.call("take_launch", json!({})).unwrap();
    assert_eq!(pending["problem"], Value::Null);
    let launches = pending["launches"].as_array().unwrap();
    // Two launches stay apart: the second one's patient is not the first one's files'.
    assert_eq!(launches.len(), 2, "{launches:?}");
    let launch = &launches[0];
    assert_eq!(launch["files"], json!([image]));
    assert_eq!(launch["patient"]["external_id"], "1234");
    assert_eq!(launch["patient"]["birth_date"], "1906-12-09");
    assert_eq!(launches[1]["patient"]["external_id"], "5678");
    assert_eq!(launches[1]["files"], json!([]));
    // Taken once.
    let again = app.call("take_launch", json!({})).unwrap();
    assert_eq!(again["launches"], json!([]));

    let results = app
        .call(
            "enqueue_files",
            json!({ "paths": launch["files"], "pmsPatient": launch["patient"] }),
        )
        .unwrap();
    let id = results[0]["analysis"]["id"].as_str().unwrap().to_string();
    app.wait_for_empty_queue();
    let detail = app
        .call("open_analysis", json!({ "id": id, "viewer": "Dr Bell" }))
        .unwrap();
    let suggested = &detail["suggested_patient"];
    assert_eq!(suggested["source"], "practice_system");
    assert_eq!(suggested["display_name"], "Grace Hopper");
    assert_eq!(suggested["external_id"], "1234");

    // A birth date in a locale's order is not guessed: the launch says what to fix.
    let mut pending = pano_desktop::PendingLaunch::default();
    pending.add(&[
        "--patient-id".into(),
        "1234".into(),
        "--birthdate".into(),
        "03/09/1984".into(),
    ]);
    assert!(pending.launches.is_empty());
    let problem = pending.problem.unwrap();
    assert_eq!(problem.code, "invalid_launch_arguments");
    assert!(problem.message.contains("[Birthdate_yyyyMMdd]"));
}

#[test]
fn a_cancelled_save_dialog_writes_nothing() {
    let app = TestApp::start_with(LOCAL, |state| state.with_save_dialog(|_| None));
    let results = app
        .call(
            "enqueue_files",
            json!({ "paths": [root().join("tests/data/pan-small-wide.png")] }),
        )
        .unwrap();
    let id = results[0]["analysis"]["id"].as_str().unwrap().to_string();
    app.wait_for_empty_queue();
    let from_ui = app.dir.path().join("from-the-ui.csv");
    let saved = app
        .call(
            "save_csv",
            json!({ "id": id, "viewer": "Dr Bell", "path": from_ui }),
        )
        .unwrap();
    assert_eq!(saved, Value::Null);
    assert!(!from_ui.exists());
}

/// The UI may open files (the open dialog only returns paths) but not choose where the app
/// writes: it is granted no save dialog and nothing else of the dialog plugin.
#[test]
fn the_ui_is_not_granted_the_save_dialog() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("capabilities/default.json"),
    )
    .unwrap();
    let capability: Value = serde_json::from_str(&text).unwrap();
    let dialog: Vec<&str> = capability["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().or_else(|| p["identifier"].as_str()).unwrap())
        .filter(|p| p.starts_with("dialog:"))
        .collect();
    assert_eq!(dialog, ["dialog:allow-open"]);
}

/// A keychain that cannot be read at start (no Secret Service yet; the same path as a
/// locked one) is read again in the background, and the service reopened with the keys
/// once it answers: the keychain problem goes away without anyone saving anything. The
/// environment is the process's, so this runs in a child of the test binary whose bus
/// address points where no bus runs until the test starts one.
#[cfg(target_os = "linux")]
#[test]
fn a_keychain_that_comes_later_is_read_and_the_service_reopened() {
    const NAME: &str = "a_keychain_that_comes_later_is_read_and_the_service_reopened";
    if let Some(socket) = std::env::var_os(LATE_KEYCHAIN_CHILD) {
        let app = TestApp::start(LOCAL);
        let info = app.call("app_info", json!({})).unwrap();
        assert_eq!(
            info["keychain_problem"]["code"], "keychain_unavailable",
            "{info}"
        );
        let _session = pano_keychain::test_session::PrivateSession::start_at(Path::new(&socket));
        // The first retry is 10 s after start, then 20 s later.
        let start = Instant::now();
        loop {
            let info = app.call("app_info", json!({})).unwrap();
            if info["keychain_problem"].is_null() {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(45),
                "the keychain was never read again: {info}"
            );
            std::thread::sleep(Duration::from_millis(250));
        }
        // The reopened service works (and keys can be stored now).
        assert!(app.call("queue", json!({})).unwrap().is_array());
        app.call(
            "set_secret",
            json!({ "name": "runpod_api_key", "value": "rp-late" }),
        )
        .unwrap();
        let status = app.call("secret_status", json!({})).unwrap();
        assert_eq!(status[0]["is_set"], true, "{status}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("bus");
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([NAME, "--exact", "--test-threads=1", "--nocapture"])
        .env(LATE_KEYCHAIN_CHILD, &socket)
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}", socket.display()),
        )
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_new_runpod_address_does_not_get_the_old_key() {
    let app = TestApp::start(LOCAL);
    let is_set = |name: &str| {
        app.call("secret_status", json!({}))
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap()["is_set"]
            .as_bool()
            .unwrap()
    };
    for (name, value) in [
        ("runpod_api_key", "rp-key-for-runpod"),
        ("s3_access_key_id", "AKIA-PANO-TEST"),
    ] {
        app.call("set_secret", json!({ "name": name, "value": value }))
            .unwrap();
    }
    let mut settings = app.call("get_settings", json!({})).unwrap();
    // Same origin, another path: the key stays.
    settings["runpod"]["base_url"] = json!("https://api.runpod.ai/v2/");
    let saved = app
        .call("save_settings", json!({ "settings": settings.clone() }))
        .unwrap();
    assert_eq!(saved["runpod_key_cleared"], false);
    assert!(is_set("runpod_api_key"));
    // A look-alike host: the bearer key must not go there without being entered again.
    settings["runpod"]["base_url"] = json!("https://api.runpod.ai.example.net/v2");
    let saved = app
        .call("save_settings", json!({ "settings": settings }))
        .unwrap();
    assert_eq!(saved["runpod_key_cleared"], true);
    assert!(!is_set("runpod_api_key"));
    assert!(is_set("s3_access_key_id"), "S3 keys are signed, never sent");
    app.call("clear_secret", json!({ "name": "s3_access_key_id" }))
        .unwrap();
}
