//! The app's side of the backend protocol: list and fetch containment
//! requests, enroll the approver's public keys, and deliver decisions from
//! the outbox (outbox.rs).

mod outbox;

pub use outbox::{DeliveryReport, backoff, deliver_due};

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::signing::{SecretStore, SigningError};
use crate::store::Receipt;

/// Overrides the keyring for scripts and CI, like `GITHUB_TOKEN`.
pub const TOKEN_ENV: &str = "COUNTERSIGN_BACKEND_TOKEN";

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{url} is not a backend URL: {reason}")]
    BadUrl { url: String, reason: String },
    #[error(
        "the backend at {url} cannot be reached ({reason}): check the URL and that the backend is running"
    )]
    Unreachable { url: String, reason: String },
    #[error(
        "the backend at {url} refused the bearer token; run `countersign backend login {url}` with a valid token"
    )]
    Unauthorized { url: String },
    #[error(
        "no bearer token for {url}: run `countersign backend login {url}` (or set {TOKEN_ENV})"
    )]
    NoToken { url: String },
    #[error("the backend at {url} answered {status}: {message}")]
    Status {
        url: String,
        status: u16,
        message: String,
    },
    #[error(
        "the backend at {url} answered with a receipt Countersign does not understand: {reason}; the decision stays queued"
    )]
    BadReceipt { url: String, reason: String },
    #[error(
        "the sign-in session was not asked for these signing keys (they were created or rotated since, or it was a device sign-in, which binds none): run `countersign login` again in a browser on this machine, then enroll"
    )]
    SessionForOtherKeys,
    #[error(transparent)]
    Keyring(#[from] SigningError),
}

impl ClientError {
    /// Worth retrying later (the backend may come back, the token may be
    /// fixed); anything else means the request itself is wrong.
    pub fn is_transient(&self) -> bool {
        match self {
            ClientError::Unreachable { .. } | ClientError::Unauthorized { .. } => true,
            ClientError::Status { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }
}

fn token_name(url: &str) -> String {
    format!("backend-token:{}", normalise(url))
}

/// The canonical form of a backend URL: no trailing slash. It is also the
/// `aud` decisions for that backend carry.
pub fn normalise(url: &str) -> String {
    url.trim().trim_end_matches('/').to_owned()
}

/// The bearer token for a backend: the environment first, else the keyring.
pub fn token_for(url: &str, secrets: &dyn SecretStore) -> Result<Zeroizing<String>, ClientError> {
    if let Ok(token) = std::env::var(TOKEN_ENV)
        && !token.is_empty()
    {
        return Ok(Zeroizing::new(token));
    }
    secrets
        .get(&token_name(url))
        .map_err(SigningError::from)?
        .ok_or_else(|| ClientError::NoToken {
            url: normalise(url),
        })
}

/// A client for `url` with its token from the environment or the OS
/// keyring (read on a blocking thread: the keyring is a D-Bus round trip).
pub async fn connect(url: &str) -> Result<BackendClient, ClientError> {
    connect_with(url, Arc::new(crate::signing::OsKeyring)).await
}

/// [`connect`] with the token from `secrets` (when not in the environment).
pub async fn connect_with(
    url: &str,
    secrets: Arc<dyn SecretStore>,
) -> Result<BackendClient, ClientError> {
    let owned = url.to_owned();
    let token = tokio::task::spawn_blocking(move || token_for(&owned, secrets.as_ref()))
        .await
        .map_err(|e| ClientError::Keyring(SigningError::Keyring(e.to_string())))??;
    BackendClient::new(url, token)
}

/// Enrolls `approver`'s public keys (active and previous) and approver
/// groups from `store` with the backend; returns how many keys were sent
/// (none when there is no key yet, and nothing is sent then).
pub async fn enroll_keys(
    store: &crate::Store,
    client: &BackendClient,
    approver: &str,
    vouched: Option<&Vouched<'_>>,
) -> Result<usize, ClientError> {
    enroll_keys_of(
        &crate::signing::Keys::new(store, Arc::new(crate::signing::OsKeyring)),
        store,
        client,
        approver,
        vouched,
    )
    .await
}

/// What the organisation's identity provider says of the approver: the
/// ID token a backend checks the enrollment against, and the groups it
/// carries (enrolled instead of the local `approver_groups` setting).
pub struct Vouched<'a> {
    pub id_token: &'a str,
    pub groups: &'a [String],
}

/// [`enroll_keys`] of `keys`.
pub async fn enroll_keys_of(
    keys: &crate::signing::Keys<'_>,
    store: &crate::Store,
    client: &BackendClient,
    approver: &str,
    vouched: Option<&Vouched<'_>>,
) -> Result<usize, ClientError> {
    let jwks = keys.jwks().await?;
    let count = jwks["keys"].as_array().map_or(0, Vec::len);
    if let Some(v) = vouched
        && count > 0
        && crate::oidc::nonce_of(v.id_token) != keys.commitment().await?
    {
        // The backend would refuse it; say what to do before sending.
        return Err(ClientError::SessionForOtherKeys);
    }
    if count > 0 {
        let groups = match vouched {
            Some(v) => v.groups.to_vec(),
            None => store
                .approver_groups()
                .await
                .map_err(|e| ClientError::Keyring(SigningError::Store(e)))?,
        };
        client
            .enroll(approver, &groups, &jwks, vouched.map(|v| v.id_token))
            .await?;
    }
    Ok(count)
}

/// What a backend's rejection reason (docs/protocol.md's closed set)
/// means for the approver and what to do; `None` for a code this client
/// does not know.
pub fn explain_rejection(code: &str) -> Option<&'static str> {
    Some(match code {
        "unknown_key" => {
            "the backend does not know the key that signed it: enroll your keys (`countersign backend enroll`; signed in, sign in again first if you created or rotated keys since)"
        }
        "retired_key" => "it was signed with a key you retired: decide again with your active key",
        "approver_mismatch" => {
            "it names an approver or groups your enrollment at the backend does not have (with an identity provider, only the groups your ID token carries): enroll again, or sign in as the person the key was enrolled for"
        }
        "approver_is_requester" => "nobody approves their own request: ask another owner",
        "same_approver_twice" => "the second approval must come from another person",
        "not_in_required_group" | "groups_not_covered" => {
            "a dual approval needs one approver from each named group: ask someone in the other group"
        }
        "approvals_disagree" => {
            "the first approver approved something else: decide the same way, or deny"
        }
        "already_decided" => "the request was already decided",
        "request_expired" | "expired" => "it was too late: ask for the request again",
        "request_not_found" => {
            "the backend does not know the request (withdrawn, or another backend)"
        }
        "digest_mismatch" => "the backend's request is not the one you decided: open it again",
        "replayed_jti" => "this exact decision was sent before",
        "wrong_audience" => "it was signed for another backend",
        "invalid_narrowing" => {
            "the narrowing is broader than the request, or its tier needs more approvals"
        }
        _ => return None,
    })
}

/// Why an HTTP request failed, in words a person acts on ("could not
/// connect: Connection refused"), not hyper's "client error
/// (Connect)"; never the URL (reqwest's own message carries it, query and
/// all, and a query may hold a credential).
pub fn plain_reason(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_decode() || e.is_body() {
        "the answer could not be read"
    } else {
        "failed"
    };
    let mut deepest = None;
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        deepest = Some(s.to_string());
        source = s.source();
    }
    // "Connection refused (os error 111)": the errno helps nobody at a form.
    let deepest = deepest.map(|m| match m.rfind(" (os error ") {
        Some(i) if m.ends_with(')') => m[..i].to_owned(),
        _ => m,
    });
    match deepest {
        Some(m) if m != kind => format!("{kind}: {m}"),
        _ => kind.into(),
    }
}

/// Forgets a backend's bearer token (nothing to forget is not an error).
pub fn forget_token(url: &str, secrets: &dyn SecretStore) -> Result<(), ClientError> {
    Ok(secrets
        .delete(&token_name(url))
        .map_err(SigningError::from)?)
}

/// Keeps a backend's bearer token in the keyring (never on disk).
pub fn store_token(url: &str, token: &str, secrets: &dyn SecretStore) -> Result<(), ClientError> {
    Ok(secrets
        .set(&token_name(url), token.trim())
        .map_err(SigningError::from)?)
}

/// One page of pending requests, or "nothing changed" for a matching ETag.
#[derive(Debug, Clone, PartialEq)]
pub enum Listing {
    Changed {
        requests: Vec<serde_json::Value>,
        etag: Option<String>,
        next_cursor: String,
    },
    NotModified,
}

#[derive(Deserialize)]
struct ListBody {
    requests: Vec<serde_json::Value>,
    next_cursor: String,
}

/// The backend's receipt for a decision (`DecisionReceipt`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireReceipt {
    pub jti: String,
    pub request_id: String,
    pub status: String,
    #[serde(default)]
    pub reason: Option<String>,
}

impl From<WireReceipt> for Receipt {
    fn from(r: WireReceipt) -> Self {
        Receipt {
            status: r.status,
            reason: r.reason,
        }
    }
}

/// A client for one backend.
#[derive(Clone)]
pub struct BackendClient {
    base: String,
    http: reqwest::Client,
    token: Arc<Zeroizing<String>>,
}

impl std::fmt::Debug for BackendClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token.
        f.debug_struct("BackendClient")
            .field("base", &self.base)
            .finish()
    }
}

impl BackendClient {
    pub fn new(url: &str, token: Zeroizing<String>) -> Result<Self, ClientError> {
        let base = normalise(url);
        let parsed = reqwest::Url::parse(&base).map_err(|e| ClientError::BadUrl {
            url: base.clone(),
            reason: e.to_string(),
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(ClientError::BadUrl {
                url: base,
                reason: "use http:// or https://".into(),
            });
        }
        // reqwest is built without a bundled crypto provider; ring is ours.
        // Installing twice is harmless (the first one stays).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(20))
            .user_agent(concat!("countersign/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError::BadUrl {
                url: base.clone(),
                reason: e.to_string(),
            })?;
        Ok(BackendClient {
            base,
            http,
            token: Arc::new(token),
        })
    }

    pub fn url(&self) -> &str {
        &self.base
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(self.token.as_str())
    }

    fn unreachable(&self, e: reqwest::Error) -> ClientError {
        ClientError::Unreachable {
            url: self.base.clone(),
            reason: plain_reason(&e),
        }
    }

    async fn failure(&self, response: reqwest::Response) -> ClientError {
        let status = response.status();
        if status == StatusCode::UNAUTHORIZED {
            return ClientError::Unauthorized {
                url: self.base.clone(),
            };
        }
        let text = response.text().await.unwrap_or_default();
        let message = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
            .unwrap_or(text);
        ClientError::Status {
            url: self.base.clone(),
            status: status.as_u16(),
            message: message.chars().take(500).collect(),
        }
    }

    async fn send(
        &self,
        builder: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, ClientError> {
        builder.send().await.map_err(|e| self.unreachable(e))
    }

    /// Requests awaiting a decision. Pass the previous ETag to get
    /// `NotModified` cheaply when nothing changed.
    pub async fn pending_requests(&self, etag: Option<&str>) -> Result<Listing, ClientError> {
        let mut builder = self
            .request(reqwest::Method::GET, "/v1/requests")
            .query(&[("status", "pending")]);
        if let Some(etag) = etag {
            builder = builder.header(reqwest::header::IF_NONE_MATCH, etag);
        }
        let response = self.send(builder).await?;
        match response.status() {
            StatusCode::NOT_MODIFIED => Ok(Listing::NotModified),
            s if s.is_success() => {
                let etag = response
                    .headers()
                    .get(reqwest::header::ETAG)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let body: ListBody = response.json().await.map_err(|e| self.unreachable(e))?;
                Ok(Listing::Changed {
                    requests: body.requests,
                    etag,
                    next_cursor: body.next_cursor,
                })
            }
            _ => Err(self.failure(response).await),
        }
    }

    /// One request with its status and the receipts so far.
    pub async fn request_by_id(&self, id: &str) -> Result<serde_json::Value, ClientError> {
        let url = format!("/v1/requests/{}", urlencode(id));
        let response = self.send(self.request(reqwest::Method::GET, &url)).await?;
        if !response.status().is_success() {
            return Err(self.failure(response).await);
        }
        response.json().await.map_err(|e| self.unreachable(e))
    }

    /// The request as proposed, without the backend's bookkeeping
    /// (`status`, `decisions`): the digest a decision signs is over exactly
    /// this.
    pub async fn proposed_request(&self, id: &str) -> Result<serde_json::Value, ClientError> {
        Ok(self.request_with_status(id).await?.0)
    }

    /// The request as proposed, and the backend's status for it
    /// (`pending`, `awaiting_second_approval`, `approved`, `denied`,
    /// `expired`).
    pub async fn request_with_status(
        &self,
        id: &str,
    ) -> Result<(serde_json::Value, String), ClientError> {
        let value = self.request_by_id(id).await?;
        let status = value["status"].as_str().unwrap_or_default().to_owned();
        Ok((crate::approval::proposed(&value), status))
    }

    /// Whether `approver` may sign request `id` now, as this backend
    /// judges it (`GET /v1/requests/{id}/eligibility`).
    pub async fn eligibility(
        &self,
        id: &str,
        approver: &str,
    ) -> Result<crate::approval::Eligibility, ClientError> {
        let url = format!("/v1/requests/{}/eligibility", urlencode(id));
        let response = self
            .send(
                self.request(reqwest::Method::GET, &url)
                    .query(&[("approver", approver)]),
            )
            .await?;
        if !response.status().is_success() {
            return Err(self.failure(response).await);
        }
        response.json().await.map_err(|e| self.unreachable(e))
    }

    /// The public keys (and groups) enrolled for an approver.
    pub async fn approver_jwks(&self, approver: &str) -> Result<serde_json::Value, ClientError> {
        let url = format!("/v1/approvers/{}/jwks", urlencode(approver));
        let response = self.send(self.request(reqwest::Method::GET, &url)).await?;
        if !response.status().is_success() {
            return Err(self.failure(response).await);
        }
        response.json().await.map_err(|e| self.unreachable(e))
    }

    /// Proposes a request (what automation does; drills and tests use it).
    pub async fn create_request(&self, request: &serde_json::Value) -> Result<(), ClientError> {
        let response = self
            .send(
                self.request(reqwest::Method::POST, "/v1/requests")
                    .json(request),
            )
            .await?;
        if !response.status().is_success() {
            return Err(self.failure(response).await);
        }
        Ok(())
    }

    /// Sends a decision. A receipt (accepted, awaiting a second approval,
    /// or rejected with a reason) means the backend has it: it is final.
    pub async fn submit(&self, jws: &str) -> Result<WireReceipt, ClientError> {
        let response = self
            .send(
                self.request(reqwest::Method::POST, "/v1/decisions")
                    .json(&serde_json::json!({ "jws": jws })),
            )
            .await?;
        let status = response.status();
        if status.is_success() || status == StatusCode::UNPROCESSABLE_ENTITY {
            let text = response.text().await.map_err(|e| self.unreachable(e))?;
            if let Ok(receipt) = serde_json::from_str::<WireReceipt>(&text) {
                return self.check_receipt(receipt, jws, status);
            }
            return Err(ClientError::Status {
                url: self.base.clone(),
                status: status.as_u16(),
                message: text.chars().take(500).collect(),
            });
        }
        Err(self.failure(response).await)
    }

    /// Hands the backend a signed audit checkpoint (`checkpoint::create`)
    /// to keep as the approver's latest: a copy of the head outside the
    /// owner's database.
    pub async fn push_checkpoint(&self, approver: &str, jws: &str) -> Result<(), ClientError> {
        let url = format!("/v1/approvers/{}/checkpoint", urlencode(approver));
        let response = self
            .send(
                self.request(reqwest::Method::PUT, &url)
                    .json(&serde_json::json!({ "jws": jws })),
            )
            .await?;
        if !response.status().is_success() {
            return Err(self.failure(response).await);
        }
        Ok(())
    }

    /// The latest audit checkpoint the backend keeps for an approver.
    pub async fn checkpoint(&self, approver: &str) -> Result<String, ClientError> {
        let url = format!("/v1/approvers/{}/checkpoint", urlencode(approver));
        let response = self.send(self.request(reqwest::Method::GET, &url)).await?;
        if !response.status().is_success() {
            return Err(self.failure(response).await);
        }
        let body: serde_json::Value = response.json().await.map_err(|e| self.unreachable(e))?;
        Ok(body["jws"].as_str().unwrap_or_default().to_owned())
    }

    /// A receipt is read failing closed, like a decision: its status is one
    /// of the closed set and agrees with the HTTP status (a rejection is a
    /// `422`, nothing else is), and it is the receipt of the decision sent
    /// (same `jti`). Anything else leaves the decision queued, with the
    /// reason shown, rather than marking it delivered.
    fn check_receipt(
        &self,
        receipt: WireReceipt,
        jws: &str,
        http: StatusCode,
    ) -> Result<WireReceipt, ClientError> {
        let bad = |reason: String| ClientError::BadReceipt {
            url: self.base.clone(),
            reason,
        };
        let rejected = match receipt.status.as_str() {
            "accepted" | "awaiting_second_approval" => false,
            "rejected" => true,
            other => {
                return Err(bad(format!(
                    "status {other:?} is not accepted, awaiting_second_approval or rejected"
                )));
            }
        };
        if rejected != (http == StatusCode::UNPROCESSABLE_ENTITY) {
            return Err(bad(format!(
                "status {:?} with HTTP {}",
                receipt.status,
                http.as_u16()
            )));
        }
        // Our own signed JWS, read without verifying.
        let sent = crate::signing::peek_claims(jws)
            .and_then(|c| c["jti"].as_str().map(str::to_owned))
            .unwrap_or_default();
        if receipt.jti != sent {
            return Err(bad(format!(
                "it is for decision {:?}, not {sent:?}",
                receipt.jti
            )));
        }
        Ok(receipt)
    }

    /// Enrolls this approver's public keys (and groups) with the backend.
    pub async fn enroll(
        &self,
        approver: &str,
        groups: &[String],
        jwks: &serde_json::Value,
        id_token: Option<&str>,
    ) -> Result<(), ClientError> {
        let url = format!("/v1/approvers/{}", urlencode(approver));
        let mut body = serde_json::json!({ "groups": groups, "jwks": jwks });
        if let Some(token) = id_token {
            body["id_token"] = token.into();
        }
        let response = self
            .send(self.request(reqwest::Method::PUT, &url).json(&body))
            .await?;
        if !response.status().is_success() {
            return Err(self.failure(response).await);
        }
        Ok(())
    }
}

fn urlencode(segment: &str) -> String {
    let mut url = reqwest::Url::parse("http://x/").expect("static URL");
    url.path_segments_mut()
        .expect("http URLs have segments")
        .push(segment);
    url.path()[1..].to_owned()
}
