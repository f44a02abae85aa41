//! The graph in the ecosystem's formats: BloodHound OpenGraph and CycloneDX
//! 1.6 exports validated by the ecosystem's own validators (BloodHound's
//! published node and edge schemas and the bhopengraph library; the
//! official CycloneDX 1.6 schema as cyclonedx-python-lib bundles it), and
//! CycloneDX BOMs imported, ours and another tool's.
//!
//! The validations need the Python environment `scripts/test` creates
//! (`COUNTERSIGN_PYTHON`), hence `#[ignore]`: scripts/test runs them with
//! `--ignored`. The imports run in the plain `cargo test`.

mod common;
use common::{TestDb, countersign, stdout, stdout_json};

use std::path::{Path, PathBuf};
use std::process::Command;

fn python() -> String {
    std::env::var("COUNTERSIGN_PYTHON")
        .expect("COUNTERSIGN_PYTHON must name the Python scripts/test sets up")
}

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// Runs the validator; Ok, or its complaints.
fn validate(args: &[&Path]) -> Result<(), String> {
    let mut cmd = Command::new(python());
    cmd.arg(fixture("tests/interop/validate_exports.py"));
    cmd.args(args);
    let out = cmd.output().unwrap();
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn demo() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    countersign(&db).args(["demo", "load"]).assert().success();
    (dir, db)
}

fn export(db: &Path, format: &str, out: &Path) -> serde_json::Value {
    countersign(db)
        .args(["export", "--format", format, "--out"])
        .arg(out)
        .assert()
        .success();
    serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap()
}

#[test]
#[ignore = "needs the Python environment from scripts/test"]
fn the_opengraph_export_validates_against_bloodhounds_schemas() {
    let (dir, db) = demo();
    let payload_path = dir.path().join("opengraph.json");
    let payload = export(&db, "opengraph", &payload_path);
    let schemas = fixture("tests/fixtures/schemas/bloodhound");
    let kind = Path::new("opengraph");
    validate(&[kind, &payload_path, &schemas]).unwrap();

    // What BloodHound will hold: the source kind, prefixed kinds, and the
    // edges of control between them.
    assert_eq!(payload["metadata"]["source_kind"], "Countersign");
    let nodes = payload["graph"]["nodes"].as_array().unwrap();
    let node = |id: &str| nodes.iter().find(|n| n["id"] == id).unwrap();
    let kafka = node("cs:identity:tok-kafka-shared");
    assert_eq!(kafka["kinds"], serde_json::json!(["CS_Identity"]));
    assert_eq!(kafka["properties"]["identity_kind"], "token");
    assert_eq!(
        node("cs:identity:bg-cloud-root")["kinds"],
        serde_json::json!(["CS_Identity", "CS_BreakGlass"])
    );
    assert_eq!(node("cs:service:ledger-db")["properties"]["tier"], 0);
    let edges = payload["graph"]["edges"].as_array().unwrap();
    let uses: Vec<&str> = edges
        .iter()
        .filter(|e| e["kind"] == "CS_Uses" && e["end"]["value"] == "cs:identity:tok-kafka-shared")
        .map(|e| e["start"]["value"].as_str().unwrap())
        .collect();
    assert_eq!(
        uses.len(),
        6,
        "the six services that use the Kafka token: {uses:?}"
    );
    assert!(uses.contains(&"cs:service:payments-api"), "{uses:?}");

    // The validator is not a formality: a kind BloodHound refuses, a
    // reserved property and an edge to nothing are each named.
    let mut bad = payload.clone();
    bad["graph"]["edges"][0]["kind"] = "CS-Uses".into();
    bad["graph"]["nodes"][0]["properties"]["objectid"] = "x".into();
    bad["graph"]["edges"][1]["end"]["value"] = "cs:identity:nobody".into();
    let bad_path = dir.path().join("bad.json");
    std::fs::write(&bad_path, bad.to_string()).unwrap();
    let err = validate(&[kind, &bad_path, &schemas]).unwrap_err();
    for needle in [
        "graph.edges[0]/kind: 'CS-Uses' does not match",
        "graph.nodes[0]/properties",
        "graph.edges[1].end: no node 'cs:identity:nobody'",
    ] {
        assert!(err.contains(needle), "{needle:?} not in:\n{err}");
    }

    // The extension definition schema makes the graph structured, its
    // control edges traversable; breakage (CS_DependsOn) is not control.
    let ext_path = dir.path().join("extension.json");
    let ext = export(&db, "opengraph-extension", &ext_path);
    validate(&[Path::new("opengraph-extension"), &ext_path]).unwrap();
    let traversable = |name: &str| {
        ext["relationship_kinds"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["name"] == name)
            .unwrap()["is_traversable"]
            .clone()
    };
    assert_eq!(traversable("CS_Uses"), true);
    assert_eq!(traversable("CS_DependsOn"), false);
}

#[test]
#[ignore = "needs the Python environment from scripts/test"]
fn the_cyclonedx_export_validates_against_the_official_schema() {
    let (dir, db) = demo();
    let path = dir.path().join("bom.json");
    let bom = export(&db, "cyclonedx", &path);
    let kind = Path::new("cyclonedx");
    validate(&[kind, &path]).unwrap();
    assert_eq!(bom["specVersion"], "1.6");
    let services = bom["services"].as_array().unwrap();
    assert_eq!(services.len(), 25, "every demo service");
    let payments = bom["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["ref"] == "payments-api")
        .unwrap();
    assert_eq!(
        payments["dependsOn"],
        serde_json::json!([
            "ledger-db",
            "auth-gateway",
            "kafka-events",
            "card-processor"
        ])
    );
    // A BOM the schema refuses is refused.
    let mut bad = bom.clone();
    bad["services"][0]["authenticated"] = "yes".into();
    bad["dependencies"][0]["dependsOn"] = serde_json::json!(["nowhere"]);
    let bad_path = dir.path().join("bad.json");
    std::fs::write(&bad_path, bad.to_string()).unwrap();
    let err = validate(&[kind, &bad_path]).unwrap_err();
    assert!(err.contains("'yes' is not of type 'boolean'"), "{err}");
    assert!(
        err.contains("'nowhere' names no service or component"),
        "{err}"
    );
}

/// Ours: a BOM written by `export --format cyclonedx` imports into an empty
/// database as the same services and dependencies, and again as nothing
/// new, on both engines.
async fn a_cyclonedx_export_imports_back_to_the_same_services(db: TestDb) {
    let (dir, demo_db) = demo();
    let bom = dir.path().join("bom.json");
    export(&demo_db, "cyclonedx", &bom);
    let target = db.target();
    let cmd = || {
        let mut c = assert_cmd::Command::cargo_bin("countersign").unwrap();
        c.args(["--db", &target]);
        c
    };
    cmd().arg("import").arg(&bom).assert().success();
    let services = |c: &mut assert_cmd::Command| {
        let v = stdout_json(c.args(["services", "list", "--json"]));
        let mut rows: Vec<(String, String, u64, Vec<String>)> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["id"].as_str().unwrap().to_owned(),
                    s["owner"].as_str().unwrap_or("").to_owned(),
                    s["tier"].as_u64().unwrap(),
                    s["depends_on"]
                        .as_array()
                        .map(|d| d.iter().map(|x| x.as_str().unwrap().to_owned()).collect())
                        .unwrap_or_default(),
                )
            })
            .collect();
        rows.sort();
        rows
    };
    assert_eq!(services(&mut cmd()), services(&mut countersign(&demo_db)));
    let again = stdout(cmd().arg("import").arg(&bom));
    assert!(
        again.contains("0 to create, 0 to update, 25 unchanged"),
        "{again}"
    );
}

on_both_engines!(a_cyclonedx_export_imports_back_to_the_same_services);

/// Another tool's BOM: nested services, a bom-ref that is no id, a service
/// without one, a dependency on a library, one on nothing. What is read is
/// asserted; what is not is reported with its line, and `--strict` refuses.
#[test]
fn another_tools_bom_imports_its_services_and_reports_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cdx.db");
    let bom = fixture("tests/fixtures/cyclonedx/storefront.cdx.json");
    let out = countersign(&db).arg("import").arg(&bom).output().unwrap();
    assert!(out.status.success());
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    for needle in [
        "4 to create",
        "storefront.cdx.json:41: the service's bom-ref \"urn:service:Checkout API (v2)\" is not an id Countersign can use",
        "imported as storefront/checkout-api",
        "storefront.cdx.json:47: the service \"Payments Gateway\" has no bom-ref: imported as payments-gateway",
        "storefront.cdx.json:54: storefront-web depends on the component \"pkg:npm/%40stripe/stripe-js@4.1.0\"",
        "storefront.cdx.json:62: storefront/checkout-api depends on \"payments-gateway-v1\", which names nothing in the BOM",
        "storefront.cdx.json:66: the dependencies of the component \"storefront-app\" are not imported",
        "1 component(s) not read",
        "3 service(s) without a countersign:tier property",
        "the property \"internal:cost-centre\" is not read",
    ] {
        assert!(text.contains(needle), "{needle:?} not in:\n{text}");
    }
    let list = stdout_json(countersign(&db).args(["services", "list", "--json"]));
    let web = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "storefront-web")
        .unwrap();
    assert_eq!(web["tier"], 1, "countersign:tier is read");
    assert_eq!(web["system"], "Storefront", "the group is the system");
    assert_eq!(
        web["depends_on"],
        serde_json::json!(["storefront/checkout-api", "storefront-web/session-cache"])
    );

    let strict = dir.path().join("strict.db");
    countersign(&strict)
        .args(["import", "--strict"])
        .arg(&bom)
        .assert()
        .failure();
    let not_a_bom = dir.path().join("x.json");
    std::fs::write(&not_a_bom, "{\"services\": []}").unwrap();
    countersign(&strict)
        .args(["import", "--format", "cyclonedx"])
        .arg(&not_a_bom)
        .assert()
        .failure()
        .stderr(predicates::str::contains("not a CycloneDX BOM"));
    std::fs::write(
        &not_a_bom,
        "{\"bomFormat\": \"CycloneDX\", \"specVersion\": \"1.1\", \"components\": []}",
    )
    .unwrap();
    countersign(&strict)
        .arg("import")
        .arg(&not_a_bom)
        .assert()
        .failure()
        .stderr(predicates::str::contains(
            "specVersion: CycloneDX 1.1 has no services",
        ));
}
