//! Schema migrations, applied in order inside one transaction each; `user_version` records
//! the last one applied. Never edit a shipped migration: add the next one.

use rusqlite::Connection;

use crate::StoreError;

const MIGRATIONS: &[&str] = &[
    // 1: the first schema.
    r#"
    CREATE TABLE patients (
        id            TEXT PRIMARY KEY,              -- opaque; the only id that leaves this file
        display_name  TEXT NOT NULL,
        external_id   TEXT,
        created_at    TEXT NOT NULL
    );
    CREATE INDEX patients_by_name ON patients(display_name COLLATE NOCASE);

    CREATE TABLE analyses (
        id                  TEXT PRIMARY KEY,
        image_sha256        TEXT NOT NULL,
        original_file_name  TEXT NOT NULL,
        width               INTEGER NOT NULL,
        height              INTEGER NOT NULL,
        backend             TEXT NOT NULL CHECK (backend IN ('local', 'cloud')),
        endpoint            TEXT,
        model_version       TEXT NOT NULL,
        execution_provider  TEXT,
        queue_ms            INTEGER,
        run_ms              INTEGER,
        status              TEXT NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed', 'approved', 'rejected')),
        patient_id          TEXT REFERENCES patients(id),
        approved_by         TEXT,
        created_at          TEXT NOT NULL,
        updated_at          TEXT NOT NULL
    );
    CREATE INDEX analyses_by_image ON analyses(image_sha256, model_version);
    CREATE INDEX analyses_by_patient ON analyses(patient_id, created_at);
    CREATE INDEX analyses_by_date ON analyses(created_at);

    CREATE TABLE findings (
        analysis_id  TEXT NOT NULL REFERENCES analyses(id) ON DELETE CASCADE,
        fdi          INTEGER NOT NULL CHECK (fdi BETWEEN 11 AND 48),
        finding      TEXT NOT NULL,
        score        REAL NOT NULL CHECK (score BETWEEN 0 AND 1),
        PRIMARY KEY (analysis_id, fdi, finding)
    ) WITHOUT ROWID;

    CREATE TABLE artefacts (
        analysis_id  TEXT NOT NULL REFERENCES analyses(id) ON DELETE CASCADE,
        kind         TEXT NOT NULL,                  -- input, csv, semantic-segmentation, instance-detection
        sha256       TEXT NOT NULL,                  -- the file in the data folder is named by it
        bytes        INTEGER NOT NULL,
        PRIMARY KEY (analysis_id, kind)
    ) WITHOUT ROWID;

    CREATE TABLE jobs (
        id              TEXT PRIMARY KEY,
        analysis_id     TEXT NOT NULL REFERENCES analyses(id) ON DELETE CASCADE,
        state           TEXT NOT NULL,
        attempts        INTEGER NOT NULL DEFAULT 0,
        runpod_job_id   TEXT,
        endpoint        TEXT,
        next_retry_at   TEXT,
        last_error      TEXT
    );
    CREATE INDEX jobs_due ON jobs(state, next_retry_at);

    CREATE TABLE audit_log (
        seq          INTEGER PRIMARY KEY AUTOINCREMENT,
        at           TEXT NOT NULL,
        actor        TEXT NOT NULL,
        action       TEXT NOT NULL CHECK (action IN ('created', 'viewed', 'approved', 'rejected', 'uploaded', 'deleted')),
        analysis_id  TEXT,
        detail       TEXT
    );
    -- Append-only: the log cannot be edited or shortened.
    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    "#,
    // 2: what the service needs to resume work after a crash and to archive approvals.
    r#"
    ALTER TABLE analyses ADD COLUMN test_model INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE analyses ADD COLUMN approved_at TEXT;
    ALTER TABLE analyses ADD COLUMN archived_location TEXT;
    ALTER TABLE analyses ADD COLUMN error_code TEXT;
    ALTER TABLE analyses ADD COLUMN error_message TEXT;
    ALTER TABLE analyses ADD COLUMN input_extension TEXT NOT NULL DEFAULT 'jpg';  -- jpg, png, tif, bmp, dcm
    -- History pages are ordered by (created_at, id): indexes that end in both columns let
    -- SQLite walk them backwards instead of sorting the table.
    CREATE INDEX analyses_by_status ON analyses(status, created_at, id);
    DROP INDEX analyses_by_date;
    CREATE INDEX analyses_by_date ON analyses(created_at, id);
    DROP INDEX analyses_by_patient;
    CREATE INDEX analyses_by_patient ON analyses(patient_id, created_at, id);

    ALTER TABLE jobs ADD COLUMN kind TEXT NOT NULL DEFAULT 'analyze'
        CHECK (kind IN ('analyze', 'archive', 'discard'));
    ALTER TABLE jobs ADD COLUMN backend TEXT;          -- what was asked: local, cloud, auto
    ALTER TABLE jobs ADD COLUMN temp_upload TEXT;      -- JSON: the image under temp/ for a worker
    ALTER TABLE jobs ADD COLUMN created_at TEXT NOT NULL DEFAULT '';
    ALTER TABLE jobs ADD COLUMN updated_at TEXT NOT NULL DEFAULT '';
    -- At most one unfinished job of each kind per analysis: a restart or a second enqueue
    -- can never start the same work twice.
    CREATE UNIQUE INDEX jobs_one_active ON jobs(analysis_id, kind)
        WHERE state NOT IN ('done', 'failed', 'cancelled');

    CREATE INDEX patients_by_external_id ON patients(external_id);
    "#,
    // 3: the clinician's review (decisions per finding, audited), birth dates, the DICOM
    // patient suggestion and the thresholds an approval was made with.
    r#"
    ALTER TABLE patients ADD COLUMN birth_date TEXT;              -- YYYY-MM-DD

    -- What the input's DICOM header named, kept here only to suggest the patient.
    ALTER TABLE analyses ADD COLUMN dicom_patient_name TEXT;
    ALTER TABLE analyses ADD COLUMN dicom_patient_id TEXT;
    ALTER TABLE analyses ADD COLUMN dicom_birth_date TEXT;
    ALTER TABLE analyses ADD COLUMN approved_thresholds TEXT;     -- JSON map by CSV finding name
    CREATE INDEX analyses_by_image_status ON analyses(image_sha256, status, approved_at);

    -- The current decision per (analysis, tooth, finding); its history is in the audit log.
    CREATE TABLE finding_decisions (
        analysis_id  TEXT NOT NULL REFERENCES analyses(id) ON DELETE CASCADE,
        fdi          INTEGER NOT NULL CHECK (fdi BETWEEN 11 AND 48),
        finding      TEXT NOT NULL,
        decision     TEXT NOT NULL CHECK (decision IN ('confirmed', 'rejected', 'added')),
        note         TEXT,
        decided_by   TEXT NOT NULL,
        decided_at   TEXT NOT NULL,
        PRIMARY KEY (analysis_id, fdi, finding)
    ) WITHOUT ROWID;

    -- The audit log learns 'reviewed'. A CHECK constraint cannot be altered, so the table is
    -- rebuilt: every row with its seq, the AUTOINCREMENT high-water mark, then the
    -- append-only triggers again. DROP TABLE fires no DELETE trigger (and takes the old
    -- triggers with it); it runs inside the migration's transaction, so a failure leaves the
    -- old table as it was.
    CREATE TABLE audit_log_v3 (
        seq          INTEGER PRIMARY KEY AUTOINCREMENT,
        at           TEXT NOT NULL,
        actor        TEXT NOT NULL,
        action       TEXT NOT NULL CHECK (action IN ('created', 'viewed', 'approved', 'rejected', 'uploaded', 'deleted', 'reviewed')),
        analysis_id  TEXT,
        detail       TEXT
    );
    INSERT INTO audit_log_v3 (seq, at, actor, action, analysis_id, detail)
        SELECT seq, at, actor, action, analysis_id, detail FROM audit_log ORDER BY seq;
    UPDATE sqlite_sequence
        SET seq = MAX(seq, (SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'))
        WHERE name = 'audit_log_v3';
    DROP TABLE audit_log;
    ALTER TABLE audit_log_v3 RENAME TO audit_log;
    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE INDEX audit_log_by_analysis ON audit_log(analysis_id, seq);
    "#,
    // 4: the patient a practice-management system named when it launched Pano with the
    // image (a program link), kept here only to pre-fill the decision form.
    r#"
    ALTER TABLE analyses ADD COLUMN pms_patient_name TEXT;
    ALTER TABLE analyses ADD COLUMN pms_patient_id TEXT;
    ALTER TABLE analyses ADD COLUMN pms_birth_date TEXT;
    "#,
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

pub(crate) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    migrate_to(conn, SCHEMA_VERSION)
}

/// Applies the migrations up to `target` (the upgrade test builds old files with it).
#[doc(hidden)]
pub fn migrate_to(conn: &mut Connection, target: i64) -> Result<(), StoreError> {
    let current: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if current > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            found: current,
            known: SCHEMA_VERSION,
        });
    }
    for (i, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .take(target as usize)
        .skip(current as usize)
    {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}
