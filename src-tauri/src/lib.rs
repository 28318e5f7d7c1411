//! The desktop shell. Commands translate between IPC and the analysis crates; they hold no
//! rules of their own.

mod commands;
mod error;
mod state;

pub use error::CommandError;
pub use state::AppState;

/// Registers state and commands on a builder; shared by `run` and the tests' mock runtime.
pub fn setup<R: tauri::Runtime>(builder: tauri::Builder<R>, state: AppState) -> tauri::Builder<R> {
    builder
        .manage(state)
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::analyze_file
        ])
}

pub fn run() {
    pano_imaging::quiet_decoder_panics();
    let state = AppState::from_environment();
    setup(tauri::Builder::default(), state)
        .run(tauri::generate_context!())
        .expect("the desktop app failed to start");
}
