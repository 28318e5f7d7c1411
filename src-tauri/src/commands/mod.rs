//! IPC commands: each converts arguments, calls the service or the keychain, converts the
//! answer. No rule lives here.
//!
//! Every command that touches a file, SQLite, the keychain or the network is `async` and
//! does that work through [`blocking`]: a plain `fn` command runs on the main thread (the
//! window's), and blocking work inside an `async` one would hold up one of the few threads
//! that run the queue and the event forwarding.

pub mod analyses;
pub mod app;
pub mod review;
pub mod settings;

use crate::CommandError;

/// Runs blocking work on the blocking thread pool and waits for it without blocking.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, CommandError> + Send + 'static,
) -> Result<T, CommandError> {
    tauri::async_runtime::spawn_blocking(work)
        .await
        .map_err(|e| CommandError {
            code: "internal_error",
            message: format!("the command stopped unexpectedly: {e}"),
        })?
}
