//! Drill scenarios: the shipped examples parse against the demo inventory,
//! and malformed scenarios are refused naming the line.

use countersign::Store;
use countersign::drill::{self, DrillError, ExpectedDecision};
use countersign::graph::blast_radius::BlastGraph;

async fn demo_graph() -> (tempfile::TempDir, BlastGraph) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("d.db")).await.unwrap();
    countersign::demo::load(&store, false, "t").await.unwrap();
    let graph = BlastGraph::new(&store.snapshot().await.unwrap());
    (dir, graph)
}

#[tokio::test]
async fn the_example_scenarios_parse_against_the_demo_inventory() {
    let (_d, graph) = demo_graph().await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/drills");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.to_string_lossy().ends_with(".participants.yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let s = drill::parse(&text, &path.display().to_string(), &graph)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!s.injects.is_empty());
        assert!(s.injects.windows(2).all(|w| w[0].at <= w[1].at));
        seen += 1;
    }
    assert_eq!(seen, 3, "three example scenarios");

    let text = std::fs::read_to_string(dir.join("leaked-deploy-key.yaml")).unwrap();
    let s = drill::parse(&text, "x", &graph).unwrap();
    assert_eq!(s.injects[1].at, jiff::SignedDuration::from_mins(5));
    assert_eq!(s.injects[2].at, jiff::SignedDuration::from_mins(12));
    assert_eq!(
        s.injects[1].expect.as_ref().unwrap().decision,
        Some(ExpectedDecision::ApproveNarrowed)
    );
    // External ids resolve to the identity.
    let kafka = std::fs::read_to_string(dir.join("shared-kafka-credential.yaml")).unwrap();
    let k = drill::parse(&kafka, "k", &graph).unwrap();
    assert_eq!(k.injects[0].identity, "tok-kafka-shared");

    // The request it turns into is a valid containment request.
    let start = jiff::Timestamp::from_second(1_800_000_000).unwrap();
    let r = s.injects[1].request("drill-1", start, 1.0, "k8s:sre/remediation");
    let parsed: countersign::approval::ContainmentRequest =
        serde_json::from_value(r.clone()).unwrap();
    assert_eq!(parsed.id, "drill-1-agent-token-replay");
    assert_eq!(
        parsed.created_at,
        start + jiff::SignedDuration::from_mins(5)
    );
    assert_eq!(
        parsed.expires_at,
        parsed.created_at + jiff::SignedDuration::from_mins(30)
    );
}

#[tokio::test]
async fn malformed_scenarios_are_refused_naming_the_line() {
    let (_d, graph) = demo_graph().await;
    let good = "version: 1\nname: t\ninjects:\n  - id: a\n    at: 5m\n    identity: deploy-key-prod\n    action: rotate_secret\n    signal: leak\n";
    assert!(drill::parse(good, "s.yaml", &graph).is_ok());
    let line_of = |text: &str| match drill::parse(text, "s.yaml", &graph).unwrap_err() {
        DrillError::Invalid { line, message, .. } => (line, message),
        other => panic!("{other}"),
    };
    let (line, message) = line_of(&good.replace("deploy-key-prod", "nobody"));
    assert_eq!(line, 6);
    assert!(message.contains("nobody"), "{message}");
    let (line, message) = line_of(&good.replace("5m", "five minutes-ish"));
    assert_eq!(line, 5);
    assert!(message.contains("at:"), "{message}");
    let (line, _) = line_of(&good.replace("5m", "-5m"));
    assert_eq!(line, 5);
    let twice = format!(
        "{good}  - id: a\n    at: 1m\n    identity: deploy-key-prod\n    action: rotate_secret\n    signal: x\n"
    );
    let (line, message) = line_of(&twice);
    assert_eq!(line, 9);
    assert!(message.contains("twice"), "{message}");
    let e = drill::parse(
        &good.replace("action: rotate_secret", "action: nuke"),
        "s.yaml",
        &graph,
    )
    .unwrap_err()
    .to_string();
    assert!(e.starts_with("s.yaml: ") && e.contains("line 7"), "{e}");
}

#[tokio::test]
async fn participant_files_are_checked_against_the_scenario_naming_the_line() {
    let (_d, graph) = demo_graph().await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/drills");
    let scenario = drill::parse(
        &std::fs::read_to_string(dir.join("leaked-deploy-key.yaml")).unwrap(),
        "s",
        &graph,
    )
    .unwrap();
    let shipped = std::fs::read_to_string(dir.join("leaked-deploy-key.participants.yaml")).unwrap();
    let p = drill::parse_participants(&shipped, "p.yaml", &scenario).unwrap();
    assert_eq!(p.participants.len(), 2);
    assert_eq!(p.decisions.len(), 5);
    // In the order they fall due: inject time plus `after`.
    assert_eq!(p.decisions[0].inject, "deploy-key-leak");
    assert_eq!(p.decisions[1].by, "jonas.weber");

    let good = "version: 1\nparticipants:\n  - id: amira\n    groups: [identity-governance]\ndecisions:\n  - inject: deploy-key-leak\n    by: amira\n    after: 1m\n    decision: approve\n    reason: fine\n";
    assert!(drill::parse_participants(good, "p.yaml", &scenario).is_ok());
    let refused = |text: &str| match drill::parse_participants(text, "p.yaml", &scenario) {
        Err(DrillError::Invalid { line, message, .. }) => (line, message),
        other => panic!("{other:?}"),
    };
    let (line, message) = refused(&good.replace("inject: deploy-key-leak", "inject: nope"));
    assert_eq!(line, 6);
    assert!(
        message.contains("nope") && message.contains("deploy-key-leak"),
        "{message}"
    );
    let (line, message) = refused(&good.replace("by: amira", "by: bob"));
    assert_eq!(line, 7);
    assert!(message.contains("bob"), "{message}");
    let (line, message) = refused(&good.replace("after: 1m", "after: soon"));
    assert_eq!(line, 8);
    assert!(message.contains("after"), "{message}");
    let (line, message) = refused(&good.replace("decision: approve", "decision: approve_narrowed"));
    assert_eq!(line, 9);
    assert!(message.contains("narrow_to"), "{message}");
    let (line, _) = refused(&good.replace("reason: fine", "reason: ' '"));
    assert_eq!(line, 10);
    let (line, message) = refused(&good.replace("decisions:", "  - id: amira\ndecisions:"));
    assert_eq!(line, 5);
    assert!(message.contains("twice"), "{message}");
}

mod common;

fn report_of(dir: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap()
}

/// The acceptance run: the shipped scenario with its scripted
/// participants, headless, through the CLI and the reference backend the
/// runner starts; the report says what happened and every decision's
/// signature verified.
/// A database with the demo inventory, and the shipped drills' folder.
fn demo_db() -> (tempfile::TempDir, std::path::PathBuf, &'static str) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    common::countersign(&db)
        .args(["demo", "load"])
        .assert()
        .success();
    (
        dir,
        db,
        concat!(env!("CARGO_MANIFEST_DIR"), "/assets/drills"),
    )
}

#[test]
fn a_whole_drill_runs_headless_and_its_report_says_what_happened() {
    let (dir, db, drills) = demo_db();
    let out = dir.path().join("report");
    let started = std::time::Instant::now();
    let run = common::countersign(&db)
        .env_remove("COUNTERSIGN_BACKEND_TOKEN")
        .args(["drill", "run", &format!("{drills}/leaked-deploy-key.yaml")])
        .args(["--speed", "90", "--participants"])
        .arg(format!("{drills}/leaked-deploy-key.participants.yaml"))
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    // The whole run in drill seconds: no decision can take longer.
    let run_drill_seconds = started.elapsed().as_secs_f64() * 90.0;
    let stdout = String::from_utf8_lossy(&run.get_output().stdout).to_string();
    let stderr = String::from_utf8_lossy(&run.get_output().stderr).to_string();
    assert!(
        stdout.contains("3 approved, 0 denied, 0 unanswered")
            && stdout.contains("Signatures verified: 5 of 5 decisions"),
        "{stdout}"
    );
    // The live timeline, in order.
    let issued = stderr.find("issued deploy-key-leak").expect(&stderr);
    let awaiting = stderr
        .find("jonas.weber: approve narrowed on agent-token-replay → awaiting second approval")
        .expect(&stderr);
    let break_glass = stderr.find("issued ledger-break-glass").expect(&stderr);
    assert!(issued < awaiting && awaiting < break_glass, "{stderr}");

    let report = report_of(&out);
    assert_eq!(report["totals"]["injects"], 3);
    assert_eq!(report["totals"]["approved"], 3);
    assert_eq!(report["totals"]["expectations_met"], 3);
    assert_eq!(report["totals"]["decisions"], 5);
    assert_eq!(report["totals"]["signatures_verified"], 5);
    let injects = report["injects"].as_array().unwrap();
    let agent = &injects[1];
    assert_eq!(agent["id"], "agent-token-replay");
    assert_eq!(agent["status"], "approved");
    assert_eq!(
        agent["approved_action"], "revoke_token",
        "narrowed, not disabled"
    );
    let approvers: Vec<&str> = agent["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["approver"].as_str().unwrap())
        .collect();
    assert_eq!(approvers, ["jonas.weber", "amira.haddad"]);
    assert_eq!(agent["decisions"][0]["receipt"], "awaiting_second_approval");
    assert_eq!(agent["decisions"][0]["signature"]["state"], "verified");
    // Time to decision is drill time: Amira decides 3m after the inject,
    // never sooner, and within the run however slow the machine is.
    let ttd = agent["time_to_decision_seconds"].as_f64().unwrap();
    assert!(
        (179.0..=run_drill_seconds).contains(&ttd),
        "{ttd} s, run {run_drill_seconds} s"
    );
    for i in injects {
        for d in i["decisions"].as_array().unwrap() {
            assert_eq!(d["signature"]["state"], "verified", "{d}");
            assert!(d["jws"].as_str().unwrap().split('.').count() == 3);
        }
    }

    // What would have broken: everything approved, contained together,
    // equals the engine's answer for those three actions.
    let store_graph = {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let store = countersign::Store::open(&db).await.unwrap();
            BlastGraph::new(&store.snapshot().await.unwrap())
        })
    };
    let together = store_graph
        .blast(&[
            (
                "deploy-key-prod",
                countersign::model::ContainmentAction::RotateSecret,
            ),
            (
                "agent-sre-remediation",
                countersign::model::ContainmentAction::RevokeToken,
            ),
            (
                "bg-db-admin",
                countersign::model::ContainmentAction::DisableAccount,
            ),
        ])
        .unwrap();
    assert_eq!(report["cumulative"]["services"], together.summary.services);
    assert_eq!(
        report["cumulative"]["broken"][0]["name"], "Ledger Database",
        "most critical first"
    );
    let no_rollback: Vec<&str> = report["without_rollback"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["identity"].as_str().unwrap())
        .collect();
    assert!(no_rollback.contains(&"bg-db-admin"), "{no_rollback:?}");
    assert!(
        !no_rollback.contains(&"deploy-key-prod"),
        "its rotation has a rollback"
    );
    let gaps = report["ownership_gaps"].to_string();
    assert!(
        gaps.contains("break-glass account without custodians"),
        "{gaps}"
    );

    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    for needle in [
        "# Drill report: Leaked deploy key",
        "## Timeline",
        "| 1m",
        "approve narrowed to revoke token",
        "verified (EdDSA, key ",
        "## What would have broken",
        "## Services hit without a rollback path",
        "## Ownership gaps found during the drill",
        "Expected approve narrowed: met",
        // Each section names the controls it is evidence for.
        "## Timeline\n\n_Controls: NIST CSF RS.MA-01, NIST CSF ID.IM-02, CIS 17.7_",
        "## Ownership gaps found during the drill\n\n_Controls: OWASP NHI1:2025, NIST CSF GV.RR-02, CIS 5.5_",
    ] {
        assert!(md.contains(needle), "report.md lacks {needle:?}:\n{md}");
    }
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("Ledger DBA emergency account") && html.contains("class=\"ok\""));
    assert!(
        html.contains("<abbr title=\"NIST Cybersecurity Framework 2.0: Incidents are contained\">NIST CSF RS.MI-01</abbr>"),
        "the HTML report names its sections' controls"
    );
    assert_eq!(
        report["controls"][2]["section"], "What would have broken",
        "the JSON report carries them too"
    );
}

/// A drill that goes badly is reported as such: a denial where approval
/// was expected, a request nobody answered, and a scripted decision that
/// came too late. Run against a backend in another process (`--backend`).
#[test]
fn a_drill_that_goes_badly_says_so() {
    let (dir, db, _) = demo_db();
    let token = "drill-test-token";
    let backend = common::ServedBackend::start(&[], &[("COUNTERSIGN_BACKEND_TOKEN", token)]);
    let scenario = dir.path().join("s.yaml");
    std::fs::write(
        &scenario,
        "version: 1\nname: Bad day\ninjects:\n\
  - {id: kafka, at: 0s, identity: tok-kafka-shared, action: disable_account, signal: leak, expires_after: 10m, expect: {decision: approve}}\n\
  - {id: ignored, at: 1m, identity: deploy-key-prod, action: rotate_secret, signal: leak, expires_after: 2m}\n\
  - {id: late, at: 1m, identity: tok-staging-smoke, action: revoke_token, signal: leak, expires_after: 2m}\n",
    )
    .unwrap();
    let participants = dir.path().join("p.yaml");
    std::fs::write(
        &participants,
        "version: 1\nparticipants:\n  - {id: dana, groups: [identity-governance]}\ndecisions:\n\
  - {inject: kafka, by: dana, after: 1m, decision: deny, reason: Six consumers would go down.}\n\
  - {inject: late, by: dana, after: 5m, decision: approve, reason: Too late.}\n",
    )
    .unwrap();
    let out = dir.path().join("report");
    common::countersign(&db)
        .env("COUNTERSIGN_BACKEND_TOKEN", token)
        .args(["drill", "run"])
        .arg(&scenario)
        .args(["--speed", "60", "--backend", &backend.url, "--participants"])
        .arg(&participants)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let report = report_of(&out);
    assert_eq!(report["backend"], backend.url);
    assert_eq!(report["totals"]["denied"], 1);
    assert_eq!(report["totals"]["unanswered"], 2);
    assert_eq!(report["totals"]["expectations"], 1);
    assert_eq!(report["totals"]["expectations_met"], 0);
    let kafka = &report["injects"][0];
    assert_eq!(kafka["status"], "denied");
    assert!(kafka["approved_action"].is_null());
    assert_eq!(
        kafka["decisions"][0]["reason"],
        "Six consumers would go down."
    );
    assert!(
        kafka["expectation"]["notes"][0]
            .as_str()
            .unwrap()
            .contains("expected approve; the request ended denied"),
        "{kafka}"
    );
    assert_eq!(report["injects"][1]["status"], "expired");
    let failure = &report["script_failures"][0];
    assert_eq!(failure["inject"], "late");
    assert!(
        failure["message"].as_str().unwrap().contains("expired"),
        "{failure}"
    );
    assert_eq!(report["cumulative"]["services"], 0, "nothing was approved");
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        md.contains("**not met**") && md.contains("No decision reached the backend."),
        "{md}"
    );
}

#[test]
fn an_unusable_report_place_is_refused_before_the_drill_runs() {
    let (dir, db, drills) = demo_db();
    let file = dir.path().join("not-a-directory");
    std::fs::write(&file, "x").unwrap();
    let run = common::countersign(&db)
        .env_remove("COUNTERSIGN_BACKEND_TOKEN")
        .args(["drill", "run", &format!("{drills}/leaked-deploy-key.yaml")])
        .args(["--speed", "1", "--participants"])
        .arg(format!("{drills}/leaked-deploy-key.participants.yaml"))
        .arg("--out")
        .arg(&file)
        .assert()
        .failure();
    let stderr = String::from_utf8_lossy(&run.get_output().stderr).to_string();
    assert!(
        stderr.contains("is a file; the report is written"),
        "{stderr}"
    );
    // At --speed 1 the scenario takes minutes: the refusal came first.
    assert!(
        !stderr.contains("issued "),
        "no inject was issued: {stderr}"
    );
}
