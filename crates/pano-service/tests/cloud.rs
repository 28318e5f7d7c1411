//! The service over the real cloud peers: `s3s-fs` for the bucket and our worker's
//! RunPod-shaped API (in this process, running the test models). Upload -> presign -> run
//! -> poll -> record; approval into the bucket; rejection; an outage of both peers in the
//! middle of a batch; and the fallback to this computer.

use std::path::Path;
use std::time::{Duration, Instant};

use pano_cloud::storage::{S3Credentials, S3Settings};
use pano_service::{
    AnalysisService, AnalysisStatus, ArchiveSettings, BackendChoice, JobView, PatientChoice,
    RetrySettings, RunMode, RunpodFileSettings, Secrets, Settings, Thresholds,
};
use pano_testkit::{
    distinct_radiographs, LocalRunpod, S3Peer, ACCESS_KEY, BUCKET, RUNPOD_ENDPOINT, RUNPOD_KEY,
    SECRET_KEY,
};

fn settings(dir: &Path, s3: &S3Peer, runpod_base: &str, backend: BackendChoice) -> Settings {
    Settings {
        backend,
        data_dir: Some(dir.join("data")),
        models_dir: Some(pano_testkit::test_models()),
        cloud_concurrency: 1,
        runpod: RunpodFileSettings {
            base_url: runpod_base.into(),
            endpoint_id: Some(RUNPOD_ENDPOINT.into()),
            max_attempts: 2,
            request_timeout_s: 20,
            ..RunpodFileSettings::default()
        },
        s3: Some(S3Settings {
            endpoint: Some(s3.endpoint()),
            bucket: BUCKET.into(),
            path_style: true,
            ..S3Settings::default()
        }),
        archive: ArchiveSettings::S3,
        retry: RetrySettings {
            base_s: 0.3,
            cap_s: 1.5,
        },
        ..Settings::default()
    }
}

fn secrets() -> Secrets {
    Secrets {
        runpod_api_key: Some(RUNPOD_KEY.to_string().into()),
        s3: Some(S3Credentials {
            access_key_id: ACCESS_KEY.into(),
            secret_access_key: SECRET_KEY.to_string().into(),
        }),
        keys_unavailable: None,
    }
}

#[test]
fn a_cloud_analysis_equals_the_local_one_and_is_filed_in_the_bucket() {
    let s3 = S3Peer::start();
    let runpod = LocalRunpod::start();
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let service = AnalysisService::open(
            settings(dir.path(), &s3, &runpod.base_url(), BackendChoice::Cloud),
            secrets(),
        )
        .unwrap();
        let images = distinct_radiographs(dir.path(), 2);
        let a = service.enqueue(&images[0], None).unwrap().analysis.id;
        let b = service.enqueue(&images[1], None).unwrap().analysis.id;
        service.run(RunMode::UntilIdle).await.unwrap();
        let row = service.analysis(&a).unwrap();
        assert_eq!(row.status, AnalysisStatus::Completed, "{row:?}");
        assert_eq!(serde_json::to_value(row.backend).unwrap(), "cloud");
        assert_eq!(row.endpoint.as_deref(), Some(RUNPOD_ENDPOINT));
        assert_eq!(
            row.model_version, "anchor-format-narrow-random-1",
            "reported by the worker"
        );
        assert!(row.test_model);
        assert!(row.queue_ms.is_some());
        assert!(
            s3.keys("temp/").is_empty(),
            "each temp upload is deleted once its result is in: {:?}",
            s3.keys("")
        );

        // The same image analysed here gives the same CSV, byte for byte.
        let local_dir = tempfile::tempdir().unwrap();
        let mut local_settings = settings(
            local_dir.path(),
            &s3,
            &runpod.base_url(),
            BackendChoice::Local,
        );
        local_settings.archive = ArchiveSettings::None;
        let local = AnalysisService::open(local_settings, Secrets::default()).unwrap();
        let l = local.enqueue(&images[0], None).unwrap().analysis.id;
        local.run(RunMode::UntilIdle).await.unwrap();
        assert_eq!(
            local.open_analysis(&l, "t").unwrap().csv,
            service.open_analysis(&a, "t").unwrap().csv
        );

        // Reviewed, then approved: the set lands under patients/ with the reviewed CSV, the
        // temp object goes.
        service
            .decide_finding(
                &a,
                pano_core::Fdi::new(36).unwrap(),
                pano_core::FindingKind::Caries,
                pano_core::DecisionUpdate::Set(pano_core::Decision::Added),
                Some("occlusal"),
                "Dr Bell",
            )
            .unwrap();
        let outcome = service
            .approve(
                &a,
                PatientChoice::New {
                    display_name: "Ada".into(),
                    external_id: None,
                    birth_date: None,
                },
                "Dr Bell",
                Thresholds::default(),
            )
            .await
            .unwrap();
        let location = outcome.archived_location.unwrap();
        assert!(
            location.starts_with(&format!(
                "s3://{BUCKET}/patients/{}/{a}/",
                outcome.patient.id
            )),
            "{location}"
        );
        let filed = s3.keys("patients/");
        assert_eq!(filed.len(), 7, "{filed:?}");
        assert!(filed.iter().any(|k| k.ends_with("/input.png")));
        let object = |name: &str| {
            let key = filed.iter().find(|k| k.ends_with(name)).unwrap();
            std::fs::read_to_string(s3.dir.path().join(BUCKET).join(key)).unwrap()
        };
        let reviewed = pano_core::parse_reviewed_csv(&object("/reviewed.csv")).unwrap();
        assert_eq!(reviewed.assessment.name, a, "named by the analysis id");
        assert_eq!(
            reviewed.decisions,
            [(
                pano_core::Fdi::new(36).unwrap(),
                pano_core::FindingKind::Caries,
                pano_core::Decision::Added
            )]
        );
        let json: serde_json::Value = serde_json::from_str(&object("/analysis.json")).unwrap();
        assert_eq!(json["thresholds"]["CARIES"], 0.5);
        assert_eq!(json["decisions"][0]["note"], "occlusal");
        assert_eq!(json["reviewed_by"], "Dr Bell");
        // Rejected: the temp object is deleted.
        service.reject(&b, "Dr Bell").await.unwrap();
        assert!(s3.keys("temp/").is_empty(), "{:?}", s3.keys("temp/"));
        assert_eq!(runpod.submissions(), 2);
    });
}

#[test]
fn an_outage_of_storage_and_runpod_mid_batch_is_waited_out() {
    let mut s3 = S3Peer::start();
    let mut runpod = LocalRunpod::start();
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let service = AnalysisService::open(
        settings(dir.path(), &s3, &runpod.base_url(), BackendChoice::Cloud),
        secrets(),
    )
    .unwrap();
    let images = distinct_radiographs(dir.path(), 3);
    let ids: Vec<String> = images
        .iter()
        .map(|p| service.enqueue(p, None).unwrap().analysis.id)
        .collect();
    let mut events = service.subscribe();
    let run = rt.spawn({
        let service = service.clone();
        async move { service.run(RunMode::UntilIdle).await }
    });

    // Once the first job is at RunPod, both peers go away.
    wait_until(Duration::from_secs(60), || {
        service
            .queue()
            .unwrap()
            .iter()
            .any(|j| j.runpod_job_id.is_some())
    });
    s3.stop();
    runpod.stop();
    let mut states = std::collections::HashSet::new();
    let outage_started = Instant::now();
    while outage_started.elapsed() < Duration::from_secs(60) && states.len() < 2 {
        for job in service.queue().unwrap() {
            if matches!(job.state.as_str(), "waiting_storage" | "waiting_runpod") {
                states.insert(job.state.as_str().to_string());
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(states.len(), 2, "both waits were shown: {states:?}");
    s3.restart();
    runpod.restart();

    rt.block_on(async { tokio::time::timeout(Duration::from_secs(180), run).await })
        .expect("the batch finishes after the outage")
        .unwrap()
        .unwrap();
    for id in &ids {
        let row = service.analysis(id).unwrap();
        assert_eq!(row.status, AnalysisStatus::Completed, "{row:?}");
    }
    assert!(
        s3.keys("temp/").is_empty(),
        "every upload, repeated ones too, is deleted: {:?}",
        s3.keys("")
    );
    let mut said = Vec::new();
    while let Ok(e) = events.try_recv() {
        said.push(e.view.describe());
    }
    // A job is submitted again only when the worker itself could not fetch the image
    // (it tried while the bucket was down); a job waiting at RunPod is polled again.
    let refetches = said
        .iter()
        .filter(|s| s.contains("the worker could not fetch the image"))
        .count();
    assert_eq!(runpod.submissions(), 3 + refetches, "{said:?}");
    assert!(
        said.iter()
            .any(|s| s.starts_with("waiting for RunPod: RunPod cannot be reached")),
        "{said:?}"
    );
    assert!(
        said.iter()
            .any(|s| s.starts_with("waiting for storage: the storage endpoint")),
        "{said:?}"
    );
}

#[test]
fn auto_falls_back_to_this_computer_when_runpod_is_unreachable() {
    let s3 = S3Peer::start();
    let dir = tempfile::tempdir().unwrap();
    let nowhere = format!("http://127.0.0.1:{}/v2", pano_testkit::free_port());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let service = AnalysisService::open(
            settings(dir.path(), &s3, &nowhere, BackendChoice::Auto),
            secrets(),
        )
        .unwrap();
        let mut events = service.subscribe();
        let image = distinct_radiographs(dir.path(), 1).remove(0);
        let id = service.enqueue(&image, None).unwrap().analysis.id;
        tokio::time::timeout(Duration::from_secs(120), service.run(RunMode::UntilIdle))
            .await
            .unwrap()
            .unwrap();
        let row = service.analysis(&id).unwrap();
        assert_eq!(row.status, AnalysisStatus::Completed);
        assert_eq!(row.endpoint, None);
        assert_eq!(row.execution_provider.as_deref(), Some("cpu"));
        let mut fell_back = false;
        while let Ok(e) = events.try_recv() {
            if let JobView::FallingBackToLocal { reason } = e.view {
                assert!(reason.contains("RunPod cannot be reached"), "{reason}");
                fell_back = true;
            }
        }
        assert!(fell_back);
    });
}

#[test]
fn a_cancelled_cloud_analysis_leaves_no_temp_object() {
    let s3 = S3Peer::start();
    let runpod = LocalRunpod::start();
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let service = AnalysisService::open(
        settings(dir.path(), &s3, &runpod.base_url(), BackendChoice::Cloud),
        secrets(),
    )
    .unwrap();
    let images = distinct_radiographs(dir.path(), 1);
    let id = service.enqueue(&images[0], None).unwrap().analysis.id;
    let run = rt.spawn({
        let service = service.clone();
        async move { service.run(RunMode::UntilIdle).await }
    });
    wait_until(Duration::from_secs(60), || {
        service
            .queue()
            .unwrap()
            .iter()
            .any(|j| j.runpod_job_id.is_some())
    });
    assert_eq!(s3.keys("temp/").len(), 1, "uploaded");
    assert!(rt.block_on(service.cancel(&id)).unwrap());
    rt.block_on(async { tokio::time::timeout(Duration::from_secs(60), run).await })
        .expect("the queue ends")
        .unwrap()
        .unwrap();
    assert_eq!(
        service.analysis(&id).unwrap().status,
        AnalysisStatus::Failed,
        "cancelled analyses read as failed"
    );
    assert!(s3.keys("temp/").is_empty(), "{:?}", s3.keys(""));
}

#[test]
fn cloud_jobs_wait_while_the_keychain_is_locked_and_run_once_it_opens() {
    let s3 = S3Peer::start();
    let runpod = LocalRunpod::start();
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    // The app opens the service with the keys it could read: none while locked.
    let open = |secrets: Secrets| {
        AnalysisService::open(
            settings(dir.path(), &s3, &runpod.base_url(), BackendChoice::Cloud),
            secrets,
        )
        .unwrap()
    };
    let locked = || {
        open(Secrets {
            keys_unavailable: Some("the keychain is locked".into()),
            ..Secrets::default()
        })
    };
    let run_until_idle = |service: &AnalysisService| {
        rt.block_on(async {
            tokio::time::timeout(Duration::from_secs(120), service.run(RunMode::UntilIdle))
                .await
                .unwrap()
                .unwrap()
        })
    };

    let service = locked();
    let image = distinct_radiographs(dir.path(), 1).remove(0);
    let id = service
        .enqueue(&image, None)
        .expect("queued although the keys cannot be read yet")
        .analysis
        .id;
    let mut events = service.subscribe();
    rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(2), service.run(RunMode::Forever))
            .await
            .expect_err("it waits")
    });
    let row = service.analysis(&id).unwrap();
    assert_eq!(row.status, AnalysisStatus::Queued, "not failed: {row:?}");
    let job = &service.queue().unwrap()[0];
    assert_eq!(job.state.as_str(), "waiting_runpod");
    assert!(job
        .last_error
        .as_deref()
        .unwrap()
        .contains("the keychain is locked"));
    let mut said = Vec::new();
    while let Ok(e) = events.try_recv() {
        said.push(e.view.describe());
    }
    assert!(
        said.iter()
            .any(|s| s.contains("waiting for the cloud keys")),
        "{said:?}"
    );
    drop(service);

    // The keychain opened: the app reopens the service with the keys.
    let service = open(secrets());
    run_until_idle(&service);
    assert_eq!(
        service.analysis(&id).unwrap().status,
        AnalysisStatus::Completed
    );
    drop(service);

    // Locked again while a clinician approves: the approval is recorded, the filing waits.
    let service = locked();
    let outcome = rt
        .block_on(service.approve(
            &id,
            PatientChoice::New {
                display_name: "Ada".into(),
                external_id: None,
                birth_date: None,
            },
            "Dr Bell",
            Thresholds::default(),
        ))
        .unwrap();
    assert_eq!(outcome.archived_location, None);
    assert!(
        outcome
            .pending_reason
            .unwrap()
            .contains("keychain is locked"),
        "says why it waits"
    );
    assert!(s3.keys("patients/").is_empty());
    drop(service);
    let service = open(secrets());
    run_until_idle(&service);
    assert!(service.analysis(&id).unwrap().archived_location.is_some());
    assert_eq!(s3.keys("patients/").len(), 7);
}

#[test]
fn the_clinic_may_archive_the_de_identified_pixels_instead_of_the_file() {
    let s3 = S3Peer::start();
    let runpod = LocalRunpod::start();
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut chosen = settings(dir.path(), &s3, &runpod.base_url(), BackendChoice::Cloud);
    chosen.archive_input = pano_service::ArchiveInput::Deidentified;
    let service = AnalysisService::open(chosen, secrets()).unwrap();
    let input = dir.path().join("Zyxwvut_Qorbelline_1980-01-01.dcm");
    pano_testkit::identified_dicom(&input, &pano_testkit::FAKE_PATIENT);
    let id = service.enqueue(&input, None).unwrap().analysis.id;
    rt.block_on(async {
        service.run(RunMode::UntilIdle).await.unwrap();
        service
            .approve(
                &id,
                PatientChoice::New {
                    display_name: "Zyxwvut Qorbelline".into(),
                    external_id: None,
                    birth_date: None,
                },
                "Dr Bell",
                Thresholds::default(),
            )
            .await
            .unwrap();
    });
    let filed = s3.keys("patients/");
    let input_key = filed
        .iter()
        .find(|k| k.contains("/input."))
        .expect("an input is filed");
    assert!(input_key.ends_with("/input.png"), "{filed:?}");
    for key in &filed {
        let bytes = std::fs::read(s3.dir.path().join(BUCKET).join(key)).unwrap();
        for s in ["Zyxwvut", "Qorbelline", "PID-4711", "19800101"] {
            assert!(!pano_testkit::contains_bytes(&bytes, s), "{s} in {key}");
        }
    }
}

fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "timed out");
        std::thread::sleep(Duration::from_millis(20));
    }
}
