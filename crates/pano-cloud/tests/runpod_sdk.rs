//! The whole cloud flow against real peers started here: `s3s-fs` as the bucket and RunPod's
//! own SDK serving its local API as the endpoint. upload -> presign -> run -> poll ->
//! validate -> approve -> permanent layout; and a rejection.

mod common;

use std::time::Duration;

use common::*;
use pano_cloud::runpod::{EndpointRole, RunpodClient, RunpodEndpoint, RunpodError, RunpodSettings};
use pano_cloud::storage::{ApprovedAnalysis, OpaqueId, PermanentStorage};
use pano_cloud::DebugImageSource;
use pano_core::WorkerInput;

fn client_with(peer: &RunpodPeer, key: &str) -> RunpodClient {
    let settings = RunpodSettings::new(RunpodEndpoint::new(&peer.base_url(), RUNPOD_ENDPOINT));
    RunpodClient::new(settings, key.to_string().into()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_run_poll_validate_approve() {
    let s3 = S3Peer::start();
    let runpod = RunpodPeer::start();
    let storage = s3.storage();
    let client = client_with(&runpod, RUNPOD_KEY);
    assert_eq!(
        client
            .health(EndpointRole::Primary)
            .await
            .unwrap()
            .describe(),
        "ready"
    );

    let image = sample_jpeg();
    let upload = storage.upload_temp(&image, "jpg").await.unwrap();
    let url = storage
        .presign_temp(&upload, Duration::from_secs(600))
        .await
        .unwrap();
    let job = client
        .submit(&WorkerInput {
            image_url: url,
            debug: true,
        })
        .await
        .unwrap();
    let mut progress = 0;
    let done = client
        .wait(&job, "pan-01432", |_| progress += 1)
        .await
        .unwrap();
    // The worker's answer, in its spellings and with its temp stem, became our result.
    let reference = pano_core::parse_csv(
        &std::fs::read_to_string(repo_root().join("tests/reference/pan-01432.csv")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        pano_core::write_csv(&done.output.assessment),
        pano_core::write_csv(&reference)
    );
    // The debug images are the JPEG the worker downloaded through the presigned URL.
    assert_eq!(
        done.output.semantic_segmentation,
        Some(DebugImageSource::Jpeg(image.clone()))
    );

    // Approval: the permanent layout, then the temp object is gone.
    let approved = ApprovedAnalysis {
        patient_id: OpaqueId::random(),
        analysis_id: OpaqueId::random(),
        input_extension: "jpg",
        input: image.clone(),
        findings_csv: pano_core::write_csv(&done.output.assessment).into_bytes(),
        reviewed_csv: pano_core::write_reviewed_csv(&done.output.assessment, |_, _| None)
            .into_bytes(),
        analysis_json: serde_json::to_vec(&serde_json::json!({"job": job.id})).unwrap(),
        debug_images: vec![("semantic-segmentation.jpg".into(), image.clone())],
        report_pdf: None,
    };
    storage
        .store_approved(&approved, Some(&upload))
        .await
        .unwrap();
    let prefix = format!("patients/{}/{}/", approved.patient_id, approved.analysis_id);
    assert_eq!(
        storage.list(&prefix).await.unwrap(),
        [
            "analysis.json",
            "debug/semantic-segmentation.jpg",
            "findings.csv",
            "input.jpg",
            "reviewed.csv"
        ]
        .map(|n| format!("{prefix}{n}"))
    );
    assert!(storage.list("temp/").await.unwrap().is_empty());

    // A rejected analysis: its temp upload is deleted and nothing is filed.
    let rejected = storage.upload_temp(&image, "jpg").await.unwrap();
    storage.delete_temp(&rejected).await.unwrap();
    assert!(storage.list("temp/").await.unwrap().is_empty());
    assert_eq!(storage.list("patients/").await.unwrap().len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_that_cannot_read_the_image_fails_the_job_with_its_reason() {
    let s3 = S3Peer::start();
    let runpod = RunpodPeer::start();
    let storage = s3.storage();
    let upload = storage.upload_temp(&sample_jpeg(), "jpg").await.unwrap();
    let url = storage
        .presign_temp(&upload, Duration::from_secs(1))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let client = client_with(&runpod, RUNPOD_KEY);
    let job = client
        .submit(&WorkerInput {
            image_url: url,
            debug: false,
        })
        .await
        .unwrap();
    match client.wait(&job, "x", |_| {}).await {
        Err(RunpodError::JobFailed { message }) => {
            assert!(message.contains("403"), "{message}")
        }
        other => panic!("expected a failed job, got {other:?}"),
    }
    // The temp object stays for a retry with a fresh URL.
    assert!(storage.exists(&upload.key).await.unwrap());
    assert_eq!(
        client_with(&runpod, "wrong-key")
            .submit(&WorkerInput {
                image_url: "https://x".into(),
                debug: false
            })
            .await
            .unwrap_err(),
        RunpodError::Unauthorized
    );
}
