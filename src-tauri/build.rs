/// Every IPC command the front end may call. Listing them here makes
/// tauri-build generate an `allow-<command>` permission for each, and the
/// capability files grant them per window; a command missing from a
/// capability is refused at the IPC boundary.
const COMMANDS: &[&str] = &[
    "app_status",
    "list_identities",
    "identity_detail",
    "list_services",
    "service_detail",
    "save_identity",
    "list_owners",
    "delete_identity",
    "save_service",
    "delete_service",
    "mark_reviewed",
    "history",
    "attention",
    "choose_import",
    "apply_import",
    "blast_radius",
    "alternatives",
    "rank",
    "load_demo",
    "explore",
    "explore_summary",
    "save_export",
    "save_handout",
    "inbox",
    "refresh_inbox",
    "request_view",
    "decide_request",
    "my_decisions",
    "retry_deliveries",
    "connect_backend",
    "disconnect_backend",
    "create_signing_key",
    "sign_check",
    "enroll_keys",
    "set_approver_groups",
    "drill_examples",
    "start_drill",
    "drill_status",
    "stop_drill",
    "drill_explore",
    "save_drill_report",
    "database_settings",
    "use_database",
    "backup_database",
    "who_am_i",
    "sign_in",
    "sign_out",
    "watch",
    "reviews",
    "campaign_status",
    "review_record",
    "attest_identity",
    "start_campaign",
    "close_campaign",
    "save_campaign_export",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri-build failed");
}
