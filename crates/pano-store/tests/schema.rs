use pano_store::{Store, StoreError, SCHEMA_VERSION};
use rusqlite::params;

fn insert_analysis(store: &Store, id: &str) -> rusqlite::Result<usize> {
    store.connection().execute(
        "INSERT INTO analyses (id, image_sha256, original_file_name, width, height, backend, model_version, status, created_at, updated_at)
         VALUES (?1, 'ab', 'pan.jpg', 2356, 1292, 'local', 'm1', 'completed', '2026-11-26T10:00:00Z', '2026-11-26T10:00:00Z')",
        params![id],
    )
}

#[test]
fn a_new_file_gets_the_current_schema_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("pano.sqlite")).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    let mode: String = store
        .connection()
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    drop(store);
    // Reopening applies nothing twice.
    let again = Store::open(&dir.path().join("pano.sqlite")).unwrap();
    assert_eq!(again.schema_version().unwrap(), SCHEMA_VERSION);
}

#[test]
fn foreign_keys_and_checks_are_enforced() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("pano.sqlite")).unwrap();
    let orphan = store.connection().execute(
        "INSERT INTO findings (analysis_id, fdi, finding, score) VALUES ('nope', 11, 'MISSING', 0.5)",
        [],
    );
    assert!(orphan.unwrap_err().to_string().contains("FOREIGN KEY"));
    insert_analysis(&store, "a1").unwrap();
    let bad_score = store.connection().execute(
        "INSERT INTO findings (analysis_id, fdi, finding, score) VALUES ('a1', 11, 'MISSING', 1.5)",
        [],
    );
    assert!(bad_score.unwrap_err().to_string().contains("CHECK"));
    store
        .connection()
        .execute(
            "INSERT INTO findings VALUES ('a1', 11, 'MISSING', 0.25)",
            [],
        )
        .unwrap();
    store
        .connection()
        .execute("DELETE FROM analyses WHERE id = 'a1'", [])
        .unwrap();
    let left: i64 = store
        .connection()
        .query_row("SELECT COUNT(*) FROM findings", [], |r| r.get(0))
        .unwrap();
    assert_eq!(left, 0, "findings go with their analysis");
}

#[test]
fn the_audit_log_is_append_only() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("pano.sqlite")).unwrap();
    store
        .connection()
        .execute("INSERT INTO audit_log (at, actor, action, analysis_id) VALUES ('t', 'dr-a', 'approved', 'a1')", [])
        .unwrap();
    for sql in [
        "UPDATE audit_log SET actor = 'someone else'",
        "DELETE FROM audit_log",
    ] {
        let err = store.connection().execute(sql, []).unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
}

#[test]
fn a_database_from_a_newer_version_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pano.sqlite");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 5)
            .unwrap();
    }
    match Store::open(&path) {
        Err(StoreError::TooNew { found, known }) => {
            assert_eq!((found, known), (SCHEMA_VERSION + 5, SCHEMA_VERSION))
        }
        other => panic!("{:?}", other.err()),
    }
}

fn audit_seqs(store: &Store) -> Vec<(i64, String)> {
    let mut stmt = store
        .connection()
        .prepare("SELECT seq, action FROM audit_log ORDER BY seq")
        .unwrap();
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    rows
}

#[test]
fn the_audit_log_rebuild_keeps_every_row_its_seq_and_the_append_only_rule() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pano.sqlite");
    let (before, high_water) = {
        let mut conn = rusqlite::Connection::open(&path).unwrap();
        pano_store::migrate_to(&mut conn, 2).unwrap();
        for (i, action) in ["created", "viewed", "approved", "uploaded", "viewed"]
            .iter()
            .enumerate()
        {
            // Gaps in seq, as a rolled-back insert leaves them.
            conn.execute(
                "INSERT INTO audit_log (seq, at, actor, action, analysis_id, detail) VALUES (?1, 't', 'dr', ?2, 'a1', ?3)",
                params![10 * (i as i64 + 1), action, format!("d{i}")],
            )
            .unwrap();
        }
        // The high-water mark beyond the last row (a row inserted and rolled back).
        conn.execute(
            "UPDATE sqlite_sequence SET seq = 77 WHERE name = 'audit_log'",
            [],
        )
        .unwrap();
        let rows: Vec<(i64, String, String)> = {
            let mut stmt = conn
                .prepare("SELECT seq, action, detail FROM audit_log ORDER BY seq")
                .unwrap();
            let rows = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .unwrap();
            rows.collect::<Result<_, _>>().unwrap()
        };
        (rows, 77)
    };
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    let after: Vec<(i64, String, String)> = {
        let mut stmt = store
            .connection()
            .prepare("SELECT seq, action, detail FROM audit_log ORDER BY seq")
            .unwrap();
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap();
        rows.collect::<Result<_, _>>().unwrap()
    };
    assert_eq!(after, before);
    for sql in [
        "UPDATE audit_log SET actor = 'someone else'",
        "DELETE FROM audit_log",
    ] {
        let err = store.connection().execute(sql, []).unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    store
        .append_audit(
            "dr",
            pano_store::AuditAction::Reviewed,
            Some("a1"),
            Some("{}"),
        )
        .unwrap();
    let last = audit_seqs(&store).pop().unwrap();
    assert_eq!(last, (high_water + 1, "reviewed".to_string()));
    let unknown = store.connection().execute(
        "INSERT INTO audit_log (at, actor, action) VALUES ('t', 'dr', 'edited')",
        [],
    );
    assert!(unknown.unwrap_err().to_string().contains("CHECK"));
}

#[test]
fn a_version_1_file_with_data_upgrades_and_keeps_it() {
    // A file as version 1 wrote it (tests/fixtures/README.md says how it was made): today's
    // migrations must upgrade what old installations really have on disk.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pano.sqlite");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/pano-v1.sqlite"),
        &path,
    )
    .unwrap();
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, 1, "the fixture is a version-1 file");
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    let a = store.analysis("a1").unwrap();
    assert_eq!(a.original_file_name, "pan.jpg");
    assert_eq!(a.patient_id.as_deref(), Some("p1"));
    assert_eq!(a.approved_by.as_deref(), Some("Dr Bell"));
    assert!(!a.test_model, "new columns get their defaults");
    assert_eq!(a.archived_location, None);
    assert_eq!(store.patient("p1").unwrap().display_name, "Ada Lovelace");
    let finding: (i64, String, f64) = store
        .connection()
        .query_row(
            "SELECT fdi, finding, score FROM findings WHERE analysis_id = 'a1'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(finding, (11, "CARIES".to_string(), 0.25));
    let job = store.job("j2").unwrap().unwrap();
    assert_eq!(job.kind, pano_store::JobKind::Analyze);
    assert_eq!(job.runpod_job_id.as_deref(), Some("rp-1"));
    assert_eq!(job.file_name, "second.png");
    let audit = store.audit_of("a1").unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].actor, "Dr Bell");
    assert_eq!(SCHEMA_VERSION, 4);
    let seqs: Vec<(i64, String)> = audit_seqs(&store);
    assert_eq!(seqs.len(), 1);
    // Version 3's columns and the review table are there, empty.
    assert_eq!(store.patient("p1").unwrap().birth_date, None);
    assert_eq!(a.patient_name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(a.approved_thresholds, None);
    assert!(store.decisions_of("a1").unwrap().is_empty());
    // Version 4's practice-system patient: absent, then recorded while undecided.
    assert_eq!(store.pms_patient_of("a1").unwrap(), None);
    let tags = pano_store::DicomPatientTags {
        name: Some("Ada Lovelace".into()),
        id: Some("OD-1".into()),
        birth_date: Some("1815-12-10".into()),
    };
    let recorded = store.set_pms_patient("a1", &tags).unwrap();
    assert_eq!(recorded, a.status != pano_store::AnalysisStatus::Approved);
    store
        .append_audit(
            "Dr Bell",
            pano_store::AuditAction::Reviewed,
            Some("a1"),
            None,
        )
        .unwrap();
    let after = audit_seqs(&store);
    assert!(after[1].0 > after[0].0, "the sequence goes on: {after:?}");
    // Still append-only after the upgrade.
    assert!(store
        .connection()
        .execute("DELETE FROM audit_log", [])
        .is_err());
}
