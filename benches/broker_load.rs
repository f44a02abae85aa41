//! Load and faults on the approval broker (issue 18): `bench/broker-load`.
//!
//! The release `countersign backend serve --state` runs as its own process
//! on loopback. Many SOAR workers at once create requests with a callback,
//! long-poll each one (`?wait=`), and approvers sign and submit decisions
//! (single and dual approval, approvals and denials; some requests are left
//! to expire). A callback receiver (in this process) records every
//! delivery. Two runs:
//!
//! - **steady**: no faults — throughput, latency percentiles and the
//!   broker's peak memory;
//! - **faults**: the receiver answers 503 for a while, and the broker is
//!   killed with SIGKILL halfway and restarted on the same state; workers
//!   retry what failed (creates and submissions are idempotent).
//!
//! Both end by checking every request: its outcome is final, it was
//! delivered to the callback (signed by the broker's key, verified), no
//! request has two different outcomes, and no decision was applied twice
//! (each request's accepted receipts are exactly the approvals it needed).
//! Prints Markdown for docs/benchmarks.md and exits non-zero on a lost or
//! doubled outcome.

use std::collections::{BTreeMap, HashMap};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use countersign::approval::{Approver, DecisionClaims};
use countersign::signing::SigningKeyPair;
use serde_json::{Value, json};

const TOKEN: &str = "bench-broker-token-0123456789abcdef";
const AUDIENCE: &str = "https://broker.bench";

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Broker {
    child: Child,
    port: u16,
}

impl Broker {
    fn start(state: &str, port: u16, log: &std::path::Path) -> Broker {
        use std::io::BufRead as _;
        let mut child = Command::new(env!("CARGO_BIN_EXE_countersign"))
            .env("COUNTERSIGN_BACKEND_TOKEN", TOKEN)
            .env("COUNTERSIGN_LOG", "info")
            .args([
                "backend",
                "serve",
                "--log-format",
                "json",
                "--audience",
                AUDIENCE,
            ])
            .args(["--listen", &format!("127.0.0.1:{port}"), "--state", state])
            .stdout(Stdio::piped())
            .stderr(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(log)
                    .unwrap(),
            )
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .split_whitespace()
            .nth(2)
            .and_then(|u| u.rsplit(':').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        Broker { child, port }
    }

    /// Peak resident memory so far (VmHWM), in MiB.
    fn peak_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    }

    fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// What the callback receiver saw: outcome id → statuses delivered (one
/// per delivery), and whether it is "down" (answers 503).
#[derive(Default)]
struct Received {
    deliveries: HashMap<String, Vec<String>>,
    refused: usize,
    bad_signatures: usize,
}

/// The receiver's shared state: what it saw, whether it is down, and the
/// broker's JWKS to verify deliveries with.
type ReceiverState = (
    Arc<Mutex<Received>>,
    Arc<std::sync::atomic::AtomicBool>,
    Arc<Mutex<Option<Value>>>,
);

async fn receiver(
    down: Arc<std::sync::atomic::AtomicBool>,
    jwks: Arc<Mutex<Option<Value>>>,
) -> (String, Arc<Mutex<Received>>) {
    use axum::{Json, Router, extract::State, http::StatusCode, routing::post};
    let got: Arc<Mutex<Received>> = Default::default();
    let state = (Arc::clone(&got), down, jwks);
    let app = Router::new()
        .route(
            "/hook",
            post(
                |State((got, down, jwks)): State<ReceiverState>,
                 Json(body): Json<Value>| async move {
                    let mut got = got.lock().unwrap();
                    if down.load(std::sync::atomic::Ordering::Relaxed) {
                        got.refused += 1;
                        return StatusCode::SERVICE_UNAVAILABLE;
                    }
                    let keys = jwks.lock().unwrap().clone().expect("the broker's JWKS");
                    let Ok(outcome) = countersign::signing::verify_signature(
                        body["jws"].as_str().unwrap_or_default(),
                        &keys,
                        countersign::backend::callbacks::OUTCOME_TYP,
                    ) else {
                        got.bad_signatures += 1;
                        return StatusCode::BAD_REQUEST;
                    };
                    got.deliveries
                        .entry(outcome["outcome_id"].as_str().unwrap().to_owned())
                        .or_default()
                        .push(outcome["status"].as_str().unwrap().to_owned());
                    StatusCode::OK
                },
            ),
        )
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, got)
}

struct Person {
    id: String,
    group: &'static str,
    key: SigningKeyPair,
}

fn sign(person: &Person, request: &Value, decision: &str) -> String {
    let now = jiff::Timestamp::now().as_second();
    let claims = DecisionClaims {
        iss: person.id.clone(),
        aud: AUDIENCE.into(),
        iat: now,
        exp: now + 600,
        jti: uuid::Uuid::new_v4().to_string(),
        request_id: request["id"].as_str().unwrap().to_owned(),
        request_digest: countersign::jose::request_digest(request),
        decision: decision.into(),
        narrowed: None,
        reason: "load test".into(),
        approver: Approver {
            id: person.id.clone(),
            groups: vec![person.group.into()],
        },
        policy_version: "bench".into(),
        blast_radius_digest: "bench".into(),
    };
    person
        .key
        .sign(&claims, countersign::approval::DECISION_TYP)
        .unwrap()
}

/// Latencies of one kind of call, in microseconds.
#[derive(Default)]
struct Latencies(Vec<u64>);

impl Latencies {
    fn pct(&mut self, p: f64) -> f64 {
        self.0.sort_unstable();
        if self.0.is_empty() {
            return 0.0;
        }
        let i = ((self.0.len() as f64 - 1.0) * p).round() as usize;
        self.0[i] as f64 / 1000.0
    }
}

#[derive(Default)]
struct Stats {
    calls: usize,
    retries: usize,
    by_kind: BTreeMap<&'static str, Latencies>,
}

/// Sends until the broker answers (not a connection error or 503),
/// recording the latency of the attempt that was answered.
async fn call(
    stats: &Mutex<Stats>,
    kind: &'static str,
    build: impl Fn() -> reqwest::RequestBuilder,
) -> (u16, Value) {
    loop {
        let started = Instant::now();
        match build().send().await {
            Ok(r) if r.status() != 503 => {
                let status = r.status().as_u16();
                let body = r.json().await.unwrap_or(Value::Null);
                let mut s = stats.lock().unwrap();
                s.calls += 1;
                s.by_kind
                    .entry(kind)
                    .or_default()
                    .0
                    .push(started.elapsed().as_micros() as u64);
                return (status, body);
            }
            _ => {
                stats.lock().unwrap().retries += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

struct Run {
    name: &'static str,
    requests: usize,
    workers: usize,
    faults: bool,
}

async fn run(spec: Run, dir: &std::path::Path) -> bool {
    let state = dir.join(format!("{}.db", spec.name)).display().to_string();
    let log = dir.join(format!("{}.log", spec.name));
    let mut broker = Broker::start(&state, 0, &log);
    let port = broker.port;
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(spec.workers * 2)
        .build()
        .unwrap();
    let jwks: Value = http
        .get(format!("{base}/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let down = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (hook, received) = receiver(Arc::clone(&down), Arc::new(Mutex::new(Some(jwks)))).await;

    let people: Vec<Person> = (0..4)
        .map(|i| {
            let seed = [i as u8 + 1; 32];
            Person {
                id: format!("approver-{i}"),
                group: if i % 2 == 0 {
                    "identity-governance"
                } else {
                    "incident-response"
                },
                key: SigningKeyPair::from_seed(&seed).unwrap(),
            }
        })
        .collect();
    for p in &people {
        let r = http
            .put(format!("{base}/v1/approvers/{}", p.id))
            .bearer_auth(TOKEN)
            .json(&json!({ "groups": [p.group], "jwks": { "keys": [p.key.public_jwk()] } }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204, "{}", r.text().await.unwrap());
    }
    let people = Arc::new(people);
    let stats = Arc::new(Mutex::new(Stats::default()));
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    // What each request should end as: id → (status, accepted receipts).
    let expected: Arc<Mutex<HashMap<String, (&'static str, usize)>>> = Default::default();
    let created = Arc::new(std::sync::atomic::AtomicUsize::new(0));

    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..spec.workers {
        let (http, stats, next, people, expected, created) = (
            http.clone(),
            Arc::clone(&stats),
            Arc::clone(&next),
            Arc::clone(&people),
            Arc::clone(&expected),
            Arc::clone(&created),
        );
        let (base, hook, total) = (base.clone(), hook.clone(), spec.requests);
        workers.spawn(async move {
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if n >= total {
                    return;
                }
                let id = format!("req-{n:06}");
                let now = jiff::Timestamp::now();
                // 1 in 20 expires undecided; 1 in 5 of the rest needs two
                // approvers; 1 in 4 of the single ones is denied.
                let (tier, plan): (&str, &[(usize, &str)]) = if n % 20 == 7 {
                    ("single_approval", &[])
                } else if n % 5 == 0 {
                    ("dual_approval", &[(0, "approve"), (1, "approve")])
                } else if n % 4 == 1 {
                    ("single_approval", &[(2, "deny")])
                } else {
                    ("single_approval", &[(n % 4, "approve")])
                };
                let lifetime = if plan.is_empty() { 3 } else { 600 };
                let proposed = json!({
                    "id": id,
                    "action": "rotate_secret",
                    "target": { "external_id": format!("arn:aws:iam::123456789012:user/svc-{n}") },
                    "evidence": { "signal": "secret_in_public_repository", "confidence": 0.9, "source": "bench" },
                    "severity": "high",
                    "requested_by": { "kind": "automation", "id": "soar-bench" },
                    "created_at": now.to_string(),
                    "expires_at": (now + jiff::SignedDuration::from_secs(lifetime)).to_string(),
                    "tier": tier,
                });
                let mut with_callback = proposed.clone();
                with_callback["callback"] = hook.clone().into();
                let (status, _) = call(&stats, "create", || {
                    http.post(format!("{base}/v1/requests"))
                        .bearer_auth(TOKEN)
                        .json(&with_callback)
                })
                .await;
                assert!(status == 201 || status == 200, "create {id}: {status}");
                created.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let outcome = match plan.last() {
                    None => "expired",
                    Some((_, "deny")) => "denied",
                    Some(_) => "approved",
                };
                expected.lock().unwrap().insert(id.clone(), (outcome, plan.len()));
                // The SOAR's long-poll, alongside the approvers.
                let poll = {
                    let (http, stats, base, id) =
                        (http.clone(), Arc::clone(&stats), base.clone(), id.clone());
                    tokio::spawn(async move {
                        loop {
                            let (status, body) = call(&stats, "long-poll", || {
                                http.get(format!("{base}/v1/requests/{id}?wait=30"))
                                    .bearer_auth(TOKEN)
                            })
                            .await;
                            assert_eq!(status, 200);
                            let s = body["status"].as_str().unwrap_or_default().to_owned();
                            if !matches!(s.as_str(), "pending" | "awaiting_second_approval") {
                                return s;
                            }
                        }
                    })
                };
                for &(who, decision) in plan {
                    let jws = sign(&people[who], &proposed, decision);
                    let (status, receipt) = call(&stats, "decision", || {
                        http.post(format!("{base}/v1/decisions"))
                            .bearer_auth(TOKEN)
                            .json(&json!({ "jws": jws }))
                    })
                    .await;
                    assert!(
                        status == 201 || status == 200,
                        "decision on {id}: {status} {receipt}"
                    );
                }
                let got = poll.await.unwrap();
                assert_eq!(got, outcome, "{id}'s long-poll");
            }
        });
    }

    // Faults: the receiver down for 4 s from 1 s in; SIGKILL once half
    // the requests exist, restarted at once on the same port and state.
    let mut restart = None;
    let mut peak_mib = 0.0f64;
    if spec.faults {
        tokio::time::sleep(Duration::from_secs(1)).await;
        down.store(true, std::sync::atomic::Ordering::Relaxed);
        let up_again = Arc::clone(&down);
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(4)).await;
            up_again.store(false, std::sync::atomic::Ordering::Relaxed);
        });
        while created.load(std::sync::atomic::Ordering::Relaxed) < spec.requests / 2 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        peak_mib = peak_mib.max(broker.peak_mib());
        broker.kill9();
        let killed = Instant::now();
        broker = Broker::start(&state, port, &log);
        loop {
            if let Ok(r) = http.get(format!("{base}/readyz")).send().await
                && r.status() == 200
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        restart = Some(killed.elapsed());
    }
    while let Some(done) = workers.join_next().await {
        done.unwrap();
    }
    let decided_in = started.elapsed();
    peak_mib = peak_mib.max(broker.peak_mib());

    // Every outcome reaches the receiver (callbacks retry with backoff).
    let expected = expected.lock().unwrap().clone();
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let delivered = {
            let r = received.lock().unwrap();
            expected
                .iter()
                .filter(|(id, (status, _))| r.deliveries.contains_key(&format!("{id}/{status}")))
                .count()
        };
        if delivered == expected.len() || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let all_delivered_in = started.elapsed();
    // Check each request against the broker's own record too.
    let mut lost = 0;
    let mut doubled = 0;
    let mut wrong = 0;
    {
        let r = received.lock().unwrap();
        for (id, (status, _)) in &expected {
            let outcomes: Vec<&String> = r
                .deliveries
                .iter()
                .filter(|(k, _)| k.rsplit_once('/').map(|(i, _)| i) == Some(id.as_str()))
                .map(|(k, _)| k)
                .collect();
            match outcomes.as_slice() {
                [] => lost += 1,
                [one] if **one == format!("{id}/{status}") => {}
                [_] => wrong += 1,
                _ => doubled += 1,
            }
        }
    }
    let mut applied_twice = 0;
    let listing: Value = http
        .get(format!("{base}/v1/requests?status=all"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        listing["requests"].as_array().unwrap().len(),
        expected.len()
    );
    for (id, (_, approvals)) in &expected {
        let body: Value = http
            .get(format!("{base}/v1/requests/{id}"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let accepted = body["decisions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["status"] != "rejected")
            .count();
        if accepted != *approvals {
            applied_twice += 1;
        }
    }
    let (redelivered, refused, bad) = {
        let r = received.lock().unwrap();
        (
            r.deliveries.values().map(|v| v.len() - 1).sum::<usize>(),
            r.refused,
            r.bad_signatures,
        )
    };
    let mut s = stats.lock().unwrap();
    let calls = s.calls;
    let rate = calls as f64 / decided_in.as_secs_f64();
    println!(
        "| {} | {} | {} | {:.1} | {:.0} | {} |",
        spec.name,
        spec.requests,
        spec.workers,
        decided_in.as_secs_f64(),
        rate,
        s.by_kind
            .iter_mut()
            .map(|(k, l)| format!("{k} {:.1}/{:.1}", l.pct(0.5), l.pct(0.99)))
            .collect::<Vec<_>>()
            .join(", "),
    );
    println!(
        "|   | all outcomes delivered after {:.1} s; broker peak RSS {:.0} MiB; {} retried calls{}; callbacks refused while down {refused}, sent again {redelivered}; **lost {lost}, doubled {doubled}, wrong {wrong}, decisions applied twice {applied_twice}, bad signatures {bad}** | | | | |",
        all_delivered_in.as_secs_f64(),
        peak_mib,
        s.retries,
        restart
            .map(|d| format!("; back after SIGKILL in {:.2} s", d.as_secs_f64()))
            .unwrap_or_default(),
    );
    lost == 0 && doubled == 0 && wrong == 0 && applied_twice == 0 && bad == 0
}

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let requests = env_usize("BROKER_LOAD_REQUESTS", 2000);
    let workers = env_usize("BROKER_LOAD_WORKERS", 64);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    println!(
        "`countersign backend serve --state` (SQLite, release build) on loopback; latencies p50/p99 in ms; each request: create with a callback, a long-poll, one or two decisions\n"
    );
    println!(
        "| run | requests | concurrent workers | seconds | HTTP calls/s | latency p50/p99, ms |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | --- |");
    let ok = runtime.block_on(async {
        let steady = run(
            Run {
                name: "steady",
                requests,
                workers,
                faults: false,
            },
            dir.path(),
        )
        .await;
        let faults = run(
            Run {
                name: "faults",
                requests,
                workers,
                faults: true,
            },
            dir.path(),
        )
        .await;
        steady && faults
    });
    if !ok {
        eprintln!("an outcome was lost, doubled or wrong");
        std::process::exit(1);
    }
}
