//! Review campaigns: owners attest, on a schedule, that what Countersign
//! holds of each identity in scope is right (CIS Controls v8 5.5 asks for
//! service accounts to be reviewed at least quarterly; OWASP NHI1:2025).
//!
//! A campaign is started over a scope (owner, tier, kind, environment) with
//! a due date; each identity in scope at that moment becomes an item, to be
//! reviewed by its owner, else its backup owner. An attestation answers
//! four questions — still needed, owner and backup right, consumers
//! complete, containment plan right — and is a compact JWS
//! (`countersign-attestation+jwt`, EdDSA) signed with the attester's key
//! from the OS keyring, over the SHA-256 of the identity's record as
//! attested in its RFC 8785 canonical form. The export carries each
//! attestation, the record it signs and the JWKS, so an auditor verifies
//! it offline with any JOSE library (`tests/interop/verify_campaign.py`
//! does it with Python's joserfc and rfc8785).

use serde::Serialize;

use crate::signing::{Keys, SigningError};
use crate::store::{Campaign, CampaignItem, CampaignScope, ChangeContext, Store, StoreError};

/// The JWS `typ` of attestations.
pub const ATTESTATION_TYP: &str = "countersign-attestation+jwt";

#[derive(Debug, thiserror::Error)]
pub enum CampaignError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Signing(#[from] SigningError),
    #[error("no campaign {0:?}: `countersign campaign list` shows them")]
    NotFound(String),
    #[error("no identity is in the campaign's scope: nothing to review")]
    EmptyScope,
    #[error("{identity} is not part of campaign {campaign:?}")]
    NotAnItem { campaign: String, identity: String },
    #[error(
        "{actor} does not review {identity}: its reviewer is {reviewer} (its owner, else its backup owner, or a member of that team)"
    )]
    NotTheReviewer {
        actor: String,
        identity: String,
        reviewer: String,
    },
    #[error(
        "{identity}'s record changed since it was shown: what would be signed is not what was read"
    )]
    RecordChanged { identity: String },
    #[error("campaign {0:?} is closed: nothing in it is attested any more")]
    Closed(String),
    #[error(
        "{0} is not a person of the inventory: an attestation is one person's word, never a team's; attest as yourself (a person owner), or add yourself to the inventory's owners"
    )]
    NotAPerson(String),
    #[error("{0}")]
    Invalid(String),
}

/// An owner's answers about one identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, ts_rs::TS)]
pub struct Answers {
    /// The identity is still needed.
    pub still_needed: bool,
    /// Its owner and backup owner are right.
    pub owners_right: bool,
    /// Its consumers (`used_by`) are complete.
    pub consumers_complete: bool,
    /// Its containment plans (reversibility, rollback, recovery) are right.
    pub containment_right: bool,
}

impl Answers {
    /// Every answer yes: the record is confirmed.
    pub fn confirms(&self) -> bool {
        self.still_needed && self.owners_right && self.consumers_complete && self.containment_right
    }
}

/// What an attestation's JWS says.
#[derive(Debug, Serialize)]
struct Claims<'a> {
    iss: &'static str,
    /// Who attests.
    sub: &'a str,
    jti: String,
    /// Seconds since 1970 (RFC 7519 NumericDate).
    iat: i64,
    campaign: &'a str,
    identity: &'a str,
    /// base64url SHA-256 of the record's RFC 8785 canonical form.
    record_digest: String,
    answers: Answers,
    verdict: &'static str,
    comment: &'a str,
}

/// The longest campaign name.
pub const MAX_NAME_CHARS: usize = 200;
/// The longest comment an attestation carries (it is signed and stored).
pub const MAX_COMMENT_CHARS: usize = 2000;

/// Starts a campaign over the identities in `scope` now, due on `due_on`,
/// which may not be before `not_before` when given (today, except when a
/// campaign already running elsewhere is recorded with its own dates).
///
/// # Errors
/// [`CampaignError::EmptyScope`] when nothing is in scope; a store error
/// (a campaign with this id exists).
pub async fn start(
    store: &Store,
    (id, name): (&str, &str),
    scope: CampaignScope,
    (due_on, not_before): (jiff::civil::Date, Option<jiff::civil::Date>),
    ctx: &ChangeContext,
) -> Result<Started, CampaignError> {
    crate::model::validate_id(id)
        .map_err(|m| CampaignError::Invalid(format!("the campaign id {m}")))?;
    let invalid = |m: String| CampaignError::Invalid(m);
    let name = Some(name.trim()).filter(|n| !n.is_empty()).unwrap_or(id);
    crate::model::text::check(name, false, MAX_NAME_CHARS)
        .map_err(|m| invalid(format!("the campaign's name {m}")))?;
    if let Some(today) = not_before
        && due_on < today
    {
        return Err(invalid(format!(
            "the due date {due_on} is past (today is {today}): every item would be overdue from the start; give today or a later day"
        )));
    }
    if store.campaign(id).await?.is_some() {
        return Err(invalid(format!(
            "a campaign {id:?} exists already: give another id"
        )));
    }
    if let Some(k) = &scope.kind {
        k.parse::<crate::model::IdentityKind>()
            .map_err(|e| invalid(format!("--kind: {e}")))?;
    }
    if let Some(e) = &scope.environment {
        e.parse::<crate::model::Environment>()
            .map_err(|e| invalid(format!("--environment: {e}")))?;
    }
    if let Some(t) = scope.tier {
        crate::model::Tier::new(t).map_err(|e| invalid(format!("--tier: {e}")))?;
    }
    let inventory = store.snapshot().await?;
    if let Some(o) = &scope.owner
        && !inventory.owners.iter().any(|x| &x.id == o)
        && !inventory
            .identities
            .iter()
            .any(|i| i.owner.as_ref() == Some(o) || i.backup_owner.as_ref() == Some(o))
    {
        return Err(invalid(format!("--owner: no owner {o:?} in the inventory")));
    }
    let items: Vec<(String, Option<String>)> = inventory
        .identities
        .iter()
        .filter(|i| {
            scope.owner.as_deref().is_none_or(|o| {
                i.owner.as_deref() == Some(o) || i.backup_owner.as_deref() == Some(o)
            }) && scope.tier.is_none_or(|t| i.tier.get() == t)
                && scope.kind.as_deref().is_none_or(|k| i.kind.as_str() == k)
                && scope
                    .environment
                    .as_deref()
                    .is_none_or(|e| i.environment.as_str() == e)
        })
        .map(|i| {
            (
                i.id.clone(),
                i.owner.clone().or_else(|| i.backup_owner.clone()),
            )
        })
        .collect();
    // Nobody can attest what nobody owns: left out, and said.
    let (items, unowned): (Vec<_>, Vec<_>) = items.into_iter().partition(|(_, r)| r.is_some());
    let unowned: Vec<String> = unowned.into_iter().map(|(i, _)| i).collect();
    if items.is_empty() {
        return Err(CampaignError::EmptyScope);
    }
    let campaign = Campaign {
        id: id.to_owned(),
        name: name.to_owned(),
        scope,
        due_on: due_on.to_string(),
        started_by: ctx.actor.clone(),
        started_at: jiff::Timestamp::now().to_string(),
        closed: None,
    };
    store.insert_campaign(&campaign, &items, ctx).await?;
    Ok(Started {
        campaign,
        items: items.len(),
        unowned,
    })
}

/// A campaign just started: how many items, and the identities in scope
/// left out because they have no owner or backup owner to review them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Started {
    pub campaign: Campaign,
    pub items: usize,
    pub unowned: Vec<String>,
}

/// How `actor` may attest an item: the role that lets them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ReviewRole {
    /// They are the item's reviewer, or the identity's owner now.
    Owner,
    /// They are a person of the reviewer team (or of the owning team now).
    TeamMember,
    /// They are the identity's backup owner.
    BackupOwner,
}

/// Whether `actor` is a person owner of the inventory (who has not left).
pub fn is_person(owners: &[crate::model::Owner], actor: &str) -> bool {
    owners
        .iter()
        .any(|o| o.id == actor && o.kind == crate::model::OwnerKind::Person && o.left_on.is_none())
}

/// Whether `actor` may attest `identity`, whose item names `reviewer`:
/// they are the reviewer or the identity's owner now (it may have changed
/// hands since the start), a person of either of those teams, or its
/// backup owner. `owners` is the inventory's owners (for team membership).
pub fn role_of(
    owners: &[crate::model::Owner],
    actor: &str,
    reviewer: Option<&str>,
    identity: &crate::model::Identity,
) -> Option<ReviewRole> {
    // A person of the inventory attests, never a team (nor a name nobody
    // knows): an attestation is one person's word.
    if !is_person(owners, actor) {
        return None;
    }
    let responsible = [reviewer, identity.owner.as_deref()];
    if responsible.contains(&Some(actor)) {
        return Some(ReviewRole::Owner);
    }
    let team = owners
        .iter()
        .find(|o| o.id == actor && o.left_on.is_none())
        .and_then(|o| o.parent.as_deref());
    if team.is_some() && responsible.contains(&team) {
        return Some(ReviewRole::TeamMember);
    }
    (identity.backup_owner.as_deref() == Some(actor)).then_some(ReviewRole::BackupOwner)
}

/// Signs and records `actor`'s attestation of `identity` in `campaign`; a
/// confirmation also records the identity's review (what Needs attention
/// counts staleness from).
///
/// `shown`: the digest ([`record_digest`]) of the record the attester was
/// shown, when they were shown one: the attestation is refused if the
/// record changed since, so what is signed is what was read.
///
/// # Errors
/// [`CampaignError::NotFound`], [`CampaignError::NotAnItem`],
/// [`CampaignError::NotTheReviewer`], [`CampaignError::RecordChanged`], a signing error (no key in the
/// keyring), or a store error (attested already).
pub async fn attest(
    store: &Store,
    keys: &Keys<'_>,
    (campaign, identity): (&str, &str),
    (answers, comment): (Answers, &str),
    shown: Option<&str>,
    ctx: &ChangeContext,
) -> Result<CampaignItem, CampaignError> {
    let (started, items) = store
        .campaign(campaign)
        .await?
        .ok_or_else(|| CampaignError::NotFound(campaign.to_owned()))?;
    if started.closed.is_some() {
        return Err(CampaignError::Closed(campaign.to_owned()));
    }
    let item = items
        .into_iter()
        .find(|i| i.identity == identity)
        .ok_or_else(|| CampaignError::NotAnItem {
            campaign: campaign.to_owned(),
            identity: identity.to_owned(),
        })?;
    if ctx.actor.trim().is_empty() {
        return Err(CampaignError::Invalid(
            "an attestation needs the attester's name".into(),
        ));
    }
    let comment = comment.trim();
    crate::model::text::check(comment, true, MAX_COMMENT_CHARS)
        .map_err(|m| CampaignError::Invalid(format!("the comment {m}")))?;
    if !answers.confirms() && comment.is_empty() {
        return Err(CampaignError::Invalid(
            "say what is wrong in a comment: an answer is no, and whoever fixes the record needs to know what to change".into(),
        ));
    }
    let record = store.identity(identity).await?;
    let owners = store.owners().await?;
    if !is_person(&owners, &ctx.actor) {
        return Err(CampaignError::NotAPerson(ctx.actor.clone()));
    }
    if role_of(&owners, &ctx.actor, item.reviewer.as_deref(), &record).is_none() {
        return Err(CampaignError::NotTheReviewer {
            actor: ctx.actor.clone(),
            identity: identity.to_owned(),
            reviewer: item
                .reviewer
                .unwrap_or_else(|| "nobody (it has no owner)".into()),
        });
    }
    let value = serde_json::to_value(&record).expect("an identity serialises");
    let canonical = serde_jcs::to_string(&value).expect("JSON values canonicalise");
    let record_digest = crate::jose::request_digest(&value);
    if shown.is_some_and(|d| d != record_digest) {
        return Err(CampaignError::RecordChanged {
            identity: identity.to_owned(),
        });
    }
    let verdict = if answers.confirms() {
        "confirmed"
    } else {
        "changes_needed"
    };
    let claims = Claims {
        iss: "countersign",
        sub: &ctx.actor,
        jti: uuid::Uuid::new_v4().to_string(),
        iat: jiff::Timestamp::now().as_second(),
        campaign,
        identity,
        record_digest,
        answers,
        verdict,
        comment,
    };
    let jws = keys.active().await?.sign(&claims, ATTESTATION_TYP)?;
    let attested = CampaignItem {
        identity: identity.to_owned(),
        reviewer: item.reviewer,
        attested_by: Some(ctx.actor.clone()),
        attested_at: Some(jiff::Timestamp::now().to_string()),
        verdict: Some(verdict.to_owned()),
        answers: Some(serde_json::to_value(answers).expect("answers serialise")),
        comment: Some(comment.to_owned()).filter(|c| !c.is_empty()),
        jws: Some(jws),
        record: Some(canonical),
        removed: false,
    };
    store.record_attestation(campaign, &attested, ctx).await?;
    if answers.confirms() {
        // The attestation stands even where the review cannot be recorded
        // (an identity still owned by someone who left).
        match store.attest_review(identity, None, ctx).await {
            Ok(_) | Err(StoreError::Invalid(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(attested)
}

/// One reviewer's progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct ReviewerProgress {
    pub reviewer: String,
    pub total: usize,
    pub attested: usize,
}

/// Where a campaign stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Status {
    pub campaign: Campaign,
    pub total: usize,
    pub confirmed: usize,
    pub changes_needed: usize,
    /// Waiting for an attestation (identities deleted since left out).
    pub pending: usize,
    /// Items whose identity was deleted before anyone attested it.
    pub removed: usize,
    /// Past its due date with items still pending.
    pub overdue: bool,
    /// By reviewer (team or person), most pending first.
    pub by_reviewer: Vec<ReviewerProgress>,
    /// By team: a person reviewer counts for their team (their `parent`),
    /// a team or a person of no team for itself; most pending first.
    pub by_team: Vec<ReviewerProgress>,
    pub items: Vec<CampaignItem>,
}

/// The campaign's progress on `today`.
///
/// # Errors
/// [`CampaignError::NotFound`], or a store error.
pub async fn status(
    store: &Store,
    id: &str,
    today: jiff::civil::Date,
) -> Result<Status, CampaignError> {
    let (campaign, items) = store
        .campaign(id)
        .await?
        .ok_or_else(|| CampaignError::NotFound(id.to_owned()))?;
    let count = |v: &str| {
        items
            .iter()
            .filter(|i| i.verdict.as_deref() == Some(v))
            .count()
    };
    // An identity deleted unattested has nothing left to attest.
    let gone = |i: &CampaignItem| i.removed && i.attested_at.is_none();
    let pending = items
        .iter()
        .filter(|i| i.attested_at.is_none() && !i.removed)
        .count();
    let removed = items.iter().filter(|i| gone(i)).count();
    let owners = store.owners().await?;
    let team_of = |reviewer: &str| -> String {
        owners
            .iter()
            .find(|o| o.id == reviewer)
            .and_then(|o| o.parent.clone())
            .unwrap_or_else(|| reviewer.to_owned())
    };
    let progress = |key: &dyn Fn(&CampaignItem) -> String| {
        let mut by: std::collections::BTreeMap<String, (usize, usize)> = Default::default();
        for i in items.iter().filter(|i| !gone(i)) {
            let e = by.entry(key(i)).or_default();
            e.0 += 1;
            e.1 += usize::from(i.attested_at.is_some());
        }
        let mut v: Vec<ReviewerProgress> = by
            .into_iter()
            .map(|(reviewer, (total, attested))| ReviewerProgress {
                reviewer,
                total,
                attested,
            })
            .collect();
        v.sort_by_key(|r| std::cmp::Reverse(r.total - r.attested));
        v
    };
    const NOBODY: &str = "(no owner)";
    let by_reviewer = progress(&|i| i.reviewer.clone().unwrap_or_else(|| NOBODY.into()));
    let by_team = progress(&|i| {
        i.reviewer
            .as_deref()
            .map_or_else(|| NOBODY.into(), &team_of)
    });
    let overdue = pending > 0
        && campaign.closed.is_none()
        && campaign
            .due_on
            .parse::<jiff::civil::Date>()
            .is_ok_and(|due| due < today);
    Ok(Status {
        total: items.len(),
        confirmed: count("confirmed"),
        changes_needed: count("changes_needed"),
        pending,
        removed,
        overdue,
        by_reviewer,
        by_team,
        items,
        campaign,
    })
}

/// The digest an attestation signs of `identity`'s record: base64url
/// SHA-256 of its RFC 8785 canonical JSON.
pub fn record_digest(identity: &crate::model::Identity) -> String {
    crate::jose::request_digest(&serde_json::to_value(identity).expect("an identity serialises"))
}

/// Closes campaign `id`: its pending items are no longer due (out of
/// every queue and of Needs attention); what was attested stays.
///
/// # Errors
/// [`CampaignError::NotFound`], [`CampaignError::Closed`] (closed
/// already), [`CampaignError::Invalid`] (no reason given), a store error.
pub async fn close(
    store: &Store,
    id: &str,
    reason: &str,
    ctx: &ChangeContext,
) -> Result<crate::store::Closed, CampaignError> {
    let (campaign, _) = store
        .campaign(id)
        .await?
        .ok_or_else(|| CampaignError::NotFound(id.to_owned()))?;
    if campaign.closed.is_some() {
        return Err(CampaignError::Invalid(format!(
            "campaign {id:?} is closed already"
        )));
    }
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(CampaignError::Invalid(
            "say why it is closed: the reason stays in the audit trail".into(),
        ));
    }
    crate::model::text::check(reason, false, MAX_COMMENT_CHARS)
        .map_err(|m| CampaignError::Invalid(format!("the reason {m}")))?;
    Ok(store.close_campaign(id, reason, ctx).await?)
}

/// One identity waiting for someone's attestation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct QueueItem {
    pub campaign: String,
    pub campaign_name: String,
    /// YYYY-MM-DD.
    pub due_on: String,
    /// Its campaign is past its due date.
    pub overdue: bool,
    pub identity: String,
    pub name: String,
    pub kind: crate::model::IdentityKind,
    pub tier: crate::model::Tier,
    /// Who the campaign named to review it.
    pub reviewer: Option<String>,
    /// Why this person may attest it.
    pub role: ReviewRole,
}

/// What `actor` has to attest on `today`: every pending item of every
/// campaign that [`role_of`] lets them attest, overdue first, then by due
/// date, tier (most critical first) and identity. Items whose identity was
/// deleted since the campaign started are left out (nothing to attest).
///
/// # Errors
/// A store error.
pub async fn queue(
    store: &Store,
    actor: &str,
    today: jiff::civil::Date,
) -> Result<Vec<QueueItem>, CampaignError> {
    let inventory = store.snapshot().await?;
    let by_id: std::collections::HashMap<&str, &crate::model::Identity> = inventory
        .identities
        .iter()
        .map(|i| (i.id.as_str(), i))
        .collect();
    let mut out = Vec::new();
    for campaign in store.campaigns().await? {
        if campaign.closed.is_some() {
            continue;
        }
        let Some((campaign, items)) = store.campaign(&campaign.id).await? else {
            continue;
        };
        let overdue = campaign
            .due_on
            .parse::<jiff::civil::Date>()
            .is_ok_and(|due| due < today);
        for item in items.into_iter().filter(|i| i.attested_at.is_none()) {
            let Some(identity) = by_id.get(item.identity.as_str()) else {
                continue;
            };
            let Some(role) = role_of(&inventory.owners, actor, item.reviewer.as_deref(), identity)
            else {
                continue;
            };
            out.push(QueueItem {
                campaign: campaign.id.clone(),
                campaign_name: campaign.name.clone(),
                due_on: campaign.due_on.clone(),
                overdue,
                identity: item.identity,
                name: identity.name.clone(),
                kind: identity.kind,
                tier: identity.tier,
                reviewer: item.reviewer,
                role,
            });
        }
    }
    out.sort_by(|a, b| {
        (!a.overdue, &a.due_on, a.tier, &a.identity).cmp(&(
            !b.overdue,
            &b.due_on,
            b.tier,
            &b.identity,
        ))
    });
    Ok(out)
}

/// The JWS `typ` of an export's manifest.
pub const MANIFEST_TYP: &str = "countersign-campaign-manifest+jwt";

/// The campaign for an auditor: its status on `today`, every attestation
/// with the record it signs, the public keys (JWKS) to verify them — every
/// key the database ever recorded, retired ones included, since what they
/// signed stays evidence (`key_status` says which is which) — and a
/// manifest: a JWS by the exporter's key over the campaign, its counts
/// and every item with its verdict and the SHA-256 of its attestation, so
/// an item dropped, added or altered in the file is found.
///
/// The JWKS travels in the export for convenience; an auditor who must
/// not trust the file checks against keys obtained another way (the
/// owners' `keys export --jwks`, or the backend's enrolled keys).
///
/// # Errors
/// As [`status`], and a signing error (no key to sign the manifest).
pub async fn export(
    store: &Store,
    keys: &Keys<'_>,
    id: &str,
    today: jiff::civil::Date,
) -> Result<serde_json::Value, CampaignError> {
    use base64::Engine as _;
    use sha2::Digest as _;
    let status = status(store, id, today).await?;
    let all = keys.list().await?;
    let jwks = serde_json::json!({
        "keys": all.iter().map(|k| k.public_jwk.clone()).collect::<Vec<_>>(),
    });
    let key_status: serde_json::Map<String, serde_json::Value> = all
        .iter()
        .map(|k| {
            (
                k.kid.clone(),
                serde_json::to_value(k.status).expect("a status serialises"),
            )
        })
        .collect();
    let digest = |jws: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(jws))
    };
    let exported_at = jiff::Timestamp::now().to_string();
    let manifest = serde_json::json!({
        "iss": "countersign",
        "jti": uuid::Uuid::new_v4().to_string(),
        "iat": jiff::Timestamp::now().as_second(),
        "campaign": status.campaign.id,
        "name": status.campaign.name,
        "started_by": status.campaign.started_by,
        "started_at": status.campaign.started_at,
        "due_on": status.campaign.due_on,
        "scope": status.campaign.scope,
        "exported_at": exported_at,
        "total": status.total,
        "confirmed": status.confirmed,
        "changes_needed": status.changes_needed,
        "pending": status.pending,
        "removed": status.removed,
        "overdue": status.overdue,
        "closed": status.campaign.closed,
        "by_team": status.by_team,
        "by_reviewer": status.by_reviewer,
        "key_status": key_status,
        "items": status.items.iter().map(|i| serde_json::json!({
            "identity": i.identity,
            "reviewer": i.reviewer,
            "verdict": i.verdict,
            "attested_by": i.attested_by,
            "attested_at": i.attested_at,
            "removed": i.removed,
            "attestation_sha256": i.jws.as_deref().map(digest),
        })).collect::<Vec<_>>(),
    });
    let manifest = keys.active().await?.sign(&manifest, MANIFEST_TYP)?;
    Ok(serde_json::json!({
        "format": "countersign-campaign-export",
        "exported_at": exported_at,
        "attestation_typ": ATTESTATION_TYP,
        "manifest_typ": MANIFEST_TYP,
        "manifest": manifest,
        "status": status,
        "jwks": jwks,
        "key_status": key_status,
    }))
}
