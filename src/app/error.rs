//! The app layer's error: typed, with a stable code and a hint, turned
//! into `{code, message, hint}` at the IPC edge.

use serde::{Serialize, Serializer, ser::SerializeStruct};

use crate::approval::DecisionError;
use crate::campaign::CampaignError;
use crate::signing::SigningError;
use crate::store::StoreError;

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

/// An error of the app layer as its callers see it: a message saying what
/// happened, where we know it what the user can do about it
/// ([`AppError::hint`]), and a stable machine-readable [`AppError::code`]
/// the front end branches on instead of matching message text.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("the inventory database could not be opened: {0}")]
    StoreUnavailable(String),

    #[error(transparent)]
    Store(#[from] StoreError),

    #[error(transparent)]
    Demo(#[from] crate::demo::DemoError),

    #[error(transparent)]
    Import(#[from] crate::import::ImportError),

    #[error(transparent)]
    Blast(#[from] crate::graph::blast_radius::BlastError),

    #[error("invalid {field}: {reason}")]
    InvalidInput { field: &'static str, reason: String },

    #[error("request {0} is no longer in the inbox")]
    RequestGone(String),

    #[error("no backend is connected")]
    NoBackend,

    #[error(transparent)]
    Decision(#[from] crate::approval::DecisionError),

    #[error(transparent)]
    View(#[from] crate::approval::ViewError),

    #[error(transparent)]
    Client(#[from] crate::client::ClientError),

    /// Connecting to a backend failed its check; nothing was saved. Said
    /// for the person at the Connect form (no CLI steps, no "Change").
    #[error("{}", connect_message(url, error))]
    Connect {
        url: String,
        error: Box<crate::client::ClientError>,
    },

    #[error(transparent)]
    Signing(#[from] crate::signing::SigningError),

    #[error(transparent)]
    Database(#[from] crate::store::config::ConfigError),

    #[error(transparent)]
    Backup(#[from] crate::store::BackupError),

    #[error(
        "no file dialog is available: Countersign shows file dialogs through the XDG desktop portal, and none answers in this desktop session"
    )]
    NoFileDialog,

    #[error("the drill's backend could not start: {0}")]
    DrillBackend(#[from] crate::backend::BackendError),

    #[error(transparent)]
    Oidc(#[from] crate::oidc::OidcError),

    #[error(transparent)]
    Campaign(#[from] crate::campaign::CampaignError),
}

impl AppError {
    /// A stable, machine-readable name for what went wrong
    /// (`snake_case`, never reworded): the front end decides what to offer
    /// from it (reload, connect, create a key) rather than from the text.
    pub fn code(&self) -> &'static str {
        fn store(e: &StoreError) -> &'static str {
            match e {
                StoreError::IdentityNotFound(_)
                | StoreError::ServiceNotFound(_)
                | StoreError::OwnerNotFound(_) => "not_found",
                StoreError::Conflict { .. } => "conflict",
                StoreError::LocksLost { .. } => "locks_lost",
                StoreError::Corrupt { .. } => "store_corrupt",
                StoreError::Invalid(_) => "invalid_record",
                StoreError::NotPermitted { .. } => "not_permitted",
                _ => "store",
            }
        }
        fn signing(e: &SigningError) -> &'static str {
            match e {
                SigningError::NoActiveKey => "no_signing_key",
                SigningError::KeyringUnavailable(_) => "keyring_unavailable",
                SigningError::PrivateKeyMissing(_) => "private_key_missing",
                SigningError::Store(e) => store(e),
                _ => "signing",
            }
        }
        use crate::import::ImportError;
        match self {
            AppError::StoreUnavailable(_) => "store_unavailable",
            AppError::Store(e)
            | AppError::Import(ImportError::Store(e))
            | AppError::Demo(crate::demo::DemoError::Store(e))
            | AppError::Decision(DecisionError::Store(e)) => store(e),
            AppError::Demo(_) => "demo",
            AppError::Import(ImportError::PreviewOutdated) => "import_preview_outdated",
            AppError::Import(_) => "import",
            AppError::Blast(_) => "unknown_target",
            AppError::InvalidInput { .. } => "invalid_input",
            AppError::RequestGone(_) => "request_gone",
            AppError::NoBackend => "no_backend",
            AppError::Decision(DecisionError::ApproverIsRequester { .. }) => {
                "approver_is_requester"
            }
            AppError::Decision(DecisionError::InventoryChanged) => "inventory_changed",
            AppError::Decision(DecisionError::NotAnInventoryVersion(_)) => "invalid_input",
            AppError::Decision(DecisionError::Expired { .. }) => "request_expired",
            AppError::Decision(DecisionError::UnknownTarget(_)) => "unknown_target",
            AppError::Decision(DecisionError::BroaderNarrowing(_)) => "broader_narrowing",
            AppError::Decision(DecisionError::Signing(e)) | AppError::Signing(e) => signing(e),
            AppError::Decision(_) => "decision",
            AppError::View(_) => "request_invalid",
            AppError::Client(crate::client::ClientError::Unauthorized { .. }) => {
                "backend_unauthorized"
            }
            AppError::Connect { error, .. }
                if matches!(**error, crate::client::ClientError::Unauthorized { .. }) =>
            {
                "backend_unauthorized"
            }
            AppError::Connect { error, .. } if error.is_transient() => "backend_unreachable",
            AppError::Connect { .. } => "backend",
            AppError::Client(e) if e.is_transient() => "backend_unreachable",
            AppError::Client(_) => "backend",
            AppError::Database(_) => "database",
            AppError::Backup(crate::store::BackupError::Exists(_)) => "backup_exists",
            AppError::Backup(_) => "backup",
            AppError::NoFileDialog => "no_file_dialog",
            AppError::DrillBackend(_) => "drill_backend",
            AppError::Oidc(crate::oidc::OidcError::Discovery { .. }) => "provider_unreachable",
            AppError::Oidc(_) => "sign_in",
            AppError::Campaign(e) => match e {
                CampaignError::Store(e) => store(e),
                CampaignError::Signing(e) => signing(e),
                CampaignError::NotFound(_) => "not_found",
                CampaignError::EmptyScope => "empty_scope",
                CampaignError::NotAnItem { .. } => "not_found",
                CampaignError::NotTheReviewer { .. } => "not_the_reviewer",
                CampaignError::RecordChanged { .. } => "record_changed",
                CampaignError::Closed(_) => "campaign_closed",
                CampaignError::NotAPerson(_) => "not_a_person",
                CampaignError::Invalid(_) => "invalid_input",
            },
        }
    }

    /// What the user can do about it, where we know.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            AppError::StoreUnavailable(_) => Some(
                "Check the path given by --db or COUNTERSIGN_DB, or move the damaged file aside and restart to create a new one.",
            ),
            AppError::Store(StoreError::IdentityNotFound(_)) => {
                Some("It may have been deleted or renamed; refresh the list.")
            }
            AppError::Store(StoreError::Conflict { .. }) => {
                Some("Reload to see their change, then make yours again.")
            }
            AppError::Store(e @ StoreError::LocksLost { .. })
            | AppError::Import(crate::import::ImportError::Store(
                e @ StoreError::LocksLost { .. },
            ))
            | AppError::Decision(DecisionError::Store(e @ StoreError::LocksLost { .. }))
            | AppError::Decision(DecisionError::Signing(SigningError::Store(
                e @ StoreError::LocksLost { .. },
            )))
            | AppError::Signing(SigningError::Store(e @ StoreError::LocksLost { .. }))
            | AppError::Demo(crate::demo::DemoError::Store(e @ StoreError::LocksLost { .. })) => {
                Some(locks_lost_hint(e))
            }
            AppError::Backup(crate::store::BackupError::Exists(_)) => Some("Choose another name."),
            AppError::Store(StoreError::NotPermitted { .. }) => Some(
                "Nothing was written. Ask one of those named to make the change, or identity governance.",
            ),
            AppError::NoFileDialog => Some(
                "Install xdg-desktop-portal and xdg-desktop-portal-gtk (or your desktop's own portal), then try again. The CLI does the same meanwhile: countersign import FILE, countersign db backup --to FILE.",
            ),
            AppError::Backup(_) => Some("Choose another place; the database itself is unchanged."),
            AppError::Store(StoreError::Corrupt { .. }) => {
                Some("Restore the file from a backup or move it aside and restart.")
            }
            AppError::Import(crate::import::ImportError::PreviewOutdated) => {
                Some("Choose the file again to see the current differences.")
            }
            AppError::Import(_) => {
                Some("Fix the file at the line named and import it again; nothing was written.")
            }
            AppError::RequestGone(_) => {
                Some("It was decided, withdrawn or expired at the backend; refresh the inbox.")
            }
            AppError::NoBackend => {
                Some("Connect to your orchestration backend in Approvals first.")
            }
            AppError::Decision(DecisionError::ApproverIsRequester { .. }) => Some(
                "Ask another owner of this identity to decide; nobody approves their own request.",
            ),
            AppError::Decision(DecisionError::InventoryChanged) => Some(
                "Open the request again: its blast radius is recomputed on the inventory as it is now.",
            ),
            AppError::Decision(DecisionError::Expired { .. }) => {
                Some("Ask the backend to issue the request again.")
            }
            AppError::Decision(DecisionError::UnknownTarget(_)) => {
                Some("Import or add the identity to the inventory, or deny the request.")
            }
            AppError::Decision(DecisionError::Signing(e)) | AppError::Signing(e) => signing_hint(e),
            AppError::Connect { .. } => Some(
                "Check the address and the token your backend's operator gave you, and connect again; nothing was saved.",
            ),
            AppError::Client(crate::client::ClientError::SessionForOtherKeys) => Some(
                "Sign in again (Approvals, Sign in): the sign-in is asked for your current signing keys, and then they are enrolled.",
            ),
            AppError::Client(crate::client::ClientError::Unauthorized { .. }) => Some(
                "Check the token the backend's operator gave you (Approvals, Change). Decisions you sign meanwhile are kept and sent once it is accepted.",
            ),
            AppError::Client(e) if e.is_transient() => Some(
                "Check the backend's URL and that it is running (Approvals, Change). Decisions you sign meanwhile are kept and sent when it answers.",
            ),
            AppError::Client(_) => Some("Check the backend URL and token in Approvals."),
            AppError::Database(_) => Some(
                "Check the URL, the password and that the server is reachable; nothing was saved.",
            ),
            AppError::Store(_)
            | AppError::Demo(_)
            | AppError::Blast(_)
            | AppError::Decision(_)
            | AppError::View(_) => None,
            AppError::InvalidInput { .. } => None,
            AppError::DrillBackend(_) => Some(
                "Check that this machine may listen on a loopback port, then start the drill again.",
            ),
            AppError::Oidc(crate::oidc::OidcError::Discovery { .. }) => Some(
                "Check the issuer URL and that the identity provider is reachable from this machine.",
            ),
            AppError::Oidc(crate::oidc::OidcError::Secrets(_)) => Some(
                "Start your desktop's keyring (Secret Service), or install gnome-keyring, then try again.",
            ),
            AppError::Oidc(_) => Some("Sign in again."),
            AppError::Campaign(CampaignError::Signing(e)) => signing_hint(e),
            AppError::Campaign(CampaignError::NotTheReviewer { .. }) => Some(
                "Ask its reviewer, a person of that team or its backup owner to attest it; if that is you, sign in as yourself (Approvals, Sign in).",
            ),
            AppError::Campaign(CampaignError::RecordChanged { .. }) => Some(
                "Nothing was signed. Someone changed it while you read it: read the record again, then answer and sign.",
            ),
            AppError::Campaign(CampaignError::NotAPerson(_)) => Some(
                "Sign in as yourself (Approvals, Sign in), or ask governance to add you to the owners as a person of your team.",
            ),
            AppError::Campaign(CampaignError::Closed(_)) => {
                Some("Refresh Reviews: the campaign was closed; nothing in it is due.")
            }
            AppError::Campaign(CampaignError::EmptyScope) => {
                Some("Widen the scope (or clear it to cover every identity).")
            }
            AppError::Campaign(CampaignError::Store(StoreError::Invalid(_))) => {
                Some("Refresh Reviews: someone may have attested it already.")
            }
            AppError::Campaign(CampaignError::Store(StoreError::NotPermitted { .. })) => {
                Some("Nothing was written. Ask identity governance to start the campaign.")
            }
            AppError::Campaign(CampaignError::Store(e @ StoreError::LocksLost { .. })) => {
                Some(locks_lost_hint(e))
            }
            AppError::Campaign(_) => None,
        }
    }
}

impl Serialize for AppError {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("AppError", 3)?;
        s.serialize_field("code", self.code())?;
        s.serialize_field("message", &self.to_string())?;
        s.serialize_field("hint", &self.hint())?;
        s.end()
    }
}

/// What a failed connection check says at the Connect form.
fn connect_message(url: &str, error: &crate::client::ClientError) -> String {
    use crate::client::ClientError;
    match error {
        ClientError::Unauthorized { .. } => {
            format!("the backend at {url} refused this token")
        }
        ClientError::Unreachable { reason, .. } => {
            format!("the backend at {url} cannot be reached ({reason})")
        }
        ClientError::Status { status: 404, .. } => format!(
            "{url} answered 404: it is not a Countersign backend, or the address has a path; give the backend's base URL (such as https://soar.example.com)"
        ),
        ClientError::Status {
            status, message, ..
        } => format!("the backend at {url} answered {status}: {message}"),
        other => other.to_string(),
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
            AppError::Store(locks_lost()),
            AppError::Import(crate::import::ImportError::Store(locks_lost())),
            AppError::Decision(DecisionError::Store(locks_lost())),
            AppError::Signing(SigningError::Store(locks_lost())),
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
