//! The product's actions as one layer under both the CLI and the desktop
//! shell (issue 16): what an owner does — open a workspace, work the
//! inbox, view and decide a request, host a drill — written once here and
//! called by both, with its tests running without a window. Domain rules
//! stay in their modules (`approval`, `graph`, `store`, `drill`); this
//! layer composes them and holds the state one running app keeps.
//!
//! Data flows one way: the window (or the CLI's flags) → a Tauri command
//! (or a CLI subcommand) → a [`Workspace`] method → the domain modules →
//! the store. Changes come back as events (`src-tauri/src/watch.rs`), not
//! as answers to polling.

pub mod approvals;
pub mod controls;
pub mod desktop_args;
pub mod drills;
pub mod error;
pub mod identity;
pub mod inbox;
pub mod reviews;
pub mod workspace;

pub use error::AppError;
pub use workspace::{Options, Workspace};
