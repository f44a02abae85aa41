//! Observed usage end to end through the CLI, on SQLite and PostgreSQL:
//! Zipkin dependency links and an OpenTelemetry servicegraph export are
//! recorded with their age; every edge says documented, observed or
//! both; `blast` flags the consumer tracing saw and nobody documented;
//! Needs attention lists it, and the documented use tracing has not seen
//! for the stale age.

mod common;
use common::{TestDb, stdout, stdout_json};

use std::path::Path;

fn fixture(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn cli(db: &TestDb) -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("countersign").unwrap();
    c.args(["--db", &db.target(), "--actor", "observer"]);
    c
}

/// A servicegraph export dated relative to now: every edge seen an hour
/// ago, but the ETL pipeline's use of the Kafka credential, last seen 60
/// days ago (tracing covers the pipeline: it sees its other calls).
fn dated_servicegraph(dir: &Path) -> std::path::PathBuf {
    let now = jiff::Timestamp::now().as_millisecond();
    let hour_ago = now - 3_600_000;
    let long_ago = now - 60 * 86_400_000;
    let text = format!(
        "# TYPE traces_service_graph_request_total counter\n\
traces_service_graph_request_total{{client=\"payments-api\",server=\"kafka-events\",server_enduser_id=\"vault:secret/kafka/shared-client\"}} 91234 {hour_ago}\n\
traces_service_graph_request_total{{client=\"support-portal\",server=\"kafka-events\",server_enduser_id=\"vault:secret/kafka/shared-client\"}} 1302 {hour_ago}\n\
traces_service_graph_request_total{{client=\"etl-pipeline\",server=\"kafka-events\",server_enduser_id=\"vault:secret/kafka/shared-client\"}} 40 {long_ago}\n\
traces_service_graph_request_total{{client=\"etl-pipeline\",server=\"data-warehouse\",server_enduser_id=\"dw-loader\"}} 700 {hour_ago}\n"
    );
    let path = dir.join("servicegraph.prom");
    std::fs::write(&path, text).unwrap();
    path
}

async fn observed_edges_are_recorded_flagged_and_listed(db: TestDb) {
    cli(&db).args(["demo", "load"]).assert().success();
    let dir = tempfile::tempdir().unwrap();
    let links = fixture("assets/demo/observed/zipkin-dependencies.json");
    let window_end = "2026-11-25T00:00:00Z";
    let out = stdout(
        cli(&db)
            .args(["observed", "import", "--window-end", window_end])
            .arg(&links),
    );
    assert!(
        out.contains("recorded: 6 new, 0 updated, 0 unchanged"),
        "{out}"
    );
    assert!(
        out.contains(
            "zipkin-dependencies.json:5: \"partner-webhooks\" is no service of the inventory"
        ),
        "an unknown consumer is named at its line: {out}"
    );
    let graph = dated_servicegraph(dir.path());
    let out = stdout(cli(&db).args(["observed", "import"]).arg(&graph));
    assert!(
        out.contains("recorded: 7 new, 1 updated, 0 unchanged"),
        "{out}"
    );
    assert!(
        out.contains("servicegraph.prom:5: \"dw-loader\" is no identity (by id or external id)"),
        "{out}"
    );

    // Each edge with its evidence and age.
    let list = stdout_json(cli(&db).args(["observed", "list", "--json"]));
    let edge = |kind: &str, consumer: &str, target: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|e| e["kind"] == kind && e["consumer"] == consumer && e["target"] == target)
            .unwrap_or_else(|| panic!("no {consumer} {kind} {target} in {list}"))
            .clone()
    };
    let checkout = edge("calls", "checkout-web", "payments-api");
    assert_eq!(checkout["evidence"], "both");
    assert_eq!(checkout["calls"], 182044);
    assert_eq!(
        checkout["first_seen"], "2026-11-24T00:00:00Z",
        "the window's start"
    );
    assert_eq!(checkout["last_seen"], window_end);
    let expected_age = jiff::Timestamp::now()
        .duration_since(window_end.parse().unwrap())
        .as_secs()
        / 86_400;
    assert_eq!(checkout["age_days"], expected_age);
    let reporting = edge("calls", "reporting", "ledger-db");
    assert_eq!(
        reporting["evidence"], "observed",
        "Finance Reporting, by name, is not documented as needing the ledger"
    );
    let webhooks = edge("calls", "partner-webhooks", "payments-api");
    assert_eq!(webhooks["consumer_known"], false);
    let support = edge("uses", "support-portal", "tok-kafka-shared");
    assert_eq!(support["evidence"], "observed");
    assert_eq!(support["source"], "otel-servicegraph");
    // The same edge from both exports: the later sighting's calls.
    let kafka = edge("calls", "payments-api", "kafka-events");
    assert_eq!(kafka["first_seen"], "2026-11-24T00:00:00Z");
    assert_eq!(kafka["age_days"], 0);

    // The blast radius flags what tracing saw and nobody documented.
    let blast = stdout_json(cli(&db).args(["blast", "tok-kafka-shared", "--json"]));
    let flagged: Vec<&str> = blast["observed"]["observed_undocumented"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["consumer"].as_str().unwrap())
        .collect();
    assert_eq!(
        flagged,
        ["partner-webhooks", "support-portal"],
        "partner-webhooks calls payments-api, which disabling the token breaks"
    );
    let stale: Vec<&str> = blast["observed"]["documented_unobserved"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["consumer"].as_str().unwrap())
        .collect();
    // The pipeline's use was last seen 60 days ago; fraud scoring, traced
    // (its calls to the event bus are seen), never uses the credential
    // where the event bus records it.
    assert_eq!(stale, ["etl-pipeline", "fraud-scoring"]);
    let text = stdout(cli(&db).args(["blast", "tok-kafka-shared", "--action", "rotate-secret"]));
    assert!(
        text.contains("observed but not documented (1)")
            && text.contains("support-portal was observed using tok-kafka-shared (1302 calls"),
        "{text}"
    );
    assert!(
        text.contains("etl-pipeline is documented as using tok-kafka-shared, but tracing last saw it 60 days ago"),
        "{text}"
    );

    // Needs attention lists both, with their controls.
    let findings = stdout_json(cli(&db).args(["attention", "--json"]));
    let on = |rule: &str, id: &str| {
        findings
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == rule && f["id"] == id)
            .cloned()
    };
    let f = on("observed_undocumented", "tok-kafka-shared").expect("the undocumented consumer");
    assert!(
        f["message"].as_str().unwrap().contains("support-portal"),
        "{f}"
    );
    assert_eq!(f["controls"][0], "NIST CSF ID.AM-03");
    assert!(
        on("observed_undocumented", "reporting").is_some(),
        "an undocumented dependency"
    );
    assert!(
        on("observed_undocumented", "payments-api").is_some(),
        "an unknown service calling it"
    );
    let unobserved_on = |findings: &serde_json::Value, id: &str| {
        findings
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == "documented_unobserved" && f["id"] == id)
            .map(|f| f["message"].as_str().unwrap().to_owned())
    };
    let kafka = unobserved_on(&findings, "tok-kafka-shared").expect("documented, not observed");
    assert!(
        kafka.contains("etl-pipeline") && kafka.contains("fraud-scoring"),
        "{kafka}"
    );
    // Tracing has watched for 60 days and sees Finance Reporting's calls
    // and the warehouse's callers, but never reporting call the warehouse
    // it is documented to need.
    let never = unobserved_on(&findings, "reporting").expect("a dependency never observed");
    assert!(
        never.contains("reporting is documented as depending on data-warehouse, but tracing, which sees reporting's calls and data-warehouse's other callers, never saw it"),
        "{never}"
    );
    // Nobody traces the card processor: its silence says nothing.
    assert!(
        !unobserved_on(&findings, "payments-api").is_some_and(|m| m.contains("card-processor")),
        "{:?}",
        unobserved_on(&findings, "payments-api")
    );
    // At 90 days, 60 days of silence is not stale, and 60 days of tracing
    // are too few to say "never".
    cli(&db)
        .args(["settings", "observed-stale-days", "90"])
        .assert()
        .success();
    let findings = stdout_json(cli(&db).args(["attention", "--json"]));
    assert_eq!(unobserved_on(&findings, "tok-kafka-shared"), None);
    assert_eq!(unobserved_on(&findings, "reporting"), None);

    // Again: nothing new, and the import is in the audit trail.
    let again = stdout(
        cli(&db)
            .args(["observed", "import", "--window-end", window_end])
            .arg(&links),
    );
    assert!(again.contains("0 new, 0 updated, 6 unchanged"), "{again}");
    let log = stdout(cli(&db).args(["audit", "log"]));
    assert!(log.contains("observations"), "{log}");
    cli(&db).args(["audit", "verify"]).assert().success();
}

on_both_engines!(observed_edges_are_recorded_flagged_and_listed);

/// A malformed line is named and nothing is recorded; `--strict` refuses
/// names that resolve to nothing.
#[test]
fn bad_exports_are_named_at_their_line() {
    let db = TestDb::sqlite();
    cli(&db).args(["demo", "load"]).assert().success();
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.prom");
    std::fs::write(
        &bad,
        "# TYPE traces_service_graph_request_total counter\n\
traces_service_graph_request_total{client=\"a\",server=\"b\"} 4\n\
traces_service_graph_request_total{client=\"a\" server=\"c\"} 4\n",
    )
    .unwrap();
    cli(&db)
        .args(["observed", "import"])
        .arg(&bad)
        .assert()
        .failure()
        .stderr(predicates::str::contains(
            "bad.prom:3: not a Prometheus text-format sample: labels are separated by commas",
        ));
    let links = dir.path().join("links.json");
    std::fs::write(
        &links,
        r#"{"data": [{"parent": "checkout-web", "child": "nowhere", "callCount": 3}]}"#,
    )
    .unwrap();
    cli(&db)
        .args(["observed", "import", "--strict"])
        .arg(&links)
        .assert()
        .failure()
        .stderr(predicates::str::contains(
            "--strict: 1 name(s) resolve to nothing",
        ));
    let list = stdout_json(cli(&db).args(["observed", "list", "--json"]));
    assert_eq!(list, serde_json::json!([]), "nothing was recorded");
    // Series of one pair add up (the enduser.id dimension splits them);
    // a value no counter holds is refused at its line.
    let split = dir.path().join("split.prom");
    std::fs::write(
        &split,
        "traces_service_graph_request_total{client=\"search\",server=\"kafka-events\",server_enduser_id=\"key-observability-api\"} 6\n\
traces_service_graph_request_total{client=\"search\",server=\"kafka-events\",server_enduser_id=\"tok-kafka-shared\"} 4 # {trace_id=\"abc\"} 1.0\n",
    )
    .unwrap();
    let out = stdout(
        cli(&db)
            .args([
                "observed",
                "import",
                "--dry-run",
                "--window-end",
                "1764460800000",
            ])
            .arg(&split),
    );
    assert!(out.contains("search calls kafka-events: 10 calls"), "{out}");
    assert!(
        out.contains("dry run, nothing recorded; it would record: 3 new"),
        "{out}"
    );
    std::fs::write(
        &split,
        "traces_service_graph_request_total{client=\"a\",server=\"b\"} 1e300\n",
    )
    .unwrap();
    cli(&db)
        .args(["observed", "import"])
        .arg(&split)
        .assert()
        .failure()
        .stderr(predicates::str::contains(
            "split.prom:1: a request count of",
        ));
    // Two scrapes of one series count once, as the later.
    std::fs::write(
        &split,
        "traces_service_graph_request_total{client=\"payments-api\",server=\"kafka-events\"} 100 1764460800000\n\
traces_service_graph_request_total{client=\"payments-api\",server=\"kafka-events\"} 130 1764464400000\n",
    )
    .unwrap();
    let out = stdout(
        cli(&db)
            .args(["observed", "import", "--dry-run"])
            .arg(&split),
    );
    assert!(
        out.contains("payments-api calls kafka-events: 130 calls"),
        "{out}"
    );
    // A window in the future, or in seconds, is refused.
    for (end, says) in [
        ("2099-01-01", "is in the future"),
        ("1764460800", "this looks like seconds"),
    ] {
        cli(&db)
            .args(["observed", "import", "--window-end", end])
            .arg(&links)
            .assert()
            .failure()
            .stderr(predicates::str::contains(says));
    }
    // A link without a child is noted, as one with an empty name; a value
    // of the wrong shape stops the import at its line and JSON path.
    std::fs::write(&links, r#"[{"parent": "a"}]"#).unwrap();
    let out = stdout(cli(&db).args(["observed", "import"]).arg(&links));
    assert!(
        out.contains("links.json:1: a link without a parent or a child service name: not recorded"),
        "{out}"
    );
    std::fs::write(
        &links,
        "[\n {\"parent\": \"a\", \"child\": \"b\",\n  \"callCount\": \"many\"}]",
    )
    .unwrap();
    cli(&db)
        .args(["observed", "import"])
        .arg(&links)
        .assert()
        .failure()
        .stderr(predicates::str::contains(
            "links.json:3: [0].callCount: invalid type: string \"many\"",
        ));
}
