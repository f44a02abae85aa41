//! The graph explorer on the real binary: the shared credential's blast
//! radius drawn by WebGL, checked by its legend, its counts and the pixels
//! of the canvas, with the explanation path lit for a selected service.

use countersign::Store;
use countersign_e2e::AppSession;
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;

/// Presses and releases each key in turn, wherever the focus is.
async fn press(app: &AppSession, keys: &[Key]) {
    let mut actions = KeyActions::new("keyboard".into());
    for &key in keys {
        actions = actions
            .then(KeyAction::Down { value: key.into() })
            .then(KeyAction::Up { value: key.into() });
    }
    app.client.perform_actions(actions).await.unwrap();
    app.client.release_actions().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_shared_credential_blast_radius_is_drawn_coloured_by_tier_with_a_path_lit() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let store = Store::open(&db).await.unwrap();
    countersign::demo::load(&store, false, "e2e").await.unwrap();
    store.close().await;
    let app = AppSession::start(&db).await;

    // From the Riskiest view, as an owner would get there.
    app.click("[data-testid=tab-riskiest]").await;
    app.wait_for("[data-testid=rank-explore]").await;
    app.click("[data-testid=tab-explorer]").await;
    // By part of its name, as a person remembers it (issue 19), not its id.
    let input = app.wait_for("[data-testid=explorer-identity]").await;
    input.send_keys("shared client").await.unwrap();
    app.click("[data-testid=explorer-go]").await;

    // Six direct consumers, and one more service that depends on one of them.
    app.wait_for_text_containing("[data-testid=explorer-summary]", "7 services break")
        .await;
    app.wait_for_text_containing("[data-testid=explorer-summary]", "6 direct consumers")
        .await;
    app.wait_for_text_containing("[data-testid=explorer-summary]", "first drawn in")
        .await;
    // The legend counts the six services by tier.
    let mut per_tier = 0;
    let mut legend = String::new();
    for t in 0..4 {
        let text = app
            .wait_for(&format!("[data-testid=legend-tier-{t}]"))
            .await
            .text()
            .await
            .unwrap();
        per_tier += text
            .trim()
            .rsplit(' ')
            .next()
            .and_then(|n| n.parse::<u32>().ok())
            .unwrap_or_else(|| panic!("no count in {text:?}"));
        legend.push_str(&text);
    }
    assert_eq!(per_tier, 7, "{legend}");
    // A small graph is read node by node (issue 20): every node carries
    // its label, and the camera frames them all, labels included.
    app.wait_for_attr("[data-testid=graph-canvas]", "data-labels-drawn", "8")
        .await;
    app.wait_for_attr("[data-testid=graph-canvas]", "data-labels-clipped", "0")
        .await;
    app.screenshot("explorer-kafka-labels").await;

    // Walk to the most critical service with the keyboard, as a person
    // does after clicking the graph (the canvas takes no focus, so the
    // keys reach the document body; issue 19: they stopped working): real
    // key presses through WebDriver's actions, not events dispatched by
    // script.
    app.click("[data-testid=explorer-summary]").await;
    app.client
        .execute("document.activeElement?.blur()", vec![])
        .await
        .unwrap();
    press(&app, &[Key::Down, Key::Down]).await;
    app.wait_for_text_containing(
        "[data-testid=explorer-path]",
        "Kafka shared client credential →",
    )
    .await;
    // The canvas is not blank: many colours, including tier colours.
    let colours = app
        .wait_for_drawn("[data-testid=graph-canvas]", 2, 21)
        .await;
    let near = |c: [u8; 4], r: u8, g: u8, b: u8| {
        c[0].abs_diff(r) < 40 && c[1].abs_diff(g) < 40 && c[2].abs_diff(b) < 40
    };
    assert!(
        colours.iter().any(|&c| near(c, 0x1d, 0x4e, 0xd8)),
        "no identity-blue node drawn"
    );
    app.screenshot("explorer-kafka").await;
    // "/" goes to the find box, from anywhere outside a text field.
    app.client
        .execute("document.activeElement?.blur()", vec![])
        .await
        .unwrap();
    press(&app, &[Key::Up]).await;
    app.wait_for_text_containing("[data-testid=explorer-selected]", "Kafka shared client")
        .await;
    let find = app.wait_for("[data-testid=explorer-find]").await;
    let focused = app.client.active_element().await.unwrap();
    assert_ne!(
        focused.element_id(),
        find.element_id(),
        "the find box is not focused yet"
    );
    let mut slash = KeyActions::new("keyboard".into());
    slash = slash
        .then(KeyAction::Down { value: '/' })
        .then(KeyAction::Up { value: '/' });
    app.client.perform_actions(slash).await.unwrap();
    let focused = app.client.active_element().await.unwrap();
    assert_eq!(
        focused.element_id(),
        find.element_id(),
        "/ focuses the find box"
    );

    // The table view lists the same result for screen readers.
    app.click("[data-testid=explorer-table-toggle]").await;
    let rows = app
        .client
        .find_all(fantoccini::Locator::Css(
            "[data-testid=explorer-table] tbody tr",
        ))
        .await
        .unwrap();
    assert_eq!(rows.len(), 8, "the identity and seven services");
    app.close().await;
}
