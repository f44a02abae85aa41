//! JOSE and JCS primitives with no key in them: the digest a decision
//! binds a request by, and a compact JWS's payload read without checking
//! it. Below both `signing` (which signs and verifies) and `store` (whose
//! audit check compares what was signed with what was recorded), so the
//! store needs nothing from signing.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// SHA-256 over the JSON Canonicalization Scheme (RFC 8785) form of a
/// request, base64url without padding: the same bytes whatever key order
/// or whitespace the backend serialised it with, so a decision binds the
/// request's content, not its formatting.
pub fn request_digest(request: &serde_json::Value) -> String {
    let canonical = serde_jcs::to_vec(request).expect("JSON values canonicalise");
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical))
}

/// The commitment an ID token's `nonce` carries to the keys it was asked
/// for: SHA-256 over the keys' RFC 7638 thumbprints (their `kid`s),
/// sorted, deduplicated and joined with `.` (base64url has no `.`, so the
/// join is unambiguous), base64url without padding.
///
/// Why: an ID token alone says who signed in, not which key they hold, so
/// a copied token could enroll a stranger's key for its person. Asking the
/// provider for a token whose `nonce` commits to the public keys (the
/// construction OpenPubkey uses) binds the two: a backend enrolls only the
/// keys the token's nonce names. Order and repeats do not matter; any
/// other key set gives another value.
pub fn key_commitment<'a>(kids: impl IntoIterator<Item = &'a str>) -> String {
    let mut kids: Vec<&str> = kids.into_iter().collect();
    kids.sort_unstable();
    kids.dedup();
    URL_SAFE_NO_PAD.encode(Sha256::digest(kids.join(".").as_bytes()))
}

/// A compact JWS's claims, read without verifying anything: for labels,
/// bookkeeping and comparisons, never for a decision about trust.
pub fn peek_claims(jws: &str) -> Option<serde_json::Value> {
    let payload = jws.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignores_key_order_and_whitespace_but_not_content() {
        let a: serde_json::Value = serde_json::from_str(r#"{"b": 1, "a": [1.0, "x"]}"#).unwrap();
        let b: serde_json::Value = serde_json::from_str(r#"{"a":[1,"x"],"b":1}"#).unwrap();
        assert_eq!(request_digest(&a), request_digest(&b));
        let c: serde_json::Value = serde_json::from_str(r#"{"a":[1,"y"],"b":1}"#).unwrap();
        assert_ne!(request_digest(&a), request_digest(&c));
        assert_eq!(request_digest(&a).len(), 43);
    }

    #[test]
    fn a_key_commitment_names_the_set_of_keys_not_their_order() {
        assert_eq!(key_commitment(["b", "a", "a"]), key_commitment(["a", "b"]));
        assert_ne!(key_commitment(["a"]), key_commitment(["a", "b"]));
        assert_eq!(key_commitment(["a"]).len(), 43);
    }
}
