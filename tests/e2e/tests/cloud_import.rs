//! Issue 21 in the app: an owner imports a folder of AWS CLI output (two
//! accounts' authorization details and credential reports) with the EKS
//! cluster's manifests, through the Import panel's folder chooser (the XDG
//! desktop portal, driven as a person types into it). The preview says
//! what will be created and what could not be resolved before anything is
//! written; once applied, the IAM user's access keys and the
//! admin-equivalent role are on their identities.

use std::path::Path;

use countersign::Store;
use countersign_e2e::{AppSession, PortalDialog};

fn cloud_fixture(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/cloud")
        .join(rel)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_aws_estate_is_previewed_and_imported_from_a_folder() {
    // Not a hidden folder, so the chooser lists it like any other.
    let dir = tempfile::Builder::new()
        .prefix("countersign-e2e-")
        .tempdir()
        .unwrap();
    let estate = dir.path().join("aws-estate");
    for (from, to) in [
        ("eks/shop.yaml", "eks-shop.yaml"),
        (
            "aws/prod-111122223333/authorization-details.json",
            "prod/authorization-details.json",
        ),
        (
            "aws/prod-111122223333/credential-report.csv",
            "prod/credential-report.csv",
        ),
        (
            "aws/tooling-444455556666/authorization-details.json",
            "tooling/authorization-details.json",
        ),
        (
            "aws/tooling-444455556666/credential-report.json",
            "tooling/credential-report.json",
        ),
    ] {
        let to = estate.join(to);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(cloud_fixture(from), to).unwrap();
    }
    let db = dir.path().join("countersign.db");
    {
        let store = Store::open(&db).await.unwrap();
        countersign::demo::load(&store, false, "e2e").await.unwrap();
        store.close().await;
    }

    let app = AppSession::start(&db).await;
    app.click("[data-testid=tab-import]").await;
    app.click("[data-testid=choose-import-folder]").await;
    let dialog = PortalDialog::wait("Import an inventory").await;
    // In the folder, then "Select": the chooser picks the folder shown.
    dialog
        .type_location(&format!("{}/", estate.display()))
        .await;
    dialog.press_enter().await;
    if dialog.is_open() {
        dialog.press_enter().await;
    }

    app.wait_for_text_containing("[data-testid=import-summary]", "11 to create")
        .await;
    app.wait_for_text_containing(
        "[data-testid=import-unresolved]",
        "authorization-details.json:64 orders-api-irsa: owner team-orders (from its tags) is neither in this import nor in the inventory",
    )
    .await;
    app.wait_for_text_containing(
        "[data-testid=import-changes]",
        "aws:111122223333:role/orders-api-irsa",
    )
    .await;
    app.wait_for_text_containing(
        "[data-testid=import-changes]",
        "aws:444455556666:role/ci-runner",
    )
    .await;
    app.screenshot("cloud-import-preview").await;
    app.click("[data-testid=apply-import]").await;
    app.wait_for_text_containing("[data-testid=import-result]", "Imported: 11 changes")
        .await;

    // The IAM user with an old key, as its owner sees it.
    app.click("[data-testid=tab-identities]").await;
    let search = app.wait_for("[data-testid=search]").await;
    search.send_keys("legacy-reporting").await.unwrap();
    app.wait_for_text("[data-testid=identity-count]", "1 identity")
        .await;
    app.click("[data-id=\"aws:111122223333:user/legacy-reporting\"]")
        .await;
    app.wait_for_text("[data-testid=detail-kind]", "API key")
        .await;
    app.wait_for_text_containing("[data-testid=detail-credentials]", "access_key_1")
        .await;
    app.wait_for_text_containing("[data-testid=detail-credentials]", "2018-06-11")
        .await;
    app.screenshot("cloud-import-credentials").await;
    app.close().await;

    let store = Store::open(&db).await.unwrap();
    let role = store
        .identity("aws:111122223333:role/deploy-pipeline")
        .await
        .unwrap();
    assert!(role.admin_equivalent, "{role:?}");
    let key = store
        .identity("aws:111122223333:user/legacy-reporting")
        .await
        .unwrap();
    assert_eq!(key.credentials.len(), 1, "{key:?}");
}
