//! Countersign's core: the inventory model, its store, importers and the
//! logic behind every screen of the desktop app and every CLI command.
//! Nothing here depends on a window, so all of it is tested headless.

pub mod app;
pub mod approval;
pub mod attention;
pub mod backend;
pub mod campaign;
pub mod checkpoint;
pub mod client;
pub mod controls;
pub mod demo;
pub mod drill;
pub mod export;
pub mod graph;
pub mod import;
pub mod inventory;
pub mod jose;
pub mod model;
pub mod observed;
pub mod oidc;
pub mod policy;
pub mod secrets;
pub mod signing;
pub mod store;

pub use store::Store;

/// What both binaries' `--version` print after their name: the crate's
/// version and the commit they were built from, with that commit's date, as
/// `rustc -V` does (`0.1.0 (53fe708e1a2b 2026-12-01)`); build.rs says where
/// the commit comes from and why debug builds do not record it.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("COUNTERSIGN_BUILD"),
    ")"
);
