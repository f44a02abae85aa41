//! Importers and exporters through the real CLI, on realistic files: a
//! Backstage catalog of a made-up organisation and Kubernetes manifests
//! across namespaces (tests/fixtures), plus broken copies of them. Each runs
//! on a SQLite file and on PostgreSQL (team mode).

mod common;
use common::{TestDb, countersign};

use predicates::prelude::*;
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

use common::{stdout, stdout_json as json};

fn audit_rows(db: &Path) -> usize {
    json(countersign(db).args(["audit", "log", "--json", "--limit", "100000"]))
        .as_array()
        .unwrap()
        .len()
}

async fn backstage_catalog_maps_to_services_owners_and_dependencies(engine: TestDb) {
    let db = PathBuf::from(engine.target());
    let catalog = fixtures().join("backstage/catalog-info.yaml");
    countersign(&db)
        .arg("import")
        .arg(&catalog)
        .assert()
        .success()
        .stdout(predicate::str::contains("4 file(s): 14 to create"));

    let services = json(countersign(&db).args(["services", "list", "--json"]));
    let service = |id: &str| {
        services
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == id)
            .unwrap()
            .clone()
    };
    let api = service("shipment-api");
    assert_eq!(api["name"], "Shipment API");
    assert_eq!(api["owner"], "team-shipping");
    assert_eq!(api["system"], "shipping");
    assert_eq!(api["tier"], 0, "from the countersign.dev/tier annotation");
    assert_eq!(
        api["depends_on"],
        serde_json::json!([
            "resource:shipments-db",
            "carrier-gateway",
            "api:invoice-api"
        ]),
        "a Resource and an API are named by their kind"
    );
    assert_eq!(
        service("label-printer")["depends_on"],
        serde_json::json!(["resource:shipments-db"]),
        "dependencyOf"
    );
    assert_eq!(
        service("api:shipment-api-v2")["depends_on"],
        serde_json::json!(["shipment-api"]),
        "providesApis"
    );
    assert_eq!(
        service("label-printer")["tier"],
        3,
        "experimental lifecycle"
    );
    assert_eq!(
        services.as_array().unwrap().len(),
        9,
        "components, resources and APIs; no System or Template"
    );

    let owners = json(countersign(&db).args(["owners", "list", "--json"]));
    let noor = owners
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == "noor.rahman")
        .unwrap();
    assert_eq!(
        (noor["kind"].as_str(), noor["parent"].as_str()),
        (Some("person"), Some("team-shipping"))
    );
    assert_eq!(owners.as_array().unwrap().len(), 5);

    let dot = stdout(countersign(&db).args(["export", "--format", "dot"]));
    assert!(
        dot.contains("\"service:resource:shipments-db\" -> \"service:shipment-api\";"),
        "{dot}"
    );
    assert!(
        dot.contains("\"service:invoicing\" -> \"service:api:invoice-api\";"),
        "{dot}"
    );
}

async fn kubernetes_manifests_map_to_workload_identities_workloads_and_permissions(engine: TestDb) {
    let db = PathBuf::from(engine.target());
    countersign(&db)
        .arg("import")
        .arg(fixtures().join("k8s"))
        .args(["--format", "k8s"])
        .assert()
        .success();
    let ids = json(countersign(&db).args(["identities", "list", "--json"]));
    let list: Vec<_> = ids
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        list.iter().filter(|i| i.starts_with("k8s:")).count(),
        5,
        "three accounts, the implicit default account, one token Secret: {list:?}"
    );

    let sa =
        json(countersign(&db).args(["identities", "show", "k8s:shipping/shipment-api", "--json"]));
    assert_eq!(sa["kind"], "workload_identity");
    assert_eq!(sa["owner"], "team-shipping");
    assert_eq!(
        sa["external_ids"],
        serde_json::json!(["k8s:shipping/shipment-api"])
    );
    assert_eq!(
        sa["permissions"],
        serde_json::json!(["ClusterRole/edit in shipping"])
    );
    let used: Vec<_> = sa["used_by"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["service"].clone(), u["access"].clone()))
        .collect();
    assert_eq!(
        used,
        [
            ("shipping/shipment-api".into(), "write".into()),
            ("shipping/label-queue".into(), "write".into())
        ]
    );
    assert_eq!(
        sa["derived"],
        serde_json::json!(["k8s:shipping/secret/shipment-api-token"])
    );

    let chaos = json(countersign(&db).args([
        "identities",
        "show",
        "k8s:observability/chaos-operator",
        "--json",
    ]));
    assert_eq!(
        chaos["used_by"][0]["access"], "admin",
        "cluster-admin binding"
    );
    assert_eq!(chaos["environment"], "staging");
    let default =
        json(countersign(&db).args(["identities", "show", "k8s:shipping/default", "--json"]));
    assert_eq!(
        default["used_by"][0]["service"],
        "shipping/nightly-reconcile"
    );
}

async fn reimporting_the_same_files_changes_nothing(engine: TestDb) {
    let db = PathBuf::from(engine.target());
    countersign(&db)
        .arg("import")
        .arg(fixtures().join("backstage"))
        .assert()
        .success();
    countersign(&db)
        .arg("import")
        .arg(fixtures().join("k8s"))
        .assert()
        .success();
    let before = stdout(countersign(&db).args(["export", "--format", "native"]));
    let rows = audit_rows(&db);
    for path in ["backstage", "k8s"] {
        countersign(&db)
            .arg("import")
            .arg(fixtures().join(path))
            .assert()
            .success()
            .stdout(predicate::str::contains(
                "nothing to write: the inventory already matches",
            ));
    }
    assert_eq!(
        stdout(countersign(&db).args(["export", "--format", "native"])),
        before
    );
    assert_eq!(audit_rows(&db), rows, "no audit row for a no-op");
}

async fn importing_keeps_what_owners_documented_and_merges_by_external_id(engine: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let db = PathBuf::from(engine.target());
    // The owner documented the account first, under their own id.
    let native = dir.path().join("mine.yaml");
    std::fs::write(
        &native,
        "version: 1\nidentities:\n  - id: shipment-api-sa\n    kind: workload_identity\n    name: Shipment API account\n    owner: noor.rahman\n    environment: production\n    tier: 0\n    external_ids: [\"k8s:shipping/shipment-api\"]\n    review: {by: noor.rahman, on: 2026-11-01}\n",
    )
    .unwrap();
    countersign(&db)
        .arg("import")
        .arg(&native)
        .assert()
        .success();
    countersign(&db)
        .arg("import")
        .arg(fixtures().join("k8s/shipping.yaml"))
        .assert()
        .success();
    let sa = json(countersign(&db).args(["identities", "show", "shipment-api-sa", "--json"]));
    assert_eq!(sa["owner"], "team-shipping", "the manifest states an owner");
    assert_eq!(sa["review"]["by"], "noor.rahman", "kept");
    assert_eq!(
        sa["used_by"].as_array().unwrap().len(),
        2,
        "merged into the documented identity"
    );
    // No identity of its own: the manifest's id is an external id of the
    // documented one, and `show` finds that one by it.
    let by_external =
        json(countersign(&db).args(["identities", "show", "k8s:shipping/shipment-api", "--json"]));
    assert_eq!(by_external["id"], "shipment-api-sa");
}

/// A broken file names itself, the line and the field, and nothing is written.
async fn malformed_files_change_nothing_and_name_the_line(engine: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let db = PathBuf::from(engine.target());
    countersign(&db).args(["demo", "load"]).assert().success();
    let before = stdout(countersign(&db).args(["export", "--format", "native"]));
    let rows = audit_rows(&db);

    let cases: &[(&str, &str, &[&str])] = &[
        (
            "bad-yaml.yaml",
            "version: 1\nservices: [\n  {id: a, name: A, tier: 1\n",
            &["bad-yaml.yaml:3:3: unclosed bracket"],
        ),
        (
            "wrong-type.yaml",
            "version: 1\nservices:\n  - id: a\n    name: A\n    tier: high\n",
            &["wrong-type.yaml:5:11: \"high\" is not a valid tier"],
        ),
        (
            "dangling.yaml",
            "version: 1\nservices:\n  - id: a\n    name: A\n    tier: 1\n    depends_on:\n      - ledger-db\n      - no-such-service\n",
            &[
                "dangling.yaml:8: services (id \"a\").depends_on: unknown service \"no-such-service\"",
            ],
        ),
        (
            "duplicate-key.yaml",
            "version: 1\nservices:\n  - id: a\n    name: A\n    name: B\n    tier: 1\n",
            &["duplicate-key.yaml:5:5: the key name appears twice in one mapping"],
        ),
        (
            "strict-backstage-dangling.yaml",
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: a}\nspec:\n  type: service\n  lifecycle: production\n  owner: user:x\n  dependsOn:\n    - resource:missing-db\n",
            &[
                "strict-backstage-dangling.yaml:7: spec.owner: unknown User user:default/x",
                "strict-backstage-dangling.yaml:9: spec.dependsOn: unknown Resource resource:default/missing-db",
            ],
        ),
        (
            "k8s-wrong-type.yaml",
            "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: x\n  annotations: [not, a, map]\n",
            &["k8s-wrong-type.yaml:5: metadata.annotations: must be a mapping, not a list"],
        ),
        (
            "usages.csv",
            "identity,service,access\nsa-payments-api,payments-api,writ\n",
            &["usages.csv:2: "],
        ),
    ];
    for (name, text, expect) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let mut cmd = countersign(&db);
        cmd.arg("import").arg(&path);
        // Unresolved references are reported and imported without it.
        let strict = name.starts_with("strict-");
        if strict {
            cmd.arg("--strict");
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{name} was accepted");
        let stderr = String::from_utf8(out.stderr).unwrap();
        // One line; under --strict a heading and one line per finding.
        let want = if strict { 1 + expect.len() } else { 1 };
        assert_eq!(stderr.lines().count(), want, "{stderr}");
        for e in *expect {
            assert!(stderr.contains(e), "{name}: expected {e:?} in {stderr}");
        }
    }
    assert_eq!(
        stdout(countersign(&db).args(["export", "--format", "native"])),
        before
    );
    assert_eq!(audit_rows(&db), rows);
}

async fn dry_run_shows_the_diff_and_writes_nothing(engine: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let db = PathBuf::from(engine.target());
    countersign(&db).args(["demo", "load"]).assert().success();
    let changed = dir.path().join("changed.yaml");
    let mut native = stdout(countersign(&db).args(["export", "--format", "native"]));
    native = native.replace("name: Address autocomplete key", "name: Maps key");
    std::fs::write(&changed, native).unwrap();
    countersign(&db)
        .arg("import")
        .arg(&changed)
        .arg("--dry-run")
        .assert()
        .success()
        .stdout(predicate::str::contains("~ identity key-maps: name"))
        .stdout(predicate::str::contains(
            "0 to create, 1 to update, 77 unchanged",
        ))
        .stdout(predicate::str::contains("dry run: nothing written"));
    let show = stdout(countersign(&db).args(["identities", "show", "key-maps"]));
    assert!(show.starts_with("Address autocomplete key"), "{show}");
}

async fn native_and_csv_exports_round_trip(engine: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let db = PathBuf::from(engine.target());
    countersign(&db).args(["demo", "load"]).assert().success();
    // Credentials and admin-equivalence travel too (from the cloud
    // fixtures: Entra secrets and certificates, Google keys, Owner).
    for cloud in ["cloud/entra", "cloud/gcp"] {
        countersign(&db)
            .arg("import")
            .arg(fixtures().join(cloud))
            .assert()
            .success();
    }
    let native = stdout(countersign(&db).args(["export", "--format", "native"]));
    assert!(native.contains("credentials:") && native.contains("admin_equivalent: true"));

    let from_yaml = dir.path().join("yaml.db");
    let file = dir.path().join("export.yaml");
    std::fs::write(&file, &native).unwrap();
    countersign(&from_yaml)
        .arg("import")
        .arg(&file)
        .assert()
        .success();
    assert_eq!(
        stdout(countersign(&from_yaml).args(["export", "--format", "native"])),
        native
    );

    let csv_dir = dir.path().join("csv");
    countersign(&db)
        .args(["export", "--format", "csv", "--out"])
        .arg(&csv_dir)
        .assert()
        .success();
    assert!(csv_dir.join("credentials.csv").exists());
    let from_csv = dir.path().join("csv.db");
    countersign(&from_csv)
        .arg("import")
        .arg(&csv_dir)
        .assert()
        .success();
    assert_eq!(
        stdout(countersign(&from_csv).args(["export", "--format", "native"])),
        native
    );

    let graphml = stdout(countersign(&db).args(["export", "--format", "graphml"]));
    assert!(graphml.contains("<graph id=\"countersign\" edgedefault=\"directed\">"));
    assert!(graphml.contains("<node id=\"identity:tok-kafka-shared\">"));
}

/// The app applies an import only if it would write exactly what the user
/// previewed: a change to the store in between makes it refuse.
#[tokio::test]
async fn applying_a_stale_preview_is_refused() {
    use countersign::import::{self, Apply, Format, ImportError};
    use countersign::store::{ChangeContext, Edit, Store};
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("inv.db")).await.unwrap();
    let catalog = fixtures().join("backstage");
    let preview = import::import(
        &store,
        &catalog,
        &import::Options::new(Format::Auto),
        Apply::Nothing,
        "t",
        &(),
    )
    .await
    .unwrap();
    assert!(preview.applied.is_none());
    assert_eq!(preview.changes.changes.len(), 14);

    // Someone creates one of those services in the meantime.
    let mut created = countersign::demo::inventory().unwrap().services.remove(0);
    created.id = "shipment-api".into();
    store
        .edit(
            Edit::SaveService(created),
            None,
            &ChangeContext::new("bob", "app"),
        )
        .await
        .unwrap();
    let err = import::import(
        &store,
        &catalog,
        &import::Options::new(Format::Auto),
        Apply::IfUnchanged(&preview.fingerprint),
        "t",
        &(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ImportError::PreviewOutdated), "{err}");

    let fresh = import::import(
        &store,
        &catalog,
        &import::Options::new(Format::Auto),
        Apply::Nothing,
        "t",
        &(),
    )
    .await
    .unwrap();
    let done = import::import(
        &store,
        &catalog,
        &import::Options::new(Format::Auto),
        Apply::IfUnchanged(&fresh.fingerprint),
        "t",
        &(),
    )
    .await
    .unwrap();
    assert_eq!(done.applied.unwrap().changes, 14);
}

on_both_engines!(
    backstage_catalog_maps_to_services_owners_and_dependencies,
    kubernetes_manifests_map_to_workload_identities_workloads_and_permissions,
    reimporting_the_same_files_changes_nothing,
    importing_keeps_what_owners_documented_and_merges_by_external_id,
    malformed_files_change_nothing_and_name_the_line,
    dry_run_shows_the_diff_and_writes_nothing,
    native_and_csv_exports_round_trip,
);

/// In the terminal each skipped kind says where its first document is,
/// and `--json` says why an import was refused, one problem each.
#[test]
fn the_terminal_names_where_skipped_kinds_are_and_json_explains_a_refusal() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("inv.db");
    let cases = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cases");
    let out = stdout(
        countersign(&db)
            .arg("import")
            .arg(cases.join("19-template-entity.yaml"))
            .arg("--dry-run"),
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("  1 Template (Backstage), the first at ")
                && l.ends_with("19-template-entity.yaml:12")),
        "{out}"
    );
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: a}\nspec:\n  lifecycle: 7\n  dependsOn: x\n",
    )
    .unwrap();
    let out = countersign(&db)
        .arg("import")
        .arg(&bad)
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["refused"], true);
    let problems = json["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 2, "{json}");
    // Each problem's parts, for a script, and the line as printed.
    assert!(
        problems[1]["file"].as_str().unwrap().ends_with("bad.yaml"),
        "{json}"
    );
    assert_eq!(problems[1]["line"], 6, "{json}");
    assert_eq!(problems[1]["field"], "spec.dependsOn", "{json}");
    assert_eq!(
        problems[1]["message"], "must be a list, not a string",
        "{json}"
    );
    assert!(
        problems[1]["text"]
            .as_str()
            .unwrap()
            .ends_with("bad.yaml:6: spec.dependsOn: must be a list, not a string")
    );
}
