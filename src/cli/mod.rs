//! Argument parsing and dispatch. Each subcommand is a thin call into the
//! core followed by formatting; no inventory logic lives here.

mod approvals;
mod args;
pub(crate) mod desktop_command;
use args::{ActionArg, ExportFormatArg, FormatArg, ThreatArg};
mod drill_cmd;
mod graph_cmd;
mod identity;
mod progress;
mod shell;
mod table;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use countersign::model::text::escape;
use std::io::Write;
use std::path::PathBuf;

use approvals::{BackendCommand, DecideArgs, DecisionsCommand, RequestsCommand};
use countersign::app::Workspace;
use countersign::approval;
use countersign::checkpoint;
use countersign::demo;
use countersign::export::{self, ExportFormat};
use countersign::graph::blast_radius::BlastGraph;
use countersign::import::{self, Apply};
use countersign::inventory::Entity;
use countersign::model::ContainmentAction;
use countersign::signing::{KeyStatus, Keys, OsKeyring, SigningError};
use countersign::store::{DB_ENV_VAR, ROTATION_DAYS_KEY, STALE_DAYS_KEY, Store, UNUSED_DAYS_KEY};
use drill_cmd::DrillCommand;
use std::sync::Arc;

#[derive(Debug, Parser)]
#[command(
    name = "countersign",
    version = countersign::VERSION,
    about = "Ownership, blast radius and second approval for non-human identities"
)]
pub struct Cli {
    /// Inventory database: a SQLite file, or a postgres:// URL for team mode
    /// [default: countersign.db in the platform's data directory]
    #[arg(long, global = true, env = DB_ENV_VAR, hide_env_values = true, value_name = "PATH|URL")]
    db: Option<String>,

    /// Who the audit trail records for changes [default: the OS user]
    #[arg(
        long,
        global = true,
        env = "COUNTERSIGN_ACTOR",
        hide_env_values = true,
        value_name = "NAME"
    )]
    actor: Option<String>,

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
    /// Teams and people who own identities and services
    #[command(subcommand)]
    Owners(OwnersCommand),
    /// Import an inventory: Countersign YAML/JSON, CSV, Backstage catalog, Kubernetes manifests,
    /// or AWS IAM, Entra ID and Google Cloud as their CLIs print them
    Import(ImportArgs),
    /// Export the inventory
    Export(ExportArgs),
    /// What containing an identity breaks: services, tiers and the path to each
    Blast(BlastArgs),
    /// Compare every action on one identity and recommend the narrowest that contains the threat
    Alternatives {
        /// Identity id or external id
        identity: String,
        /// What happened
        #[arg(long, value_enum, default_value_t = ThreatArg::Compromised)]
        threat: ThreatArg,
        #[arg(long)]
        json: bool,
    },
    /// Rank every identity by the blast radius of disabling it
    Rank(RankArgs),
    /// Generate deterministic enterprise-shaped graphs for benchmarks
    #[command(subcommand, hide = true)]
    Generate(GenerateCommand),
    /// Containment requests awaiting a decision at the backend
    #[command(subcommand)]
    Requests(RequestsCommand),
    /// Approve, deny or narrow a containment request; prints the signed decision (compact JWS)
    Decide(DecideArgs),
    /// Sign in with your organisation's OpenID Connect provider, in the browser (or --device)
    Login(identity::LoginArgs),
    /// Who you approve as: the signed-in person, the team database's role, or the local single-user mode
    Whoami {
        /// Print it as JSON (who acts, the person, whether the keys are bound)
        #[arg(long)]
        json: bool,
    },
    /// Sign out: remove the session's tokens from the OS keyring
    Logout,
    /// Decisions you signed, with their delivery state
    #[command(subcommand)]
    Decisions(DecisionsCommand),
    /// The approval policy (Cedar) that decides each request's tier
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Your Ed25519 signing keys (private halves in the OS keyring only)
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Tabletop drills: rehearse containment approvals
    #[command(subcommand)]
    Drill(DrillCommand),
    /// The orchestration backend: log in, enroll your keys, or run the reference backend
    #[command(subcommand)]
    Backend(BackendCommand),
    /// The audit trail of every change
    #[command(subcommand)]
    Audit(AuditCommand),
    /// What needs an owner's attention: missing owners, stale reviews, undocumented consumers…
    Attention {
        #[arg(long)]
        json: bool,
    },
    /// The controls (OWASP NHI Top 10, NIST CSF 2.0, CIS Controls) each check, policy rule and drill
    /// report section serves
    Controls {
        /// Print it as JSON
        #[arg(long, conflicts_with = "markdown")]
        json: bool,
        /// List every control Countersign knows, also those nothing serves yet (the keys a
        /// policy rule's @controls may name)
        #[arg(long)]
        all: bool,
        /// Print the mapping as a Markdown document (docs/controls.md)
        #[arg(long)]
        markdown: bool,
    },
    /// Review campaigns: owners attest, with their signing key, that each identity's record is right
    #[command(subcommand)]
    Campaign(CampaignCommand),
    /// The organisation's directory of people: owners it no longer lists have left, and what they
    /// owned is handed to its backup owner or team
    #[command(subcommand)]
    Directory(DirectoryCommand),
    /// Observed usage: what tracing saw services call and use (Zipkin or Jaeger dependency links,
    /// OpenTelemetry servicegraph metrics)
    #[command(subcommand)]
    Observed(ObservedCommand),
    /// Settings stored in the database
    #[command(subcommand)]
    Settings(SettingsCommand),
    /// The database itself
    #[command(subcommand)]
    Db(DbCommand),
    /// Print the shell completion script (packages install bash's, zsh's and fish's)
    ///
    /// For example: `countersign completions bash > ~/.local/share/bash-completion/completions/countersign`
    Completions {
        /// The shell to complete for
        #[arg(value_enum)]
        shell: shell::Shell,
    },
    /// Print the man page, or write one page per command into a directory
    Man {
        /// Write every page the package installs here (countersign.1, countersign-import.1, …, and the desktop app's countersign-desktop.1) instead of printing countersign.1
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Copy an inventory, with its audit trail, into an empty database (for example up to the team's PostgreSQL)
    Migrate {
        /// The database to copy [default: --db, or the default database]
        #[arg(long, value_name = "PATH|URL")]
        from: Option<String>,
        /// The empty database to copy into (a postgres:// URL, or a SQLite file)
        #[arg(long, value_name = "URL|PATH")]
        to: String,
    },
}

#[derive(Debug, Subcommand)]
enum DemoCommand {
    /// Load (or refresh) the demo inventory into the database
    Load {
        /// Only load when the database holds no inventory yet
        #[arg(long)]
        if_empty: bool,
    },
}

#[derive(Debug, Subcommand)]
enum IdentitiesCommand {
    /// List identities, most critical first
    List(ListArgs),
    /// Confirm an identity's record as its owner: records today's review, and takes in an
    /// identity handed to you when its owner left
    Review {
        /// The identity's id, or an external id it holds
        id: String,
    },
    /// Show one identity in full
    Show {
        /// The identity's id, or an external id it holds (an ARN, an Entra object id)
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
enum OwnersCommand {
    /// List owners
    List {
        #[arg(long)]
        json: bool,
    },
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

#[derive(Debug, Args)]
struct ImportArgs {
    /// A file, or a directory whose .yaml/.yml/.json/.csv files are all imported
    path: PathBuf,
    #[arg(long, value_enum, default_value_t = FormatArg::Auto)]
    format: FormatArg,
    /// Show what would change and write nothing
    #[arg(long)]
    dry_run: bool,
    /// Print the change set as JSON
    #[arg(long)]
    json: bool,
    /// Namespace for Kubernetes objects that name none, as `kubectl apply -n`
    #[arg(long, short = 'n', value_name = "NAMESPACE")]
    namespace: Option<String>,
    /// Refuse the import if any document was skipped or any reference left unresolved
    #[arg(long)]
    strict: bool,
    /// Move Backstage Resources and APIs stored under their bare name (imported before
    /// service ids named the kind) to their new ids, with their usages and dependencies
    #[arg(long)]
    carry_over_ids: bool,
}

#[derive(Debug, Args)]
struct ExportArgs {
    #[arg(long, value_enum)]
    format: ExportFormatArg,
    /// Write here instead of standard output (a directory for CSV)
    #[arg(long, value_name = "PATH")]
    out: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct BlastArgs {
    /// Identity id or external id (not with --edges)
    #[arg(required_unless_present = "edges", conflicts_with = "edges")]
    identity: Option<String>,
    /// Containment action; repeat to combine several [default: disable-account]
    #[arg(long = "action", value_enum)]
    actions: Vec<ActionArg>,
    #[arg(long)]
    json: bool,
    /// Instead of the store: a CSV edge list with header `source,target`
    #[arg(long, value_name = "FILE.csv", requires = "sources")]
    edges: Option<PathBuf>,
    /// With --edges: node names, one per line; prints `name,reached` for each
    #[arg(long, value_name = "FILE.txt")]
    sources: Option<PathBuf>,
    /// Also write a drill handout (HTML: what breaks, who to call, how to undo it)
    #[arg(long, value_name = "FILE.html", conflicts_with = "edges")]
    handout: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct RankArgs {
    #[arg(long, default_value_t = 20)]
    top: usize,
    #[arg(long)]
    json: bool,
    /// Instead of the store: a CSV edge list; prints `name,reached` for the top nodes
    #[arg(long, value_name = "FILE.csv")]
    edges: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum GraphShape {
    Layered,
    Heavy,
}

#[derive(Debug, Subcommand)]
enum GenerateCommand {
    /// Write edges.csv and sources.txt for a graph of about NODES nodes
    Graph {
        #[arg(long)]
        nodes: usize,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// The graph's shape: `layered` (dependency layers; a typical source
        /// reaches hundreds of nodes) or `heavy` (a long dependency order; a
        /// typical source reaches tens of thousands)
        #[arg(long, value_enum, default_value_t = GraphShape::Layered)]
        shape: GraphShape,
        /// Sources to sample into sources.txt
        #[arg(long, default_value_t = 1000)]
        sources: usize,
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Write an inventory (native JSON) of about SERVICES services in the same shape
    Inventory {
        #[arg(long)]
        services: usize,
        /// Keep only widely shared identities (scale tests of blast radii)
        #[arg(long, conflicts_with = "all_identities")]
        lean: bool,
        /// Keep every identity of the graph, ten per service (scale tests
        /// of the store: 100,000 services give a million identities)
        #[arg(long)]
        all_identities: bool,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// One native JSON file, or a directory (an existing one, or a path
        /// ending in `/`) to write it into as parts that `import DIR` reads
        /// as one inventory: owners and services first, then identities
        /// 100,000 a time (one file may be at most 64 MB)
        #[arg(long, value_name = "FILE.json|DIR/")]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum PolicyCommand {
    /// Print the policy in force and its version
    Show,
    /// Replace the policy with a Cedar file (checked first; the change is audited)
    Set { file: PathBuf },
    /// Which tier a containment request gets, and the rules that decided it
    Check {
        #[arg(long, value_name = "REQUEST.json")]
        request: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum CampaignCommand {
    /// Start a campaign over the identities in scope now (all of them without a filter)
    Start {
        /// Its id, as later commands name it
        #[arg(long)]
        id: String,
        /// What it is called [default: the id]
        #[arg(long)]
        name: Option<String>,
        /// The day attestations are due (YYYY-MM-DD): today or later
        #[arg(long, value_name = "DATE")]
        due: jiff::civil::Date,
        /// Accept a due date already past: to record a campaign that ran
        /// elsewhere on its own schedule (its items are overdue at once)
        #[arg(long)]
        past_due: bool,
        /// Only identities this owner owns or backs up
        #[arg(long)]
        owner: Option<String>,
        /// Only identities of this tier (0-3)
        #[arg(long)]
        tier: Option<u8>,
        /// Only identities of this kind (service_account, api_key, ...)
        #[arg(long)]
        kind: Option<String>,
        /// Only identities in this environment (production, staging, ...)
        #[arg(long)]
        environment: Option<String>,
    },
    /// Campaigns, newest first
    List {
        #[arg(long)]
        json: bool,
    },
    /// Where a campaign stands: attested, pending, overdue, progress per reviewer
    Status {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Attest an identity of a campaign as its reviewer: signed with your key from the OS keyring
    Attest {
        id: String,
        /// The identity's id or an external id
        identity: String,
        /// Everything is right: still needed, owner and backup, consumers, containment plans
        #[arg(long, conflicts_with_all = ["not_needed", "owners_wrong", "consumers_incomplete", "containment_wrong"])]
        confirm: bool,
        /// It is no longer needed
        #[arg(long)]
        not_needed: bool,
        /// Its owner or backup owner is wrong
        #[arg(long)]
        owners_wrong: bool,
        /// Its consumers are incomplete
        #[arg(long)]
        consumers_incomplete: bool,
        /// Its containment plans are wrong
        #[arg(long)]
        containment_wrong: bool,
        /// What to fix, or why
        #[arg(long, default_value = "")]
        comment: String,
    },
    /// Close a campaign: its pending items are no longer due (out of every queue and of
    /// Needs attention); what was attested stays
    Close {
        /// The campaign's id
        id: String,
        /// Why (kept in the audit trail)
        #[arg(long)]
        reason: String,
    },
    /// Write the campaign with every signed attestation, the records they sign and the JWKS,
    /// for an auditor to verify offline
    Export {
        id: String,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum DirectoryCommand {
    /// Read the directory (Backstage User and Group entities, or an owners.csv of people): mark
    /// the owners it no longer lists as left, and hand their identities on (audited; nothing is
    /// deleted)
    Import {
        /// A file, or a folder of .yaml/.yml/.json/.csv files
        path: PathBuf,
        #[arg(long, value_enum, default_value_t = FormatArg::Auto)]
        format: FormatArg,
        /// Show what would change and write nothing
        #[arg(long)]
        dry_run: bool,
        /// Apply it even when more than half of the people would be marked as left (a
        /// partial directory is the likelier cause)
        #[arg(long)]
        accept_departures: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum ObservedCommand {
    /// Record observed edges from Zipkin/Jaeger dependency links (JSON) or servicegraph metrics
    /// (Prometheus text); changes no identity or service
    Import {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Which export the files are (auto: JSON is dependency links, text is metrics)
        #[arg(long, value_enum, default_value_t = ObservedFormatArg::Auto)]
        format: ObservedFormatArg,
        /// The end of the window dependency links were computed over: Zipkin's and Jaeger's
        /// endTs (milliseconds since 1970), an RFC 3339 time, or a date (its midnight, UTC)
        /// [default: each file's modification time]
        #[arg(long, value_name = "TIME")]
        window_end: Option<String>,
        /// How far back the window reaches: their lookback (milliseconds), or 24h, 90m, 7d
        #[arg(long, value_name = "DURATION", default_value = "24h")]
        lookback: String,
        /// Show what would be recorded, and record nothing
        #[arg(long)]
        dry_run: bool,
        /// Refuse the import when a name resolves to nothing in the inventory
        #[arg(long)]
        strict: bool,
        #[arg(long)]
        json: bool,
    },
    /// Every observed edge, with its evidence (documented, observed or both) and age
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ObservedFormatArg {
    Auto,
    /// Zipkin's /api/v2/dependencies, or Jaeger's /api/dependencies
    Zipkin,
    /// The OpenTelemetry Collector servicegraph connector's metrics, Prometheus text format
    Servicegraph,
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Create your first signing key
    Init,
    /// Create a new key; the old one stays verifiable until retired
    Rotate,
    /// Stop accepting signatures by a previous key and delete its private half
    Retire { kid: String },
    /// List keys and their status
    List {
        #[arg(long)]
        json: bool,
    },
    /// Print the public keys for backends: the active key's JWK, or with --jwks every accepted key
    Export {
        #[arg(long)]
        jwks: bool,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Recompute the hash chain and compare every entity with its last audited state; fails naming the first altered, removed or reordered row or unaudited change
    Verify {
        /// Also prove the trail still extends this signed checkpoint (from `audit checkpoint`)
        #[arg(long, value_name = "FILE")]
        checkpoint: Option<PathBuf>,
        /// The signer's public keys (a JWKS file, e.g. from the backend) [default: this installation's keys]
        #[arg(long, value_name = "FILE", requires = "checkpoint")]
        jwks: Option<PathBuf>,
    },
    /// Sign the trail's current head with your key (JWS), to keep outside the database
    Checkpoint {
        /// Write the checkpoint here instead of standard output
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Also hand it to the backend, which keeps your latest checkpoint
        #[arg(long)]
        push: bool,
        /// The backend to push to [default: the one you logged in to]
        #[arg(long, env = approvals::BACKEND_ENV, hide_env_values = true, value_name = "URL", requires = "push")]
        backend: Option<String>,
    },
    /// Show changes, newest first
    Log {
        /// Only changes to this identity
        #[arg(long, value_name = "ID", conflicts_with = "service")]
        identity: Option<String>,
        /// Only changes to this service
        #[arg(long, value_name = "ID")]
        service: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// Write the whole trail as JSON Lines, oldest first
    Export {
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum SettingsCommand {
    /// Days after which an owner's review counts as stale (default 90)
    ReviewStaleDays {
        /// Set it to this many days; print it when omitted
        days: Option<u32>,
    },
    /// Age in days at which an active credential is due for rotation
    /// (default 90, CIS AWS Foundations 1.14)
    CredentialRotationDays {
        /// Set it to this many days; print it when omitted
        days: Option<u32>,
    },
    /// Days unused after which an active credential should be disabled
    /// (default 45, CIS AWS Foundations 1.12)
    CredentialUnusedDays {
        /// Set it to this many days; print it when omitted
        days: Option<u32>,
    },
    /// Days a documented use or dependency that tracing covers may go unseen before it is flagged
    /// (default 30)
    ObservedStaleDays {
        /// Set it to this many days; print it when omitted
        days: Option<u32>,
    },
    /// The approver groups you belong to (for example identity-governance), carried in your decisions
    ApproverGroups {
        /// Comma-separated groups to set; print them when omitted
        #[arg(value_delimiter = ',')]
        groups: Option<Vec<String>>,
    },
}

#[derive(Debug, Subcommand)]
enum DbCommand {
    /// Print where the database is, its schema version and what it holds
    Info,
    /// Write a consistent copy of the SQLite database, even while the app has it open (never copy the file itself)
    Backup {
        /// The backup file to write
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
        /// Replace FILE if it exists
        #[arg(long)]
        force: bool,
        /// Print the result as JSON
        #[arg(long)]
        json: bool,
    },
    /// Open this PostgreSQL database by default from now on (team mode), in the CLI and the app
    Use {
        /// A postgres:// URL; a password in it goes to the OS keyring, not the settings file
        #[arg(value_name = "URL", required_unless_present = "local")]
        url: Option<String>,
        /// Read the password from stdin (kept in the OS keyring)
        #[arg(long, requires = "url")]
        password_stdin: bool,
        /// Go back to the local SQLite database
        #[arg(long, conflicts_with = "url")]
        local: bool,
    },
    /// Team mode: which database roles may change what which owners own
    /// (the database enforces it; run as its administrator). Give each
    /// person a login role in countersign_owner, or in
    /// countersign_governance to change everything (docs/team-mode.md)
    #[command(subcommand)]
    Team(TeamCommand),
}

#[derive(Subcommand, Debug)]
enum TeamCommand {
    /// List role → owner mappings
    List {
        /// Print them as JSON
        #[arg(long)]
        json: bool,
    },
    /// Let ROLE change the identities and services OWNER owns (a team, or a person and their team)
    Add {
        role: String,
        #[arg(value_name = "OWNER")]
        owner: String,
    },
    /// Take that right away again
    Remove {
        role: String,
        #[arg(value_name = "OWNER")]
        owner: String,
    },
}

/// `--db`/`COUNTERSIGN_DB`, else the database `db use` chose, else the
/// local default.
/// A copy's source must already be there: opening a SQLite path creates
/// the file, and a mistyped `--from` would then be "copied" as an empty
/// inventory, with success. (`None`: the settings file's database, else the
/// local default.)
fn source_exists(from: Option<&str>) -> Result<()> {
    let path = match from {
        Some(t) if countersign::store::is_postgres_url(t) => return Ok(()),
        Some(t) => PathBuf::from(t.strip_prefix("sqlite:").unwrap_or(t)),
        None => match countersign::store::config::read_config()?.database {
            Some(_) => return Ok(()),
            None => countersign::store::default_db_path()?,
        },
    };
    if !path.exists() {
        bail!(
            "{}: no such database; nothing to copy (name the SQLite file or postgres:// URL to copy with --from)",
            path.display()
        );
    }
    Ok(())
}

async fn open_store(db: Option<String>) -> Result<Store> {
    let (store, _) = countersign::store::config::open_configured(db, Arc::new(OsKeyring)).await?;
    Ok(store)
}

pub async fn run(cli: Cli) -> Result<()> {
    // Commands on plain files need no database.
    match &cli.command {
        Command::Blast(BlastArgs {
            edges: Some(edges),
            sources: Some(sources),
            ..
        }) => {
            return graph_cmd::blast_edges(edges, sources);
        }
        Command::Rank(RankArgs {
            edges: Some(edges),
            top,
            ..
        }) => return graph_cmd::rank_edges(edges, *top),
        Command::Generate(GenerateCommand::Graph {
            nodes,
            seed,
            shape,
            sources,
            out,
        }) => {
            let g = match shape {
                GraphShape::Layered => countersign::graph::generate::enterprise(*nodes, *seed),
                GraphShape::Heavy => countersign::graph::generate::heavy_reach(*nodes, *seed),
            };
            return graph_cmd::generate(g, *sources, out);
        }
        Command::Generate(GenerateCommand::Inventory {
            services,
            lean,
            all_identities,
            seed,
            out,
        }) => {
            use countersign::graph::generate::{Keep, enterprise_inventory};
            let keep = match (*lean, *all_identities) {
                (true, _) => Keep::LEAN,
                (_, true) => Keep::ALL,
                _ => Keep::TYPICAL,
            };
            let inv = enterprise_inventory(*services, *seed, keep);
            let parts = write_generated(&inv, out)?;
            eprintln!(
                "wrote {} services, {} identities, {} owners to {}{}",
                inv.services.len(),
                inv.identities.len(),
                inv.owners.len(),
                out.display(),
                if parts > 1 {
                    format!(" in {parts} parts (import the directory)")
                } else {
                    String::new()
                }
            );
            return Ok(());
        }
        Command::Completions { shell } => {
            return shell::completions(*shell, &mut std::io::stdout().lock());
        }
        Command::Man { dir } => {
            let n = shell::man(dir.as_deref(), &mut std::io::stdout().lock())?;
            if let Some(dir) = dir {
                eprintln!("wrote {n} man pages to {}", dir.display());
            }
            return Ok(());
        }
        Command::Backend(cmd) if approvals::serve(cmd).await? => return Ok(()),
        Command::Db(DbCommand::Use {
            url,
            password_stdin,
            local,
        }) => return use_database(url.as_deref(), *password_stdin, *local).await,
        Command::Migrate { from, to } => {
            let from = from.clone().or(cli.db.clone());
            source_exists(from.as_deref())?;
            let source = open_store(from).await?;
            let target = Store::connect(to).await?;
            let result = migrate(&source, &target).await;
            source.close().await;
            target.close().await;
            return result;
        }
        _ => {}
    }
    let store = open_store(cli.db).await?;
    // Deciding and enrolling are done as the signed-in person, when there
    // is one (their `sub` and the groups their ID token carries).
    let identified = matches!(
        cli.command,
        Command::Decide(_) | Command::Backend(BackendCommand::Enroll { .. })
    );
    let actor_given = cli.actor.is_some();
    let ctx = match cli.actor {
        Some(actor) => countersign::store::ChangeContext::new(actor, "cli"),
        None => countersign::store::ChangeContext::local_user("cli"),
    };
    let ws = Workspace::on(store, None, Arc::new(OsKeyring), ctx);
    let result = match identity::take_up(&ws, actor_given, identified).await {
        Ok(()) => dispatch(&ws, cli.command).await,
        Err(e) => Err(e),
    };
    ws.close().await;
    result
}

async fn dispatch(ws: &Workspace, command: Command) -> Result<()> {
    let (store, ctx) = (ws.store()?, &ws.ctx());
    match command {
        Command::Demo(DemoCommand::Load { if_empty }) => {
            match demo::load(store, if_empty, &ctx.actor).await? {
                None => println!(
                    "{} already holds an inventory; demo not loaded",
                    store.location()
                ),
                Some(applied) => {
                    let c = store.counts().await?;
                    println!(
                        "loaded demo inventory into {}: {} identities, {} services, {} owners ({} changes audited)",
                        store.location(),
                        c.identities,
                        c.services,
                        c.owners,
                        applied.changes
                    );
                }
            }
        }
        Command::Identities(IdentitiesCommand::List(args)) => {
            let rows = store
                .list_identities(args.search.as_deref(), None, None)
                .await?
                .rows;
            output(&rows, args.json, || table::identities(&rows))?;
        }
        Command::Identities(IdentitiesCommand::Review { id }) => {
            let id = store.identity_detail_by_reference(&id).await?.identity.id;
            store.attest_review(&id, None, ctx).await?;
            println!("{id}: reviewed by {} today", ctx.actor);
        }
        Command::Identities(IdentitiesCommand::Show { id, json }) => {
            let detail = store.identity_detail_by_reference(&id).await?;
            output(&detail, json, || table::identity_detail(&detail))?;
        }
        Command::Services(ServicesCommand::List(args)) => {
            let rows = store
                .list_services(args.search.as_deref(), None, None)
                .await?
                .rows;
            output(&rows, args.json, || table::services(&rows))?;
        }
        Command::Owners(OwnersCommand::List { json }) => {
            let rows = store.owners().await?;
            output(&rows, json, || table::owners(&rows))?;
        }
        Command::Import(args) => {
            let bar = progress::Bar::new();
            let apply = if args.dry_run {
                Apply::Nothing
            } else {
                Apply::Plan
            };
            let options = import::Options {
                format: args.format.into(),
                namespace: args.namespace.clone(),
                strict: args.strict,
                carry_over_ids: args.carry_over_ids,
            };
            let result = import::import(store, &args.path, &options, apply, &ctx.actor, &bar).await;
            bar.finish();
            let report = match result {
                Ok(report) => report,
                Err(e) => {
                    // A script reading --json learns why, one problem each.
                    if args.json {
                        print_json(&serde_json::json!({
                            "refused": true,
                            "strict": matches!(e, import::ImportError::Strict(_)),
                            "problems": e.problems(),
                        }))?;
                    }
                    return Err(e.into());
                }
            };
            if args.json {
                print_json(&report)?;
            } else {
                print!("{}", escape(&table::import_report(&report, args.dry_run)));
            }
        }
        Command::Export(args) => export_to(store, args).await?,
        Command::Blast(args) => {
            let graph = BlastGraph::from_inventory(store.snapshot().await?);
            let identity = args
                .identity
                .context("name an identity, or pass --edges and --sources")?;
            let mut actions: Vec<ContainmentAction> =
                args.actions.into_iter().map(Into::into).collect();
            if actions.is_empty() {
                actions.push(ContainmentAction::DisableAccount);
            }
            let targets: Vec<(&str, ContainmentAction)> =
                actions.iter().map(|a| (identity.as_str(), *a)).collect();
            let result = graph.blast(&targets)?;
            if let Some(path) = &args.handout {
                let today = jiff::ZonedDateTime::now().date().to_string();
                let html = export::handout_from_store(store, &result, &today).await?;
                countersign::store::guard::write(path, html)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                eprintln!("wrote the drill handout to {}", path.display());
            }
            let observed =
                countersign::graph::observed::evidence_for(store, &graph, &result).await?;
            if args.json {
                // The blast radius, and beside it what tracing adds.
                let mut value = serde_json::to_value(&result)?;
                value["observed"] = serde_json::to_value(&observed)?;
                print_json(&value)?;
            } else {
                let mut text = table::blast(&result);
                text.push_str(&table::observed_evidence(&observed));
                output(&(), false, || text)?;
            }
        }
        Command::Alternatives {
            identity,
            threat,
            json,
        } => {
            let graph = BlastGraph::from_inventory(store.snapshot().await?);
            let alt = graph.alternatives(&identity, threat.into())?;
            output(&alt, json, || table::alternatives(&alt))?;
        }
        Command::Rank(args) => {
            let graph = BlastGraph::from_inventory(store.snapshot().await?);
            let mut ranked = graph.rank();
            ranked.truncate(args.top);
            output(&ranked, args.json, || table::rank(&ranked))?;
        }
        Command::Generate(_) => unreachable!("handled before opening the store"),
        Command::Decide(args) => approvals::decide(ws, args).await?,
        Command::Login(args) => identity::login(ws, args).await?,
        Command::Whoami { json } => identity::whoami(ws, json).await?,
        Command::Logout => identity::logout(ws).await?,
        Command::Decisions(cmd) => approvals::decisions(store, cmd).await?,
        Command::Requests(cmd) => approvals::requests(ws, cmd).await?,
        Command::Backend(cmd) => approvals::backend(ws, cmd).await?,
        Command::Migrate { .. } => unreachable!("run before opening the store"),
        Command::Completions { .. } | Command::Man { .. } => {
            unreachable!("written before opening the store")
        }
        Command::Controls {
            json,
            all,
            markdown,
        } => {
            let (policy, _) = store.approval_policy().await?;
            let mut uses = countersign::app::controls::mapping(&policy);
            if all {
                uses = countersign::controls::CATALOGUE
                    .iter()
                    .map(|c| {
                        uses.iter().find(|u| u.control == *c).cloned().unwrap_or(
                            countersign::controls::ControlUse {
                                control: *c,
                                attention: Vec::new(),
                                policy: Vec::new(),
                                drill: Vec::new(),
                            },
                        )
                    })
                    .collect();
            }
            if markdown {
                print!("{}", countersign::controls::mapping_markdown(&uses));
            } else {
                output(&uses, json, || table::controls(&uses))?;
            }
        }
        Command::Policy(PolicyCommand::Show) => {
            let (policy, text) = store.approval_policy().await?;
            println!("// version {}\n{text}", policy.version());
        }
        Command::Policy(PolicyCommand::Set { file }) => {
            let text = countersign::store::guard::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let policy = store
                .set_approval_policy(&text, ctx)
                .await
                .with_context(|| file.display().to_string())?;
            println!("approval policy {} is now in force", policy.version());
        }
        Command::Policy(PolicyCommand::Check { request, json }) => {
            let text = countersign::store::guard::read_to_string(&request)
                .with_context(|| format!("cannot read {}", request.display()))?;
            let parsed: approval::ContainmentRequest = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a containment request", request.display()))?;
            let tier = approval::tier_for(store, &parsed).await?;
            output(&tier, json, || {
                format!(
                    "{}: {} (permitted by {}{}{}; policy {}){}\n",
                    parsed.id,
                    tier.tier.as_str(),
                    tier.permitted_by.join(", "),
                    // The lightest tier the rules permit is chosen; when
                    // none was forbidden, that is all there is to say.
                    if tier.lighter_tiers_forbidden_by.is_empty() {
                        String::new()
                    } else {
                        format!(
                            "; lighter tiers ruled out by {}",
                            tier.lighter_tiers_forbidden_by.join(", ")
                        )
                    },
                    if tier.approver_groups.is_empty() {
                        String::new()
                    } else {
                        format!(
                            "; one approver from each of {}",
                            tier.approver_groups.join(", ")
                        )
                    },
                    tier.policy_version,
                    if tier.controls.is_empty() {
                        String::new()
                    } else {
                        format!(
                            "\ncontrols: {}",
                            tier.controls
                                .iter()
                                .map(|c| c.key)
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    }
                )
            })?;
        }
        Command::Keys(cmd) => {
            let keys = Keys::new(store, Arc::new(OsKeyring));
            match cmd {
                KeysCommand::Init => {
                    let k = keys.init(ctx).await?;
                    println!(
                        "created signing key {} (private key in the OS keyring)",
                        k.kid
                    );
                    if ws.signed_in().is_some() {
                        println!(
                            "you are signed in: sign in again (`countersign login`) so the session is asked for this key, then `countersign backend enroll`"
                        );
                    }
                }
                KeysCommand::Rotate => {
                    let k = keys.rotate(ctx).await?;
                    println!(
                        "new active signing key {}; the previous one stays verifiable until retired",
                        k.kid
                    );
                    println!(
                        "{}",
                        if ws.signed_in().is_some() {
                            "backends do not know it yet: sign in again (`countersign login`, the session is asked for your keys), then `countersign backend enroll`"
                        } else {
                            "backends do not know it yet: run `countersign backend enroll`"
                        }
                    );
                }
                KeysCommand::Retire { kid } => {
                    if !keys.retire(&kid, ctx).await? {
                        bail!("{kid} is not a previous key (only replaced keys can be retired)");
                    }
                    println!("retired {kid}");
                }
                KeysCommand::List { json } => {
                    let list = keys.list().await?;
                    output(&list, json, || table::keys(&list))?;
                }
                KeysCommand::Export { jwks } => {
                    let value = if jwks {
                        keys.jwks().await?
                    } else {
                        keys.list()
                            .await?
                            .into_iter()
                            .find(|k| k.status == KeyStatus::Active)
                            .map(|k| k.public_jwk)
                            .ok_or(SigningError::NoActiveKey)?
                    };
                    print_json(&value)?;
                }
            }
        }
        Command::Audit(AuditCommand::Verify { checkpoint, jwks }) => {
            let verified = store.verify_audit().await?;
            // The checkpoint is checked whatever the trail's own check
            // found: both problems are reported.
            let mut extends = None;
            if let Some(path) = checkpoint {
                let read = |p: &PathBuf| {
                    countersign::store::guard::read_to_string(p)
                        .with_context(|| format!("cannot read {}", p.display()))
                };
                let jws = read(&path)?;
                let jwks: serde_json::Value = match &jwks {
                    Some(p) => serde_json::from_str(&read(p)?)
                        .with_context(|| format!("{} is not a JWKS", p.display()))?,
                    None => checkpoint::local_jwks(&Keys::new(store, Arc::new(OsKeyring))).await?,
                };
                extends = Some(match checkpoint::verify(store, &jws, &jwks).await {
                    Ok(c) => Ok(format!(
                        "extends the checkpoint at row {} signed by {} ({}) at {}",
                        c.claims.seq,
                        escape(&c.claims.iss),
                        c.kid,
                        jiff::Timestamp::from_second(c.claims.iat)
                            .map(|t| t.to_string())
                            .unwrap_or_default()
                    )),
                    Err(e) => Err(format!(
                        "audit trail of {} does not extend {}: {e}",
                        store.location(),
                        path.display()
                    )),
                });
            }
            match (verified, extends) {
                (Ok(v), extends @ (None | Some(Ok(_)))) => {
                    println!(
                        "audit trail intact: {} rows{}",
                        v.rows,
                        v.head.map(|h| format!(", head {h}")).unwrap_or_default()
                    );
                    if let Some(Ok(line)) = extends {
                        println!("{line}");
                    }
                }
                (Ok(_), Some(Err(e))) => bail!("{e}"),
                (Err(broken), Some(Err(e))) => bail!(
                    "audit trail of {} is broken: {broken}\n{e}",
                    store.location()
                ),
                (Err(broken), _) => {
                    bail!("audit trail of {} is broken: {broken}", store.location())
                }
            }
        }
        Command::Audit(AuditCommand::Checkpoint { out, push, backend }) => {
            let keys = Keys::new(store, Arc::new(OsKeyring));
            let (claims, jws) = checkpoint::create(store, &keys, &ctx.actor).await?;
            if push {
                let url = approvals::backend_url(store, backend).await?;
                approvals::connect(&url)
                    .await?
                    .push_checkpoint(&ctx.actor, &jws)
                    .await?;
                eprintln!(
                    "{url} keeps it as {}'s latest checkpoint",
                    escape(&ctx.actor)
                );
            }
            match out {
                Some(path) => countersign::store::guard::write(&path, format!("{jws}\n"))
                    .with_context(|| format!("cannot write {}", path.display()))?,
                None => println!("{jws}"),
            }
            eprintln!(
                "signed the audit head, row {} ({}), as {}",
                claims.seq,
                &claims.hash[..16],
                escape(&claims.iss)
            );
        }
        Command::Audit(AuditCommand::Log {
            identity,
            service,
            limit,
            json,
        }) => {
            let filter = match (&identity, &service) {
                (Some(id), _) => Some((Entity::Identity.as_str(), id.as_str())),
                (_, Some(id)) => Some((Entity::Service.as_str(), id.as_str())),
                _ => None,
            };
            let rows = store.audit_log(filter, limit).await?;
            output(&rows, json, || table::audit(&rows))?;
        }
        Command::Audit(AuditCommand::Export { out }) => {
            let n = match out {
                Some(path) => {
                    let mut file = std::io::BufWriter::new(
                        countersign::store::guard::create(&path)
                            .with_context(|| format!("cannot create {}", path.display()))?,
                    );
                    let n = store.export_audit(&mut file).await?;
                    file.flush()
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    n
                }
                None => store.export_audit(&mut std::io::stdout().lock()).await?,
            };
            eprintln!("exported {n} audit entries");
        }
        Command::Attention { json } => {
            let findings = store.attention().await?;
            output(&findings, json, || table::attention(&findings))?;
        }
        Command::Settings(SettingsCommand::ReviewStaleDays { days }) => {
            set_days(store, STALE_DAYS_KEY, "review-stale-days", days, ctx).await?;
            println!(
                "reviews are stale after {} days",
                store.review_stale_days().await?
            );
        }
        Command::Settings(SettingsCommand::CredentialRotationDays { days }) => {
            set_days(
                store,
                ROTATION_DAYS_KEY,
                "credential-rotation-days",
                days,
                ctx,
            )
            .await?;
            println!(
                "active credentials are due for rotation after {} days",
                store.attention_thresholds().await?.credential_rotation_days
            );
        }
        Command::Settings(SettingsCommand::CredentialUnusedDays { days }) => {
            set_days(store, UNUSED_DAYS_KEY, "credential-unused-days", days, ctx).await?;
            println!(
                "active credentials unused for {} days should be disabled",
                store.attention_thresholds().await?.credential_unused_days
            );
        }
        Command::Settings(SettingsCommand::ObservedStaleDays { days }) => {
            set_days(
                store,
                countersign::store::OBSERVED_STALE_DAYS_KEY,
                "observed-stale-days",
                days,
                ctx,
            )
            .await?;
            println!(
                "documented edges tracing has not seen for {} days are flagged",
                store.observed_stale_days().await?
            );
        }
        Command::Observed(cmd) => observed(store, cmd, ctx).await?,
        Command::Campaign(cmd) => campaign(store, cmd, ctx).await?,
        Command::Directory(DirectoryCommand::Import {
            path,
            format,
            dry_run,
            accept_departures,
            json,
        }) => {
            if !matches!(
                format,
                FormatArg::Auto | FormatArg::Backstage | FormatArg::Csv
            ) {
                bail!(
                    "a directory is Backstage User and Group entities or an owners.csv of people: --format auto, backstage or csv"
                );
            }
            let ctx = &countersign::store::ChangeContext {
                source: format!("directory:{}", path.display()),
                ..ctx.clone()
            };
            let current = store.snapshot().await?;
            let plan = import::directory::plan(
                &path,
                &import::Options::new(format.into()),
                &current,
                jiff::ZonedDateTime::now().date(),
            )?;
            let refused = plan.is_mass_departure() && !accept_departures && !dry_run;
            let applied = if dry_run || refused || plan.changes.is_empty() {
                None
            } else {
                Some(store.apply(&plan.changes, ctx).await?)
            };
            if json {
                print_json(
                    &serde_json::json!({ "plan": plan, "applied": applied.map(|a| a.changes) }),
                )?;
            } else {
                print!(
                    "{}",
                    escape(&table::directory(&plan, applied.map(|a| a.changes)))
                );
            }
            if refused {
                bail!(
                    "{} of the {} people still here would be marked as left: more likely a partial directory than a wave of departures; nothing was written (check it with --dry-run, then pass --accept-departures)",
                    plan.departed.len(),
                    plan.known_people
                );
            }
        }
        Command::Settings(SettingsCommand::ApproverGroups { groups }) => {
            approvals::approver_groups(ws, groups).await?;
            if let Some((person, _)) = ws.signed_in() {
                eprintln!(
                    "note: you are signed in as {:?}: your decisions carry the groups your identity provider vouches for ({}), not this setting, which applies when nobody is signed in",
                    person.sub,
                    if person.groups.is_empty() {
                        "none".to_owned()
                    } else {
                        person.groups.join(", ")
                    }
                );
            }
        }
        Command::Drill(command) => drill_cmd::drill(store, command).await?,
        Command::Db(DbCommand::Use { .. }) => unreachable!("run before opening the store"),
        Command::Db(DbCommand::Backup { to, force, json }) => {
            let report = store.backup_to(&to, force).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!(
                    "backed up {} to {} ({} bytes): {} identities, {} services, {} owners, {} decisions; audit trail of {} entries verified",
                    store.location(),
                    report.path,
                    report.bytes,
                    report.counts.identities,
                    report.counts.services,
                    report.counts.owners,
                    report.decisions,
                    report.audit_rows
                );
            }
        }
        Command::Db(DbCommand::Team(cmd)) => match cmd {
            TeamCommand::List { json } => {
                let members = store.team_members().await?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&members)?);
                } else if store.engine() != countersign::store::Engine::Postgres {
                    println!(
                        "this is a local database (one user); team members are a team-mode (PostgreSQL) setting"
                    );
                } else if members.is_empty() {
                    println!(
                        "no team members: only identity governance (countersign_governance) and the administrator can change the inventory"
                    );
                } else {
                    for m in members {
                        println!("{}\t{}", m.role, m.owner_id);
                    }
                }
            }
            TeamCommand::Add { role, owner } => {
                let added = store.add_team_member(&role, &owner, ctx).await?;
                println!(
                    "{role} {} change what {owner} owns",
                    if added { "may now" } else { "could already" }
                );
            }
            TeamCommand::Remove { role, owner } => {
                let removed = store.remove_team_member(&role, &owner, ctx).await?;
                if removed {
                    println!("{role} may no longer change what {owner} owns");
                } else {
                    println!("{role} was not mapped to {owner}: nothing changed");
                }
            }
        },
        Command::Db(DbCommand::Info) => {
            let counts = store.counts().await?;
            println!("database:       {}", store.location());
            println!("engine:         {}", store.engine());
            println!("schema version: {}", store.schema_version().await?);
            if let Some(locks) = store.lock_checks_on() {
                println!(
                    "commit guard:   {} (docs/sqlite-locks.md)",
                    if locks {
                        "on: SQLite's locks and the WAL are checked before each commit"
                    } else {
                        "lock checks unavailable here; only the file's path is checked"
                    }
                );
            }
            println!("owners:         {}", counts.owners);
            println!("identities:     {}", counts.identities);
            println!("services:       {}", counts.services);
            println!("usages:         {}", counts.usages);
            println!("dependencies:   {}", counts.dependencies);
        }
    }
    Ok(())
}

/// Sets a setting counted in days when `days` is given (a whole number of
/// at least one; `name` is the CLI's name for it, for the refusal).
async fn set_days(
    store: &Store,
    key: &str,
    name: &str,
    days: Option<u32>,
    ctx: &countersign::store::ChangeContext,
) -> Result<()> {
    if let Some(days) = days {
        if days == 0 {
            bail!("{name} must be at least 1");
        }
        store.set_setting(key, &days.to_string(), ctx).await?;
    }
    Ok(())
}

async fn use_database(url: Option<&str>, password_stdin: bool, local: bool) -> Result<()> {
    use countersign::store::config;
    let url = if local { None } else { url };
    let password = if password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .context("cannot read the password from stdin")?;
        Some(zeroize::Zeroizing::new(
            line.trim_end_matches(['\r', '\n']).to_owned(),
        ))
    } else {
        None
    };
    let chosen = config::choose_database(url, password, Arc::new(OsKeyring)).await?;
    match chosen.database {
        Some((server, version)) => println!(
            "the CLI and the app now open {server} by default (connected: schema version {version}; settings: {})",
            chosen.settings_file.display()
        ),
        None => println!(
            "the CLI and the app now open the local database by default (settings: {})",
            chosen.settings_file.display()
        ),
    }
    Ok(())
}

async fn migrate(source: &Store, target: &Store) -> Result<()> {
    eprintln!("copying {} into {}", source.location(), target.location());
    let report = source
        .copy_into(target, |table, rows| eprintln!("  {table:<22} {rows} rows"))
        .await?;
    println!(
        "copied {} rows in {} tables; on {}: row counts match and the audit trail verifies ({} rows, head {})",
        report.tables.iter().map(|t| t.rows).sum::<u64>(),
        report.tables.len(),
        target.location(),
        report.audit_rows,
        report.audit_head.as_deref().unwrap_or("empty")
    );
    Ok(())
}

/// `countersign campaign …`.
async fn campaign(
    store: &Store,
    cmd: CampaignCommand,
    ctx: &countersign::store::ChangeContext,
) -> Result<()> {
    use countersign::campaign::{self, Answers};
    let today = jiff::ZonedDateTime::now().date();
    match cmd {
        CampaignCommand::Start {
            id,
            name,
            due,
            past_due,
            owner,
            tier,
            kind,
            environment,
        } => {
            let scope = countersign::store::CampaignScope {
                owner,
                tier,
                kind,
                environment,
            };
            let started = campaign::start(
                store,
                (&id, name.as_deref().unwrap_or(&id)),
                scope,
                (due, (!past_due).then_some(today)),
                ctx,
            )
            .await?;
            println!(
                "started campaign {}: {} identit{} to attest by {}",
                started.campaign.id,
                started.items,
                if started.items == 1 { "y" } else { "ies" },
                started.campaign.due_on
            );
            if !started.unowned.is_empty() {
                println!(
                    "left out, with no owner or backup owner to review them ({}): {}",
                    started.unowned.len(),
                    started.unowned.join(", ")
                );
            }
        }
        CampaignCommand::List { json } => {
            let all = store.campaigns().await?;
            output(&all, json, || table::campaigns(&all))?;
        }
        CampaignCommand::Status { id, json } => {
            let s = campaign::status(store, &id, today).await?;
            output(&s, json, || table::campaign_status(&s))?;
        }
        CampaignCommand::Attest {
            id,
            identity,
            confirm,
            not_needed,
            owners_wrong,
            consumers_incomplete,
            containment_wrong,
            comment,
        } => {
            if !(confirm || not_needed || owners_wrong || consumers_incomplete || containment_wrong)
            {
                bail!(
                    "say what you attest: --confirm (everything is right), or --not-needed, --owners-wrong, --consumers-incomplete, --containment-wrong"
                );
            }
            let identity = store
                .identity_detail_by_reference(&identity)
                .await?
                .identity
                .id;
            let answers = Answers {
                still_needed: !not_needed,
                owners_right: !owners_wrong,
                consumers_complete: !consumers_incomplete,
                containment_right: !containment_wrong,
            };
            let keys = Keys::new(store, Arc::new(OsKeyring));
            let item = campaign::attest(
                store,
                &keys,
                (&id, &identity),
                (answers, &comment),
                None,
                ctx,
            )
            .await?;
            println!(
                "{identity}: {} by {} (signed attestation recorded)",
                item.verdict.as_deref().unwrap_or("attested"),
                ctx.actor
            );
        }
        CampaignCommand::Close { id, reason } => {
            let closed = campaign::close(store, &id, &reason, ctx).await?;
            println!("closed campaign {id} ({}): {}", closed.by, closed.reason);
        }
        CampaignCommand::Export { id, out } => {
            let keys = Keys::new(store, Arc::new(OsKeyring));
            let export = campaign::export(store, &keys, &id, today).await?;
            let text = serde_json::to_string_pretty(&export)? + "\n";
            countersign::store::guard::write(&out, text)
                .with_context(|| format!("cannot write {}", out.display()))?;
            eprintln!("wrote campaign {id} to {}", out.display());
        }
    }
    Ok(())
}

/// `countersign observed …`.
async fn observed(
    store: &Store,
    cmd: ObservedCommand,
    ctx: &countersign::store::ChangeContext,
) -> Result<()> {
    use countersign::import::observed::{Format, Window, read_files};
    match cmd {
        ObservedCommand::Import {
            files,
            format,
            window_end,
            lookback,
            dry_run,
            strict,
            json,
        } => {
            let lookback: jiff::SignedDuration = if lookback.bytes().all(|b| b.is_ascii_digit()) {
                lookback
                    .parse::<i64>()
                    .ok()
                    .map(jiff::SignedDuration::from_millis)
            } else {
                lookback
                    .parse::<jiff::Span>()
                    .ok()
                    .and_then(|s| s.to_duration(jiff::SpanRelativeTo::days_are_24_hours()).ok())
            }
            .filter(|d| d.is_positive())
            .with_context(|| {
                format!(
                    "--lookback {lookback:?} is not a duration: milliseconds (Zipkin's lookback), or 24h, 90m, 7d"
                )
            })?;
            let window_end: Option<jiff::Timestamp> = match window_end {
                None => None,
                Some(t) if t.bytes().all(|b| b.is_ascii_digit()) => {
                    let ms = t
                        .parse::<i64>()
                        .ok()
                        .filter(|ms| *ms >= 100_000_000_000)
                        .with_context(|| {
                            format!(
                                "--window-end {t}: Zipkin's endTs is in milliseconds since 1970 (13 digits today); this looks like seconds"
                            )
                        })?;
                    Some(
                        jiff::Timestamp::from_millisecond(ms)
                            .ok()
                            .with_context(|| format!("--window-end {t}: not a time in milliseconds"))?,
                    )
                }
                Some(t) => Some(
                    t.parse::<jiff::Timestamp>()
                        .or_else(|_| {
                            t.parse::<jiff::civil::Date>()
                                .and_then(|d| d.to_zoned_datetime(jiff::tz::TimeZone::UTC))
                                .map(|z| z.timestamp())
                        })
                        .with_context(|| {
                            format!(
                                "--window-end {t:?} is not milliseconds since 1970, an RFC 3339 time (2026-11-30T00:00:00Z) or a date"
                            )
                        })?,
                ),
            };
            if let Some(end) = window_end
                && end > jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24)
            {
                bail!(
                    "--window-end {end} is in the future: an edge dated there would never grow stale"
                );
            }
            let inventory = store.snapshot().await?;
            let paths: Vec<&std::path::Path> = files.iter().map(PathBuf::as_path).collect();
            let format = match format {
                ObservedFormatArg::Auto => Format::Auto,
                ObservedFormatArg::Zipkin => Format::Zipkin,
                ObservedFormatArg::Servicegraph => Format::Servicegraph,
            };
            let read = read_files(
                &paths,
                format,
                Window {
                    end: window_end,
                    lookback,
                },
                &inventory,
            )?;
            let refused = strict && !read.findings.unresolved.is_empty();
            let origin = files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(", ");
            let recorded = if refused {
                None
            } else if dry_run {
                Some(
                    store
                        .preview_observations(&read.observations, &origin, ctx)
                        .await?,
                )
            } else {
                Some(
                    store
                        .record_observations(&read.observations, &origin, ctx)
                        .await?,
                )
            };
            if json {
                print_json(&serde_json::json!({
                    "observations": read.observations,
                    "findings": read.findings,
                    "recorded": recorded,
                }))?;
            } else {
                print!(
                    "{}",
                    escape(&table::observed_import(&read, recorded.as_ref(), dry_run))
                );
            }
            if refused {
                anyhow::bail!(
                    "--strict: {} name(s) resolve to nothing in the inventory; nothing was recorded",
                    read.findings.unresolved.len()
                );
            }
        }
        ObservedCommand::List { json } => {
            let observations = store.observations().await?;
            let graph = BlastGraph::from_inventory(store.snapshot().await?);
            let rows =
                countersign::graph::observed::listed(observations, &graph, jiff::Timestamp::now());
            output(&rows, json, || table::observations(&rows))?;
        }
    }
    Ok(())
}

async fn export_to(store: &Store, args: ExportArgs) -> Result<()> {
    let inventory = store.snapshot().await?;
    if ExportFormat::from(args.format) == ExportFormat::Csv {
        let dir = args
            .out
            .context("CSV export writes several files: pass --out DIRECTORY")?;
        for file in export::write_csv_dir(&inventory, &dir)? {
            eprintln!("wrote {file}");
        }
        return Ok(());
    }
    let text = export::render(&inventory, args.format.into())?;
    match args.out {
        Some(path) => countersign::store::guard::write(&path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => print!("{text}"),
    }
    Ok(())
}

fn output<T: serde::Serialize>(value: &T, json: bool, text: impl FnOnce() -> String) -> Result<()> {
    if json {
        print_json(value)
    } else {
        // Names come from other tools' files: shown as text, never as
        // terminal commands (model::text).
        print!("{}", escape(&text()));
        Ok(())
    }
}

fn print_json<T: serde::Serialize>(value: &T) -> Result<()> {
    // The same JSON, with direction overrides and the like as \u escapes.
    let json = serde_json::to_string_pretty(value)?;
    println!("{}", countersign::model::text::escape_json(&json));
    Ok(())
}

/// Joins an error and its causes on one line, skipping a cause whose text the
/// outer message already contains (thiserror messages often embed their source).
/// An error that lists several problems (an import refused for each of
/// them) keeps one problem per line; see [`describe_lines`].
pub fn describe(error: &anyhow::Error) -> String {
    describe_lines(error).replace('\n', " ")
}

/// [`describe`], keeping the line breaks of a list of problems.
pub fn describe_lines(error: &anyhow::Error) -> String {
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
    line
}

/// Identities per part of a generated inventory written as a directory:
/// about 17 MB of native JSON, well under the 64 MB one file may be.
const IDENTITIES_PER_PART: usize = 100_000;

/// Writes a generated inventory to `out`: one file, or parts in a directory
/// (`out` an existing directory or ending in `/`) that `import DIR` reads
/// as one inventory. A single file larger than an import accepts is
/// refused with the way to write it in parts. Returns the files written.
fn write_generated(
    inv: &countersign::inventory::Inventory,
    out: &std::path::Path,
) -> Result<usize> {
    use countersign::import::input::MAX_DOCUMENT_BYTES;
    use countersign::inventory::{Inventory, file::to_json};
    let write = |path: &std::path::Path, part: &Inventory| -> Result<()> {
        countersign::store::guard::write(path, to_json(part)?)
            .with_context(|| format!("cannot write {}", path.display()))
    };
    let as_dir = out.is_dir() || out.as_os_str().to_string_lossy().ends_with('/');
    if !as_dir {
        let json = to_json(inv)?;
        if json.len() as u64 > MAX_DOCUMENT_BYTES {
            bail!(
                "{} would be {} MB, larger than the {} MB one imported file may be: \
                 give a directory (--out {}/) to write it in parts that `import` reads as one inventory",
                out.display(),
                json.len().div_ceil(1024 * 1024),
                MAX_DOCUMENT_BYTES / (1024 * 1024),
                out.with_extension("").display()
            );
        }
        countersign::store::guard::write(out, json)
            .with_context(|| format!("cannot write {}", out.display()))?;
        return Ok(1);
    }
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    write(
        &out.join("part-0000.json"),
        &Inventory {
            owners: inv.owners.clone(),
            services: inv.services.clone(),
            identities: Vec::new(),
        },
    )?;
    let mut files = 1;
    for (n, chunk) in inv.identities.chunks(IDENTITIES_PER_PART).enumerate() {
        write(
            &out.join(format!("part-{:04}.json", n + 1)),
            &Inventory {
                identities: chunk.to_vec(),
                ..Inventory::default()
            },
        )?;
        files += 1;
    }
    Ok(files)
}
