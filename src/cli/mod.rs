//! Argument parsing and dispatch. Each subcommand is a thin call into the
//! core followed by formatting; no inventory logic lives here.

mod table;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

use countersign::demo;
use countersign::store::{DB_ENV_VAR, Store};

#[derive(Debug, Parser)]
#[command(
    name = "countersign",
    version,
    about = "Ownership, blast radius and second approval for non-human identities"
)]
pub struct Cli {
    /// Inventory database file [default: countersign.db in the platform's data directory]
    #[arg(long, global = true, env = DB_ENV_VAR, value_name = "PATH")]
    db: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The built-in demo inventory of a made-up payments company
    #[command(subcommand)]
    Demo(DemoCommand),
    /// Non-human identities in the inventory
    #[command(subcommand)]
    Identities(IdentitiesCommand),
    /// Services that use identities and depend on each other
    #[command(subcommand)]
    Services(ServicesCommand),
    /// The database itself
    #[command(subcommand)]
    Db(DbCommand),
}

#[derive(Debug, Subcommand)]
enum DemoCommand {
    /// Load (or refresh) the demo inventory into the database
    Load {
        /// Only load when the database has no identities and no services yet
        #[arg(long)]
        if_empty: bool,
    },
}

#[derive(Debug, Subcommand)]
enum IdentitiesCommand {
    /// List identities, most critical first
    List(ListArgs),
    /// Show one identity and the services that use it
    Show {
        /// The identity's id
        id: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum ServicesCommand {
    /// List services, most critical first
    List(ListArgs),
}

#[derive(Debug, Subcommand)]
enum DbCommand {
    /// Print where the database is, its schema version and what it holds
    Info,
}

#[derive(Debug, Args)]
struct ListArgs {
    /// Only rows whose id, name or owner contains TEXT
    #[arg(long, value_name = "TEXT")]
    search: Option<String>,
    /// Print JSON instead of a table
    #[arg(long)]
    json: bool,
}

async fn open_store(db: Option<PathBuf>) -> Result<Store> {
    Ok(match db {
        Some(path) => Store::open(&path).await?,
        None => Store::open_default().await?,
    })
}

pub async fn run(cli: Cli) -> Result<()> {
    let store = open_store(cli.db).await?;
    let result = dispatch(&store, cli.command).await;
    store.close().await;
    result
}

async fn dispatch(store: &Store, command: Command) -> Result<()> {
    match command {
        Command::Demo(DemoCommand::Load { if_empty }) => match demo::load(store, if_empty).await? {
            None => println!(
                "{} already holds an inventory; demo not loaded",
                store.path().display()
            ),
            Some(s) => println!(
                "loaded demo inventory into {}: {} identities, {} services, {} usages, {} dependencies",
                store.path().display(),
                s.identities,
                s.services,
                s.usages,
                s.dependencies
            ),
        },
        Command::Identities(IdentitiesCommand::List(args)) => {
            let rows = store.list_identities(args.search.as_deref()).await?;
            if args.json {
                print_json(&rows)?;
            } else {
                print!("{}", table::identities(&rows));
            }
        }
        Command::Identities(IdentitiesCommand::Show { id, json }) => {
            let detail = store.identity_detail(&id).await?;
            if json {
                print_json(&detail)?;
            } else {
                print!("{}", table::identity_detail(&detail));
            }
        }
        Command::Services(ServicesCommand::List(args)) => {
            let rows = store.list_services(args.search.as_deref()).await?;
            if args.json {
                print_json(&rows)?;
            } else {
                print!("{}", table::services(&rows));
            }
        }
        Command::Db(DbCommand::Info) => {
            let counts = store.counts().await?;
            println!("database:       {}", store.path().display());
            println!("schema version: {}", store.schema_version().await?);
            println!("identities:     {}", counts.identities);
            println!("services:       {}", counts.services);
            println!("usages:         {}", counts.usages);
            println!("dependencies:   {}", counts.dependencies);
        }
    }
    Ok(())
}

fn print_json<T: serde::Serialize>(value: &T) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Joins an error and its causes on one line, skipping a cause whose text the
/// outer message already contains (thiserror messages often embed their source).
pub fn describe(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if !line.contains(&text) {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(&text);
        }
    }
    line.replace('\n', " ")
}
