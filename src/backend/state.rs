//! What the reference backend keeps: containment requests, enrolled
//! approvers, and a receipt for every decision it was sent (accepted or
//! not). In memory: the reference backend serves drills, demos and tests;
//! a production backend keeps the same records in its own database.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use ed25519_dalek::VerifyingKey;
use serde::Serialize;

use super::verify::{KeyLookup, Rejection, VerifiedDecision, peek_jti, verify_decision};
use crate::approval::{ContainmentRequest, Eligibility, Judgement, Signer, Standing};
use crate::model::ApprovalTier;
use crate::signing::request_digest;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    Pending,
    AwaitingSecondApproval,
    Approved,
    Denied,
    Expired,
}

impl RequestStatus {
    pub fn awaits_decision(self) -> bool {
        matches!(
            self,
            RequestStatus::Pending | RequestStatus::AwaitingSecondApproval
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptStatus {
    Accepted,
    AwaitingSecondApproval,
    Rejected,
}

/// The backend's answer to one submitted decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DecisionReceipt {
    pub jti: String,
    pub request_id: String,
    pub status: ReceiptStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approver: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<String>,
    /// What the reason code alone does not say, for the person reading
    /// it (the audience the decision was signed for and the broker's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    pub received_at: String,
}

pub struct StoredRequest {
    pub seq: u64,
    /// As received, less its `callback`: what approvers see and the digest
    /// decisions must match is over.
    pub json: serde_json::Value,
    pub parsed: ContainmentRequest,
    decided: Option<RequestStatus>,
    /// Verified approvals so far (dual approval needs two).
    approvals: Vec<VerifiedDecision>,
    pub receipts: Vec<DecisionReceipt>,
}

impl StoredRequest {
    pub fn status(&self, now: jiff::Timestamp) -> RequestStatus {
        match self.decided {
            Some(s) => s,
            None if now >= self.parsed.expires_at => RequestStatus::Expired,
            None if !self.approvals.is_empty() => RequestStatus::AwaitingSecondApproval,
            None => RequestStatus::Pending,
        }
    }
}

struct Approver {
    groups: Vec<String>,
    keys: HashMap<String, VerifyingKey>,
    retired: HashSet<String>,
}

/// Receipts `GET /v1/decisions` keeps, newest last.
pub const MAX_LOG_RECEIPTS: usize = 10_000;
/// Rejected receipts kept on one request, newest last.
pub const MAX_REJECTIONS_PER_REQUEST: usize = 100;

/// Everything the backend knows, behind one lock.
pub struct BackendState {
    pub audience: String,
    /// Dual approval needs one approver from each of these groups.
    pub dual_groups: Vec<String>,
    requests: Vec<StoredRequest>,
    by_id: HashMap<String, usize>,
    approvers: HashMap<String, Approver>,
    /// First receipt per `jti`, with the JWS it was for.
    by_jti: HashMap<String, (String, DecisionReceipt)>,
    /// Receipts in arrival order, rejections included: the latest
    /// [`MAX_LOG_RECEIPTS`], so junk sent with a valid token cannot grow
    /// the backend's memory without end.
    pub log: VecDeque<DecisionReceipt>,
    /// Receipts that fell off the front of `log`.
    pub log_dropped: u64,
    /// Bumped on every change that alters a listing; with the latest
    /// expiry that has passed it names the listing (the ETag), so an
    /// unchanged list is answered `304` without building it.
    pub revision: u64,
    /// Every request's expiry, to tell cheaply whether one has passed.
    expiries: BTreeSet<(jiff::Timestamp, u64)>,
    /// Judges whether a narrowed approval's action needs a stricter tier.
    pub policy: crate::policy::Policy,
    /// Each approver's latest signed audit checkpoint (one per approver).
    checkpoints: HashMap<String, String>,
    /// Outcomes whose callback acknowledged them (by outcome id).
    delivered: HashSet<String>,
    /// Requests (by index) with a callback whose outcome is not yet
    /// acknowledged: what [`Self::outcomes_due`] looks at, so its cost is
    /// the deliveries outstanding, not every request ever received.
    undelivered: BTreeSet<usize>,
}

/// A request's final outcome, as a callback delivers it (the claims the
/// broker signs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// Stable for the request's one outcome: receivers deduplicate by it.
    pub outcome_id: String,
    pub request_id: String,
    /// `approved`, `denied` or `expired`.
    pub status: RequestStatus,
    /// The accepted decisions' compact JWS, to verify against the
    /// approvers' enrolled keys.
    pub decisions: Vec<String>,
    /// The broker (its audience).
    pub iss: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StateError {
    #[error("{0}")]
    Invalid(String),
    #[error("request {0} already exists with other content")]
    Conflict(String),
}

/// What `submit` did.
pub enum Submitted {
    /// First time this decision was seen.
    New(DecisionReceipt),
    /// The same JWS again: its first receipt, not a second application.
    Repeat(DecisionReceipt),
}

impl BackendState {
    pub fn new(audience: impl Into<String>, dual_groups: Vec<String>) -> Self {
        BackendState {
            audience: audience.into(),
            dual_groups,
            requests: Vec::new(),
            by_id: HashMap::new(),
            approvers: HashMap::new(),
            by_jti: HashMap::new(),
            log: VecDeque::new(),
            log_dropped: 0,
            revision: 0,
            expiries: BTreeSet::new(),
            policy: crate::policy::Policy::default_policy(),
            checkpoints: HashMap::new(),
            delivered: HashSet::new(),
            undelivered: BTreeSet::new(),
        }
    }

    /// Outcomes with a callback not yet acknowledged at `now`: each with
    /// the URL to POST it to.
    pub fn outcomes_due(&self, now: jiff::Timestamp) -> Vec<(String, Outcome)> {
        self.undelivered
            .iter()
            .map(|&i| &self.requests[i])
            .filter_map(|r| {
                let url = r.parsed.callback.as_ref()?;
                let status = r.status(now);
                if status.awaits_decision() {
                    return None;
                }
                let outcome_id = format!(
                    "{}/{}",
                    r.parsed.id,
                    serde_json::to_value(status).ok()?.as_str()?
                );
                if self.delivered.contains(&outcome_id) {
                    return None;
                }
                let decisions = r
                    .receipts
                    .iter()
                    .filter(|receipt| receipt.status != ReceiptStatus::Rejected)
                    .filter_map(|receipt| self.signed_decision(receipt).map(str::to_owned))
                    .collect();
                Some((
                    url.clone(),
                    Outcome {
                        outcome_id,
                        request_id: r.parsed.id.clone(),
                        status,
                        decisions,
                        iss: self.audience.clone(),
                    },
                ))
            })
            .collect()
    }

    /// Records that a callback acknowledged `outcome_id`; `false` if it
    /// already had.
    pub fn mark_delivered(&mut self, outcome_id: &str) -> bool {
        // An outcome id is `<request id>/<status>`; a request has one.
        if let Some((request_id, _)) = outcome_id.rsplit_once('/')
            && let Some(&i) = self.by_id.get(request_id)
        {
            self.undelivered.remove(&i);
        }
        self.delivered.insert(outcome_id.to_owned())
    }

    /// The ETag of a listing (`status`, `since`) at `now`, from counters
    /// alone: the revision, and the latest request expiry that has passed
    /// (a request leaving the pending list by expiring changes nothing
    /// else). O(log n), whatever the number of requests.
    pub fn listing_etag(&self, status: &str, since: u64, now: jiff::Timestamp) -> String {
        let passed = self
            .expiries
            .range(..=(now, u64::MAX))
            .next_back()
            .map_or(0, |(_, seq)| *seq);
        format!("\"{}.{passed}.{status}.{since}\"", self.revision)
    }

    /// Adds a request; the same request twice is a no-op (`Ok(false)`).
    ///
    /// The `callback` is the SOAR's delivery address, not part of what is
    /// approved: it is kept apart and taken out of the request approvers
    /// see (and sign the digest of), since a webhook URL such as a Logic
    /// Apps callback carries its own credential (`sig=`). A repeat with
    /// another callback keeps the first.
    pub fn add_request(&mut self, json: serde_json::Value) -> Result<bool, StateError> {
        let parsed: ContainmentRequest = serde_json::from_value(json.clone())
            .map_err(|e| StateError::Invalid(format!("not a containment request: {e}")))?;
        parsed.check_bounds().map_err(StateError::Invalid)?;
        let json = crate::approval::proposed(&json);
        if let Some(&i) = self.by_id.get(&parsed.id) {
            return if request_digest(&self.requests[i].json) == request_digest(&json) {
                Ok(false)
            } else {
                Err(StateError::Conflict(parsed.id))
            };
        }
        self.revision += 1;
        self.expiries.insert((parsed.expires_at, self.revision));
        self.by_id.insert(parsed.id.clone(), self.requests.len());
        if parsed.callback.is_some() {
            self.undelivered.insert(self.requests.len());
        }
        self.requests.push(StoredRequest {
            seq: self.revision,
            json,
            parsed,
            decided: None,
            approvals: Vec::new(),
            receipts: Vec::new(),
        });
        Ok(true)
    }

    /// The decision a receipt was given for, when it was authentic: what
    /// an auditor re-verifies against the approver's keys.
    pub fn signed_decision(&self, receipt: &DecisionReceipt) -> Option<&str> {
        if receipt.status == ReceiptStatus::Rejected {
            return None;
        }
        self.by_jti
            .get(&receipt.jti)
            .filter(|(_, first)| first == receipt)
            .map(|(jws, _)| jws.as_str())
    }

    pub fn request(&self, id: &str) -> Option<&StoredRequest> {
        self.by_id.get(id).map(|&i| &self.requests[i])
    }

    /// Requests in arrival order, newer than `since` (a `seq`).
    pub fn requests(&self, since: u64) -> impl Iterator<Item = &StoredRequest> {
        self.requests.iter().filter(move |r| r.seq > since)
    }

    /// Enrolls (or re-enrolls) an approver. Keys enrolled before and
    /// missing now are retired: decisions they sign are refused as such.
    pub fn enroll(
        &mut self,
        approver: &str,
        groups: Vec<String>,
        keys: Vec<(String, VerifyingKey)>,
    ) -> Result<(), StateError> {
        // A key belongs to one approver for good, and a retired key is
        // never active again, under this name or any other: otherwise
        // whoever holds an old key could bring it back.
        for (kid, _) in &keys {
            for (id, a) in &self.approvers {
                if id.as_str() != approver && (a.keys.contains_key(kid) || a.retired.contains(kid))
                {
                    return Err(StateError::Invalid(format!(
                        "key {kid} belongs to approver {id}; a key is enrolled for one approver only"
                    )));
                }
                if id.as_str() == approver && a.retired.contains(kid) {
                    return Err(StateError::Invalid(format!(
                        "key {kid} was retired; a retired key is never enrolled again (rotate to a new key)"
                    )));
                }
            }
        }
        let keys: HashMap<String, VerifyingKey> = keys.into_iter().collect();
        let entry = self
            .approvers
            .entry(approver.to_owned())
            .or_insert_with(|| Approver {
                groups: Vec::new(),
                keys: HashMap::new(),
                retired: HashSet::new(),
            });
        for kid in entry.keys.keys() {
            if !keys.contains_key(kid) {
                entry.retired.insert(kid.clone());
            }
        }
        entry.keys = keys;
        entry.groups = groups;
        Ok(())
    }

    /// Keeps `jws` as `approver`'s latest audit checkpoint once it checks
    /// out: typed as a checkpoint, signed by one of the approver's active
    /// keys, issued by the approver, and not older than the one kept.
    pub fn keep_checkpoint(&mut self, approver: &str, jws: &str) -> Result<(), StateError> {
        let invalid = |m: String| StateError::Invalid(m);
        let jwks = self
            .approver_jwks(approver)
            .ok_or_else(|| invalid(format!("no approver {approver} is enrolled")))?;
        let claims =
            crate::signing::verify_signature(jws, &jwks, crate::checkpoint::CHECKPOINT_TYP)
                .map_err(|e| invalid(format!("jws: {e}")))?;
        let claims: crate::checkpoint::CheckpointClaims = serde_json::from_value(claims)
            .map_err(|e| invalid(format!("jws: not a checkpoint: {e}")))?;
        if claims.iss != approver {
            return Err(invalid(format!(
                "jws: issued by {}, not {approver}",
                claims.iss
            )));
        }
        if let Some(kept) = self.checkpoints.get(approver)
            && let Some(old) = super::verify::peek_claims(kept)
            && old["seq"].as_i64().unwrap_or(0) > claims.seq
            && old["database"] == claims.database
        {
            return Err(invalid(format!(
                "jws: row {} is older than the checkpoint kept (row {})",
                claims.seq, old["seq"]
            )));
        }
        self.checkpoints.insert(approver.to_owned(), jws.to_owned());
        Ok(())
    }

    /// An approver's latest audit checkpoint.
    pub fn checkpoint(&self, approver: &str) -> Option<&str> {
        self.checkpoints.get(approver).map(String::as_str)
    }

    /// An approver's enrolled public keys as a JWKS.
    pub fn approver_jwks(&self, approver: &str) -> Option<serde_json::Value> {
        use base64::Engine as _;
        let a = self.approvers.get(approver)?;
        let mut kids: Vec<_> = a.keys.iter().collect();
        kids.sort_by(|x, y| x.0.cmp(y.0));
        let keys: Vec<_> = kids
            .into_iter()
            .map(|(kid, key)| {
                serde_json::json!({
                    "kty": "OKP", "crv": "Ed25519", "kid": kid, "use": "sig", "alg": "EdDSA",
                    "x": base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key.as_bytes()),
                })
            })
            .collect();
        Some(serde_json::json!({ "keys": keys, "groups": a.groups }))
    }

    /// Whether `approver` may sign request `id` now, judged by the rules
    /// [`Self::submit`] applies ([`crate::approval::may_approve`]), from
    /// what this backend holds: the approver's enrolled keys and groups,
    /// the approvals so far and the request's status. `None` when there
    /// is no such request.
    pub fn eligibility(
        &self,
        id: &str,
        approver: &str,
        now: jiff::Timestamp,
    ) -> Option<Eligibility> {
        let request = self.request(id)?;
        let enrolled = self.approvers.get(approver);
        let mut enrolled_kids: Vec<String> = enrolled
            .map(|a| a.keys.keys().cloned().collect())
            .unwrap_or_default();
        enrolled_kids.sort();
        let me = Signer {
            approver: approver.to_owned(),
            groups: enrolled.map(|a| a.groups.clone()).unwrap_or_default(),
        };
        let approvals: Vec<Signer> = request
            .approvals
            .iter()
            .map(|a| Signer {
                approver: a.approver.clone(),
                groups: self
                    .approvers
                    .get(&a.approver)
                    .map(|x| x.groups.clone())
                    .unwrap_or_default(),
            })
            .collect();
        let closed = match request.status(now) {
            RequestStatus::Expired => Some(Judgement::refused(
                Rejection::RequestExpired.code(),
                "the request has expired; nothing can be signed for it",
            )),
            RequestStatus::Approved | RequestStatus::Denied => Some(Judgement::refused(
                Rejection::AlreadyDecided.code(),
                "the request was already decided",
            )),
            _ if enrolled_kids.is_empty() => Some(Judgement::refused(
                Rejection::UnknownKey.code(),
                format!(
                    "no key is enrolled for {approver} at this backend: enroll your signing key first"
                ),
            )),
            _ => None,
        };
        let (approve, deny) = match closed {
            Some(refused) => (refused.clone(), refused),
            None => {
                let approve = match crate::approval::may_approve(
                    request.parsed.tier,
                    &request.parsed.requested_by.id,
                    approvals.first(),
                    &self.dual_groups,
                    &me,
                ) {
                    Ok(standing) => Judgement::allowed(Some(standing)),
                    Err(e) => Judgement::refused(e.code(), e.to_string()),
                };
                (approve, Judgement::allowed(None))
            }
        };
        Some(Eligibility {
            request_id: id.to_owned(),
            approver: approver.to_owned(),
            enrolled_kids,
            groups: me.groups,
            required_groups: self.dual_groups.clone(),
            approvals,
            approve,
            deny,
        })
    }

    fn lookup(&self, kid: &str) -> KeyLookup {
        for (id, a) in &self.approvers {
            if let Some(key) = a.keys.get(kid) {
                return KeyLookup::Active {
                    approver: id.clone(),
                    key: Box::new(*key),
                };
            }
            if a.retired.contains(kid) {
                return KeyLookup::Retired;
            }
        }
        KeyLookup::Unknown
    }

    /// Verifies and applies one decision. Every outcome is recorded with
    /// its reason; a byte-identical resend returns the first receipt.
    pub fn submit(&mut self, jws: &str, now: jiff::Timestamp) -> Submitted {
        if let Some(jti) = peek_jti(jws)
            && let Some((first, receipt)) = self.by_jti.get(&jti)
            && first == jws
        {
            return Submitted::Repeat(receipt.clone());
        }
        // Whether the receipt's request id is the signed one (an
        // unauthenticated one is only echoed back, never filed).
        let mut authentic = true;
        let (receipt, claims_jti) = match self.apply(jws, now) {
            Ok((verified, status)) => (receipt(&verified, status, None, now), true),
            // Only an authentic decision claims its jti: a forgery must not
            // block the genuine decision by using its jti first, and a
            // replay must not overwrite the first receipt.
            Err((rejection, Some(verified))) => (
                receipt(&verified, ReceiptStatus::Rejected, Some(rejection), now),
                rejection != Rejection::ReplayedJti,
            ),
            Err((rejection, None)) => {
                // Unverified, so only to tell the sender which request and
                // what was wrong; nothing is applied, keyed or filed by it.
                authentic = false;
                let claimed = crate::jose::peek_claims(jws);
                let text = |name: &str| {
                    claimed
                        .as_ref()
                        .and_then(|c| c[name].as_str())
                        .filter(|v| v.len() <= crate::approval::MAX_ID_BYTES.max(2000))
                        .map(str::to_owned)
                };
                let detail = (rejection == Rejection::WrongAudience).then(|| {
                    format!(
                        "signed for the audience {:?}; this broker's audience is {:?}",
                        text("aud").unwrap_or_default(),
                        self.audience
                    )
                });
                (
                    DecisionReceipt {
                        jti: peek_jti(jws).unwrap_or_default(),
                        request_id: text("request_id").unwrap_or_default(),
                        status: ReceiptStatus::Rejected,
                        reason: Some(rejection.code()),
                        approver: None,
                        decision: None,
                        detail,
                        received_at: now.to_string(),
                    },
                    false,
                )
            }
        };
        if claims_jti {
            self.by_jti
                .insert(receipt.jti.clone(), (jws.to_owned(), receipt.clone()));
        }
        if authentic && let Some(&i) = self.by_id.get(&receipt.request_id) {
            let kept = &mut self.requests[i].receipts;
            // Rejections on one request are kept up to a bound too.
            if receipt.status == ReceiptStatus::Rejected
                && kept
                    .iter()
                    .filter(|r| r.status == ReceiptStatus::Rejected)
                    .count()
                    >= MAX_REJECTIONS_PER_REQUEST
                && let Some(oldest) = kept
                    .iter()
                    .position(|r| r.status == ReceiptStatus::Rejected)
            {
                kept.remove(oldest);
            }
            kept.push(receipt.clone());
        }
        if self.log.len() >= MAX_LOG_RECEIPTS {
            self.log.pop_front();
            self.log_dropped += 1;
        }
        self.log.push_back(receipt.clone());
        // A rejection changes no listing: the ETag stays, so junk cannot
        // make every poller download the list again.
        if receipt.status != ReceiptStatus::Rejected {
            self.revision += 1;
        }
        Submitted::New(receipt)
    }

    #[allow(clippy::result_large_err)]
    fn apply(
        &mut self,
        jws: &str,
        now: jiff::Timestamp,
    ) -> Result<(VerifiedDecision, ReceiptStatus), (Rejection, Option<VerifiedDecision>)> {
        let v = verify_decision(jws, |kid| self.lookup(kid), &self.audience, now.as_second())
            .map_err(|r| (r, None))?;
        let reject = |r: Rejection, v: &VerifiedDecision| Err((r, Some(v.clone())));
        if self.by_jti.contains_key(&v.claims.jti) {
            return reject(Rejection::ReplayedJti, &v);
        }
        let Some(&i) = self.by_id.get(&v.claims.request_id) else {
            return reject(Rejection::RequestNotFound, &v);
        };
        let dual_groups = self.dual_groups.clone();
        let groups_of = |id: &str| {
            self.approvers
                .get(id)
                .map(|a| a.groups.clone())
                .unwrap_or_default()
        };
        let approver_groups = groups_of(&v.approver);
        // The groups a decision claims are the enrolled binding's (with an
        // identity provider: the ones its ID token vouched for), never more.
        if v.claims
            .approver
            .groups
            .iter()
            .any(|g| !approver_groups.contains(g))
        {
            return reject(Rejection::ApproverMismatch, &v);
        }
        let first = self.requests[i]
            .approvals
            .first()
            .map(|a| crate::approval::Signer {
                approver: a.approver.clone(),
                groups: groups_of(&a.approver),
            });
        let policy = &self.policy;
        let request = &mut self.requests[i];
        if request_digest(&request.json) != v.claims.request_digest {
            return reject(Rejection::DigestMismatch, &v);
        }
        match request.status(now) {
            RequestStatus::Expired => return reject(Rejection::RequestExpired, &v),
            RequestStatus::Approved | RequestStatus::Denied => {
                return reject(Rejection::AlreadyDecided, &v);
            }
            _ => {}
        }
        if v.kind == crate::approval::DecisionKind::ApproveNarrowed
            && let Some(narrowed) = &v.claims.narrowed
            && crate::approval::check_narrowing(&request.parsed, narrowed, now, |action| {
                tier_without_inventory(policy, &request.parsed, action)
            })
            .is_err()
        {
            return reject(Rejection::InvalidNarrowing, &v);
        }
        if v.kind == crate::approval::DecisionKind::Deny {
            request.decided = Some(RequestStatus::Denied);
            return Ok((v, ReceiptStatus::Accepted));
        }
        let me = crate::approval::Signer {
            approver: v.approver.clone(),
            groups: approver_groups,
        };
        let standing = crate::approval::may_approve(
            request.parsed.tier,
            &request.parsed.requested_by.id,
            first.as_ref(),
            &dual_groups,
            &me,
        )
        .map_err(|e| (Rejection::from(e), Some(v.clone())))?;
        match standing {
            Standing::Sole => {
                request.decided = Some(RequestStatus::Approved);
                Ok((v, ReceiptStatus::Accepted))
            }
            Standing::FirstOfTwo => {
                request.approvals.push(v.clone());
                Ok((v, ReceiptStatus::AwaitingSecondApproval))
            }
            Standing::SecondOfTwo => {
                let first = &request.approvals[0];
                if first.claims.decision != v.claims.decision
                    || first.claims.narrowed != v.claims.narrowed
                {
                    return reject(Rejection::ApprovalsDisagree, &v);
                }
                request.approvals.push(v.clone());
                request.decided = Some(RequestStatus::Approved);
                Ok((v, ReceiptStatus::Accepted))
            }
        }
    }
}

/// The tier `policy` gives `action` on a request, judged as the backend
/// can: from the request's own facts, without the inventory (no blast
/// radius, identity kind or environment). A rule that reads what is not
/// known fails to evaluate, and the narrowing is refused.
fn tier_without_inventory(
    policy: &crate::policy::Policy,
    request: &ContainmentRequest,
    action: crate::model::ContainmentAction,
) -> Result<ApprovalTier, String> {
    let facts = crate::policy::Facts {
        requester: &request.requested_by.id,
        identity: &request.target.external_id,
        kind: None,
        environment: None,
        break_glass: false,
        action,
        confidence: request.evidence.confidence,
        severity: &request.severity,
        blast: &crate::graph::blast_radius::Summary::default(),
    };
    policy
        .tier(&facts)
        .map(|t| t.tier)
        .map_err(|e| e.to_string())
}

fn receipt(
    v: &VerifiedDecision,
    status: ReceiptStatus,
    rejection: Option<Rejection>,
    now: jiff::Timestamp,
) -> DecisionReceipt {
    DecisionReceipt {
        jti: v.claims.jti.clone(),
        request_id: v.claims.request_id.clone(),
        status,
        reason: rejection.map(Rejection::code),
        approver: Some(v.approver.clone()),
        decision: Some(v.claims.decision.clone()),
        detail: None,
        received_at: now.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state_with_request(expires_in: i64, now: jiff::Timestamp) -> BackendState {
        let mut state = BackendState::new("http://b.test", Vec::new());
        let mut r: serde_json::Value = serde_json::from_str(include_str!(
            "../../assets/examples/containment-request.json"
        ))
        .unwrap();
        r["created_at"] = (now - jiff::SignedDuration::from_secs(60))
            .to_string()
            .into();
        r["expires_at"] = (now + jiff::SignedDuration::from_secs(expires_in))
            .to_string()
            .into();
        assert!(state.add_request(r).unwrap());
        state
    }

    /// Whatever is sent with a valid token, what is kept of rejections is
    /// bounded, overall and per request.
    #[test]
    fn rejections_kept_are_bounded() {
        let now = jiff::Timestamp::now();
        let mut state = state_with_request(600, now);
        for n in 0..MAX_LOG_RECEIPTS + 5 {
            let junk = format!("not.a.jws{n}");
            let Submitted::New(r) = state.submit(&junk, now) else {
                panic!("new junk")
            };
            assert_eq!(r.reason, Some("malformed"));
        }
        assert_eq!(state.log.len(), MAX_LOG_RECEIPTS);
        assert_eq!(state.log_dropped, 5);
        assert!(state.by_jti.is_empty(), "junk claims no jti");
        // Per request: authentic decisions refused on a request (here with
        // a digest that does not match it) are kept up to a bound.
        use base64::Engine as _;
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        let key = ed25519_dalek::SigningKey::from_bytes(&[5; 32]);
        let x = b64(key.verifying_key().as_bytes());
        let jwk: jsonwebtoken::jwk::Jwk =
            serde_json::from_value(serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": x}))
                .unwrap();
        let thumbprint = jwk
            .thumbprint(jsonwebtoken::jwk::ThumbprintHash::SHA256)
            .unwrap();
        let (kid, verifying) = super::super::parse_jwk(&serde_json::json!({
            "kty": "OKP", "crv": "Ed25519", "x": x, "kid": thumbprint,
        }))
        .unwrap();
        state
            .enroll("alice", Vec::new(), vec![(kid.clone(), verifying)])
            .unwrap();
        let id = state.requests[0].parsed.id.clone();
        for n in 0..MAX_REJECTIONS_PER_REQUEST + 3 {
            let claims = serde_json::json!({
                "iss": "alice", "aud": "http://b.test", "iat": now.as_second(),
                "exp": now.as_second() + 60, "jti": format!("j{n}"), "request_id": id,
                "request_digest": "not-the-digest", "decision": "approve", "reason": "r",
                "approver": {"id": "alice", "groups": []}, "policy_version": "p",
                "blast_radius_digest": "b",
            });
            let header = b64(serde_json::json!({
                "alg": "EdDSA", "kid": kid, "typ": crate::approval::DECISION_TYP,
            })
            .to_string()
            .as_bytes());
            let input = format!("{header}.{}", b64(claims.to_string().as_bytes()));
            use ed25519_dalek::Signer as _;
            let jws = format!("{input}.{}", b64(&key.sign(input.as_bytes()).to_bytes()));
            let Submitted::New(r) = state.submit(&jws, now) else {
                panic!("new")
            };
            assert_eq!(r.reason, Some("digest_mismatch"));
        }
        let kept = &state.requests[0].receipts;
        assert_eq!(kept.len(), MAX_REJECTIONS_PER_REQUEST);
        assert_eq!(
            kept.last().unwrap().jti,
            format!("j{}", MAX_REJECTIONS_PER_REQUEST + 2)
        );
    }

    /// The listing's ETag comes from counters: unchanged by rejections,
    /// changed by a new request and by a request expiring with time.
    #[test]
    fn the_listing_etag_follows_what_the_list_shows() {
        let now = jiff::Timestamp::now();
        let mut state = state_with_request(600, now);
        let first = state.listing_etag("pending", 0, now);
        assert_eq!(first, state.listing_etag("pending", 0, now));
        assert_ne!(first, state.listing_etag("all", 0, now));
        state.submit("junk", now);
        assert_eq!(
            first,
            state.listing_etag("pending", 0, now),
            "a rejection changes nothing"
        );
        let later = now + jiff::SignedDuration::from_secs(601);
        assert_ne!(
            first,
            state.listing_etag("pending", 0, later),
            "the request expired"
        );
        let mut r = state.requests[0].json.clone();
        r["id"] = "req-second".into();
        state.add_request(r).unwrap();
        assert_ne!(first, state.listing_etag("pending", 0, now));
    }
}
