//! The approval policy (Cedar) through the CLI: tiers with the rules that
//! decided them, and audited, checked replacement of the policy.

mod common;
use common::countersign;
use predicates::prelude::*;

fn check(db: &std::path::Path, request: &std::path::Path) -> serde_json::Value {
    let out = countersign(db)
        .args(["policy", "check", "--json", "--request"])
        .arg(request)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn tiers_come_from_the_policy_with_their_reasons_and_policy_changes_are_audited() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    countersign(&db).args(["demo", "load"]).assert().success();
    let example = std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/examples/containment-request.json"
    ));
    let rotate = check(&db, &example);
    assert_eq!(rotate["tier"], "single_approval");
    assert_eq!(
        rotate["permitted_by"],
        serde_json::json!(["single-approval-rotation-and-revocation"])
    );

    // Disabling the break-glass DBA account: dual, for two reasons.
    let mut request: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&example).unwrap()).unwrap();
    request["action"] = "revoke_session".into();
    request["target"]["external_id"] = "postgres:ledger-db/dr_admin".into();
    let bg = dir.path().join("bg.json");
    std::fs::write(&bg, request.to_string()).unwrap();
    let tier = check(&db, &bg);
    assert_eq!(tier["tier"], "dual_approval");
    assert!(
        tier["lighter_tiers_forbidden_by"]
            .as_array()
            .unwrap()
            .contains(&"break-glass-always-dual".into())
    );

    // A broken policy is refused and changes nothing.
    let bad = dir.path().join("bad.cedar");
    std::fs::write(&bad, "permit (principal, action ==").unwrap();
    countersign(&db)
        .args(["policy", "set"])
        .arg(&bad)
        .assert()
        .failure()
        .stderr(
            predicate::str::contains("bad.cedar").and(predicate::str::contains("does not parse")),
        );
    assert_eq!(
        check(&db, &example)["policy_version"],
        rotate["policy_version"]
    );

    // A stricter policy takes effect, under a new version, and is audited.
    let strict = dir.path().join("strict.cedar");
    std::fs::write(&strict, "@id(\"everything-dual\")\npermit (principal, action == Action::\"dual_approval\", resource);\n").unwrap();
    countersign(&db)
        .args(["policy", "set"])
        .arg(&strict)
        .assert()
        .success();
    let now = check(&db, &example);
    assert_eq!(now["tier"], "dual_approval");
    assert_eq!(now["permitted_by"], serde_json::json!(["everything-dual"]));
    assert_ne!(now["policy_version"], rotate["policy_version"]);
    let log = countersign(&db)
        .args(["audit", "log", "--json"])
        .output()
        .unwrap();
    let log: serde_json::Value = serde_json::from_slice(&log.stdout).unwrap();
    assert_eq!(log[0]["entity"], "setting");
    assert_eq!(log[0]["entity_id"], "approval_policy");
    assert_eq!(log[0]["actor"], "tester");
}
