//! Keeps one engine graph per inventory state. Every change to the
//! inventory appends to the audit trail, so the newest inventory row of the
//! trail (`Store::inventory_version`) identifies the state exactly: a query
//! after an edit sees the edit, and queries between edits share one graph.
//! An edit — made here, by the CLI, or by another owner in team mode — is
//! caught up with by reading the audit rows after the cached version and
//! patching the graph for them (`BlastGraph::patch`), so freshness costs
//! what changed; only a large change (a bulk import) or a trail that is no
//! longer the one seen (a restored database) rebuilds from the store.

use std::sync::Arc;
use tokio::sync::Mutex;

use super::blast_radius::BlastGraph;
use crate::Store;
use crate::store::StoreError;

/// More inventory changes than this since the cached version are read as
/// a rebuild: patching costs about what the changes do, a rebuild what the
/// inventory does, and a bulk import is closer to the latter.
const PATCH_LIMIT: usize = 50_000;

#[derive(Default)]
pub struct GraphCache {
    current: Mutex<Option<(Option<String>, Arc<BlastGraph>)>>,
}

/// How [`GraphCache::refresh`] brought the graph up to date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refresh {
    /// The cached graph was current.
    Current,
    /// Patched for this many changes.
    Patched(usize),
    /// Built from the whole inventory.
    Rebuilt,
}

impl GraphCache {
    pub fn new() -> Self {
        GraphCache::default()
    }

    /// The graph of the store's inventory as it is now.
    pub async fn get(&self, store: &Store) -> Result<Arc<BlastGraph>, StoreError> {
        Ok(self.get_with_version(store).await?.1)
    }

    /// The graph and the inventory version it is of
    /// (`Store::inventory_version`; `None` for an inventory never changed). A decision is bound
    /// to this version, so what is signed is what was shown.
    pub async fn get_with_version(
        &self,
        store: &Store,
    ) -> Result<(Option<String>, Arc<BlastGraph>), StoreError> {
        let (version, graph, _) = self.refresh(store).await?;
        Ok((version, graph))
    }

    /// [`GraphCache::get_with_version`], saying how the graph was brought
    /// up to date (for tests and benchmarks).
    pub async fn refresh(
        &self,
        store: &Store,
    ) -> Result<(Option<String>, Arc<BlastGraph>, Refresh), StoreError> {
        let head = store.inventory_version().await?;
        let mut current = self.current.lock().await;
        if let Some((h, g)) = current.as_mut() {
            if *h == head {
                return Ok((head, Arc::clone(g), Refresh::Current));
            }
            if let Some((changes, version)) = store
                .inventory_changes_since(h.as_deref(), PATCH_LIMIT)
                .await?
            {
                // In place when no query holds the graph, else on a copy
                // (the holder keeps the state it was reading).
                Arc::make_mut(g).patch(&changes);
                *h = version;
                return Ok((h.clone(), Arc::clone(g), Refresh::Patched(changes.len())));
            }
        }
        let graph = Arc::new(BlastGraph::from_inventory(store.snapshot().await?));
        // An edit between reading the head and the snapshot would pair a
        // graph with the wrong version: such a graph is not kept.
        if store.inventory_version().await? != head {
            return Ok((None, graph, Refresh::Rebuilt));
        }
        *current = Some((head.clone(), Arc::clone(&graph)));
        Ok((head, graph, Refresh::Rebuilt))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ContainmentAction, Usage};
    use crate::store::{ChangeContext, Edit};

    #[tokio::test]
    async fn a_query_after_an_edit_sees_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("inv.db")).await.unwrap();
        crate::demo::load(&store, false, "t").await.unwrap();
        let cache = GraphCache::new();
        let before = cache.get(&store).await.unwrap();
        assert!(
            Arc::ptr_eq(&before, &cache.get(&store).await.unwrap()),
            "no rebuild without a change"
        );
        let hits = |g: &BlastGraph| {
            g.blast(&[("key-maps", ContainmentAction::DisableAccount)])
                .unwrap()
                .summary
                .services
        };
        let was = hits(&before);

        let mut i = store.identity("key-maps").await.unwrap();
        i.used_by.push(Usage::of("ledger-db"));
        store
            .edit(
                Edit::SaveIdentity(Box::new(i)),
                None,
                &ChangeContext::new("t", "test"),
            )
            .await
            .unwrap();
        let after = cache.get(&store).await.unwrap();
        assert!(hits(&after) > was);
    }
}
