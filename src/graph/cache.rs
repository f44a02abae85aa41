//! Keeps one engine graph per inventory state. Every change to the
//! inventory appends to the audit trail, so the newest inventory row of the
//! trail (`Store::inventory_version`) identifies the state exactly: a query after an edit sees the edit (the graph is rebuilt
//! from the store), and queries between edits share one graph.

use std::sync::Arc;
use tokio::sync::Mutex;

use super::blast_radius::BlastGraph;
use crate::Store;
use crate::store::StoreError;

#[derive(Default)]
pub struct GraphCache {
    current: Mutex<Option<(Option<String>, Arc<BlastGraph>)>>,
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
        let head = store.inventory_version().await?;
        let mut current = self.current.lock().await;
        if let Some((h, g)) = current.as_ref()
            && *h == head
        {
            return Ok((head, Arc::clone(g)));
        }
        let graph = Arc::new(BlastGraph::new(&store.snapshot().await?));
        // An edit between reading the head and the snapshot would pair a
        // graph with the wrong version: such a graph is not kept.
        if store.inventory_version().await? != head {
            return Ok((None, graph));
        }
        *current = Some((head.clone(), Arc::clone(&graph)));
        Ok((head, graph))
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
