//! Explorer scale benchmark (not a test): opens the graph explorer in the
//! real app on a generated inventory and reports the time to first render
//! (from pressing Show to the first frame: IPC, the core's layout, building
//! the graph, WebGL) and frame times while panning and zooming.
//!
//!     explorer_bench DB IDENTITY [RUNS]
//!
//! Run by `bench/explorer` under Xvfb; figures in docs/benchmarks.md.

use countersign_e2e::AppSession;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// The explorer's metrics once its graph's first frame is drawn.
async fn first_render(app: &AppSession) -> serde_json::Value {
    let started = std::time::Instant::now();
    loop {
        let m = app
            .client
            .execute(
                "const m = window.countersignExplorer && window.countersignExplorer.metrics; return m && m.firstRenderMs !== null ? {...m} : null;",
                vec![],
            )
            .await
            .unwrap();
        if !m.is_null() {
            return m;
        }
        assert!(
            started.elapsed().as_secs() < 120,
            "no first render in 2 minutes"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (db, identity) = (&args[1], &args[2]);
    let runs: usize = args.get(3).and_then(|r| r.parse().ok()).unwrap_or(3);
    let app = AppSession::start(std::path::Path::new(db)).await;
    app.client
        .update_timeouts(fantoccini::wd::TimeoutConfiguration::new(
            Some(std::time::Duration::from_secs(600)),
            None,
            None,
        ))
        .await
        .unwrap();
    app.click("[data-testid=tab-explorer]").await;
    let input = app.wait_for("[data-testid=explorer-identity]").await;
    input.send_keys(identity).await.unwrap();
    let mut firsts = Vec::new();
    let mut data = Vec::new();
    let mut completes = Vec::new();
    let mut summaries = Vec::new();
    let mut frames = Vec::new();
    let mut nodes = 0;
    for _ in 0..runs {
        app.click("[data-testid=explorer-go]").await;
        let mut metrics = first_render(&app).await;
        // Above a few thousand nodes the explorer first shows the summary
        // by group; the node-level drawing is one click away, and is what
        // is measured (from the click: the core, IPC, graph, first frame).
        if !app
            .client
            .find_all(fantoccini::Locator::Css("[data-testid=explorer-draw-all]"))
            .await
            .unwrap()
            .is_empty()
        {
            summaries.push(metrics["firstRenderMs"].as_f64().unwrap());
            app.click("[data-testid=explorer-draw-all]").await;
            metrics = first_render(&app).await;
        }
        let clicked = std::time::Instant::now();
        let first_ms = metrics["firstRenderMs"].as_f64().unwrap();
        // Edges and labels are added in the frames after the first.
        app.client
            .wait()
            .at_most(std::time::Duration::from_secs(300))
            .for_element(fantoccini::Locator::Css("[data-complete=true]"))
            .await
            .unwrap();
        completes.push(first_ms + clicked.elapsed().as_secs_f64() * 1e3);
        nodes = metrics["nodes"].as_u64().unwrap();
        firsts.push(first_ms);
        data.push(metrics["dataMs"].as_f64().unwrap());
        let times = app
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1]; window.countersignExplorer.pan(120).then(done);",
                vec![],
            )
            .await
            .unwrap();
        frames.extend(
            times
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_f64().unwrap()),
        );
    }
    firsts.sort_by(f64::total_cmp);
    data.sort_by(f64::total_cmp);
    frames.sort_by(f64::total_cmp);
    completes.sort_by(f64::total_cmp);
    summaries.sort_by(f64::total_cmp);
    if !summaries.is_empty() {
        println!(
            "summary by owning team first drawn: median {:.0} ms over {runs} runs",
            percentile(&summaries, 0.5)
        );
    }
    println!(
        "nodes {nodes}: first render median {:.0} ms (min {:.0}, max {:.0}; of which the core and IPC {:.0} ms), \
         every edge and label by {:.0} ms, over {runs} runs; \
         pan/zoom frame time median {:.1} ms, p95 {:.1} ms, max {:.1} ms over {} frames",
        percentile(&firsts, 0.5),
        firsts[0],
        firsts[firsts.len() - 1],
        percentile(&data, 0.5),
        percentile(&completes, 0.5),
        percentile(&frames, 0.5),
        percentile(&frames, 0.95),
        frames[frames.len() - 1],
        frames.len()
    );
    app.close().await;
}
