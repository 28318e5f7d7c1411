//! The durable job queue: what is left to do, how far it got (a temp upload, a RunPod job
//! id), and when to try again after an outage.

use rusqlite::{params, OptionalExtension, Row};

use crate::{now_rfc3339, Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// Run the models (locally or on RunPod).
    Analyze,
    /// File an approved analysis in permanent storage.
    Archive,
    /// Delete a rejected analysis's temp upload.
    Discard,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Queued,
    Uploading,
    /// RunPod has the job (its id is recorded): after a restart it is polled, not resubmitted.
    Submitted,
    Running,
    WaitingStorage,
    WaitingRunpod,
    Done,
    Failed,
    Cancelled,
}

macro_rules! text_enum {
    ($ty:ty { $($variant:ident => $text:literal),* $(,)? }) => {
        impl $ty {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),* }
            }
            pub fn parse(s: &str) -> Result<Self, StoreError> {
                match s {
                    $($text => Ok(Self::$variant),)*
                    other => Err(StoreError::Corrupt(format!(
                        concat!("unknown ", stringify!($ty), " '{}'"), other
                    ))),
                }
            }
        }
    };
}
pub(crate) use text_enum;

text_enum!(JobKind { Analyze => "analyze", Archive => "archive", Discard => "discard" });
text_enum!(JobState {
    Queued => "queued",
    Uploading => "uploading",
    Submitted => "submitted",
    Running => "running",
    WaitingStorage => "waiting_storage",
    WaitingRunpod => "waiting_runpod",
    Done => "done",
    Failed => "failed",
    Cancelled => "cancelled",
});

impl JobState {
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            JobState::Done | JobState::Failed | JobState::Cancelled
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct JobRow {
    pub id: String,
    pub analysis_id: String,
    pub kind: JobKind,
    pub state: JobState,
    pub attempts: u32,
    /// What was asked for: `local`, `cloud` or `auto`.
    pub backend: Option<String>,
    pub runpod_job_id: Option<String>,
    /// `primary` or `backup`: which endpoint holds the RunPod job.
    pub endpoint: Option<String>,
    /// JSON of the temp upload (key, hash, size, extension).
    pub temp_upload: Option<String>,
    pub next_retry_at: Option<String>,
    pub last_error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// The analysed image's original file name (joined from the analysis).
    pub file_name: String,
}

const JOB_COLUMNS: &str = "j.id, j.analysis_id, j.kind, j.state, j.attempts, j.backend, j.runpod_job_id, j.endpoint, j.temp_upload, j.next_retry_at, j.last_error, j.created_at, j.updated_at, a.original_file_name";

fn job(row: &Row) -> rusqlite::Result<(JobRow, String, String)> {
    let kind: String = row.get(2)?;
    let state: String = row.get(3)?;
    Ok((
        JobRow {
            id: row.get(0)?,
            analysis_id: row.get(1)?,
            kind: JobKind::Analyze,
            state: JobState::Queued,
            attempts: row.get(4)?,
            backend: row.get(5)?,
            runpod_job_id: row.get(6)?,
            endpoint: row.get(7)?,
            temp_upload: row.get(8)?,
            next_retry_at: row.get(9)?,
            last_error: row.get(10)?,
            created_at: row.get(11)?,
            updated_at: row.get(12)?,
            file_name: row.get(13)?,
        },
        kind,
        state,
    ))
}

fn finish(parts: (JobRow, String, String)) -> Result<JobRow, StoreError> {
    let (mut row, kind, state) = parts;
    row.kind = JobKind::parse(&kind)?;
    row.state = JobState::parse(&state)?;
    Ok(row)
}

pub(crate) fn insert(
    conn: &rusqlite::Connection,
    id: &str,
    analysis_id: &str,
    kind: JobKind,
    backend: Option<&str>,
    temp_upload: Option<&str>,
) -> Result<(), StoreError> {
    let now = now_rfc3339();
    conn.execute(
        "INSERT INTO jobs (id, analysis_id, kind, state, backend, temp_upload, created_at, updated_at)
         VALUES (?1, ?2, ?3, 'queued', ?4, ?5, ?6, ?6)",
        params![id, analysis_id, kind.as_str(), backend, temp_upload, now],
    )?;
    Ok(())
}

impl Store {
    fn query_jobs(
        &self,
        filter: &str,
        args: impl rusqlite::Params,
    ) -> Result<Vec<JobRow>, StoreError> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs j JOIN analyses a ON a.id = j.analysis_id {filter}"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(args, job)?;
        rows.map(|r| finish(r?)).collect()
    }

    pub fn job(&self, id: &str) -> Result<Option<JobRow>, StoreError> {
        Ok(self.query_jobs("WHERE j.id = ?1", [id])?.into_iter().next())
    }

    /// Every job of an analysis, oldest first.
    pub fn jobs_of(&self, analysis_id: &str) -> Result<Vec<JobRow>, StoreError> {
        self.query_jobs(
            "WHERE j.analysis_id = ?1 ORDER BY j.created_at, j.rowid",
            [analysis_id],
        )
    }

    /// Unfinished jobs, oldest first (the queue as the user sees it).
    pub fn unfinished_jobs(&self) -> Result<Vec<JobRow>, StoreError> {
        self.query_jobs(
            "WHERE j.state NOT IN ('done', 'failed', 'cancelled') ORDER BY j.created_at, j.rowid",
            [],
        )
    }

    /// Jobs that may run now: queued, submitted (to poll), or waiting whose retry time has
    /// come.
    pub fn due_jobs(&self, now: &str) -> Result<Vec<JobRow>, StoreError> {
        self.query_jobs(
            "WHERE j.state IN ('queued', 'submitted', 'waiting_storage', 'waiting_runpod')
               AND (j.next_retry_at IS NULL OR j.next_retry_at <= ?1)
             ORDER BY j.created_at, j.rowid",
            [now],
        )
    }

    /// The earliest retry time among waiting jobs.
    pub fn next_retry_at(&self) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT MIN(next_retry_at) FROM jobs WHERE state IN ('queued', 'submitted', 'waiting_storage', 'waiting_runpod')",
                [],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }

    /// After a crash: work that was in the hands of the dead process goes back to the
    /// queue; a RunPod job that was submitted is polled again by its id.
    pub fn recover_interrupted_jobs(&self) -> Result<usize, StoreError> {
        let now = now_rfc3339();
        let n = self.conn.execute(
            "UPDATE jobs SET state = CASE WHEN runpod_job_id IS NOT NULL THEN 'submitted' ELSE 'queued' END,
                             updated_at = ?1
             WHERE state IN ('uploading', 'running')",
            [now],
        )?;
        self.conn.execute(
            "UPDATE analyses SET status = 'queued', updated_at = ?1
             WHERE status = 'running' AND id IN (SELECT analysis_id FROM jobs WHERE kind = 'analyze' AND state IN ('queued', 'submitted'))",
            [now_rfc3339()],
        )?;
        Ok(n)
    }

    /// Moves a job to `state`; `retry_at` and `error` are replaced (None clears them).
    pub fn set_job_state(
        &self,
        id: &str,
        state: JobState,
        retry_at: Option<&str>,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE jobs SET state = ?2, next_retry_at = ?3, last_error = ?4, updated_at = ?5 WHERE id = ?1",
            params![id, state.as_str(), retry_at, error, now_rfc3339()],
        )?;
        Ok(())
    }

    /// Takes a due job for this caller alone: the guarded update succeeds for exactly one of
    /// two callers (the approval filing at once and the runner finding the same job due),
    /// and counts one more try. False when someone else has it, it finished, or it is not
    /// due yet.
    pub fn claim_job(&self, id: &str, state: JobState) -> Result<bool, StoreError> {
        let now = now_rfc3339();
        let n = self.conn.execute(
            "UPDATE jobs SET state = ?2, attempts = attempts + 1, updated_at = ?3
             WHERE id = ?1 AND state IN ('queued', 'submitted', 'waiting_storage', 'waiting_runpod')
               AND (next_retry_at IS NULL OR next_retry_at <= ?3)",
            params![id, state.as_str(), now],
        )?;
        Ok(n == 1)
    }

    /// The temp uploads still recorded by an analysis's finished analyze jobs, as
    /// (job id, upload JSON): what a discard job deletes. A job still running keeps its
    /// upload (it may submit it again).
    pub fn finished_temp_uploads(
        &self,
        analysis_id: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, temp_upload FROM jobs
             WHERE analysis_id = ?1 AND kind = 'analyze' AND temp_upload IS NOT NULL
               AND state IN ('done', 'failed', 'cancelled')
             ORDER BY created_at, rowid",
        )?;
        let rows = stmt.query_map([analysis_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Counts one more try and marks the job as being worked on.
    pub fn start_job_attempt(&self, id: &str, state: JobState) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE jobs SET state = ?2, attempts = attempts + 1, updated_at = ?3 WHERE id = ?1",
            params![id, state.as_str(), now_rfc3339()],
        )?;
        Ok(())
    }

    pub fn set_job_temp_upload(
        &self,
        id: &str,
        temp_upload: Option<&str>,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE jobs SET temp_upload = ?2, updated_at = ?3 WHERE id = ?1",
            params![id, temp_upload, now_rfc3339()],
        )?;
        Ok(())
    }

    /// Records (or, with None, forgets) the RunPod job that holds this work.
    pub fn set_job_runpod(
        &self,
        id: &str,
        runpod_job_id: Option<&str>,
        endpoint: Option<&str>,
    ) -> Result<(), StoreError> {
        let state = if runpod_job_id.is_some() {
            "submitted"
        } else {
            "queued"
        };
        self.conn.execute(
            "UPDATE jobs SET runpod_job_id = ?2, endpoint = ?3, state = ?4, updated_at = ?5 WHERE id = ?1",
            params![id, runpod_job_id, endpoint, state, now_rfc3339()],
        )?;
        Ok(())
    }

    /// The temp upload recorded by the analysis's analyze job, if any.
    pub fn temp_upload_of(&self, analysis_id: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT temp_upload FROM jobs WHERE analysis_id = ?1 AND kind = 'analyze' AND temp_upload IS NOT NULL ORDER BY created_at DESC LIMIT 1",
                [analysis_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Queues a job of `kind` for an analysis unless one is already unfinished (the unique
    /// index makes a second one impossible). Returns the id of the unfinished job.
    pub fn ensure_job(
        &self,
        new_id: &str,
        analysis_id: &str,
        kind: JobKind,
        backend: Option<&str>,
        temp_upload: Option<&str>,
    ) -> Result<String, StoreError> {
        if let Some(existing) = self.active_job(analysis_id, kind)? {
            return Ok(existing);
        }
        insert(&self.conn, new_id, analysis_id, kind, backend, temp_upload)?;
        Ok(new_id.to_string())
    }

    pub fn active_job(
        &self,
        analysis_id: &str,
        kind: JobKind,
    ) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT id FROM jobs WHERE analysis_id = ?1 AND kind = ?2 AND state NOT IN ('done', 'failed', 'cancelled')",
                params![analysis_id, kind.as_str()],
                |r| r.get(0),
            )
            .optional()?)
    }
}
