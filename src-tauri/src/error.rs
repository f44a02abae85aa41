use serde::{Serialize, Serializer, ser::SerializeStruct};

use countersign::approval::DecisionError;
use countersign::signing::SigningError;
use countersign::store::StoreError;

fn signing_hint(e: &SigningError) -> Option<&'static str> {
    match e {
        SigningError::NoActiveKey => Some("Create your signing key in Approvals first."),
        SigningError::KeyringUnavailable(_) => Some(
            "Start your desktop's keyring (Secret Service), or install gnome-keyring, then try again.",
        ),
        SigningError::PrivateKeyMissing(_) => Some(
            "The keyring lost the private key: rotate to a new key with `countersign keys rotate`.",
        ),
        _ => None,
    }
}

/// What to do after the store refused a commit it could not make safely
/// (`StoreError::LocksLost`): nothing was written either way.
fn locks_lost_hint(e: &StoreError) -> &'static str {
    match e {
        StoreError::LocksLost {
            reopened: Ok(()), ..
        } => {
            "Nothing was written. Do it again: the database is open afresh. While Countersign runs, do not open its database files with other programs; use Back up in the Database panel for a copy."
        }
        _ => {
            "Nothing was written. Quit and restart Countersign; what was saved before is in the file."
        }
    }
}

/// An error as the front end sees it: a message saying what happened and,
/// where we know it, what the user can do about it.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("the inventory database could not be opened: {0}")]
    StoreUnavailable(String),

    #[error(transparent)]
    Store(#[from] StoreError),

    #[error(transparent)]
    Demo(#[from] countersign::demo::DemoError),

    #[error(transparent)]
    Import(#[from] countersign::import::ImportError),

    #[error(transparent)]
    Blast(#[from] countersign::graph::blast_radius::BlastError),

    #[error("invalid {field}: {reason}")]
    InvalidInput { field: &'static str, reason: String },

    #[error("request {0} is no longer in the inbox")]
    RequestGone(String),

    #[error("no backend is connected")]
    NoBackend,

    #[error(transparent)]
    Decision(#[from] countersign::approval::DecisionError),

    #[error(transparent)]
    View(#[from] countersign::approval::ViewError),

    #[error(transparent)]
    Client(#[from] countersign::client::ClientError),

    #[error(transparent)]
    Signing(#[from] countersign::signing::SigningError),

    #[error(transparent)]
    Database(#[from] countersign::store::config::ConfigError),

    #[error(transparent)]
    Backup(#[from] countersign::store::BackupError),

    #[error(
        "no file dialog is available: Countersign shows file dialogs through the XDG desktop portal, and none answers in this desktop session"
    )]
    NoFileDialog,
}

impl CommandError {
    fn hint(&self) -> Option<&'static str> {
        match self {
            CommandError::StoreUnavailable(_) => Some(
                "Check the path given by --db or COUNTERSIGN_DB, or move the damaged file aside and restart to create a new one.",
            ),
            CommandError::Store(StoreError::IdentityNotFound(_)) => {
                Some("It may have been deleted or renamed; refresh the list.")
            }
            CommandError::Store(StoreError::Conflict { .. }) => {
                Some("Reload to see their change, then make yours again.")
            }
            CommandError::Store(e @ StoreError::LocksLost { .. })
            | CommandError::Import(countersign::import::ImportError::Store(
                e @ StoreError::LocksLost { .. },
            ))
            | CommandError::Decision(DecisionError::Store(e @ StoreError::LocksLost { .. }))
            | CommandError::Decision(DecisionError::Signing(SigningError::Store(
                e @ StoreError::LocksLost { .. },
            )))
            | CommandError::Signing(SigningError::Store(e @ StoreError::LocksLost { .. }))
            | CommandError::Demo(countersign::demo::DemoError::Store(
                e @ StoreError::LocksLost { .. },
            )) => Some(locks_lost_hint(e)),
            CommandError::Backup(countersign::store::BackupError::Exists(_)) => {
                Some("Choose another name.")
            }
            CommandError::NoFileDialog => Some(
                "Install xdg-desktop-portal and xdg-desktop-portal-gtk (or your desktop's own portal), then try again. The CLI does the same meanwhile: countersign import FILE, countersign db backup --to FILE.",
            ),
            CommandError::Backup(_) => {
                Some("Choose another place; the database itself is unchanged.")
            }
            CommandError::Store(StoreError::Corrupt { .. }) => {
                Some("Restore the file from a backup or move it aside and restart.")
            }
            CommandError::Import(countersign::import::ImportError::PreviewOutdated) => {
                Some("Choose the file again to see the current differences.")
            }
            CommandError::Import(_) => {
                Some("Fix the file at the line named and import it again; nothing was written.")
            }
            CommandError::RequestGone(_) => {
                Some("It was decided, withdrawn or expired at the backend; refresh the inbox.")
            }
            CommandError::NoBackend => {
                Some("Connect to your orchestration backend in Approvals first.")
            }
            CommandError::Decision(DecisionError::ApproverIsRequester { .. }) => Some(
                "Ask another owner of this identity to decide; nobody approves their own request.",
            ),
            CommandError::Decision(DecisionError::InventoryChanged) => Some(
                "Open the request again: its blast radius is recomputed on the inventory as it is now.",
            ),
            CommandError::Decision(DecisionError::Expired { .. }) => {
                Some("Ask the backend to issue the request again.")
            }
            CommandError::Decision(DecisionError::UnknownTarget(_)) => {
                Some("Import or add the identity to the inventory, or deny the request.")
            }
            CommandError::Decision(DecisionError::Signing(e)) | CommandError::Signing(e) => {
                signing_hint(e)
            }
            CommandError::Client(e) if e.is_transient() => Some(
                "Your decision is saved and queued; it is sent as soon as the backend answers.",
            ),
            CommandError::Client(_) => Some("Check the backend URL and token in Approvals."),
            CommandError::Database(_) => Some(
                "Check the URL, the password and that the server is reachable; nothing was saved.",
            ),
            CommandError::Store(_)
            | CommandError::Demo(_)
            | CommandError::Blast(_)
            | CommandError::Decision(_)
            | CommandError::View(_) => None,
            CommandError::InvalidInput { .. } => None,
        }
    }
}

impl Serialize for CommandError {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("CommandError", 2)?;
        s.serialize_field("message", &self.to_string())?;
        s.serialize_field("hint", &self.hint())?;
        s.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locks_lost() -> StoreError {
        StoreError::LocksLost {
            db: "/tmp/x/countersign.db".into(),
            reason: "this process no longer holds SQLite's lock".into(),
            reopened: Ok(()),
        }
    }

    /// Wherever the refusal surfaces (an edit, an import, a signature),
    /// the hint says nothing was written and to do it again, not to fix a
    /// file.
    #[test]
    fn a_refused_commit_says_to_do_it_again_wherever_it_surfaces() {
        let cases = [
            CommandError::Store(locks_lost()),
            CommandError::Import(countersign::import::ImportError::Store(locks_lost())),
            CommandError::Decision(DecisionError::Store(locks_lost())),
            CommandError::Signing(SigningError::Store(locks_lost())),
        ];
        for e in cases {
            let json = serde_json::to_value(&e).unwrap();
            let hint = json["hint"].as_str().unwrap_or_default();
            assert!(
                hint.starts_with("Nothing was written. Do it again"),
                "{json}"
            );
            assert!(
                json["message"]
                    .as_str()
                    .unwrap()
                    .contains("nothing was saved"),
                "{json}"
            );
        }
    }
}
