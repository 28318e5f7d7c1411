//! S3 storage against a real S3 server (`s3s-fs`, started here): uploads, presigned URLs,
//! promotion to the permanent layout, and "test connection" telling failures apart.

mod common;

use std::time::Duration;

use common::*;
use pano_cloud::storage::{
    ApprovedAnalysis, ConnectionWarning, OpaqueId, PermanentStorage, S3Settings, S3Storage,
    StorageError,
};

fn approved(input: Vec<u8>) -> ApprovedAnalysis {
    ApprovedAnalysis {
        patient_id: OpaqueId::new("7f1c2a90-patient").unwrap(),
        analysis_id: OpaqueId::random(),
        input_extension: "jpg",
        input,
        findings_csv: b"file_name,fdi,finding,score\n".to_vec(),
        reviewed_csv: b"file_name,fdi,finding,score,source\n".to_vec(),
        analysis_json: br#"{"ok":true}"#.to_vec(),
        debug_images: vec![
            (
                "semantic-segmentation.jpg".into(),
                vec![0xFF, 0xD8, 1, 0xFF, 0xD9],
            ),
            (
                "instance-detection.jpg".into(),
                vec![0xFF, 0xD8, 2, 0xFF, 0xD9],
            ),
        ],
        report_pdf: Some(b"%PDF-1.7 report".to_vec()),
    }
}

fn expected_keys(a: &ApprovedAnalysis) -> Vec<String> {
    let p = format!("patients/{}/{}/", a.patient_id, a.analysis_id);
    let mut keys: Vec<String> = [
        "analysis.json",
        "debug/instance-detection.jpg",
        "debug/semantic-segmentation.jpg",
        "findings.csv",
        "input.jpg",
        "report.pdf",
        "reviewed.csv",
    ]
    .iter()
    .map(|n| format!("{p}{n}"))
    .collect();
    keys.sort();
    keys
}

#[tokio::test]
async fn upload_presign_and_fetch_like_a_worker() {
    let s3 = S3Peer::start();
    let storage = s3.storage();
    storage.test_connection().await.unwrap();
    let image = sample_jpeg();
    let up = storage.upload_temp(&image, "JPG").await.unwrap();
    assert!(
        up.key.starts_with("temp/") && up.key.ends_with(".jpg"),
        "{}",
        up.key
    );
    assert_eq!(up.size, image.len() as u64);
    let url = storage
        .presign_temp(&up, Duration::from_secs(300))
        .await
        .unwrap();
    let resp = reqwest::get(&url).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["x-amz-meta-sha256"].to_str().unwrap(),
        up.sha256
    );
    assert_eq!(resp.bytes().await.unwrap().as_ref(), image.as_slice());

    // A tampered URL (another key, same signature) is refused.
    let other = storage.upload_temp(b"other", "png").await.unwrap();
    let tampered = url.replace(
        up.key.trim_start_matches("temp/"),
        other.key.trim_start_matches("temp/"),
    );
    assert_ne!(tampered, url);
    assert_eq!(reqwest::get(&tampered).await.unwrap().status(), 403);
    // A URL signed with the wrong secret is refused.
    let forged = S3Storage::new(s3.settings(), &credentials("not-the-secret"))
        .unwrap()
        .presign_temp(&up, Duration::from_secs(300))
        .await
        .unwrap();
    assert_eq!(reqwest::get(&forged).await.unwrap().status(), 403);
}

#[tokio::test]
async fn an_expired_presigned_url_is_refused() {
    let s3 = S3Peer::start();
    let storage = s3.storage();
    let up = storage
        .upload_temp(b"\xFF\xD8x\xFF\xD9", "jpg")
        .await
        .unwrap();
    let url = storage
        .presign_temp(&up, Duration::from_secs(3))
        .await
        .unwrap();
    assert_eq!(reqwest::get(&url).await.unwrap().status(), 200);
    tokio::time::sleep(Duration::from_millis(4100)).await;
    assert_eq!(reqwest::get(&url).await.unwrap().status(), 403);
}

#[tokio::test]
async fn large_images_go_up_in_parts() {
    let s3 = S3Peer::start();
    let storage = S3Storage::new(
        S3Settings {
            multipart_threshold: 5 * 1024 * 1024,
            ..s3.settings()
        },
        &credentials(SECRET_KEY),
    )
    .unwrap();
    let big: Vec<u8> = (0..12 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let up = storage.upload_temp(&big, "png").await.unwrap();
    assert_eq!(storage.get(&up.key).await.unwrap(), big);
    // Parts were really used: an object completed from N parts has the ETag
    // "<md5 of the parts' md5s>-N" (a single PUT's is the plain MD5), here 5 + 5 + 2 MiB.
    let url = storage
        .presign_temp(&up, Duration::from_secs(60))
        .await
        .unwrap();
    let resp = reqwest::get(&url).await.unwrap();
    assert_eq!(resp.status(), 200);
    let etag = resp.headers()["etag"].to_str().unwrap().trim_matches('"');
    assert!(etag.ends_with("-3"), "not a 3-part upload: ETag {etag}");
    // The upload's content type and SHA-256 metadata survive the parts.
    assert_eq!(resp.headers()["content-type"], "image/png");
    assert_eq!(
        resp.headers()["x-amz-meta-sha256"].to_str().unwrap(),
        up.sha256
    );
    // At the threshold, one PUT.
    let small = storage
        .upload_temp(&big[..5 * 1024 * 1024], "png")
        .await
        .unwrap();
    let url = storage
        .presign_temp(&small, Duration::from_secs(60))
        .await
        .unwrap();
    let resp = reqwest::get(&url).await.unwrap();
    assert!(!resp.headers()["etag"].to_str().unwrap().contains('-'));
}

#[tokio::test]
async fn promotion_files_one_complete_set_and_repeats_harmlessly() {
    let s3 = S3Peer::start();
    let storage = s3.storage();
    let image = sample_jpeg();
    let up = storage.upload_temp(&image, "jpg").await.unwrap();
    let a = approved(image.clone());
    let stored = storage.store_approved(&a, Some(&up)).await.unwrap();
    assert!(stored.location.ends_with(&format!("/{}/", a.analysis_id)));
    let prefix = format!("patients/{}/", a.patient_id);
    assert_eq!(storage.list(&prefix).await.unwrap(), expected_keys(&a));
    assert!(!storage.exists(&up.key).await.unwrap(), "temp deleted");
    let input_key = format!("{prefix}{}/input.jpg", a.analysis_id);
    assert_eq!(storage.get(&input_key).await.unwrap(), image);

    // A crash after the temp object was deleted, then the promotion again: the same single
    // set, the input from the local copy.
    storage.store_approved(&a, Some(&up)).await.unwrap();
    assert_eq!(storage.list(&prefix).await.unwrap(), expected_keys(&a));
    assert_eq!(storage.get(&input_key).await.unwrap(), image);
    // A crash between the copies (input and CSV there, the rest not), then the promotion
    // again: one complete set, the temp object gone.
    let b = approved(image.clone());
    let up_b = storage.upload_temp(&image, "jpg").await.unwrap();
    let b_prefix = format!("{prefix}{}/", b.analysis_id);
    storage
        .put_object(&format!("{b_prefix}input.jpg"), &image, "image/jpeg")
        .await
        .unwrap();
    storage
        .put_object(&format!("{b_prefix}findings.csv"), b"partial", "text/csv")
        .await
        .unwrap();
    storage.store_approved(&b, Some(&up_b)).await.unwrap();
    assert_eq!(
        storage
            .get(&format!("{b_prefix}findings.csv"))
            .await
            .unwrap(),
        b.findings_csv
    );
    let all = storage.list(&prefix).await.unwrap();
    assert_eq!(
        storage
            .get(&format!("{b_prefix}reviewed.csv"))
            .await
            .unwrap(),
        b.reviewed_csv
    );
    assert_eq!(all.len(), 14, "two analyses, seven objects each: {all:?}");
    assert!(storage.list("temp/").await.unwrap().is_empty());
}

#[tokio::test]
async fn test_connection_tells_failures_apart() {
    let mut s3 = S3Peer::start();
    let wrong = S3Storage::new(s3.settings(), &credentials("wrong-secret")).unwrap();
    assert_eq!(wrong.test_connection().await, Err(StorageError::WrongKeys));
    let mut other_key = credentials(SECRET_KEY);
    other_key.access_key_id = "unknown-key".into();
    let unknown = S3Storage::new(s3.settings(), &other_key).unwrap();
    assert_eq!(
        unknown.test_connection().await,
        Err(StorageError::WrongKeys)
    );

    let missing = S3Storage::new(
        S3Settings {
            bucket: "no-such-bucket".into(),
            ..s3.settings()
        },
        &credentials(SECRET_KEY),
    )
    .unwrap();
    assert_eq!(
        missing.test_connection().await,
        Err(StorageError::MissingBucket {
            bucket: "no-such-bucket".into()
        })
    );

    // The computer's clock an hour ahead of the server's.
    #[derive(Debug)]
    struct Ahead;
    impl aws_smithy_async::time::TimeSource for Ahead {
        fn now(&self) -> std::time::SystemTime {
            std::time::SystemTime::now() + Duration::from_secs(3600)
        }
    }
    let skewed = S3Storage::with_config(s3.settings(), &credentials(SECRET_KEY), |b| {
        b.time_source(Ahead)
    })
    .unwrap();
    assert_eq!(skewed.test_connection().await, Err(StorageError::ClockSkew));

    s3.stop();
    let down = s3.storage().test_connection().await;
    assert!(
        matches!(down, Err(StorageError::Unreachable { ref endpoint, .. }) if endpoint == &s3.endpoint()),
        "{down:?}"
    );
    assert!(down.unwrap_err().is_transient());
    s3.restart();
    s3.storage().test_connection().await.unwrap();
}

/// s3s-fs does not implement lifecycle rules: the test still succeeds and says that the
/// temp prefix's expiry could not be checked (tests/s3_answers.rs covers the rules).
#[tokio::test]
async fn test_connection_says_when_lifecycle_rules_cannot_be_checked() {
    let s3 = S3Peer::start();
    let report = s3.storage().test_connection().await.unwrap();
    assert_eq!(report.warnings.len(), 1, "{report:?}");
    let warning = &report.warnings[0];
    assert_eq!(warning.code, ConnectionWarning::LIFECYCLE_UNCHECKED);
    assert!(
        warning.message.contains("could not check") && warning.message.contains("temp/"),
        "{}",
        warning.message
    );
    assert!(s3.keys("temp/").is_empty(), "the probe object is gone");
}

#[tokio::test]
async fn keys_hold_opaque_ids_only() {
    assert!(OpaqueId::new("Jane Doe 1970-01-01").is_err());
    assert!(OpaqueId::new("../escape").is_err());
    assert!(OpaqueId::new("").is_err());
    assert!(OpaqueId::new(&"a".repeat(65)).is_err());
    assert!(OpaqueId::new("0b6e4a1c-3f5e-4d2a-9c1b-2a3b4c5d6e7f").is_ok());
}
