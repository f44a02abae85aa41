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

    /// Enrolls this approver's keys with the backend `client` talks to, in
    /// `group` (no identity provider: the bearer token's holder vouches).
    pub async fn enroll(&self, client: &countersign::client::BackendClient, group: &str) {
        client
            .enroll(
                self.id,
                &[group.into()],
                &self.keys().jwks().await.unwrap(),
                None,
            )
            .await
            .unwrap();
    }

    pub fn keys(&self) -> Keys<'_> {
        Keys::new(&self.store, self.secrets.clone())
    }

    /// Approves `request` for the backend `audience`; the signed JWS.
    pub async fn approve(&self, request: &Value, audience: &str) -> String {
        self.approve_because(request, audience, "checked the blast radius")
            .await
    }

    /// [`Approver::approve`] with the reason given.
    pub async fn approve_because(&self, request: &Value, audience: &str, reason: &str) -> String {
        approval::decide(
            &self.store,
            &self.keys(),
            DecisionInput {
                request,
                decision: Decision::Approve,
                reason,
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
