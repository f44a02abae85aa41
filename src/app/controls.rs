//! The controls map (`countersign controls`): every Needs-attention rule,
//! every rule of the policy in force and every drill report section, with
//! the public controls each serves ([`crate::controls`]).

use crate::controls::ControlUse;

/// [`crate::controls::mapping`] for `policy` (the one in force).
pub fn mapping(policy: &crate::policy::Policy) -> Vec<ControlUse> {
    let attention: Vec<(&str, &[&str])> = crate::attention::RULES
        .iter()
        .map(|r| (r.as_str(), r.controls()))
        .collect();
    crate::controls::mapping(
        &attention,
        &policy.rule_controls(),
        &crate::drill::report::SECTIONS,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every Needs-attention rule, every rule of the shipped policy and
    /// every drill report section names at least one control, and each
    /// resolves (`all` panics on a key not in the catalogue).
    #[test]
    fn every_check_names_controls_that_exist() {
        for r in crate::attention::RULES {
            assert!(!crate::controls::all(r.controls()).is_empty(), "{r:?}");
        }
        for (id, controls) in crate::policy::Policy::default_policy().rule_controls() {
            assert!(!controls.is_empty(), "policy rule {id} names no control");
        }
        for (section, keys) in crate::drill::report::SECTIONS {
            assert!(!crate::controls::all(keys).is_empty(), "{section}");
        }
    }

    /// docs/controls.md is the mapping for the shipped policy, as
    /// `countersign controls --markdown` writes it.
    #[test]
    fn the_documented_mapping_is_current() {
        let md =
            crate::controls::mapping_markdown(&mapping(&crate::policy::Policy::default_policy()));
        assert!(
            md == include_str!("../../docs/controls.md"),
            "docs/controls.md is out of date: run `countersign --db /tmp/controls.db controls --markdown > docs/controls.md`"
        );
        assert!(md.contains(
            "| NIST CSF RS.MI-01 | Incidents are contained | `destructive_without_rollback`"
        ));
    }
}
