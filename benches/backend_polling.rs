//! What polling the reference backend's pending list costs (docs/protocol.md
//! says polling is cheap): the same `GET /v1/requests` over loopback HTTP,
//! side by side in one run, as a full answer (`200`, the list built and
//! serialised) and as a conditional one with the current ETag (`304`,
//! answered from the revision counter and the expiry index before any list
//! is built), at 100 and 10,000 pending requests, with the backend's log
//! holding 10,000 rejected junk decisions (the ETag does not move).
//! Prints a Markdown table for docs/benchmarks.md.
//!   cargo bench --bench backend_polling

use std::time::{Duration, Instant};

use countersign::backend::{self, ServeConfig};

const ROUNDS: usize = 5;
const POLLS: usize = 400;

async fn per_poll(client: &reqwest::Client, url: &str, etag: Option<&str>, want: u16) -> Duration {
    let mut best = Duration::MAX;
    for _ in 0..ROUNDS {
        let start = Instant::now();
        for _ in 0..POLLS {
            let mut get = client.get(url).bearer_auth("bench-token");
            if let Some(etag) = etag {
                get = get.header("if-none-match", etag);
            }
            let response = get.send().await.unwrap();
            assert_eq!(response.status().as_u16(), want);
            response.bytes().await.unwrap();
        }
        best = best.min(start.elapsed() / POLLS as u32);
    }
    best
}

fn main() {
    // The same TLS provider the app's client installs (plain HTTP here).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let example: serde_json::Value = serde_json::from_str(include_str!(
            "../assets/examples/containment-request.json"
        ))
        .unwrap();
        let now = jiff::Timestamp::now();
        println!(
            "`GET /v1/requests` over loopback, best of {ROUNDS} rounds of {POLLS} polls; 10,000 rejected decisions in the log\n"
        );
        println!("| pending requests | body, KiB | full answer (200), µs | unchanged (304), µs | ratio |");
        println!("| ---: | ---: | ---: | ---: | ---: |");
        for pending in [100usize, 10_000] {
            let running = backend::spawn(ServeConfig {
                dual_groups: Vec::new(),
                ..ServeConfig::new("127.0.0.1:0", "bench-token")
            })
            .await
            .unwrap();
            {
                let mut state = running.shared.state.lock().await;
                for i in 0..pending {
                    let mut r = example.clone();
                    r["id"] = format!("req-{i}").into();
                    r["created_at"] = now.to_string().into();
                    r["expires_at"] = (now + jiff::SignedDuration::from_hours(2))
                        .to_string()
                        .into();
                    state.add_request(r).unwrap();
                }
                for i in 0..10_000 {
                    state.submit(&format!("junk.{i}.x"), now);
                }
            }
            let client = reqwest::Client::new();
            let url = format!("{}/v1/requests", running.url());
            let first = client.get(&url).bearer_auth("bench-token").send().await.unwrap();
            let etag = first.headers()["etag"].to_str().unwrap().to_owned();
            let size = first.bytes().await.unwrap().len();
            let full = per_poll(&client, &url, None, 200).await;
            let unchanged = per_poll(&client, &url, Some(&etag), 304).await;
            let us = |d: Duration| d.as_secs_f64() * 1e6;
            println!(
                "| {pending} | {:.0} | {:.0} | {:.0} | {:.0}× |",
                size as f64 / 1024.0,
                us(full),
                us(unchanged),
                us(full) / us(unchanged)
            );
        }
    });
}
