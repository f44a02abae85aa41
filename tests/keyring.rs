//! Keys really live in the OS Secret Service. Needs a D-Bus session with an
//! unlocked keyring (`scripts/test` runs this inside `dbus-run-session` with
//! `gnome-keyring-daemon --unlock`), hence `#[ignore]`; it fails, naming
//! what to start, without one.

use std::sync::Arc;

use countersign::Store;
use countersign::signing::{Keys, OsKeyring, SecretStore, verify};
use countersign::store::ChangeContext;

#[tokio::test]
#[ignore = "needs a Secret Service on the session bus (scripts/test provides one)"]
async fn keys_are_kept_in_the_secret_service_and_sign_from_there() {
    let ring = OsKeyring;
    let probe = format!("probe:{}", std::process::id());
    ring.set(&probe, "round-trip")
        .expect("the Secret Service accepts a secret");
    assert_eq!(
        ring.get(&probe).unwrap().as_deref().map(String::as_str),
        Some("round-trip")
    );
    ring.delete(&probe).unwrap();
    assert!(ring.get(&probe).unwrap().is_none());

    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("k.db")).await.unwrap();
    let keys = Keys::new(&store, Arc::new(OsKeyring));
    let ctx = ChangeContext::new("alice", "test");
    let info = keys.init(&ctx).await.unwrap();
    let token = keys
        .active()
        .await
        .unwrap()
        .sign(&serde_json::json!({"ok": true}), "JWT")
        .unwrap();
    assert_eq!(
        verify(&token, &keys.jwks().await.unwrap()).unwrap()["ok"],
        true
    );
    // The secret is in the keyring under the key's name, and only there.
    assert!(
        OsKeyring
            .get(&format!("signing-key:{}", info.kid))
            .unwrap()
            .is_some()
    );

    // A second key, then retiring the first, deletes its secret.
    keys.rotate(&ctx).await.unwrap();
    assert!(keys.retire(&info.kid, &ctx).await.unwrap());
    assert!(
        OsKeyring
            .get(&format!("signing-key:{}", info.kid))
            .unwrap()
            .is_none()
    );
    let active = keys.active().await.unwrap().kid;
    OsKeyring.delete(&format!("signing-key:{active}")).unwrap();
}
