//! End to end: the built app in a real WebKitGTK window under Xvfb, driven through
//! WebDriver (tauri-driver in front of Debian's WebKitWebDriver). The app is opened with
//! the sample radiograph ("Open with Pano"), analyses it locally with the test models, and
//! a clinician approves it for a new patient through the UI; then the SQLite file and the
//! archive folder are checked, and each screen is written to docs/screenshots/.
//!
//! With `PANO_E2E_APP=/usr/bin/pano-desktop` the same test drives an installed app instead
//! (scripts/install-test.sh): no models folder is configured, so the app must find the
//! models and ONNX Runtime it was installed with, and the screenshots stay in the test's
//! temporary folder.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use pano_testkit::{free_port, wait_for_port, Peer};
use serde_json::{json, Value};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The few W3C WebDriver calls the test needs, over plain HTTP.
struct Session {
    http: reqwest::Client,
    base: String,
}

impl Session {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let text = request
            .send()
            .await
            .expect("WebDriver answers")
            .text()
            .await
            .unwrap();
        let value: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{path}: {text}"));
        assert!(value["value"]["error"].is_null(), "{path}: {value}");
        value["value"].clone()
    }

    async fn element(&self, css: &str) -> String {
        let found = self
            .call(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        found
            .as_object()
            .unwrap()
            .values()
            .next()
            .unwrap()
            .as_str()
            .unwrap()
            .to_string()
    }

    async fn click(&self, css: &str) {
        let id = self.element(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/click"),
            Some(json!({})),
        )
        .await;
    }

    async fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/clear"),
            Some(json!({})),
        )
        .await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            Some(json!({"text": text})),
        )
        .await;
    }

    async fn text(&self, css: &str) -> String {
        let script = json!({"script": "const e = document.querySelector(arguments[0]); return e ? e.textContent : '';", "args": [css]});
        self.call(reqwest::Method::POST, "/execute/sync", Some(script))
            .await
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    async fn execute(&self, script: &str, args: Value) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
        .await
    }

    async fn wait_for_text(&self, css: &str, wanted: &str, limit: Duration) -> String {
        let start = Instant::now();
        loop {
            let text = self.text(css).await;
            if text.contains(wanted) {
                return text;
            }
            assert!(
                start.elapsed() < limit,
                "{css} never said '{wanted}' (last: '{text}')"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn screenshot(&self, dir: &Path, name: &str) {
        let png = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap())
            .unwrap();
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), bytes).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analyse_the_sample_and_approve_it_for_a_new_patient_in_the_real_window() {
    let driver_bin = root().join(".cache/peers/bin/tauri-driver");
    assert!(
        driver_bin.exists(),
        "{} is missing: run scripts/setup.sh",
        driver_bin.display()
    );
    let installed = std::env::var("PANO_E2E_APP").ok().filter(|a| !a.is_empty());
    let app = installed
        .clone()
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_pano-desktop").to_string());
    let dir = tempfile::tempdir().unwrap();
    let (data, archive) = (dir.path().join("data"), dir.path().join("archive"));
    std::fs::create_dir_all(&archive).unwrap();
    let settings = dir.path().join("settings.toml");
    let models_line = match installed {
        Some(_) => String::new(),
        None => format!(
            "models_dir = {:?}\n",
            root().join("models/test").to_str().unwrap()
        ),
    };
    // The clinic's PACS: Orthanc, reached by DICOMweb and by C-STORE.
    let pacs = pano_testkit::OrthancPeer::start();
    std::fs::write(
        &settings,
        format!(
            "backend = \"local\"\ndata_dir = {:?}\n{models_line}[archive]\nkind = \"folder\"\npath = {:?}\n\
             [pacs]\ndicomweb_url = {:?}\nhost = \"127.0.0.1\"\nport = {}\ncalled_ae_title = {:?}\n",
            data.to_str().unwrap(),
            archive.to_str().unwrap(),
            pacs.dicomweb_url(),
            pacs.dicom_port,
            pano_testkit::ORTHANC_AET,
        ),
    )
    .unwrap();
    let screenshots = match installed {
        Some(_) => dir.path().join("screenshots"),
        None => root().join("docs/screenshots"),
    };

    let display = format!(":{}", 50 + std::process::id() % 400);
    // An X server has no port to wait for; 0 marks that.
    let _xvfb = Peer::new(
        Command::new("Xvfb")
            .args([
                display.as_str(),
                "-screen",
                "0",
                "1280x800x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb (scripts/setup.sh installs it)"),
        0,
    );
    std::thread::sleep(Duration::from_millis(500));
    let (port, native_port) = (free_port(), free_port());
    let driver = Command::new(&driver_bin)
        .args([
            "--port",
            &port.to_string(),
            "--native-port",
            &native_port.to_string(),
        ])
        .env("DISPLAY", &display)
        .env("PANO_SETTINGS", &settings)
        // The webview's own storage (remembered thresholds, clinician) in the test's folder.
        .env("XDG_DATA_HOME", dir.path().join("xdg-data"))
        .env("XDG_CONFIG_HOME", dir.path().join("xdg-config"))
        .env("XDG_CACHE_HOME", dir.path().join("xdg-cache"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // Its own process group, so that the WebKitWebDriver and the app it starts go with
        // it when the test ends or fails (Peer::group_leader).
        .process_group(0)
        .spawn()
        .unwrap();
    // Stopped through its group from here on, also if it never starts listening.
    let mut driver = Peer::group_leader(driver, port);
    wait_for_port(port, driver.child_mut(), "tauri-driver");

    let http = reqwest::Client::new();
    let sample = root().join("tests/data/pan-01432.jpg");
    let launched = Instant::now();
    // tauri-driver listens before the WebKitWebDriver behind it does: on a cold machine the
    // first session request can be cut off (seen once as hyper's IncompleteMessage). Asked
    // again, up to three times, a second apart.
    let body = json!({"capabilities": {"alwaysMatch": {"browserName": "wry",
        "tauri:options": {"application": &app, "args": [sample]}}}})
    .to_string();
    let mut attempt = 0;
    let created: Value = loop {
        attempt += 1;
        let answer = http
            .post(format!("http://127.0.0.1:{port}/session"))
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await;
        match answer {
            Ok(response) => break serde_json::from_str(&response.text().await.unwrap()).unwrap(),
            Err(e) if attempt < 3 && (e.is_request() || e.is_connect()) => {
                eprintln!("session request {attempt} failed ({e}); asking again");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(e) => panic!("tauri-driver did not create a session: {e}"),
        }
    };
    let session_id = created["value"]["sessionId"]
        .as_str()
        .unwrap_or_else(|| panic!("{created}"))
        .to_string();
    let s = Session {
        http,
        base: format!("http://127.0.0.1:{port}/session/{session_id}"),
    };

    s.wait_for_text(
        "#model-info",
        "anchor-format-narrow-random-1",
        Duration::from_secs(30),
    )
    .await;
    println!(
        "launch to a usable window: {:.2} s",
        launched.elapsed().as_secs_f64()
    );
    assert!(s
        .text("#test-model-banner")
        .await
        .contains("not for diagnosis"));
    // Opened with the sample: it is analysed and shown without anyone asking.
    let meta = s
        .wait_for_text("#analysis-meta", "completed", Duration::from_secs(120))
        .await;
    assert!(meta.contains("this computer"), "{meta}");
    assert_eq!(s.text("#analysis-title").await, "pan-01432.jpg — 2356×1292");
    s.wait_for_text(
        "#csv",
        "file_name,fdi,finding,score",
        Duration::from_secs(5),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    s.screenshot(&screenshots, "analysis").await;
    // Opening the stored analysis again: the time to drawn outlines in WebKitGTK itself.
    s.execute(
        "document.querySelector('#nav-history').click(); document.querySelector('#nav-analyses').click(); return 0;",
        json!([]),
    )
    .await;
    let timings = s
        .execute("return JSON.stringify(window.__pano.timings);", json!([]))
        .await;
    println!("open-to-overlay timings (ms) in the real window: {timings}");

    s.type_into("#approver", "Dr Eve Example").await;
    // The clinician reviews: confirms the first AI finding over its threshold, rejects the
    // second, and adds one the AI scored below it.
    let rows = s.execute(
        "return [...document.querySelectorAll('#findings tbody tr[data-fdi]')].filter(r => r.querySelector('button.confirm')).slice(0, 2).map(r => [r.dataset.fdi, r.dataset.kind]);",
        json!([]),
    ).await;
    let rows: Vec<(String, String)> = serde_json::from_value(rows).unwrap();
    assert_eq!(
        rows.len(),
        2,
        "two AI findings over their thresholds to decide on"
    );
    let (confirmed, rejected) = (rows[0].clone(), rows[1].clone());
    for ((fdi, kind), button) in [(&confirmed, "confirm"), (&rejected, "reject")] {
        s.click(&format!(
            "#findings tr[data-fdi=\"{fdi}\"][data-kind=\"{kind}\"] button.{button}"
        ))
        .await;
        s.wait_for_text(
            &format!("#findings tr[data-fdi=\"{fdi}\"][data-kind=\"{kind}\"]"),
            if button == "confirm" {
                "onfirmed"
            } else {
                "ejected"
            },
            Duration::from_secs(10),
        )
        .await;
    }
    // Added: a kind on a tooth the AI did not put over its threshold.
    let added: Vec<String> = serde_json::from_value(
        s.execute(
            "const over = new Set([...document.querySelectorAll('#findings tbody tr[data-fdi]')].map(r => r.dataset.fdi + ' ' + r.dataset.kind));\n\
             for (const t of ['24', '25', '14', '15', '34', '35']) if (!over.has(t + ' PERIAPICAL_RADIOLUCENCY')) {\n\
               const f = document.querySelector('#add-fdi'); f.value = t; f.dispatchEvent(new Event('change'));\n\
               const k = document.querySelector('#add-kind'); k.value = 'PERIAPICAL_RADIOLUCENCY'; k.dispatchEvent(new Event('change'));\n\
               return [t, 'PERIAPICAL_RADIOLUCENCY']; }\n\
             return [];",
            json!([]),
        )
        .await,
    )
    .unwrap();
    assert_eq!(added.len(), 2, "a tooth to add a finding on");
    s.type_into("#add-note", "seen on the radiograph").await;
    s.click("#add-finding").await;
    s.wait_for_text(
        &format!(
            "#findings tr[data-fdi=\"{}\"][data-kind=\"{}\"]",
            added[0], added[1]
        ),
        "dded",
        Duration::from_secs(10),
    )
    .await;
    s.click("#tab-audit").await;
    let trail = s
        .wait_for_text("#audit", "Dr Eve Example", Duration::from_secs(10))
        .await;
    assert!(trail.contains(&format!("tooth {}", added[0])), "{trail}");
    s.screenshot(&screenshots, "audit").await;

    s.click("#new-patient").await;
    s.type_into("#patient-search", "Erin Example").await;
    s.type_into("#external-id", "EXT-42").await;
    s.click("#approve").await;
    // Filing asks once more, naming the patient.
    let asked = s
        .wait_for_text("#confirm-dialog", "Erin Example", Duration::from_secs(10))
        .await;
    assert!(asked.contains("EXT-42"), "{asked}");
    s.click("#confirm-ok").await;
    let status = s
        .wait_for_text("#decision-status", "filed in", Duration::from_secs(30))
        .await;
    assert!(status.contains("Erin Example"), "{status}");
    // Once approved, the patient report can be opened to print or saved.
    let shown = s
        .execute(
            "const e = document.querySelector('#report-actions'); return !!e && !e.hidden && e.offsetParent !== null;",
            json!([]),
        )
        .await;
    assert_eq!(shown, json!(true), "the report buttons are shown");
    // Sent to the PACS from the window: Orthanc holds the annotated radiograph and the
    // report, for the patient just approved, in one study.
    s.click("#send-pacs").await;
    let sent = s
        .wait_for_text(
            "#decision-status",
            "Sent to the PACS",
            Duration::from_secs(60),
        )
        .await;
    assert!(sent.contains("dicomweb and c-store"), "{sent}");
    let studies = pacs.get_json("/studies?expand");
    let studies = studies.as_array().unwrap();
    assert_eq!(studies.len(), 1);
    assert_eq!(
        studies[0]["PatientMainDicomTags"]["PatientName"],
        "Example^Erin"
    );
    assert_eq!(studies[0]["PatientMainDicomTags"]["PatientID"], "EXT-42");
    let mut classes: Vec<String> = pacs
        .get_json("/instances?expand")
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let id = i["ID"].as_str().unwrap();
            pacs.get_json(&format!("/instances/{id}/simplified-tags"))["SOPClassUID"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    classes.sort();
    assert_eq!(
        classes,
        ["1.2.840.10008.5.1.4.1.1.104.1", "1.2.840.10008.5.1.4.1.1.7"]
    );
    // The confirmation's backdrop fades out after the status is written: a screenshot taken
    // at once caught the window still dimmed, with the audit trail not yet redrawn.
    tokio::time::sleep(Duration::from_millis(800)).await;
    s.screenshot(&screenshots, "approved").await;

    s.click("#nav-history").await;
    s.wait_for_text("#history tbody", "pan-01432.jpg", Duration::from_secs(10))
        .await;
    // DICOM in: a panoramic study a modality left on the PACS, found and analysed from the
    // History view.
    let px = dir.path().join("px.dcm");
    pano_testkit::identified_dicom(&px, &pano_testkit::FAKE_PATIENT);
    pacs.upload(&std::fs::read(&px).unwrap());
    s.type_into("#pacs-patient", pano_testkit::FAKE_PATIENT.id)
        .await;
    s.click("#pacs-form button[type=submit]").await;
    let found = s
        .wait_for_text(
            "#pacs-studies tbody",
            "Zyxwvut Qorbelline",
            Duration::from_secs(20),
        )
        .await;
    assert!(found.contains("2026-11-30"), "{found}");
    s.click("#pacs-studies tbody button").await;
    s.wait_for_text(
        "#pacs-status",
        "added to the queue",
        Duration::from_secs(30),
    )
    .await;
    s.screenshot(&screenshots, "history").await;
    s.click("#nav-settings").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    s.screenshot(&screenshots, "settings").await;
    let in_use = s.text("#runtime-info").await;
    if let Some(app) = &installed {
        // The installed app runs on what it was installed with: <prefix>/lib/Pano on Linux.
        let resources = Path::new(app)
            .parent()
            .unwrap()
            .join("../lib/Pano")
            .canonicalize()
            .expect("the package's resource folder");
        let resources = resources.display();
        assert!(
            in_use.contains(&format!("models {resources}/models"))
                && in_use.contains(&format!(
                    "ONNX Runtime {resources}/onnxruntime/libonnxruntime"
                )),
            "{in_use}"
        );
    } else {
        assert!(
            in_use.contains("models/test") && in_use.contains("libonnxruntime"),
            "{in_use}"
        );
    }
    s.call(reqwest::Method::DELETE, "", None).await;

    // What the clinic keeps: the approval in SQLite, the set in the archive.
    let db = rusqlite::Connection::open(data.join("pano.sqlite")).unwrap();
    let (status, approver, patient, name): (String, String, String, String) = db
        .query_row(
            "SELECT a.status, a.approved_by, a.patient_id, p.display_name FROM analyses a JOIN patients p ON p.id = a.patient_id",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(
        (status.as_str(), approver.as_str(), name.as_str()),
        ("approved", "Dr Eve Example", "Erin Example")
    );
    // The approved analysis's findings only: the PACS study queued above may or may not
    // have been analysed by the time the window closed.
    let findings: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM findings f JOIN analyses a ON a.id = f.analysis_id WHERE a.status = 'approved'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(findings, 256);
    let patient_dir = archive.join("patients").join(&patient);
    let set = std::fs::read_dir(&patient_dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    for file in [
        "input.jpg",
        "findings.csv",
        "reviewed.csv",
        "analysis.json",
        "report.pdf",
        "debug/semantic-segmentation.jpg",
        "debug/instance-detection.jpg",
    ] {
        assert!(set.join(file).is_file(), "{file} in {}", set.display());
    }
    assert_eq!(
        std::fs::read(set.join("input.jpg")).unwrap(),
        std::fs::read(&sample).unwrap()
    );

    // The reviewed result beside the AI's: the three decisions, every other row the AI's.
    let reviewed = std::fs::read_to_string(set.join("reviewed.csv")).unwrap();
    let source_of = |fdi: &str, kind: &str| -> String {
        reviewed
            .lines()
            .find(|l| l.contains(&format!(",{fdi},{kind},")))
            .unwrap_or_else(|| panic!("{fdi} {kind} in reviewed.csv"))
            .rsplit(',')
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(source_of(&confirmed.0, &confirmed.1), "confirmed");
    assert_eq!(source_of(&rejected.0, &rejected.1), "rejected");
    assert_eq!(source_of(&added[0], &added[1]), "added");
    assert_eq!(reviewed.lines().filter(|l| l.ends_with(",ai")).count(), 253);
    // The audit: one row per decision, by the clinician, with before and after.
    let decisions: Vec<(String, String)> = db
        .prepare("SELECT actor, detail FROM audit_log WHERE action = 'reviewed' ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(decisions.len(), 3, "{decisions:?}");
    assert!(decisions.iter().all(|(actor, _)| actor == "Dr Eve Example"));
    let details: Vec<Value> = decisions
        .iter()
        .map(|(_, d)| serde_json::from_str(d).unwrap())
        .collect();
    assert_eq!(details[0]["after"], "confirmed");
    assert_eq!(details[1]["after"], "rejected");
    assert_eq!(details[2]["after"], "added");
    assert_eq!(details[2]["note"], "seen on the radiograph");
    assert!(details.iter().all(|d| d["before"] == "ai"));
    let filed: Value =
        serde_json::from_slice(&std::fs::read(set.join("analysis.json")).unwrap()).unwrap();
    assert_eq!(
        filed["decisions"].as_array().map(Vec::len),
        Some(3),
        "{filed}"
    );
    assert!(filed["thresholds"].is_object(), "{filed}");
}
