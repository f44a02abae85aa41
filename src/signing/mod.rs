//! Signed decisions: Ed25519 keys held in the OS keyring, compact JWS
//! (RFC 7515, `alg: EdDSA` per RFC 8037) that any JOSE library verifies
//! with the exported JWKS, and the RFC 8785 digest that binds a decision
//! to the exact request it answers.

mod keys;

pub use crate::jose::{peek_claims, request_digest};
pub use crate::secrets::{MemorySecrets, OsKeyring, SecretError, SecretStore};
pub use keys::{
    KeyInfo, KeyStatus, Keys, SigningKeyPair, check_header, typ_matches, verify, verify_signature,
};

#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error(
        "the OS keyring is not available ({0}); on Linux install and start a Secret Service (Debian: apt-get install gnome-keyring) inside a desktop or D-Bus session, then try again"
    )]
    KeyringUnavailable(String),
    #[error("the OS keyring refused: {0}")]
    Keyring(String),
    #[error("no signing key yet: run `countersign keys init`")]
    NoActiveKey,
    #[error("a signing key already exists ({0}); use `countersign keys rotate` to replace it")]
    AlreadyInitialised(String),
    #[error("the private key for {0} is missing from the OS keyring; rotate to a new key")]
    PrivateKeyMissing(String),
    #[error("the private key for {kid} in the OS keyring is damaged: {reason}")]
    DamagedKey { kid: String, reason: String },
    #[error("cannot sign: {0}")]
    Sign(String),
    #[error("not a valid signature: {0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// A keyring failure while signing keeps its meaning (unavailable or
/// refused), so the hints that name what to do still apply.
impl From<SecretError> for SigningError {
    fn from(e: SecretError) -> Self {
        match e {
            SecretError::Unavailable(m) => SigningError::KeyringUnavailable(m),
            SecretError::Refused(m) => SigningError::Keyring(m),
        }
    }
}
