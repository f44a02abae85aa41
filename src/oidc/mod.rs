//! Who the approver is, from the organisation's OpenID Connect provider
//! (issue 17): sign-in in the system browser with the authorization code
//! flow, PKCE and a loopback redirect (RFC 8252, [`loopback_login`]; the
//! app and the CLI), or with the device authorization grant (RFC 8628,
//! [`device_login`]; a CLI on a machine without a browser), the person's ID token verified (signature against the
//! provider's JWKS, `iss`, `aud`, `exp`: OpenID Connect Core §3.1.3.7),
//! their subject (`sub`), display name and groups (from a configured
//! claim) read from it, and the session kept in the OS keyring.
//!
//! The protocol is the `openidconnect` crate's; this module only gives it
//! the project's HTTP client (reqwest) and decides what is kept.

mod http;
mod loopback;
pub mod session;

use openidconnect::core::{
    CoreAuthDisplay, CoreClaimName, CoreClaimType, CoreClient, CoreClientAuthMethod,
    CoreDeviceAuthorizationResponse, CoreGrantType, CoreIdToken, CoreIdTokenVerifier,
    CoreJsonWebKey, CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm, CoreResponseMode, CoreResponseType, CoreSubjectIdentifierType,
};
use openidconnect::{
    AdditionalProviderMetadata, AuthType, ClientId, DeviceAuthorizationUrl, IssuerUrl, Nonce,
    OAuth2TokenResponse, ProviderMetadata, RefreshToken, Scope, TokenResponse,
};
use serde::{Deserialize, Serialize};

pub use loopback::{BROWSER_TIMEOUT, loopback_login};
pub use session::{Session, forget, load, save};

/// The scopes asked for besides `openid`: the display name, the groups
/// claim and a refresh token (so a session outlives one ID token).
pub const DEFAULT_SCOPES: &[&str] = &["profile", "groups", "offline_access"];

/// The claim groups are read from unless configured otherwise.
pub const DEFAULT_GROUPS_CLAIM: &str = "groups";

/// Which provider, and as which client. Kept in the store's settings
/// (audited; in team mode one provider for the organisation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderConfig {
    /// The issuer URL exactly as the provider's discovery document names
    /// it (`iss` of its tokens).
    pub issuer: String,
    /// This installation's client id at the provider (a public client:
    /// the ID tokens' `aud`).
    pub client_id: String,
    /// The ID token claim holding the person's groups (a list of strings).
    pub groups_claim: String,
    /// Scopes asked for besides `openid`.
    pub scopes: Vec<String>,
}

impl ProviderConfig {
    pub fn new(issuer: &str, client_id: &str) -> Self {
        ProviderConfig {
            issuer: issuer.trim().trim_end_matches('/').to_owned(),
            client_id: client_id.to_owned(),
            groups_claim: DEFAULT_GROUPS_CLAIM.to_owned(),
            scopes: DEFAULT_SCOPES.iter().map(|s| s.to_string()).collect(),
        }
    }
}

/// A person as the provider vouches for them in a verified ID token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Person {
    /// The provider's issuer URL.
    pub issuer: String,
    /// The provider's stable subject identifier: the approver's id.
    pub sub: String,
    /// The display name (`name`), when the provider gives one.
    pub name: Option<String>,
    /// The groups the token carries in the configured claim.
    pub groups: Vec<String>,
    /// When the ID token it came from expires (Unix seconds).
    pub expires_at: i64,
}

/// Why signing in or a token check failed.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("{0:?} is not an issuer URL: {1}")]
    BadIssuer(String, String),
    #[error("the OpenID provider {issuer} could not be discovered: {reason}")]
    Discovery { issuer: String, reason: String },
    #[error(
        "the OpenID provider {0} offers no device authorization endpoint (RFC 8628), which the CLI signs in with"
    )]
    NoDeviceFlow(String),
    #[error("signing in at {issuer} failed: {reason}")]
    SignIn { issuer: String, reason: String },
    #[error("the ID token is not valid: {0}")]
    InvalidToken(String),
    #[error(
        "the ID token was not issued for these keys: its nonce {} does not commit to them ({expected}); sign in again (`countersign login`) on the machine that holds the keys, then enroll",
        found.as_deref().map_or_else(|| "(none)".to_owned(), |n| format!("{n:?}"))
    )]
    NotForTheseKeys {
        /// The commitment to the keys presented ([`crate::jose::key_commitment`]).
        expected: String,
        /// The token's `nonce`, if it has one.
        found: Option<String>,
    },
    #[error("the provider gave no ID token")]
    NoIdToken,
    #[error(transparent)]
    Secrets(#[from] crate::secrets::SecretError),
}

/// The provider's discovery document, with the device endpoint RFC 8628
/// adds to it.
#[derive(Clone, Debug, Deserialize, Serialize)]
struct DeviceEndpoint {
    device_authorization_endpoint: Option<DeviceAuthorizationUrl>,
}
impl AdditionalProviderMetadata for DeviceEndpoint {}

type Metadata = ProviderMetadata<
    DeviceEndpoint,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

fn issuer_url(issuer: &str) -> Result<IssuerUrl, OidcError> {
    IssuerUrl::new(issuer.to_owned())
        .map_err(|e| OidcError::BadIssuer(issuer.into(), e.to_string()))
}

async fn discover(issuer: &str) -> Result<Metadata, OidcError> {
    let http = http::client();
    Metadata::discover_async(issuer_url(issuer)?, &http::call(&http))
        .await
        .map_err(|e| OidcError::Discovery {
            issuer: issuer.to_owned(),
            reason: http::describe(&e),
        })
}

/// Fetches the provider's discovery document (and so checks the issuer
/// is reachable and names itself as configured): for a server to say at
/// start that its provider cannot be reached.
pub async fn discover_provider(issuer: &str) -> Result<(), OidcError> {
    discover(issuer).await.map(|_| ())
}

/// What the person is asked to do to sign in on another device.
#[derive(Debug, Clone)]
pub struct DevicePrompt {
    pub verification_uri: String,
    /// The URI with the code in it, when the provider gives one.
    pub verification_uri_complete: Option<String>,
    pub user_code: String,
}

/// Signs in with the device authorization grant (RFC 8628): tells
/// `prompt` where to go and which code to enter, then waits (polling the
/// token endpoint at the interval the provider asks) until the person has
/// signed in, refused, or the code expired. Returns the verified person
/// and the session to keep.
///
/// `nonce` is sent with the device authorization request (the
/// [`crate::jose::key_commitment`] of the signing keys this person will
/// enroll). RFC 8628 does not define it and providers may drop it (a
/// token without one binds no key, [`nonce_of`] tells); a token carrying
/// another nonce is refused.
pub async fn device_login(
    config: &ProviderConfig,
    nonce: Option<&str>,
    prompt: impl FnOnce(&DevicePrompt),
) -> Result<(Person, Session), OidcError> {
    let metadata = discover(&config.issuer).await?;
    let device_url = metadata
        .additional_metadata()
        .device_authorization_endpoint
        .clone()
        .ok_or_else(|| OidcError::NoDeviceFlow(config.issuer.clone()))?;
    let jwks = metadata.jwks().clone();
    let client =
        CoreClient::from_provider_metadata(metadata, ClientId::new(config.client_id.clone()), None)
            .set_device_authorization_url(device_url)
            .set_auth_type(AuthType::RequestBody);
    let sign_in = |reason: String| OidcError::SignIn {
        issuer: config.issuer.clone(),
        reason,
    };
    let http = http::client();
    let call = http::call(&http);
    let mut request = client
        .exchange_device_code()
        .add_scopes(config.scopes.iter().cloned().map(Scope::new));
    if let Some(nonce) = nonce {
        request = request.add_extra_param("nonce", nonce);
    }
    let details: CoreDeviceAuthorizationResponse = request
        .request_async(&call)
        .await
        .map_err(|e| sign_in(http::describe(&e)))?;
    prompt(&DevicePrompt {
        verification_uri: details.verification_uri().to_string(),
        verification_uri_complete: details
            .verification_uri_complete()
            .map(|u| u.secret().to_owned()),
        user_code: details.user_code().secret().to_owned(),
    });
    let token = client
        .exchange_device_access_token(&details)
        .map_err(|e| sign_in(e.to_string()))?
        .request_async(&call, tokio::time::sleep, None)
        .await
        .map_err(|e| sign_in(http::describe(&e)))?;
    let id_token = token.id_token().ok_or(OidcError::NoIdToken)?.to_string();
    let person = verify_with(&jwks, config, &config.client_id, &id_token, None)?;
    // RFC 8628 defines no nonce and most providers drop it: a token
    // without one is a sign-in that binds no key (see `nonce_of`); one
    // with another nonce is not the answer to this request.
    if let (Some(sent), Some(found)) = (nonce, nonce_of(&id_token))
        && sent != found
    {
        return Err(OidcError::InvalidToken(format!(
            "its nonce {found:?} is not the one this sign-in sent"
        )));
    }
    let session = Session {
        config: config.clone(),
        id_token,
        refresh_token: token.refresh_token().map(|t| t.secret().to_owned()),
    };
    Ok((person, session))
}

/// A fresh session: the same one while its ID token is valid for at least
/// another minute, else refreshed with its refresh token.
pub async fn refreshed(session: &Session) -> Result<(Person, Session), OidcError> {
    // The kept ID token was verified before it was kept, and the keyring
    // is this installation's: while it is valid for another minute it is
    // used without asking the provider, so signing a decision does not
    // depend on the provider being reachable.
    if let Some(person) = kept_person(session)
        && person.expires_at > jiff::Timestamp::now().as_second() + 60
    {
        return Ok((person, session.clone()));
    }
    let metadata = discover(&session.config.issuer).await?;
    let jwks = metadata.jwks().clone();
    let config = &session.config;
    if let Ok(person) = verify_with(&jwks, config, &config.client_id, &session.id_token, None)
        && person.expires_at > jiff::Timestamp::now().as_second() + 60
    {
        return Ok((person, session.clone()));
    }
    let Some(refresh) = &session.refresh_token else {
        return Err(OidcError::InvalidToken(
            "the ID token expired and the provider gave no refresh token: sign in again".into(),
        ));
    };
    let client =
        CoreClient::from_provider_metadata(metadata, ClientId::new(config.client_id.clone()), None)
            .set_auth_type(AuthType::RequestBody);
    let http = http::client();
    let token = client
        .exchange_refresh_token(&RefreshToken::new(refresh.clone()))
        .map_err(|e| OidcError::SignIn {
            issuer: config.issuer.clone(),
            reason: e.to_string(),
        })?
        .request_async(&http::call(&http))
        .await
        .map_err(|e| OidcError::SignIn {
            issuer: config.issuer.clone(),
            reason: format!(
                "the session of {:?} expired and could not be refreshed ({}): run `countersign login` again",
                kept_person(session).map(|p| p.sub).unwrap_or_default(),
                http::describe(&e)
            ),
        })?;
    let id_token = token.id_token().ok_or(OidcError::NoIdToken)?.to_string();
    let person = verify_with(&jwks, config, &config.client_id, &id_token, None)?;
    let refreshed = Session {
        config: config.clone(),
        id_token,
        refresh_token: token
            .refresh_token()
            .map(|t| t.secret().to_owned())
            .or_else(|| session.refresh_token.clone()),
    };
    Ok((person, refreshed))
}

/// The person the kept session's ID token names, read without checking
/// its signature again (it was checked before it was kept), expired or not.
pub fn kept_person(session: &Session) -> Option<Person> {
    let claims = crate::jose::peek_claims(&session.id_token)?;
    Some(Person {
        issuer: session.config.issuer.clone(),
        sub: claims["sub"].as_str()?.to_owned(),
        name: claims["name"].as_str().map(str::to_owned),
        groups: groups_in(&claims, &session.config.groups_claim),
        expires_at: claims["exp"].as_i64()?,
    })
}

fn groups_in(claims: &serde_json::Value, claim: &str) -> Vec<String> {
    match &claims[claim] {
        serde_json::Value::Array(items) => items
            .iter()
            .filter_map(|g| g.as_str().map(str::to_owned))
            .collect(),
        serde_json::Value::String(one) => vec![one.clone()],
        _ => Vec::new(),
    }
}

/// Checks an ID token someone presents (a backend enrolling a key, say):
/// signed by `config.issuer`'s keys (fetched from its discovery document),
/// issued by it, for `audience`, not expired, and — when `nonce` is given
/// — carrying exactly that `nonce` (else [`OidcError::NotForTheseKeys`]).
/// Returns who it vouches for.
pub async fn verify_id_token(
    config: &ProviderConfig,
    audience: &str,
    id_token: &str,
    nonce: Option<&str>,
) -> Result<Person, OidcError> {
    let metadata = discover(&config.issuer).await?;
    verify_with(metadata.jwks(), config, audience, id_token, nonce)
}

/// The `nonce` an ID token carries, read without checking it: to tell a
/// person, before anything is sent, that their session was opened for
/// other keys.
pub fn nonce_of(id_token: &str) -> Option<String> {
    crate::jose::peek_claims(id_token)?["nonce"]
        .as_str()
        .map(str::to_owned)
}

fn verify_with(
    jwks: &CoreJsonWebKeySet,
    config: &ProviderConfig,
    audience: &str,
    id_token: &str,
    nonce: Option<&str>,
) -> Result<Person, OidcError> {
    let invalid = |e: String| OidcError::InvalidToken(e);
    let token: CoreIdToken = id_token
        .parse()
        .map_err(|e: serde_json::Error| invalid(e.to_string()))?;
    let verifier = CoreIdTokenVerifier::new_public_client(
        ClientId::new(audience.to_owned()),
        issuer_url(&config.issuer)?,
        jwks.clone(),
    );
    // The nonce is compared below, after the signature, so that a wrong
    // one is told apart from a forged token.
    let claims = token
        .claims(&verifier, |_: Option<&Nonce>| Ok(()))
        .map_err(|e| invalid(e.to_string()))?;
    if let Some(expected) = nonce {
        let found = claims.nonce().map(|n| n.secret().to_owned());
        // Both are public values (a hash of public keys), so a plain
        // comparison leaks nothing.
        if found.as_deref() != Some(expected) {
            return Err(OidcError::NotForTheseKeys {
                expected: expected.to_owned(),
                found,
            });
        }
    }
    // The signature is checked: its payload can be read for the groups
    // claim, whose name the organisation chooses.
    let payload = crate::jose::peek_claims(id_token).unwrap_or_default();
    let groups = groups_in(&payload, &config.groups_claim);
    Ok(Person {
        issuer: config.issuer.clone(),
        sub: claims.subject().to_string(),
        name: claims
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.to_string()),
        groups,
        expires_at: claims.expiration().timestamp(),
    })
}
