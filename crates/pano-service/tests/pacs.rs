//! Approved analyses sent to a real PACS (Orthanc, started by the test) by DICOMweb and by
//! C-STORE, then read back from Orthanc: the Secondary Capture and the Encapsulated PDF with
//! the right patient and study.

use std::path::Path;

use pano_core::Thresholds;
use pano_service::{
    AnalysisService, AnalysisStatus, ArchiveSettings, BackendChoice, PacsSettings, PatientChoice,
    RunMode, Secrets, Settings,
};
use pano_testkit::{
    identified_dicom, sample_path, test_models, OrthancPeer, FAKE_PATIENT, FAKE_STUDY_UID,
    ORTHANC_AET,
};

fn service(dir: &Path, pacs: PacsSettings) -> AnalysisService {
    let archive = dir.join("archive");
    std::fs::create_dir_all(&archive).unwrap();
    let settings = Settings {
        backend: BackendChoice::Local,
        data_dir: Some(dir.join("data")),
        models_dir: Some(test_models()),
        archive: ArchiveSettings::Folder { path: archive },
        operator: Some("test-operator".into()),
        pacs,
        ..Settings::default()
    };
    AnalysisService::open(settings, Secrets::default()).unwrap()
}

fn both_routes(pacs: &OrthancPeer) -> PacsSettings {
    PacsSettings {
        dicomweb_url: Some(pacs.dicomweb_url()),
        host: Some("127.0.0.1".into()),
        port: Some(pacs.dicom_port),
        called_ae_title: Some(ORTHANC_AET.into()),
        calling_ae_title: Some("PANO".into()),
        timeout_s: Some(30),
        send_on_approval: true,
    }
}

async fn approve(service: &AnalysisService, input: &Path, name: &str, external: &str) -> String {
    let id = service.enqueue(input, None).unwrap().analysis.id;
    service.run(RunMode::UntilIdle).await.unwrap();
    service
        .approve(
            &id,
            PatientChoice::New {
                display_name: name.into(),
                external_id: Some(external.into()),
                birth_date: Some("1906-12-09".into()),
            },
            "Dr Bell",
            Thresholds::default(),
        )
        .await
        .unwrap();
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_approved_sample_reaches_the_pacs_with_its_patient_and_study() {
    let dir = tempfile::tempdir().unwrap();
    let pacs = OrthancPeer::start();
    let service = service(dir.path(), both_routes(&pacs));
    assert!(service
        .test_pacs()
        .await
        .unwrap()
        .summary
        .contains("DICOMweb and DICOM (echo)"));

    // Not before approval.
    let early = service.enqueue(&sample_path(), None).unwrap().analysis.id;
    service.run(RunMode::UntilIdle).await.unwrap();
    assert_eq!(
        service.send_to_pacs(&early).await.unwrap_err().code(),
        "report_needs_approval"
    );

    let id = approve(&service, &sample_path(), "Grace Hopper", "OD-1234").await;
    assert_eq!(id, early);
    let receipt = service.send_to_pacs(&id).await.unwrap();
    assert_eq!(receipt.sent_by, ["dicomweb", "c-store"]);
    assert!(!receipt.same_study_as_input);
    let studies = pacs.get_json("/studies?expand");
    let studies = studies.as_array().unwrap();
    assert_eq!(studies.len(), 1, "sent twice (two routes), stored once");
    assert_eq!(
        studies[0]["MainDicomTags"]["StudyInstanceUID"],
        receipt.study_instance_uid.as_str()
    );
    let patient = &studies[0]["PatientMainDicomTags"];
    assert_eq!(patient["PatientName"], "Hopper^Grace");
    assert_eq!(patient["PatientID"], "OD-1234");
    assert_eq!(patient["PatientBirthDate"], "19061209");
    let instances = pacs.get_json("/instances?expand");
    let instances = instances.as_array().unwrap();
    assert_eq!(instances.len(), 2);
    for instance in instances {
        let oid = instance["ID"].as_str().unwrap();
        let tags = pacs.get_json(&format!("/instances/{oid}/simplified-tags"));
        match tags["SOPClassUID"].as_str().unwrap() {
            pano_dicom::SECONDARY_CAPTURE => {
                assert_eq!(tags["Rows"], "1292");
                assert_eq!(tags["Columns"], "2356");
                assert!(tags["DerivationDescription"]
                    .as_str()
                    .unwrap()
                    .contains("approved by Dr Bell; TEST MODELS, NOT FOR DIAGNOSIS"));
            }
            pano_dicom::ENCAPSULATED_PDF => {
                let pdf = pacs.get(&format!("/instances/{oid}/content/0042-0011"));
                assert!(pdf.starts_with(b"%PDF-"));
                let path = dir.path().join("from-pacs.pdf");
                std::fs::write(&path, &pdf).unwrap();
                let text = std::process::Command::new("pdftotext")
                    .arg(&path)
                    .arg("-")
                    .output()
                    .unwrap();
                let text = String::from_utf8_lossy(&text.stdout);
                assert!(
                    text.contains("Grace Hopper") && text.contains("OD-1234"),
                    "{text}"
                );
            }
            other => panic!("unexpected SOP class {other}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dicom_input_gets_its_results_in_its_own_study_and_an_outage_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut pacs = OrthancPeer::start();
    let settings = PacsSettings {
        dicomweb_url: Some(pacs.dicomweb_url()),
        ..PacsSettings::default()
    };
    let service = service(dir.path(), settings);
    let input = dir.path().join("scan.dcm");
    identified_dicom(&input, &FAKE_PATIENT);
    let id = approve(&service, &input, "Qorbelline Zyxwvut", FAKE_PATIENT.id).await;
    let receipt = service.send_to_pacs(&id).await.unwrap();
    assert!(receipt.same_study_as_input);
    assert_eq!(receipt.study_instance_uid, FAKE_STUDY_UID);
    let study = &pacs.get_json("/studies?expand")[0];
    assert_eq!(study["MainDicomTags"]["StudyInstanceUID"], FAKE_STUDY_UID);
    assert_eq!(study["MainDicomTags"]["AccessionNumber"], "ACC-0042");
    assert_eq!(
        study["PatientMainDicomTags"]["PatientName"],
        FAKE_PATIENT.name
    );

    // The same kind of file approved for someone else (the wrong patient was selected at
    // the X-ray machine): a new study for the approved patient, never the header's.
    let other = dir.path().join("other.dcm");
    identified_dicom(
        &other,
        &pano_testkit::FakePatient {
            id: "PID-WRONG-1",
            ..FAKE_PATIENT
        },
    );
    let corrected = approve(&service, &other, "Grace Hopper", "OD-1234").await;
    let receipt = service.send_to_pacs(&corrected).await.unwrap();
    assert!(!receipt.same_study_as_input);
    assert_ne!(receipt.study_instance_uid, FAKE_STUDY_UID);
    let patients = pacs.get_json("/patients?expand");
    let ids: Vec<&str> = patients
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["MainDicomTags"]["PatientID"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"OD-1234") && !ids.contains(&"PID-WRONG-1"),
        "{ids:?}"
    );

    // The PACS goes down: a specific, retryable error; the approval and filing stand.
    pacs.stop();
    let err = service.send_to_pacs(&id).await.unwrap_err();
    assert_eq!(err.code(), "pacs_unreachable", "{err}");
    let analysis = service.analysis(&id).unwrap();
    assert_eq!(analysis.status, AnalysisStatus::Approved);
    assert!(analysis.archived_location.is_some());

    // Without a PACS in the settings: says so.
    let plain = self::service(&dir.path().join("other"), PacsSettings::default());
    assert_eq!(
        plain.send_to_pacs(&id).await.unwrap_err().code(),
        "pacs_not_configured"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panoramic_study_is_found_on_the_pacs_and_analysed_with_its_patient() {
    let dir = tempfile::tempdir().unwrap();
    let pacs = OrthancPeer::start();
    let input = dir.path().join("px.dcm");
    identified_dicom(&input, &FAKE_PATIENT);
    pacs.upload(&std::fs::read(&input).unwrap());
    let service = service(dir.path(), both_routes(&pacs));
    let studies = service
        .pacs_studies(&pano_service::StudyQuery {
            patient: Some("Qorbelline".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(studies.len(), 1);
    assert_eq!(studies[0].study_instance_uid, FAKE_STUDY_UID);
    let queued = service
        .analyse_from_pacs(FAKE_STUDY_UID, None)
        .await
        .unwrap();
    assert_eq!(queued.len(), 1);
    service.run(RunMode::UntilIdle).await.unwrap();
    let id = &queued[0].analysis.id;
    let detail = service.open_analysis(id, "Dr Bell").unwrap();
    assert_eq!(detail.analysis.status, AnalysisStatus::Completed);
    let suggested = detail.suggested_patient.unwrap();
    assert_eq!(suggested.display_name, "Zyxwvut Qorbelline");
    assert_eq!(suggested.external_id.as_deref(), Some(FAKE_PATIENT.id));
    // No copy of the named file is left outside the queue's own folder.
    let incoming = dir.path().join("data/incoming");
    assert_eq!(std::fs::read_dir(&incoming).unwrap().count(), 0);

    // Our own derived study has no PX image: nothing to analyse, said so.
    let receipt = {
        let id = approve(&service, &sample_path(), "Grace Hopper", "OD-1").await;
        service.send_to_pacs(&id).await.unwrap()
    };
    let err = service
        .analyse_from_pacs(&receipt.study_instance_uid, None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "no_panoramic_image");
    // Only a DICOM host set: finding studies needs DICOMweb, and says so.
    let dimse_only = self::service(
        &dir.path().join("dimse"),
        PacsSettings {
            dicomweb_url: None,
            ..both_routes(&pacs)
        },
    );
    let err = dimse_only
        .pacs_studies(&Default::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "pacs_settings");
    assert!(err.to_string().contains("DICOMweb address"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_sends_to_the_pacs_and_waits_for_it_when_it_is_down() {
    let dir = tempfile::tempdir().unwrap();
    let mut pacs = OrthancPeer::start();
    let mut settings = Settings {
        backend: BackendChoice::Local,
        data_dir: Some(dir.path().join("data")),
        models_dir: Some(test_models()),
        archive: ArchiveSettings::Folder {
            path: dir.path().join("archive"),
        },
        retry: pano_service::RetrySettings {
            base_s: 0.2,
            cap_s: 0.5,
        },
        pacs: PacsSettings {
            dicomweb_url: Some(pacs.dicomweb_url()),
            ..PacsSettings::default()
        },
        ..Settings::default()
    };
    std::fs::create_dir_all(dir.path().join("archive")).unwrap();
    settings.operator = Some("test-operator".into());
    let service = AnalysisService::open(settings, Secrets::default()).unwrap();
    let input = dir.path().join("scan.png");
    std::fs::copy(
        pano_testkit::repo_root().join("tests/data/pan-small-square.png"),
        &input,
    )
    .unwrap();
    let id = service.enqueue(&input, None).unwrap().analysis.id;
    service.run(RunMode::UntilIdle).await.unwrap();
    pacs.stop();
    let outcome = service
        .approve(
            &id,
            PatientChoice::New {
                display_name: "Grace Hopper".into(),
                external_id: Some("OD-9".into()),
                birth_date: None,
            },
            "Dr Bell",
            Thresholds::default(),
        )
        .await
        .unwrap();
    // The approval stands; filing waits for the PACS and says why.
    assert_eq!(outcome.archived_location, None);
    let job = service
        .queue()
        .unwrap()
        .into_iter()
        .find(|j| j.analysis_id == id)
        .expect("the filing waits in the queue");
    assert!(
        job.last_error
            .as_deref()
            .unwrap_or_default()
            .contains("PACS"),
        "{job:?}"
    );
    pacs.restart();
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    service.run(RunMode::UntilIdle).await.unwrap();
    assert!(service.analysis(&id).unwrap().archived_location.is_some());
    let instances = pacs.get_json("/instances");
    assert_eq!(instances.as_array().unwrap().len(), 2);
}
