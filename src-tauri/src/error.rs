use serde::{Serialize, Serializer, ser::SerializeStruct};

use countersign::store::StoreError;

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
            CommandError::Store(StoreError::Corrupt { .. }) => {
                Some("Restore the file from a backup or move it aside and restart.")
            }
            CommandError::Import(countersign::import::ImportError::PreviewOutdated) => {
                Some("Choose the file again to see the current differences.")
            }
            CommandError::Import(_) => {
                Some("Fix the file at the line named and import it again; nothing was written.")
            }
            CommandError::Store(_) | CommandError::Demo(_) | CommandError::Blast(_) => None,
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
