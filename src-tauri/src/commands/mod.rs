//! IPC commands: each converts arguments, calls the service or the keychain, converts the
//! answer. No rule lives here.

pub mod analyses;
pub mod app;
pub mod settings;
