//! The cloud importers (issue 21) through the real CLI, on files written in
//! each provider's CLI output shape (tests/fixtures/cloud/README.md), on a
//! SQLite file and on PostgreSQL.

mod common;
use common::{TestDb, countersign};

use serde_json::{Value, json};
use std::path::{Path, PathBuf};

fn cloud() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cloud")
}

use common::{stdout, stdout_json as as_json};

/// Both AWS accounts, the EKS cluster's manifests and the teams their tags
/// name, as one directory.
fn aws_estate() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("owners.yaml"),
        "version: 1\nowners:\n  - {id: team-orders, kind: team, name: Orders}\n  - {id: team-platform, kind: team, name: Platform Engineering}\n",
    )
    .unwrap();
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
        let to = dir.path().join(to);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(cloud().join(from), to).unwrap();
    }
    dir
}

/// What `import PATH` says on standard error when it refuses (and it
/// must refuse).
fn refusal(db: &Path, path: &Path) -> String {
    let out = countersign(db).arg("import").arg(path).output().unwrap();
    assert!(
        !out.status.success(),
        "the import of {} was refused",
        path.display()
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn show(db: &Path, id: &str) -> Value {
    as_json(countersign(db).args(["identities", "show", id, "--json"]))
}

fn services_of(identity: &Value) -> Vec<String> {
    identity["used_by"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|u| u["service"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

async fn aws_iam_maps_principals_trust_and_keys(engine: TestDb) {
    let db = PathBuf::from(engine.target());
    let estate = aws_estate();
    let report = as_json(
        countersign(&db)
            .arg("import")
            .arg(estate.path())
            .arg("--json"),
    );

    // A role federated to an EKS service account: its lineage is the
    // account, and the workload that runs as the account uses it.
    let irsa = show(&db, "aws:111122223333:role/orders-api-irsa");
    assert_eq!(irsa["kind"], "workload_identity");
    assert_eq!(irsa["lifetime"], "ephemeral");
    assert_eq!(
        irsa["external_ids"],
        json!(["arn:aws:iam::111122223333:role/orders-api-irsa"])
    );
    assert_eq!(irsa["derived_from"], "k8s:shop/orders-api");
    assert_eq!(services_of(&irsa), ["shop/orders-api"]);
    assert_eq!(irsa["owner"], "team-orders", "from its tag");
    assert_eq!(
        irsa["permissions"],
        json!(["policy/orders-data-access", "inline/orders-table"])
    );
    assert!(
        irsa.get("admin_equivalent").is_none(),
        "only the default version of a managed policy is in force: {irsa}"
    );

    // A role chain across the two accounts, admin through its inline policy.
    let deploy = show(&db, "aws:111122223333:role/deploy-pipeline");
    assert_eq!(deploy["derived_from"], "aws:444455556666:role/ci-runner");
    assert_eq!(deploy["admin_equivalent"], true);
    let runner = show(&db, "aws:444455556666:role/ci-runner");
    assert_eq!(services_of(&runner), ["aws:444455556666:ec2.amazonaws.com"]);
    let services = as_json(countersign(&db).args(["services", "list", "--json"]));
    let ec2 = services
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "aws:444455556666:ec2.amazonaws.com")
        .unwrap();
    assert_eq!(ec2["name"], "ec2.amazonaws.com (account 444455556666)");
    assert_eq!(runner["owner"], "team-platform", "from its `team` tag");

    // A service role: the AWS service is recorded as what uses it.
    let lambda = show(&db, "aws:111122223333:role/ingest-lambda");
    assert_eq!(
        services_of(&lambda),
        ["aws:111122223333:lambda.amazonaws.com"]
    );
    assert_eq!(lambda["used_by"][0]["delivery"], "dynamic");
    assert_eq!(
        lambda["permissions"],
        json!(["policy/service-role/AWSLambdaBasicExecutionRole"])
    );

    // Users with access keys: API keys with the report's dates; admin
    // through a group's managed policy.
    let deployer = show(&db, "aws:111122223333:user/ci-deployer");
    assert_eq!(deployer["kind"], "api_key");
    assert_eq!(deployer["lifetime"], "long_lived");
    assert_eq!(deployer["owner"], "team-platform");
    assert_eq!(deployer["admin_equivalent"], true);
    assert_eq!(
        deployer["permissions"],
        json!(["group/deployers: policy/AdministratorAccess"])
    );
    assert_eq!(
        deployer["credentials"],
        json!([
            {"id": "access_key_1", "kind": "access_key", "created_on": "2021-03-02", "last_used_on": "2026-11-29"},
            {"id": "access_key_2", "kind": "access_key", "created_on": "2022-07-07", "last_used_on": "2022-08-01", "active": false}
        ])
    );
    let legacy = show(&db, "aws:111122223333:user/legacy-reporting");
    assert_eq!(legacy["credentials"][0]["last_used_on"], "2023-01-15");
    assert_eq!(
        legacy["permissions"],
        json!(["policy/ReadOnlyAccess", "inline/read-reports-bucket"])
    );
    // The tooling account's report came as the CLI's JSON (base64 CSV).
    let cache = show(&db, "aws:444455556666:user/build-cache-writer");
    assert_eq!(
        cache["credentials"],
        json!([{"id": "access_key_1", "kind": "access_key", "created_on": "2024-05-20", "never_used": true}]),
        "the report records a key never used"
    );

    // Every trust, group and report row resolved: nothing left over.
    assert_eq!(report["findings"]["unresolved"], json!([]), "{report}");
    assert_eq!(report["findings"]["skipped"], json!([]), "{report}");

    // The chain's derived role is named, not the one contained.
    let chain = stdout(countersign(&db).args(["blast", "aws:444455556666:role/ci-runner"]));
    assert!(
        chain.contains("also revokes derived credentials: aws:111122223333:role/deploy-pipeline\n"),
        "{chain}"
    );

    // Disabling the federated role breaks the Kubernetes workload.
    let blast = as_json(countersign(&db).args([
        "blast",
        "aws:111122223333:role/orders-api-irsa",
        "--json",
    ]));
    let hit: Vec<&str> = blast["impacted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert!(hit.contains(&"shop/orders-api"), "{blast}");

    // Needs attention: a key rotated in 2018 and last used in 2023 is
    // due for rotation and unused (CIS AWS 1.14 and 1.12); the admin role
    // without a break-glass designation is flagged. The ages are the
    // organisation's to set.
    let legacy = "aws:111122223333:user/legacy-reporting";
    let rules_on = |id: &str| -> Vec<String> {
        as_json(countersign(&db).args(["attention", "--json"]))
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["id"] == id)
            .map(|f| f["rule"].as_str().unwrap().to_owned())
            .collect()
    };
    let rules = rules_on(legacy);
    assert!(
        rules.contains(&"credential_rotation_due".to_owned())
            && rules.contains(&"credential_unused".to_owned()),
        "{rules:?}"
    );
    for setting in ["credential-rotation-days", "credential-unused-days"] {
        countersign(&db)
            .args(["settings", setting, "36500"])
            .assert()
            .success();
        countersign(&db)
            .args(["settings", setting, "0"])
            .assert()
            .failure()
            .stderr(predicates::str::contains(format!(
                "{setting} must be at least 1"
            )));
    }
    let rules = rules_on(legacy);
    assert!(
        !rules.iter().any(|r| r.starts_with("credential_")),
        "{rules:?}"
    );
    assert!(
        stdout(countersign(&db).args(["settings", "credential-unused-days"]))
            .contains("36500 days")
    );

    // The terminal view says what the JSON does.
    let text = stdout(countersign(&db).args(["identities", "show", legacy]));
    assert!(
        text.contains("access_key_1 (access key): created 2018-06-11, last used 2023-01-15"),
        "{text}"
    );
    let text = stdout(countersign(&db).args([
        "identities",
        "show",
        "aws:111122223333:role/deploy-pipeline",
    ]));
    assert!(text.contains("privilege:     admin-equivalent"), "{text}");
    // Looked up by its ARN too, as `blast` does.
    let by_arn = stdout(countersign(&db).args([
        "identities",
        "show",
        "arn:aws:iam::111122223333:role/deploy-pipeline",
    ]));
    assert_eq!(by_arn, text);

    // Again: nothing changes.
    let again = as_json(
        countersign(&db)
            .arg("import")
            .arg(estate.path())
            .arg("--json"),
    );
    assert_eq!(again["changes"]["changes"], json!([]), "{again}");
}
on_both_engines!(aws_iam_maps_principals_trust_and_keys);

/// Imported again, the account is the truth about what it grants and the
/// keys it has (a policy narrowed or a key deleted in AWS is narrowed or
/// deleted here), and the owner's word — owner, description — is kept.
#[tokio::test]
async fn a_reimport_follows_the_cloud_and_keeps_the_owners_word() {
    let engine = TestDb::sqlite();
    let db = PathBuf::from(engine.target());
    let estate = aws_estate();
    stdout(countersign(&db).arg("import").arg(estate.path()));
    let mut lambda = show(&db, "aws:111122223333:role/ingest-lambda");
    lambda["owner"] = json!("team-data-platform");
    lambda["description"] = json!("Loads the nightly ingest; owned by data platform.");
    for key in ["derived", "services", "version"] {
        lambda.as_object_mut().unwrap().remove(key);
    }
    let edit = tempfile::tempdir().unwrap();
    let file = edit.path().join("edit.json");
    std::fs::write(
        &file,
        json!({"version": 1, "identities": [lambda]}).to_string(),
    )
    .unwrap();
    stdout(countersign(&db).arg("import").arg(&file));
    // In AWS meanwhile: the deployers group narrowed to read-only, and the
    // legacy user's key deleted.
    let details = estate.path().join("prod/authorization-details.json");
    let text = std::fs::read_to_string(&details).unwrap();
    std::fs::write(
        &details,
        text.replace(
            r#"{"PolicyName": "AdministratorAccess", "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}"#,
            r#"{"PolicyName": "ReadOnlyAccess", "PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}"#,
        ),
    )
    .unwrap();
    let report = estate.path().join("prod/credential-report.csv");
    let text = std::fs::read_to_string(&report).unwrap();
    std::fs::write(
        &report,
        text.replace(
            "false,N/A,N/A,N/A,false,true,2018-06-11T14:05:00+00:00,2023-01-15T06:30:00+00:00,us-east-1,s3,",
            "false,N/A,N/A,N/A,false,false,N/A,N/A,N/A,N/A,",
        ),
    )
    .unwrap();
    stdout(countersign(&db).arg("import").arg(estate.path()));
    let lambda = show(&db, "aws:111122223333:role/ingest-lambda");
    assert_eq!(lambda["owner"], "team-data-platform");
    assert_eq!(
        lambda["description"],
        "Loads the nightly ingest; owned by data platform."
    );
    let deployer = show(&db, "aws:111122223333:user/ci-deployer");
    assert_eq!(
        deployer["permissions"],
        json!(["group/deployers: policy/ReadOnlyAccess"])
    );
    assert!(deployer.get("admin_equivalent").is_none(), "{deployer}");
    let legacy = show(&db, "aws:111122223333:user/legacy-reporting");
    assert!(legacy.get("credentials").is_none(), "{legacy}");
}

/// A value the AWS CLI would not print is refused with the file and the
/// JSON path, and nothing is written.
#[tokio::test]
async fn a_malformed_aws_file_names_the_json_path_and_writes_nothing() {
    let engine = TestDb::sqlite();
    let db = PathBuf::from(engine.target());
    let dir = tempfile::tempdir().unwrap();
    let text =
        std::fs::read_to_string(cloud().join("aws/prod-111122223333/authorization-details.json"))
            .unwrap();
    let bad = text.replacen(
        r#""Principal": {"AWS": "arn:aws:iam::444455556666:role/ci-runner"}"#,
        r#""Principal": 7"#,
        1,
    );
    assert_ne!(bad, text);
    std::fs::write(dir.path().join("details.json"), bad).unwrap();
    let stderr = refusal(&db, dir.path());
    assert!(
        stderr.contains("details.json")
            && stderr.contains("RoleDetailList[2].AssumeRolePolicyDocument"),
        "{stderr}"
    );
    assert!(stderr.contains("found a number"), "{stderr}");
    let ids = as_json(countersign(&db).args(["identities", "list", "--json"]));
    assert_eq!(ids, json!([]), "nothing written");
}

async fn entra_maps_service_principals_apps_and_managed_identities(engine: TestDb) {
    let db = PathBuf::from(engine.target());
    let report = as_json(
        countersign(&db)
            .arg("import")
            .arg(cloud().join("entra"))
            .arg("--json"),
    );
    let app = show(&db, "entra:a3d5e7f9-1b2c-4d6e-8f01-23456789ab01");
    assert_eq!(app["kind"], "oauth_app");
    assert_eq!(app["name"], "payments-reconciler");
    assert_eq!(
        app["owner"], "li.wei@harborpay.example",
        "its application's owner"
    );
    // The secrets its application object holds, never their values.
    assert_eq!(
        app["credentials"],
        json!([
            {"id": "c0ffee00-1111-4222-8333-944455556601", "kind": "client_secret", "created_on": "2025-06-01", "expires_on": "2027-01-10"},
            {"id": "c0ffee00-2222-4333-8444-955566667702", "kind": "certificate", "created_on": "2024-01-01", "expires_on": "2029-01-01"}
        ])
    );
    assert_eq!(
        app["permissions"],
        json!(["Microsoft Graph: app role df021288-bdef-4463-88db-98f22de89214"])
    );
    assert!(
        app.get("admin_equivalent").is_none(),
        "User.Read.All does not escalate"
    );

    let mi = show(&db, "entra:0e1d2c3b-4a59-4687-b6c5-d4e3f2a1b002");
    assert_eq!(mi["kind"], "workload_identity");
    assert_eq!(mi["lifetime"], "ephemeral");
    assert_eq!(
        mi["external_ids"][1],
        "/subscriptions/11111111-2222-3333-4444-555555555555/resourcegroups/rg-orders/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-orders-prod"
    );
    // The owner is a person the inventory does not hold: said, kept.
    let unresolved = report["findings"]["unresolved"].to_string();
    assert!(
        unresolved.contains("owner li.wei@harborpay.example"),
        "{unresolved}"
    );
    let again = as_json(
        countersign(&db)
            .arg("import")
            .arg(cloud().join("entra"))
            .arg("--json"),
    );
    assert_eq!(again["changes"]["changes"], json!([]), "{again}");

    // With the demo's owners, the application owner's sign-in name is
    // matched to the owner recorded with that e-mail (`li.wei`).
    let demo = tempfile::tempdir().unwrap();
    let with_owners = demo.path().join("demo.db");
    countersign(&with_owners)
        .args(["demo", "load"])
        .assert()
        .success();
    let report = as_json(
        countersign(&with_owners)
            .arg("import")
            .arg(cloud().join("entra"))
            .arg("--json"),
    );
    assert!(
        !report["findings"]["unresolved"]
            .to_string()
            .contains("li.wei"),
        "{report}"
    );
    let app = show(&with_owners, "entra:a3d5e7f9-1b2c-4d6e-8f01-23456789ab01");
    assert_eq!(app["owner"], "li.wei", "{app}");
}
on_both_engines!(entra_maps_service_principals_apps_and_managed_identities);

async fn gcp_maps_service_accounts_keys_and_bindings(engine: TestDb) {
    let db = PathBuf::from(engine.target());
    let report = as_json(
        countersign(&db)
            .arg("import")
            .arg(cloud().join("gcp"))
            .arg("--json"),
    );
    let exporter = show(
        &db,
        "gcp:warehouse-exporter@harbor-data-prod.iam.gserviceaccount.com",
    );
    assert_eq!(exporter["kind"], "service_account");
    assert_eq!(exporter["name"], "Warehouse exporter");
    assert_eq!(
        exporter["lifetime"], "long_lived",
        "it has a user-managed key"
    );
    assert_eq!(
        exporter["credentials"],
        json!([{"id": "3f2a9c81d0e4b5a6c7d8e9f00112233445566778", "kind": "private_key", "created_on": "2022-02-14"}]),
        "the user-managed key only, and it never expires"
    );
    assert_eq!(
        exporter["permissions"],
        json!(["roles/editor", "roles/bigquery.dataEditor"])
    );
    assert_eq!(exporter["admin_equivalent"], true, "a basic role");
    let bi = show(
        &db,
        "gcp:bi-connector@harbor-data-prod.iam.gserviceaccount.com",
    );
    assert_eq!(bi["lifetime"], "ephemeral");
    assert!(bi["description"].as_str().unwrap().ends_with("Disabled."));
    assert_eq!(
        bi["permissions"],
        json!(["roles/bigquery.dataViewer (conditional: until-2027)"])
    );
    // Google's own keys and service agents are counted, people noted.
    let skipped: Vec<(String, u64)> = report["findings"]["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["kind"].as_str().unwrap().to_owned(),
                s["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        skipped,
        [
            ("Google-managed key (rotated by Google)".to_owned(), 1),
            ("binding of a Google-managed service agent".to_owned(), 1)
        ]
    );
    assert!(
        report["findings"]["notes"]
            .to_string()
            .contains("1 binding member(s) are people"),
        "{report}"
    );
    assert_eq!(report["findings"]["unresolved"], json!([]), "{report}");
    let again = as_json(
        countersign(&db)
            .arg("import")
            .arg(cloud().join("gcp"))
            .arg("--json"),
    );
    assert_eq!(again["changes"]["changes"], json!([]), "{again}");
}
on_both_engines!(gcp_maps_service_accounts_keys_and_bindings);

/// The default Compute Engine account is the project's own (often an
/// Editor), not a Google service agent; public access is reported.
#[tokio::test]
async fn gcp_default_accounts_count_and_public_access_is_said() {
    let engine = TestDb::sqlite();
    let db = PathBuf::from(engine.target());
    let dir = tempfile::tempdir().unwrap();
    let compute = "123456789012-compute@developer.gserviceaccount.com";
    std::fs::write(
        dir.path().join("accounts.json"),
        json!([{
            "displayName": "Compute Engine default service account",
            "email": compute,
            "name": format!("projects/harbor-web/serviceAccounts/{compute}"),
            "projectId": "harbor-web",
            "uniqueId": "1"
        }])
        .to_string(),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("policy.json"),
        json!({"bindings": [
            {"role": "roles/editor", "members": [format!("serviceAccount:{compute}")]},
            {"role": "roles/storage.objectViewer", "members": ["allUsers"]}
        ], "etag": "x", "version": 1})
        .to_string(),
    )
    .unwrap();
    let report = as_json(countersign(&db).arg("import").arg(dir.path()).arg("--json"));
    let sa = show(&db, &format!("gcp:{compute}"));
    assert_eq!(sa["admin_equivalent"], true, "{sa}");
    let unresolved = report["findings"]["unresolved"].to_string();
    assert!(
        unresolved.contains("grants roles/storage.objectViewer to allUsers"),
        "{unresolved}"
    );
}

/// A file imported on its own speaks only for what it holds: details
/// without the credential report, service principals without their
/// applications, accounts without their keys or policy leave the keys
/// and permissions recorded by earlier imports as they are.
#[tokio::test]
async fn a_partial_reimport_keeps_what_it_does_not_speak_for() {
    let engine = TestDb::sqlite();
    let db = PathBuf::from(engine.target());
    let estate = aws_estate();
    stdout(countersign(&db).arg("import").arg(estate.path()));
    stdout(countersign(&db).arg("import").arg(cloud().join("entra")));
    stdout(countersign(&db).arg("import").arg(cloud().join("gcp")));
    let before: Vec<Value> = [
        "aws:111122223333:user/ci-deployer",
        "entra:a3d5e7f9-1b2c-4d6e-8f01-23456789ab01",
        "gcp:warehouse-exporter@harbor-data-prod.iam.gserviceaccount.com",
    ]
    .iter()
    .map(|id| show(&db, id))
    .collect();
    let out = as_json(
        countersign(&db)
            .arg("import")
            .arg(estate.path().join("prod/authorization-details.json"))
            .arg("--json"),
    );
    assert!(
        out["findings"]["notes"]
            .to_string()
            .contains("those recorded are kept"),
        "{out}"
    );
    stdout(
        countersign(&db)
            .arg("import")
            .arg(cloud().join("entra/service-principals.json")),
    );
    stdout(
        countersign(&db)
            .arg("import")
            .arg(cloud().join("gcp/service-accounts.json")),
    );
    for was in before {
        let id = was["id"].as_str().unwrap();
        let now = show(&db, id);
        for field in [
            "kind",
            "credentials",
            "permissions",
            "admin_equivalent",
            "lifetime",
        ] {
            assert_eq!(now.get(field), was.get(field), "{id}: {field}");
        }
    }
}

/// A cut-off file given with `--format aws` is named as cut off, at its
/// line, not as some other tool's output; a file of another tool under it
/// is told what the AWS CLI prints instead.
#[test]
fn insisting_on_a_provider_names_what_is_wrong_with_the_file() {
    let engine = TestDb::sqlite();
    let db = PathBuf::from(engine.target());
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("cut.json");
    std::fs::write(&cut, "{\n  \"RoleDetailList\": [\n    {\"RoleName\": \"r\"").unwrap();
    let out = countersign(&db)
        .args(["import", "--format", "aws"])
        .arg(&cut)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("cut.json:3:"), "{stderr}");
    let out = countersign(&db)
        .args(["import", "--format", "aws"])
        .arg(cloud().join("gcp/iam-policy.json"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("not AWS IAM output"), "{stderr}");
}

/// A principal listed twice — two snapshots of one account in one import,
/// a service account or an Entra object written twice — is refused with
/// both places named, never merged (the later copy's permissions and keys
/// would silently replace the earlier's); nothing is written.
#[tokio::test]
async fn a_principal_listed_twice_is_refused_naming_both_places() {
    let engine = TestDb::sqlite();
    let db = PathBuf::from(engine.target());
    let dir = tempfile::tempdir().unwrap();
    for snapshot in ["monday", "tuesday"] {
        let to = dir.path().join(snapshot);
        std::fs::create_dir_all(&to).unwrap();
        for f in ["authorization-details.json", "credential-report.csv"] {
            std::fs::copy(cloud().join("aws/prod-111122223333").join(f), to.join(f)).unwrap();
        }
    }
    let stderr = refusal(&db, dir.path());
    assert!(
        stderr.contains("tuesday/authorization-details.json:")
            && stderr.contains("is listed again: it is already at")
            && stderr.contains("monday/authorization-details.json:")
            && stderr.contains("tuesday/credential-report.csv:"),
        "{stderr}"
    );
    assert_eq!(
        as_json(countersign(&db).args(["identities", "list", "--json"])),
        json!([]),
        "nothing written"
    );

    // Within one file: a Google service account written twice.
    let gcp = tempfile::tempdir().unwrap();
    let accounts: Value = serde_json::from_str(
        &std::fs::read_to_string(cloud().join("gcp/service-accounts.json")).unwrap(),
    )
    .unwrap();
    let mut twice = accounts.as_array().unwrap().clone();
    twice.push(twice[0].clone());
    std::fs::write(
        gcp.path().join("service-accounts.json"),
        serde_json::to_string_pretty(&twice).unwrap(),
    )
    .unwrap();
    let stderr = refusal(&db, gcp.path());
    let n = twice.len() - 1;
    assert!(
        stderr.contains(&format!("[{n}].email: service account "))
            && stderr.contains("is listed twice in this file"),
        "{stderr}"
    );
    // Each copy at its own line: the second is the file's last account.
    let text = serde_json::to_string_pretty(&twice).unwrap();
    let email = twice[0]["email"].as_str().unwrap();
    let line_of = |nth: usize| {
        let at = text
            .match_indices(&format!("\"email\": \"{email}\""))
            .nth(nth)
            .unwrap()
            .0;
        text[..at].matches('\n').count() + 1
    };
    assert!(
        stderr.contains(&format!("service-accounts.json:{}:", line_of(1)))
            && stderr.contains(&format!("first at line {}", line_of(0))),
        "{stderr}"
    );
}

/// The credential report's `<root_account>` row: the root user's keys
/// go to the identity that stands for the account's root (the demo's
/// break-glass `bg-cloud-root`, external id `arn:aws:iam::…:root`), and
/// with none such they are reported, never dropped (CIS AWS 1.4).
#[tokio::test]
async fn the_root_users_keys_are_recorded_or_reported() {
    let engine = TestDb::sqlite();
    let db = PathBuf::from(engine.target());
    let dir = tempfile::tempdir().unwrap();
    let report =
        std::fs::read_to_string(cloud().join("aws/prod-111122223333/credential-report.csv"))
            .unwrap();
    let mut lines: Vec<String> = report.lines().map(str::to_owned).collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let mut root: Vec<String> = lines[1].split(',').map(str::to_owned).collect();
    assert_eq!(root[0], "<root_account>");
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    root[col("access_key_1_active")] = "true".into();
    root[col("access_key_1_last_rotated")] = "2019-04-01T10:00:00+00:00".into();
    lines[1] = root.join(",");
    std::fs::copy(
        cloud().join("aws/prod-111122223333/authorization-details.json"),
        dir.path().join("authorization-details.json"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("credential-report.csv"),
        lines.join("\n") + "\n",
    )
    .unwrap();

    let report = as_json(
        countersign(&db)
            .arg("import")
            .arg(dir.path())
            .args(["--dry-run", "--json"]),
    );
    let unresolved = report["findings"]["unresolved"].to_string();
    assert!(
        unresolved.contains("credential-report.csv")
            && unresolved.contains("the root user of account 111122223333 has 1 access key(s)")
            && unresolved.contains("\"line\":2"),
        "{unresolved}"
    );

    countersign(&db).args(["demo", "load"]).assert().success();
    countersign(&db)
        .arg("import")
        .arg(dir.path())
        .assert()
        .success();
    let root = show(&db, "bg-cloud-root");
    assert_eq!(root["credentials"][0]["id"], "access_key_1", "{root}");
    assert_eq!(root["credentials"][0]["created_on"], "2019-04-01", "{root}");
    assert!(root["break_glass"].is_object(), "still break-glass: {root}");
}

/// What the providers' CLIs print at the edges: an empty list (an account
/// without user-managed keys, an empty tenant) given with `--format`, a
/// Graph page of applications told by its `@odata.context` (a `$select`
/// keeps none of the properties a plain list is told by), and an ARN with
/// IAM's longest path.
#[tokio::test]
async fn empty_lists_graph_pages_and_long_arns_are_read() {
    let engine = TestDb::sqlite();
    let db = PathBuf::from(engine.target());
    let empty = tempfile::tempdir().unwrap();
    std::fs::write(empty.path().join("keys-none.json"), "[]\n").unwrap();
    for format in ["gcp", "entra"] {
        let out = as_json(
            countersign(&db)
                .arg("import")
                .arg(empty.path().join("keys-none.json"))
                .args(["--format", format, "--json"]),
        );
        assert!(
            out["findings"]["notes"]
                .to_string()
                .contains("an empty list"),
            "{out}"
        );
    }

    let entra = tempfile::tempdir().unwrap();
    std::fs::copy(
        cloud().join("entra/service-principals.json"),
        entra.path().join("service-principals.json"),
    )
    .unwrap();
    let apps: Value = serde_json::from_str(
        &std::fs::read_to_string(cloud().join("entra/applications.json")).unwrap(),
    )
    .unwrap();
    let selected: Vec<Value> = apps
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            json!({"id": a["id"], "appId": a["appId"], "displayName": a["displayName"],
                   "passwordCredentials": a["passwordCredentials"], "keyCredentials": a["keyCredentials"]})
        })
        .collect();
    std::fs::write(
        entra.path().join("applications.json"),
        serde_json::to_string_pretty(&json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#applications(id,appId,displayName,passwordCredentials,keyCredentials)",
            "value": selected,
        }))
        .unwrap(),
    )
    .unwrap();
    let out = as_json(
        countersign(&db)
            .arg("import")
            .arg(entra.path())
            .args(["--dry-run", "--json"]),
    );
    assert_eq!(out["findings"]["skipped"], json!([]), "{out}");
    assert!(
        !out["findings"]["notes"]
            .to_string()
            .contains("its application object is not in the import"),
        "{out}"
    );

    let aws = tempfile::tempdir().unwrap();
    let mut details: Value = serde_json::from_str(
        &std::fs::read_to_string(cloud().join("aws/prod-111122223333/authorization-details.json"))
            .unwrap(),
    )
    .unwrap();
    let path = format!("/{}/", "p".repeat(510)); // IAM's longest path
    assert_eq!(path.len(), 512);
    let role = &mut details["RoleDetailList"][1];
    role["Path"] = json!(path);
    let arn = role["Arn"]
        .as_str()
        .unwrap()
        .replace(":role/", &format!(":role{path}"));
    role["Arn"] = json!(arn);
    std::fs::write(
        aws.path().join("authorization-details.json"),
        serde_json::to_string_pretty(&details).unwrap(),
    )
    .unwrap();
    countersign(&db)
        .arg("import")
        .arg(aws.path())
        .assert()
        .success();
    let name = details["RoleDetailList"][1]["RoleName"].as_str().unwrap();
    let role = show(&db, &format!("aws:111122223333:role/{name}"));
    assert_eq!(role["external_ids"], json!([arn]), "{role}");
}

/// An account's details in parts — `--filter Role` beside `--filter User
/// Group LocalManagedPolicy AWSManagedPolicy`, as a file over the import's
/// size limit is split — give what the whole file gives: a principal's
/// groups and managed policies are found in any part.
#[tokio::test]
async fn an_accounts_details_in_parts_import_as_the_whole() {
    let whole: Value = serde_json::from_str(
        &std::fs::read_to_string(cloud().join("aws/prod-111122223333/authorization-details.json"))
            .unwrap(),
    )
    .unwrap();
    let parts = tempfile::tempdir().unwrap();
    std::fs::write(
        parts.path().join("roles.json"),
        serde_json::to_string_pretty(
            &json!({"RoleDetailList": whole["RoleDetailList"], "IsTruncated": false}),
        )
        .unwrap(),
    )
    .unwrap();
    std::fs::write(
        parts.path().join("users-groups-policies.json"),
        serde_json::to_string_pretty(&json!({
            "UserDetailList": whole["UserDetailList"],
            "GroupDetailList": whole["GroupDetailList"],
            "Policies": whole["Policies"],
            "IsTruncated": false,
        }))
        .unwrap(),
    )
    .unwrap();
    let (a, b) = (TestDb::sqlite(), TestDb::sqlite());
    let (from_whole, from_parts) = (PathBuf::from(a.target()), PathBuf::from(b.target()));
    countersign(&from_whole)
        .arg("import")
        .arg(cloud().join("aws/prod-111122223333/authorization-details.json"))
        .assert()
        .success();
    countersign(&from_parts)
        .arg("import")
        .arg(parts.path())
        .assert()
        .success();
    let mut compared = 0;
    for id in as_json(countersign(&from_whole).args(["identities", "list", "--json"]))
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
    {
        let (w, p) = (show(&from_whole, &id), show(&from_parts, &id));
        assert_eq!(w["permissions"], p["permissions"], "{id}");
        assert_eq!(w["admin_equivalent"], p["admin_equivalent"], "{id}");
        compared += 1;
    }
    assert!(compared >= 5);
}

/// Admin-equivalence follows the providers' own rules beyond "`*` on
/// `*`": an explicit Deny of everything in another of the role's policies
/// wins over its Allow (IAM's evaluation logic), and a Google service
/// account that may mint any account's tokens on the project can act as
/// its Owner.
#[tokio::test]
async fn explicit_denies_and_escalation_roles_decide_admin_equivalence() {
    let engine = TestDb::sqlite();
    let db = PathBuf::from(engine.target());
    let dir = tempfile::tempdir().unwrap();
    let mut details: Value = serde_json::from_str(
        &std::fs::read_to_string(cloud().join("aws/prod-111122223333/authorization-details.json"))
            .unwrap(),
    )
    .unwrap();
    let roles = details["RoleDetailList"].as_array_mut().unwrap();
    let deploy = roles
        .iter_mut()
        .find(|r| r["RoleName"] == "deploy-pipeline")
        .unwrap();
    deploy["RolePolicyList"].as_array_mut().unwrap().push(json!({
        "PolicyName": "quarantine",
        "PolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}
    }));
    std::fs::write(
        dir.path().join("authorization-details.json"),
        serde_json::to_string_pretty(&details).unwrap(),
    )
    .unwrap();
    let mut policy: Value = serde_json::from_str(
        &std::fs::read_to_string(cloud().join("gcp/iam-policy.json")).unwrap(),
    )
    .unwrap();
    policy["bindings"].as_array_mut().unwrap().push(json!({
        "role": "roles/iam.serviceAccountTokenCreator",
        "members": ["serviceAccount:bi-connector@harbor-data-prod.iam.gserviceaccount.com"]
    }));
    std::fs::write(
        dir.path().join("iam-policy.json"),
        serde_json::to_string_pretty(&policy).unwrap(),
    )
    .unwrap();
    std::fs::copy(
        cloud().join("gcp/service-accounts.json"),
        dir.path().join("service-accounts.json"),
    )
    .unwrap();
    countersign(&db)
        .arg("import")
        .arg(dir.path())
        .assert()
        .success();
    let deploy = show(&db, "aws:111122223333:role/deploy-pipeline");
    assert!(deploy.get("admin_equivalent").is_none(), "{deploy}");
    let bi = show(
        &db,
        "gcp:bi-connector@harbor-data-prod.iam.gserviceaccount.com",
    );
    assert_eq!(bi["admin_equivalent"], json!(true), "{bi}");
}

/// A tag's owner that the inventory does not hold is reported, but not
/// once the owner has recorded their own: the stored owner wins the merge,
/// and the report does not claim the tag's is kept.
#[tokio::test]
async fn an_unknown_tag_owner_is_reported_only_while_it_would_be_used() {
    let engine = TestDb::sqlite();
    let db = PathBuf::from(engine.target());
    countersign(&db).args(["demo", "load"]).assert().success();
    let details = cloud().join("aws/prod-111122223333/authorization-details.json");
    let tag_owner = |db: &Path| {
        let out = as_json(countersign(db).arg("import").arg(&details).arg("--json"));
        out["findings"]["unresolved"]
            .to_string()
            .contains("owner team-orders (from its tags)")
    };
    assert!(tag_owner(&db));
    let dir = tempfile::tempdir().unwrap();
    let mine = dir.path().join("mine.yaml");
    let mut irsa = show(&db, "aws:111122223333:role/orders-api-irsa");
    let fields = irsa.as_object_mut().unwrap();
    for derived in ["version", "services", "derived"] {
        fields.remove(derived);
    }
    fields.insert("owner".into(), json!("team-payments"));
    std::fs::write(
        &mine,
        serde_json::to_string(&json!({"version": 1, "identities": [irsa]})).unwrap(),
    )
    .unwrap();
    countersign(&db).arg("import").arg(&mine).assert().success();
    assert!(!tag_owner(&db));
    assert_eq!(
        show(&db, "aws:111122223333:role/orders-api-irsa")["owner"],
        "team-payments"
    );
}
