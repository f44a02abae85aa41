//! The blast-radius engine through the CLI, on the demo inventory and on
//! plain edge lists.

mod common;
use common::countersign;
use predicates::prelude::*;

fn demo_db(dir: &std::path::Path) -> std::path::PathBuf {
    let db = dir.join("demo.db");
    countersign(&db).args(["demo", "load"]).assert().success();
    db
}

fn json(out: std::process::Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Services the action hits directly (depth 1), in the result's order.
fn direct_services(r: &serde_json::Value) -> Vec<&str> {
    r["impacted"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["depth"] == 1)
        .map(|s| s["id"].as_str().unwrap())
        .collect()
}

#[test]
fn disabling_the_shared_credential_lists_its_six_services_with_paths() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo_db(dir.path());
    let r = json(
        countersign(&db)
            .args([
                "blast",
                "tok-kafka-shared",
                "--action",
                "disable_account",
                "--json",
            ])
            .output()
            .unwrap(),
    );
    let direct = direct_services(&r);
    assert_eq!(direct.len(), 6, "{direct:?}");
    for s in [
        "payments-api",
        "fraud-scoring",
        "notifications",
        "search",
        "etl-pipeline",
        "mobile-backend",
    ] {
        assert!(direct.contains(&s), "{s}");
    }
    let checkout = r["impacted"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "checkout-web")
        .unwrap();
    let path: Vec<&str> = checkout["path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(path, ["tok-kafka-shared", "payments-api", "checkout-web"]);

    countersign(&db)
        .args(["blast", "tok-kafka-shared", "--action", "disable_account"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "tok-kafka-shared → payments-api → checkout-web",
        ));
}

#[test]
fn rotating_spares_the_dynamic_consumers() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo_db(dir.path());
    let r = json(
        countersign(&db)
            .args([
                "blast",
                "tok-kafka-shared",
                "--action",
                "rotate-secret",
                "--json",
            ])
            .output()
            .unwrap(),
    );
    let spared: Vec<&str> = r["spared"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["service"].as_str().unwrap())
        .collect();
    // mobile-backend fetches the secret dynamically but breaks through
    // notifications: it is in the table, not among the spared (issue 19).
    assert_eq!(spared, ["payments-api", "fraud-scoring"]);
    assert!(
        r["impacted"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["id"] == "mobile-backend" && s["depth"] == 2)
    );
    let direct = direct_services(&r);
    assert_eq!(direct.len(), 3);
    assert!(!direct.contains(&"payments-api"));
}

#[test]
fn alternatives_and_rank_on_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo_db(dir.path());
    let a = json(
        countersign(&db)
            .args([
                "alternatives",
                "tok-kafka-shared",
                "--threat",
                "leaked-secret",
                "--json",
            ])
            .output()
            .unwrap(),
    );
    assert_eq!(a["recommended"], "rotate_secret");
    let ranked = json(
        countersign(&db)
            .args(["rank", "--top", "3", "--json"])
            .output()
            .unwrap(),
    );
    assert_eq!(ranked.as_array().unwrap().len(), 3);
    let scores: Vec<u64> = ranked
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["score"]
                .as_u64()
                .expect("every ranked identity has a score")
        })
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    assert!(scores[0] > 0, "the riskiest identity breaks something");
}

#[test]
fn unknown_identity_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo_db(dir.path());
    countersign(&db)
        .args(["blast", "ghost"])
        .assert()
        .code(1)
        .stderr("error: no identity with id or external id \"ghost\"\n");
}

#[test]
fn edge_lists_print_reach_per_source_in_input_order_and_rank() {
    let dir = tempfile::tempdir().unwrap();
    let edges = dir.path().join("e.csv");
    // Cycle b↔c, self-loop on d, e isolated except as a target.
    std::fs::write(&edges, "source,target\na,b\nb,c\nc,b\nc,d\nd,d\nx,a\nx,e\n").unwrap();
    let sources = dir.path().join("s.txt");
    std::fs::write(&sources, "x\nd\nb\na\n").unwrap();
    let db = dir.path().join("unused.db");
    countersign(&db)
        .arg("blast")
        .arg("--edges")
        .arg(&edges)
        .arg("--sources")
        .arg(&sources)
        .assert()
        .success()
        .stdout("x,5\nd,0\nb,2\na,3\n");
    countersign(&db)
        .arg("rank")
        .arg("--edges")
        .arg(&edges)
        .args(["--top", "2"])
        .assert()
        .success()
        .stdout("x,5\na,3\n");
    assert!(!db.exists(), "edge-list commands do not touch a database");
}

#[test]
fn generated_graph_agrees_between_bfs_and_ranking() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("g");
    let db = dir.path().join("unused.db");
    countersign(&db)
        .args([
            "generate",
            "graph",
            "--nodes",
            "5000",
            "--sources",
            "50",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    let blast = countersign(&db)
        .arg("blast")
        .arg("--edges")
        .arg(out.join("edges.csv"))
        .arg("--sources")
        .arg(out.join("sources.txt"))
        .output()
        .unwrap();
    let per_source: std::collections::HashMap<String, u64> = String::from_utf8(blast.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let (n, c) = l.rsplit_once(',').unwrap();
            (n.to_owned(), c.parse().unwrap())
        })
        .collect();
    assert_eq!(per_source.len(), 50);
    let rank = countersign(&db)
        .arg("rank")
        .arg("--edges")
        .arg(out.join("edges.csv"))
        .args(["--top", "100000"])
        .output()
        .unwrap();
    let ranked: std::collections::HashMap<String, u64> = String::from_utf8(rank.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let (n, c) = l.rsplit_once(',').unwrap();
            (n.to_owned(), c.parse().unwrap())
        })
        .collect();
    for (name, count) in &per_source {
        assert_eq!(ranked[name], *count, "{name}");
    }
}

/// The protocol's example request names a demo identity by external id.
#[test]
fn the_example_request_targets_a_demo_identity() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo_db(dir.path());
    let example: serde_json::Value =
        serde_json::from_str(include_str!("../assets/examples/containment-request.json")).unwrap();
    let target = example["target"]["external_id"].as_str().unwrap();
    let action = example["action"].as_str().unwrap();
    let r = json(
        countersign(&db)
            .args(["blast", target, "--action", action, "--json"])
            .output()
            .unwrap(),
    );
    assert_eq!(r["targets"][0]["identity"], "tok-kafka-shared");
}

/// A generated inventory written into a directory (`--out DIR/`) is parts
/// that `import DIR` reads as one inventory, the same as the single file.
#[test]
fn a_generated_inventory_in_parts_imports_as_one() {
    let dir = tempfile::tempdir().unwrap();
    let (one, parts) = (dir.path().join("one.json"), dir.path().join("parts"));
    for out in [one.display().to_string(), format!("{}/", parts.display())] {
        countersign(&dir.path().join("unused.db"))
            .args([
                "generate",
                "inventory",
                "--services",
                "40",
                "--all-identities",
                "--out",
            ])
            .arg(&out)
            .assert()
            .success();
    }
    assert!(parts.join("part-0000.json").is_file());
    assert!(parts.join("part-0001.json").is_file());
    let counts = |source: &std::path::Path, name: &str| {
        let db = dir.path().join(name);
        countersign(&db)
            .arg("import")
            .arg(source)
            .assert()
            .success();
        let ids = json(
            countersign(&db)
                .args(["identities", "list", "--json"])
                .output()
                .unwrap(),
        );
        let services = json(
            countersign(&db)
                .args(["services", "list", "--json"])
                .output()
                .unwrap(),
        );
        (ids, services)
    };
    let (a, b) = (counts(&one, "one.db"), counts(&parts, "parts.db"));
    assert_eq!(
        a.0.as_array().unwrap().len(),
        400,
        "ten identities per service"
    );
    assert_eq!(a, b);
}
