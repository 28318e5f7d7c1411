//! The derived objects checked by DICOM's own validator (dicom3tools' `dciodvfy`) and
//! stored in a real PACS (Orthanc, started here on free ports) by STOW-RS and by C-STORE,
//! then read back from Orthanc: patient, study, series, the pixels and the PDF itself.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use pano_dicom::{
    encapsulated_pdf, new_study, secondary_capture, Derivation, DicomFile, DicomWebClient,
    DimsePeer, StudyContext, StudyQuery,
};
use pano_testkit::{identified_dicom, OrthancPeer, FAKE_PATIENT, FAKE_STUDY_UID, ORTHANC_AET};

fn derivation(analysis_id: &str) -> Derivation {
    Derivation {
        analysis_id: analysis_id.into(),
        content_date: "20261202".into(),
        content_time: "113000".into(),
        model_version: "anchor-format-narrow-random-1".into(),
        approved_by: "Dr Amira Grey".into(),
        institution_name: "Harbour Dental Practice".into(),
        lossy_source: true,
        test_models: true,
    }
}

/// A small RGB picture with a gradient, so pixel round trips can be checked.
fn rgb(width: u32, height: u32) -> Vec<u8> {
    let mut pixels = Vec::with_capacity((width * height * 3) as usize);
    for y in 0..height {
        for x in 0..width {
            pixels.extend_from_slice(&[(x % 256) as u8, (y % 256) as u8, 128]);
        }
    }
    pixels
}

/// A tiny but real PDF.
fn pdf() -> Vec<u8> {
    b"%PDF-1.7\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n".to_vec()
}

fn study_new() -> StudyContext {
    new_study(
        "analysis-7",
        "Zoë Ångström-Núñez",
        "OD-10452",
        Some("1984-03-09"),
        "20261202",
        "113000",
    )
}

/// dciodvfy's verdict: its error lines (warnings about optional attributes are allowed).
fn dciodvfy_errors(file: &DicomFile, dir: &Path) -> Vec<String> {
    let path = dir.join(format!("{}.dcm", file.sop_instance_uid));
    std::fs::write(&path, &file.bytes).unwrap();
    let out = Command::new("dciodvfy")
        .arg(&path)
        .output()
        .expect("dciodvfy (dicom3tools, installed by scripts/setup.sh)");
    let text =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    text.lines()
        .filter(|l| l.starts_with("Error"))
        .map(String::from)
        .collect()
}

#[test]
fn the_derived_objects_pass_dicoms_own_validator() {
    let dir = tempfile::tempdir().unwrap();
    let sc = secondary_capture(
        &study_new(),
        &derivation("analysis-7"),
        &rgb(64, 32),
        64,
        32,
    )
    .unwrap();
    let doc = encapsulated_pdf(
        &study_new(),
        &derivation("analysis-7"),
        &pdf(),
        "Panoramic radiograph report",
    )
    .unwrap();
    for file in [&sc, &doc] {
        let errors = dciodvfy_errors(file, dir.path());
        assert!(errors.is_empty(), "{}: {errors:#?}", file.sop_class_uid);
    }
    // Same analysis, same objects (a resend replaces, never duplicates); new study.
    let again = secondary_capture(
        &study_new(),
        &derivation("analysis-7"),
        &rgb(64, 32),
        64,
        32,
    )
    .unwrap();
    assert_eq!(again.sop_instance_uid, sc.sop_instance_uid);
    assert_eq!(sc.study_instance_uid, doc.study_instance_uid);
    assert_ne!(sc.series_instance_uid, doc.series_instance_uid);
    // Bad input is refused, not written.
    assert!(secondary_capture(&study_new(), &derivation("a"), &[0; 10], 64, 32).is_err());
    assert!(encapsulated_pdf(&study_new(), &derivation("a"), b"not a pdf", "t").is_err());
}

/// The study of a DICOM input, as the service reads it with pano-imaging.
fn study_of_dicom(dir: &Path) -> StudyContext {
    let input = dir.join("input.dcm");
    identified_dicom(&input, &FAKE_PATIENT);
    let s = pano_imaging::dicom_study(&std::fs::read(&input).unwrap()).expect("a study");
    StudyContext {
        patient_name: s.patient_name,
        patient_id: s.patient_id,
        patient_birth_date: s.patient_birth_date,
        patient_sex: s.patient_sex,
        study_instance_uid: s.study_instance_uid,
        study_date: s.study_date,
        study_time: s.study_time,
        study_id: s.study_id,
        accession_number: s.accession_number,
        referring_physician_name: s.referring_physician_name,
        study_description: s.study_description,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stow_rs_files_both_objects_in_the_inputs_study() {
    let dir = tempfile::tempdir().unwrap();
    let pacs = OrthancPeer::start();
    let study = study_of_dicom(dir.path());
    assert_eq!(study.study_instance_uid, FAKE_STUDY_UID);
    let d = derivation("analysis-dicom-1");
    let pixels = rgb(300, 200);
    let sc = secondary_capture(&study, &d, &pixels, 300, 200).unwrap();
    let report = pdf();
    let doc = encapsulated_pdf(&study, &d, &report, "Panoramic radiograph report").unwrap();
    let client = DicomWebClient::new(&pacs.dicomweb_url(), Duration::from_secs(30)).unwrap();
    client.check().await.unwrap();
    let receipt = client.store(&[sc.clone(), doc.clone()]).await.unwrap();
    assert_eq!(receipt.failed, []);
    assert_eq!(receipt.stored.len(), 2);

    // Read back from Orthanc: one study, the input's, with our two series.
    let studies = pacs.get_json("/studies?expand");
    let studies = studies.as_array().unwrap();
    assert_eq!(studies.len(), 1);
    let tags = &studies[0]["MainDicomTags"];
    assert_eq!(tags["StudyInstanceUID"], FAKE_STUDY_UID);
    assert_eq!(tags["AccessionNumber"], "ACC-0042");
    let patient = &studies[0]["PatientMainDicomTags"];
    assert_eq!(patient["PatientName"], FAKE_PATIENT.name);
    assert_eq!(patient["PatientID"], FAKE_PATIENT.id);
    assert_eq!(patient["PatientBirthDate"], FAKE_PATIENT.birth_date);
    let series = pacs.get_json("/series?expand");
    let mut modalities: Vec<String> = series
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["MainDicomTags"]["Modality"].as_str().unwrap().to_string())
        .collect();
    modalities.sort();
    assert_eq!(modalities, ["DOC", "OT"]);

    // The pixels and the PDF are what was sent.
    let instances = pacs.get_json("/instances?expand");
    for instance in instances.as_array().unwrap() {
        let id = instance["ID"].as_str().unwrap();
        let uid = instance["MainDicomTags"]["SOPInstanceUID"]
            .as_str()
            .unwrap();
        let tags = pacs.get_json(&format!("/instances/{id}/simplified-tags"));
        if uid == sc.sop_instance_uid {
            assert_eq!(tags["SOPClassUID"], pano_dicom::SECONDARY_CAPTURE);
            assert_eq!(tags["BurnedInAnnotation"], "YES");
            assert_eq!(tags["ConversionType"], "WSD");
            let raw = pacs.get(&format!("/instances/{id}/frames/0/raw"));
            assert!(raw == pixels, "pixels differ ({} bytes back)", raw.len());
        } else {
            assert_eq!(uid, doc.sop_instance_uid);
            assert_eq!(tags["SOPClassUID"], pano_dicom::ENCAPSULATED_PDF);
            assert_eq!(tags["MIMETypeOfEncapsulatedDocument"], "application/pdf");
            let raw = pacs.get(&format!("/instances/{id}/content/0042-0011"));
            assert!(
                raw.starts_with(&report),
                "the PDF differs ({} bytes back)",
                raw.len()
            );
        }
    }

    // Sending again changes nothing in the PACS (same UIDs).
    client.store(&[sc, doc]).await.unwrap();
    assert_eq!(pacs.get_json("/instances").as_array().unwrap().len(), 2);
}

#[test]
fn c_store_files_both_objects_and_a_wrong_ae_title_is_refused() {
    let pacs = OrthancPeer::start();
    let study = study_new();
    let d = derivation("analysis-7");
    let sc = secondary_capture(&study, &d, &rgb(120, 80), 120, 80).unwrap();
    let doc = encapsulated_pdf(&study, &d, &pdf(), "Panoramic radiograph report").unwrap();
    let peer = DimsePeer {
        host: "127.0.0.1".into(),
        port: pacs.dicom_port,
        called_ae_title: ORTHANC_AET.into(),
        calling_ae_title: "PANO".into(),
        timeout: Duration::from_secs(20),
    };
    peer.echo().unwrap();
    peer.store(&[sc.clone(), doc.clone()]).unwrap();
    let instances = pacs.get_json("/instances?expand");
    let mut uids: Vec<String> = instances
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            i["MainDicomTags"]["SOPInstanceUID"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    uids.sort();
    let mut wanted = vec![sc.sop_instance_uid.clone(), doc.sop_instance_uid.clone()];
    wanted.sort();
    assert_eq!(uids, wanted);
    let patients = pacs.get_json("/patients?expand");
    assert_eq!(
        patients[0]["MainDicomTags"]["PatientName"],
        "Ångström-Núñez^Zoë"
    );
    assert_eq!(patients[0]["MainDicomTags"]["PatientID"], "OD-10452");

    // A PACS that does not know the AE title we call refuses the association.
    let wrong = DimsePeer {
        called_ae_title: "NOT-THE-PACS".into(),
        ..peer.clone()
    };
    let err = wrong.store(std::slice::from_ref(&sc)).unwrap_err();
    assert_eq!(err.code(), "pacs_refused", "{err}");
    // Nothing listening: unreachable, worth retrying later.
    let nowhere = DimsePeer {
        port: pano_testkit::free_port(),
        ..peer.clone()
    };
    let err = nowhere.echo().unwrap_err();
    assert!(err.is_transient(), "{err}");
    // An AE title that is not one is a setting to fix, found before connecting.
    let bad = DimsePeer {
        called_ae_title: "A\\B".into(),
        ..peer
    };
    assert_eq!(bad.echo().unwrap_err().code(), "pacs_settings");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pacs_that_is_down_or_answers_garbage_is_a_specific_error() {
    let mut pacs = OrthancPeer::start();
    let client = DicomWebClient::new(&pacs.dicomweb_url(), Duration::from_secs(10)).unwrap();
    pacs.stop();
    let sc = secondary_capture(&study_new(), &derivation("a"), &rgb(16, 16), 16, 16).unwrap();
    let err = client.store(std::slice::from_ref(&sc)).await.unwrap_err();
    assert!(err.is_transient(), "{err}");

    // Something that answers 200 with text that is not DICOM JSON.
    let port = fake_http("200 OK", "<html>welcome to the router</html>", 2);
    let garbage = DicomWebClient::new(
        &format!("http://127.0.0.1:{port}/dicom-web"),
        Duration::from_secs(10),
    )
    .unwrap();
    let err = garbage.store(std::slice::from_ref(&sc)).await.unwrap_err();
    assert_eq!(err.code(), "pacs_bad_answer", "{err}");
    assert_eq!(garbage.check().await.unwrap_err().code(), "pacs_bad_answer");
    // A store whose answer does not account for what was sent is not believed.
    let silent = fake_http("200 OK", "{}", 1);
    let client = DicomWebClient::new(
        &format!("http://127.0.0.1:{silent}/dicom-web"),
        Duration::from_secs(10),
    )
    .unwrap();
    let err = client.store(std::slice::from_ref(&sc)).await.unwrap_err();
    assert!(
        err.to_string().contains("does not say whether it stored"),
        "{err}"
    );
    // A proxy in front of a PACS that is down: busy, worth retrying.
    let busy = fake_http("503 Service Unavailable", "", 1);
    let client = DicomWebClient::new(
        &format!("http://127.0.0.1:{busy}/dicom-web"),
        Duration::from_secs(10),
    )
    .unwrap();
    let err = client.store(std::slice::from_ref(&sc)).await.unwrap_err();
    assert!(err.is_transient(), "{err}");
    // Plain http to another computer is refused before anything is sent.
    assert_eq!(
        DicomWebClient::new("http://pacs.example/dicom-web", Duration::from_secs(1))
            .unwrap_err()
            .code(),
        "pacs_settings"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panoramic_studies_are_found_and_retrieved_by_dicomweb() {
    let dir = tempfile::tempdir().unwrap();
    let pacs = OrthancPeer::start();
    let input = dir.path().join("px.dcm");
    identified_dicom(&input, &FAKE_PATIENT);
    let original = std::fs::read(&input).unwrap();
    pacs.upload(&original);
    // Another study with only a derived picture (no PX image) is not offered.
    let other = secondary_capture(&study_new(), &derivation("x"), &rgb(16, 16), 16, 16).unwrap();
    pacs.upload(&other.bytes);

    let client = DicomWebClient::new(&pacs.dicomweb_url(), Duration::from_secs(20)).unwrap();
    let by_id = client
        .find_panoramic_studies(&StudyQuery {
            patient: Some(FAKE_PATIENT.id.into()),
            ..StudyQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(by_id.len(), 1, "{by_id:?}");
    let study = &by_id[0];
    assert_eq!(study.study_instance_uid, FAKE_STUDY_UID);
    assert_eq!(study.patient_name, "Zyxwvut Qorbelline");
    assert_eq!(study.study_date.as_deref(), Some("2026-11-30"));
    let by_name = client
        .find_panoramic_studies(&StudyQuery {
            patient: Some("qorbel".into()),
            since: Some("2026-11-01".into()),
            until: Some("2026-12-31".into()),
        })
        .await
        .unwrap();
    assert_eq!(by_name.len(), 1, "{by_name:?}");
    let everything = client
        .find_panoramic_studies(&StudyQuery::default())
        .await
        .unwrap();
    assert_eq!(
        everything.len(),
        1,
        "only the study with a PX image: {everything:?}"
    );
    let too_early = client
        .find_panoramic_studies(&StudyQuery {
            until: Some("2026-01-01".into()),
            ..StudyQuery::default()
        })
        .await
        .unwrap();
    assert!(too_early.is_empty());

    let instances = client.panoramic_instances(FAKE_STUDY_UID).await.unwrap();
    assert_eq!(instances.len(), 1);
    let (series, sop) = &instances[0];
    let file = client
        .retrieve_instance(FAKE_STUDY_UID, series, sop)
        .await
        .unwrap();
    let patient = pano_imaging::dicom_patient(&file).unwrap();
    assert_eq!(patient.id.as_deref(), Some(FAKE_PATIENT.id));
    let back = pano_imaging::import_bytes(&file, &pano_imaging::ImportLimits::default()).unwrap();
    let sent =
        pano_imaging::import_bytes(&original, &pano_imaging::ImportLimits::default()).unwrap();
    assert!(
        back.rgb.as_raw() == sent.rgb.as_raw(),
        "the same pixels come back"
    );
    // The derived study has no PX image.
    assert!(client
        .panoramic_instances(&other.study_instance_uid)
        .await
        .unwrap()
        .is_empty());
    // A UID that is not one is refused before anything is sent.
    assert_eq!(
        client
            .panoramic_instances("1.2.x")
            .await
            .unwrap_err()
            .code(),
        "pacs_bad_answer"
    );
}

/// A one-shot HTTP server on a free port answering every request (`count` of them) with
/// the same status and body.
fn fake_http(status: &'static str, body: &'static str, count: usize) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for stream in listener.incoming().take(count) {
            let mut stream = stream.unwrap();
            let mut buf = vec![0u8; 1 << 20];
            let _ = stream.set_read_timeout(Some(Duration::from_millis(300)));
            let _ = stream.read(&mut buf);
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/dicom+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    port
}
