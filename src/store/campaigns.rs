//! Review campaigns in the database (`campaigns`, `campaign_items`,
//! migration 0014): what the campaign module (src/campaign.rs) starts and attests, each write
//! one transaction with its audit row.

use serde::{Deserialize, Serialize};

use super::audit::{NewEntry, append};
use super::{Store, StoreError};

/// Which identities a campaign covers: each given criterion must hold
/// (none given: every identity).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct CampaignScope {
    /// Owned (or backed up) by this owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Of this tier (0–3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<u8>,
    /// Of this kind (`service_account`, `api_key`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// In this environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
}

/// A campaign as started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Campaign {
    pub id: String,
    pub name: String,
    pub scope: CampaignScope,
    /// The day attestations are due (YYYY-MM-DD).
    pub due_on: String,
    pub started_by: String,
    /// RFC 3339.
    pub started_at: String,
    /// Set once it is closed: its pending items are no longer due.
    pub closed: Option<Closed>,
}

/// Who closed a campaign, when and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Closed {
    /// RFC 3339.
    pub at: String,
    pub by: String,
    pub reason: String,
}

/// One identity of a campaign and its attestation, once made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct CampaignItem {
    pub identity: String,
    /// Who reviews it: its owner when the campaign started, else its
    /// backup owner; `None` for an identity nobody owns.
    pub reviewer: Option<String>,
    pub attested_by: Option<String>,
    /// RFC 3339.
    pub attested_at: Option<String>,
    /// `confirmed` (every answer yes) or `changes_needed`.
    pub verdict: Option<String>,
    /// The attestation: a compact JWS (`countersign-attestation+jwt`).
    pub jws: Option<String>,
    /// The identity's record as attested (its canonical JSON), whose
    /// digest the attestation signs.
    pub record: Option<String>,
    /// The answers and comment the attestation signs, read from its JWS
    /// (unverified; the JWS is the evidence).
    #[ts(type = "Record<string, boolean> | null")]
    pub answers: Option<serde_json::Value>,
    pub comment: Option<String>,
    /// The identity was deleted since the campaign started: nothing is
    /// left to attest (an attestation made before stays evidence).
    pub removed: bool,
}

type CampaignRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

type ItemRow = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
);

impl Store {
    /// Records a new campaign and its items (identity, reviewer) in one
    /// transaction with one audit row (entity `campaign`).
    ///
    /// # Errors
    /// [`StoreError::Invalid`] when a campaign with this id exists.
    pub async fn insert_campaign(
        &self,
        c: &Campaign,
        items: &[(String, Option<String>)],
        ctx: &super::ChangeContext,
    ) -> Result<(), StoreError> {
        let err = |e| self.query_error(e);
        let mut tx = self.begin_write().await.map_err(err)?;
        let exists: Option<String> = sqlx::query_scalar("SELECT id FROM campaigns WHERE id = $1")
            .bind(&c.id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(err)?;
        if exists.is_some() {
            return Err(StoreError::Invalid(format!(
                "a campaign {:?} exists already: give another --id",
                c.id
            )));
        }
        let scope = serde_json::to_string(&c.scope).expect("a scope serialises");
        sqlx::query(
            "INSERT INTO campaigns (id, name, scope, due_on, started_by, started_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&c.id)
        .bind(&c.name)
        .bind(&scope)
        .bind(&c.due_on)
        .bind(&c.started_by)
        .bind(&c.started_at)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
        for (identity, reviewer) in items {
            sqlx::query(
                "INSERT INTO campaign_items (campaign_id, identity_id, reviewer) VALUES ($1, $2, $3)",
            )
            .bind(&c.id)
            .bind(identity)
            .bind(reviewer)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        }
        // Every item and its reviewer, so `audit verify` finds an item
        // added, dropped or reassigned around Countersign.
        let reviewers: serde_json::Map<String, serde_json::Value> = items
            .iter()
            .map(|(i, r)| (i.clone(), serde_json::json!(r)))
            .collect();
        let after = serde_json::json!({
            "name": c.name, "scope": c.scope, "due_on": c.due_on, "items": items.len(),
            "reviewers": reviewers,
        });
        append(
            &mut tx,
            NewEntry {
                actor: &ctx.actor,
                operation: "create",
                entity: "campaign",
                entity_id: &c.id,
                before: None,
                after: Some(after.to_string()),
                source: &ctx.source,
            },
        )
        .await
        .map_err(err)?;
        self.commit(tx).await
    }

    /// Every campaign, newest first.
    pub async fn campaigns(&self) -> Result<Vec<Campaign>, StoreError> {
        let rows: Vec<CampaignRow> = sqlx::query_as(
            "SELECT id, name, scope, due_on, started_by, started_at, closed_at, closed_by, closed_reason
             FROM campaigns ORDER BY started_at DESC, id",
        )
        .fetch_all(&self.pool().await)
        .await
        .map_err(|e| self.query_error(e))?;
        rows.into_iter().map(|r| self.campaign_from(r)).collect()
    }

    fn campaign_from(&self, r: CampaignRow) -> Result<Campaign, StoreError> {
        let (id, name, scope, due_on, started_by, started_at, closed_at, closed_by, reason) = r;
        let scope = serde_json::from_str(&scope).map_err(|e| StoreError::InvalidRow {
            db: self.location.clone(),
            entity: "campaign",
            id: id.clone(),
            field: "scope",
            reason: e.to_string(),
        })?;
        Ok(Campaign {
            id,
            name,
            scope,
            due_on,
            started_by,
            started_at,
            closed: closed_at.map(|at| Closed {
                at,
                by: closed_by.unwrap_or_default(),
                reason: reason.unwrap_or_default(),
            }),
        })
    }

    /// Closes a campaign, with its audit row (operation `close`, after:
    /// when, by whom and why), in one transaction.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] when there is no such open campaign.
    pub async fn close_campaign(
        &self,
        id: &str,
        reason: &str,
        ctx: &super::ChangeContext,
    ) -> Result<Closed, StoreError> {
        let err = |e| self.query_error(e);
        let closed = Closed {
            at: jiff::Timestamp::now().to_string(),
            by: ctx.actor.clone(),
            reason: reason.to_owned(),
        };
        let mut tx = self.begin_write().await.map_err(err)?;
        let done = sqlx::query(
            "UPDATE campaigns SET closed_at = $2, closed_by = $3, closed_reason = $4
             WHERE id = $1 AND closed_at IS NULL",
        )
        .bind(id)
        .bind(&closed.at)
        .bind(&closed.by)
        .bind(&closed.reason)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Invalid(format!(
                "no open campaign {id:?}: it is closed already, or there is none"
            )));
        }
        append(
            &mut tx,
            NewEntry {
                actor: &ctx.actor,
                operation: "close",
                entity: "campaign",
                entity_id: id,
                before: None,
                after: Some(serde_json::to_string(&closed).expect("serialises")),
                source: &ctx.source,
            },
        )
        .await
        .map_err(err)?;
        self.commit(tx).await?;
        Ok(closed)
    }

    /// One campaign and its items, by identity id; `None` if there is none.
    pub async fn campaign(
        &self,
        id: &str,
    ) -> Result<Option<(Campaign, Vec<CampaignItem>)>, StoreError> {
        let pool = self.pool().await;
        let row: Option<CampaignRow> = sqlx::query_as(
            "SELECT id, name, scope, due_on, started_by, started_at, closed_at, closed_by, closed_reason
             FROM campaigns WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&pool)
        .await
        .map_err(|e| self.query_error(e))?;
        let Some(row) = row else { return Ok(None) };
        let items: Vec<ItemRow> = sqlx::query_as(
            "SELECT identity_id, reviewer, attested_by, attested_at, verdict, jws, record,
                    (SELECT COUNT(*) FROM identities i WHERE i.id = campaign_items.identity_id)
             FROM campaign_items WHERE campaign_id = $1 ORDER BY identity_id",
        )
        .bind(id)
        .fetch_all(&pool)
        .await
        .map_err(|e| self.query_error(e))?;
        let items = items
            .into_iter()
            .map(
                |(identity, reviewer, attested_by, attested_at, verdict, jws, record, present)| {
                    let claims = jws.as_deref().and_then(crate::jose::peek_claims);
                    CampaignItem {
                        identity,
                        reviewer,
                        attested_by,
                        attested_at,
                        verdict,
                        answers: claims.as_ref().map(|c| c["answers"].clone()),
                        comment: claims
                            .as_ref()
                            .and_then(|c| c["comment"].as_str().map(str::to_owned))
                            .filter(|c| !c.is_empty()),
                        jws,
                        record,
                        removed: present == 0,
                    }
                },
            )
            .collect();
        Ok(Some((self.campaign_from(row)?, items)))
    }

    /// Records an attestation on a campaign's item, once: in one
    /// transaction with its audit row (entity `attestation`, id
    /// `CAMPAIGN#IDENTITY`, after: the JWS).
    ///
    /// # Errors
    /// [`StoreError::Invalid`] when the item was attested already or is
    /// not part of the campaign.
    pub async fn record_attestation(
        &self,
        campaign: &str,
        item: &CampaignItem,
        ctx: &super::ChangeContext,
    ) -> Result<(), StoreError> {
        let err = |e| self.query_error(e);
        let mut tx = self.begin_write().await.map_err(err)?;
        let done = sqlx::query(
            "UPDATE campaign_items SET attested_by = $3, attested_at = $4, verdict = $5, jws = $6, record = $7
             WHERE campaign_id = $1 AND identity_id = $2 AND attested_at IS NULL AND jws IS NULL
               AND EXISTS (SELECT 1 FROM campaigns c WHERE c.id = $1 AND c.closed_at IS NULL)",
        )
        .bind(campaign)
        .bind(&item.identity)
        .bind(&item.attested_by)
        .bind(&item.attested_at)
        .bind(&item.verdict)
        .bind(&item.jws)
        .bind(&item.record)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Invalid(format!(
                "{} is not awaiting an attestation in campaign {campaign:?} (attested already, not part of it, or the campaign is closed)",
                item.identity
            )));
        }
        append(
            &mut tx,
            NewEntry {
                actor: &ctx.actor,
                operation: "attest",
                entity: "attestation",
                // `#` is in no id, so the pair reads back one way.
                entity_id: &format!("{campaign}#{}", item.identity),
                before: None,
                after: item.jws.clone(),
                source: &ctx.source,
            },
        )
        .await
        .map_err(err)?;
        self.commit(tx).await
    }
}
