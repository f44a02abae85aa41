//! Approvers' Ed25519 keys: generated here, the private half stored only
//! in the OS keyring, the public half recorded (and audited) in the store
//! and exported as a JWKS that backends verify decisions with.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::jwk::{Jwk, JwkSet, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::Serialize;
use std::sync::Arc;
use zeroize::Zeroizing;

use super::{SecretStore, SigningError};
use crate::Store;
use crate::store::ChangeContext;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum KeyStatus {
    /// Signs new decisions.
    Active,
    /// Replaced, but decisions it signed still verify.
    Previous,
    /// No longer accepted.
    Retired,
}

#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct KeyInfo {
    pub kid: String,
    pub status: KeyStatus,
    pub created_at: String,
    pub retired_at: Option<String>,
    pub public_jwk: serde_json::Value,
}

/// The active key, loaded from the keyring for one signing.
pub struct SigningKeyPair {
    pub kid: String,
    signing: SigningKey,
}

fn secret_name(kid: &str) -> String {
    format!("signing-key:{kid}")
}

/// The public JWK (RFC 8037) and its RFC 7638 thumbprint, which is the kid.
fn public_jwk(signing: &SigningKey) -> Result<(String, serde_json::Value), SigningError> {
    let x = URL_SAFE_NO_PAD.encode(signing.verifying_key().as_bytes());
    let bare = serde_json::json!({ "kty": "OKP", "crv": "Ed25519", "x": x });
    let jwk: Jwk = serde_json::from_value(bare).map_err(|e| SigningError::Sign(e.to_string()))?;
    let kid = jwk
        .thumbprint(ThumbprintHash::SHA256)
        .map_err(|e| SigningError::Sign(e.to_string()))?;
    let full = serde_json::json!({ "kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "alg": "EdDSA", "use": "sig" });
    Ok((kid, full))
}

impl SigningKeyPair {
    /// A key pair from its 32-byte Ed25519 seed (RFC 8032): for a
    /// service's own key kept where the service keeps its state (the
    /// broker's outcome-signing key), not for an approver's, which lives
    /// in the OS keyring only.
    pub fn from_seed(seed: &[u8; 32]) -> Result<Self, SigningError> {
        let signing = SigningKey::from_bytes(seed);
        let (kid, _) = public_jwk(&signing)?;
        Ok(SigningKeyPair { kid, signing })
    }

    /// A fresh random seed for [`SigningKeyPair::from_seed`].
    pub fn new_seed() -> Result<Zeroizing<[u8; 32]>, SigningError> {
        let mut seed = Zeroizing::new([0u8; 32]);
        getrandom::fill(seed.as_mut())
            .map_err(|e| SigningError::Sign(format!("no randomness: {e}")))?;
        Ok(seed)
    }

    /// Signs `claims` as a compact JWS: header `{alg: EdDSA, kid, typ}`.
    pub fn sign<T: Serialize>(&self, claims: &T, typ: &str) -> Result<String, SigningError> {
        let der = self
            .signing
            .to_pkcs8_der()
            .map_err(|e| SigningError::Sign(e.to_string()))?;
        let key = EncodingKey::from_ed_der(der.as_bytes());
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        header.typ = Some(typ.to_owned());
        jsonwebtoken::encode(&header, claims, &key).map_err(|e| SigningError::Sign(e.to_string()))
    }

    pub fn public_jwk(&self) -> serde_json::Value {
        public_jwk(&self.signing).expect("a valid key has a JWK").1
    }
}

/// Verifies a compact JWS of type `typ` against a JWKS (by `kid`),
/// returning its claims. Expiry is checked when the claims carry `exp`;
/// audience and the rest are the caller's to check.
pub fn verify(
    token: &str,
    jwks: &serde_json::Value,
    typ: &str,
) -> Result<serde_json::Value, SigningError> {
    verify_with(token, jwks, typ, true)
}

/// Verifies the signature only, not the expiry: what an audit after the
/// fact needs (a decision stays authentic after it has expired).
pub fn verify_signature(
    token: &str,
    jwks: &serde_json::Value,
    typ: &str,
) -> Result<serde_json::Value, SigningError> {
    verify_with(token, jwks, typ, false)
}

/// Whether a JWS `typ` names `expected`: media types compare without case
/// and may carry the `application/` prefix (RFC 7515 §4.1.9).
pub fn typ_matches(typ: &str, expected: &str) -> bool {
    let lower = typ.to_ascii_lowercase();
    let bare = lower.strip_prefix("application/").unwrap_or(&lower);
    bare.eq_ignore_ascii_case(expected)
}

/// Checks a JOSE header fails closed: no `crit` (this verifier implements
/// no extension, RFC 7515 §4.1.11), no `b64` other than `true` (RFC 7797
/// is not implemented), and a `typ` naming `expected`, so nothing else a
/// key signed can be read as this kind of token (RFC 8725 §3.11).
///
/// # Errors
/// [`SigningError::Invalid`] naming the header parameter.
pub fn check_header(token: &str, expected: &str) -> Result<(), SigningError> {
    let invalid = |m: String| SigningError::Invalid(m);
    let encoded = token.split('.').next().unwrap_or_default();
    let header: serde_json::Value = URL_SAFE_NO_PAD
        .decode(encoded)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| invalid("the JOSE header is not base64url JSON".into()))?;
    if header.get("crit").is_some() {
        return Err(invalid(
            "the header is marked crit; no extension is implemented here".into(),
        ));
    }
    if header
        .get("b64")
        .is_some_and(|b| b != &serde_json::Value::Bool(true))
    {
        return Err(invalid(
            "unencoded payloads (b64) are not implemented".into(),
        ));
    }
    match header.get("typ").and_then(|t| t.as_str()) {
        Some(typ) if typ_matches(typ, expected) => Ok(()),
        Some(typ) => Err(invalid(format!("typ is {typ:?}, not {expected:?}"))),
        None => Err(invalid(format!(
            "no typ in the header; expected {expected:?}"
        ))),
    }
}

fn verify_with(
    token: &str,
    jwks: &serde_json::Value,
    typ: &str,
    check_expiry: bool,
) -> Result<serde_json::Value, SigningError> {
    check_header(token, typ)?;
    let header =
        jsonwebtoken::decode_header(token).map_err(|e| SigningError::Invalid(e.to_string()))?;
    if header.alg != Algorithm::EdDSA {
        return Err(SigningError::Invalid(format!(
            "algorithm {:?} is not EdDSA",
            header.alg
        )));
    }
    let kid = header
        .kid
        .ok_or_else(|| SigningError::Invalid("no kid in the header".into()))?;
    let set: JwkSet =
        serde_json::from_value(jwks.clone()).map_err(|e| SigningError::Invalid(e.to_string()))?;
    let jwk = set
        .find(&kid)
        .ok_or_else(|| SigningError::Invalid(format!("unknown key {kid}")))?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| SigningError::Invalid(e.to_string()))?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.validate_aud = false;
    validation.validate_exp = check_expiry;
    validation.required_spec_claims.clear();
    jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation)
        .map(|d| d.claims)
        .map_err(|e| SigningError::Invalid(e.to_string()))
}

/// Key management over a store (public halves) and a secret store
/// (private halves). Secret-store calls run on a blocking thread.
pub struct Keys<'a> {
    store: &'a Store,
    secrets: Arc<dyn SecretStore>,
}

impl<'a> Keys<'a> {
    pub fn new(store: &'a Store, secrets: Arc<dyn SecretStore>) -> Self {
        Keys { store, secrets }
    }

    async fn blocking<T: Send + 'static, E: Into<SigningError> + Send + 'static>(
        &self,
        f: impl FnOnce(&dyn SecretStore) -> Result<T, E> + Send + 'static,
    ) -> Result<T, SigningError> {
        let secrets = Arc::clone(&self.secrets);
        tokio::task::spawn_blocking(move || f(secrets.as_ref()).map_err(Into::into))
            .await
            .map_err(|e| SigningError::Keyring(e.to_string()))?
    }

    pub async fn list(&self) -> Result<Vec<KeyInfo>, SigningError> {
        self.store
            .signing_keys()
            .await?
            .into_iter()
            .map(|r| {
                Ok(KeyInfo {
                    status: match r.status.as_str() {
                        "active" => KeyStatus::Active,
                        "previous" => KeyStatus::Previous,
                        _ => KeyStatus::Retired,
                    },
                    public_jwk: serde_json::from_str(&r.public_jwk)
                        .map_err(|e| SigningError::Sign(e.to_string()))?,
                    kid: r.kid,
                    created_at: r.created_at,
                    retired_at: r.retired_at,
                })
            })
            .collect()
    }

    /// Creates the first key; refuses if one is already active.
    pub async fn init(&self, ctx: &ChangeContext) -> Result<KeyInfo, SigningError> {
        if let Some(active) = self
            .list()
            .await?
            .into_iter()
            .find(|k| k.status == KeyStatus::Active)
        {
            return Err(SigningError::AlreadyInitialised(active.kid));
        }
        self.rotate(ctx).await
    }

    /// Creates a new active key; the old one stays verifiable as `previous`.
    /// The private key is written to the keyring before the store records
    /// the key, so the store never names a key the keyring lacks.
    pub async fn rotate(&self, ctx: &ChangeContext) -> Result<KeyInfo, SigningError> {
        let seed = SigningKeyPair::new_seed()?;
        let signing = SigningKey::from_bytes(&seed);
        let (kid, jwk) = public_jwk(&signing)?;
        let encoded = Zeroizing::new(STANDARD.encode(seed.as_ref()));
        let name = secret_name(&kid);
        {
            let name = name.clone();
            self.blocking(move |s| s.set(&name, &encoded)).await?;
        }
        if let Err(e) = self.store.add_active_key(&kid, &jwk.to_string(), ctx).await {
            let _ = self.blocking(move |s| s.delete(&name)).await;
            return Err(e.into());
        }
        self.list()
            .await?
            .into_iter()
            .find(|k| k.kid == kid)
            .ok_or(SigningError::NoActiveKey)
    }

    /// Retires a previous key and deletes its private half.
    pub async fn retire(&self, kid: &str, ctx: &ChangeContext) -> Result<bool, SigningError> {
        let done = self.store.retire_key(kid, ctx).await?;
        if done {
            let name = secret_name(kid);
            self.blocking(move |s| s.delete(&name)).await?;
        }
        Ok(done)
    }

    /// The active key with its private half from the keyring.
    pub async fn active(&self) -> Result<SigningKeyPair, SigningError> {
        let kid = self
            .list()
            .await?
            .into_iter()
            .find(|k| k.status == KeyStatus::Active)
            .ok_or(SigningError::NoActiveKey)?
            .kid;
        let name = secret_name(&kid);
        let secret = self
            .blocking(move |s| s.get(&name))
            .await?
            .ok_or_else(|| SigningError::PrivateKeyMissing(kid.clone()))?;
        let bytes = Zeroizing::new(STANDARD.decode(secret.as_bytes()).map_err(|e| {
            SigningError::DamagedKey {
                kid: kid.clone(),
                reason: e.to_string(),
            }
        })?);
        let seed: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| SigningError::DamagedKey {
                kid: kid.clone(),
                reason: "not 32 bytes".into(),
            })?;
        let signing = SigningKey::from_bytes(&seed);
        let (actual, _) = public_jwk(&signing)?;
        if actual != kid {
            return Err(SigningError::DamagedKey {
                kid,
                reason: "it does not match the recorded public key".into(),
            });
        }
        Ok(SigningKeyPair { kid, signing })
    }

    /// The [`crate::jose::key_commitment`] of the keys [`Keys::jwks`]
    /// enrolls (active and previous): the `nonce` to sign in with so that
    /// a backend enrolls these keys, and only these, for the person.
    /// `None` while there is no key.
    pub async fn commitment(&self) -> Result<Option<String>, SigningError> {
        let keys = self.list().await?;
        let kids: Vec<&str> = keys
            .iter()
            .filter(|k| k.status != KeyStatus::Retired)
            .map(|k| k.kid.as_str())
            .collect();
        Ok((!kids.is_empty()).then(|| crate::jose::key_commitment(kids)))
    }

    /// The public keys a backend should accept: active and previous.
    pub async fn jwks(&self) -> Result<serde_json::Value, SigningError> {
        let keys: Vec<serde_json::Value> = self
            .list()
            .await?
            .into_iter()
            .filter(|k| k.status != KeyStatus::Retired)
            .map(|k| k.public_jwk)
            .collect();
        Ok(serde_json::json!({ "keys": keys }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::MemorySecrets;

    async fn setup() -> (tempfile::TempDir, Store, Arc<MemorySecrets>) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("k.db")).await.unwrap();
        (dir, store, Arc::new(MemorySecrets::default()))
    }

    fn ctx() -> ChangeContext {
        ChangeContext::new("alice", "test")
    }

    #[tokio::test]
    async fn sign_then_verify_with_the_exported_jwks() {
        let (_d, store, secrets) = setup().await;
        let keys = Keys::new(&store, secrets.clone());
        assert!(matches!(
            keys.active().await,
            Err(SigningError::NoActiveKey)
        ));
        let info = keys.init(&ctx()).await.unwrap();
        assert_eq!(info.public_jwk["kty"], "OKP");
        assert_eq!(info.public_jwk["crv"], "Ed25519");
        assert_eq!(info.kid.len(), 43, "base64url SHA-256 thumbprint");
        assert!(matches!(
            keys.init(&ctx()).await,
            Err(SigningError::AlreadyInitialised(_))
        ));

        let pair = keys.active().await.unwrap();
        let token = pair
            .sign(
                &serde_json::json!({ "decision": "approve", "jti": "1" }),
                "JWT",
            )
            .unwrap();
        let claims = verify(&token, &keys.jwks().await.unwrap(), "JWT").unwrap();
        assert_eq!(claims["decision"], "approve");

        // A flipped byte in the payload fails.
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        parts[1] = URL_SAFE_NO_PAD.encode(br#"{"decision":"deny","jti":"1"}"#);
        assert!(verify(&parts.join("."), &keys.jwks().await.unwrap(), "JWT").is_err());
    }

    #[tokio::test]
    async fn rotation_keeps_old_signatures_verifiable_until_retired() {
        let (_d, store, secrets) = setup().await;
        let keys = Keys::new(&store, secrets.clone());
        let first = keys.init(&ctx()).await.unwrap();
        let old_token = keys
            .active()
            .await
            .unwrap()
            .sign(&serde_json::json!({"n": 1}), "JWT")
            .unwrap();
        let second = keys.rotate(&ctx()).await.unwrap();
        assert_ne!(first.kid, second.kid);
        assert_eq!(keys.active().await.unwrap().kid, second.kid);
        assert!(verify(&old_token, &keys.jwks().await.unwrap(), "JWT").is_ok());
        assert!(keys.retire(&first.kid, &ctx()).await.unwrap());
        assert!(verify(&old_token, &keys.jwks().await.unwrap(), "JWT").is_err());
        assert!(
            secrets.get(&secret_name(&first.kid)).unwrap().is_none(),
            "private half deleted"
        );
        assert!(
            !keys.retire(&second.kid, &ctx()).await.unwrap(),
            "the active key cannot be retired"
        );
    }

    #[tokio::test]
    async fn the_private_key_is_never_in_the_database_file() {
        let (dir, store, secrets) = setup().await;
        let keys = Keys::new(&store, secrets.clone());
        let info = keys.init(&ctx()).await.unwrap();
        let secret = secrets.get(&secret_name(&info.kid)).unwrap().unwrap();
        let seed = STANDARD.decode(secret.as_bytes()).unwrap();
        store.close().await;
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            assert!(
                !bytes.windows(32).any(|w| w == seed.as_slice()),
                "raw seed on disk"
            );
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "encoded seed on disk"
            );
        }
    }

    #[tokio::test]
    async fn a_missing_or_damaged_private_key_is_named() {
        let (_d, store, secrets) = setup().await;
        let keys = Keys::new(&store, secrets.clone());
        let info = keys.init(&ctx()).await.unwrap();
        secrets
            .set(&secret_name(&info.kid), "bm90IGEga2V5")
            .unwrap();
        assert!(matches!(
            keys.active().await,
            Err(SigningError::DamagedKey { .. })
        ));
        secrets.delete(&secret_name(&info.kid)).unwrap();
        let err = keys.active().await.err().unwrap();
        assert!(
            err.to_string().contains("missing from the OS keyring"),
            "{err}"
        );
    }
}
