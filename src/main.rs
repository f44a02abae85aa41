//! `countersign`: the command line over the same core the desktop app uses.

mod cli;

use std::process::ExitCode;

/// The allocator the shipped binaries use (see Cargo.toml).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    restore_sigpipe();
    let args = <cli::Cli as clap::Parser>::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line, outermost context first, so scripts and people both
            // see which file and which step failed; a list of problems (an
            // import refused for each) one per line after it.
            let text = cli::describe_lines(&e);
            let lines: Vec<_> = text.lines().map(countersign::model::text::escape).collect();
            eprintln!("error: {}", lines.join("\n"));
            ExitCode::FAILURE
        }
    }
}

/// Rust ignores SIGPIPE, which turns `countersign … | head` into a panic on
/// the next print; a command-line tool should end quietly instead, as
/// other Unix tools do when their reader goes away.
#[cfg(unix)]
fn restore_sigpipe() {
    // SAFETY: called first thing in main, before any thread is started;
    // SIG_DFL is a valid disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(not(unix))]
fn restore_sigpipe() {}
