//! The desktop shell. Commands translate between IPC and `pano-service` / `pano-keychain`;
//! they hold no rules of their own.

mod commands;
mod error;
mod state;

use tauri::Manager;

pub use error::CommandError;
pub use state::{AppState, PROGRESS_EVENT};

/// Registers state, commands and the queue runner on a builder; shared by `run` and the
/// tests' mock runtime.
pub fn setup<R: tauri::Runtime>(builder: tauri::Builder<R>, state: AppState) -> tauri::Builder<R> {
    builder
        .plugin(tauri_plugin_dialog::init())
        .manage(state)
        .setup(|app| {
            app.state::<AppState>().start(app.handle().clone());
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::app::app_info,
            commands::analyses::enqueue_files,
            commands::analyses::take_opened_files,
            commands::analyses::queue,
            commands::analyses::open_analysis,
            commands::analyses::debug_image,
            commands::analyses::approve,
            commands::analyses::reject,
            commands::analyses::cancel,
            commands::analyses::retry,
            commands::analyses::history,
            commands::analyses::search_patients,
            commands::analyses::export_csv,
            commands::settings::get_settings,
            commands::settings::save_settings,
            commands::settings::test_archive,
            commands::settings::test_cloud,
            commands::settings::secret_status,
            commands::settings::set_secret,
            commands::settings::clear_secret,
        ])
}

pub fn run() {
    pano_imaging::quiet_decoder_panics();
    let state = AppState::from_environment();
    // `pano-desktop scan.jpg ...` (a file manager's "Open with"): the UI adds them.
    *state.opened_files.lock().expect("not poisoned") = std::env::args_os()
        .skip(1)
        .map(std::path::PathBuf::from)
        .filter(|p| !p.to_string_lossy().starts_with('-'))
        .collect();
    setup(tauri::Builder::default(), state)
        .run(tauri::generate_context!())
        .expect("the desktop app failed to start");
}
