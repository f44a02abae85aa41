//! The webview's capability lockdown on the real binary: script in the page
//! reaches the app's own commands (validated in Rust) and nothing else — no
//! core or plugin command the capability file does not list, and no command
//! that does not exist. What a script injected into the page (a cross-site
//! scripting flaw) could call is exactly the list in
//! src-tauri/capabilities/main.json.

use countersign::Store;
use countersign_e2e::AppSession;

/// Calls a Tauri command from the page and returns `Ok(result)` or
/// `Err(message)` as the page sees it.
async fn invoke(app: &AppSession, cmd: &str, args: serde_json::Value) -> Result<String, String> {
    let outcome = app
        .client
        .execute_async(
            "const [cmd, args, done] = arguments;\
             window.__TAURI_INTERNALS__.invoke(cmd, args)\
               .then(r => done({ok: JSON.stringify(r ?? null)}), e => done({err: String(e)}));",
            vec![cmd.into(), args],
        )
        .await
        .expect("the script runs");
    match (outcome["ok"].as_str(), outcome["err"].as_str()) {
        (Some(ok), _) => Ok(ok.to_owned()),
        (_, Some(err)) => Err(err.to_owned()),
        _ => panic!("{outcome}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_page_can_call_only_the_commands_it_is_granted() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let store = Store::open(&db).await.unwrap();
    countersign::demo::load(&store, false, "e2e").await.unwrap();
    store.close().await;
    let app = AppSession::start(&db).await;
    app.wait_for("[data-testid=tab-riskiest]").await;

    // Granted: an app command, with its input validated in Rust.
    let status = invoke(&app, "app_status", serde_json::json!({})).await;
    assert!(status.is_ok(), "{status:?}");

    // Not granted: plugin and core commands the app itself uses from Rust
    // (file dialogs, notifications' window, the app's metadata), and ones
    // it never installs.
    for (cmd, args) in [
        ("plugin:dialog|open", serde_json::json!({ "options": {} })),
        ("plugin:dialog|save", serde_json::json!({ "options": {} })),
        ("plugin:app|version", serde_json::json!({})),
        (
            "plugin:window|close",
            serde_json::json!({ "label": "main" }),
        ),
        (
            "plugin:webview|create_webview_window",
            serde_json::json!({}),
        ),
        (
            "plugin:fs|read_text_file",
            serde_json::json!({ "path": "/etc/passwd" }),
        ),
        (
            "plugin:shell|open",
            serde_json::json!({ "path": "https://example.test" }),
        ),
        ("not_a_command", serde_json::json!({})),
    ] {
        let refused = invoke(&app, cmd, args).await;
        let message = refused.expect_err(cmd);
        assert!(
            message.contains("not allowed") || message.contains("not found"),
            "{cmd}: {message}"
        );
    }
    // Still alive and answering after all of that.
    assert!(
        invoke(&app, "app_status", serde_json::json!({}))
            .await
            .is_ok()
    );
    app.close().await;
}
