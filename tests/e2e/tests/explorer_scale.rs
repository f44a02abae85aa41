//! The explorer at enterprise scale: a generated inventory whose widest
//! blast radius has more than 50,000 nodes, imported through the real
//! importer, drawn by the real app under Xvfb without freezing it.

use std::time::{Duration, Instant};

use countersign::Store;
use countersign::graph::blast_radius::BlastGraph;
use countersign::graph::generate::{Keep, enterprise_inventory};
use countersign::import::{self, Apply, Format};
use countersign_e2e::AppSession;

#[tokio::test(flavor = "multi_thread")]
async fn a_fifty_thousand_node_blast_radius_is_drawn() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("scale.db");
    let file = dir.path().join("inventory.json");
    let inv = enterprise_inventory(80_000, 42, Keep::LEAN);
    let text = countersign::inventory::file::to_json(&inv).unwrap();
    std::fs::write(&file, text).unwrap();
    let store = Store::open(&db).await.unwrap();
    import::import(
        &store,
        &file,
        &import::Options::new(Format::Native),
        Apply::Plan,
        "e2e",
        &(),
    )
    .await
    .unwrap();
    let ranked = BlastGraph::new(&store.snapshot().await.unwrap()).rank();
    let widest = &ranked[0];
    assert!(
        widest.services >= 50_000,
        "the generated inventory's widest radius is only {} services",
        widest.services
    );
    store.close().await;

    let app = AppSession::start(&db).await;
    app.click("[data-testid=tab-explorer]").await;
    app.wait_for("[data-testid=explorer-identity]")
        .await
        .send_keys(&widest.id)
        .await
        .unwrap();
    app.click("[data-testid=explorer-go]").await;

    // Large radii take longer than the usual UI timeout in a debug build.
    let drawn = |marker: &'static str| {
        let app = &app;
        async move {
            let deadline = Instant::now() + Duration::from_secs(240);
            loop {
                if let Ok(el) = app
                    .client
                    .find(fantoccini::Locator::Css("[data-testid=explorer-summary]"))
                    .await
                    && let Ok(text) = el.text().await
                    && text.contains("first drawn in")
                    && text.contains(marker)
                {
                    break text;
                }
                assert!(Instant::now() < deadline, "the radius was never drawn");
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
    };
    // Thousands grouped, as the app prints counts.
    let services = widest.services.to_string();
    let services = services
        .as_bytes()
        .rchunks(3)
        .rev()
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join(",");

    // Too many nodes to read one by one: first a summary by owning team
    // (issue 20), whose groups each open on their own.
    let grouped = drawn("grouped").await;
    assert!(
        grouped.contains(&format!("{services} services break")),
        "{grouped}"
    );
    app.wait_for("[data-testid=explorer-groups] li").await;
    app.wait_for_drawn("[data-testid=graph-canvas]", 2, 4).await;
    app.screenshot("explorer-50k-summary").await;
    app.click("[data-testid=explorer-open-group]").await;
    app.wait_for_text_containing(".explorer-bar .muted", "its services")
        .await;
    drawn("nodes · first drawn in").await;
    app.screenshot("explorer-50k-group").await;
    app.click("[data-testid=explorer-back]").await;

    // Every node, one click away.
    app.click("[data-testid=explorer-draw-all]").await;
    app.wait_for("[data-testid=explorer-back]").await;
    let summary = drawn("nodes · first drawn in").await;
    assert!(
        summary.contains(&format!("{services} services break")),
        "{summary}"
    );
    // The window still answers while and after drawing.
    app.click("[data-testid=explorer-table-toggle]").await;
    app.wait_for_text_containing("[data-testid=explorer-table] caption", "first 1000 shown")
        .await;
    app.click("[data-testid=explorer-table-toggle]").await;

    let (x, y, w, h) = app.rect_of("[data-testid=graph-canvas]").await;
    let shot = app.pixels().await;
    let colours = shot.colours_in(x + 2, y + 2, w.saturating_sub(4), h.saturating_sub(4), 4);
    assert!(
        colours.len() > 20,
        "the canvas looks blank: {} colours",
        colours.len()
    );
    app.screenshot("explorer-50k").await;
    app.close().await;
}
