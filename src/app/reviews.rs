//! The app's Reviews: the review campaigns (`crate::campaign`) as an
//! owner works them — what is theirs to attest, which campaigns are
//! overdue, how far each team is — and the actions behind the view's
//! buttons (attest, start, export). The CLI's `countersign campaign …`
//! calls the same campaign functions.

use serde::{Deserialize, Serialize};

use crate::campaign::{self, Answers, QueueItem, ReviewerProgress, Started, Status};
use crate::store::{Campaign, CampaignItem, CampaignScope};

use super::{AppError, Workspace};

/// The Reviews view: who acts, what waits for them, every campaign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct ReviewsView {
    /// Who attests from this app (the signed-in person, else the local
    /// actor): the queue is theirs.
    pub acting_as: String,
    /// Today in the machine's time zone (YYYY-MM-DD): what "overdue" is
    /// measured against.
    pub today: String,
    /// What `acting_as` may attest, overdue first.
    pub queue: Vec<QueueItem>,
    /// Every campaign, newest first.
    pub campaigns: Vec<CampaignProgress>,
}

/// One campaign's progress, without its items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct CampaignProgress {
    pub campaign: Campaign,
    pub total: usize,
    pub confirmed: usize,
    pub changes_needed: usize,
    pub pending: usize,
    pub removed: usize,
    pub overdue: bool,
    pub by_team: Vec<ReviewerProgress>,
}

impl From<Status> for CampaignProgress {
    fn from(s: Status) -> Self {
        CampaignProgress {
            campaign: s.campaign,
            total: s.total,
            confirmed: s.confirmed,
            changes_needed: s.changes_needed,
            pending: s.pending,
            removed: s.removed,
            overdue: s.overdue,
            by_team: s.by_team,
        }
    }
}

/// An attestation as the window sends it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct AttestInput {
    pub campaign: String,
    pub identity: String,
    pub answers: Answers,
    /// The digest of the record the person was shown
    /// ([`ReviewRecord::record_digest`]): refused with `record_changed`
    /// if it changed since.
    pub record_digest: String,
    /// Free text, at most [`campaign::MAX_COMMENT_CHARS`]; required when an answer
    /// is no (what is wrong is worth a sentence to whoever fixes it).
    pub comment: String,
}

/// The record a person attests, as the form shows it, and the digest the
/// attestation will sign if it is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct ReviewRecord {
    pub detail: crate::store::IdentityDetail,
    pub record_digest: String,
}

/// A campaign to start, as the window sends it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct StartInput {
    pub id: String,
    /// Shown in lists; empty: the id.
    pub name: String,
    /// YYYY-MM-DD, not before today.
    pub due_on: String,
    pub scope: CampaignScope,
}

fn today() -> jiff::civil::Date {
    jiff::ZonedDateTime::now().date()
}

fn invalid(field: &'static str, reason: impl Into<String>) -> AppError {
    AppError::InvalidInput {
        field,
        reason: reason.into(),
    }
}

impl Workspace {
    /// The Reviews view now.
    pub async fn reviews(&self) -> Result<ReviewsView, AppError> {
        let store = self.store()?;
        let today = today();
        let acting_as = self.ctx().actor;
        let queue = campaign::queue(store, &acting_as, today).await?;
        let mut campaigns = Vec::new();
        for c in store.campaigns().await? {
            campaigns.push(campaign::status(store, &c.id, today).await?.into());
        }
        Ok(ReviewsView {
            acting_as,
            today: today.to_string(),
            queue,
            campaigns,
        })
    }

    /// One campaign with its items.
    pub async fn campaign_status(&self, id: &str) -> Result<Status, AppError> {
        crate::model::validate_id(id).map_err(|r| invalid("campaign", r))?;
        Ok(campaign::status(self.store()?, id, today()).await?)
    }

    /// Signs (with this person's key from the keyring) and records an
    /// attestation; see [`campaign::attest`].
    pub async fn attest(&self, input: AttestInput) -> Result<CampaignItem, AppError> {
        crate::model::validate_id(&input.campaign).map_err(|r| invalid("campaign", r))?;
        crate::model::validate_id(&input.identity).map_err(|r| invalid("identity", r))?;
        let store = self.store()?;
        Ok(campaign::attest(
            store,
            &self.keys(store),
            (&input.campaign, &input.identity),
            (input.answers, &input.comment),
            Some(&input.record_digest),
            &self.ctx(),
        )
        .await?)
    }

    /// The record of `identity` to show before attesting it.
    pub async fn review_record(&self, identity: &str) -> Result<ReviewRecord, AppError> {
        crate::model::validate_id(identity).map_err(|r| invalid("identity", r))?;
        let store = self.store()?;
        let detail = store.identity_detail(identity).await?;
        let record_digest = campaign::record_digest(&store.identity(identity).await?);
        Ok(ReviewRecord {
            detail,
            record_digest,
        })
    }

    /// Starts a campaign; see [`campaign::start`].
    pub async fn start_campaign(&self, input: StartInput) -> Result<Started, AppError> {
        let due: jiff::civil::Date = input
            .due_on
            .trim()
            .parse()
            .map_err(|e| invalid("due_on", format!("a date as YYYY-MM-DD ({e})")))?;
        let id = input.id.trim();
        let name = input.name.trim();
        // An empty field of the form is no criterion.
        let given = |v: Option<String>| v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let scope = CampaignScope {
            owner: given(input.scope.owner),
            tier: input.scope.tier,
            kind: given(input.scope.kind),
            environment: given(input.scope.environment),
        };
        let started = campaign::start(
            self.store()?,
            (id, if name.is_empty() { id } else { name }),
            scope,
            (due, Some(today())),
            &self.ctx(),
        )
        .await?;
        Ok(started)
    }

    /// Closes a campaign; see [`campaign::close`].
    pub async fn close_campaign(
        &self,
        id: &str,
        reason: &str,
    ) -> Result<crate::store::Closed, AppError> {
        crate::model::validate_id(id).map_err(|r| invalid("campaign", r))?;
        Ok(campaign::close(self.store()?, id, reason, &self.ctx()).await?)
    }

    /// The campaign's export for an auditor, as pretty JSON text; see
    /// [`campaign::export`].
    pub async fn campaign_export(&self, id: &str) -> Result<String, AppError> {
        crate::model::validate_id(id).map_err(|r| invalid("campaign", r))?;
        let store = self.store()?;
        let export = campaign::export(store, &self.keys(store), id, today()).await?;
        Ok(serde_json::to_string_pretty(&export).expect("JSON values serialise") + "\n")
    }
}
