//! Issue 21 in the app: an owner imports an AWS account's authorization
//! details (`aws iam get-account-authorization-details`) through the Import
//! panel's file chooser (the XDG desktop portal, driven as a person types
//! into it). The preview says what will be created and what could not be
//! resolved (the EKS service account its role is federated to) before
//! anything is written; once applied, the admin-equivalent role shows as
//! such.

use std::path::Path;

use countersign::Store;
use countersign_e2e::{AppSession, PortalDialog};

fn cloud_fixture(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/cloud")
        .join(rel)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_aws_accounts_details_are_previewed_and_imported() {
    // Not a hidden folder, so the chooser lists it like any other.
    let dir = tempfile::Builder::new()
        .prefix("countersign-e2e-")
        .tempdir()
        .unwrap();
    // The account's files as the AWS CLI wrote them, in a folder of their own.
    let prod = dir.path().join("aws-prod");
    std::fs::create_dir_all(&prod).unwrap();
    for file in ["authorization-details.json", "credential-report.csv"] {
        std::fs::copy(
            cloud_fixture("aws/prod-111122223333").join(file),
            prod.join(file),
        )
        .unwrap();
    }
    let db = dir.path().join("countersign.db");
    {
        let store = Store::open(&db).await.unwrap();
        countersign::demo::load(&store, false, "e2e").await.unwrap();
        store.close().await;
    }

    let app = AppSession::start(&db).await;
    app.click("[data-testid=tab-import]").await;
    app.click("[data-testid=choose-import-file]").await;
    let dialog = PortalDialog::wait("Import an inventory").await;
    // The account's folder, then its authorization details.
    dialog.type_location(&format!("{}/", prod.display())).await;
    dialog.press_enter().await;
    dialog
        .type_location(
            &prod
                .join("authorization-details.json")
                .display()
                .to_string(),
        )
        .await;
    dialog.press_enter().await;

    app.wait_for_text_containing("[data-testid=import-summary]", "6 to create")
        .await;
    app.wait_for_text_containing(
        "[data-testid=import-unresolved]",
        "authorization-details.json:64 role orders-api-irsa: federated to the Kubernetes service account shop/orders-api",
    )
    .await;
    app.wait_for_text_containing(
        "[data-testid=import-changes]",
        "aws:111122223333:role/deploy-pipeline",
    )
    .await;
    app.screenshot("cloud-import-preview").await;
    app.click("[data-testid=apply-import]").await;
    app.wait_for_text_containing("[data-testid=import-result]", "Imported: 6 changes")
        .await;

    // The admin-equivalent role, as its owner sees it.
    app.click("[data-testid=tab-identities]").await;
    let search = app.wait_for("[data-testid=search]").await;
    search.send_keys("deploy-pipeline").await.unwrap();
    app.wait_for_text("[data-testid=identity-count]", "1 identity")
        .await;
    app.click("[data-id=\"aws:111122223333:role/deploy-pipeline\"]")
        .await;
    app.wait_for_text("[data-testid=detail-kind]", "Workload identity")
        .await;
    app.wait_for_text_containing("[data-testid=detail-admin-equivalent]", "Admin-equivalent")
        .await;
    app.screenshot("cloud-import-admin-role").await;
    app.close().await;

    let store = Store::open(&db).await.unwrap();
    let role = store
        .identity("aws:111122223333:role/deploy-pipeline")
        .await
        .unwrap();
    assert!(role.admin_equivalent, "{role:?}");
}
