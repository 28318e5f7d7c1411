//! The app's long-lived objects: the analysis service opened from the settings file and the
//! keychain, and the queue runner. Saving settings reopens both; work in flight is picked
//! up again by the new runner (the queue is durable).

use std::path::PathBuf;
use std::sync::Mutex;

use pano_keychain::Keychain;
use pano_service::{AnalysisService, RunMode, Settings};
use tauri::{AppHandle, Emitter, Runtime};

use crate::CommandError;

/// The event the UI listens to for queue progress.
pub const PROGRESS_EVENT: &str = "analysis-progress";

pub struct AppState {
    pub settings_path: PathBuf,
    pub keychain: Keychain,
    service: Mutex<Result<AnalysisService, CommandError>>,
    /// Why the keychain could not be read at the last (re)open, if it could not.
    pub keychain_problem: Mutex<Option<CommandError>>,
    /// Files named on the command line ("open with Pano"), for the UI to add once.
    pub opened_files: Mutex<Vec<PathBuf>>,
    /// The event forwarder and the queue runner.
    tasks: Mutex<Vec<tauri::async_runtime::JoinHandle<()>>>,
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
            opened_files: Mutex::new(Vec::new()),
            tasks: Mutex::new(Vec::new()),
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

    pub fn settings(&self) -> Result<Settings, CommandError> {
        let mut settings = Settings::load(&self.settings_path)?;
        settings.apply_env(|name| std::env::var(name).ok())?;
        Ok(settings)
    }

    fn reopen(&self) {
        let secrets = match self.keychain.load() {
            Ok(s) => {
                *self.keychain_problem.lock().expect("not poisoned") = None;
                s
            }
            Err(e) => {
                *self.keychain_problem.lock().expect("not poisoned") = Some(e.into());
                Default::default()
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

    /// Starts the queue runner and forwards its progress to the window.
    pub fn start<R: Runtime>(&self, app: AppHandle<R>) {
        let Ok(service) = self.service() else { return };
        let mut events = service.subscribe();
        let forwarder = tauri::async_runtime::spawn(async move {
            while let Ok(event) = events.recv().await {
                let _ = app.emit(PROGRESS_EVENT, &event);
            }
        });
        let runner = tauri::async_runtime::spawn(async move {
            // Another Pano (a CLI batch) may hold the queue: try again a little later.
            while let Err(pano_service::ServiceError::QueueBusy) =
                service.run(RunMode::Forever).await
            {
                tokio::time::sleep(std::time::Duration::from_secs(5)).await;
            }
        });
        let old = std::mem::replace(
            &mut *self.tasks.lock().expect("not poisoned"),
            vec![forwarder, runner],
        );
        for task in old {
            task.abort();
        }
    }

    /// After settings or keys changed: a new service and runner.
    pub fn restart<R: Runtime>(&self, app: AppHandle<R>) {
        for task in self.tasks.lock().expect("not poisoned").drain(..) {
            task.abort();
        }
        self.reopen();
        self.start(app);
    }
}
