//! The clinician's review in the store: decisions per finding with their audit rows, only
//! while the analysis awaits approval; patients with birth dates; suggestions from earlier
//! approvals and DICOM headers; names in the history.

use pano_core::{Assessment, Decision, DecisionUpdate, Fdi, FindingKind, Thresholds, NUM_TEETH};
use pano_store::{
    ArtefactKind, BackendKind, CompletedAnalysis, DicomPatientTags, HistoryFilter, NewAnalysis,
    NewPatient, Store, StoreError,
};

fn new_analysis(id: &str, sha: &str) -> NewAnalysis {
    NewAnalysis {
        id: id.into(),
        job_id: format!("job-{id}"),
        image_sha256: sha.into(),
        input_bytes: 10,
        original_file_name: format!("{id}.dcm"),
        input_extension: "dcm".into(),
        width: 2000,
        height: 1000,
        backend: BackendKind::Local,
        requested_backend: "local".into(),
        model_version: "m1".into(),
        actor: "tester".into(),
        dicom_patient: None,
    }
}

fn completed() -> CompletedAnalysis {
    CompletedAnalysis {
        backend: BackendKind::Local,
        endpoint: None,
        model_version: "m1".into(),
        execution_provider: None,
        queue_ms: None,
        run_ms: 10,
        test_model: true,
        assessment: Assessment::from_scores("x", [[0.25; NUM_TEETH]; 8]).unwrap(),
        artefacts: vec![(ArtefactKind::Csv, "cc".into(), 3)],
    }
}

fn completed_store(dir: &std::path::Path, id: &str, sha: &str) -> Store {
    let mut store = Store::open(&dir.join("db")).unwrap();
    store.insert_analysis(&new_analysis(id, sha)).unwrap();
    assert!(store
        .complete_analysis(id, &format!("job-{id}"), &completed())
        .unwrap());
    store
}

fn tooth(n: u32) -> Fdi {
    Fdi::new(n).unwrap()
}

fn reviewed_details(store: &Store, id: &str) -> Vec<serde_json::Value> {
    store
        .audit_of(id)
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "reviewed")
        .map(|e| serde_json::from_str(e.detail.as_deref().unwrap()).unwrap())
        .collect()
}

#[test]
fn decisions_round_trip_and_every_change_is_audited_with_before_and_after() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = completed_store(dir.path(), "a1", "s1");
    let set = |d| DecisionUpdate::Set(d);
    let after = store
        .decide_finding(
            "a1",
            tooth(16),
            FindingKind::Caries,
            set(Decision::Confirmed),
            Some("distal"),
            "Dr Bell",
        )
        .unwrap();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].fdi, 16);
    assert_eq!(after[0].finding, FindingKind::Caries);
    assert_eq!(after[0].decision, Decision::Confirmed);
    assert_eq!(after[0].note.as_deref(), Some("distal"));
    assert_eq!(after[0].decided_by, "Dr Bell");
    let json = serde_json::to_value(&after[0]).unwrap();
    assert_eq!(json["fdi"], 16, "a number, as the contract says");
    assert_eq!(json["finding"], "CARIES");
    assert_eq!(json["decision"], "confirmed");

    store
        .decide_finding(
            "a1",
            tooth(16),
            FindingKind::Caries,
            set(Decision::Rejected),
            None,
            "Dr Bell",
        )
        .unwrap();
    store
        .decide_finding(
            "a1",
            tooth(48),
            FindingKind::PeriapicalRadiolucency,
            set(Decision::Added),
            None,
            "Dr Chen",
        )
        .unwrap();
    // The same decision again is no change: no second audit row.
    store
        .decide_finding(
            "a1",
            tooth(48),
            FindingKind::PeriapicalRadiolucency,
            set(Decision::Added),
            None,
            "Dr Chen",
        )
        .unwrap();
    let now = store
        .decide_finding(
            "a1",
            tooth(16),
            FindingKind::Caries,
            DecisionUpdate::Clear,
            Some("ignored"),
            "Dr Bell",
        )
        .unwrap();
    assert_eq!(now.len(), 1);
    assert_eq!(now[0].fdi, 48);
    assert_eq!(store.decisions_of("a1").unwrap(), now);

    let details = reviewed_details(&store, "a1");
    let pairs: Vec<(String, String)> = details
        .iter()
        .map(|d| {
            (
                d["before"].as_str().unwrap().to_string(),
                d["after"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        pairs,
        [
            ("ai", "confirmed"),
            ("confirmed", "rejected"),
            ("ai", "added"),
            ("rejected", "ai")
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    assert_eq!(details[0]["fdi"], 16);
    assert_eq!(details[0]["finding"], "CARIES");
    assert_eq!(details[0]["note"], "distal");
    assert!(
        details[3]["note"].is_null(),
        "a cleared decision has no note"
    );
    let actors: Vec<String> = store
        .audit_of("a1")
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "reviewed")
        .map(|e| e.actor)
        .collect();
    assert_eq!(actors, ["Dr Bell", "Dr Bell", "Dr Chen", "Dr Bell"]);
}

#[test]
fn decisions_are_refused_once_approved_or_rejected_and_rejection_removes_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = completed_store(dir.path(), "a1", "s1");
    store.insert_analysis(&new_analysis("a2", "s2")).unwrap();
    let decide = |store: &mut Store, id: &str| {
        store.decide_finding(
            id,
            tooth(21),
            FindingKind::Filling,
            DecisionUpdate::Set(Decision::Confirmed),
            None,
            "Dr Bell",
        )
    };
    match decide(&mut store, "a2") {
        Err(e @ StoreError::NotReviewable { .. }) => {
            assert_eq!(e.code(), "analysis_not_reviewable")
        }
        other => panic!("a queued analysis was reviewed: {other:?}"),
    }
    assert!(matches!(
        decide(&mut store, "nope"),
        Err(StoreError::NoSuchAnalysis(_))
    ));

    decide(&mut store, "a1").unwrap();
    store
        .insert_patient(&NewPatient {
            id: "p1".into(),
            display_name: "Ada Lovelace".into(),
            external_id: None,
            birth_date: Some("1815-12-10".into()),
        })
        .unwrap();
    let mut thresholds = Thresholds::default();
    thresholds.set(FindingKind::Caries, 0.3).unwrap();
    assert!(store
        .mark_approved("a1", "p1", "Dr Bell", &thresholds, "arch-1")
        .unwrap());
    assert!(matches!(
        decide(&mut store, "a1"),
        Err(StoreError::NotReviewable { ref status }) if status == "approved"
    ));
    assert_eq!(
        store.decisions_of("a1").unwrap().len(),
        1,
        "kept as approved"
    );
    let row = store.analysis("a1").unwrap();
    assert_eq!(row.approved_thresholds, Some(thresholds));
    assert_eq!(row.patient_name.as_deref(), Some("Ada Lovelace"));

    store
        .complete_analysis("a2", "job-a2", &completed())
        .unwrap();
    decide(&mut store, "a2").unwrap();
    let (changed, _) = store.mark_rejected("a2", "Dr Bell", None).unwrap();
    assert!(changed);
    assert!(store.decisions_of("a2").unwrap().is_empty());
    assert!(matches!(
        decide(&mut store, "a2"),
        Err(StoreError::NotReviewable { .. })
    ));
    assert_eq!(
        reviewed_details(&store, "a2").len(),
        1,
        "the audit rows of a rejected analysis stay"
    );
}

#[test]
fn patients_have_birth_dates_and_history_rows_name_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = completed_store(dir.path(), "a1", "same-bytes");
    let ada = store
        .insert_patient(&NewPatient {
            id: "p1".into(),
            display_name: "Ada Lovelace".into(),
            external_id: Some("EXT-7".into()),
            birth_date: Some("1815-12-10".into()),
        })
        .unwrap();
    assert_eq!(store.patient("p1").unwrap(), ada);
    assert_eq!(
        store.search_patients("ada", 5).unwrap()[0]
            .birth_date
            .as_deref(),
        Some("1815-12-10")
    );
    assert!(store
        .patient_approved_for_image("same-bytes", "a2")
        .unwrap()
        .is_none());
    store
        .mark_approved("a1", "p1", "Dr Bell", &Thresholds::default(), "arch-1")
        .unwrap();
    // The same bytes again (with other models, so not reused): the earlier patient.
    let mut again = new_analysis("a2", "same-bytes");
    again.model_version = "m2".into();
    again.dicom_patient = Some(DicomPatientTags {
        name: Some("Lovelace Ada".into()),
        id: Some("PID-1".into()),
        birth_date: Some("1815-12-10".into()),
    });
    store.insert_analysis(&again).unwrap();
    assert_eq!(
        store
            .patient_approved_for_image("same-bytes", "a2")
            .unwrap(),
        Some(ada.clone())
    );
    assert!(
        store
            .patient_approved_for_image("same-bytes", "a1")
            .unwrap()
            .is_none(),
        "an analysis is no suggestion for itself"
    );
    assert_eq!(
        store.dicom_patient_of("a2").unwrap().unwrap().id.as_deref(),
        Some("PID-1")
    );
    assert_eq!(store.dicom_patient_of("a1").unwrap(), None);

    let rows = store.history(&HistoryFilter::default()).unwrap();
    let names: Vec<(&str, Option<&str>)> = rows
        .iter()
        .map(|r| (r.id.as_str(), r.patient_name.as_deref()))
        .collect();
    assert_eq!(names, [("a2", None), ("a1", Some("Ada Lovelace"))]);
    let by_patient = store
        .history(&HistoryFilter {
            patient_id: Some("p1".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(by_patient.len(), 1);
    assert_eq!(by_patient[0].patient_name.as_deref(), Some("Ada Lovelace"));
}
