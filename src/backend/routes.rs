//! HTTP routes of the reference backend, one handler per operation of the
//! OpenAPI document.

use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use super::Shared;
use super::journal::{Event, JournalError};
use super::state::{ReceiptStatus, StateError, Submitted};
use super::verify::parse_jwk;

/// Largest request body any route reads, in bytes: a decision JWS with a
/// 4,000-byte reason is under 8 KiB, a containment request at its field
/// bounds under 64 KiB. Larger bodies are answered `413` before they are
/// read whole.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Most keys and groups one enrollment may carry, and the longest group.
pub const MAX_ENROLLED_KEYS: usize = 10;
pub const MAX_GROUPS: usize = 32;
pub const MAX_GROUP_BYTES: usize = 100;

/// The header a request id travels in: taken from the caller (a SOAR's
/// own correlation id) or made here, logged with every line about the
/// request and returned in the answer.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

pub fn router(shared: Shared) -> Router {
    let request_id = header::HeaderName::from_static(REQUEST_ID_HEADER);
    Router::new()
        .route("/v1/requests", get(list_requests).post(create_request))
        .route("/v1/requests/{id}", get(get_request))
        .route("/v1/requests/{id}/eligibility", get(eligibility))
        .route("/v1/decisions", post(submit_decision).get(list_receipts))
        .route("/v1/approvers/{approver}", put(enroll))
        .route("/v1/approvers/{approver}/jwks", get(approver_jwks))
        .route(
            "/v1/approvers/{approver}/checkpoint",
            put(keep_checkpoint).get(checkpoint),
        )
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(shared.clone(), bearer))
        // Public: what callback receivers verify outcomes with, and what
        // a supervisor or load balancer probes.
        .route("/.well-known/jwks.json", get(broker_jwks))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .fallback(|| async {
            error(
                StatusCode::NOT_FOUND,
                "no such operation; see the OpenAPI document",
            )
        })
        .method_not_allowed_fallback(|| async {
            error(
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed on this path",
            )
        })
        .with_state(shared)
        // Outermost: every line logged about a request carries its id; the
        // path is logged, never headers (the bearer token) or bodies.
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request| {
                    let id = request
                        .headers()
                        .get(REQUEST_ID_HEADER)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("");
                    tracing::info_span!(
                        "http",
                        request_id = %id,
                        method = %request.method(),
                        path = %request.uri().path(),
                    )
                })
                .on_request(())
                .on_response(
                    DefaultOnResponse::new()
                        .level(tracing::Level::INFO)
                        .latency_unit(tower_http::LatencyUnit::Micros),
                )
                .on_failure(()),
        )
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}

/// A JSON body; a body that is not one is answered with a JSON `{error}`
/// and the status axum gives it (`400` malformed, `415` not JSON, `413`
/// too large, `422` the wrong shape).
struct Body<T>(T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Response> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(Body(value)),
            Err(rejection) => Err(error(rejection.status(), rejection.body_text())),
        }
    }
}

/// Query parameters; ones that do not parse are answered `422` with a
/// JSON `{error}` naming the parameter.
struct Query<T>(T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Response> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Query(value)),
            Err(rejection) => Err(error(
                StatusCode::UNPROCESSABLE_ENTITY,
                rejection.body_text(),
            )),
        }
    }
}

/// One path segment.
struct Path<T>(T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Response> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(rejection) => Err(error(rejection.status(), rejection.body_text())),
        }
    }
}

/// Liveness: the process serves HTTP. Public, no state touched.
async fn healthz() -> Response {
    Json(serde_json::json!({ "status": "ok" })).into_response()
}

/// Readiness: `200` when the broker takes requests — not stopping, and
/// its state's database answers within 2 s; `503` with the reason
/// otherwise, so a load balancer sends traffic elsewhere.
async fn readyz(State(shared): State<Shared>) -> Response {
    if shared.stopping.is_cancelled() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({ "status": "stopping" })),
        )
            .into_response();
    }
    if let Some(durable) = &shared.journal {
        let probe = async {
            sqlx::query("SELECT 1")
                .execute(&durable.pool)
                .await
                .map_err(|e| e.to_string())
        };
        let answered = tokio::time::timeout(std::time::Duration::from_secs(2), probe)
            .await
            .unwrap_or_else(|_| Err("no answer within 2 s".into()));
        if let Err(why) = answered {
            tracing::warn!(error = %why, "not ready: the state's database does not answer");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({ "status": "unavailable", "error": format!("the state's database does not answer: {why}") })),
            )
                .into_response();
        }
    }
    Json(serde_json::json!({ "status": "ready" })).into_response()
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(serde_json::json!({ "error": message.into() }))).into_response()
}

async fn broker_jwks(State(shared): State<Shared>) -> Response {
    Json(super::callbacks::jwks(&shared.key)).into_response()
}

/// The broker's state could not be made durable: nothing was applied, the
/// client retries (`503`, as for any transient outage).
fn unavailable(e: JournalError) -> Response {
    tracing::error!(error = %e, "a change could not be journaled; answered 503");
    error(
        StatusCode::SERVICE_UNAVAILABLE,
        "the broker could not record this change durably; nothing was applied, try again",
    )
}

/// Every route needs the installation's bearer token (compared in
/// constant time).
async fn bearer(State(shared): State<Shared>, request: Request, next: Next) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match presented {
        Some(token) if bool::from(token.as_bytes().ct_eq(shared.token.as_bytes())) => {
            next.run(request).await
        }
        _ => {
            let mut response = error(StatusCode::UNAUTHORIZED, "missing or unknown bearer token");
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
            response
        }
    }
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    since: Option<String>,
}

async fn list_requests(
    State(shared): State<Shared>,
    Query(q): Query<ListQuery>,
    headers: HeaderMap,
) -> Response {
    let since = match q.since.as_deref().map(str::parse::<u64>) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "since: not a cursor from next_cursor",
            );
        }
    };
    let status = q.status.as_deref().unwrap_or("pending");
    if !matches!(status, "pending" | "decided" | "all") {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "status: expected pending, decided or all",
        );
    }
    let now = jiff::Timestamp::now();
    let state = shared.read().await;
    // Answered from counters before anything is built: polling an
    // unchanged list costs a comparison (docs/benchmarks.md).
    let etag = state.listing_etag(status, since, now);
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
    {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    let mut next_cursor = since;
    let requests: Vec<&serde_json::Value> = state
        .requests(since)
        .inspect(|r| next_cursor = next_cursor.max(r.seq))
        .filter(|r| {
            let waiting = r.status(now).awaits_decision();
            match status {
                "pending" => waiting,
                "decided" => !waiting,
                _ => true,
            }
        })
        .map(|r| &r.json)
        .collect();
    let body = serde_json::json!({ "requests": requests, "next_cursor": next_cursor.to_string() });
    drop(state);
    let bytes = serde_json::to_vec(&body).expect("JSON serialises");
    (
        [
            (header::ETAG, etag),
            (header::CONTENT_TYPE, "application/json".to_owned()),
        ],
        bytes,
    )
        .into_response()
}

async fn create_request(
    State(shared): State<Shared>,
    Body(body): Body<serde_json::Value>,
) -> Response {
    let added = shared
        .change(|state| {
            let added = state.add_request(body.clone());
            let event = matches!(added, Ok(true)).then(|| Event::Request {
                request: body.clone(),
            });
            (added, event)
        })
        .await;
    let added = match added {
        Ok(added) => added,
        Err(e) => return unavailable(e),
    };
    // Answered as kept: without the callback, which stays with the broker.
    let kept = crate::approval::proposed(&body);
    match added {
        Ok(true) => (StatusCode::CREATED, Json(kept)).into_response(),
        Ok(false) => (StatusCode::OK, Json(kept)).into_response(),
        Err(e @ StateError::Conflict(_)) => error(StatusCode::CONFLICT, e.to_string()),
        Err(e) => error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
    }
}

/// The longest `?wait=` a long-poll holds a request, in seconds.
pub const MAX_WAIT_SECONDS: u64 = 60;

#[derive(Deserialize)]
struct WaitQuery {
    /// Hold the answer until the request has its outcome (approved,
    /// denied, expired) or this many seconds passed (parsed here, so a
    /// bad value is named in the protocol's words).
    wait: Option<String>,
}

async fn get_request(
    State(shared): State<Shared>,
    Path(id): Path<String>,
    Query(q): Query<WaitQuery>,
) -> Response {
    let wait = match q.wait.as_deref().map(str::parse::<u64>) {
        None => 0,
        Some(Ok(seconds)) => seconds,
        Some(Err(_)) => {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("wait: a whole number of seconds from 0 to {MAX_WAIT_SECONDS}"),
            );
        }
    };
    if wait > MAX_WAIT_SECONDS {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("wait: at most {MAX_WAIT_SECONDS} seconds; poll again for longer"),
        );
    }
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(wait);
    loop {
        // Registered before the state is read, so a change in between
        // still wakes this wait.
        let changed = shared.changed.notified();
        let pending_until = {
            let state = shared.read().await;
            let Some(r) = state.request(&id) else {
                return error(StatusCode::NOT_FOUND, format!("no request {id}"));
            };
            let now = jiff::Timestamp::now();
            if !r.status(now).awaits_decision()
                || tokio::time::Instant::now() >= deadline
                || shared.stopping.is_cancelled()
            {
                return request_body(&state, &id);
            }
            r.parsed.expires_at
        };
        // Woken by a change here; at the expiry (the outcome is then
        // `expired`); and every second when brokers share a journal, to
        // see what the others applied.
        let to_expiry = pending_until
            .duration_since(jiff::Timestamp::now())
            .unsigned_abs();
        let mut nap = deadline.saturating_duration_since(tokio::time::Instant::now());
        nap = nap.min(to_expiry + std::time::Duration::from_millis(10));
        if shared.journal.is_some() {
            nap = nap.min(std::time::Duration::from_secs(1));
        }
        tokio::select! {
            _ = changed => {}
            _ = tokio::time::sleep(nap) => {}
            // A stopping broker answers with what it has.
            _ = shared.stopping.cancelled() => {}
        }
    }
}

#[derive(Deserialize)]
struct EligibilityQuery {
    #[serde(default)]
    approver: Option<String>,
}

/// Whether an approver may sign a request now, judged by the rules a
/// submitted decision is held to: what an app shows before its Sign
/// button is enabled (docs/protocol.md, "Who may approve").
async fn eligibility(
    State(shared): State<Shared>,
    Path(id): Path<String>,
    Query(q): Query<EligibilityQuery>,
) -> Response {
    let Some(approver) = q
        .approver
        .filter(|a| !a.trim().is_empty() && a.len() <= crate::approval::MAX_ID_BYTES)
    else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "approver: the approver's id, 1 to {} bytes",
                crate::approval::MAX_ID_BYTES
            ),
        );
    };
    let state = shared.read().await;
    match state.eligibility(&id, &approver, jiff::Timestamp::now()) {
        Some(e) => Json(e).into_response(),
        None => error(StatusCode::NOT_FOUND, format!("no request {id}")),
    }
}

/// A request as `GET /v1/requests/{id}` answers it: the request, its
/// status, and each decision's receipt with the JWS it was for.
fn request_body(state: &super::BackendState, id: &str) -> Response {
    let Some(r) = state.request(id) else {
        return error(StatusCode::NOT_FOUND, format!("no request {id}"));
    };
    let mut body = r.json.clone();
    body["status"] = serde_json::to_value(r.status(jiff::Timestamp::now())).expect("serialises");
    // Each accepted decision comes with the JWS it was for, so whoever
    // audits the request can verify the signatures themselves.
    let decisions: Vec<serde_json::Value> = r
        .receipts
        .iter()
        .map(|receipt| {
            let mut d = serde_json::to_value(receipt).expect("serialises");
            if let Some(jws) = state.signed_decision(receipt) {
                d["jws"] = jws.into();
            }
            d
        })
        .collect();
    body["decisions"] = decisions.into();
    Json(body).into_response()
}

#[derive(Deserialize)]
struct DecisionBody {
    jws: String,
}

async fn submit_decision(State(shared): State<Shared>, Body(body): Body<DecisionBody>) -> Response {
    let jws = body.jws.trim().to_owned();
    let submitted = shared
        .change(|state| {
            let at = jiff::Timestamp::now();
            let submitted = state.submit(&jws, at);
            // A repeat changes nothing; anything new is journaled, its
            // receipt included (rejections too: they are the audit trail).
            let event = matches!(submitted, Submitted::New(_)).then(|| Event::Decision {
                jws: jws.clone(),
                at,
            });
            (submitted, event)
        })
        .await;
    let submitted = match submitted {
        Ok(s) => s,
        Err(e) => return unavailable(e),
    };
    let (status, receipt) = match submitted {
        Submitted::Repeat(r) if r.status == ReceiptStatus::Rejected => {
            (StatusCode::UNPROCESSABLE_ENTITY, r)
        }
        Submitted::Repeat(r) => (StatusCode::OK, r),
        Submitted::New(r) if r.status == ReceiptStatus::Rejected => {
            (StatusCode::UNPROCESSABLE_ENTITY, r)
        }
        Submitted::New(r) => (StatusCode::CREATED, r),
    };
    (status, Json(receipt)).into_response()
}

/// Every receipt in arrival order, rejections with their reasons: what a
/// backend's own audit trail keeps.
async fn list_receipts(State(shared): State<Shared>) -> Response {
    let state = shared.read().await;
    Json(serde_json::json!({ "receipts": state.log, "dropped": state.log_dropped })).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Enrollment {
    #[serde(default)]
    groups: Vec<String>,
    jwks: Jwks,
    /// The approver's ID token, when the backend trusts an identity
    /// provider: the key is enrolled for the person it names.
    id_token: Option<String>,
}

#[derive(Deserialize)]
struct Jwks {
    keys: Vec<serde_json::Value>,
}

async fn enroll(
    State(shared): State<Shared>,
    Path(approver): Path<String>,
    Body(body): Body<Enrollment>,
) -> Response {
    if approver.trim().is_empty() || approver.len() > crate::approval::MAX_ID_BYTES {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "approver: must be 1 to {} bytes",
                crate::approval::MAX_ID_BYTES
            ),
        );
    }
    if body.jwks.keys.len() > MAX_ENROLLED_KEYS {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("jwks.keys: more than {MAX_ENROLLED_KEYS}"),
        );
    }
    if body.groups.len() > MAX_GROUPS
        || body
            .groups
            .iter()
            .any(|g| g.trim().is_empty() || g.len() > MAX_GROUP_BYTES)
    {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("groups: at most {MAX_GROUPS}, each 1 to {MAX_GROUP_BYTES} bytes"),
        );
    }
    let mut keys = Vec::new();
    for (i, jwk) in body.jwks.keys.iter().enumerate() {
        match parse_jwk(jwk) {
            Ok(k) => keys.push(k),
            Err(e) => {
                return error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("jwks.{}", e.replacen("keys[]", &format!("keys[{i}]"), 1)),
                );
            }
        }
    }
    let groups = match &shared.identity {
        Some(provider) => match vouched_groups(
            provider,
            &approver,
            &body,
            &crate::jose::key_commitment(keys.iter().map(|(kid, _)| kid.as_str())),
        )
        .await
        {
            Ok(groups) => groups,
            Err(refusal) => return refusal,
        },
        None => body.groups,
    };
    let jwks = serde_json::json!({ "keys": body.jwks.keys });
    let enrolled = shared
        .change(|state| {
            let enrolled = state.enroll(&approver, groups.clone(), keys);
            let event = enrolled.is_ok().then(|| Event::Enroll {
                approver: approver.clone(),
                groups,
                jwks,
            });
            (enrolled, event)
        })
        .await;
    match enrolled {
        Ok(Ok(())) => StatusCode::NO_CONTENT.into_response(),
        Ok(Err(e)) => error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
        Err(e) => unavailable(e),
    }
}

/// Checks an enrollment against the identity provider: a valid ID token
/// naming `approver` as its `sub`, asked for exactly the keys enrolled
/// (its `nonce` is their `commitment`, [`crate::jose::key_commitment`], so
/// a copied token cannot enroll anyone else's key), and only groups it
/// carries. Returns the groups to enroll (the token's, when none are
/// named); a refusal is `403` with what was wrong.
async fn vouched_groups(
    provider: &super::IdentityProvider,
    approver: &str,
    body: &Enrollment,
    commitment: &str,
) -> Result<Vec<String>, Response> {
    let refuse = |reason: String| error(StatusCode::FORBIDDEN, reason);
    let Some(token) = &body.id_token else {
        return Err(refuse(format!(
            "id_token: this backend enrolls keys only for a person {} vouches for; sign in (`countersign login`) and enroll again",
            provider.issuer
        )));
    };
    let config = crate::oidc::ProviderConfig {
        groups_claim: provider.groups_claim.clone(),
        ..crate::oidc::ProviderConfig::new(&provider.issuer, &provider.audience)
    };
    let person = crate::oidc::verify_id_token(&config, &provider.audience, token, Some(commitment))
        .await
        .map_err(|e| match e {
            // The provider could not be asked: not a verdict on the token.
            crate::oidc::OidcError::Discovery { .. } => error(
                StatusCode::BAD_GATEWAY,
                format!("{e}; nothing was enrolled, try again when it answers"),
            ),
            e => refuse(format!("id_token: {e}")),
        })?;
    if person.sub != approver {
        return Err(refuse(format!(
            "id_token: it names {:?}, not {approver:?}; a key is enrolled only for the person signed in",
            person.sub
        )));
    }
    if body.groups.is_empty() {
        return Ok(person.groups);
    }
    let unvouched: Vec<&str> = body
        .groups
        .iter()
        .filter(|g| !person.groups.contains(g))
        .map(String::as_str)
        .collect();
    if !unvouched.is_empty() {
        return Err(refuse(format!(
            "groups: {} not in the ID token's {:?} claim; only groups the identity provider vouches for are enrolled",
            unvouched.join(", "),
            provider.groups_claim
        )));
    }
    Ok(body.groups.clone())
}

async fn approver_jwks(State(shared): State<Shared>, Path(approver): Path<String>) -> Response {
    let state = shared.read().await;
    match state.approver_jwks(&approver) {
        Some(jwks) => Json(jwks).into_response(),
        None => error(StatusCode::NOT_FOUND, format!("no approver {approver}")),
    }
}

async fn keep_checkpoint(
    State(shared): State<Shared>,
    Path(approver): Path<String>,
    Body(body): Body<DecisionBody>,
) -> Response {
    let jws = body.jws.trim().to_owned();
    let kept = shared
        .change(|state| {
            let kept = state.keep_checkpoint(&approver, &jws);
            let event = kept.is_ok().then(|| Event::Checkpoint {
                approver: approver.clone(),
                jws: jws.clone(),
            });
            (kept, event)
        })
        .await;
    match kept {
        Ok(Ok(())) => StatusCode::NO_CONTENT.into_response(),
        Ok(Err(e)) => error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
        Err(e) => unavailable(e),
    }
}

async fn checkpoint(State(shared): State<Shared>, Path(approver): Path<String>) -> Response {
    let state = shared.read().await;
    match state.checkpoint(&approver) {
        Some(jws) => Json(serde_json::json!({ "jws": jws })).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            format!("no checkpoint kept for {approver}"),
        ),
    }
}
