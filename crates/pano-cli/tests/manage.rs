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
