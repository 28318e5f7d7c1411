//! The service with the local engine and a folder archive: the cache, the approval rules,
//! rejection, bad input, and an archive that is down when a clinician approves.

use std::path::Path;
use std::time::{Duration, Instant};

use pano_service::{
    AnalysisService, AnalysisStatus, ArchiveSettings, ArtefactKind, BackendChoice, HistoryFilter,
    JobView, PatientChoice, RetrySettings, RunMode, Secrets, Settings, Thresholds,
};
use pano_testkit::{sample_path, test_models};

fn settings(dir: &Path, archive: Option<&Path>) -> Settings {
    Settings {
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
    }
}

fn service(dir: &Path, archive: Option<&Path>) -> AnalysisService {
    AnalysisService::open(settings(dir, archive), Secrets::default()).unwrap()
}

fn small_image(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("pan-small-wide.png");
    std::fs::copy(
        pano_testkit::repo_root().join("tests/data/pan-small-wide.png"),
        &path,
    )
    .unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analyse_cache_approve_and_file_in_the_archive() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    std::fs::create_dir(&archive).unwrap();
    let service = service(dir.path(), Some(&archive));
    let mut events = service.subscribe();

    let queued = service.enqueue(&sample_path(), None).unwrap();
    assert!(!queued.reused);
    assert_eq!(queued.analysis.status, AnalysisStatus::Queued);
    assert_eq!(
        (queued.analysis.width, queued.analysis.height),
        (2356, 1292)
    );
    let id = queued.analysis.id.clone();
    service.run(RunMode::UntilIdle).await.unwrap();

    let row = service.analysis(&id).unwrap();
    assert_eq!(row.status, AnalysisStatus::Completed, "{row:?}");
    assert_eq!(row.model_version, "anchor-format-narrow-random-1");
    assert!(row.test_model);
    assert_eq!(row.execution_provider.as_deref(), Some("cpu"));
    let detail = service.open_analysis(&id, "dr-view").unwrap();
    assert_eq!(detail.findings.len(), 256);
    assert!(detail.notice.unwrap().contains("not for diagnosis"));
    let csv = detail.csv.unwrap();
    assert!(
        csv.starts_with("file_name,fdi,finding,score\npan-01432,11,"),
        "{csv}"
    );
    // The stored CSV is what the anchor's own main.py wrote for the same checkpoints
    // (tests/parity/narrow; the engine's parity test holds it to 1e-4).
    let reference = std::fs::read_to_string(
        pano_testkit::repo_root().join("tests/parity/narrow/pan-01432.csv"),
    )
    .unwrap();
    let diff = pano_core::parse_csv(&csv)
        .unwrap()
        .max_abs_difference(&pano_core::parse_csv(&reference).unwrap());
    assert!(diff < 1e-3, "differs from the anchor's main.py by {diff}");
    for kind in [
        ArtefactKind::SemanticSegmentation,
        ArtefactKind::InstanceDetection,
    ] {
        assert_eq!(&service.artefact(&id, kind).unwrap()[..2], b"\xff\xd8");
    }
    let mut seen = Vec::new();
    while let Ok(e) = events.try_recv() {
        seen.push(e.view);
    }
    assert_eq!(seen.first(), Some(&JobView::Queued));
    assert!(seen.iter().any(|v| matches!(v, JobView::Running { .. })));
    assert_eq!(seen.last(), Some(&JobView::Completed));

    // The same bytes again: the stored analysis, at once, whatever the file is called.
    let copy = dir.path().join("renamed.jpg");
    std::fs::copy(sample_path(), &copy).unwrap();
    let started = Instant::now();
    let again = service.enqueue(&copy, None).unwrap();
    assert!(again.reused);
    assert_eq!(again.analysis.id, id);
    assert!(started.elapsed() < Duration::from_secs(2));

    // Approval needs a completed analysis and a patient; the archive gets the set.
    let outcome = service
        .approve(
            &id,
            PatientChoice::New {
                display_name: "Ada Lovelace".into(),
                external_id: Some("EXT-1".into()),
                birth_date: None,
            },
            "Dr Bell",
            Thresholds::default(),
        )
        .await
        .unwrap();
    let location = outcome.archived_location.clone().expect("filed at once");
    let set = Path::new(&location);
    let mut files: Vec<String> = walk(set);
    files.sort();
    assert_eq!(
        files,
        [
            "analysis.json",
            "debug/instance-detection.jpg",
            "debug/semantic-segmentation.jpg",
            "findings.csv",
            "input.jpg",
            "report.pdf",
            "reviewed.csv"
        ]
    );
    assert_eq!(
        std::fs::read(set.join("input.jpg")).unwrap(),
        std::fs::read(sample_path()).unwrap()
    );
    // The filed CSV names the analysis, not the patient's file; the scores are the same.
    let filed = std::fs::read_to_string(set.join("findings.csv")).unwrap();
    assert!(!filed.contains("pan-01432"), "the file's name is not filed");
    assert!(
        filed == csv.replace("\npan-01432,", &format!("\n{id},")),
        "the filed CSV is the reviewed one, renamed"
    );
    let json = std::fs::read_to_string(set.join("analysis.json")).unwrap();
    assert!(
        !json.contains("Ada") && !json.contains("EXT-1"),
        "no patient name leaves the database: {json}"
    );
    assert!(json.contains(&outcome.patient.id));
    assert!(set.starts_with(archive.join("patients").join(&outcome.patient.id)));

    // Approving again is harmless; for another patient it is refused; rejecting is refused.
    let repeat = service
        .approve(
            &id,
            PatientChoice::Existing(outcome.patient.id.clone()),
            "Dr Bell",
            Thresholds::default(),
        )
        .await
        .unwrap();
    assert!(repeat.already_approved);
    let other = service.create_patient("Someone Else", None, None).unwrap();
    let err = service
        .approve(
            &id,
            PatientChoice::Existing(other.id),
            "Dr Bell",
            Thresholds::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "approved_for_another_patient");
    assert_eq!(
        service.reject(&id, "Dr Bell").await.unwrap_err().code(),
        "cannot_reject"
    );
    assert_eq!(
        walk(&archive.join("patients")).len(),
        7,
        "still exactly one set"
    );

    let history = service
        .history(&HistoryFilter {
            patient_id: Some(outcome.patient.id.clone()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].status, AnalysisStatus::Approved);
    assert_eq!(history[0].approved_by.as_deref(), Some("Dr Bell"));
    let actions: Vec<String> = service
        .open_analysis(&id, "dr-view")
        .unwrap()
        .audit
        .into_iter()
        .map(|a| a.action)
        .collect();
    assert_eq!(
        actions,
        ["created", "viewed", "approved", "uploaded", "viewed"]
    );
}

fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    fn go(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let p = entry.path();
            if p.is_dir() {
                go(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    go(dir, dir, &mut out);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_waits_for_an_unmounted_archive_and_rejection_discards() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("nas-share");
    let service = service(dir.path(), Some(&archive));
    let a = service
        .enqueue(&small_image(dir.path()), None)
        .unwrap()
        .analysis
        .id;
    let b_path = dir.path().join("square.png");
    std::fs::copy(
        pano_testkit::repo_root().join("tests/data/pan-small-square.png"),
        &b_path,
    )
    .unwrap();
    let b = service.enqueue(&b_path, None).unwrap().analysis.id;

    let early = service
        .approve(
            &a,
            PatientChoice::New {
                display_name: "P".into(),
                external_id: None,
                birth_date: None,
            },
            "Dr Bell",
            Thresholds::default(),
        )
        .await;
    assert_eq!(
        early.unwrap_err().code(),
        "cannot_approve",
        "a queued analysis is not approved"
    );
    service.run(RunMode::UntilIdle).await.unwrap();

    // The share is not mounted: the approval stands, the upload waits.
    let outcome = service
        .approve(
            &a,
            PatientChoice::New {
                display_name: "Grace Hopper".into(),
                external_id: None,
                birth_date: None,
            },
            "Dr Bell",
            Thresholds::default(),
        )
        .await
        .unwrap();
    assert_eq!(outcome.analysis.status, AnalysisStatus::Approved);
    assert!(outcome.archived_location.is_none());
    assert!(outcome
        .pending_reason
        .unwrap()
        .contains("does not exist or is not mounted"));
    let queue = service.queue().unwrap();
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0].state.as_str(), "waiting_storage");
    assert!(!archive.exists(), "a missing share is never created");
    // `pano analyze` is not held by an archive upload that waits for storage.
    tokio::time::timeout(Duration::from_secs(20), service.run(RunMode::UntilAnalysed))
        .await
        .expect("returns while the upload waits")
        .unwrap();
    assert_eq!(service.queue().unwrap().len(), 1);

    // Mounted again: the queue files it.
    std::fs::create_dir(&archive).unwrap();
    tokio::time::timeout(Duration::from_secs(60), service.run(RunMode::UntilIdle))
        .await
        .unwrap()
        .unwrap();
    assert!(service.analysis(&a).unwrap().archived_location.is_some());
    assert_eq!(walk(&archive.join("patients")).len(), 7);

    // Rejection discards the result and its files; the image can be analysed afresh.
    let blobs_before = walk(&dir.path().join("data/blobs")).len();
    let rejected = service.reject(&b, "Dr Bell").await.unwrap();
    assert_eq!(rejected.status, AnalysisStatus::Rejected);
    assert!(service.open_analysis(&b, "x").unwrap().findings.is_empty());
    assert_eq!(
        walk(&dir.path().join("data/blobs")).len(),
        blobs_before - 5,
        "input, CSV, two debug images and the outlines"
    );
    assert!(
        service.reject(&b, "Dr Bell").await.is_ok(),
        "rejecting twice is harmless"
    );
    let again = service.enqueue(&b_path, None).unwrap();
    assert!(
        !again.reused,
        "a rejected result is never served from the cache"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_with_nothing_stored_and_approval_needs_an_archive() {
    let dir = tempfile::tempdir().unwrap();
    let service = service(dir.path(), None);
    let broken = dir.path().join("broken.jpg");
    std::fs::write(&broken, b"\xff\xd8\xff\xe0 truncated").unwrap();
    let err = service.enqueue(&broken, None).unwrap_err();
    assert_eq!(err.code(), "image_corrupt");
    assert!(err.to_string().contains("broken.jpg"), "{err}");
    let missing = service
        .enqueue(&dir.path().join("nope.png"), None)
        .unwrap_err();
    assert_eq!(missing.code(), "file_unreadable");
    assert!(service
        .history(&HistoryFilter::default())
        .unwrap()
        .is_empty());
    assert!(walk(&dir.path().join("data/blobs")).is_empty());

    let id = service
        .enqueue(&small_image(dir.path()), None)
        .unwrap()
        .analysis
        .id;
    service.run(RunMode::UntilIdle).await.unwrap();
    let err = service
        .approve(
            &id,
            PatientChoice::New {
                display_name: "P".into(),
                external_id: None,
                birth_date: None,
            },
            "Dr Bell",
            Thresholds::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "archive_not_configured");
    assert_eq!(
        service.analysis(&id).unwrap().status,
        AnalysisStatus::Completed,
        "nothing changed"
    );
    assert!(
        service.search_patients("P", 10).unwrap().is_empty(),
        "no patient was created"
    );
    let err = service
        .enqueue(&small_image(dir.path()), Some(BackendChoice::Cloud))
        .unwrap_err();
    assert_eq!(err.code(), "cloud_not_configured");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_process_cannot_run_the_queue_at_the_same_time() {
    let dir = tempfile::tempdir().unwrap();
    let first = service(dir.path(), None);
    let second = service(dir.path(), None);
    first.enqueue(&small_image(dir.path()), None).unwrap();
    assert_busy_while_the_other_runs(&first, &second).await;
    second.run(RunMode::UntilIdle).await.unwrap();
}

/// While `first` runs its queue, `second` is told the queue is busy.
async fn assert_busy_while_the_other_runs(first: &AnalysisService, second: &AnalysisService) {
    let running = tokio::spawn({
        let first = first.clone();
        async move { first.run(RunMode::UntilIdle).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let busy = second.run(RunMode::UntilIdle).await;
    running.await.unwrap().unwrap();
    assert_eq!(busy.unwrap_err().code(), "queue_busy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_data_folders_sharing_one_database_share_its_queue_lock() {
    // `--db` / PANO_DB point two processes at one database with different data folders:
    // the lock must follow the database, or both would run the same jobs.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shared.sqlite");
    let open = |data: &str| {
        let mut s = settings(&dir.path().join(data), None);
        s.database = Some(db.clone());
        AnalysisService::open(s, Secrets::default()).unwrap()
    };
    let first = open("a");
    let second = open("b");
    first.enqueue(&small_image(dir.path()), None).unwrap();
    assert_busy_while_the_other_runs(&first, &second).await;
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_fifos_and_folders_are_refused_without_being_read() {
    let dir = tempfile::tempdir().unwrap();
    let service = service(dir.path(), None);
    let fifo = dir.path().join("radiograph.png");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    for path in [Path::new("/dev/zero"), fifo.as_path(), dir.path()] {
        // A read of /dev/zero would never end and one of a FIFO would wait for a writer:
        // the refusal must come at once.
        let started = Instant::now();
        let err = service.enqueue(path, None).unwrap_err();
        assert_eq!(err.code(), "file_not_regular", "{}: {err}", path.display());
        assert!(started.elapsed() < Duration::from_secs(5));
    }
    assert!(service
        .history(&HistoryFilter::default())
        .unwrap()
        .is_empty());
}

#[test]
fn the_engine_is_made_in_the_background_before_the_first_analysis() {
    let dir = tempfile::tempdir().unwrap();
    let service = service(dir.path(), None);
    assert!(!service.local_engine_loaded());
    // Cloud analyses never need it: nothing is loaded.
    assert!(service.prepare_local_engine(BackendChoice::Cloud).is_none());
    assert!(!service.local_engine_loaded());
    service
        .prepare_local_engine(BackendChoice::Local)
        .expect("a load starts")
        .join()
        .unwrap();
    assert!(service.local_engine_loaded());
}
