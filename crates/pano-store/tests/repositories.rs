use pano_core::{Assessment, Thresholds, NUM_TEETH};
use pano_store::{
    AnalysisStatus, ArtefactKind, BackendKind, BlobDir, CompletedAnalysis, HistoryFilter, JobKind,
    JobState, NewAnalysis, NewPatient, Store,
};

fn new_analysis(id: &str, sha: &str) -> NewAnalysis {
    NewAnalysis {
        id: id.into(),
        job_id: format!("job-{id}"),
        image_sha256: sha.into(),
        input_bytes: 10,
        original_file_name: format!("{id}.jpg"),
        input_extension: "jpg".into(),
        width: 2000,
        height: 1000,
        backend: BackendKind::Local,
        requested_backend: "local".into(),
        model_version: "m1".into(),
        actor: "tester".into(),
        dicom_patient: None,
    }
}

fn completed(scores: f32) -> CompletedAnalysis {
    CompletedAnalysis {
        backend: BackendKind::Local,
        endpoint: None,
        model_version: "m1".into(),
        execution_provider: Some("cpu".into()),
        queue_ms: None,
        run_ms: 1234,
        test_model: true,
        assessment: Assessment::from_scores("x", [[scores; NUM_TEETH]; 8]).unwrap(),
        artefacts: vec![(ArtefactKind::Csv, "cc".into(), 3)],
    }
}

#[test]
fn a_result_is_recorded_once_and_reads_back_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("db")).unwrap();
    store.insert_analysis(&new_analysis("a1", "s1")).unwrap();
    assert_eq!(
        store.reusable_analysis("s1", "m1").unwrap().unwrap().id,
        "a1",
        "a queued analysis is reused"
    );
    assert!(store.reusable_analysis("s1", "m2").unwrap().is_none());
    assert!(store
        .complete_analysis("a1", "job-a1", &completed(0.375))
        .unwrap());
    assert!(
        !store
            .complete_analysis("a1", "job-a1", &completed(0.5))
            .unwrap(),
        "a second result for the same analysis is refused"
    );
    let row = store.analysis("a1").unwrap();
    assert_eq!(row.status, AnalysisStatus::Completed);
    assert_eq!(row.run_ms, Some(1234));
    let a = store.assessment("a1", "a1").unwrap().unwrap();
    assert!(a.findings().all(|f| f.score == 0.375));
    assert_eq!(store.job("job-a1").unwrap().unwrap().state, JobState::Done);
    let count: i64 = store
        .connection()
        .query_row("SELECT COUNT(*) FROM findings", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, 256);
}

#[test]
fn only_one_unfinished_job_of_a_kind_per_analysis() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("db")).unwrap();
    store.insert_analysis(&new_analysis("a1", "s1")).unwrap();
    let id = store
        .ensure_job("other", "a1", JobKind::Analyze, Some("local"), None)
        .unwrap();
    assert_eq!(id, "job-a1");
    let direct = store.connection().execute(
        "INSERT INTO jobs (id, analysis_id, kind, state) VALUES ('dup', 'a1', 'analyze', 'queued')",
        [],
    );
    assert!(direct.unwrap_err().to_string().contains("UNIQUE"));
}

#[test]
fn interrupted_jobs_go_back_to_the_queue_and_submitted_ones_are_polled() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("db")).unwrap();
    store.insert_analysis(&new_analysis("a1", "s1")).unwrap();
    store.insert_analysis(&new_analysis("a2", "s2")).unwrap();
    store
        .start_job_attempt("job-a1", JobState::Running)
        .unwrap();
    store
        .set_analysis_running("a1", BackendKind::Local)
        .unwrap();
    store
        .start_job_attempt("job-a2", JobState::Uploading)
        .unwrap();
    store
        .set_job_runpod("job-a2", Some("rp-9"), Some("primary"))
        .unwrap();
    store
        .start_job_attempt("job-a2", JobState::Running)
        .unwrap();
    assert_eq!(store.recover_interrupted_jobs().unwrap(), 2);
    assert_eq!(
        store.job("job-a1").unwrap().unwrap().state,
        JobState::Queued
    );
    let polled = store.job("job-a2").unwrap().unwrap();
    assert_eq!(polled.state, JobState::Submitted);
    assert_eq!(polled.runpod_job_id.as_deref(), Some("rp-9"));
    assert_eq!(store.analysis("a1").unwrap().status, AnalysisStatus::Queued);
    assert_eq!(store.due_jobs(&pano_store::now_rfc3339()).unwrap().len(), 2);
    store
        .set_job_state(
            "job-a1",
            JobState::WaitingStorage,
            Some(&pano_store::in_future(std::time::Duration::from_secs(60))),
            Some("down"),
        )
        .unwrap();
    assert_eq!(store.due_jobs(&pano_store::now_rfc3339()).unwrap().len(), 1);
    assert!(store.next_retry_at().unwrap().is_some());
}

#[test]
fn approval_and_rejection_are_guarded_transitions() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("db")).unwrap();
    store
        .insert_patient(&NewPatient {
            id: "p1".into(),
            display_name: "Ada Lovelace".into(),
            external_id: Some("EXT-7".into()),
            birth_date: Some("1815-12-10".into()),
        })
        .unwrap();
    store.insert_analysis(&new_analysis("a1", "s1")).unwrap();
    assert!(
        !store
            .mark_approved("a1", "p1", "dr-b", &Thresholds::default(), "arch-1")
            .unwrap(),
        "queued cannot be approved"
    );
    store
        .complete_analysis("a1", "job-a1", &completed(0.25))
        .unwrap();
    assert!(store
        .mark_approved("a1", "p1", "dr-b", &Thresholds::default(), "arch-1")
        .unwrap());
    assert!(!store
        .mark_approved("a1", "p1", "dr-b", &Thresholds::default(), "arch-2")
        .unwrap());
    assert_eq!(
        store.active_job("a1", JobKind::Archive).unwrap().as_deref(),
        Some("arch-1")
    );
    let (changed, _) = store.mark_rejected("a1", "dr-b", None).unwrap();
    assert!(!changed, "an approved analysis cannot be rejected");

    store.insert_analysis(&new_analysis("a2", "s2")).unwrap();
    store
        .complete_analysis("a2", "job-a2", &completed(0.25))
        .unwrap();
    let (changed, freed) = store
        .mark_rejected("a2", "dr-b", Some(("disc-1", "{}")))
        .unwrap();
    assert!(changed);
    assert_eq!(
        freed,
        ["s2"],
        "the CSV blob is still a1's, only the input is freed"
    );
    assert!(store.assessment("a2", "a2").unwrap().is_none());
    let actions: Vec<String> = store
        .audit_of("a2")
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions, ["created", "rejected", "deleted"]);
    assert!(
        store.reusable_analysis("s2", "m1").unwrap().is_none(),
        "a rejected result is never reused"
    );

    let found = store.search_patients("ada", 10).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(store.search_patients("EXT-7", 10).unwrap()[0].id, "p1");
    assert!(
        store.search_patients("%", 10).unwrap().is_empty(),
        "LIKE wildcards are literal"
    );
    let by_patient = store
        .history(&HistoryFilter {
            patient_id: Some("p1".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(by_patient.len(), 1);
}

#[test]
fn blobs_are_named_by_hash_and_checked_on_read() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = BlobDir::open(dir.path().join("blobs")).unwrap();
    let sha = blobs.put(b"radiograph").unwrap();
    assert_eq!(sha, BlobDir::sha256(b"radiograph"));
    assert_eq!(blobs.put(b"radiograph").unwrap(), sha);
    assert_eq!(blobs.get(&sha).unwrap(), b"radiograph");
    std::fs::write(blobs.path(&sha), b"tampered").unwrap();
    assert_eq!(blobs.get(&sha).unwrap_err().code(), "store_corrupt");
    blobs.remove(&sha).unwrap();
    blobs.remove(&sha).unwrap();
}

#[test]
fn a_due_job_is_claimed_by_one_caller_only() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("db")).unwrap();
    // Two connections to one file, as the approval and the runner of two processes have.
    let other = Store::open(&dir.path().join("db")).unwrap();
    let mut store = store;
    store.insert_analysis(&new_analysis("a1", "s1")).unwrap();
    assert!(store.claim_job("job-a1", JobState::Running).unwrap());
    assert!(
        !other.claim_job("job-a1", JobState::Running).unwrap(),
        "the second claim of a running job fails"
    );
    assert_eq!(store.job("job-a1").unwrap().unwrap().attempts, 1);
    // Waiting with a retry time in the future: not due, not claimed.
    store
        .set_job_state(
            "job-a1",
            JobState::WaitingStorage,
            Some("2999-01-01T00:00:00Z"),
            None,
        )
        .unwrap();
    assert!(!other.claim_job("job-a1", JobState::Running).unwrap());
    store
        .set_job_state("job-a1", JobState::WaitingStorage, None, None)
        .unwrap();
    assert!(other.claim_job("job-a1", JobState::Running).unwrap());
    store
        .set_job_state("job-a1", JobState::Done, None, None)
        .unwrap();
    assert!(!store.claim_job("job-a1", JobState::Running).unwrap());
}

#[test]
fn temp_uploads_of_finished_jobs_are_listed_for_deletion_and_a_waiting_discard_is_reused() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("db")).unwrap();
    store.insert_analysis(&new_analysis("a1", "s1")).unwrap();
    store
        .set_job_temp_upload("job-a1", Some(r#"{"key":"temp/1.png"}"#))
        .unwrap();
    assert!(
        store.finished_temp_uploads("a1").unwrap().is_empty(),
        "a running job keeps its upload"
    );
    store
        .fail_analysis("a1", "job-a1", "engine_error", "boom")
        .unwrap();
    store.requeue_failed("a1", "job-a1b", "cloud").unwrap();
    store
        .set_job_temp_upload("job-a1b", Some(r#"{"key":"temp/2.png"}"#))
        .unwrap();
    store
        .set_job_state("job-a1b", JobState::Done, None, None)
        .unwrap();
    let listed: Vec<String> = store
        .finished_temp_uploads("a1")
        .unwrap()
        .into_iter()
        .map(|(job, _)| job)
        .collect();
    assert_eq!(
        listed,
        ["job-a1", "job-a1b"],
        "every try's upload, not only the newest"
    );

    // A discard job already waiting: rejection does not add a second one (the unique
    // index would refuse it and the rejection would fail).
    store
        .ensure_job("disc-1", "a1", JobKind::Discard, None, None)
        .unwrap();
    store
        .complete_analysis("a1", "job-a1b", &completed(0.5))
        .unwrap();
    let (changed, _) = store
        .mark_rejected("a1", "dr-b", Some(("disc-2", "{}")))
        .unwrap();
    assert!(changed);
    assert_eq!(
        store.active_job("a1", JobKind::Discard).unwrap().as_deref(),
        Some("disc-1")
    );
}

#[test]
fn commits_are_flushed_to_disk_before_they_return() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("db")).unwrap();
    let level: i64 = store
        .connection()
        .pragma_query_value(None, "synchronous", |r| r.get(0))
        .unwrap();
    assert_eq!(level, 2, "synchronous = FULL");
}
