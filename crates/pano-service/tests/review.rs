//! The clinician's review through the service, on real analyses, a real SQLite file and a
//! real folder archive: decisions with their audit rows, the patient suggested from a DICOM
//! header, birth dates, approval with thresholds filing reviewed.csv and analysis.json, and
//! no decision once an analysis is approved or rejected.

use std::path::{Path, PathBuf};

use pano_core::{Decision, DecisionUpdate, Fdi, FindingKind, Thresholds};
use pano_service::{
    AnalysisService, AnalysisStatus, ArchiveSettings, BackendChoice, ExportFormat, HistoryFilter,
    PatientChoice, RetrySettings, RunMode, Secrets, Settings, SuggestionSource, MAX_NOTE_CHARS,
};
use pano_testkit::{identified_dicom, test_models, FAKE_PATIENT};

/// A file name that names the patient, as clinics' exports often do.
const DICOM_NAME: &str = "Zyxwvut_Qorbelline_1980-01-01.dcm";

fn service(dir: &Path, archive: Option<&Path>) -> AnalysisService {
    let settings = Settings {
        backend: BackendChoice::Local,
        data_dir: Some(dir.join("data")),
        models_dir: Some(test_models()),
        archive: match archive {
            Some(p) => ArchiveSettings::Folder {
                path: p.to_path_buf(),
            },
            None => ArchiveSettings::None,
        },
        retry: RetrySettings {
            base_s: 0.2,
            cap_s: 1.0,
        },
        operator: Some("test-operator".into()),
        ..Settings::default()
    };
    AnalysisService::open(settings, Secrets::default()).unwrap()
}

fn small_png(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::copy(
        pano_testkit::repo_root().join("tests/data/pan-small-square.png"),
        &path,
    )
    .unwrap();
    path
}

fn tooth(n: u32) -> Fdi {
    Fdi::new(n).unwrap()
}

fn set(decision: Decision) -> DecisionUpdate {
    DecisionUpdate::Set(decision)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reviewed_dicom_is_suggested_from_its_header_and_filed_with_its_decisions() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    std::fs::create_dir(&archive).unwrap();
    let service = service(dir.path(), Some(&archive));
    let input = dir.path().join(DICOM_NAME);
    identified_dicom(&input, &FAKE_PATIENT);
    let id = service.enqueue(&input, None).unwrap().analysis.id;
    service.run(RunMode::UntilIdle).await.unwrap();

    let detail = service.open_analysis(&id, "Dr Bell").unwrap();
    assert_eq!(detail.analysis.status, AnalysisStatus::Completed);
    let suggested = detail
        .suggested_patient
        .expect("the header names a patient");
    assert_eq!(suggested.display_name, "Zyxwvut Qorbelline");
    assert_eq!(suggested.external_id.as_deref(), Some("PID-4711-XY"));
    assert_eq!(suggested.birth_date.as_deref(), Some("1980-01-01"));
    assert_eq!(suggested.existing_patient_id, None);
    assert_eq!(suggested.source, SuggestionSource::Dicom);
    assert!(detail.decisions.is_empty());

    // Requests that say too little or too much are refused with a code.
    let refused = service
        .decide_finding(
            &id,
            tooth(16),
            FindingKind::Caries,
            set(Decision::Confirmed),
            None,
            "  ",
        )
        .unwrap_err();
    assert_eq!(refused.code(), "invalid_review");
    let long_note = "n".repeat(MAX_NOTE_CHARS + 1);
    let refused = service
        .decide_finding(
            &id,
            tooth(16),
            FindingKind::Caries,
            set(Decision::Confirmed),
            Some(&long_note),
            "Dr Bell",
        )
        .unwrap_err();
    assert_eq!(refused.code(), "invalid_review");

    service
        .decide_finding(
            &id,
            tooth(16),
            FindingKind::Caries,
            set(Decision::Confirmed),
            Some("distal"),
            "Dr Bell",
        )
        .unwrap();
    service
        .decide_finding(
            &id,
            tooth(21),
            FindingKind::Filling,
            set(Decision::Rejected),
            None,
            "Dr Bell",
        )
        .unwrap();
    service
        .decide_finding(
            &id,
            tooth(46),
            FindingKind::PeriapicalRadiolucency,
            set(Decision::Added),
            None,
            "Dr Bell",
        )
        .unwrap();
    service
        .decide_finding(
            &id,
            tooth(11),
            FindingKind::Missing,
            set(Decision::Rejected),
            None,
            "Dr Bell",
        )
        .unwrap();
    let decisions = service
        .decide_finding(
            &id,
            tooth(11),
            FindingKind::Missing,
            DecisionUpdate::Clear,
            None,
            "Dr Bell",
        )
        .unwrap();
    assert_eq!(decisions.len(), 3);
    let detail = service.open_analysis(&id, "Dr Bell").unwrap();
    assert_eq!(detail.decisions, decisions);
    let reviewed: Vec<serde_json::Value> = detail
        .audit
        .iter()
        .filter(|a| a.action == "reviewed")
        .map(|a| serde_json::from_str(a.detail.as_deref().unwrap()).unwrap())
        .collect();
    assert_eq!(reviewed.len(), 5);
    assert_eq!(reviewed[0]["before"], "ai");
    assert_eq!(reviewed[0]["after"], "confirmed");
    assert_eq!(reviewed[4]["before"], "rejected");
    assert_eq!(reviewed[4]["after"], "ai");

    // The JSON export carries the decisions and the audit trail; the reviewed CSV the sources.
    let export: serde_json::Value =
        serde_json::from_slice(&service.export(&id, ExportFormat::Json, "Dr Bell").unwrap())
            .unwrap();
    assert_eq!(export["decisions"].as_array().unwrap().len(), 3);
    assert!(export["audit"].as_array().unwrap().len() >= 6);
    let exported = String::from_utf8(
        service
            .export(&id, ExportFormat::ReviewedCsv, "Dr Bell")
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        pano_core::parse_reviewed_csv(&exported)
            .unwrap()
            .decisions
            .len(),
        3
    );

    // A birth date that is not one is refused, and nothing is approved.
    let bad = service
        .approve(
            &id,
            PatientChoice::New {
                display_name: suggested.display_name.clone(),
                external_id: suggested.external_id.clone(),
                birth_date: Some("1980-02-30".into()),
            },
            "Dr Bell",
            Thresholds::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(bad.code(), "invalid_birth_date");
    assert_eq!(
        service.analysis(&id).unwrap().status,
        AnalysisStatus::Completed
    );

    let mut thresholds = Thresholds::default();
    thresholds.set(FindingKind::Caries, 0.3).unwrap();
    let outcome = service
        .approve(
            &id,
            PatientChoice::New {
                display_name: suggested.display_name.clone(),
                external_id: suggested.external_id.clone(),
                birth_date: suggested.birth_date.clone(),
            },
            "Dr Bell",
            thresholds,
        )
        .await
        .unwrap();
    assert_eq!(outcome.patient.birth_date.as_deref(), Some("1980-01-01"));
    let set_dir = PathBuf::from(outcome.archived_location.expect("filed at once"));

    // reviewed.csv: the 256 rows of findings.csv, same order and names, plus the sources.
    let findings = std::fs::read_to_string(set_dir.join("findings.csv")).unwrap();
    let reviewed_text = std::fs::read_to_string(set_dir.join("reviewed.csv")).unwrap();
    let rows: Vec<&str> = reviewed_text.lines().collect();
    assert_eq!(rows.len(), 257);
    assert_eq!(rows[0], "file_name,fdi,finding,score,source");
    let mut counts = std::collections::BTreeMap::new();
    for (row, plain) in rows[1..].iter().zip(findings.lines().skip(1)) {
        let (start, source) = row.rsplit_once(',').unwrap();
        assert_eq!(start, plain);
        *counts.entry(source).or_insert(0) += 1;
    }
    assert_eq!(counts["ai"], 253);
    assert_eq!(
        (counts["confirmed"], counts["rejected"], counts["added"]),
        (1, 1, 1)
    );
    assert!(rows[1].starts_with(&format!("{id},11,MISSING,")));
    let filed = pano_core::parse_reviewed_csv(&reviewed_text).unwrap();
    assert_eq!(
        filed.decision(tooth(46), FindingKind::PeriapicalRadiolucency),
        Some(Decision::Added)
    );

    // analysis.json: thresholds, reviewer, decisions, audit; nothing that names the patient.
    let json_text = std::fs::read_to_string(set_dir.join("analysis.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&json_text).unwrap();
    assert_eq!(json["thresholds"]["CARIES"], 0.3f32 as f64);
    assert_eq!(json["thresholds"]["FILLING"], 0.5);
    assert_eq!(json["reviewed_by"], "Dr Bell");
    assert_eq!(json["decisions"].as_array().unwrap().len(), 3);
    // In the CSV's order: by finding (FILLING before CARIES), then tooth.
    assert_eq!(json["decisions"][0]["fdi"], 21);
    assert_eq!(json["decisions"][1]["finding"], "CARIES");
    let audit = json["audit"].as_array().unwrap();
    let actions: Vec<&str> = audit
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions.iter().filter(|a| **a == "reviewed").count(), 5);
    assert!(actions.contains(&"approved"));
    for text in [&json_text, &reviewed_text] {
        for name in [
            "Zyxwvut",
            "Qorbelline",
            "PID-4711-XY",
            "1980-01-01",
            "19800101",
        ] {
            assert!(!text.contains(name), "{name} was filed: {text}");
        }
    }

    // Approved: no more decisions; the patient and name show in the detail and history.
    let late = service
        .decide_finding(
            &id,
            tooth(16),
            FindingKind::Caries,
            DecisionUpdate::Clear,
            None,
            "Dr Bell",
        )
        .unwrap_err();
    assert_eq!(late.code(), "analysis_not_reviewable");
    let detail = service.open_analysis(&id, "Dr Bell").unwrap();
    assert_eq!(
        detail.patient.unwrap().birth_date.as_deref(),
        Some("1980-01-01")
    );
    assert_eq!(detail.suggested_patient, None);
    assert_eq!(detail.analysis.approved_thresholds, Some(thresholds));
    let history = service.history(&HistoryFilter::default()).unwrap();
    assert_eq!(
        history[0].patient_name.as_deref(),
        Some("Zyxwvut Qorbelline")
    );
    // Approving again is harmless, whatever thresholds come along.
    let again = service
        .approve(
            &id,
            PatientChoice::Existing(outcome.patient.id.clone()),
            "Dr Bell",
            Thresholds::default(),
        )
        .await
        .unwrap();
    assert!(again.already_approved);
    assert_eq!(
        service.analysis(&id).unwrap().approved_thresholds,
        Some(thresholds)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejection_discards_decisions_but_not_their_audit_rows() {
    let dir = tempfile::tempdir().unwrap();
    let service = service(dir.path(), None);
    let id = service
        .enqueue(&small_png(dir.path(), "square.png"), None)
        .unwrap()
        .analysis
        .id;
    let early = service
        .decide_finding(
            &id,
            tooth(16),
            FindingKind::Caries,
            set(Decision::Added),
            None,
            "Dr Bell",
        )
        .unwrap_err();
    assert_eq!(early.code(), "analysis_not_reviewable", "queued");
    service.run(RunMode::UntilIdle).await.unwrap();
    let detail = service.open_analysis(&id, "Dr Bell").unwrap();
    assert_eq!(detail.suggested_patient, None, "a PNG names no one");
    service
        .decide_finding(
            &id,
            tooth(16),
            FindingKind::Caries,
            set(Decision::Added),
            None,
            "Dr Bell",
        )
        .unwrap();
    service.reject(&id, "Dr Bell").await.unwrap();
    let detail = service.open_analysis(&id, "Dr Bell").unwrap();
    assert!(detail.decisions.is_empty());
    assert_eq!(
        detail
            .audit
            .iter()
            .filter(|a| a.action == "reviewed")
            .count(),
        1
    );
    assert_eq!(service.audit_trail(&id).unwrap(), detail.audit);
    let late = service
        .decide_finding(
            &id,
            tooth(16),
            FindingKind::Caries,
            DecisionUpdate::Clear,
            None,
            "Dr Bell",
        )
        .unwrap_err();
    assert_eq!(late.code(), "analysis_not_reviewable");
}

#[test]
fn patients_get_checked_birth_dates() {
    let dir = tempfile::tempdir().unwrap();
    let service = service(dir.path(), None);
    let ada = service
        .create_patient("Ada Lovelace", Some("EXT-7"), Some("1815-12-10"))
        .unwrap_err();
    assert_eq!(ada.code(), "invalid_birth_date", "before 1900");
    let grace = service
        .create_patient("Grace Hopper", None, Some(" 1906-12-09 "))
        .unwrap();
    assert_eq!(grace.birth_date.as_deref(), Some("1906-12-09"));
    assert_eq!(
        service.search_patients("grace", 5).unwrap()[0]
            .birth_date
            .as_deref(),
        Some("1906-12-09")
    );
    let unknown = service
        .create_patient("Alan Turing", None, Some(""))
        .unwrap();
    assert_eq!(unknown.birth_date, None, "empty means not given");
    for bad in ["2999-01-01", "1912-06-31", "23.06.1912"] {
        assert_eq!(
            service
                .create_patient("Alan Turing", None, Some(bad))
                .unwrap_err()
                .code(),
            "invalid_birth_date",
            "{bad}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_patient_a_practice_system_launched_pano_for_is_suggested_first() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    std::fs::create_dir(&archive).unwrap();
    let service = service(dir.path(), Some(&archive));
    // The image's DICOM header names someone else; the practice system's word comes first.
    let input = dir.path().join(DICOM_NAME);
    identified_dicom(&input, &FAKE_PATIENT);
    let id = service.enqueue(&input, None).unwrap().analysis.id;
    let launch = pano_service::parse_launch(&[
        "--patient-id".to_string(),
        "OD-1234".to_string(),
        "--first".to_string(),
        "Grace".to_string(),
        "--last".to_string(),
        "Hopper".to_string(),
        "--birthdate".to_string(),
        "19061209".to_string(),
    ])
    .unwrap();
    let pms = launch.patient.unwrap();
    assert!(service.attach_pms_patient(&id, &pms).unwrap());
    service.run(RunMode::UntilIdle).await.unwrap();
    let s = service
        .open_analysis(&id, "Dr Bell")
        .unwrap()
        .suggested_patient
        .unwrap();
    assert_eq!(s.source, SuggestionSource::PracticeSystem);
    assert_eq!(s.display_name, "Grace Hopper");
    assert_eq!(s.external_id.as_deref(), Some("OD-1234"));
    assert_eq!(s.birth_date.as_deref(), Some("1906-12-09"));
    assert_eq!(s.existing_patient_id, None);

    // A patient already kept under that number is the one suggested.
    let known = service
        .create_patient("Grace B. Hopper", Some("OD-1234"), Some("1906-12-09"))
        .unwrap();
    let s = service
        .open_analysis(&id, "Dr Bell")
        .unwrap()
        .suggested_patient
        .unwrap();
    assert_eq!(s.existing_patient_id.as_deref(), Some(known.id.as_str()));
    // Offered as stored: the name the approval will file under, not the one sent.
    assert_eq!(s.display_name, "Grace B. Hopper");

    service
        .approve(
            &id,
            PatientChoice::Existing(known.id.clone()),
            "Dr Bell",
            Thresholds::default(),
        )
        .await
        .unwrap();
    // Decided: a later launch does not change what it was filed under.
    assert!(!service.attach_pms_patient(&id, &pms).unwrap());
}
