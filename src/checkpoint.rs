//! Signed checkpoints of the audit trail: its head (the newest row's
//! sequence number and hash) signed with the owner's Ed25519 key, kept
//! outside the database. Whoever controls the database can lift its write
//! triggers and rewrite the trail with hashes that chain again; they cannot
//! make the rewritten trail extend a head signed before, just as a
//! Certificate Transparency log's signed tree heads pin it (RFC 6962 §3.5).
//!
//! A checkpoint is a compact JWS (RFC 7515, `alg: EdDSA`, RFC 8037) of type
//! [`CHECKPOINT_TYP`], verifiable with any JOSE library and the signer's
//! JWKS; `countersign audit verify --checkpoint FILE` checks that the trail
//! still holds the signed row, unchanged.

use serde::{Deserialize, Serialize};

use crate::Store;
use crate::signing::{Keys, SigningError};
use crate::store::StoreError;

/// The JWS `typ` of audit checkpoints.
pub const CHECKPOINT_TYP: &str = "countersign-audit-checkpoint+jwt";

/// The payload of a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointClaims {
    /// Who signed it (the audit trail's actor name).
    pub iss: String,
    /// When, in Unix seconds.
    pub iat: i64,
    pub jti: String,
    /// The database the trail is in, as the signer named it.
    pub database: String,
    /// The newest audit row's sequence number at signing.
    pub seq: i64,
    /// That row's hash (hex SHA-256, as `audit_log.hash`).
    pub hash: String,
}

/// What a checkpoint proved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckpointVerified {
    pub claims: CheckpointClaims,
    /// The key that signed it.
    pub kid: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("the audit trail is empty: nothing to checkpoint")]
    EmptyTrail,
    #[error("the checkpoint's signature does not verify: {0}")]
    Signature(SigningError),
    #[error("the checkpoint is not a Countersign audit checkpoint: {0}")]
    Malformed(String),
    #[error(
        "the trail no longer holds the checkpointed row {seq}: it ends at row {last}; rows were removed since {iss} signed it{elsewhere}"
    )]
    Missing {
        seq: i64,
        last: i64,
        iss: String,
        /// Empty, or which database the checkpoint names when it is not
        /// this one.
        elsewhere: String,
    },
    #[error(
        "audit row {seq} is not the row {iss} signed at {signed_at}: the trail was rewritten since the checkpoint{elsewhere}"
    )]
    Rewritten {
        seq: i64,
        iss: String,
        signed_at: String,
        elsewhere: String,
    },
    #[error(transparent)]
    Signing(#[from] SigningError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Signs the trail's current head with `actor`'s active key.
///
/// # Errors
/// [`CheckpointError::EmptyTrail`], or the key or store failing.
pub async fn create(
    store: &Store,
    keys: &Keys<'_>,
    actor: &str,
) -> Result<(CheckpointClaims, String), CheckpointError> {
    let (seq, hash) = store
        .audit_last_row()
        .await?
        .ok_or(CheckpointError::EmptyTrail)?;
    let claims = CheckpointClaims {
        iss: actor.to_owned(),
        iat: jiff::Timestamp::now().as_second(),
        jti: uuid::Uuid::new_v4().to_string(),
        database: store.location().to_owned(),
        seq,
        hash,
    };
    let jws = keys.active().await?.sign(&claims, CHECKPOINT_TYP)?;
    Ok((claims, jws))
}

/// Checks a checkpoint against `jwks` (the signer's public keys) and the
/// trail in `store`: the signature verifies, and the trail's row `seq`
/// still has the signed hash. The chain from that row on is
/// [`Store::verify_audit`]'s to check.
///
/// # Errors
/// The first thing that does not hold, naming the row.
pub async fn verify(
    store: &Store,
    jws: &str,
    jwks: &serde_json::Value,
) -> Result<CheckpointVerified, CheckpointError> {
    let value = crate::signing::verify_signature(jws.trim(), jwks, CHECKPOINT_TYP)
        .map_err(CheckpointError::Signature)?;
    let claims: CheckpointClaims =
        serde_json::from_value(value).map_err(|e| CheckpointError::Malformed(e.to_string()))?;
    let kid = jsonwebtoken::decode_header(jws.trim())
        .ok()
        .and_then(|h| h.kid)
        .unwrap_or_default();
    let signed_at = jiff::Timestamp::from_second(claims.iat)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| claims.iat.to_string());
    // Said when it may explain the mismatch: a checkpoint of another file.
    let elsewhere = if claims.database == store.location() {
        String::new()
    } else {
        format!(
            " (or it is a checkpoint of another database: it names {})",
            claims.database
        )
    };
    match store.audit_row_hash(claims.seq).await? {
        Some(hash) if hash == claims.hash => Ok(CheckpointVerified { claims, kid }),
        Some(_) => Err(CheckpointError::Rewritten {
            seq: claims.seq,
            iss: claims.iss,
            signed_at,
            elsewhere,
        }),
        None => Err(CheckpointError::Missing {
            seq: claims.seq,
            last: store.audit_last_row().await?.map_or(0, |(s, _)| s),
            iss: claims.iss,
            elsewhere,
        }),
    }
}

/// Every public key this installation has had, retired ones included: a
/// checkpoint stays verifiable after its key is retired.
pub async fn local_jwks(keys: &Keys<'_>) -> Result<serde_json::Value, SigningError> {
    let all: Vec<serde_json::Value> = keys
        .list()
        .await?
        .into_iter()
        .map(|k| k.public_jwk)
        .collect();
    Ok(serde_json::json!({ "keys": all }))
}
