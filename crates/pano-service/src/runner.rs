//! The queue runner: takes due jobs from SQLite and runs them with bounded concurrency
//! (one local analysis at a time: the engine already uses every core; a few cloud jobs in
//! flight). Only one process runs the queue at a time (an OS file lock that the kernel
//! releases even on SIGKILL); a new runner first returns the work a dead one left behind.

use std::collections::HashSet;
use std::fs::{File, TryLockError};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use pano_store::{JobKind, JobRow};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::service::{AnalysisService, Inner};
use crate::ServiceError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunMode {
    /// Return when no job is left (finished, failed or cancelled), waiting out outages:
    /// `pano queue --resume`.
    UntilIdle,
    /// Return when every analysis has its result (or failed); archive and discard jobs
    /// that are due run in passing, but one waiting for storage does not hold the caller:
    /// `pano analyze`.
    UntilAnalysed,
    /// Keep waiting for new work: the app.
    Forever,
}

/// Limits shared by the jobs of one runner.
pub(crate) struct Slots {
    pub local: Semaphore,
    pub cloud: Semaphore,
}

/// Longest sleep between looks at the queue (new work also wakes the runner at once).
const IDLE_POLL: Duration = Duration::from_millis(500);

impl AnalysisService {
    /// Runs the queue. Errors only when the queue cannot be run at all (another process
    /// holds it, the database fails); each job's own failure is recorded on the job.
    pub async fn run(&self, mode: RunMode) -> Result<(), ServiceError> {
        let _lock = self.lock_queue()?;
        let inner = self.inner.clone();
        inner.db(|s| s.recover_interrupted_jobs())?;
        let slots = Arc::new(Slots {
            local: Semaphore::new(1),
            cloud: Semaphore::new(inner.settings.cloud_concurrency.max(1)),
        });
        let mut in_flight: HashSet<String> = HashSet::new();
        let mut tasks: JoinSet<String> = JoinSet::new();
        loop {
            let now = pano_store::now_rfc3339();
            let due = inner.db(|s| s.due_jobs(&now))?;
            for job in due {
                if in_flight.insert(job.id.clone()) {
                    let (inner, slots) = (inner.clone(), slots.clone());
                    tasks.spawn(async move {
                        let id = job.id.clone();
                        run_job(&inner, &slots, job).await;
                        id
                    });
                }
            }
            if tasks.is_empty() {
                let unfinished = inner.db(|s| s.unfinished_jobs())?;
                let done = match mode {
                    RunMode::UntilIdle => unfinished.is_empty(),
                    RunMode::UntilAnalysed => {
                        !unfinished.iter().any(|j| j.kind == JobKind::Analyze)
                    }
                    RunMode::Forever => false,
                };
                if done {
                    return Ok(());
                }
            }
            let sleep = match inner.db(|s| s.next_retry_at())? {
                Some(at) => until(&at).min(IDLE_POLL),
                None => IDLE_POLL,
            };
            tokio::select! {
                Some(done) = tasks.join_next() => {
                    if let Ok(id) = done {
                        in_flight.remove(&id);
                    } else {
                        // A panicking job: forget all finished ids; the next look at the
                        // database shows what is still due.
                        in_flight.clear();
                    }
                }
                _ = inner.wake.notified() => {}
                _ = tokio::time::sleep(sleep) => {}
            }
        }
    }

    fn lock_queue(&self) -> Result<File, ServiceError> {
        // Beside the database, not in the data folder: two processes that share a database
        // through `--db` / `PANO_DB` with different data folders share the queue too.
        let mut name = self.inner.database_path.as_os_str().to_os_string();
        name.push(".queue-lock");
        let path = std::path::PathBuf::from(name);
        let file = File::create(&path).map_err(|e| ServiceError::Read {
            path: path.display().to_string(),
            source: e,
        })?;
        match file.try_lock() {
            Ok(()) => Ok(file),
            Err(TryLockError::WouldBlock) => Err(ServiceError::QueueBusy),
            Err(TryLockError::Error(e)) => Err(ServiceError::Read {
                path: path.display().to_string(),
                source: e,
            }),
        }
    }
}

async fn run_job(inner: &Arc<Inner>, slots: &Slots, job: JobRow) {
    match job.kind {
        JobKind::Analyze => crate::local_job::run_analyze(inner, slots, job).await,
        JobKind::Archive => {
            let _permit = slots.cloud.acquire().await;
            let _ = crate::archive_job::run_archive(inner, &job).await;
        }
        JobKind::Discard => {
            let _permit = slots.cloud.acquire().await;
            let _ = crate::archive_job::run_discard(inner, &job).await;
        }
    }
}

/// Time from now until an RFC 3339 instant (zero when past or unreadable).
fn until(at: &str) -> Duration {
    humantime::parse_rfc3339_weak(at)
        .ok()
        .and_then(|t| t.duration_since(SystemTime::now()).ok())
        .unwrap_or(Duration::ZERO)
}
