//! Observed usage in the database (`observed_edges`, migration 0012):
//! what tracing saw, kept apart from the owners' record
//! ([`crate::observed`]). An import of observations is one transaction and
//! one audit row, whose `after` lists the edges created or updated.

use std::collections::HashMap;

use super::audit::{NewEntry, append};
use super::{Store, StoreError};
use crate::observed::{EdgeKind, Observation};

/// Settings key: the age, in days, past which a documented edge tracing
/// covers but has not seen is flagged ([`crate::observed::DEFAULT_STALE_DAYS`]).
pub const OBSERVED_STALE_DAYS_KEY: &str = "observed_stale_days";

/// What recording a batch of observations did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Recorded {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

type Row = (
    String,
    String,
    i64,
    String,
    i64,
    String,
    String,
    i64,
    String,
);

/// A stored edge, or the field that is wrong with it.
fn from_row(r: Row) -> Result<Observation, (String, &'static str, String)> {
    let (kind, consumer, consumer_known, target, target_known, first, last, calls, source) = r;
    let id = format!("{kind} {consumer} -> {target}");
    let bad = |field: &'static str, reason: String| (id.clone(), field, reason);
    Ok(Observation {
        kind: EdgeKind::parse(&kind)
            .ok_or_else(|| bad("kind", format!("{kind:?} is neither calls nor uses")))?,
        consumer,
        consumer_known: consumer_known != 0,
        target,
        target_known: target_known != 0,
        first_seen: first
            .parse()
            .map_err(|e| bad("first_seen", format!("{first:?}: {e}")))?,
        last_seen: last
            .parse()
            .map_err(|e| bad("last_seen", format!("{last:?}: {e}")))?,
        calls: u64::try_from(calls).unwrap_or(0),
        source,
    })
}

impl Store {
    fn invalid_observation(
        &self,
        (id, field, reason): (String, &'static str, String),
    ) -> StoreError {
        StoreError::InvalidRow {
            db: self.location.clone(),
            entity: "observed edge",
            id,
            field,
            reason,
        }
    }

    /// Every observed edge, by kind, consumer and target.
    pub async fn observations(&self) -> Result<Vec<Observation>, StoreError> {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT kind, consumer, consumer_known, target, target_known, first_seen, last_seen, calls, source
             FROM observed_edges ORDER BY kind, consumer, target",
        )
        .fetch_all(&self.pool().await)
        .await
        .map_err(|e| self.query_error(e))?;
        rows.into_iter()
            .map(|r| from_row(r).map_err(|e| self.invalid_observation(e)))
            .collect()
    }

    /// The observed edges, indexed ([`crate::observed::Index`]).
    pub async fn observed_index(&self) -> Result<crate::observed::Index, StoreError> {
        Ok(crate::observed::Index::new(self.observations().await?))
    }

    /// Days past which a documented edge not observed is flagged.
    pub async fn observed_stale_days(&self) -> Result<u32, StoreError> {
        self.days(OBSERVED_STALE_DAYS_KEY, crate::observed::DEFAULT_STALE_DAYS)
            .await
    }

    /// Records observations read from `origin`, merging each with the same
    /// edge already stored ([`Observation::merge`]), in one transaction
    /// with one audit row (entity `observations`, id `origin`).
    pub async fn record_observations(
        &self,
        observations: &[Observation],
        origin: &str,
        ctx: &super::ChangeContext,
    ) -> Result<Recorded, StoreError> {
        self.record_observations_as(observations, origin, ctx, false)
            .await
    }

    /// What [`Store::record_observations`] would do, writing nothing (the
    /// transaction is rolled back).
    pub async fn preview_observations(
        &self,
        observations: &[Observation],
        origin: &str,
        ctx: &super::ChangeContext,
    ) -> Result<Recorded, StoreError> {
        self.record_observations_as(observations, origin, ctx, true)
            .await
    }

    async fn record_observations_as(
        &self,
        observations: &[Observation],
        origin: &str,
        ctx: &super::ChangeContext,
        dry_run: bool,
    ) -> Result<Recorded, StoreError> {
        let err = |e| self.query_error(e);
        let mut tx = self.begin_write().await.map_err(err)?;
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT kind, consumer, consumer_known, target, target_known, first_seen, last_seen, calls, source
             FROM observed_edges",
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(err)?;
        let mut stored: HashMap<(EdgeKind, String, String), Observation> = HashMap::new();
        for r in rows {
            let o = from_row(r).map_err(|e| self.invalid_observation(e))?;
            stored.insert((o.kind, o.consumer.clone(), o.target.clone()), o);
        }
        let mut recorded = Recorded::default();
        let mut written = Vec::new();
        let mut before = Vec::new();
        for o in observations {
            let key = (o.kind, o.consumer.clone(), o.target.clone());
            let (merged, existed) = match stored.get(&key) {
                Some(old) => {
                    let mut m = old.clone();
                    m.merge(o);
                    // Known now, if the inventory has learnt the name.
                    m.consumer_known |= o.consumer_known;
                    m.target_known |= o.target_known;
                    if &m == old {
                        recorded.unchanged += 1;
                        continue;
                    }
                    before.push(old.clone());
                    (m, true)
                }
                None => (o.clone(), false),
            };
            sqlx::query(
                "INSERT INTO observed_edges (kind, consumer, consumer_known, target, target_known, first_seen, last_seen, calls, source)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                 ON CONFLICT (kind, consumer, target) DO UPDATE SET
                   consumer_known = excluded.consumer_known, target_known = excluded.target_known,
                   first_seen = excluded.first_seen, last_seen = excluded.last_seen,
                   calls = excluded.calls, source = excluded.source",
            )
            .bind(merged.kind.as_str())
            .bind(&merged.consumer)
            .bind(i64::from(merged.consumer_known))
            .bind(&merged.target)
            .bind(i64::from(merged.target_known))
            .bind(merged.first_seen.to_string())
            .bind(merged.last_seen.to_string())
            .bind(i64::try_from(merged.calls).unwrap_or(i64::MAX))
            .bind(&merged.source)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
            if existed {
                recorded.updated += 1;
            } else {
                recorded.created += 1;
            }
            stored.insert(key, merged.clone());
            written.push(merged);
        }
        if written.is_empty() || dry_run {
            // Dropped, the transaction rolls back.
            return Ok(recorded);
        }
        let after = serde_json::json!({
            "created": recorded.created,
            "updated": recorded.updated,
            "edges": written,
        });
        append(
            &mut tx,
            NewEntry {
                actor: &ctx.actor,
                operation: "import",
                entity: "observations",
                entity_id: origin,
                // The edges it updated, as they were.
                before: (!before.is_empty())
                    .then(|| serde_json::json!({ "edges": before }).to_string()),
                after: Some(after.to_string()),
                source: &ctx.source,
            },
        )
        .await
        .map_err(err)?;
        self.commit(tx).await?;
        Ok(recorded)
    }
}
