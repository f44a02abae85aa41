//! Where secrets live — signing keys, backend tokens, a database password.
//! The real store is the OS keyring (Secret Service on Linux, Keychain on
//! macOS, Credential Manager on Windows); the in-memory one serves unit
//! tests that must not touch the session. Below both `signing` and
//! `store`, which each keep secrets here.

use std::collections::HashMap;
use std::sync::Mutex;
use zeroize::Zeroizing;

/// Why the keyring did not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// No keyring to talk to (no Secret Service on the bus, locked
    /// collection): the user must start or unlock one.
    #[error(
        "the OS keyring is not available ({0}); on Linux install and start a Secret Service (Debian: apt-get install gnome-keyring) inside a desktop or D-Bus session, then try again"
    )]
    Unavailable(String),
    /// The keyring answered with an error.
    #[error("the OS keyring refused: {0}")]
    Refused(String),
}

/// Names under which secrets are kept; the keyring "service" is `countersign`.
pub trait SecretStore: Send + Sync {
    fn get(&self, name: &str) -> Result<Option<Zeroizing<String>>, SecretError>;
    fn set(&self, name: &str, secret: &str) -> Result<(), SecretError>;
    fn delete(&self, name: &str) -> Result<(), SecretError>;
}

pub const KEYRING_SERVICE: &str = "countersign";

/// The OS keyring through the `keyring` crate. Calls block (D-Bus round
/// trips): call from a blocking thread, not the async runtime.
#[derive(Debug, Default)]
pub struct OsKeyring;

fn map(e: keyring::Error) -> SecretError {
    match e {
        // The crate connects to the platform store on first use; when that
        // failed (no Secret Service on the bus) every call says this.
        keyring::Error::NoDefaultStore => {
            SecretError::Unavailable(match keyring::Entry::store_status() {
                Err(cause) => cause.to_string(),
                Ok(()) => "no keyring store is configured".into(),
            })
        }
        keyring::Error::NoStorageAccess(inner) => SecretError::Unavailable(inner.to_string()),
        keyring::Error::PlatformFailure(inner) => SecretError::Unavailable(inner.to_string()),
        other => SecretError::Refused(other.to_string()),
    }
}

/// Runs a keyring call on a thread of its own. The Secret Service client
/// blocks on D-Bus through zbus, and when zbus is built on tokio (as the
/// desktop shell's portal dialogs build it) blocking from a thread that is
/// inside a tokio runtime panics; a fresh thread is never inside one,
/// whoever calls (an async command, the CLI, a test).
fn off_runtime<T: Send>(call: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        s.spawn(call)
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

impl SecretStore for OsKeyring {
    fn get(&self, name: &str) -> Result<Option<Zeroizing<String>>, SecretError> {
        off_runtime(|| {
            let entry = keyring::Entry::new(KEYRING_SERVICE, name).map_err(map)?;
            match entry.get_password() {
                Ok(secret) => Ok(Some(Zeroizing::new(secret))),
                Err(keyring::Error::NoEntry) => Ok(None),
                Err(e) => Err(map(e)),
            }
        })
    }

    fn set(&self, name: &str, secret: &str) -> Result<(), SecretError> {
        off_runtime(|| {
            keyring::Entry::new(KEYRING_SERVICE, name)
                .and_then(|e| e.set_password(secret))
                .map_err(map)
        })
    }

    fn delete(&self, name: &str) -> Result<(), SecretError> {
        off_runtime(|| {
            let entry = keyring::Entry::new(KEYRING_SERVICE, name).map_err(map)?;
            match entry.delete_credential() {
                Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
                Err(e) => Err(map(e)),
            }
        })
    }
}

/// Secrets in process memory, for tests.
#[derive(Debug, Default)]
pub struct MemorySecrets(Mutex<HashMap<String, Zeroizing<String>>>);

impl SecretStore for MemorySecrets {
    fn get(&self, name: &str) -> Result<Option<Zeroizing<String>>, SecretError> {
        Ok(self.0.lock().expect("secrets lock").get(name).cloned())
    }

    fn set(&self, name: &str, secret: &str) -> Result<(), SecretError> {
        self.0
            .lock()
            .expect("secrets lock")
            .insert(name.to_owned(), Zeroizing::new(secret.to_owned()));
        Ok(())
    }

    fn delete(&self, name: &str) -> Result<(), SecretError> {
        self.0.lock().expect("secrets lock").remove(name);
        Ok(())
    }
}
