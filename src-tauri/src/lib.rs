//! The desktop shell. Commands translate between IPC and `pano-service` / `pano-keychain`;
//! they hold no rules of their own.

mod background;
mod commands;
mod error;
mod state;

use std::ffi::OsString;

use tauri::{Emitter, Manager};

pub use error::CommandError;
pub use state::{
    AppState, Launch, PendingLaunch, QueueProblem, KEYS_READY_EVENT, PROGRESS_EVENT,
    QUEUE_PROBLEM_EVENT, QUEUE_RECOVERED_EVENT,
};

/// Told to the UI when a second launch handed over files.
pub const FILES_OPENED_EVENT: &str = "files-opened";

/// A command line's arguments as text (a path that is not Unicode is kept lossily: the
/// importer then says it cannot read it).
fn launch_args(args: impl Iterator<Item = OsString>) -> Vec<String> {
    args.map(|a| a.to_string_lossy().into_owned()).collect()
}

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
            commands::analyses::take_launch,
            commands::analyses::queue,
            commands::analyses::open_analysis,
            commands::analyses::debug_image,
            commands::review::radiograph_image,
            commands::review::analysis_geometry,
            commands::review::decide_finding,
            commands::review::audit_trail,
            commands::analyses::approve,
            commands::analyses::reject,
            commands::analyses::cancel,
            commands::analyses::retry,
            commands::analyses::history,
            commands::analyses::search_patients,
            commands::analyses::export_csv,
            commands::analyses::save_csv,
            commands::analyses::save_report,
            commands::analyses::open_report,
            commands::analyses::send_to_pacs,
            commands::analyses::pacs_studies,
            commands::analyses::analyse_from_pacs,
            commands::settings::get_settings,
            commands::settings::save_settings,
            commands::settings::test_models,
            commands::settings::test_archive,
            commands::settings::test_cloud,
            commands::settings::test_pacs,
            commands::settings::secret_status,
            commands::settings::set_secret,
            commands::settings::clear_secret,
        ])
}

pub fn run() {
    pano_imaging::quiet_decoder_panics();
    let state = AppState::from_environment();
    // `pano-desktop scan.jpg ...` (a file manager's "Open with") or a practice system's
    // program link (`--patient-id 1234 --first Ada ...`): the UI takes them at start.
    state
        .launch
        .lock()
        .expect("not poisoned")
        .add(&launch_args(std::env::args_os().skip(1)));
    let builder = tauri::Builder::default()
        // One window per computer: a second launch (say "Open with" on more scans) hands
        // its files to the running app and brings it forward.
        .plugin(tauri_plugin_single_instance::init(|app, argv, _cwd| {
            let args: Vec<String> = argv.into_iter().skip(1).collect();
            app.state::<AppState>()
                .launch
                .lock()
                .expect("not poisoned")
                .add(&args);
            let _ = app.emit(FILES_OPENED_EVENT, ());
            if let Some(window) = app.get_webview_window("main") {
                let _ = window.unminimize();
                let _ = window.set_focus();
            }
        }))
        // Window size and position are remembered between runs.
        .plugin(tauri_plugin_window_state::Builder::default().build());
    setup(builder, state)
        .run(tauri::generate_context!())
        .expect("the desktop app failed to start");
}
