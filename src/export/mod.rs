//! Writing the inventory out: the native format (lossless), CSV (the same
//! tables the CSV importer reads), graphs for other tools (GraphML for
//! Gephi and yEd, DOT for Graphviz, OpenGraph for BloodHound), and the
//! services' dependencies as a CycloneDX BOM.

mod csv;
pub mod cyclonedx;
mod dot;
mod graphml;
mod handout;
pub mod opengraph;

pub use csv::write_csv_dir;
pub use dot::to_dot;
pub use graphml::to_graphml;
pub use handout::{handout_from_store, handout_html};

use crate::inventory::Inventory;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// Countersign's own YAML; re-importing it gives back the same inventory.
    Native,
    /// One CSV file per table, into the directory given by --out.
    Csv,
    /// GraphML, for Gephi and yEd.
    Graphml,
    /// Graphviz DOT.
    Dot,
    /// A BloodHound OpenGraph data payload.
    Opengraph,
    /// The BloodHound extension definition schema for OpenGraph payloads.
    OpengraphExtension,
    /// CycloneDX 1.6 JSON: services and their dependencies.
    Cyclonedx,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot write {path}: {message}")]
    Write { path: String, message: String },
    #[error("cannot serialise the inventory: {0}")]
    Serialise(String),
    #[error("CSV export writes several files: pass --out DIRECTORY")]
    NeedsDirectory,
}

/// Renders a single-file format as text.
pub fn render(inventory: &Inventory, format: ExportFormat) -> Result<String, ExportError> {
    match format {
        ExportFormat::Native => crate::inventory::file::to_yaml(inventory)
            .map_err(|e| ExportError::Serialise(e.to_string())),
        ExportFormat::Graphml => Ok(to_graphml(inventory)),
        ExportFormat::Dot => Ok(to_dot(inventory)),
        ExportFormat::Opengraph => Ok(opengraph::to_opengraph(inventory)),
        ExportFormat::OpengraphExtension => Ok(opengraph::extension_schema()),
        ExportFormat::Cyclonedx => Ok(cyclonedx::to_cyclonedx(inventory, jiff::Timestamp::now())),
        ExportFormat::Csv => Err(ExportError::NeedsDirectory),
    }
}

/// Node ids in graph exports: identities and services share one namespace
/// there, so each is prefixed by what it is.
fn identity_node(id: &str) -> String {
    format!("identity:{id}")
}

fn service_node(id: &str) -> String {
    format!("service:{id}")
}
