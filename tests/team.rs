//! Team mode knows who writes (issue 17), on the real PostgreSQL server
//! the test command starts: each owner connects as their own database
//! role (a member of countersign_owner; governance: countersign_governance),
//! and the database itself (migrations/postgres/0007) makes the connected
//! role the author of every audit row, lets an owner change only what
//! their team owns, leaves the approval policy and the identity provider
//! to governance, and keeps each signing key and decision its person's.

mod common;

use std::sync::Arc;

use common::TestDb;
use countersign::Store;
use countersign::model::Identity;
use countersign::policy::POLICY_KEY;
use countersign::signing::{Keys, MemorySecrets};
use countersign::store::{ChangeContext, Edit};
use sqlx::{Connection as _, Executor as _};

/// A login role for this test run (roles are cluster-wide), dropped when
/// the test ends.
struct Role {
    name: String,
    admin: String,
}

impl Role {
    async fn create(admin: &str, person: &str, groups: &[&str]) -> Role {
        let name = format!(
            "{person}_{}",
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        let mut conn = sqlx::AnyConnection::connect(admin).await.unwrap();
        conn.execute(sqlx::AssertSqlSafe(format!("CREATE ROLE {name} LOGIN")))
            .await
            .unwrap();
        for g in groups {
            conn.execute(sqlx::AssertSqlSafe(format!("GRANT {g} TO {name}")))
                .await
                .unwrap();
        }
        conn.close().await.unwrap();
        Role {
            name,
            admin: admin.to_owned(),
        }
    }

    /// The database's URL, logged in as this role.
    fn url(&self, db: &str) -> String {
        let mut url = reqwest::Url::parse(db).unwrap();
        url.set_username(&self.name).unwrap();
        url.to_string()
    }
}

impl Drop for Role {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        // Best effort, on a thread of its own (drop is not async).
        let _ = std::thread::spawn(move || {
            tokio::runtime::Runtime::new().unwrap().block_on(async move {
                if let Ok(mut conn) = sqlx::AnyConnection::connect(&admin).await {
                    let _ = conn
                        .execute(sqlx::AssertSqlSafe(format!(
                            "REASSIGN OWNED BY {name} TO CURRENT_USER; DROP OWNED BY {name}; DROP ROLE {name}"
                        )))
                        .await;
                }
            })
        })
        .join();
    }
}

/// Runs `sql` on `url` as Countersign's own connections do (the session
/// setting the write triggers of 0005 look for): what a member with psql
/// and that setting could do.
async fn raw(url: &str, sql: String) -> Result<(), String> {
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    conn.execute("SET countersign.write_is_audited = 'on'")
        .await
        .unwrap();
    let result = conn
        .execute(sqlx::AssertSqlSafe(sql))
        .await
        .map(|_| ())
        .map_err(|e| e.to_string());
    let _ = conn.close().await;
    result
}

async fn renamed(store: &Store, id: &str, name: &str) -> Identity {
    let mut identity = store.identity(id).await.unwrap();
    identity.name = name.to_owned();
    identity
}

#[tokio::test]
async fn the_database_knows_who_writes_and_what_they_may_change() {
    sqlx::any::install_default_drivers();
    let db = TestDb::postgres().await;
    let url = db.target();
    let admin_url = std::env::var(common::POSTGRES_ENV).unwrap();
    // The administrator loads the inventory and maps roles to teams.
    let admin = db.open().await;
    countersign::demo::load(&admin, false, "admin")
        .await
        .unwrap();
    assert_eq!(admin.team_role(), None, "the administrator is not a member");
    let alice = Role::create(&admin_url, "alice", &["countersign_owner"]).await;
    let bob = Role::create(&admin_url, "bob", &["countersign_owner"]).await;
    let carol = Role::create(&admin_url, "carol", &["countersign_governance"]).await;
    let by_admin = ChangeContext::new("admin", "test");
    assert!(
        admin
            .add_team_member(&alice.name, "team-streaming", &by_admin)
            .await
            .unwrap()
    );
    admin
        .add_team_member(&bob.name, "team-payments", &by_admin)
        .await
        .unwrap();
    assert!(
        !admin
            .add_team_member(&bob.name, "team-payments", &by_admin)
            .await
            .unwrap(),
        "already a member"
    );
    assert!(matches!(
        admin
            .add_team_member(&bob.name, "team-nobody", &by_admin)
            .await,
        Err(countersign::store::StoreError::OwnerNotFound(_))
    ));
    admin.close().await;

    // Alice, connected as her role: it is who writes.
    let as_alice = Store::connect(&alice.url(&url)).await.unwrap();
    assert_eq!(as_alice.team_role(), Some(alice.name.as_str()));
    let me = ChangeContext::new(&alice.name, "test");
    let kafka = renamed(&as_alice, "tok-kafka-shared", "Kafka client credential").await;
    as_alice
        .edit(Edit::SaveIdentity(Box::new(kafka.clone())), None, &me)
        .await
        .unwrap();
    let history = as_alice
        .audit_log(Some(("identity", "tok-kafka-shared")), 10)
        .await
        .unwrap();
    let newest = history.iter().max_by_key(|e| e.seq).unwrap();
    assert_eq!(newest.actor, alice.name);

    // Claiming to be someone else in the audit trail: refused by the database.
    let as_mallory = ChangeContext::new("mallory", "test");
    let mut again = kafka.clone();
    again.name = "Kafka shared client credential".into();
    let err = as_alice
        .edit(Edit::SaveIdentity(Box::new(again)), None, &as_mallory)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&format!(
            "{} may not write an audit row as mallory",
            alice.name
        )),
        "{err}"
    );

    // Another team's identity: refused, naming who may change it.
    let card = renamed(&as_alice, "key-card-network-live", "mine now").await;
    let err = as_alice
        .edit(Edit::SaveIdentity(Box::new(card)), None, &me)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("may not change identity key-card-network-live"),
        "{err}"
    );
    assert!(err.contains("owned by team-payments"), "{err}");
    assert!(
        err.contains(&bob.name) && err.contains("countersign_governance"),
        "{err}"
    );
    // Nor can she take an identity of hers to another team or delete
    // another team's.
    let mut given = as_alice.identity("tok-kafka-shared").await.unwrap();
    given.owner = Some("team-payments".into());
    assert!(
        as_alice
            .edit(Edit::SaveIdentity(Box::new(given)), None, &me)
            .await
            .is_err()
    );
    assert!(
        as_alice
            .edit(
                Edit::DeleteIdentity("key-card-network-live".into()),
                None,
                &me
            )
            .await
            .is_err()
    );
    // Nor, behind Countersign's back with the session setting, a part of it.
    let err = raw(
        &alice.url(&url),
        "DELETE FROM identity_usages WHERE identity_id = 'key-card-network-live'".into(),
    )
    .await
    .unwrap_err();
    assert!(err.contains("owned by team-payments"), "{err}");
    // The checks judge a whole statement's rows (migrations/postgres/0010):
    // one row of another team's among her own refuses the statement, on
    // each table and for each kind of write.
    for (sql, refusal) in [
        (
            "INSERT INTO identity_usages (identity_id, service_id, position) VALUES \
             ('tok-kafka-shared', 'card-processor', 90), ('key-card-network-live', 'kafka-events', 91)",
            "identity key-card-network-live",
        ),
        (
            // A part moved from her identity to another team's: the new
            // parent is judged as well as the old.
            "UPDATE identity_usages SET identity_id = 'key-card-network-live' \
             WHERE identity_id = 'tok-kafka-shared' AND service_id = 'notifications'",
            "identity key-card-network-live",
        ),
        (
            "UPDATE identities SET description = 'bulk' \
             WHERE id IN ('tok-kafka-shared', 'key-card-network-live')",
            "identity key-card-network-live",
        ),
        (
            "DELETE FROM service_dependencies WHERE service_id = 'payments-api'",
            "service payments-api",
        ),
        (
            "UPDATE services SET owner = 'team-streaming' WHERE id = 'card-processor'",
            "service card-processor",
        ),
        (
            "INSERT INTO owners (id, kind, name, parent, version) VALUES \
             ('new.person', 'person', 'New Person', 'team-streaming', 1), \
             ('team-new', 'team', 'A new team', NULL, 1)",
            "owner team-new",
        ),
        (
            "UPDATE owners SET email = 'x@example.com' WHERE id IN ('team-streaming', 'team-payments')",
            "owner team-payments",
        ),
        // Nor can she take a team or its person over by moving it under
        // her own: a row is judged by the parent it had.
        (
            "UPDATE owners SET parent = 'team-streaming' WHERE id = 'team-payments'",
            "owner team-payments",
        ),
        (
            "UPDATE owners SET parent = 'team-streaming' WHERE id = 'li.wei'",
            "owner li.wei",
        ),
    ] {
        let err = raw(&alice.url(&url), sql.into()).await.unwrap_err();
        assert!(
            err.contains(&format!("may not change {refusal}")),
            "{sql}: {err}"
        );
    }
    // The same through Countersign's own edit, as `import` makes it.
    let mut payments = as_alice
        .owners()
        .await
        .unwrap()
        .into_iter()
        .find(|o| o.id == "team-payments")
        .unwrap();
    payments.parent = Some("team-streaming".into());
    let err = as_alice
        .edit(Edit::SaveOwner(payments), None, &me)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("may not change owner team-payments"), "{err}");
    // Her own rows alone pass the same checks (written as they were, so
    // that the trail still matches what is stored).
    raw(
        &alice.url(&url),
        "UPDATE identity_usages SET access = access WHERE identity_id = 'tok-kafka-shared'".into(),
    )
    .await
    .unwrap();
    // The approval policy is governance's.
    let err = as_alice
        .set_setting(POLICY_KEY, "version: 1\nrules: []\n", &me)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("may not change the approval_policy setting") && err.contains("governance"),
        "{err}"
    );

    // Keys are their person's.
    let secrets = Arc::new(MemorySecrets::default());
    let alice_key = Keys::new(&as_alice, secrets.clone())
        .init(&me)
        .await
        .unwrap();
    let as_bob = Store::connect(&bob.url(&url)).await.unwrap();
    let bob_ctx = ChangeContext::new(&bob.name, "test");
    let bob_keys = Keys::new(&as_bob, secrets.clone());
    assert!(
        bob_keys.list().await.unwrap().is_empty(),
        "bob does not see alice's key as his"
    );
    let bob_key = bob_keys.init(&bob_ctx).await.unwrap();
    assert_ne!(
        bob_key.kid, alice_key.kid,
        "each person has their own active key"
    );
    let err = raw(
        &bob.url(&url),
        format!(
            "UPDATE signing_keys SET status = 'retired' WHERE kid = '{}'",
            alice_key.kid
        ),
    )
    .await
    .unwrap_err();
    assert!(err.contains("keys are their person's"), "{err}");
    let err = raw(
        &bob.url(&url),
        format!(
            "INSERT INTO signing_keys (kid, public_jwk, created_at, status, person) VALUES ('planted', '{{}}', 'now', 'previous', '{}')",
            alice.name
        ),
    )
    .await
    .unwrap_err();
    assert!(err.contains("keys are their person's"), "{err}");
    // A decision as alice, or with her key, by bob: refused.
    let err = raw(
        &bob.url(&url),
        format!(
            "INSERT INTO decisions (jti, request_id, request_json, decision, approver, kid, jws, created_at) VALUES ('j1', 'r1', '{{}}', 'approve', '{}', '{}', 'x', 'now')",
            alice.name, alice_key.kid
        ),
    )
    .await
    .unwrap_err();
    assert!(
        err.contains("signed by the connected person with their own key"),
        "{err}"
    );
    let err = raw(
        &bob.url(&url),
        format!(
            "INSERT INTO decisions (jti, request_id, request_json, decision, approver, kid, jws, created_at) VALUES ('j2', 'r1', '{{}}', 'approve', '{}', '{}', 'x', 'now')",
            bob.name, alice_key.kid
        ),
    )
    .await
    .unwrap_err();
    assert!(err.contains("with their own key"), "{err}");
    // Bob's own edits of his team's identity go through, as him.
    let card = renamed(&as_bob, "key-card-network-live", "Card network live key").await;
    as_bob
        .edit(Edit::SaveIdentity(Box::new(card)), None, &bob_ctx)
        .await
        .unwrap();

    // Identity governance changes any team's identity, and the policy.
    let as_carol = Store::connect(&carol.url(&url)).await.unwrap();
    let carol_ctx = ChangeContext::new(&carol.name, "test");
    let card = renamed(
        &as_carol,
        "key-card-network-live",
        "Card network live API key",
    )
    .await;
    as_carol
        .edit(Edit::SaveIdentity(Box::new(card)), None, &carol_ctx)
        .await
        .unwrap();
    let policy = as_carol.setting(POLICY_KEY).await.unwrap();
    if let Some(policy) = policy {
        as_carol
            .set_setting(POLICY_KEY, &policy, &carol_ctx)
            .await
            .unwrap();
    }
    as_carol
        .set_setting("oidc_provider", "{}", &carol_ctx)
        .await
        .unwrap();

    // A member cannot make themselves a member of another team.
    let err = as_alice
        .add_team_member(&alice.name, "team-payments", &me)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("kept by the database's administrator"),
        "{err}"
    );
    // Nor set the approver groups everyone else's unsigned decisions claim.
    let err = as_alice
        .set_setting(
            countersign::store::APPROVER_GROUPS_KEY,
            "incident-response",
            &me,
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("approver_groups"), "{err}");

    // The trail's chain still verifies after all of it.
    let verified = as_carol.verify_audit().await.unwrap();
    assert!(verified.is_ok(), "{verified:?}");
    for store in [as_alice, as_bob, as_carol] {
        store.close().await;
    }
}

/// The workspace (and so the app and the CLI) acts as the connected role
/// in team mode, whatever the OS user or `COUNTERSIGN_ACTOR` say.
#[tokio::test]
async fn a_team_member_workspace_acts_as_its_role() {
    sqlx::any::install_default_drivers();
    let db = TestDb::postgres().await;
    let admin_url = std::env::var(common::POSTGRES_ENV).unwrap();
    db.open().await.close().await;
    let dana = Role::create(&admin_url, "dana", &["countersign_owner"]).await;
    let store = Store::connect(&dana.url(&db.target())).await.unwrap();
    let ws = countersign::app::Workspace::on(
        store,
        None,
        Arc::new(MemorySecrets::default()),
        ChangeContext::new("someone-else", "test"),
    );
    assert_eq!(ws.ctx().actor, dana.name);
    ws.close().await;
}

/// In team mode, signing in is for the person the database role is (roles
/// are named after the provider's `sub`), and the team's provider is
/// identity governance's: a mismatch is refused and leaves nobody signed
/// in; another provider is refused before the browser opens.
#[tokio::test]
async fn in_team_mode_only_the_roles_person_signs_in() {
    use common::oidc::{Provider, browse, password};
    use countersign::oidc::{self, ProviderConfig};
    sqlx::any::install_default_drivers();
    let provider = Provider::start();
    let db = TestDb::postgres().await;
    let admin_url = std::env::var(common::POSTGRES_ENV).unwrap();
    let admin = db.open().await;
    let config = ProviderConfig::new(&provider.issuer, "countersign");
    admin
        .set_setting(
            countersign::app::identity::PROVIDER_SETTING,
            &serde_json::to_string(&config).unwrap(),
            &ChangeContext::new("admin", "test"),
        )
        .await
        .unwrap();
    admin.close().await;
    let dana = Role::create(&admin_url, "dana", &["countersign_owner"]).await;
    let secrets = Arc::new(MemorySecrets::default());
    let ws = countersign::app::Workspace::on(
        Store::connect(&dana.url(&db.target())).await.unwrap(),
        None,
        secrets.clone(),
        ChangeContext::local_user("test"),
    );

    let elsewhere = ProviderConfig::new("http://127.0.0.1:9/elsewhere", "countersign");
    let err = ws
        .sign_in(&elsewhere, |_| panic!("no browser for a refused provider"))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("kept by identity governance"), "{err}");

    let team = ws.provider_for(None, None, None).await.unwrap();
    let err = ws
        .sign_in(&team, |url| {
            let url = url.to_owned();
            std::thread::spawn(move || browse(&url, "alice", &password("alice")).unwrap());
        })
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&format!(
            "connected to the team database as the role \"{}\"",
            dana.name
        )),
        "{err}"
    );
    assert!(ws.signed_in().is_none());
    assert!(
        oidc::load(secrets.as_ref()).unwrap().is_none(),
        "nothing kept"
    );
    let who = ws.who().await.unwrap();
    assert_eq!(who.team_role.as_deref(), Some(dana.name.as_str()));
    assert_eq!(who.acting_as, dana.name);
    ws.close().await;
}
