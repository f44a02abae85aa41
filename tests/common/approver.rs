//! An approver's installation for broker tests: the demo inventory, a key
//! in memory, and approving a request as the app does.

use std::sync::Arc;

use countersign::Store;
use countersign::approval::{self, Decision, DecisionInput};
use countersign::signing::{Keys, MemorySecrets};
use countersign::store::ChangeContext;
use serde_json::Value;

/// An approver's installation: the demo inventory and a key in memory.
pub struct Approver {
    pub id: &'static str,
    _dir: tempfile::TempDir,
    pub store: Store,
    secrets: Arc<MemorySecrets>,
}

impl Approver {
    pub async fn new(id: &'static str) -> Approver {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("a.db")).await.unwrap();
        countersign::demo::load(&store, false, id).await.unwrap();
        let secrets = Arc::new(MemorySecrets::default());
        Keys::new(&store, secrets.clone())
            .init(&ChangeContext::new(id, "test"))
            .await
            .unwrap();
        Approver {
            id,
            _dir: dir,
            store,
            secrets,
        }
    }

    pub fn keys(&self) -> Keys<'_> {
        Keys::new(&self.store, self.secrets.clone())
    }

    pub async fn approve(&self, request: &Value, audience: &str) -> String {
        approval::decide(
            &self.store,
            &self.keys(),
            DecisionInput {
                request,
                decision: Decision::Approve,
                reason: "checked the blast radius",
                audience,
                destination: None,
                inventory_version: None,
            },
            &ChangeContext::new(self.id, "test"),
        )
        .await
        .unwrap()
        .jws
    }
}
