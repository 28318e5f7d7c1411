//! The app's long-lived objects: the analysis service opened from the settings file and the
//! keychain, and the queue runner. Saving settings reopens both; work in flight is picked
//! up again by the new runner (the queue is durable).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pano_keychain::Keychain;
use pano_service::{AnalysisService, RunMode, Secrets, ServiceError, Settings};
use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager, Runtime};

use crate::background::{self, Backoff, Failure, Forwarded, Report};
use crate::CommandError;

/// The event the UI listens to for queue progress.
pub const PROGRESS_EVENT: &str = "analysis-progress";
/// The queue runner stopped; it starts again by itself after `retry_in_s`.
pub const QUEUE_PROBLEM_EVENT: &str = "queue-problem";
/// After a [`QUEUE_PROBLEM_EVENT`], the queue runs again.
pub const QUEUE_RECOVERED_EVENT: &str = "queue-recovered";
/// The keychain could be read after all (it was locked or not yet there): cloud analyses
/// that waited for the keys go ahead.
pub const KEYS_READY_EVENT: &str = "keys-ready";

/// How long a restarted queue runner must keep going before the UI hears it recovered.
const QUEUE_HEALTHY_AFTER: Duration = Duration::from_secs(5);

/// The payload of [`QUEUE_PROBLEM_EVENT`].
#[derive(Debug, Clone, Serialize)]
pub struct QueueProblem {
    pub code: &'static str,
    pub message: String,
    pub retry_in_s: u64,
}

/// Some Pano process (a CLI batch) holds the queue's lock: this runner waits for it
/// quietly, as the other process finishes the analyses.
const QUEUE_BUSY_WAIT: Duration = Duration::from_secs(5);

pub struct AppState {
    pub settings_path: PathBuf,
    pub keychain: Keychain,
    service: Mutex<Result<AnalysisService, CommandError>>,
    /// Why the keychain could not be read at the last (re)open, if it could not.
    pub keychain_problem: Mutex<Option<CommandError>>,
    /// What the command line asked for ("open with Pano", a practice system's program
    /// link), for the UI to take once.
    pub launch: Mutex<PendingLaunch>,
    /// The event forwarder, the queue's supervisor, and the keychain's retry.
    tasks: Mutex<Vec<tauri::async_runtime::JoinHandle<()>>>,
    /// One restart at a time (a key saved while the keychain retry restarts, say).
    restarting: Mutex<()>,
    /// Where `save_csv` writes instead of asking in a save dialog (tests only).
    save_dialog_override: Mutex<Option<SaveDialogOverride>>,
    /// Opens a report file in the computer's PDF viewer (tests: records the path).
    report_opener: Mutex<ReportOpener>,
}

/// Opens a file with the program the desktop associates with it.
pub type ReportOpener = Arc<dyn Fn(&Path) -> std::io::Result<()> + Send + Sync>;

/// One launch's request: its files and the patient its practice system named (if any).
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Launch {
    pub files: Vec<PathBuf>,
    pub patient: Option<pano_service::PmsPatient>,
}

/// Launches not yet taken by the UI, each kept apart (a patient is attached to its own
/// launch's files only), and why a launch's arguments could not be used.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct PendingLaunch {
    pub launches: Vec<Launch>,
    pub problem: Option<CommandError>,
}

impl PendingLaunch {
    /// Adds one launch's command line (without the program's name).
    pub fn add(&mut self, args: &[String]) {
        match pano_service::parse_launch(args) {
            Ok(request) => {
                if request.patient.is_some() || !request.files.is_empty() {
                    self.launches.push(Launch {
                        files: request.files,
                        patient: request.patient,
                    });
                }
            }
            // Nothing is queued under a patient the arguments did not make clear; the
            // window says what to fix in the program link.
            Err(e) => {
                self.problem = Some(CommandError {
                    code: "invalid_launch_arguments",
                    message: e.to_string(),
                })
            }
        }
    }
}

/// Answers the save dialog's question ("where?") for a suggested file name.
pub type SaveDialogOverride = Arc<dyn Fn(&str) -> Option<PathBuf> + Send + Sync>;

/// Reads the settings file (defaults when absent) with the environment's overrides.
pub fn load_settings(path: &Path) -> Result<Settings, CommandError> {
    let mut settings = Settings::load(path)?;
    settings.apply_env(|name| std::env::var(name).ok())?;
    Ok(settings)
}

impl AppState {
    /// Reads the settings file (defaults when absent) and the keys; the service opens
    /// even without keys (local analysis), and says why when it cannot open at all.
    pub fn open(settings_path: PathBuf, keychain: Keychain) -> Self {
        let state = Self {
            settings_path,
            keychain,
            service: Mutex::new(Err(CommandError::not_ready("starting"))),
            keychain_problem: Mutex::new(None),
            launch: Mutex::new(PendingLaunch::default()),
            tasks: Mutex::new(Vec::new()),
            restarting: Mutex::new(()),
            save_dialog_override: Mutex::new(None),
            // Detached: the viewer outlives nothing of ours and is never waited for.
            report_opener: Mutex::new(Arc::new(|path: &Path| open::that_detached(path))),
        };
        state.reopen();
        state
    }

    /// The installed app: `~/.config/pano/settings.toml` (or `PANO_SETTINGS`), keys under
    /// `app.pano.desktop`.
    pub fn from_environment() -> Self {
        let path = std::env::var_os("PANO_SETTINGS")
            .map(PathBuf::from)
            .or_else(pano_service::default_settings_path)
            .unwrap_or_else(|| PathBuf::from("pano-settings.toml"));
        Self::open(path, Keychain::new("app.pano.desktop"))
    }

    /// Tests: `save_csv` asks `choose` instead of opening the save dialog.
    pub fn with_save_dialog(
        self,
        choose: impl Fn(&str) -> Option<PathBuf> + Send + Sync + 'static,
    ) -> Self {
        *self.save_dialog_override.lock().expect("not poisoned") = Some(Arc::new(choose));
        self
    }

    /// Tests: `open_report` hands the written file to `open` instead of a PDF viewer.
    pub fn with_report_opener(
        self,
        open: impl Fn(&Path) -> std::io::Result<()> + Send + Sync + 'static,
    ) -> Self {
        *self.report_opener.lock().expect("not poisoned") = Arc::new(open);
        self
    }

    pub(crate) fn report_opener(&self) -> ReportOpener {
        self.report_opener.lock().expect("not poisoned").clone()
    }

    pub(crate) fn save_dialog_override(&self) -> Option<SaveDialogOverride> {
        self.save_dialog_override
            .lock()
            .expect("not poisoned")
            .clone()
    }

    /// Blocking: reads the settings file.
    pub fn settings(&self) -> Result<Settings, CommandError> {
        load_settings(&self.settings_path)
    }

    /// Blocking (keychain, settings file, SQLite): a new service from the settings and
    /// the keys.
    fn reopen(&self) {
        let secrets = match self.keychain.load() {
            Ok(s) => {
                *self.keychain_problem.lock().expect("not poisoned") = None;
                s
            }
            Err(e) => {
                // Keys only out of reach for now (a locked keychain, no Secret Service yet;
                // `start` keeps trying): queued cloud jobs wait for them instead of failing.
                let secrets = Secrets {
                    keys_unavailable: e.is_temporary().then(|| e.to_string()),
                    ..Secrets::default()
                };
                *self.keychain_problem.lock().expect("not poisoned") = Some(e.into());
                secrets
            }
        };
        let opened = self
            .settings()
            .and_then(|s| AnalysisService::open(s, secrets).map_err(CommandError::from));
        *self.service.lock().expect("not poisoned") = opened;
    }

    pub fn service(&self) -> Result<AnalysisService, CommandError> {
        self.service.lock().expect("not poisoned").clone()
    }

    /// Whether the last (re)open could not read the keychain for a reason that may pass.
    fn keys_temporarily_unavailable(&self) -> bool {
        self.keychain_problem
            .lock()
            .expect("not poisoned")
            .as_ref()
            .is_some_and(|p| matches!(p.code, "keychain_locked" | "keychain_unavailable"))
    }

    /// Starts the queue runner (supervised: restarted with backoff after any error or
    /// panic, and the UI told), forwards its progress to the window, and, when the
    /// keychain was locked or absent, keeps trying to read the keys. Spawns only; never
    /// blocks.
    pub fn start<R: Runtime>(&self, app: AppHandle<R>) {
        let mut tasks = Vec::new();
        if let Ok(service) = self.service() {
            // The first radiograph dropped should not wait for the models to load.
            let _loading = service.prepare_local_engine(service.settings().backend);
            let events = service.subscribe();
            let window = app.clone();
            tasks.push(tauri::async_runtime::spawn(background::forward_events(
                events,
                move |forwarded| {
                    // A slow window made the channel drop events: the next ones still
                    // come, and the UI reloads the queue with each.
                    if let Forwarded::Event(event) = forwarded {
                        let _ = window.emit(PROGRESS_EVENT, &event);
                    }
                },
            )));
            let window = app.clone();
            tasks.push(tauri::async_runtime::spawn(background::supervise(
                move || run_queue(service.clone()),
                Backoff::QUEUE,
                QUEUE_HEALTHY_AFTER,
                tokio::time::sleep,
                move |report| match report {
                    Report::Problem { failure, retry_in } => {
                        let _ = window.emit(QUEUE_PROBLEM_EVENT, queue_problem(failure, retry_in));
                    }
                    Report::Recovered => {
                        let _ = window.emit(QUEUE_RECOVERED_EVENT, ());
                    }
                },
            )));
        }
        if self.keys_temporarily_unavailable() {
            let keychain = self.keychain.clone();
            tasks.push(tauri::async_runtime::spawn(async move {
                let loaded = background::wait_for_keys(
                    || {
                        let keychain = keychain.clone();
                        async move {
                            tauri::async_runtime::spawn_blocking(move || keychain.load())
                                .await
                                .unwrap_or_else(|e| {
                                    Err(pano_keychain::KeychainError::Other(e.to_string()))
                                })
                        }
                    },
                    Backoff::KEYCHAIN,
                    tokio::time::sleep,
                )
                .await;
                if loaded.is_ok() {
                    // A new service with the keys (this task is replaced by the restart).
                    let _ = tauri::async_runtime::spawn_blocking(move || {
                        app.state::<AppState>().restart(app.clone());
                        let _ = app.emit(KEYS_READY_EVENT, ());
                    })
                    .await;
                }
            }));
        }
        let old = std::mem::replace(&mut *self.tasks.lock().expect("not poisoned"), tasks);
        for task in old {
            task.abort();
        }
    }

    /// Blocking: after settings or keys changed, a new service and runner.
    pub fn restart<R: Runtime>(&self, app: AppHandle<R>) {
        let _one_at_a_time = self.restarting.lock().unwrap_or_else(|p| p.into_inner());
        for task in self.tasks.lock().expect("not poisoned").drain(..) {
            task.abort();
        }
        self.reopen();
        self.start(app);
    }
}

/// One queue runner: runs until it fails. While another Pano process holds the queue it
/// waits for it quietly, as before.
async fn run_queue(service: AnalysisService) -> Result<(), ServiceError> {
    loop {
        match service.run(RunMode::Forever).await {
            Err(ServiceError::QueueBusy) => tokio::time::sleep(QUEUE_BUSY_WAIT).await,
            other => return other,
        }
    }
}

fn queue_problem(failure: Failure<ServiceError>, retry_in: Duration) -> QueueProblem {
    let (code, message) = match failure {
        Failure::Error(e) => (e.code(), e.to_string()),
        Failure::Panicked(why) => (
            "queue_crashed",
            format!("the queue stopped unexpectedly ({why})"),
        ),
    };
    QueueProblem {
        code,
        message,
        retry_in_s: retry_in.as_secs(),
    }
}
