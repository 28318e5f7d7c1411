//! The local SQLite database: every analysis is cached here, and it is the job queue that
//! survives restarts. WAL journal, foreign keys on, versioned migrations. Artefact files
//! (the input, the CSV, the debug images) live beside it in a folder addressed by hash
//! ([`BlobDir`]).

mod analyses;
mod audit;
mod blobs;
mod decisions;
mod jobs;
mod migrations;
mod patients;
mod time;

use std::path::Path;

use rusqlite::Connection;
use thiserror::Error;

pub use analyses::{
    AnalysisRow, AnalysisStatus, ArtefactKind, BackendKind, CompletedAnalysis, DicomPatientTags,
    HistoryFilter, NewAnalysis,
};
pub use audit::{AuditAction, AuditEntry};
pub use blobs::BlobDir;
pub use decisions::FindingDecision;
pub use jobs::{JobKind, JobRow, JobState};
pub use migrations::{migrate_to, SCHEMA_VERSION};
pub use patients::{NewPatient, Patient};
pub use time::{in_future, now_rfc3339};

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("the database could not be opened or changed: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the database was written by a newer version of Pano (schema {found}, this version knows up to {known})")]
    TooNew { found: i64, known: i64 },
    #[error("no analysis with id {0}")]
    NoSuchAnalysis(String),
    #[error("no patient with id {0}")]
    NoSuchPatient(String),
    #[error(
        "the analysis is {status}: only a completed analysis awaiting approval can be reviewed"
    )]
    NotReviewable { status: String },
    #[error("the database holds a value this version cannot read: {0}")]
    Corrupt(String),
    #[error("the data folder {path} could not be used: {source}")]
    Blob {
        path: String,
        source: std::io::Error,
    },
}

impl StoreError {
    /// A stable code for the UI and logs.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::Sqlite(_) => "store_sqlite",
            StoreError::TooNew { .. } => "store_too_new",
            StoreError::NoSuchAnalysis(_) => "no_such_analysis",
            StoreError::NoSuchPatient(_) => "no_such_patient",
            StoreError::NotReviewable { .. } => "analysis_not_reviewable",
            StoreError::Corrupt(_) => "store_corrupt",
            StoreError::Blob { .. } => "store_data_folder",
        }
    }
}

/// An open database, migrated to the current schema. Each method is one statement or one
/// transaction, so a crash leaves either the old or the new state.
pub struct Store {
    conn: Connection,
}

impl Store {
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        // FULL: in WAL mode NORMAL is safe from corruption but a power cut can undo the
        // last transactions, and an approval or an audit row that the clinician saw
        // recorded must not come undone. FULL flushes the WAL at every commit: about 0.3 ms
        // a commit on the development VM's disk (0.03 ms with NORMAL), so the queue's ten
        // or so small writes per analysis cost a few milliseconds against seconds of
        // analysis.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let mut store = Self { conn };
        migrations::migrate(&mut store.conn)?;
        Ok(store)
    }

    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    /// The connection, for tests and tools that inspect the file.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}
