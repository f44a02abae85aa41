//! The desktop shell: opens the store, registers the IPC commands and the
//! window. Inventory logic stays in the `countersign` core crate.

mod approvals;
mod commands;
mod database;
mod dialogs;
mod drills;
/// The app's `--help`, from the clap definition the CLI's man page uses.
#[path = "../../src/cli/desktop_command.rs"]
mod help;
mod identity;
mod inbox;
mod reviews;
mod state;
mod tray;
mod watch;

/// Errors reach the window as the app layer's `{code, message, hint}`.
pub use countersign::app::AppError as CommandError;
pub use state::AppState;

/// Builds and runs the app; returns when the last window closes, or at once
/// after answering `--version` or `--help` on standard output.
pub fn run() {
    use countersign::app::desktop_args::{self, Invocation};
    let args = match desktop_args::parse(std::env::args().skip(1)) {
        answer @ (Invocation::Version | Invocation::Help { .. }) => {
            let text = match answer {
                Invocation::Help { long } => help::help(long),
                _ => format!("countersign-desktop {}\n", countersign::VERSION),
            };
            // A closed stdout (`| head -0`) is not worth a panic.
            let _ = std::io::Write::write_all(&mut std::io::stdout(), text.as_bytes());
            return;
        }
        Invocation::Refuse(message) => {
            eprint!("{message}");
            std::process::exit(2);
        }
        Invocation::Run(args) => args,
    };
    for arg in &args.ignored {
        eprintln!(
            "countersign-desktop: ignoring {arg:?}, not an option of this app \
             (countersign-desktop --help lists them)"
        );
    }
    let state = tauri::async_runtime::block_on(AppState::open_from_env(args));
    tauri::Builder::default()
        // The dialog plugin is used from Rust only (the import picker and
        // save dialogs), through the XDG desktop portal so that no file
        // chooser runs in this process; the webview is granted none of its
        // permissions.
        .plugin(tauri_plugin_dialog::init())
        .manage(state)
        .setup(|app| {
            tray::install(app.handle());
            tauri::async_runtime::spawn(inbox::run(app.handle().clone()));
            tauri::async_runtime::spawn(watch::run(app.handle().clone()));
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::app_status,
            commands::list_identities,
            commands::identity_detail,
            commands::list_services,
            commands::service_detail,
            commands::save_identity,
            commands::list_owners,
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
            commands::explore,
            commands::explore_summary,
            commands::save_export,
            commands::save_handout,
            approvals::inbox,
            approvals::refresh_inbox,
            approvals::request_view,
            approvals::decide_request,
            approvals::my_decisions,
            approvals::retry_deliveries,
            approvals::connect_backend,
            approvals::disconnect_backend,
            approvals::sign_check,
            approvals::enroll_keys,
            approvals::set_approver_groups,
            approvals::create_signing_key,
            drills::drill_examples,
            drills::start_drill,
            drills::drill_status,
            drills::stop_drill,
            drills::drill_explore,
            drills::save_drill_report,
            database::database_settings,
            database::use_database,
            database::backup_database,
            identity::who_am_i,
            identity::sign_in,
            identity::sign_out,
            watch::watch,
            reviews::reviews,
            reviews::campaign_status,
            reviews::review_record,
            reviews::attest_identity,
            reviews::start_campaign,
            reviews::close_campaign,
            reviews::save_campaign_export,
        ])
        .run(tauri::generate_context!())
        .unwrap_or_else(|e| {
            eprintln!("error: Countersign could not start its window: {e}");
            std::process::exit(1);
        });
}
