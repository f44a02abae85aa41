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
    let r = s.injects[1].request("drill-1", start, "k8s:sre/remediation");
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
