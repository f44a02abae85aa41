//! Flags as typed on the command line, each mapped to the core type it
//! stands for. The core's types carry no clap derives: the spelling of a
//! flag is the CLI's business, the meaning is the core's.

use countersign::export::ExportFormat;
use countersign::graph::blast_radius::Threat;
use countersign::import::Format;
use countersign::model::ContainmentAction;

/// Containment actions as typed on the command line (`rotate-secret` or `rotate_secret`).
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum ActionArg {
    #[value(alias = "revoke_session")]
    RevokeSession,
    #[value(alias = "revoke_token")]
    RevokeToken,
    #[value(alias = "rotate_secret")]
    RotateSecret,
    #[value(alias = "reduce_scope")]
    ReduceScope,
    #[value(alias = "disable_account")]
    DisableAccount,
    Quarantine,
}

impl From<ActionArg> for ContainmentAction {
    fn from(a: ActionArg) -> Self {
        match a {
            ActionArg::RevokeSession => ContainmentAction::RevokeSession,
            ActionArg::RevokeToken => ContainmentAction::RevokeToken,
            ActionArg::RotateSecret => ContainmentAction::RotateSecret,
            ActionArg::ReduceScope => ContainmentAction::ReduceScope,
            ActionArg::DisableAccount => ContainmentAction::DisableAccount,
            ActionArg::Quarantine => ContainmentAction::Quarantine,
        }
    }
}

/// What the responders believe happened (`--threat`).
#[derive(Debug, Clone, Copy, Default, clap::ValueEnum)]
pub(crate) enum ThreatArg {
    /// A session or short-lived token was hijacked.
    StolenSession,
    /// The secret itself leaked (a key in a public repository).
    LeakedSecret,
    /// The identity is used beyond its normal pattern.
    PermissionMisuse,
    /// The identity is fully compromised or its trust is unknown.
    #[default]
    Compromised,
}

impl From<ThreatArg> for Threat {
    fn from(t: ThreatArg) -> Self {
        match t {
            ThreatArg::StolenSession => Threat::StolenSession,
            ThreatArg::LeakedSecret => Threat::LeakedSecret,
            ThreatArg::PermissionMisuse => Threat::PermissionMisuse,
            ThreatArg::Compromised => Threat::Compromised,
        }
    }
}

/// `import --format`.
#[derive(Debug, Clone, Copy, Default, clap::ValueEnum)]
pub(crate) enum FormatArg {
    /// Decide per file from its extension and contents.
    #[default]
    Auto,
    /// Countersign's own YAML or JSON (docs/inventory-format.md).
    Native,
    /// Countersign's CSV files (docs/csv-format.md).
    Csv,
    /// Backstage catalog entities.
    Backstage,
    /// Kubernetes manifests.
    #[value(name = "k8s", alias = "kubernetes")]
    Kubernetes,
    /// AWS IAM: `aws iam get-account-authorization-details` and the
    /// credential report (docs/importers.md).
    Aws,
    /// Microsoft Entra ID: `az ad sp list --all`, `az ad app list --all`.
    Entra,
    /// Google Cloud: gcloud's service accounts, their keys and a project's IAM policy.
    Gcp,
    /// A CycloneDX BOM (JSON): its services and their dependencies.
    Cyclonedx,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Auto => Format::Auto,
            FormatArg::Native => Format::Native,
            FormatArg::Csv => Format::Csv,
            FormatArg::Backstage => Format::Backstage,
            FormatArg::Kubernetes => Format::Kubernetes,
            FormatArg::Aws => Format::Aws,
            FormatArg::Entra => Format::Entra,
            FormatArg::Gcp => Format::Gcp,
            FormatArg::Cyclonedx => Format::Cyclonedx,
        }
    }
}

/// `export --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ExportFormatArg {
    /// Countersign's own YAML; re-importing it gives back the same inventory.
    Native,
    /// One CSV file per table, into the directory given by --out.
    Csv,
    /// GraphML, for Gephi and yEd.
    Graphml,
    /// Graphviz DOT.
    Dot,
    /// BloodHound OpenGraph JSON (upload in BloodHound's File Ingest).
    Opengraph,
    /// The BloodHound extension definition schema for the OpenGraph export (install it first).
    OpengraphExtension,
    /// CycloneDX 1.6 JSON: the services and their dependencies.
    Cyclonedx,
}

impl From<ExportFormatArg> for ExportFormat {
    fn from(f: ExportFormatArg) -> Self {
        match f {
            ExportFormatArg::Native => ExportFormat::Native,
            ExportFormatArg::Csv => ExportFormat::Csv,
            ExportFormatArg::Graphml => ExportFormat::Graphml,
            ExportFormatArg::Dot => ExportFormat::Dot,
            ExportFormatArg::Opengraph => ExportFormat::Opengraph,
            ExportFormatArg::OpengraphExtension => ExportFormat::OpengraphExtension,
            ExportFormatArg::Cyclonedx => ExportFormat::Cyclonedx,
        }
    }
}
