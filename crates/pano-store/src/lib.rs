//! The local SQLite database: every analysis is cached here, and it is the job queue that
//! survives restarts. WAL journal, foreign keys on, versioned migrations.

mod migrations;

use std::path::Path;

use rusqlite::Connection;
use thiserror::Error;

pub use migrations::SCHEMA_VERSION;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("the database could not be opened or changed: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the database was written by a newer version of Pano (schema {found}, this version knows up to {known})")]
    TooNew { found: i64, known: i64 },
}

/// An open database, migrated to the current schema.
pub struct Store {
    conn: Connection,
}

impl Store {
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
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

    /// The connection, for the repositories built on this store.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}
