//! What tracing adds to a blast radius ([`crate::observed`]), read from
//! the store beside the engine's graph.

use jiff::Timestamp;

use crate::observed::{BlastEvidence, EdgeKind, Evidence, Observation, blast_evidence};

/// [`blast_evidence`] for a blast radius of `graph`, with the store's
/// observations and stale age: what `countersign blast` and the request
/// view show beside the radius.
pub async fn evidence_for(
    store: &crate::Store,
    graph: &super::blast_radius::BlastGraph,
    blast: &super::blast_radius::BlastResult,
) -> Result<BlastEvidence, crate::store::StoreError> {
    let index = store.observed_index().await?;
    let stale_days = store.observed_stale_days().await?;
    if index.is_empty() {
        return Ok(BlastEvidence {
            stale_days,
            ..BlastEvidence::default()
        });
    }
    let impacted: Vec<String> = blast.impacted.iter().map(|s| s.id.clone()).collect();
    Ok(blast_evidence(
        &index,
        &blast.contained,
        &impacted,
        |i| graph.documented_users(i),
        |s| graph.documented_dependencies(s),
        Timestamp::now(),
        stale_days,
    ))
}

/// One observed edge with what backs it and how old it is
/// (`countersign observed list`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ListedObservation {
    #[serde(flatten)]
    pub observation: Observation,
    /// `observed`, or `both` when the owners documented it too.
    pub evidence: Evidence,
    /// Whole days since it was last seen.
    pub age_days: i64,
}

/// Every observed edge, with its evidence against the owners' record in
/// `graph` and its age at `now`.
pub fn listed(
    observations: Vec<Observation>,
    graph: &super::blast_radius::BlastGraph,
    now: Timestamp,
) -> Vec<ListedObservation> {
    observations
        .into_iter()
        .map(|o| {
            let documented = match o.kind {
                EdgeKind::Uses => graph
                    .documented_users(&o.target)
                    .contains(&o.consumer.as_str()),
                EdgeKind::Calls => graph
                    .documented_dependencies(&o.consumer)
                    .contains(&o.target.as_str()),
            };
            ListedObservation {
                evidence: if documented {
                    Evidence::Both
                } else {
                    Evidence::Observed
                },
                age_days: o.age_days(now),
                observation: o,
            }
        })
        .collect()
}
