//! What tracing adds to a blast radius ([`crate::observed`]), read from
//! the store beside the engine's graph.

use jiff::Timestamp;

use crate::observed::{BlastEvidence, blast_evidence};

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
