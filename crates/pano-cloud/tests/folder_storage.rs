//! The local-folder (NAS) storage: the bucket's layout, sets that appear whole, repeats.

use pano_cloud::storage::{
    ApprovedAnalysis, FolderStorage, OpaqueId, PermanentStorage, StorageError,
};

fn approved() -> ApprovedAnalysis {
    ApprovedAnalysis {
        patient_id: OpaqueId::new("p-1").unwrap(),
        analysis_id: OpaqueId::random(),
        input_extension: "png",
        input: vec![0x89, b'P', b'N', b'G'],
        findings_csv: b"file_name,fdi,finding,score\n".to_vec(),
        reviewed_csv: b"file_name,fdi,finding,score,source\n".to_vec(),
        analysis_json: b"{}".to_vec(),
        debug_images: vec![(
            "semantic-segmentation.jpg".into(),
            vec![0xFF, 0xD8, 0xFF, 0xD9],
        )],
        report_pdf: Some(b"%PDF-1.7 report".to_vec()),
    }
}

/// The files under `dir`, relative to it, sorted.
fn files_under(dir: &std::path::Path) -> Vec<String> {
    let mut out: Vec<String> = pano_testkit::files_under(dir)
        .iter()
        .map(|f| f.strip_prefix(dir).unwrap().display().to_string())
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn a_set_lands_whole_in_the_layout_and_repeats_change_nothing() {
    let root = tempfile::tempdir().unwrap();
    let store = FolderStorage::new(root.path());
    store.test_connection().await.unwrap();
    let a = approved();
    let loc = store.store_approved(&a, None).await.unwrap();
    let dir = root.path().join(format!("patients/p-1/{}", a.analysis_id));
    assert_eq!(loc.location, dir.display().to_string() + "/");
    assert_eq!(
        files_under(&dir),
        [
            "analysis.json",
            "debug/semantic-segmentation.jpg",
            "findings.csv",
            "input.png",
            "report.pdf",
            "reviewed.csv"
        ]
    );
    assert_eq!(std::fs::read(dir.join("input.png")).unwrap(), a.input);
    assert_eq!(
        std::fs::read(dir.join("report.pdf")).unwrap(),
        a.report_pdf.clone().unwrap()
    );
    assert_eq!(
        std::fs::read(dir.join("reviewed.csv")).unwrap(),
        a.reviewed_csv
    );
    store.store_approved(&a, None).await.unwrap();
    assert_eq!(files_under(&dir).len(), 6);
    // Nothing left in staging.
    let staging = root.path().join(".staging");
    assert!(pano_testkit::files_under(&staging).is_empty());
}

#[tokio::test]
async fn a_missing_share_is_reported_not_recreated() {
    let root = tempfile::tempdir().unwrap();
    let gone = root.path().join("nas-not-mounted");
    let store = FolderStorage::new(&gone);
    assert!(matches!(
        store.test_connection().await,
        Err(StorageError::MissingFolder { .. })
    ));
    assert!(matches!(
        store.store_approved(&approved(), None).await,
        Err(StorageError::MissingFolder { .. })
    ));
    assert!(!gone.exists());
}

#[tokio::test]
async fn a_hand_made_incomplete_folder_is_never_merged_into() {
    let root = tempfile::tempdir().unwrap();
    let store = FolderStorage::new(root.path());
    let a = approved();
    let dir = root.path().join(format!("patients/p-1/{}", a.analysis_id));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("stray.txt"), b"x").unwrap();
    let err = store.store_approved(&a, None).await.unwrap_err();
    assert!(err.to_string().contains("incomplete"), "{err}");
    assert_eq!(files_under(&dir), ["stray.txt"]);
}
