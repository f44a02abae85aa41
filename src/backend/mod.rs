//! The reference backend: the SOAR side of the protocol
//! (assets/openapi/countersign-backend.yaml), small enough to read as the
//! specification of what a backend must check, and real enough for drills,
//! demos and tests. `countersign backend serve` runs it.

pub mod callbacks;
pub mod journal;
mod routes;
mod state;
mod verify;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

pub use routes::{MAX_BODY_BYTES, MAX_ENROLLED_KEYS, MAX_GROUP_BYTES, MAX_GROUPS, router};
pub use state::{
    BackendState, DecisionReceipt, Outcome, ReceiptStatus, RequestStatus, StateError, Submitted,
};
pub use verify::{
    LEEWAY_SECONDS, Rejection, VerifiedDecision, parse_jwk, peek_claims, verify_decision,
};

/// The groups a dual approval must span unless told otherwise: one owner
/// who answers for the identity, one responder who answers for the incident.
pub const DEFAULT_DUAL_GROUPS: [&str; 2] = ["identity-governance", "incident-response"];

#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    BadRequests { path: PathBuf, message: String },
    #[error(transparent)]
    Policy(#[from] crate::policy::PolicyError),
    #[error("no randomness for a token: {0}")]
    NoRandomness(String),
    #[error("server failed: {0}")]
    Serve(std::io::Error),
    #[error(transparent)]
    Journal(#[from] journal::JournalError),
    #[error(
        "not started: on {addr} (every interface) the broker cannot tell the URL approvers reach it at: give --audience (COUNTERSIGN_BROKER_AUDIENCE), e.g. https://countersign-broker.example.com"
    )]
    NoAudience { addr: SocketAddr },
    #[error("--audience {given:?}: {reason}")]
    BadAudience { given: String, reason: &'static str },
    #[error("TLS certificate {cert} with key {key}: {message}")]
    Tls {
        cert: PathBuf,
        key: PathBuf,
        message: String,
    },
}

/// A fresh bearer token: 256 random bits, base64url.
pub fn new_token() -> Result<String, BackendError> {
    use base64::Engine as _;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| BackendError::NoRandomness(e.to_string()))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// The shared state handlers lock.
#[derive(Clone)]
pub struct Shared {
    pub state: Arc<Mutex<BackendState>>,
    /// Where changes are made durable (`--state`), and how to build the
    /// state afresh when a commit failed; `None` keeps it in memory only.
    pub journal: Option<Durable>,
    /// Woken after every change, for long-polls (`?wait=`) and callbacks.
    pub changed: Arc<tokio::sync::Notify>,
    /// The broker's own key: signs outcome callbacks; its JWKS is served
    /// at `/.well-known/jwks.json`.
    pub key: Arc<crate::signing::SigningKeyPair>,
    /// The bearer token clients must present.
    pub token: Arc<str>,
    /// When set, an enrollment is accepted only for the person a valid ID
    /// token from this provider names (issue 17).
    pub identity: Option<Arc<IdentityProvider>>,
    /// Cancelled when the broker begins to stop: `/readyz` answers `503`,
    /// long-polls answer at once, and no new callback delivery starts.
    pub stopping: CancellationToken,
}

/// A journal and the state it rebuilds from.
#[derive(Clone)]
pub struct Durable {
    pub journal: Arc<Mutex<journal::Journal>>,
    /// A fresh, empty state configured as the broker was started.
    pub fresh: Arc<dyn Fn() -> BackendState + Send + Sync>,
    /// The journal's database, for `/readyz`.
    pub pool: sqlx::AnyPool,
}

impl Shared {
    /// The state to read, caught up with what other brokers sharing the
    /// journal wrote (a failure to catch up serves what is known).
    pub async fn read(&self) -> tokio::sync::MutexGuard<'_, BackendState> {
        let mut state = self.state.lock().await;
        if let Some(durable) = &self.journal
            && let Err(e) = durable.journal.lock().await.catch_up(&mut state).await
        {
            tracing::warn!(error = %e, "could not catch up with the shared journal; serving what is known");
        }
        state
    }

    /// Makes one change: `change` returns its answer and the event to
    /// journal (none when nothing changed). With a journal, the event is
    /// committed before this returns; if that fails the state is rebuilt
    /// from the journal and the error returned, so nothing unrecorded is
    /// ever answered or kept.
    pub async fn change<T>(
        &self,
        change: impl FnOnce(&mut BackendState) -> (T, Option<journal::Event>),
    ) -> Result<T, journal::JournalError> {
        let mut state = self.state.lock().await;
        let Some(durable) = &self.journal else {
            let answer = change(&mut state).0;
            self.changed.notify_waiters();
            return Ok(answer);
        };
        let mut journal = durable.journal.lock().await;
        match journal.record(&mut state, change).await {
            Ok(answer) => {
                self.changed.notify_waiters();
                Ok(answer)
            }
            Err(e) => {
                if let Err(again) = journal.rebuild(&mut state, (durable.fresh)()).await {
                    tracing::error!(error = %again, "could not rebuild the state from the journal");
                }
                Err(e)
            }
        }
    }
}

/// The organisation's OpenID provider a backend trusts to say who an
/// approver is: their key is enrolled under the `sub` of a valid ID token
/// (issuer, `aud` = `audience`, unexpired) with only the groups it
/// carries in `groups_claim`.
#[derive(Debug, Clone)]
pub struct IdentityProvider {
    pub issuer: String,
    /// The client id the ID tokens are issued to (their `aud`).
    pub audience: String,
    pub groups_claim: String,
}

pub struct ServeConfig {
    pub listen: String,
    pub token: String,
    /// The `aud` decisions must carry; defaults to `http://<bound address>`.
    pub audience: Option<String>,
    pub dual_groups: Vec<String>,
    /// Files of requests (one JSON object or an array) to serve from the start.
    pub request_files: Vec<PathBuf>,
    /// The approval policy narrowed approvals are judged by (Cedar text);
    /// `None` is the shipped default.
    pub policy: Option<String>,
    /// Enrollment bound to the organisation's identity provider; `None`
    /// enrolls whoever holds the bearer token (the local, single-team mode).
    pub identity: Option<IdentityProvider>,
    /// Where the broker keeps its state (a SQLite path or a `postgres://`
    /// URL); `None` keeps it in memory (drills, tests).
    pub state: Option<String>,
    /// Serve HTTPS with this certificate chain and key (PEM, rustls);
    /// `None` serves plain HTTP (loopback, or behind a TLS proxy).
    pub tls: Option<TlsFiles>,
    /// How long a stop waits for requests and callback deliveries in
    /// flight before it closes what is left.
    pub shutdown_grace: Duration,
}

/// PEM files for HTTPS: the certificate chain (leaf first) and its private
/// key (PKCS#8, PKCS#1 or SEC1), read once at start.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The default [`ServeConfig::shutdown_grace`]: longer than one callback
/// delivery may take (its timeout is 15 s), shorter than systemd's and
/// Kubernetes' default stop timeouts (90 s and 30 s).
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(25);

impl ServeConfig {
    /// A broker on `listen` (`host:port`; port 0 picks one) requiring bearer
    /// `token`, with the defaults: audience from the bound address, the
    /// default dual-approval groups, the shipped policy, no identity
    /// provider, no requests preloaded, state in memory.
    pub fn new(listen: impl Into<String>, token: impl Into<String>) -> Self {
        ServeConfig {
            listen: listen.into(),
            token: token.into(),
            audience: None,
            dual_groups: DEFAULT_DUAL_GROUPS.map(String::from).to_vec(),
            request_files: Vec::new(),
            policy: None,
            identity: None,
            state: None,
            tls: None,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
        }
    }
}

/// Loads requests from a JSON file (one request or an array of them).
pub fn load_requests(state: &mut BackendState, path: &PathBuf) -> Result<usize, BackendError> {
    let text = std::fs::read_to_string(path).map_err(|source| BackendError::Read {
        path: path.clone(),
        source,
    })?;
    let bad = |message: String| BackendError::BadRequests {
        path: path.clone(),
        message,
    };
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| bad(format!("line {}: {e}", e.line())))?;
    let items = match value {
        serde_json::Value::Array(items) => items,
        one => vec![one],
    };
    let mut added = 0;
    for (i, item) in items.into_iter().enumerate() {
        added += usize::from(
            state
                .add_request(item)
                .map_err(|e| bad(format!("request {}: {e}", i + 1)))?,
        );
    }
    Ok(added)
}

/// A reference backend running on a task of the current runtime (drills
/// and tests start one on loopback); dropping it stops the server.
pub struct Running {
    pub addr: SocketAddr,
    pub audience: String,
    pub shared: Shared,
    scheme: &'static str,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), BackendError>>>,
}

impl Running {
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// Stops as `SIGTERM` does: no new connections, requests and callback
    /// deliveries in flight finished (within the grace), then returns.
    pub async fn shut_down(mut self) -> Result<(), BackendError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => task
                .await
                .map_err(|e| BackendError::Serve(std::io::Error::other(e)))?,
            None => Ok(()),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A bound listener and everything ready to serve on it.
struct Bound {
    listener: std::net::TcpListener,
    addr: SocketAddr,
    shared: Shared,
    audience: String,
    tls: Option<axum_server::tls_rustls::RustlsConfig>,
    grace: Duration,
}

impl Bound {
    fn scheme(&self) -> &'static str {
        scheme(self.tls.is_some())
    }
}

fn scheme(tls: bool) -> &'static str {
    if tls { "https" } else { "http" }
}

async fn bind(config: ServeConfig) -> Result<Bound, BackendError> {
    // The process-wide rustls provider (ring), for HTTPS and callbacks.
    let _ = rustls::crypto::ring::default_provider().install_default();
    if let Some(given) = &config.audience {
        check_audience(given)?;
    }
    let tls = match &config.tls {
        Some(files) => Some({
            let refuse = |message: String| BackendError::Tls {
                cert: files.cert.clone(),
                key: files.key.clone(),
                message,
            };
            check_pem(files).map_err(refuse)?;
            axum_server::tls_rustls::RustlsConfig::from_pem_file(&files.cert, &files.key)
                .await
                .map_err(|e| refuse(e.to_string()))?
        }),
        None => None,
    };
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .map_err(|source| BackendError::Bind {
            addr: config.listen.clone(),
            source,
        })?;
    let addr = listener.local_addr().map_err(BackendError::Serve)?;
    let journal = match &config.state {
        Some(target) => Some(journal::Journal::open(target).await?),
        None => None,
    };
    let scheme = scheme(tls.is_some());
    // `http://0.0.0.0:8787` is no address anyone signs for: on every
    // interface (a container, a host behind a proxy) the audience must be
    // given, unless the state keeps one.
    if config.audience.is_none() && addr.ip().is_unspecified() {
        let kept = match &journal {
            Some(j) => j.kept_audience().await?,
            None => None,
        };
        if kept.is_none() {
            return Err(BackendError::NoAudience { addr });
        }
    }
    let proposed = config
        .audience
        .clone()
        .unwrap_or_else(|| format!("{scheme}://{addr}"));
    // A kept state keeps its audience across restarts on other addresses,
    // unless one is given.
    let audience = match &journal {
        Some(j) => j.audience(&proposed, config.audience.is_some()).await?,
        None => proposed,
    };
    if let Some(text) = &config.policy {
        // Refused here, with its reason; parsed again for each fresh state.
        crate::policy::Policy::parse(text)?;
    }
    let fresh = {
        let (audience, groups) = (audience.clone(), config.dual_groups.clone());
        let policy = config.policy.clone();
        Arc::new(move || {
            let mut state = BackendState::new(audience.clone(), groups.clone());
            if let Some(text) = &policy {
                state.policy = crate::policy::Policy::parse(text).expect("parsed at start");
            }
            state
        }) as Arc<dyn Fn() -> BackendState + Send + Sync>
    };
    let key = match &journal {
        Some(j) => j.broker_key().await?,
        None => {
            let seed = crate::signing::SigningKeyPair::new_seed()
                .map_err(|e| BackendError::NoRandomness(e.to_string()))?;
            crate::signing::SigningKeyPair::from_seed(&seed)
                .map_err(|e| BackendError::NoRandomness(e.to_string()))?
        }
    };
    let mut state = fresh();
    let journal = match journal {
        Some(mut j) => {
            j.catch_up(&mut state).await?;
            Some(Durable {
                pool: j.pool(),
                journal: Arc::new(Mutex::new(j)),
                fresh,
            })
        }
        None => None,
    };
    let shared = Shared {
        state: Arc::new(Mutex::new(state)),
        token: config.token.into(),
        identity: config.identity.map(Arc::new),
        journal,
        changed: Default::default(),
        key: Arc::new(key),
        stopping: CancellationToken::new(),
    };
    // Requests from files go through the journal like posted ones.
    for path in &config.request_files {
        let mut loaded = BackendState::new(audience.clone(), Vec::new());
        load_requests(&mut loaded, path)?;
        for request in loaded
            .requests(0)
            .map(|r| r.json.clone())
            .collect::<Vec<_>>()
        {
            let added = shared
                .change(|state| {
                    let added = state.add_request(request.clone());
                    let event = matches!(added, Ok(true)).then(|| journal::Event::Request {
                        request: request.clone(),
                    });
                    (added, event)
                })
                .await?;
            added.map_err(|e| BackendError::BadRequests {
                path: path.clone(),
                message: e.to_string(),
            })?;
        }
    }
    Ok(Bound {
        listener: listener.into_std().map_err(BackendError::Serve)?,
        addr,
        shared,
        audience,
        tls,
        grace: config.shutdown_grace,
    })
}

/// An audience is the URL approvers reach the broker at: http(s), with a
/// host, no query or fragment (decisions carry it as `aud`, and a kept
/// state keeps it for good).
fn check_audience(given: &str) -> Result<(), BackendError> {
    let bad = |reason| BackendError::BadAudience {
        given: given.to_owned(),
        reason,
    };
    let url = reqwest::Url::parse(given)
        .map_err(|_| bad("not a URL; give the URL approvers reach the broker at, e.g. https://broker.example.com"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(bad("use an http:// or https:// URL with a host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad(
            "no query or fragment: the URL approvers reach the broker at",
        ));
    }
    Ok(())
}

/// What rustls would say obscurely, said plainly before it is asked: a
/// certificate file without a certificate (the key given twice), an
/// encrypted key (not supported: the broker starts unattended).
fn check_pem(files: &TlsFiles) -> Result<(), String> {
    let read = |path: &PathBuf| {
        std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    };
    let cert = read(&files.cert)?;
    if !cert.contains("-----BEGIN CERTIFICATE-----") {
        return Err(format!(
            "{} holds no PEM certificate (-----BEGIN CERTIFICATE-----); is it the key?",
            files.cert.display()
        ));
    }
    let key = read(&files.key)?;
    if key.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----")
        || key.contains("Proc-Type: 4,ENCRYPTED")
    {
        return Err(format!(
            "{} is encrypted, and the broker starts unattended: decrypt it (openssl pkey -in {} -out plain.pem) and keep it readable by the broker only",
            files.key.display(),
            files.key.display()
        ));
    }
    if !key.contains("PRIVATE KEY-----") {
        return Err(format!(
            "{} holds no PEM private key (-----BEGIN PRIVATE KEY-----, RSA or EC); is it the certificate?",
            files.key.display()
        ));
    }
    Ok(())
}

/// Serves `bound` until `stop` resolves, then stops gracefully: `/readyz`
/// turns `503` and long-polls answer at once, the listener closes,
/// requests in flight finish and callback deliveries in flight complete
/// (all within the grace; an outcome whose delivery was cut short is sent
/// again at the next start, since its acknowledgement was not journaled).
async fn run(bound: Bound, stop: impl Future<Output = ()>) -> Result<(), BackendError> {
    let Bound {
        listener,
        shared,
        tls,
        grace,
        ..
    } = bound;
    let handle = axum_server::Handle::new();
    let app = router(shared.clone()).into_make_service();
    let mut server = match tls {
        Some(config) => tokio::spawn(
            axum_server::from_tcp_rustls(listener, config)
                .map_err(BackendError::Serve)?
                .handle(handle.clone())
                .serve(app),
        ),
        None => tokio::spawn(
            axum_server::from_tcp(listener)
                .map_err(BackendError::Serve)?
                .handle(handle.clone())
                .serve(app),
        ),
    };
    let deliveries = tokio::spawn(callbacks::run(shared.clone()));
    tokio::select! {
        served = &mut server => {
            shared.stopping.cancel();
            deliveries.abort();
            return match served {
                Ok(result) => result.map_err(BackendError::Serve),
                Err(e) => Err(BackendError::Serve(std::io::Error::other(e))),
            };
        }
        () = stop => {}
    }
    tracing::info!(
        grace_seconds = grace.as_secs(),
        "stopping: finishing requests and callback deliveries in flight"
    );
    shared.stopping.cancel();
    handle.graceful_shutdown(Some(grace));
    let _ = server.await;
    match tokio::time::timeout(grace, deliveries).await {
        Ok(_) => tracing::info!("stopped"),
        Err(_) => tracing::warn!(
            "stopped with callback deliveries still in flight; they are sent again at the next start"
        ),
    }
    Ok(())
}

/// Binds and serves in the background until the returned handle is
/// dropped or [`Running::shut_down`].
pub async fn spawn(config: ServeConfig) -> Result<Running, BackendError> {
    let bound = bind(config).await?;
    let (addr, scheme) = (bound.addr, bound.scheme());
    let (audience, shared) = (bound.audience.clone(), bound.shared.clone());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(run(bound, async {
        let _ = stopped.await;
    }));
    Ok(Running {
        addr,
        audience,
        shared,
        scheme,
        stop: Some(stop),
        task: Some(task),
    })
}

/// Binds and serves until `stop` resolves (the CLI passes `SIGTERM` or
/// Ctrl-C), then stops gracefully. `on_ready` gets the URL it serves at
/// (`http(s)://` and the bound address, so a caller that asked for port 0
/// learns the port) and its audience, before the first request.
pub async fn serve(
    config: ServeConfig,
    on_ready: impl FnOnce(&str, &str),
    stop: impl Future<Output = ()>,
) -> Result<(), BackendError> {
    let bound = bind(config).await?;
    on_ready(
        &format!("{}://{}", bound.scheme(), bound.addr),
        &bound.audience,
    );
    run(bound, stop).await
}
