//! Sign-in in the system browser for a native app (RFC 8252): the
//! authorization code flow with PKCE (RFC 7636, S256), the redirect to a
//! loopback listener on an ephemeral port (RFC 8252 §7.3: `127.0.0.1`, any
//! port, so no port needs registering), `state` against cross-site request
//! forgery and `nonce` checked in the ID token (OpenID Connect Core
//! §3.1.2.1, §3.1.3.7).
//!
//! Why this flow and not only the device grant: the code flow carries the
//! `nonce` into the ID token by standard, so the token can be asked for
//! the person's signing keys ([`crate::jose::key_commitment`]); device
//! grants return no nonce at most providers (oidc-provider drops it).
//!
//! The listener is axum (already the reference backend's server), bound to
//! loopback only, answering one request on `/callback` and then closing.

use std::time::Duration;

use axum::extract::{Query, State};
use axum::response::Html;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient};
use openidconnect::{
    AuthType, AuthorizationCode, ClientId, CsrfToken, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};
use serde::Deserialize;
use tokio::sync::{Mutex, oneshot};

use super::{OidcError, Person, ProviderConfig, Session, discover, http, verify_with};

/// How long the browser has to come back before sign-in gives up.
pub const BROWSER_TIMEOUT: Duration = Duration::from_secs(300);

/// What the provider sends back to the redirect URI (RFC 6749 §4.1.2 and
/// §4.1.2.1).
#[derive(Debug, Deserialize)]
struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

type Waiting = std::sync::Arc<Mutex<Option<oneshot::Sender<Callback>>>>;

async fn callback(State(waiting): State<Waiting>, Query(answer): Query<Callback>) -> Html<String> {
    let page = if answer.error.is_some() {
        "Countersign: signing in did not complete. Go back to Countersign to see why."
    } else {
        "Countersign: you are signed in. You can close this tab and go back to Countersign."
    };
    if let Some(tx) = waiting.lock().await.take() {
        let _ = tx.send(answer);
    }
    Html(format!(
        "<!doctype html><meta charset=utf-8><title>Countersign</title><p>{page}</p>"
    ))
}

/// Signs in through the system browser: starts the loopback listener,
/// hands `open` the authorization URL (open it in the browser, and show
/// it to the person in case no browser opens), waits up to `timeout` for
/// the redirect, exchanges the code (with the PKCE verifier) and verifies
/// the ID token, its `nonce` included.
///
/// `nonce`: the [`crate::jose::key_commitment`] of the signing keys the
/// person will enroll; `None` asks with a random nonce (still checked,
/// against replay of an old response) and binds no key.
///
/// Errors: [`OidcError::Discovery`] when the provider cannot be asked,
/// [`OidcError::SignIn`] when the browser reports an error, answers with
/// another `state`, or does not come back in time, and the token errors
/// of verification.
pub async fn loopback_login(
    config: &ProviderConfig,
    nonce: Option<&str>,
    timeout: Duration,
    open: impl FnOnce(&str),
) -> Result<(Person, Session), OidcError> {
    let sign_in = |reason: String| OidcError::SignIn {
        issuer: config.issuer.clone(),
        reason,
    };
    let metadata = discover(&config.issuer).await?;
    let jwks = metadata.jwks().clone();

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(|e| sign_in(format!("cannot listen on loopback for the redirect: {e}")))?;
    let port = listener
        .local_addr()
        .map_err(|e| sign_in(e.to_string()))?
        .port();
    let redirect = RedirectUrl::new(format!("http://127.0.0.1:{port}/callback"))
        .map_err(|e| sign_in(e.to_string()))?;

    let client =
        CoreClient::from_provider_metadata(metadata, ClientId::new(config.client_id.clone()), None)
            .set_redirect_uri(redirect)
            .set_auth_type(AuthType::RequestBody);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let expected_nonce = nonce.map(str::to_owned);
    let mut request = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            move || {
                expected_nonce
                    .map(Nonce::new)
                    .unwrap_or_else(Nonce::new_random)
            },
        )
        .add_scopes(config.scopes.iter().cloned().map(Scope::new))
        .set_pkce_challenge(challenge);
    // OpenID Connect Core §11: a refresh token (offline access) is asked
    // for with prompt=consent.
    if config.scopes.iter().any(|s| s == "offline_access") {
        request = request.add_prompt(openidconnect::core::CoreAuthPrompt::Consent);
    }
    let (url, state, sent_nonce) = request.url();

    let (tx, rx) = oneshot::channel();
    let waiting: Waiting = std::sync::Arc::new(Mutex::new(Some(tx)));
    let app = axum::Router::new()
        .route("/callback", axum::routing::get(callback))
        .with_state(waiting);
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });

    open(url.as_str());
    let answer = tokio::time::timeout(timeout, rx).await;
    let _ = stop.send(());
    // The browser's page is sent before the listener closes.
    let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
    let answer = match answer {
        Ok(Ok(answer)) => answer,
        Ok(Err(_)) => return Err(sign_in("the loopback listener stopped".into())),
        Err(_) => {
            return Err(sign_in(format!(
                "the browser did not come back within {} s: sign in again",
                timeout.as_secs()
            )));
        }
    };
    if let Some(error) = answer.error {
        return Err(sign_in(match answer.error_description {
            Some(d) => format!("{error}: {d}"),
            None => error,
        }));
    }
    // RFC 6749 §10.12: a redirect not carrying our state is not the
    // answer to our request.
    if answer.state.as_deref() != Some(state.secret().as_str()) {
        return Err(sign_in(
            "the redirect's state does not match the request (a stale or forged redirect); sign in again".into(),
        ));
    }
    let code = answer
        .code
        .ok_or_else(|| sign_in("the redirect carried no authorization code".into()))?;
    let http = http::client();
    let token = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|e| sign_in(e.to_string()))?
        .set_pkce_verifier(verifier)
        .request_async(&http::call(&http))
        .await
        .map_err(|e| sign_in(http::describe(&e)))?;
    let id_token = token.id_token().ok_or(OidcError::NoIdToken)?.to_string();
    let person = verify_with(
        &jwks,
        config,
        &config.client_id,
        &id_token,
        Some(sent_nonce.secret()),
    )
    .map_err(|e| match e {
        OidcError::NotForTheseKeys { .. } if nonce.is_none() => OidcError::InvalidToken(
            "its nonce is not the one this sign-in sent (a replayed response?)".into(),
        ),
        e => e,
    })?;
    Ok((
        person,
        Session {
            config: config.clone(),
            id_token,
            refresh_token: token.refresh_token().map(|t| t.secret().to_owned()),
        },
    ))
}
