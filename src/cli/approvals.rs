//! The second-approver commands: the reference backend, requests from a
//! backend, decisions and their delivery.

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use countersign::app::Workspace;
use countersign::approval::{self, ContainmentRequest, Decision, Narrowing};
use countersign::backend::{self, ServeConfig};
use countersign::client::{self, BackendClient, Listing};
use countersign::signing::OsKeyring;
use countersign::store::{BACKEND_URL_KEY, Store};

use super::args::ActionArg;
use super::{output, print_json, table};

/// Where `--backend` falls back to before the stored setting.
pub(super) const BACKEND_ENV: &str = "COUNTERSIGN_BACKEND";

// Parsed once per run: the size of the largest variant (serve's flags)
// costs nothing worth an indirection.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum BackendCommand {
    /// Run the approval broker (the SOAR side of the protocol): with --state, a persistent service a SOAR waits on (docs/soar.md); without, in memory for drills, demos and tests
    Serve {
        /// Address to listen on (port 0 picks a free port; the address is printed)
        #[arg(
            long,
            default_value = "127.0.0.1:8787",
            env = "COUNTERSIGN_BROKER_LISTEN",
            hide_env_values = true
        )]
        listen: String,
        /// File holding the bearer token clients must present; created (mode 0600) if missing.
        /// Alternatively set COUNTERSIGN_BACKEND_TOKEN to the token itself.
        #[arg(
            long,
            value_name = "FILE",
            env = "COUNTERSIGN_BROKER_TOKEN_FILE",
            hide_env_values = true
        )]
        token_file: Option<PathBuf>,
        /// The audience decisions must carry: the URL approvers reach the broker at
        /// [default: http(s)://<listen address>]
        #[arg(
            long,
            value_name = "URL",
            env = "COUNTERSIGN_BROKER_AUDIENCE",
            hide_env_values = true
        )]
        audience: Option<String>,
        /// Dual approval needs one approver from each of these groups
        #[arg(long, value_delimiter = ',', default_values_t = backend::DEFAULT_DUAL_GROUPS.map(String::from), env = "COUNTERSIGN_BROKER_DUAL_GROUPS", hide_env_values = true)]
        dual_groups: Vec<String>,
        /// Containment requests to serve from the start (a JSON request or an array of them)
        #[arg(long = "requests", value_name = "FILE.json")]
        request_files: Vec<PathBuf>,
        /// Cedar approval policy that judges narrowed approvals [default: the shipped policy]
        #[arg(
            long,
            value_name = "FILE.cedar",
            env = "COUNTERSIGN_BROKER_POLICY",
            hide_env_values = true
        )]
        policy: Option<PathBuf>,
        /// Enroll keys only for people this OpenID provider vouches for (a valid ID token whose
        /// `sub` is the approver, with only the groups it carries). Without it, whoever holds the
        /// bearer token enrolls any name with any groups.
        #[arg(
            long,
            value_name = "URL",
            requires = "oidc_audience",
            env = "COUNTERSIGN_BROKER_OIDC_ISSUER",
            hide_env_values = true
        )]
        oidc_issuer: Option<String>,
        /// The client id the ID tokens are issued to (their `aud`)
        #[arg(
            long,
            value_name = "CLIENT_ID",
            requires = "oidc_issuer",
            env = "COUNTERSIGN_BROKER_OIDC_AUDIENCE",
            hide_env_values = true
        )]
        oidc_audience: Option<String>,
        /// The ID token claim holding the person's groups
        #[arg(
            long,
            value_name = "NAME",
            default_value = "groups",
            env = "COUNTERSIGN_BROKER_GROUPS_CLAIM",
            hide_env_values = true
        )]
        groups_claim: String,
        /// Keep the broker's state (requests, enrollments, receipts, seen jtis) in this SQLite
        /// file or postgres:// database, so a restart or crash loses nothing and accepts no
        /// replay; several brokers may share one PostgreSQL database. Without it, state is in
        /// memory only
        #[arg(
            long,
            value_name = "PATH|URL",
            env = "COUNTERSIGN_BROKER_STATE",
            hide_env_values = true
        )]
        state: Option<String>,
        /// Serve HTTPS with this PEM certificate chain (leaf first); needs --tls-key
        #[arg(
            long,
            value_name = "FILE.pem",
            requires = "tls_key",
            env = "COUNTERSIGN_BROKER_TLS_CERT",
            hide_env_values = true
        )]
        tls_cert: Option<PathBuf>,
        /// The PEM private key of --tls-cert
        #[arg(
            long,
            value_name = "FILE.pem",
            requires = "tls_cert",
            env = "COUNTERSIGN_BROKER_TLS_KEY",
            hide_env_values = true
        )]
        tls_key: Option<PathBuf>,
        /// Log lines on stderr as JSON objects (one per line), or as text for a terminal;
        /// levels with COUNTERSIGN_LOG (e.g. `debug`, `info,tower_http=warn`)
        #[arg(long, value_enum, default_value_t = LogFormat::Auto, env = "COUNTERSIGN_LOG_FORMAT", hide_env_values = true)]
        log_format: LogFormat,
        /// On SIGTERM or Ctrl-C, how long to let requests and callback deliveries in flight
        /// finish, in seconds
        #[arg(long, value_name = "SECONDS", default_value_t = backend::DEFAULT_SHUTDOWN_GRACE.as_secs(), env = "COUNTERSIGN_BROKER_SHUTDOWN_GRACE", hide_env_values = true)]
        shutdown_grace: u64,
    },
    /// Store the bearer token for a backend in the OS keyring (read from stdin) and make it the default backend
    Login { url: String },
    /// Enroll your public keys (JWKS) and approver groups with a backend
    Enroll {
        #[arg(long, env = BACKEND_ENV, hide_env_values = true, value_name = "URL")]
        backend: Option<String>,
    },
}

/// How the broker writes its log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// JSON when stderr is not a terminal (a service), text when it is
    Auto,
    Json,
    Text,
}

#[derive(Debug, Subcommand)]
pub enum RequestsCommand {
    /// Containment requests awaiting a decision, with the tier local policy gives each
    List {
        #[arg(long, env = BACKEND_ENV, hide_env_values = true, value_name = "URL")]
        backend: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Print one request as JSON (to keep, or to pass to `decide --request`)
    Show {
        id: String,
        #[arg(long, env = BACKEND_ENV, hide_env_values = true, value_name = "URL")]
        backend: Option<String>,
    },
    /// What an owner reviews before deciding, as JSON: the request, the
    /// identity, the tier and the rules behind it, the blast radius and
    /// narrower actions, and the `inventory_version` to pass to
    /// `decide --inventory-version` (the same view the app shows)
    View {
        id: String,
        #[arg(long, env = BACKEND_ENV, hide_env_values = true, value_name = "URL")]
        backend: Option<String>,
    },
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("verdict").required(true).args(["approve", "deny", "narrow"])))]
#[command(group(clap::ArgGroup::new("source").required(true).args(["request", "request_id"])))]
pub struct DecideArgs {
    /// The containment request as JSON: as the SOAR posted it, or as the backend answers
    /// `GET /v1/requests/{id}` (its status, decisions and callback are not part of what is signed
    /// or kept)
    #[arg(long, value_name = "REQUEST.json")]
    request: Option<PathBuf>,
    /// Fetch the request by id from the backend (--push, --backend or the default backend)
    #[arg(long, value_name = "ID")]
    request_id: Option<String>,
    #[arg(long)]
    approve: bool,
    #[arg(long)]
    deny: bool,
    /// Approve a narrower action instead of the one requested
    #[arg(long, value_enum, value_name = "ACTION")]
    narrow: Option<ActionArg>,
    /// With --narrow: approve it only for these targets or permissions (repeatable)
    #[arg(long, value_name = "SCOPE", requires = "narrow", conflicts_with_all = ["approve", "deny"])]
    scope: Vec<String>,
    /// With --narrow: approve it only until this time (RFC 3339), or for this long from now (30m, 2h)
    #[arg(long, value_name = "TIME", requires = "narrow", conflicts_with_all = ["approve", "deny"], value_parser = until_arg, allow_hyphen_values = true)]
    until: Option<jiff::Timestamp>,
    /// Why; recorded and signed
    #[arg(long)]
    reason: String,
    /// Deliver the decision to this backend (queued durably first; retried if it is down)
    #[arg(long, value_name = "URL")]
    push: Option<String>,
    /// The backend the decision is for (the JWS `aud`) [default: the --push URL]
    #[arg(long, value_name = "URL")]
    audience: Option<String>,
    /// Where --request-id is fetched from when not pushing
    #[arg(long, env = BACKEND_ENV, hide_env_values = true, value_name = "URL")]
    backend: Option<String>,
    /// Refuse to sign if the inventory is no longer at this version (the
    /// `inventory_version` of the request view you reviewed), so the blast
    /// radius signed is the one you saw
    #[arg(long, value_name = "VERSION")]
    inventory_version: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum DecisionsCommand {
    /// List decisions, newest first, with their delivery state
    List {
        /// Only decisions on this request
        #[arg(long, value_name = "ID")]
        request: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Deliver queued decisions now
    Deliver {
        /// Only those for this backend
        #[arg(long, value_name = "URL")]
        backend: Option<String>,
        /// Keep retrying for up to this many seconds until every decision is delivered
        #[arg(long, value_name = "SECONDS", default_value_t = 0)]
        wait: u64,
    },
}

/// The backend serve command needs no database.
pub async fn serve(command: &BackendCommand) -> Result<bool> {
    let BackendCommand::Serve {
        listen,
        token_file,
        audience,
        dual_groups,
        request_files,
        policy,
        oidc_issuer,
        oidc_audience,
        groups_claim,
        state,
        tls_cert,
        tls_key,
        log_format,
        shutdown_grace,
    } = command
    else {
        return Ok(false);
    };
    init_logs(*log_format);
    // Everything that can be refused is checked before a token file is
    // written.
    if let Some(issuer) = oidc_issuer {
        let parsed = reqwest::Url::parse(issuer.trim_end_matches('/'))
            .with_context(|| format!("--oidc-issuer {issuer:?} is not a URL"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            bail!("--oidc-issuer {issuer:?}: use an https:// URL");
        }
        if let Err(e) = countersign::oidc::discover_provider(issuer.trim_end_matches('/')).await {
            tracing::warn!(
                error = %e,
                "the identity provider does not answer; enrollment answers 502 (nothing enrolled) until it can be reached"
            );
        }
    }
    let token = serve_token(token_file.as_ref())?;
    let config = ServeConfig {
        audience: audience.clone(),
        dual_groups: dual_groups.clone(),
        request_files: request_files.clone(),
        policy: policy
            .as_ref()
            .map(|path| {
                let text = countersign::store::guard::read_to_string(path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                // Checked here, so the error names the file.
                countersign::policy::Policy::parse(&text)
                    .with_context(|| path.display().to_string())?;
                anyhow::Ok(text)
            })
            .transpose()?,
        identity: oidc_issuer
            .as_ref()
            .zip(oidc_audience.as_ref())
            .map(|(issuer, audience)| backend::IdentityProvider {
                issuer: issuer.trim_end_matches('/').to_owned(),
                audience: audience.clone(),
                groups_claim: groups_claim.clone(),
            }),
        state: state.clone(),
        tls: tls_cert
            .as_ref()
            .zip(tls_key.as_ref())
            .map(|(cert, key)| backend::TlsFiles {
                cert: cert.clone(),
                key: key.clone(),
            }),
        shutdown_grace: std::time::Duration::from_secs(*shutdown_grace),
        ..ServeConfig::new(listen.clone(), token)
    };
    let trusted = config.identity.as_ref().map(|p| p.issuer.clone());
    let kept = config.state.as_ref().map(|s| {
        if countersign::store::is_postgres_url(s) {
            countersign::store::redact_url(s)
        } else {
            s.clone()
        }
    });
    backend::serve(
        config,
        move |url, audience| {
            // Scripts wait for this line (and read the port from it).
            println!("listening on {url} (audience {audience})");
            use std::io::Write;
            let _ = std::io::stdout().flush();
            tracing::info!(url, audience, "listening");
            match &trusted {
                Some(issuer) => {
                    tracing::info!(issuer, "enrolling keys only for people the issuer vouches for")
                }
                None => tracing::warn!(
                    "enrolling keys for any name the bearer token's holder gives (no --oidc-issuer)"
                ),
            }
            match &kept {
                Some(target) => tracing::info!(state = %target, "state kept"),
                None => tracing::warn!(
                    "state in memory only: a restart forgets requests, enrollments and seen decisions (give --state PATH to keep them)"
                ),
            }
        },
        stop_signal(),
    )
    .await?;
    Ok(true)
}

/// Resolves at the first SIGTERM (what systemd and container runtimes
/// send to stop a service) or Ctrl-C.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Installs the broker's log output on stderr: JSON lines (timestamp,
/// level, message, fields, and the HTTP span's request id, method and
/// path) for a service's log collector, or text for a person. Levels from
/// `COUNTERSIGN_LOG` (an `EnvFilter` directive), default `info`.
fn init_logs(format: LogFormat) {
    use std::io::IsTerminal as _;
    let filter = tracing_subscriber::EnvFilter::try_from_env("COUNTERSIGN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let json = match format {
        LogFormat::Json => true,
        LogFormat::Text => false,
        LogFormat::Auto => !std::io::stderr().is_terminal(),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init()
    } else {
        builder.try_init()
    };
}

pub(super) fn serve_token(file: Option<&PathBuf>) -> Result<String> {
    if let Ok(token) = std::env::var(client::TOKEN_ENV)
        && !token.is_empty()
    {
        return Ok(token);
    }
    let Some(path) = file else {
        bail!(
            "the backend needs a bearer token: pass --token-file FILE (created if missing) or set {}",
            client::TOKEN_ENV
        );
    };
    match countersign::store::guard::read_to_string(path) {
        Ok(text) if !text.trim().is_empty() => Ok(text.trim().to_owned()),
        Ok(_) => bail!("{} is empty", path.display()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let token = backend::new_token()?;
            write_private(path, &token)
                .with_context(|| format!("cannot write {}", path.display()))?;
            tracing::info!(file = %path.display(), "wrote a new bearer token");
            Ok(token)
        }
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

#[cfg(unix)]
fn write_private(path: &PathBuf, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?
        .write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &PathBuf, text: &str) -> std::io::Result<()> {
    countersign::store::guard::write(path, text)
}

/// `--backend`, else the environment, else the stored default.
pub(super) async fn backend_url(store: &Store, arg: Option<String>) -> Result<String> {
    match arg {
        Some(url) => Ok(client::normalise(&url)),
        None => store.backend_url().await?.context(
            "no backend: pass --backend URL, set COUNTERSIGN_BACKEND, or run `countersign backend login URL`",
        ),
    }
}

pub async fn connect(url: &str) -> Result<BackendClient> {
    Ok(client::connect(url).await?)
}

pub async fn backend(ws: &Workspace, command: BackendCommand) -> Result<()> {
    let (store, ctx) = (ws.store()?, &ws.ctx());
    match command {
        BackendCommand::Serve { .. } => unreachable!("served before opening the store"),
        BackendCommand::Login { url } => {
            let url = client::normalise(&url);
            // Validates the URL before anything is stored.
            BackendClient::new(&url, Default::default())?;
            let mut token = String::new();
            std::io::stdin()
                .read_line(&mut token)
                .context("cannot read the token from stdin")?;
            let token = zeroize::Zeroizing::new(token);
            if token.trim().is_empty() {
                bail!("no token on stdin: pipe the backend's bearer token in");
            }
            let for_keyring = url.clone();
            tokio::task::spawn_blocking(move || {
                client::store_token(&for_keyring, &token, &OsKeyring)
            })
            .await
            .context("keyring thread failed")??;
            store.set_setting(BACKEND_URL_KEY, &url, ctx).await?;
            println!("stored the token for {url} in the OS keyring; it is now the default backend");
        }
        BackendCommand::Enroll { backend } => {
            let url = backend_url(store, backend).await?;
            let sent = ws.enroll(&url).await?;
            if sent == 0 {
                bail!("no signing key to enroll: run `countersign keys init` first");
            }
            let groups = match ws.signed_in() {
                Some((p, _)) => p.groups,
                None => store.approver_groups().await?,
            };
            println!(
                "enrolled {sent} key(s) for {} with {url} ({})",
                ctx.actor,
                if groups.is_empty() {
                    "no groups".to_owned()
                } else {
                    format!("groups: {}", groups.join(", "))
                }
            );
        }
    }
    Ok(())
}

/// One pending request as `requests list` shows it.
#[derive(serde::Serialize)]
pub struct PendingRow {
    #[serde(flatten)]
    pub request: serde_json::Value,
    /// The tier local policy gives it, or why it could not be computed.
    pub local_tier: Result<countersign::policy::TierDecision, String>,
}

pub async fn requests(ws: &Workspace, command: RequestsCommand) -> Result<()> {
    let store = ws.store()?;
    match command {
        RequestsCommand::List { backend, json } => {
            let url = backend_url(store, backend).await?;
            let client = connect(&url).await?;
            let Listing::Changed { requests, .. } = client.pending_requests(None).await? else {
                bail!("{url} answered 304 Not Modified without a cached listing");
            };
            let mut rows = Vec::new();
            for request in requests {
                let local_tier = match serde_json::from_value::<ContainmentRequest>(request.clone())
                {
                    Ok(parsed) => approval::tier_for(store, &parsed)
                        .await
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(format!("not a valid request: {e}")),
                };
                rows.push(PendingRow {
                    request,
                    local_tier,
                });
            }
            output(&rows, json, || table::pending_requests(&rows, &url))?;
        }
        RequestsCommand::Show { id, backend } => {
            let url = backend_url(store, backend).await?;
            let client = connect(&url).await?;
            print_json(&client.proposed_request(&id).await?)?;
        }
        RequestsCommand::View { id, backend } => {
            let url = backend_url(store, backend).await?;
            let client = connect(&url).await?;
            let request = client.proposed_request(&id).await?;
            print_json(&ws.view_of(&request).await?)?;
        }
    }
    Ok(())
}

pub async fn decide(ws: &Workspace, args: DecideArgs) -> Result<()> {
    let store = ws.store()?;
    let push = args.push.as_deref().map(client::normalise);
    let (request, origin) = match (&args.request, &args.request_id) {
        (Some(path), _) => {
            let text = countersign::store::guard::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let value: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("{} is not JSON", path.display()))?;
            (value, path.display().to_string())
        }
        (None, Some(id)) => {
            let url = match &push {
                Some(url) => url.clone(),
                None => backend_url(store, args.backend.clone()).await?,
            };
            let client = connect(&url).await?;
            let (request, status) = client.request_with_status(id).await?;
            // Nothing is signed for a request the backend has settled: it
            // would only come back rejected (already_decided, request_expired).
            if matches!(status.as_str(), "approved" | "denied" | "expired") {
                bail!("request {id} is already {status} at {url}; there is nothing to decide");
            }
            (request, format!("request {id}"))
        }
        (None, None) => unreachable!("clap requires a request"),
    };
    let decision = match (args.approve, args.deny, args.narrow) {
        (true, _, _) => Decision::Approve,
        (_, true, _) => Decision::Deny,
        (_, _, Some(action)) => Decision::ApproveNarrowed(Narrowing {
            action: Some(action.into()),
            scope: args.scope.clone(),
            until: args.until,
        }),
        _ => unreachable!("clap requires one verdict"),
    };
    let audience = match (&args.audience, &push) {
        (Some(aud), _) => client::normalise(aud),
        (None, Some(url)) => url.clone(),
        (None, None) => bail!("say who the decision is for: --push URL or --audience URL"),
    };
    let recorded = ws
        .decide_on(
            &request,
            decision,
            &args.reason,
            (&audience, push.as_deref()),
            args.inventory_version.as_deref(),
        )
        .await
        .with_context(|| origin.clone())?;
    eprintln!(
        "recorded decision {} ({}) on request {}",
        recorded.jti, recorded.decision, recorded.request_id
    );
    println!("{}", recorded.jws);
    if let Some(url) = push {
        // The decision is durable; a failure here only delays it.
        match connect(&url).await {
            Ok(client) => {
                let report = client::deliver_due(store, &client).await?;
                let row = store.decisions(Some(&recorded.request_id)).await?;
                let mine = row.iter().find(|d| d.jti == recorded.jti);
                match mine.and_then(|d| d.receipt.as_deref()) {
                    Some("rejected") => {
                        let reason = mine
                            .and_then(|d| d.receipt_reason.as_deref())
                            .unwrap_or("no reason given");
                        bail!(
                            "delivered to {url}: rejected ({reason}){}",
                            client::explain_rejection(reason)
                                .map(|e| format!(": {e}"))
                                .unwrap_or_default()
                        );
                    }
                    Some(receipt) => eprintln!("delivered to {url}: {receipt}"),
                    None => eprintln!(
                        "queued for {url}; {}; `countersign decisions deliver` retries",
                        report.last_error.as_deref().unwrap_or("not delivered yet")
                    ),
                }
            }
            Err(e) => eprintln!(
                "queued for {url}; cannot connect yet: {}",
                super::describe(&e)
            ),
        }
    }
    Ok(())
}

pub async fn decisions(store: &Store, command: DecisionsCommand) -> Result<()> {
    match command {
        DecisionsCommand::List { request, json } => {
            let rows = store.decisions(request.as_deref()).await?;
            output(&rows, json, || table::decisions(&rows))?;
        }
        DecisionsCommand::Deliver { backend, wait } => {
            let destinations = match backend {
                Some(url) => vec![client::normalise(&url)],
                None => store.outbox_destinations().await?,
            };
            store.retry_deliveries_now().await?;
            let deadline = Instant::now() + Duration::from_secs(wait);
            let mut total = client::DeliveryReport::default();
            loop {
                let mut last_error = None;
                for url in &destinations {
                    match connect(url).await {
                        Ok(client) => {
                            let r = client::deliver_due(store, &client).await?;
                            total.delivered += r.delivered;
                            total.rejected += r.rejected;
                            total.failed += r.failed;
                            last_error = r.last_error.or(last_error);
                        }
                        Err(e) => last_error = Some(super::describe(&e)),
                    }
                }
                let queued = store.undelivered(None).await?;
                if queued == 0 || Instant::now() >= deadline {
                    eprintln!(
                        "delivered {}, rejected by the backend {}, {queued} still queued",
                        total.delivered, total.rejected
                    );
                    if queued > 0 {
                        bail!(
                            "{queued} decision(s) still queued: {}",
                            last_error.unwrap_or_else(|| "not due yet".into())
                        );
                    }
                    return Ok(());
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
                store.retry_deliveries_now().await?;
            }
        }
    }
    Ok(())
}

/// `settings approver-groups [GROUPS…]`: shows the setting, or sets it
/// (and enrolls the groups with the connected backend) through the same
/// action the app's settings use.
pub async fn approver_groups(ws: &Workspace, groups: Option<Vec<String>>) -> Result<()> {
    let store = ws.store()?;
    if let Some(groups) = groups {
        let saved = ws.set_approver_groups(&groups).await?;
        if let Some(url) = saved.enrolled_at {
            eprintln!("enrolled the groups with {url}");
        }
        if let Some(problem) = saved.enroll_problem {
            eprintln!(
                "warning: saved here, but the backend was not told ({problem}); run `countersign backend enroll` when it answers"
            );
        }
    }
    let groups = store.approver_groups().await?;
    if groups.is_empty() {
        println!("approver groups: none");
    } else {
        println!("approver groups: {}", groups.join(", "));
    }
    Ok(())
}

/// `--until`: an RFC 3339 time, or a duration from now (`30m`, `2h`,
/// `1h30m`, jiff's friendly format).
fn until_arg(text: &str) -> Result<jiff::Timestamp, String> {
    if let Ok(at) = text.parse::<jiff::Timestamp>() {
        return Ok(at);
    }
    let neither = || {
        format!(
            "{text:?} is neither an RFC 3339 time (2026-11-30T18:00:00Z) nor a duration (30m, 2h, 1d)"
        )
    };
    // Days count as 24 hours here: a limit on an approval, not a calendar.
    let span: jiff::SignedDuration = text
        .parse::<jiff::Span>()
        .map_err(|_| neither())?
        .to_duration(jiff::SpanRelativeTo::days_are_24_hours())
        .map_err(|_| neither())?;
    if span.is_negative() || span.is_zero() {
        return Err(format!("{text:?} is not a time in the future"));
    }
    Ok(jiff::Timestamp::now() + span)
}

#[cfg(test)]
mod tests {
    use super::until_arg;

    #[test]
    fn until_takes_a_time_or_a_duration_from_now() {
        let at = until_arg("2030-01-01T00:00:00Z").unwrap();
        assert_eq!(at.to_string(), "2030-01-01T00:00:00Z");
        let before = jiff::Timestamp::now();
        let later = until_arg("2h").unwrap();
        let d = later.duration_since(before).as_secs();
        assert!((7199..=7201).contains(&d), "{d}");
        assert!(until_arg("1h30m").is_ok());
        let day = until_arg("1d").unwrap().duration_since(before).as_secs();
        assert!((86399..=86401).contains(&day), "{day}");
        assert!(until_arg("yesterday").unwrap_err().contains("neither"));
        assert!(until_arg("-2h").is_err());
    }
}
