//! The app and the CLI on one SQLite file, as issue 13's user had them: the
//! owner opens the Import dialog and browses the folder that holds the
//! database (the dialog reads every file there to show its type), the CLI
//! writes to the same database meanwhile, the owner imports, creates a
//! signing key and signs a decision in the app, and the app stops. Every row
//! the app and the CLI committed must be in the file. The dialog runs in
//! the XDG desktop portal's process, so its reads cannot drop the app's
//! SQLite locks (docs/sqlite-locks.md); the portal is started by D-Bus
//! activation in the test's private session, as on a desktop.

use std::time::Duration;

use countersign::Store;
use countersign::store::{APPROVER_GROUPS_KEY, ChangeContext};
use countersign_e2e::{AppSession, PortalDialog, cli, live_request, start_reference_backend};

const TOKEN: &str = "e2e-shared-file-token";

fn run_cli(db: &std::path::Path, args: &[&str]) -> String {
    let out = cli(db)
        .env("COUNTERSIGN_ACTOR", "cli-user")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "countersign {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn browsing_the_database_folder_and_cli_writes_lose_nothing_the_app_committed() {
    // Not a hidden folder, so the chooser lists it like any other.
    let dir = tempfile::Builder::new()
        .prefix("countersign-e2e-")
        .tempdir()
        .unwrap();
    let db = dir.path().join("countersign.db");
    {
        let store = Store::open(&db).await.unwrap();
        countersign::demo::load(&store, false, "e2e").await.unwrap();
        store
            .set_setting(
                APPROVER_GROUPS_KEY,
                "identity-governance",
                &ChangeContext::new("alice", "e2e"),
            )
            .await
            .unwrap();
        store.close().await;
    }
    // Inventory files beside the database, to import from that folder
    // (two, so the chooser's location bar has no single completion).
    std::fs::write(
        dir.path().join("other-team.yaml"),
        "version: 1\nowners:\n  - {id: team-other-e2e, kind: team, name: Other E2E}\n",
    )
    .unwrap();
    // A Backstage catalog, as teams keep them: its Template is skipped and
    // the API its component provides lives in another repository, and the
    // preview says both before anything is written.
    std::fs::write(
        dir.path().join("platform-team.yaml"),
        "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: team-platform-e2e}\nspec: {type: team, profile: {displayName: Platform E2E}, children: []}\n---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: platform-portal-e2e}\nspec:\n  type: website\n  lifecycle: production\n  owner: team-platform-e2e\n  providesApis: [portal-api-e2e]\n---\napiVersion: scaffolder.backstage.io/v1beta3\nkind: Template\nmetadata: {name: new-portal}\nspec: {owner: team-platform-e2e, type: website, steps: []}\n",
    )
    .unwrap();

    let url = start_reference_backend(TOKEN).await;
    let soar = countersign::client::BackendClient::new(&url, TOKEN.to_owned().into()).unwrap();
    soar.create_request(&live_request("req-e2e-shared-file"))
        .await
        .unwrap();

    let app = AppSession::start_with_env(
        &db,
        &[
            ("COUNTERSIGN_BACKEND", &url),
            ("COUNTERSIGN_BACKEND_TOKEN", TOKEN),
            ("COUNTERSIGN_ACTOR", "alice"),
        ],
    )
    .await;
    app.wait_for_text("[data-testid=awaiting-count]", "1").await;

    // Import: the portal's chooser opens, the owner goes to the database's
    // folder, looks around, and picks the inventory file there.
    app.click("[data-testid=tab-import]").await;
    app.click("[data-testid=choose-import-file]").await;
    let dialog = PortalDialog::wait("Import an inventory").await;
    dialog
        .type_location(&format!("{}/", dir.path().display()))
        .await;
    dialog.press_enter().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(dialog.is_open(), "the chooser shows the folder");
    PortalDialog::screenshot_display("shared-file-portal-dialog");
    // The CLI writes while the dialog shows the folder.
    run_cli(&db, &["settings", "review-stale-days", "45"]);
    dialog
        .type_location(&dir.path().join("platform-team.yaml").display().to_string())
        .await;
    dialog.press_enter().await;
    app.wait_for_text_containing("[data-testid=import-summary]", "2 to create")
        .await;
    app.wait_for_text_containing("[data-testid=import-skipped]", "1 Backstage Template")
        .await;
    app.wait_for_text_containing(
        "[data-testid=import-unresolved]",
        "platform-team.yaml:13 spec.providesApis: unknown API api:default/portal-api-e2e",
    )
    .await;
    app.screenshot("shared-file-import-preview").await;
    app.click("[data-testid=apply-import]").await;
    app.wait_for("[data-testid=import-result]").await;

    // The CLI writes again, then the owner makes a key and signs.
    run_cli(&db, &["settings", "review-stale-days", "60"]);
    app.click("[data-testid=tab-approvals]").await;
    app.click("[data-testid=create-signing-key]").await;
    app.wait_gone("[data-testid=no-key]").await;
    app.wait_for("[data-testid=inbox-item][data-id=req-e2e-shared-file]")
        .await;
    run_cli(&db, &["settings", "review-stale-days", "75"]);
    app.click("[data-testid=inbox-item][data-id=req-e2e-shared-file]")
        .await;
    app.wait_for("[data-testid=request-blast]").await;
    app.screenshot("shared-file-request").await;
    app.click("[data-testid=verdict-approve]").await;
    app.sign_and_confirm("Rotation is safe; consumers reload within minutes.")
        .await;
    run_cli(&db, &["settings", "review-stale-days", "90"]);
    app.screenshot("shared-file-delivered").await;
    app.close().await;

    // What is in the file now that the app is gone.
    let seen = soar.request_by_id("req-e2e-shared-file").await.unwrap();
    assert_eq!(seen["status"], "approved", "{seen}");
    let store = Store::open(&db).await.unwrap();
    let decisions = store.decisions(Some("req-e2e-shared-file")).await.unwrap();
    assert_eq!(decisions.len(), 1, "the signed decision is in the file");
    let d = &decisions[0];
    assert_eq!(d.approver, "alice");
    assert!(
        d.delivered_at.is_some(),
        "its outbox row shows it delivered"
    );
    assert_eq!(d.receipt.as_deref(), Some("accepted"));
    let keys = store.signing_keys().await.unwrap();
    assert_eq!(keys.len(), 1, "the key made in the app is recorded");
    let log = store.audit_log(None, 10_000).await.unwrap();
    let audited = |entity: &str, id: &str| {
        log.iter()
            .any(|e| e.entity == entity && (id.is_empty() || e.entity_id == id))
    };
    assert!(audited("decision", &d.jti), "the decision's audit entry");
    assert!(
        log.iter()
            .any(|e| e.after.as_deref().is_some_and(|a| a.contains(&keys[0].kid))),
        "the key's audit entry"
    );
    assert!(audited("owner", "team-platform-e2e"), "the app's import");
    assert!(
        log.iter()
            .filter(|e| e.actor == "cli-user" && e.entity == "setting")
            .count()
            == 4,
        "each CLI write"
    );
    assert_eq!(store.review_stale_days().await.unwrap(), 90);
    store
        .verify_audit()
        .await
        .unwrap()
        .expect("the audit chain verifies");
    store.close().await;
    assert!(!dialog.is_open());
}
