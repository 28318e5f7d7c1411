//! Nothing that names a patient leaves this computer for a cloud analysis: a DICOM whose
//! header and file name carry a (made-up) patient is analysed through the real peers —
//! s3s-fs for the bucket and the real `pano-worker --serve-api` process for RunPod — with
//! every byte between them and us recorded. Neither the name, the id, the birth date, the
//! clinic nor the file name appears in any of it, nor in the worker's log, nor in the
//! bucket; the result equals the local analysis of the same file.

use std::path::Path;

use pano_cloud::storage::{S3Credentials, S3Settings};
use pano_service::{
    AnalysisService, AnalysisStatus, ArchiveSettings, BackendChoice, RetrySettings, RunMode,
    RunpodFileSettings, Secrets, Settings,
};
use pano_testkit::{
    contains_bytes, identified_dicom, S3Peer, TapProxy, WorkerProcess, ACCESS_KEY, BUCKET,
    FAKE_PATIENT, RUNPOD_ENDPOINT, RUNPOD_KEY, SECRET_KEY,
};

const FILE_NAME: &str = "Zyxwvut_Qorbelline_1980-01-01.dcm";

fn settings(dir: &Path, s3_endpoint: String, runpod_base: String) -> Settings {
    Settings {
        backend: BackendChoice::Cloud,
        data_dir: Some(dir.join("data")),
        models_dir: Some(pano_testkit::test_models()),
        runpod: RunpodFileSettings {
            base_url: runpod_base,
            endpoint_id: Some(RUNPOD_ENDPOINT.into()),
            max_attempts: 2,
            request_timeout_s: 30,
            ..RunpodFileSettings::default()
        },
        s3: Some(S3Settings {
            endpoint: Some(s3_endpoint),
            bucket: BUCKET.into(),
            path_style: true,
            ..S3Settings::default()
        }),
        archive: ArchiveSettings::None,
        retry: RetrySettings {
            base_s: 0.3,
            cap_s: 1.5,
        },
        ..Settings::default()
    }
}

fn identifying_strings() -> Vec<&'static str> {
    let (family, given) = FAKE_PATIENT.name.split_once('^').unwrap();
    vec![
        family,
        given,
        FAKE_PATIENT.id,
        FAKE_PATIENT.birth_date,
        "1980-01-01",
        FAKE_PATIENT.institution,
        "Zyxwvut_Qorbelline",
    ]
}

#[test]
fn a_dicom_naming_a_patient_reaches_the_cloud_as_pixels_only() {
    let s3 = S3Peer::start();
    let s3_tap = TapProxy::start(s3.peer.port);
    let worker = WorkerProcess::start();
    let runpod_tap = TapProxy::start(worker.peer.port);
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join(FILE_NAME);
    identified_dicom(&input, &FAKE_PATIENT);
    let original = std::fs::read(&input).unwrap();
    for s in identifying_strings() {
        assert!(
            contains_bytes(&original, s) || FILE_NAME.contains(s),
            "the test file carries {s}"
        );
    }

    let rt = tokio::runtime::Runtime::new().unwrap();
    let service = AnalysisService::open(
        settings(dir.path(), s3_tap.url(), format!("{}/v2", runpod_tap.url())),
        Secrets {
            runpod_api_key: Some(RUNPOD_KEY.to_string().into()),
            s3: Some(S3Credentials {
                access_key_id: ACCESS_KEY.into(),
                secret_access_key: SECRET_KEY.to_string().into(),
            }),
            keys_unavailable: None,
        },
    )
    .unwrap();
    let id = service.enqueue(&input, None).unwrap().analysis.id;
    rt.block_on(service.run(RunMode::UntilIdle)).unwrap();
    let row = service.analysis(&id).unwrap();
    assert_eq!(row.status, AnalysisStatus::Completed, "{row:?}");
    assert_eq!(row.endpoint.as_deref(), Some(RUNPOD_ENDPOINT));

    let s3_traffic = s3_tap.seen();
    let runpod_traffic = runpod_tap.seen();
    assert!(
        contains_bytes(&s3_traffic, "PUT /clinic/temp/"),
        "the upload went through the tap"
    );
    assert!(
        contains_bytes(&s3_traffic, "\u{89}PNG") || s3_traffic.windows(4).any(|w| w == b"\x89PNG"),
        "a PNG of the pixels was uploaded"
    );
    assert!(contains_bytes(&runpod_traffic, "POST /v2/"));
    let log = worker.log();
    assert!(
        contains_bytes(&log, "execution provider"),
        "the log was read"
    );
    for s in identifying_strings() {
        assert!(!contains_bytes(&s3_traffic, s), "{s} reached the bucket");
        assert!(!contains_bytes(&runpod_traffic, s), "{s} reached RunPod");
        assert!(!contains_bytes(&log, s), "{s} is in the worker's log");
    }
    for file in pano_testkit::files_under(s3.dir.path()) {
        let bytes = std::fs::read(&file).unwrap();
        for s in identifying_strings() {
            assert!(!contains_bytes(&bytes, s), "{s} in {}", file.display());
        }
    }
    assert!(
        s3.keys("temp/").is_empty(),
        "the temp upload is deleted once the result is in"
    );

    // The stored CSV (what an approval files) names the analysis, not the file; the CSV
    // the user exports on purpose keeps the file's name.
    let stored = service
        .artefact(&id, pano_service::ArtefactKind::Csv)
        .unwrap();
    let stored = String::from_utf8(stored).unwrap();
    assert!(
        stored
            .lines()
            .nth(1)
            .unwrap()
            .starts_with(&format!("{id},")),
        "{stored}"
    );
    let exported = service.open_analysis(&id, "t").unwrap().csv.unwrap();
    assert!(exported
        .lines()
        .nth(1)
        .unwrap()
        .starts_with("Zyxwvut_Qorbelline_1980-01-01,"));

    // Pixels only, and still the same result as this computer's analysis of the file.
    let local_dir = tempfile::tempdir().unwrap();
    let mut local_settings = settings(
        local_dir.path(),
        s3.endpoint(),
        "http://127.0.0.1:9/v2".into(),
    );
    local_settings.backend = BackendChoice::Local;
    let local = AnalysisService::open(local_settings, Secrets::default()).unwrap();
    let l = local.enqueue(&input, None).unwrap().analysis.id;
    rt.block_on(local.run(RunMode::UntilIdle)).unwrap();
    assert_eq!(local.open_analysis(&l, "t").unwrap().csv.unwrap(), exported);
}
