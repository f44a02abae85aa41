//! The desktop shell: opens the store, registers the IPC commands and the
//! window. Inventory logic stays in the `countersign` core crate.

mod commands;
mod error;
mod state;

pub use error::CommandError;
pub use state::AppState;

/// Builds and runs the app; returns when the last window closes.
pub fn run() {
    let state = tauri::async_runtime::block_on(AppState::open_from_env());
    tauri::Builder::default()
        // The dialog plugin is used from Rust only (the import picker); the
        // webview is granted none of its permissions.
        .plugin(tauri_plugin_dialog::init())
        .manage(state)
        .invoke_handler(tauri::generate_handler![
            commands::app_status,
            commands::list_identities,
            commands::identity_detail,
            commands::list_services,
            commands::service_detail,
            commands::save_identity,
            commands::delete_identity,
            commands::save_service,
            commands::delete_service,
            commands::mark_reviewed,
            commands::history,
            commands::attention,
            commands::choose_import,
            commands::apply_import,
            commands::blast_radius,
            commands::alternatives,
            commands::rank,
            commands::load_demo,
        ])
        .run(tauri::generate_context!())
        .unwrap_or_else(|e| {
            eprintln!("error: Countersign could not start its window: {e}");
            std::process::exit(1);
        });
}
