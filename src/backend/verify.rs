//! Checking a decision JWS against the enrolled approvers' keys. Written
//! out step by step because this is the part a backend team reads to
//! implement their own side: every way a decision can be wrong has its
//! own reason code, recorded with the rejection.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, VerifyingKey};
use serde::Deserialize;

use crate::approval::DecisionClaims;

/// Why a decision was refused (the `reason` of a rejected receipt).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rejection {
    Malformed,
    UnsupportedHeader,
    UnsupportedAlgorithm,
    UnknownKey,
    RetiredKey,
    BadSignature,
    InvalidClaims,
    InvalidNarrowing,
    ApproverMismatch,
    WrongAudience,
    Expired,
    ReplayedJti,
    RequestNotFound,
    DigestMismatch,
    RequestExpired,
    ApproverIsRequester,
    AlreadyDecided,
    NotInRequiredGroup,
    SameApproverTwice,
    GroupsNotCovered,
    ApprovalsDisagree,
}

impl Rejection {
    pub fn code(self) -> &'static str {
        match self {
            Rejection::Malformed => "malformed",
            Rejection::UnsupportedHeader => "unsupported_header",
            Rejection::UnsupportedAlgorithm => "unsupported_algorithm",
            Rejection::UnknownKey => "unknown_key",
            Rejection::RetiredKey => "retired_key",
            Rejection::BadSignature => "bad_signature",
            Rejection::InvalidClaims => "invalid_claims",
            Rejection::InvalidNarrowing => "invalid_narrowing",
            Rejection::ApproverMismatch => "approver_mismatch",
            Rejection::WrongAudience => "wrong_audience",
            Rejection::Expired => "expired",
            Rejection::ReplayedJti => "replayed_jti",
            Rejection::RequestNotFound => "request_not_found",
            Rejection::DigestMismatch => "digest_mismatch",
            Rejection::RequestExpired => "request_expired",
            Rejection::ApproverIsRequester => "approver_is_requester",
            Rejection::AlreadyDecided => "already_decided",
            Rejection::NotInRequiredGroup => "not_in_required_group",
            Rejection::SameApproverTwice => "same_approver_twice",
            Rejection::GroupsNotCovered => "groups_not_covered",
            Rejection::ApprovalsDisagree => "approvals_disagree",
        }
    }
}

impl From<crate::approval::Ineligible> for Rejection {
    fn from(e: crate::approval::Ineligible) -> Self {
        use crate::approval::Ineligible;
        match e {
            Ineligible::ApproverIsRequester => Rejection::ApproverIsRequester,
            Ineligible::NotInRequiredGroup { .. } => Rejection::NotInRequiredGroup,
            Ineligible::SameApproverTwice => Rejection::SameApproverTwice,
            Ineligible::GroupsNotCovered { .. } => Rejection::GroupsNotCovered,
        }
    }
}

/// Clock skew tolerated on `exp` and `iat`.
pub const LEEWAY_SECONDS: i64 = 30;

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    typ: Option<String>,
    /// Present at all, it names extensions the verifier must understand;
    /// this one implements none (RFC 7515 §4.1.11).
    #[serde(default)]
    crit: Option<serde_json::Value>,
    /// RFC 7797's unencoded payload option, not implemented here.
    #[serde(default)]
    b64: Option<serde_json::Value>,
}

/// Whether `typ` names a Countersign decision.
fn is_decision_type(typ: &str) -> bool {
    crate::signing::typ_matches(typ, crate::approval::DECISION_TYP)
}

/// Where a key was found among the enrolled approvers.
pub enum KeyLookup {
    Active {
        approver: String,
        key: Box<VerifyingKey>,
    },
    Retired,
    Unknown,
}

/// A decision whose signature, signer, audience and lifetime check out.
#[derive(Debug, Clone)]
pub struct VerifiedDecision {
    /// The enrolled approver whose key signed it.
    pub approver: String,
    pub claims: DecisionClaims,
    /// What was decided, from the closed set (`approval::check_claims`).
    pub kind: crate::approval::DecisionKind,
}

/// The JWS `kid`, read without verifying anything, so a receipt can name it.
pub fn peek_jti(jws: &str) -> Option<String> {
    peek_claims(jws)?.get("jti")?.as_str().map(str::to_owned)
}

pub use crate::signing::peek_claims;

/// Verifies a compact JWS: its header is a decision's (`typ`, no `crit` or
/// `b64` extension, which are not implemented), `alg` is `EdDSA` (RFC 8037) or RFC 9864's
/// fully-specified `Ed25519`, the `kid` belongs to an enrolled approver and
/// is not retired, the signature is valid (strict Ed25519: no malleable or
/// small-order encodings), the claims name that approver, are for
/// `audience`, have not expired at `now` (Unix seconds), and pass
/// `approval::check_claims` (a closed set of decisions, bounded ids).
pub fn verify_decision(
    jws: &str,
    lookup: impl Fn(&str) -> KeyLookup,
    audience: &str,
    now: i64,
) -> Result<VerifiedDecision, Rejection> {
    let mut parts = jws.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Rejection::Malformed);
    };
    let decode = |part: &str| {
        URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| Rejection::Malformed)
    };
    let header: Header = serde_json::from_slice(&decode(h)?).map_err(|_| Rejection::Malformed)?;
    // Fails closed on the header too: an extension this verifier does not
    // implement is refused, not ignored (RFC 7515 §4.1.11, RFC 7797 §6),
    // and only a JWS typed as a decision is one (RFC 8725 §3.11), so
    // nothing else the key ever signed can be replayed as a decision.
    if header.crit.is_some()
        || header
            .b64
            .as_ref()
            .is_some_and(|b| b != &serde_json::Value::Bool(true))
        || !header.typ.as_deref().is_some_and(is_decision_type)
    {
        return Err(Rejection::UnsupportedHeader);
    }
    if header.alg != "EdDSA" && header.alg != "Ed25519" {
        return Err(Rejection::UnsupportedAlgorithm);
    }
    let kid = header.kid.ok_or(Rejection::UnknownKey)?;
    let (approver, key) = match lookup(&kid) {
        KeyLookup::Active { approver, key } => (approver, key),
        KeyLookup::Retired => return Err(Rejection::RetiredKey),
        KeyLookup::Unknown => return Err(Rejection::UnknownKey),
    };
    let signature = Signature::from_slice(&decode(s)?).map_err(|_| Rejection::BadSignature)?;
    let signing_input = &jws[..h.len() + 1 + p.len()];
    key.verify_strict(signing_input.as_bytes(), &signature)
        .map_err(|_| Rejection::BadSignature)?;
    let claims: DecisionClaims =
        serde_json::from_slice(&decode(p)?).map_err(|_| Rejection::InvalidClaims)?;
    if claims.approver.id != approver || claims.iss != approver {
        return Err(Rejection::ApproverMismatch);
    }
    if claims.aud.trim_end_matches('/') != audience.trim_end_matches('/') {
        return Err(Rejection::WrongAudience);
    }
    if claims.exp + LEEWAY_SECONDS <= now || claims.iat > now + LEEWAY_SECONDS {
        return Err(Rejection::Expired);
    }
    // Fails closed: a decision outside the closed set (a "Deny", a
    // "reject", an empty one) is refused, never read as an approval.
    let kind = crate::approval::check_claims(&claims).map_err(|_| Rejection::InvalidClaims)?;
    Ok(VerifiedDecision {
        approver,
        claims,
        kind,
    })
}

/// An enrolled public key: an RFC 8037 OKP/Ed25519 JWK whose `kid` is its
/// RFC 7638 thumbprint (checked, so a key cannot claim another's kid).
pub fn parse_jwk(jwk: &serde_json::Value) -> Result<(String, VerifyingKey), String> {
    let field = |name: &str| {
        jwk.get(name)
            .and_then(|v| v.as_str())
            .ok_or_else(|| format!("keys[].{name} is missing"))
    };
    if field("kty")? != "OKP" || field("crv")? != "Ed25519" {
        return Err("keys[] must be OKP keys on Ed25519 (RFC 8037)".into());
    }
    let x = field("x")?;
    let bytes: [u8; 32] = URL_SAFE_NO_PAD
        .decode(x)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or("keys[].x is not a base64url 32-byte Ed25519 public key")?;
    let key = VerifyingKey::from_bytes(&bytes).map_err(|e| format!("keys[].x: {e}"))?;
    // Keys no honest signer has: a point of small order verifies
    // signatures it never made, one with a torsion component or a
    // non-canonical encoding is how signatures are made malleable (RFC 8032
    // §5.1.3 requires canonical encodings; ZIP 215 and the "Taming the many
    // EdDSAs" study list the rest).
    let point = key.to_edwards();
    if key.is_weak() {
        return Err("keys[].x is a point of small order, not a usable Ed25519 public key".into());
    }
    if point.compress().to_bytes() != bytes {
        return Err("keys[].x is not the canonical encoding of its point (RFC 8032 §5.1.3)".into());
    }
    if !point.is_torsion_free() {
        return Err(
            "keys[].x has a torsion component; Ed25519 public keys are in the prime-order subgroup"
                .into(),
        );
    }
    let bare = serde_json::json!({ "kty": "OKP", "crv": "Ed25519", "x": x });
    let parsed: jsonwebtoken::jwk::Jwk =
        serde_json::from_value(bare).map_err(|e| format!("keys[]: {e}"))?;
    let thumbprint = parsed
        .thumbprint(jsonwebtoken::jwk::ThumbprintHash::SHA256)
        .map_err(|e| format!("keys[]: {e}"))?;
    let kid = field("kid")?;
    if kid != thumbprint {
        return Err(format!(
            "keys[].kid {kid} is not the key's RFC 7638 thumbprint ({thumbprint})"
        ));
    }
    Ok((thumbprint, key))
}
