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
