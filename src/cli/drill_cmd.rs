//! `countersign drill`: check a scenario, or run one against a backend
//! (the reference backend in this process unless told otherwise) and write
//! its report.

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use countersign::model::text::escape;
use std::path::{Path, PathBuf};

use countersign::Store;
use countersign::backend;
use countersign::drill::{self, Event, RunOptions, render};
use countersign::graph::blast_radius::BlastGraph;

#[derive(Debug, Subcommand)]
pub enum DrillCommand {
    /// Check a scenario against the inventory and print its timeline with each inject's blast radius
    Check { scenario: PathBuf },
    /// Run a scenario: issue its requests on schedule, wait for decisions, write the report
    Run {
        scenario: PathBuf,
        /// Drill time runs this many times faster than real time (60: a minute a second)
        #[arg(long, default_value_t = 1.0, value_parser = positive)]
        speed: f64,
        /// Scripted participants and their decisions, for unattended runs
        #[arg(long, value_name = "FILE")]
        participants: Option<PathBuf>,
        /// Drive this backend instead of starting the reference backend here
        #[arg(long, value_name = "URL", conflicts_with_all = ["listen", "token_file", "dual_groups"])]
        backend: Option<String>,
        /// Where the reference backend listens (port 0 picks a free port)
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: String,
        /// Bearer token file for the reference backend, so people can connect their apps
        /// (created, mode 0600, if missing); without it the token stays in this process
        #[arg(long, value_name = "FILE")]
        token_file: Option<PathBuf>,
        /// Dual approval needs one approver from each of these groups
        #[arg(long, value_delimiter = ',', default_values_t = backend::DEFAULT_DUAL_GROUPS.map(String::from))]
        dual_groups: Vec<String>,
        /// Directory for the report (report.md, report.html, report.json) [default: ./<run id>]
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
}

fn positive(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("{text:?} is not a number above zero")),
    }
}

fn read(path: &Path) -> Result<String> {
    countersign::store::guard::read_to_string(path)
        .with_context(|| format!("cannot read {}", path.display()))
}

pub async fn drill(store: &Store, command: DrillCommand) -> Result<()> {
    match command {
        DrillCommand::Check { scenario } => {
            let graph = BlastGraph::from_inventory(store.snapshot().await?);
            let s = drill::parse(&read(&scenario)?, &scenario.display().to_string(), &graph)?;
            println!("{}: {} injects", escape(&s.name), s.injects.len());
            for i in &s.injects {
                let blast = graph.blast(&[(i.identity.as_str(), i.action)])?;
                println!(
                    "  T+{:<6} {:<22} {} on {} ({} services break{})",
                    format!("{:#}", i.at),
                    i.id,
                    i.action.label(),
                    i.identity,
                    blast.summary.services,
                    i.expect
                        .as_ref()
                        .and_then(|e| e.max_services)
                        .map(|m| format!("; expected at most {m}"))
                        .unwrap_or_default()
                );
            }
            Ok(())
        }
        DrillCommand::Run {
            scenario,
            speed,
            participants,
            backend: url,
            listen,
            token_file,
            dual_groups,
            out,
        } => {
            let graph = BlastGraph::from_inventory(store.snapshot().await?);
            let s = drill::parse(&read(&scenario)?, &scenario.display().to_string(), &graph)?;
            let roster = match &participants {
                Some(path) => Some(drill::parse_participants(
                    &read(path)?,
                    &path.display().to_string(),
                    &s,
                )?),
                None => None,
            };
            // The reference backend in this process, unless pointed elsewhere.
            let (client, _running) = match url {
                Some(url) => (super::approvals::connect(&url).await?, None),
                None => {
                    let token = match &token_file {
                        Some(path) => {
                            let existed = path.exists();
                            let token = super::approvals::serve_token(Some(path))?;
                            if !existed {
                                eprintln!("wrote a new bearer token to {}", path.display());
                            }
                            token
                        }
                        None => backend::new_token()?,
                    };
                    let (running, client) =
                        countersign::app::drills::host_backend(store, listen, token, dual_groups)
                            .await?;
                    let url = running.url();
                    eprintln!("reference backend on {url}");
                    if let Some(path) = &token_file {
                        eprintln!(
                            "  people join with: countersign backend login {url} < {}",
                            path.display()
                        );
                    }
                    (client, Some(running))
                }
            };
            let run_id = drill::new_run_id();
            let out = out.unwrap_or_else(|| PathBuf::from(&run_id));
            // Where the report goes is settled before the drill runs, not
            // found unusable once it is over.
            if out.exists() && !out.is_dir() {
                bail!(
                    "--out {} is a file; the report is written as report.json, report.md and report.html into a directory: name a directory (it is created if missing)",
                    out.display()
                );
            }
            std::fs::create_dir_all(&out)
                .with_context(|| format!("cannot create {}", out.display()))?;
            // Ctrl-C ends the drill early and still writes the report.
            let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            let on_interrupt = stop.clone();
            tokio::spawn(async move {
                if tokio::signal::ctrl_c().await.is_ok() {
                    eprintln!("stopping the drill; writing the report for what happened so far");
                    on_interrupt.store(true, std::sync::atomic::Ordering::Relaxed);
                }
            });
            let options = RunOptions {
                run_id,
                speed,
                stop: Some(stop),
            };
            let report =
                drill::run(store, &s, roster.as_ref(), &client, options, print_event).await?;

            let write = |name: &str, text: String| -> Result<PathBuf> {
                let path = out.join(name);
                countersign::store::guard::write(&path, text)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                Ok(path)
            };
            let json = write("report.json", serde_json::to_string_pretty(&report)?)?;
            let md = write("report.md", render::markdown(&report))?;
            let html = write("report.html", render::html(&report))?;
            println!(
                "{}: {}",
                escape(&report.scenario),
                escape(&render::summary(&report).join("; "))
            );
            println!(
                "report: {}, {} and {}",
                md.display(),
                html.display(),
                json.display()
            );
            if !report.all_signatures_verified() {
                let t = &report.totals;
                bail!(
                    "{} of {} decisions do not carry a signature that verifies; see the report",
                    t.decisions - t.signatures_verified,
                    t.decisions
                );
            }
            Ok(())
        }
    }
}

/// The live timeline, on stderr.
fn print_event(event: &Event) {
    let at = |s: f64| render::clock(s);
    match event {
        Event::Started {
            run_id,
            scenario,
            speed,
            injects,
            ..
        } => eprintln!(
            "{run_id}: {scenario}, {} injects at {speed}× speed",
            injects.len()
        ),
        Event::Issued {
            inject,
            request_id,
            at_seconds,
        } => eprintln!("{:<10} issued {inject} ({request_id})", at(*at_seconds)),
        Event::Decided {
            inject,
            approver,
            decision,
            receipt,
            at_seconds,
        } => eprintln!(
            "{:<10} {approver}: {} on {inject} → {}",
            at(*at_seconds),
            decision.replace('_', " "),
            receipt.replace('_', " ")
        ),
        Event::ScriptFailed {
            inject,
            by,
            message,
            at_seconds,
        } => eprintln!(
            "{:<10} {by} could not decide {inject}: {message}",
            at(*at_seconds)
        ),
        Event::Closed {
            inject,
            status,
            approved_action,
            at_seconds,
            ..
        } => eprintln!(
            "{:<10} {inject} {}{}",
            at(*at_seconds),
            status.replace('_', " "),
            approved_action
                .map(|a| format!(": {}", a.label().to_lowercase()))
                .unwrap_or_default()
        ),
    }
}
