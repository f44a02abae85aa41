//! The product's actions as one layer under both the CLI and the desktop
//! shell (issue 16): what an owner does — the inbox, the request view,
//! deciding — written once here and called by both, with its tests
//! running without a window. Domain rules stay in their modules
//! (`approval`, `graph`, `store`); this layer composes them.

pub mod inbox;
