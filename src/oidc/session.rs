//! A signed-in session: the provider it is with, the ID token and the
//! refresh token. Kept whole in the OS keyring (tokens are secrets: never
//! on disk, never logged), one per installation.

use serde::{Deserialize, Serialize};

use super::ProviderConfig;
use crate::secrets::{SecretError, SecretStore};

/// The keyring entry the session is kept under.
const SESSION_KEY: &str = "oidc-session";

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub config: ProviderConfig,
    pub id_token: String,
    pub refresh_token: Option<String>,
}

/// Tokens are never printed, even in debug output.
impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

pub fn save(secrets: &dyn SecretStore, session: &Session) -> Result<(), SecretError> {
    let json =
        zeroize::Zeroizing::new(serde_json::to_string(session).expect("a session serialises"));
    secrets.set(SESSION_KEY, &json)
}

/// The session kept here, if any (one that no longer parses counts as
/// none: signing in again replaces it).
pub fn load(secrets: &dyn SecretStore) -> Result<Option<Session>, SecretError> {
    Ok(secrets
        .get(SESSION_KEY)?
        .and_then(|json| serde_json::from_str(&json).ok()))
}

/// Signs out: the session's tokens leave the keyring.
pub fn forget(secrets: &dyn SecretStore) -> Result<(), SecretError> {
    secrets.delete(SESSION_KEY)
}
