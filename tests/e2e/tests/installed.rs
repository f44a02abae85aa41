//! The app as the .deb installs it: `/usr/bin/countersign-desktop` and
//! `/usr/bin/countersign`, on the default database a person's first run
//! makes, not on one the test names.
//!
//! Needs the package installed, hence `#[ignore]`: tests/package/installed.sh
//! installs it, runs this with `--ignored` and the installed binaries in
//! `COUNTERSIGN_DESKTOP_BIN` and `COUNTERSIGN_BIN`, then removes it.

use countersign_e2e::{AppSession, app_binary};
use std::path::Path;
use std::process::Command;

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the installed package: tests/package/installed.sh"]
async fn the_installed_app_opens_on_the_demo_inventory_the_installed_cli_loaded() {
    assert_eq!(
        app_binary(),
        Path::new("/usr/bin/countersign-desktop"),
        "this test is for the installed app"
    );
    // A new user: an empty data directory, no database named anywhere.
    let home = tempfile::tempdir().unwrap();
    let data_home = home.path().join("data");
    let out = Command::new("/usr/bin/countersign")
        .env_remove("COUNTERSIGN_DB")
        .env("XDG_DATA_HOME", &data_home)
        .args(["demo", "load"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("41 identities, 25 services"), "{said}");
    let db = said
        .strip_prefix("loaded demo inventory into ")
        .and_then(|rest| rest.split(':').next())
        .unwrap_or_else(|| panic!("where the CLI loaded it: {said}"));
    assert!(
        Path::new(db).starts_with(&data_home),
        "the default database {db} is not under XDG_DATA_HOME"
    );

    // The app, opened as from the desktop entry, finds the same database.
    let data_home = data_home.to_str().unwrap();
    let app = AppSession::start_on_default_database(&[("XDG_DATA_HOME", data_home)]).await;
    app.wait_for_text(
        "[data-testid=inventory-summary]",
        "41 identities · 25 services",
    )
    .await;
    app.wait_for("[data-id=tok-kafka-shared]").await;
    assert_eq!(app.client.title().await.unwrap(), "Countersign");
    let shot = app.screenshot("installed-app").await;
    eprintln!("screenshot: {}", shot.display());
    app.close().await;
}
