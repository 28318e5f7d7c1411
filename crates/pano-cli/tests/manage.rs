//! The subcommands around an analysis, as a user types them: analyse, approve for a new
//! patient into a folder archive, history, patients, export, and the refusals.

use std::path::Path;
use std::process::{Command, Output};

fn pano(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pano"))
        .args(args)
        .env("PANO_DATA_DIR", data)
        .env("PANO_SETTINGS", data.join("settings.toml"))
        .env("PANO_MODELS", pano_testkit::test_models())
        .env_remove("PANO_USER")
        .output()
        .unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn analyse_approve_find_and_export_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let archive = dir.path().join("archive");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::create_dir_all(&archive).unwrap();
    std::fs::write(
        data.join("settings.toml"),
        format!(
            "backend = \"local\"\n[archive]\nkind = \"folder\"\npath = {:?}\n",
            archive.to_str().unwrap()
        ),
    )
    .unwrap();
    let image = pano_testkit::repo_root().join("tests/data/pan-small-wide.png");
    let out = dir.path().join("out");
    let line = ok(&pano(
        &data,
        &[
            "analyze",
            image.to_str().unwrap(),
            "--json",
            "--out",
            out.to_str().unwrap(),
        ],
    ));
    let json: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
    let id = json["analysis_id"].as_str().unwrap().to_string();
    assert_eq!(json["status"], "completed");

    // No report before a clinician approves: nothing names a patient yet.
    let early = pano(
        &data,
        &[
            "report",
            &id,
            "--out",
            dir.path().join("early.pdf").to_str().unwrap(),
        ],
    );
    assert_eq!(early.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&early.stderr).contains("[report_needs_approval]"),
        "{}",
        String::from_utf8_lossy(&early.stderr)
    );
    assert!(!dir.path().join("early.pdf").exists());

    let refused = pano(&data, &["approve", &id, "--new-patient", "Ada Lovelace"]);
    assert!(
        !refused.status.success(),
        "approval needs the clinician (--by)"
    );

    let approved = ok(&pano(
        &data,
        &[
            "approve",
            &id,
            "--new-patient",
            "Ada Lovelace",
            "--external-id",
            "EXT-9",
            "--by",
            "Dr Bell",
        ],
    ));
    assert!(approved.contains("approved for patient"), "{approved}");
    assert!(
        approved.contains(&format!("filed in {}", archive.join("patients").display())),
        "{approved}"
    );

    let patients = ok(&pano(&data, &["patients", "ada", "--json"]));
    let patients: serde_json::Value = serde_json::from_str(&patients).unwrap();
    let patient = patients[0]["id"].as_str().unwrap().to_string();
    assert_eq!(patients[0]["external_id"], "EXT-9");

    let history = ok(&pano(&data, &["history", "--patient", &patient, "--json"]));
    let history: serde_json::Value = serde_json::from_str(&history).unwrap();
    assert_eq!(history.as_array().unwrap().len(), 1);
    assert_eq!(history[0]["status"], "approved");
    assert_eq!(history[0]["approved_by"], "Dr Bell");
    let none = ok(&pano(&data, &["history", "--since", "2999-01-01"]));
    assert!(none.trim().is_empty(), "{none}");

    let csv = ok(&pano(&data, &["export", &id]));
    assert!(csv.starts_with("file_name,fdi,finding,score\npan-small-wide,11,"));
    assert_eq!(csv.lines().count(), 257);
    let exported = dir.path().join("export.json");
    ok(&pano(
        &data,
        &[
            "export",
            &id,
            "--format",
            "json",
            "--out",
            exported.to_str().unwrap(),
        ],
    ));
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&exported).unwrap()).unwrap();
    assert_eq!(doc["findings"].as_array().unwrap().len(), 256);
    assert!(doc["notice"]
        .as_str()
        .unwrap()
        .contains("not for diagnosis"));

    let reject = pano(&data, &["reject", &id, "--by", "Dr Bell"]);
    assert_eq!(reject.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&reject.stderr);
    assert!(
        stderr.contains("the analysis is approved: it cannot be rejected [cannot_reject]"),
        "{stderr}"
    );
    assert!(ok(&pano(&data, &["queue"])).contains("the queue is empty"));

    let unknown = pano(&data, &["export", "no-such-id"]);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no analysis with id no-such-id"));
}

#[test]
fn review_then_approve_with_thresholds_and_a_birth_date_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let archive = dir.path().join("archive");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::create_dir_all(&archive).unwrap();
    std::fs::write(
        data.join("settings.toml"),
        format!(
            "backend = \"local\"\n[archive]\nkind = \"folder\"\npath = {:?}\n",
            archive.to_str().unwrap()
        ),
    )
    .unwrap();
    let image = pano_testkit::repo_root().join("tests/data/pan-small-square.png");
    let line = ok(&pano(
        &data,
        &[
            "analyze",
            image.to_str().unwrap(),
            "--json",
            "--out",
            dir.path().join("out").to_str().unwrap(),
        ],
    ));
    let json: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
    let id = json["analysis_id"].as_str().unwrap().to_string();

    let confirmed = ok(&pano(
        &data,
        &[
            "review",
            &id,
            "--confirm",
            "16:caries",
            "--note",
            "distal",
            "--by",
            "Dr Bell",
        ],
    ));
    assert!(confirmed.contains("16 caries"), "{confirmed}");
    assert!(
        confirmed.contains("confirmed by Dr Bell: distal"),
        "{confirmed}"
    );
    ok(&pano(
        &data,
        &["review", &id, "--reject", "21:FILLING", "--by", "Dr Bell"],
    ));
    let added = ok(&pano(
        &data,
        &[
            "review",
            &id,
            "--add",
            "46:periapical radiolucency",
            "--by",
            "Dr Bell",
            "--json",
        ],
    ));
    let decisions: serde_json::Value = serde_json::from_str(&added).unwrap();
    assert_eq!(decisions.as_array().unwrap().len(), 3);
    for (args, code) in [
        (vec!["--add", "19:caries"], "invalid_review"),
        (vec!["--add", "16:gum"], "invalid_review"),
        (vec!["--add", "16-caries"], "invalid_review"),
    ] {
        let mut all = vec!["review", id.as_str()];
        all.extend(args);
        all.extend(["--by", "Dr Bell"]);
        let refused = pano(&data, &all);
        assert_eq!(refused.status.code(), Some(1));
        assert!(
            String::from_utf8_lossy(&refused.stderr).contains(code),
            "{}",
            String::from_utf8_lossy(&refused.stderr)
        );
    }
    let no_by = pano(&data, &["review", &id, "--clear", "16:caries"]);
    assert!(!no_by.status.success(), "a decision needs the clinician");

    let bad_date = pano(
        &data,
        &[
            "approve",
            &id,
            "--new-patient",
            "Grace Hopper",
            "--birth-date",
            "1906-13-09",
            "--by",
            "Dr Bell",
        ],
    );
    assert!(String::from_utf8_lossy(&bad_date.stderr).contains("[invalid_birth_date]"));
    let bad_threshold = pano(
        &data,
        &[
            "approve",
            &id,
            "--new-patient",
            "Grace Hopper",
            "--threshold",
            "caries=2",
            "--by",
            "Dr Bell",
        ],
    );
    assert!(String::from_utf8_lossy(&bad_threshold.stderr).contains("[invalid_thresholds]"));
    let approved = ok(&pano(
        &data,
        &[
            "approve",
            &id,
            "--new-patient",
            "Grace Hopper",
            "--birth-date",
            "1906-12-09",
            "--threshold",
            "caries=0.25",
            "--threshold",
            "RESIDUAL_ROOT=0.7",
            "--by",
            "Dr Bell",
        ],
    ));
    let set = approved
        .lines()
        .find_map(|l| l.strip_prefix("filed in "))
        .expect("filed at once")
        .to_string();
    let set = Path::new(&set);
    let reviewed = std::fs::read_to_string(set.join("reviewed.csv")).unwrap();
    assert_eq!(reviewed.lines().count(), 257);
    assert!(reviewed.contains(&format!("{id},16,CARIES,")));
    let sources: Vec<&str> = reviewed
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap())
        .filter(|s| *s != "ai")
        .collect();
    assert_eq!(sources, ["rejected", "confirmed", "added"]);
    let filed: serde_json::Value =
        serde_json::from_slice(&std::fs::read(set.join("analysis.json")).unwrap()).unwrap();
    assert_eq!(filed["thresholds"]["CARIES"], 0.25);
    assert_eq!(filed["thresholds"]["RESIDUAL_ROOT"], 0.7f32 as f64);
    assert_eq!(filed["thresholds"]["FILLING"], 0.5);
    assert_eq!(filed["decisions"].as_array().unwrap().len(), 3);
    assert!(filed["audit"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["action"] == "reviewed"));

    // The patient report, as `pano report` writes it: a PDF naming the patient, the
    // clinician's added finding in words, the paper asked for.
    let pdf_path = dir.path().join("Grace Hopper report.pdf");
    let written = ok(&pano(
        &data,
        &[
            "report",
            &id,
            "--out",
            pdf_path.to_str().unwrap(),
            "--paper",
            "Letter",
        ],
    ));
    assert_eq!(written.trim(), pdf_path.to_str().unwrap());
    let pdf = std::fs::read(&pdf_path).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let text = Command::new("pdftotext")
        .arg(&pdf_path)
        .arg("-")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("Grace Hopper") && text.contains("1906-12-09"),
        "{text}"
    );
    assert!(text.contains("Dr Bell"));
    let info = Command::new("pdfinfo").arg(&pdf_path).output().unwrap();
    assert!(String::from_utf8_lossy(&info.stdout).contains("612 x 792 pts"));
    let bad_paper = pano(&data, &["report", &id, "--out", "x.pdf", "--paper", "a5"]);
    assert_eq!(bad_paper.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad_paper.stderr).contains("unknown paper 'a5'"));
    assert!(
        set.join("report.pdf").exists(),
        "filed with the approved set"
    );

    let late = pano(
        &data,
        &["review", &id, "--clear", "16:caries", "--by", "Dr Bell"],
    );
    assert!(String::from_utf8_lossy(&late.stderr).contains("[analysis_not_reviewable]"));
    let history = ok(&pano(&data, &["history"]));
    assert!(history.contains("patient Grace Hopper ("), "{history}");
    let patients = ok(&pano(&data, &["patients", "grace"]));
    assert!(patients.contains("born 1906-12-09"), "{patients}");
    assert!(ok(&pano(&data, &["patients", "nobody"])).contains("no patient matches"));
    let exported = ok(&pano(&data, &["export", &id, "--format", "reviewed-csv"]));
    assert!(exported.starts_with("file_name,fdi,finding,score,source\npan-small-square,11,"));
}

#[test]
fn pacs_sends_an_approved_analysis_and_tests_the_connection() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let archive = dir.path().join("archive");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::create_dir_all(&archive).unwrap();
    let base = format!(
        "backend = \"local\"\n[archive]\nkind = \"folder\"\npath = {:?}\n",
        archive.to_str().unwrap()
    );
    std::fs::write(data.join("settings.toml"), &base).unwrap();
    let unset = pano(&data, &["pacs", "test"]);
    assert_eq!(unset.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unset.stderr).contains("[pacs_not_configured]"));

    let pacs = pano_testkit::OrthancPeer::start();
    std::fs::write(
        data.join("settings.toml"),
        format!(
            "{base}[pacs]\ndicomweb_url = {:?}\nhost = \"127.0.0.1\"\nport = {}\ncalled_ae_title = {:?}\n",
            pacs.dicomweb_url(),
            pacs.dicom_port,
            pano_testkit::ORTHANC_AET
        ),
    )
    .unwrap();
    assert!(ok(&pano(&data, &["pacs", "test"]))
        .contains("The PACS answers: DICOMweb and DICOM (echo)."));
    let image = pano_testkit::repo_root().join("tests/data/pan-small-wide.png");
    let line = ok(&pano(
        &data,
        &[
            "analyze",
            image.to_str().unwrap(),
            "--json",
            "--out",
            dir.path().join("out").to_str().unwrap(),
        ],
    ));
    let json: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
    let id = json["analysis_id"].as_str().unwrap().to_string();
    ok(&pano(
        &data,
        &[
            "approve",
            &id,
            "--new-patient",
            "Grace Hopper",
            "--external-id",
            "OD-77",
            "--by",
            "Dr Bell",
        ],
    ));
    let sent = ok(&pano(&data, &["pacs", "send", &id]));
    assert!(
        sent.contains("sent by dicomweb and c-store to study 2.25."),
        "{sent}"
    );
    assert!(sent.contains("(a new study)"));
    let patients = pacs.get_json("/patients?expand");
    assert_eq!(patients[0]["MainDicomTags"]["PatientID"], "OD-77");
    assert_eq!(pacs.get_json("/instances").as_array().unwrap().len(), 2);

    // DICOM in: a panoramic study on the PACS, found and analysed from the command line.
    let dicom = dir.path().join("px.dcm");
    pano_testkit::identified_dicom(&dicom, &pano_testkit::FAKE_PATIENT);
    pacs.upload(&std::fs::read(&dicom).unwrap());
    let found = ok(&pano(&data, &["pacs", "find", "--patient", "qorbelline"]));
    assert!(found.starts_with(pano_testkit::FAKE_STUDY_UID), "{found}");
    assert!(
        found.contains("2026-11-30  Zyxwvut Qorbelline (id PID-4711-XY)"),
        "{found}"
    );
    let analysed = ok(&pano(
        &data,
        &["pacs", "analyze", pano_testkit::FAKE_STUDY_UID],
    ));
    assert!(analysed.trim().ends_with("completed"), "{analysed}");
    let none = ok(&pano(&data, &["pacs", "find", "--patient", "nobody-here"]));
    assert!(none.contains("no panoramic study matches"));
}
