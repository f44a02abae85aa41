//! The Inventory screen as a person uses it, on the real binary.

use countersign::Store;
use countersign_e2e::AppSession;
use fantoccini::{Locator, key::Key};

async fn demo_db(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("demo.db");
    let store = Store::open(&path).await.unwrap();
    countersign::demo::load(&store, false, "e2e").await.unwrap();
    store.close().await;
    path
}

#[tokio::test(flavor = "multi_thread")]
async fn inventory_lists_demo_identities_from_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo_db(dir.path()).await;
    let app = AppSession::start(&db).await;

    app.wait_for_text(
        "[data-testid=inventory-summary]",
        "41 identities · 25 services",
    )
    .await;
    app.wait_for_text("[data-testid=identity-count]", "41 identities")
        .await;
    let rows = app
        .client
        .find_all(Locator::Css("[data-testid=identity-row]"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 41);

    // Search goes to the core and narrows the list; the detail pane then
    // shows what the store holds for the shared credential.
    let search = app.wait_for("[data-testid=search]").await;
    search.send_keys("kafka").await.unwrap();
    app.wait_for_text("[data-testid=identity-count]", "1 identity")
        .await;
    app.wait_for("[data-id=tok-kafka-shared]")
        .await
        .click()
        .await
        .unwrap();
    app.wait_for_text("[data-testid=detail-owner]", "team-streaming")
        .await;
    app.wait_for_text("[data-testid=detail-kind]", "Token")
        .await;
    let used_by = app
        .client
        .find_all(Locator::Css("[data-testid=detail-services] tbody tr"))
        .await
        .unwrap();
    assert_eq!(used_by.len(), 6);

    // Erase the way a person does; WebDriver's "clear" fires no input event.
    let backspace = char::from(Key::Backspace).to_string();
    search
        .send_keys(&backspace.repeat("kafka".len()))
        .await
        .unwrap();
    app.wait_for_text("[data-testid=identity-count]", "41 identities")
        .await;
    let shot = app.screenshot("inventory").await;
    eprintln!("screenshot: {}", shot.display());

    search.send_keys("break_glass").await.unwrap();
    app.wait_for_text("[data-testid=identity-count]", "2 identities")
        .await;

    app.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_database_offers_the_demo_and_loads_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("empty.db");
    let app = AppSession::start(&db).await;

    app.wait_for("[data-testid=load-demo]")
        .await
        .click()
        .await
        .unwrap();
    app.wait_for_text("[data-testid=identity-count]", "41 identities")
        .await;
    app.screenshot("empty-then-demo").await;
    app.close().await;

    // The click really wrote to the database the app was given.
    let store = Store::open(&db).await.unwrap();
    assert_eq!(store.counts().await.unwrap().identities, 41);
}

#[tokio::test(flavor = "multi_thread")]
async fn editing_an_identity_in_the_app_is_saved_and_audited() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo_db(dir.path()).await;
    let app = AppSession::start(&db).await;

    let search = app.wait_for("[data-testid=search]").await;
    search.send_keys("key-maps").await.unwrap();
    app.wait_for_text("[data-testid=identity-count]", "1 identity")
        .await;
    app.wait_for("[data-id=key-maps]")
        .await
        .click()
        .await
        .unwrap();
    app.wait_for("[data-testid=edit-identity]")
        .await
        .click()
        .await
        .unwrap();

    // The containment table fits the pane, Save in view below it (issue 19).
    app.client
        .execute(
            "document.querySelector('table.containment').scrollIntoView({block: 'center'})",
            vec![],
        )
        .await
        .unwrap();
    let fits: bool = app
        .client
        .execute(
            "const t = document.querySelector('.table-fit'); return t.scrollWidth <= t.clientWidth + 1;",
            vec![],
        )
        .await
        .unwrap()
        .as_bool()
        .unwrap();
    assert!(fits, "the containment table runs off its box");
    app.wait_for("[data-testid=save-identity]").await;
    // Let the scroll be painted before the picture is taken.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    app.screenshot("identity-form-containment").await;

    let owner = app.wait_for("[data-testid=field-owner]").await;
    let backspace = char::from(Key::Backspace).to_string();
    owner
        .send_keys(&backspace.repeat("team-web".len()))
        .await
        .unwrap();
    // Picked from the known owners by part of its name (issue 19).
    owner.send_keys("Payments").await.unwrap();
    app.wait_for("[data-testid=owner-options-owner] [data-id=team-payments]")
        .await;
    app.screenshot("identity-form").await;
    owner
        .send_keys(&format!(
            "{}{}",
            char::from(Key::Down),
            char::from(Key::Enter)
        ))
        .await
        .unwrap();
    assert_eq!(
        owner.prop("value").await.unwrap().as_deref(),
        Some("team-payments")
    );
    // Enter submits the form, as it does for a person typing.
    owner
        .send_keys(&char::from(Key::Enter).to_string())
        .await
        .unwrap();

    // The detail pane shows the saved value and the history its audit entry.
    app.wait_for_text("[data-testid=detail-owner]", "team-payments")
        .await;
    app.wait_for("[data-testid=history-entry]").await;
    let entries = app
        .client
        .find_all(Locator::Css("[data-testid=history-entry]"))
        .await
        .unwrap();
    let newest = entries[0].text().await.unwrap();
    assert!(newest.contains("update by"), "{newest}");
    // Before and after, not only the field's name (issue 19).
    app.wait_for_text_containing(
        "[data-testid=history-entry]:first-child tr[data-field=owner]",
        "team-web",
    )
    .await;
    app.wait_for_text_containing(
        "[data-testid=history-entry]:first-child tr[data-field=owner]",
        "team-payments",
    )
    .await;
    app.wait_for_text_containing("[data-testid=saved-notice]", "Saved")
        .await;
    app.screenshot("identity-edited").await;
    app.close().await;

    // The change is in the database, with a verifiable audit row.
    let store = Store::open(&db).await.unwrap();
    let identity = store.identity("key-maps").await.unwrap();
    assert_eq!(identity.owner.as_deref(), Some("team-payments"));
    let log = store
        .audit_log(Some(("identity", "key-maps")), 5)
        .await
        .unwrap();
    assert_eq!(log[0].operation, "update");
    assert_eq!(log[0].source, "app");
    assert!(log[0].after.as_deref().unwrap().contains("team-payments"));
    assert!(store.verify_audit().await.unwrap().is_ok());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_blast_radius_of_the_shared_credential_follows_the_chosen_action() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo_db(dir.path()).await;
    let app = AppSession::start(&db).await;

    let search = app.wait_for("[data-testid=search]").await;
    search.send_keys("kafka").await.unwrap();
    app.wait_for_text("[data-testid=identity-count]", "1 identity")
        .await;
    app.click("[data-id=tok-kafka-shared]").await;
    app.wait_for_text_containing("[data-testid=blast-summary]", "7 services break")
        .await;
    let rows = app
        .client
        .find_all(Locator::Css("[data-testid=blast-row]"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 7);

    // Rotation instead of disabling: one action at a time (issue 19), the
    // dynamic consumers that do not break through another are spared.
    app.click("[data-testid=action-rotate_secret]").await;
    app.wait_for_text_containing("[data-testid=blast-summary]", "4 services break")
        .await;
    assert_eq!(
        app.client
            .find_all(Locator::Css("[data-testid=blast-summary]"))
            .await
            .unwrap()
            .len(),
        1,
        "rotate replaces disable, it does not add to it"
    );
    app.wait_for_text_containing(
        "[data-testid=blast-spared]",
        "payments-api (fetches the secret dynamically)",
    )
    .await;
    app.wait_for_text_containing("[data-testid=recommended]", "Rotate secret")
        .await;
    app.screenshot("blast-radius").await;
    // Compared explicitly: the two answers side by side.
    app.wait_for("[data-testid=compare-with]")
        .await
        .select_by_value("disable_account")
        .await
        .unwrap();
    app.wait_for_text_containing("[data-testid=blast-compared]", "7 services break")
        .await;
    app.wait_for_text_containing("[data-testid=blast-primary]", "4 services break")
        .await;
    app.screenshot("blast-radius-compare").await;
    app.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn riskiest_and_needs_attention_views_show_the_engine_and_the_gaps() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo_db(dir.path()).await;
    let app = AppSession::start(&db).await;

    app.click("[data-testid=tab-riskiest]").await;
    app.wait_for("[data-testid=rank-row]").await;
    let rows = app
        .client
        .find_all(Locator::Css("[data-testid=rank-row]"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 41, "every demo identity is ranked");
    let first = rows[0].text().await.unwrap();
    assert!(first.contains("Database bastion key"), "{first}");
    app.screenshot("riskiest").await;

    app.click("[data-testid=tab-attention]").await;
    app.wait_for("[data-testid=attention-row]").await;
    let text = app
        .wait_for("[data-testid=attention]")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("No owner") && text.contains("Finance SFTP drop key"),
        "{text}"
    );
    assert!(text.contains("Break-glass without custodians"), "{text}");
    // Grouped by severity, most urgent first, and counted on the tab.
    let groups = app
        .client
        .find_all(Locator::Css("[data-testid=attention-group]"))
        .await
        .unwrap();
    assert_eq!(
        groups[0].attr("data-severity").await.unwrap().as_deref(),
        Some("high")
    );
    let rows = app
        .client
        .find_all(Locator::Css("[data-testid=attention-row]"))
        .await
        .unwrap();
    app.wait_for_text("[data-testid=attention-tab-count]", &rows.len().to_string())
        .await;
    app.screenshot("needs-attention").await;

    // A finding opens the identity it is about.
    app.click("[data-testid=attention-row] button.link").await;
    app.wait_for("[data-testid=identity-detail]").await;
    app.close().await;
}
