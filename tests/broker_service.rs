//! The broker as a service (issue 18): what an operator deploying it relies
//! on — JSON log lines with request ids and no secrets, health and
//! readiness probes, a SIGTERM that lets a callback in flight finish, and
//! HTTPS with the operator's certificate. Each is driven through the real
//! `countersign backend serve` process, as systemd or a container runtime
//! runs it.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::approver::Approver;
use common::live_request;
use countersign::backend::{self, ServeConfig};
use countersign::client::BackendClient;
use serde_json::Value;

const TOKEN: &str = "service-test-token-0123456789abcdef";

/// `backend serve` with its stderr (the log) in `log`; returns the process
/// and its URL once it prints the "listening on" line.
fn serve(args: &[&str], log: &Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_countersign"))
        .env("COUNTERSIGN_BACKEND_TOKEN", TOKEN)
        .env_remove("COUNTERSIGN_LOG")
        .args(["backend", "serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let url = common::listening_url(&mut child).unwrap_or_else(|| {
        panic!(
            "backend serve did not start; log: {}",
            std::fs::read_to_string(log).unwrap_or_default()
        )
    });
    (child, url)
}

fn sigterm(child: &Child) {
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
}

/// Waits for the process to exit, at most `limit`.
fn exit_within(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = std::time::Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the broker did not stop within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The slow receiver's state: the bodies it got, and who to tell.
type Hooked = (
    Arc<Mutex<Vec<Value>>>,
    tokio::sync::mpsc::UnboundedSender<()>,
);

/// A callback receiver that takes `hold` to answer each POST (200), and
/// tells `arrived` as soon as a body is in.
async fn slow_receiver(
    hold: Duration,
) -> (
    String,
    Arc<Mutex<Vec<Value>>>,
    tokio::sync::mpsc::UnboundedReceiver<()>,
) {
    use axum::{Json, Router, extract::State, http::StatusCode, routing::post};
    let got: Arc<Mutex<Vec<Value>>> = Default::default();
    let (tell, arrived) = tokio::sync::mpsc::unbounded_channel();
    let state = (Arc::clone(&got), tell);
    let app = Router::new()
        .route(
            "/hook",
            post(
                move |State((got, tell)): State<Hooked>, Json(body): Json<Value>| async move {
                    got.lock().unwrap().push(body);
                    let _ = tell.send(());
                    tokio::time::sleep(hold).await;
                    StatusCode::OK
                },
            ),
        )
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, got, arrived)
}

/// SIGTERM while a callback is being delivered: the broker stops taking
/// connections but finishes the delivery and journals its
/// acknowledgement, exits 0, and a restart does not send it again. Every
/// log line on the way is a JSON object; a SOAR's `x-request-id` is on the
/// lines about its request; neither the bearer token, nor the callback's
/// credential, nor a signature is ever logged.
#[tokio::test]
async fn sigterm_finishes_the_delivery_in_flight_and_logs_are_json_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("broker.db").display().to_string();
    let log = dir.path().join("broker.log");
    let args = [
        "--state",
        &state,
        "--audience",
        "https://broker.example",
        "--log-format",
        "json",
    ];
    let (mut broker, url) = serve(&args, &log);
    let http = reqwest::Client::new();
    for probe in ["/healthz", "/readyz"] {
        // Public: a supervisor holds no token.
        let answer = http.get(format!("{url}{probe}")).send().await.unwrap();
        assert_eq!(answer.status(), 200, "{probe}");
    }

    let c = BackendClient::new(&url, TOKEN.to_owned().into()).unwrap();
    let alice = Approver::new("alice").await;
    alice.enroll(&c, "identity-governance").await;
    let (hook, got, mut arrived) = slow_receiver(Duration::from_secs(2)).await;
    let mut request = live_request("req-sigterm", "single_approval", "soar-analyst");
    request["callback"] = format!("{hook}?sig=receiver-credential-xyz").into();
    let created = http
        .post(format!("{url}/v1/requests"))
        .bearer_auth(TOKEN)
        .header("x-request-id", "soar-run-42")
        .json(&request)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    assert_eq!(created.headers()["x-request-id"], "soar-run-42");
    let listed = c.proposed_request("req-sigterm").await.unwrap();
    let jws = alice.approve(&listed, "https://broker.example").await;
    assert_eq!(c.submit(&jws).await.unwrap().status, "accepted");

    // The delivery is in flight (the receiver holds it for 2 s): stop now.
    tokio::time::timeout(Duration::from_secs(15), arrived.recv())
        .await
        .expect("the callback arrives")
        .unwrap();
    sigterm(&broker);
    let status = tokio::task::spawn_blocking(move || {
        let status = exit_within(&mut broker, Duration::from_secs(20));
        (status, broker)
    })
    .await
    .unwrap();
    assert!(status.0.success(), "a SIGTERM stop exits 0: {:?}", status.0);
    assert_eq!(got.lock().unwrap().len(), 1);

    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: not JSON: {l}")))
        .collect();
    let position = |message: &str| {
        lines
            .iter()
            .position(|l| l["message"] == message)
            .unwrap_or_else(|| panic!("no {message:?} line in {text}"))
    };
    let acknowledged = position("callback acknowledged");
    assert!(
        position("stopping: finishing requests and callback deliveries in flight") < acknowledged
    );
    assert!(acknowledged < position("stopped"));
    assert_eq!(lines[acknowledged]["outcome_id"], "req-sigterm/approved");
    // The receiver as logged: no query, so no credential.
    assert_eq!(lines[acknowledged]["receiver"], hook.as_str());
    let create = lines
        .iter()
        .find(|l| l["span"]["path"] == "/v1/requests" && l["span"]["method"] == "POST")
        .expect("the create is logged");
    assert_eq!(create["span"]["request_id"], "soar-run-42");
    assert_eq!(create["status"], 201);
    assert!(
        lines
            .iter()
            .all(|l| l["timestamp"].is_string() && l["level"].is_string())
    );
    for secret in [
        TOKEN,
        "receiver-credential-xyz",
        jws.split('.').nth(2).unwrap(),
    ] {
        assert!(!text.contains(secret), "{secret:?} logged: {text}");
    }

    // Restarted on the state: the acknowledged outcome is not sent again.
    let (broker, _url) = serve(&args, &log);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(got.lock().unwrap().len(), 1, "sent again after a restart");
    drop(status);
    let mut broker = broker;
    let _ = broker.kill();
    let _ = broker.wait();
}

/// `--tls-cert`/`--tls-key`: the broker serves HTTPS with the operator's
/// certificate (rustls) and says so in its address and default audience;
/// plain HTTP is not answered on that port; a missing key file is refused
/// at start, naming it.
#[tokio::test]
async fn the_broker_serves_https_with_the_operators_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let [cert, key, ca] = ["cert.pem", "key.pem", "ca.pem"].map(|f| dir.path().join(f));
    // An operator's CA, and the broker's certificate it issued.
    let script = "set -e
        ec='-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes'
        openssl req -x509 $ec -days 2 -subj '/CN=test CA' -keyout ca-key.pem -out ca.pem
        openssl req $ec -subj /CN=localhost -keyout key.pem -out leaf.csr
        printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\nbasicConstraints=CA:FALSE\\n' > leaf.ext
        openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial \\
            -days 2 -extfile leaf.ext -out cert.pem";
    let made = Command::new("sh")
        .args(["-c", script])
        .current_dir(dir.path())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(made.success(), "openssl made the test certificates");
    let log = dir.path().join("broker.log");
    let (cert_s, key_s) = (cert.display().to_string(), key.display().to_string());
    let (mut broker, url) = serve(&["--tls-cert", &cert_s, "--tls-key", &key_s], &log);
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");

    let _ = rustls::crypto::ring::default_provider().install_default();
    let trusted = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&std::fs::read(&ca).unwrap()).unwrap())
        .build()
        .unwrap();
    let ready = trusted.get(format!("{url}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let listed: Value = trusted
        .get(format!("{url}/v1/requests"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["requests"], serde_json::json!([]));
    let plain = url.replace("https://", "http://");
    assert!(
        reqwest::get(format!("{plain}/healthz")).await.is_err()
            || !reqwest::get(format!("{plain}/healthz"))
                .await
                .unwrap()
                .status()
                .is_success(),
        "plain HTTP answered on the HTTPS port"
    );
    let _ = broker.kill();
    let _ = broker.wait();

    let missing = dir.path().join("missing-key.pem");
    let out = Command::new(env!("CARGO_BIN_EXE_countersign"))
        .env("COUNTERSIGN_BACKEND_TOKEN", TOKEN)
        .args([
            "backend",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            &cert_s,
        ])
        .arg("--tls-key")
        .arg(&missing)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("missing-key.pem"), "{said}");
}

/// The probes and error bodies an operator's tooling reads: `/readyz`
/// turns `503` as soon as a stop begins (so the load balancer drains the
/// broker) while `/healthz` stays `200`; malformed input gets a JSON
/// `{error}` with the status that names its kind.
#[tokio::test]
async fn probes_and_malformed_input_answer_in_json() {
    let running = backend::spawn(ServeConfig::new("127.0.0.1:0", TOKEN))
        .await
        .unwrap();
    let url = running.url();
    let http = reqwest::Client::new();
    let send = |method: reqwest::Method, path: &str| {
        http.request(method, format!("{url}{path}"))
            .bearer_auth(TOKEN)
    };
    let answer = |r: reqwest::Response| async move {
        let status = r.status().as_u16();
        let body: Value = r.json().await.expect("a JSON body");
        (
            status,
            body["error"].as_str().unwrap_or_default().to_owned(),
        )
    };
    for bad in ["soon", "-1", "1.5"] {
        let (status, e) = answer(
            send(reqwest::Method::GET, &format!("/v1/requests/x?wait={bad}"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 422);
        assert!(
            e.contains("wait: a whole number of seconds from 0 to 60"),
            "{e}"
        );
    }
    // (method, path, content type, body) → the status that names its kind.
    let malformed = [
        (
            "POST",
            "/v1/decisions",
            Some("application/json"),
            "{not json",
            400,
        ),
        ("POST", "/v1/requests", None, "id=1", 415),
        ("GET", "/v2/anything", None, "", 404),
        ("DELETE", "/v1/requests", None, "", 405),
    ];
    for (method, path, content_type, body, expected) in malformed {
        let mut r = send(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            path,
        );
        if let Some(t) = content_type {
            r = r.header("content-type", t);
        }
        let (status, e) = answer(r.body(body).send().await.unwrap()).await;
        assert_eq!(status, expected, "{method} {path}: {e}");
        assert!(
            !e.is_empty(),
            "{method} {path}: a JSON error says what is wrong"
        );
    }

    assert_eq!(
        http.get(format!("{url}/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    running.shared.stopping.cancel();
    let stopping = http.get(format!("{url}/readyz")).send().await.unwrap();
    assert_eq!(stopping.status(), 503);
    assert_eq!(
        http.get(format!("{url}/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    running.shut_down().await.unwrap();
}

/// Configuration an operator gets wrong is refused at start, at once, with
/// what is wrong and what to do: a file that is not a state database, a
/// state directory that does not exist, an unreachable PostgreSQL, an
/// audience that is no URL, a key given as the certificate.
#[test]
fn bad_configuration_is_refused_at_once_saying_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_db = dir.path().join("token.txt");
    std::fs::write(&not_a_db, "this is a token, not a database\n").unwrap();
    let key = dir.path().join("key.pem");
    std::fs::write(
        &key,
        "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    // A port nothing listens on: bound and released here.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["--state".into(), not_a_db.display().to_string()],
            "not a SQLite database",
        ),
        (
            vec![
                "--state".into(),
                dir.path().join("missing/broker.db").display().to_string(),
            ],
            "does not exist; create it",
        ),
        (
            vec!["--state".into(), dir.path().display().to_string()],
            "is a directory",
        ),
        (
            vec![
                "--state".into(),
                format!("postgres://countersign@127.0.0.1:{closed}/broker"),
            ],
            "Connection refused",
        ),
        (
            vec!["--audience".into(), "broker.example".into()],
            "not a URL",
        ),
        (
            vec![
                "--tls-cert".into(),
                key.display().to_string(),
                "--tls-key".into(),
                key.display().to_string(),
            ],
            "holds no PEM certificate",
        ),
    ];
    for (args, expected) in cases {
        let started = std::time::Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_countersign"))
            .env("COUNTERSIGN_BACKEND_TOKEN", TOKEN)
            .args([
                "backend",
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--log-format",
                "text",
            ])
            .args(&args)
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} started");
        assert!(said.contains(expected), "{args:?}: {said}");
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "{args:?} took {:?}",
            started.elapsed()
        );
    }
    assert_eq!(
        std::fs::read_to_string(&not_a_db).unwrap(),
        "this is a token, not a database\n",
        "a file that is not a database is left as it was"
    );
}
