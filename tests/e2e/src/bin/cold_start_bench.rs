//! Cold-start benchmark (not a test): opens the real app on an inventory
//! and reports when it became usable, measured from the app process's
//! start (read from /proc) to the performance marks the window sets
//! (`ui/src/lib/marks.ts`): the first page of the identity list on screen
//! with the header's counts, then the Needs-attention count (checked in the
//! background); then the peak RSS of the app process (VmHWM) after the
//! Riskiest view has built the engine graph.
//!
//!     cold_start_bench DB [RUNS]
//!
//! Run by `bench/cold-start` under Xvfb; figures in docs/benchmarks.md.

use std::time::{Duration, SystemTime};

use countersign_e2e::{AppSession, app_binary};

/// Seconds since the epoch at which `pid` started: its start time in clock
/// ticks after boot (/proc/PID/stat, field 22) plus the boot time.
fn process_start(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // The command name may hold spaces: fields are counted after its ')'.
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let ticks: f64 = after.split(' ').nth(19).unwrap().parse().unwrap();
    let btime: f64 = std::fs::read_to_string("/proc/stat")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("btime "))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let hz: f64 = String::from_utf8(
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .parse()
    .unwrap();
    btime + ticks / hz
}

/// The newest process running the app binary.
fn app_pid() -> u32 {
    let binary = app_binary().canonicalize().unwrap();
    let mut best: Option<(f64, u32)> = None;
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if std::fs::read_link(entry.path().join("exe")).ok().as_ref() == Some(&binary) {
            let started = process_start(pid);
            if best.is_none_or(|(t, _)| started > t) {
                best = Some((started, pid));
            }
        }
    }
    best.expect("the app is running").1
}

/// A line of /proc/PID/status, in MiB (the kernel gives kB).
fn status_mib(pid: u32, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .unwrap()
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .unwrap();
    kb / 1024.0
}

/// Seconds since the epoch of a window's mark, once it is set.
async fn mark(app: &AppSession, name: &str, timeout: Duration) -> f64 {
    let started = std::time::Instant::now();
    loop {
        let at = app
            .client
            .execute(
                "const m = performance.getEntriesByName(arguments[0])[0]; \
                 return m ? (performance.timeOrigin + m.startTime) / 1000 : null;",
                vec![serde_json::json!(format!("countersign:{name}"))],
            )
            .await
            .unwrap();
        if let Some(t) = at.as_f64() {
            return t;
        }
        assert!(started.elapsed() < timeout, "no {name} in {timeout:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Seconds since the epoch when the window's page began loading
/// (`performance.timeOrigin`): before it is the app's own start (process,
/// store, WebKitGTK's web process), after it the page's work.
async fn page_origin(app: &AppSession) -> f64 {
    app.client
        .execute("return performance.timeOrigin / 1000;", vec![])
        .await
        .unwrap()
        .as_f64()
        .unwrap()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let db = std::path::Path::new(&args[1]);
    let runs: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(5);
    let (mut usable, mut counted, mut peaks, mut ranked) = (vec![], vec![], vec![], vec![]);
    let mut page = vec![];
    let mut summary = String::new();
    for _ in 0..runs {
        let app = AppSession::start(db).await;
        let pid = app_pid();
        let start = process_start(pid);
        let first = mark(&app, "first-page", Duration::from_secs(120)).await;
        let count = mark(&app, "attention-counted", Duration::from_secs(600)).await;
        summary = app
            .wait_for("[data-testid=inventory-summary]")
            .await
            .text()
            .await
            .unwrap();
        let rows = app
            .client
            .find_all(fantoccini::Locator::Css("[data-testid=identity-row]"))
            .await
            .unwrap()
            .len();
        assert!(rows > 0, "the first page shows identities");
        usable.push(first - start);
        page.push(first - page_origin(&app).await);
        counted.push(count - start);
        // The engine graph, built for the Riskiest view.
        let t0 = SystemTime::now();
        app.click("[data-testid=tab-riskiest]").await;
        app.client
            .wait()
            .at_most(Duration::from_secs(600))
            .for_element(fantoccini::Locator::Css("[data-testid=rank-row]"))
            .await
            .unwrap();
        ranked.push(t0.elapsed().unwrap().as_secs_f64());
        peaks.push(status_mib(pid, "VmHWM:"));
        app.close().await;
    }
    println!(
        "{summary}: usable (first page and counts) median {:.2} s (min {:.2}, max {:.2}) from process start, \
         of which {:.2} s from the page's start; \
         Needs-attention count at {:.2} s; Riskiest ranked in {:.2} s; peak RSS after ranking {:.0} MiB (median of {runs} runs)",
        median(usable.clone()),
        usable.iter().copied().fold(f64::INFINITY, f64::min),
        usable.iter().copied().fold(0.0, f64::max),
        median(page),
        median(counted),
        median(ranked),
        median(peaks),
    );
}
