//! The controls of public frameworks that Countersign's checks serve, so an
//! auditor can map each Needs-attention rule, each rule of the approval
//! policy and each section of a drill report to the control it evidences.
//!
//! Three frameworks are named, each by its own identifiers:
//! - the OWASP Non-Human Identities Top 10 (2025), `NHI1:2025` to
//!   `NHI10:2025` (<https://owasp.org/www-project-non-human-identities-top-10/>);
//! - the NIST Cybersecurity Framework 2.0 subcategories, such as `RS.MI-01`
//!   (NIST CSWP 29, February 2024);
//! - the CIS Critical Security Controls v8 safeguards, such as `5.5`, and
//!   the CIS Amazon Web Services Foundations Benchmark's recommendations
//!   the credential rules follow, such as `1.14`.
//!
//! A control is written everywhere by its key: the framework's short name
//! and the control's id (`NIST CSF RS.MI-01`, `OWASP NHI1:2025`,
//! `CIS 5.5`, `CIS AWS 1.14`). The policy names them in a rule's
//! `@controls("…")` annotation; [`lookup`] resolves a key.

use serde::Serialize;

/// One control of a public framework.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Control {
    /// The framework's short name and the control's id, as written in the
    /// policy and the reports: `NIST CSF RS.MI-01`.
    pub key: &'static str,
    /// The framework, in full: `NIST Cybersecurity Framework 2.0`.
    pub framework: &'static str,
    /// The control's id in its framework: `RS.MI-01`.
    pub id: &'static str,
    /// What the control asks for, in short.
    pub title: &'static str,
}

const OWASP: &str = "OWASP Non-Human Identities Top 10 2025";
const NIST: &str = "NIST Cybersecurity Framework 2.0";
const CIS: &str = "CIS Critical Security Controls v8";
const CIS_AWS: &str = "CIS Amazon Web Services Foundations Benchmark";

macro_rules! catalogue {
    ($($key:literal, $framework:expr, $id:literal, $title:literal;)*) => {
        /// Every control Countersign names, by framework, then id.
        pub const CATALOGUE: &[Control] = &[
            $(Control { key: $key, framework: $framework, id: $id, title: $title },)*
        ];
    };
}

catalogue! {
    "OWASP NHI1:2025", OWASP, "NHI1:2025", "Improper Offboarding";
    "OWASP NHI2:2025", OWASP, "NHI2:2025", "Secret Leakage";
    "OWASP NHI3:2025", OWASP, "NHI3:2025", "Vulnerable Third-Party NHI";
    "OWASP NHI4:2025", OWASP, "NHI4:2025", "Insecure Authentication";
    "OWASP NHI5:2025", OWASP, "NHI5:2025", "Overprivileged NHI";
    "OWASP NHI6:2025", OWASP, "NHI6:2025", "Insecure Cloud Deployment Configurations";
    "OWASP NHI7:2025", OWASP, "NHI7:2025", "Long-Lived Secrets";
    "OWASP NHI8:2025", OWASP, "NHI8:2025", "Environment Isolation";
    "OWASP NHI9:2025", OWASP, "NHI9:2025", "NHI Reuse";
    "OWASP NHI10:2025", OWASP, "NHI10:2025", "Human Use of NHI";
    "NIST CSF GV.RR-02", NIST, "GV.RR-02", "Roles, responsibilities and authorities for cybersecurity risk management are established, communicated, understood and enforced";
    "NIST CSF ID.AM-02", NIST, "ID.AM-02", "Inventories of software, services and systems managed by the organization are maintained";
    "NIST CSF ID.AM-03", NIST, "ID.AM-03", "Representations of the organization's authorized network communication and data flows are maintained";
    "NIST CSF ID.AM-08", NIST, "ID.AM-08", "Systems, hardware, software, services and data are managed throughout their life cycles";
    "NIST CSF ID.RA-04", NIST, "ID.RA-04", "Potential impacts and likelihoods of threats exploiting vulnerabilities are identified and recorded";
    "NIST CSF ID.IM-02", NIST, "ID.IM-02", "Improvements are identified from security tests and exercises";
    "NIST CSF ID.IM-04", NIST, "ID.IM-04", "Incident response plans and other cybersecurity plans that affect operations are established, communicated, maintained and improved";
    "NIST CSF PR.AA-01", NIST, "PR.AA-01", "Identities and credentials for authorized users, services and hardware are managed by the organization";
    "NIST CSF PR.AA-05", NIST, "PR.AA-05", "Access permissions, entitlements and authorizations are managed and reviewed, with least privilege and separation of duties";
    "NIST CSF RS.MA-01", NIST, "RS.MA-01", "The incident response plan is executed once an incident is declared";
    "NIST CSF RS.MA-02", NIST, "RS.MA-02", "Incident reports are triaged and validated";
    "NIST CSF RS.MI-01", NIST, "RS.MI-01", "Incidents are contained";
    "NIST CSF RS.MI-02", NIST, "RS.MI-02", "Incidents are eradicated";
    "NIST CSF RC.RP-01", NIST, "RC.RP-01", "The recovery portion of the incident response plan is executed";
    "CIS 5.3", CIS, "5.3", "Disable Dormant Accounts";
    "CIS 5.4", CIS, "5.4", "Restrict Administrator Privileges to Dedicated Administrator Accounts";
    "CIS 5.5", CIS, "5.5", "Establish and Maintain an Inventory of Service Accounts";
    "CIS 6.2", CIS, "6.2", "Establish an Access Revoking Process";
    "CIS 17.4", CIS, "17.4", "Establish and Maintain an Incident Response Process";
    "CIS 17.7", CIS, "17.7", "Conduct Routine Incident Response Exercises";
    "CIS AWS 1.12", CIS_AWS, "1.12", "Credentials unused for 45 days or more are disabled";
    "CIS AWS 1.14", CIS_AWS, "1.14", "Access keys are rotated every 90 days or less";
}

/// The control with this key (`NIST CSF RS.MI-01`), exactly as written
/// in [`CATALOGUE`].
pub fn lookup(key: &str) -> Option<&'static Control> {
    CATALOGUE.iter().find(|c| c.key == key)
}

/// The controls with these keys, in order.
///
/// # Panics
/// On a key missing from [`CATALOGUE`]: the keys given here are
/// Countersign's own, and a unit test resolves every one.
pub fn all(keys: &[&str]) -> Vec<Control> {
    keys.iter()
        .map(|k| *lookup(k).unwrap_or_else(|| panic!("{k:?} is not in the catalogue")))
        .collect()
}

/// Why a list of control keys (a policy rule's `@controls`) is not one.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "{key:?} is not a control Countersign knows; write a key such as \"NIST CSF RS.MI-01\", \"OWASP NHI5:2025\" or \"CIS 5.5\" (`countersign controls --all` lists them)"
)]
pub struct UnknownControl {
    pub key: String,
}

/// Reads a comma-separated list of control keys, as a policy rule's
/// `@controls("NIST CSF RS.MI-01, CIS 6.2")` annotation writes them.
pub fn parse_list(text: &str) -> Result<Vec<Control>, UnknownControl> {
    text.split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(|k| {
            lookup(k)
                .copied()
                .ok_or_else(|| UnknownControl { key: k.to_owned() })
        })
        .collect()
}

/// Where one control is served: the Needs-attention rules, the approval
/// policy's rules and the drill report's sections that name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct ControlUse {
    pub control: Control,
    /// Needs-attention rules (`no_owner`).
    pub attention: Vec<String>,
    /// The approval policy's rules, by `@id`.
    pub policy: Vec<String>,
    /// Drill report sections, by heading.
    pub drill: Vec<String>,
}

/// The catalogue with what serves each control: an auditor's mapping
/// table. `attention` are the Needs-attention rules with their control
/// keys, `policy` the approval policy's rules (by `@id`) with theirs,
/// `drill` the drill report's sections with theirs
/// (`app::controls::mapping` gathers them). Controls nothing serves are
/// left out.
pub fn mapping(
    attention: &[(&str, &[&str])],
    policy: &[(String, Vec<Control>)],
    drill: &[(&str, &[&str])],
) -> Vec<ControlUse> {
    CATALOGUE
        .iter()
        .map(|c| ControlUse {
            control: *c,
            attention: attention
                .iter()
                .filter(|(_, keys)| keys.contains(&c.key))
                .map(|(r, _)| (*r).to_owned())
                .collect(),
            policy: policy
                .iter()
                .filter(|(_, cs)| cs.contains(c))
                .map(|(id, _)| id.clone())
                .collect(),
            drill: drill
                .iter()
                .filter(|(_, keys)| keys.contains(&c.key))
                .map(|(t, _)| (*t).to_owned())
                .collect(),
        })
        .filter(|u| !(u.attention.is_empty() && u.policy.is_empty() && u.drill.is_empty()))
        .collect()
}

/// [`mapping`] as a Markdown document (`countersign controls --markdown`;
/// `docs/controls.md` is this for the shipped policy).
pub fn mapping_markdown(uses: &[ControlUse]) -> String {
    use std::fmt::Write as _;
    let mut md = String::from(
        "# Controls\n\n\
         Which public controls Countersign's checks serve: each Needs-attention rule, each rule of the \
         shipped approval policy (`assets/policy/default.cedar`, its `@controls` annotations) and each \
         section of a drill report. Written by `countersign controls --markdown`; a test keeps this \
         page equal to its output.\n",
    );
    let mut framework = "";
    for u in uses {
        let c = &u.control;
        if c.framework != framework {
            framework = c.framework;
            let _ = write!(
                md,
                "\n## {framework}\n\n| control | what it asks | Needs attention | approval policy | drill report |\n|---|---|---|---|---|\n"
            );
        }
        let list = |v: &[String], code: bool| {
            v.iter()
                .map(|x| if code { format!("`{x}`") } else { x.clone() })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} |",
            c.key,
            c.title,
            list(&u.attention, true),
            list(&u.policy, true),
            list(&u.drill, false)
        );
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_name_their_framework_and_id() {
        let mut keys: Vec<&str> = CATALOGUE.iter().map(|c| c.key).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), CATALOGUE.len(), "a key is listed twice");
        for c in CATALOGUE {
            assert!(c.key.ends_with(c.id), "{c:?}");
        }
        assert_eq!(
            CATALOGUE.iter().filter(|c| c.framework == OWASP).count(),
            10
        );
    }

    #[test]
    fn lists_are_read_and_unknown_keys_named() {
        let list = parse_list(" NIST CSF RS.MI-01,CIS 6.2 ,").unwrap();
        assert_eq!(
            list.iter().map(|c| c.id).collect::<Vec<_>>(),
            ["RS.MI-01", "6.2"]
        );
        let err = parse_list("NIST CSF RS.MI-01, RS.MI-09").unwrap_err();
        assert_eq!(err.key, "RS.MI-09");
        assert!(err.to_string().contains("countersign controls"), "{err}");
    }
}
