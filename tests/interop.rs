//! Signed decisions verify with independent libraries in another language:
//! Python's `joserfc` checks the compact JWS against the exported JWKS, and
//! `rfc8785` recomputes the request digest. Needs the Python environment
//! that `scripts/test` creates (`COUNTERSIGN_PYTHON`), hence `#[ignore]`:
//! scripts/test runs it with `--ignored`, and it fails without that Python.

use std::process::Command;
use std::sync::Arc;

use countersign::Store;
use countersign::signing::{Keys, MemorySecrets, request_digest};
use countersign::store::ChangeContext;

fn python() -> String {
    std::env::var("COUNTERSIGN_PYTHON").expect(
        "COUNTERSIGN_PYTHON must name a Python with joserfc and rfc8785 (scripts/test sets it up)",
    )
}

/// A request as a backend might serialise it: keys in its own order,
/// non-ASCII text, numbers JCS must normalise (1.0, 1e2, -0.5).
const REQUEST: &str = r#"{
  "target": {"external_id": "vault:secret/kafka/shared-client"},
  "id": "req-7f3a",
  "action": "rotate_secret",
  "evidence": {"signal": "secret found in a public repository — ŝ", "confidence": 1.0, "score": 1e2, "delta": -0.5,
               "links": ["https://example.test/leak/1"]},
  "severity": "high",
  "requested_by": {"kind": "automation", "name": "soar-playbook-12"},
  "created_at": "2026-11-24T10:00:00Z",
  "expires_at": "2026-11-24T11:00:00Z",
  "tier": "dual_approval"
}"#;

#[tokio::test]
#[ignore = "needs the Python environment from scripts/test"]
async fn a_signed_decision_verifies_with_joserfc_and_its_digest_with_rfc8785() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("k.db")).await.unwrap();
    let keys = Keys::new(&store, Arc::new(MemorySecrets::default()));
    keys.init(&ChangeContext::new("alice", "test"))
        .await
        .unwrap();
    // An old key rotated out must still be in the JWKS; sign with the new one.
    keys.rotate(&ChangeContext::new("alice", "test"))
        .await
        .unwrap();

    let request: serde_json::Value = serde_json::from_str(REQUEST).unwrap();
    let claims = serde_json::json!({
        "jti": "3f1c2d4e-0000-4000-8000-000000000001",
        "request_id": "req-7f3a",
        "request_digest": request_digest(&request),
        "decision": "approve",
        "approver": "alice",
        "aud": "https://soar.example.test",
        "iat": 1_795_000_000u64,
        "exp": 4_102_444_800u64,
    });
    let token = keys.active().await.unwrap().sign(&claims, "JWT").unwrap();

    std::fs::write(
        dir.path().join("jwks.json"),
        keys.jwks().await.unwrap().to_string(),
    )
    .unwrap();
    std::fs::write(dir.path().join("token.txt"), &token).unwrap();
    std::fs::write(dir.path().join("request.json"), REQUEST).unwrap();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/interop/verify_decision.py"
    );
    let run = |token_file: &str| {
        Command::new(python())
            .arg(script)
            .arg(dir.path().join("jwks.json"))
            .arg(dir.path().join(token_file))
            .arg(dir.path().join("request.json"))
            .output()
            .expect("python runs")
    };
    let out = run("token.txt");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let verified: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(verified, claims);

    // The same library rejects a token whose payload was swapped.
    let mut parts: Vec<&str> = token.split('.').collect();
    let forged_payload = base64_url(br#"{"decision":"deny"}"#);
    parts[1] = &forged_payload;
    std::fs::write(dir.path().join("forged.txt"), parts.join(".")).unwrap();
    assert!(
        !run("forged.txt").status.success(),
        "a forged token verified"
    );
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The example request in assets/ is valid against the protocol's OpenAPI
/// schema (checked by Python's jsonschema), and an invalid one is not.
#[test]
#[ignore = "needs the Python environment from scripts/test"]
fn the_example_request_matches_the_openapi_schema() {
    let root = env!("CARGO_MANIFEST_DIR");
    let script = format!("{root}/tests/interop/validate_example.py");
    let spec = format!("{root}/assets/openapi/countersign-backend.yaml");
    let validate = |doc: &std::path::Path| {
        Command::new(python())
            .args([&script, &spec, "ContainmentRequest"])
            .arg(doc)
            .output()
            .expect("python runs")
    };
    let example =
        std::path::PathBuf::from(format!("{root}/assets/examples/containment-request.json"));
    let out = validate(&example);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let dir = tempfile::tempdir().unwrap();
    let mut bad: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&example).unwrap()).unwrap();
    bad["evidence"]["confidence"] = 1.5.into();
    bad["action"] = "nuke".into();
    let bad_path = dir.path().join("bad.json");
    std::fs::write(&bad_path, bad.to_string()).unwrap();
    let out = validate(&bad_path);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("evidence/confidence") && stderr.contains("action"),
        "{stderr}"
    );
}

/// What the implementation actually sends and answers matches the
/// protocol document: the claims of a real decision (`DecisionClaims`) and
/// the reference backend's receipts, accepted and rejected
/// (`DecisionReceipt`), each checked by Python's jsonschema.
#[tokio::test]
#[ignore = "needs the Python environment from scripts/test"]
async fn real_claims_and_receipts_match_the_openapi_schemas() {
    use countersign::approval::{Decision, DecisionInput, decide};
    use countersign::backend::{BackendState, parse_jwk};

    let root = env!("CARGO_MANIFEST_DIR");
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.db")).await.unwrap();
    countersign::demo::load(&store, false, "alice")
        .await
        .unwrap();
    let keys = Keys::new(&store, Arc::new(MemorySecrets::default()));
    let ctx = ChangeContext::new("alice", "test");
    keys.init(&ctx).await.unwrap();

    let mut request: serde_json::Value =
        serde_json::from_str(include_str!("../assets/examples/containment-request.json")).unwrap();
    let now = jiff::Timestamp::now();
    request["created_at"] = now.to_string().into();
    request["expires_at"] = (now + std::time::Duration::from_secs(600))
        .to_string()
        .into();
    let aud = "http://127.0.0.1:8787";
    let mut state = BackendState::new(aud, vec![]);
    state.add_request(request.clone()).unwrap();
    let jwks = keys.jwks().await.unwrap();
    let enrolled = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| parse_jwk(k).unwrap())
        .collect();
    state.enroll("alice", vec![], enrolled).unwrap();

    let mut documents = Vec::new();
    let id = request["id"].as_str().unwrap();
    for who in ["alice", "nobody-enrolled"] {
        let e = state.eligibility(id, who, now).unwrap();
        documents.push(("Eligibility", serde_json::to_value(&e).unwrap()));
    }
    for audience in [aud, "https://elsewhere.test"] {
        let d = decide(
            &store,
            &keys,
            DecisionInput {
                request: &request,
                decision: Decision::Approve,
                reason: "checked",
                audience,
                destination: None,
                inventory_version: None,
            },
            &ctx,
        )
        .await
        .unwrap();
        documents.push(("DecisionClaims", serde_json::to_value(&d.claims).unwrap()));
        state.submit(&d.jws, jiff::Timestamp::now());
    }
    for receipt in &state.log {
        documents.push(("DecisionReceipt", serde_json::to_value(receipt).unwrap()));
    }
    assert_eq!(state.log[1].reason, Some("wrong_audience"));
    // The rejection says which request (as claimed) and both audiences.
    assert_eq!(state.log[1].request_id, request["id"].as_str().unwrap());
    let detail = state.log[1].detail.as_deref().unwrap();
    assert!(
        detail.contains("https://elsewhere.test") && detail.contains(aud),
        "{detail}"
    );

    let script = format!("{root}/tests/interop/validate_example.py");
    let spec = format!("{root}/assets/openapi/countersign-backend.yaml");
    for (i, (schema, doc)) in documents.iter().enumerate() {
        let path = dir.path().join(format!("doc-{i}.json"));
        std::fs::write(&path, doc.to_string()).unwrap();
        let out = Command::new(python())
            .args([script.as_str(), spec.as_str(), schema])
            .arg(&path)
            .output()
            .expect("python runs");
        assert!(
            out.status.success(),
            "{schema} {doc}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// A drill report can be audited again by anyone: every decision in it
/// verifies with joserfc against the public keys the report carries.
#[test]
#[ignore = "needs the Python environment from scripts/test"]
fn a_drill_reports_decisions_verify_with_joserfc() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let bin = env!("CARGO_BIN_EXE_countersign");
    let countersign = |args: &[&str]| {
        let out = Command::new(bin)
            .env_remove("COUNTERSIGN_BACKEND_TOKEN")
            .env("COUNTERSIGN_ACTOR", "tester")
            .arg("--db")
            .arg(&db)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    countersign(&["demo", "load"]);
    let drills = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/drills");
    let out = dir.path().join("report");
    countersign(&[
        "drill",
        "run",
        &format!("{drills}/leaked-deploy-key.yaml"),
        "--speed",
        "120",
        "--participants",
        &format!("{drills}/leaked-deploy-key.participants.yaml"),
        "--out",
        out.to_str().unwrap(),
    ]);
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/interop/verify_drill_report.py"
    );
    let report = out.join("report.json");
    let verify = |path: &std::path::Path| {
        Command::new(python())
            .arg(script)
            .arg(path)
            .output()
            .expect("python runs")
    };
    let run = verify(&report);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&run.stdout).trim(), "5");

    // A report whose reason was edited after the fact no longer verifies.
    let mut edited: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    edited["injects"][0]["decisions"][0]["reason"] = "something else".into();
    let tampered = dir.path().join("tampered.json");
    std::fs::write(&tampered, edited.to_string()).unwrap();
    let run = verify(&tampered);
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("signed reason"));
}
