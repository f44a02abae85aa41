//! Owners who leave: the organisation's directory (Backstage User and
//! Group entities, or an `owners.csv` of people) read as the list of who
//! is still here. A person-owner it no longer lists has left: they are
//! marked (`left_on`), never deleted, and each identity they owned is
//! marked orphaned and handed to its backup owner, or else to the team the
//! person belonged to, so that a containment request still reaches someone
//! (OWASP NHI1:2025, Improper Offboarding). Every change is an ordinary,
//! audited change to the identity or owner.
//!
//! A person is still listed when the directory has their id (case aside,
//! as Backstage compares entity names) or their e-mail address. A
//! directory that lists no person at all is refused: read as the whole
//! organisation, it would mark everyone gone.

use std::collections::HashSet;
use std::path::Path;

use jiff::civil::Date;
use serde::Serialize;

use super::{Findings, ImportError, Options, merge_sources, read_sources};
use crate::inventory::{ChangeSet, Inventory};
use crate::model::{Orphaned, OwnerKind};

/// How an orphaned identity was handed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HandedTo {
    /// Its backup owner is now its owner.
    BackupOwner,
    /// The team the person who left belonged to is now its owner.
    Team,
    /// Nobody: no backup owner, no team (or they left too).
    Nobody,
}

/// One identity whose owner left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rerouted {
    pub identity: String,
    pub former_owner: String,
    /// Its owner now, if it was handed on.
    pub owner: Option<String>,
    pub handed_to: HandedTo,
}

/// What a directory import finds and would change.
#[derive(Debug, Clone, Serialize)]
pub struct DirectoryPlan {
    pub files: Vec<String>,
    /// People and teams the directory lists.
    pub people: usize,
    pub teams: usize,
    /// Person-owners of the inventory still here before this import.
    pub known_people: usize,
    /// Person-owners it no longer lists, newly marked as left.
    pub departed: Vec<String>,
    /// Person-owners marked as left before whom it lists again.
    pub returned: Vec<String>,
    pub rerouted: Vec<Rerouted>,
    /// The changes to owners, identities and services, to apply as one.
    pub changes: ChangeSet,
    pub findings: Findings,
}

/// Reads the directory at `path` (a file or a folder) and plans what it
/// means for `current` on `today`.
///
/// # Errors
/// What reading the files can fail with ([`ImportError`]), and
/// [`ImportError::NoPeople`] for a directory that lists no person.
pub fn plan(
    path: &Path,
    options: &Options,
    current: &Inventory,
    today: Date,
) -> Result<DirectoryPlan, ImportError> {
    let sources = read_sources(path, options, &())?;
    // A Countersign inventory file lists some owners, not the
    // organisation: read as a directory, it would mark the rest as gone.
    if let Some(native) = sources
        .list
        .iter()
        .find(|s| s.format == super::Format::Native)
    {
        return Err(ImportError::NotADirectory {
            origin: native.origin.clone(),
        });
    }
    let files = sources.files().to_vec();
    let merged = merge_sources(&Inventory::default(), sources)?;
    let directory = merged.working;
    let mut findings = merged.findings;
    let people = directory
        .owners
        .iter()
        .filter(|o| o.kind == OwnerKind::Person)
        .count();
    let teams = directory.owners.len() - people;
    if people == 0 {
        return Err(ImportError::NoPeople {
            origin: path.display().to_string(),
        });
    }
    let origin = files.first().cloned().unwrap_or_default();
    if !directory.services.is_empty() || !directory.identities.is_empty() {
        findings.note(
            &origin,
            None,
            format!(
                "{} service(s) and {} identity(ies) in these files are not read: a directory import reads people and teams (import the rest with `countersign import`)",
                directory.services.len(),
                directory.identities.len()
            ),
        );
    }
    let ids: HashSet<String> = directory
        .owners
        .iter()
        .map(|o| o.id.to_lowercase())
        .collect();
    let emails: HashSet<String> = directory
        .owners
        .iter()
        .filter_map(|o| o.email.as_deref())
        .map(str::to_lowercase)
        .collect();
    let listed = |o: &crate::model::Owner| {
        ids.contains(&o.id.to_lowercase())
            || o.email
                .as_deref()
                .is_some_and(|e| emails.contains(&e.to_lowercase()))
    };

    let listed_owners: HashSet<&str> = current.owners.iter().map(|o| o.id.as_str()).collect();
    let mut unlisted: Vec<&str> = current
        .identities
        .iter()
        .flat_map(|i| [i.owner.as_deref(), i.backup_owner.as_deref()])
        .flatten()
        .filter(|o| !listed_owners.contains(o))
        .collect();
    unlisted.sort_unstable();
    unlisted.dedup();
    if !unlisted.is_empty() {
        findings.note(
            &origin,
            None,
            format!(
                "{} owner id(s) that identities name are not listed as owners, so whether they left cannot be told: {} (list them as owners, as `countersign import` of the directory does)",
                unlisted.len(),
                unlisted.join(", ")
            ),
        );
    }
    let mut target = current.clone();
    let mut departed = Vec::new();
    let mut returned = Vec::new();
    let mut unlisted_teams = Vec::new();
    for o in &mut target.owners {
        match (o.kind, listed(o), o.left_on) {
            (OwnerKind::Person, false, None) => {
                o.left_on = Some(today);
                departed.push(o.id.clone());
            }
            (OwnerKind::Person, true, Some(_)) => {
                o.left_on = None;
                returned.push(o.id.clone());
            }
            (OwnerKind::Team, false, _) => unlisted_teams.push(o.id.clone()),
            _ => {}
        }
    }
    if !unlisted_teams.is_empty() {
        findings.note(
            &origin,
            None,
            format!(
                "{} team(s) the directory does not list are kept as they are (a team is not marked as left): {}",
                unlisted_teams.len(),
                unlisted_teams.join(", ")
            ),
        );
    }
    for id in &returned {
        findings.note(
            &origin,
            None,
            format!("{id} is listed again: no longer marked as left (identities handed on stay with their new owners)"),
        );
    }

    // Everyone marked as left, this time or before.
    let left: HashSet<&str> = target
        .owners
        .iter()
        .filter(|o| o.left_on.is_some())
        .map(|o| o.id.as_str())
        .collect();
    let team_ids: HashSet<&str> = target
        .owners
        .iter()
        .filter(|o| o.kind == OwnerKind::Team)
        .map(|o| o.id.as_str())
        .collect();
    // Each person's team, if it is a team of the inventory and still here.
    let teams_of: std::collections::HashMap<String, String> = target
        .owners
        .iter()
        .filter_map(|o| {
            let team = o.parent.clone()?;
            (team_ids.contains(team.as_str()) && !left.contains(team.as_str()))
                .then(|| (o.id.clone(), team))
        })
        .collect();
    let team_of = |person: &str| teams_of.get(person).cloned();
    let mut rerouted = Vec::new();
    let mut identities = std::mem::take(&mut target.identities);
    for i in &mut identities {
        // Back, and still the owner: no longer an orphan.
        if i.orphaned.as_ref().is_some_and(|o| {
            returned.contains(&o.former_owner)
                && i.owner.as_deref() == Some(o.former_owner.as_str())
        }) {
            i.orphaned = None;
        }
        if let Some(backup) = i.backup_owner.clone()
            && left.contains(backup.as_str())
            && i.owner.as_deref().is_some_and(|o| !left.contains(o))
        {
            findings.note(
                &origin,
                None,
                format!(
                    "{}: its backup owner {backup} left; the backup owner is cleared (name another)",
                    i.id
                ),
            );
            i.backup_owner = None;
        }
        let Some(owner) = i.owner.clone().filter(|o| left.contains(o.as_str())) else {
            continue;
        };
        if i.orphaned.is_none() {
            i.orphaned = Some(Orphaned {
                former_owner: owner.clone(),
                since: today,
            });
        }
        if let Some(b) = i.backup_owner.clone().filter(|b| left.contains(b.as_str())) {
            findings.note(
                &origin,
                None,
                format!(
                    "{}: its backup owner {b} left too; the backup owner is cleared",
                    i.id
                ),
            );
            i.backup_owner = None;
        }
        let backup = i.backup_owner.clone();
        let handed_to = if let Some(b) = backup {
            i.owner = Some(b);
            i.backup_owner = None;
            HandedTo::BackupOwner
        } else if let Some(team) = team_of(&owner) {
            i.owner = Some(team);
            HandedTo::Team
        } else {
            HandedTo::Nobody
        };
        if handed_to == HandedTo::Nobody && !departed.contains(&owner) {
            // Left before and still nobody to hand it to: said before.
            continue;
        }
        rerouted.push(Rerouted {
            identity: i.id.clone(),
            former_owner: owner,
            owner: i.owner.clone(),
            handed_to,
        });
    }
    for s in &mut target.services {
        let Some(owner) = s.owner.clone().filter(|o| departed.contains(o)) else {
            continue;
        };
        match team_of(&owner) {
            Some(team) => {
                findings.note(
                    &origin,
                    None,
                    format!("the service {}: its owner {owner} left; handed to {team}", s.id),
                );
                s.owner = Some(team);
            }
            None => findings.unresolved(
                &origin,
                None,
                format!(
                    "the service {}: its owner {owner} left and there is nobody to hand it to (no team): name its owner",
                    s.id
                ),
            ),
        }
    }
    // Custodians of break-glass accounts who left hold sealed credentials.
    for i in &identities {
        if let Some(bg) = &i.break_glass {
            for c in bg.custodians.iter().filter(|c| departed.contains(c)) {
                findings.unresolved(
                    &origin,
                    None,
                    format!(
                        "{}: its break-glass custodian {c} left: rotate the sealed credentials and name another custodian",
                        i.id
                    ),
                );
            }
        }
    }
    target.identities = identities;
    let known_people = current
        .owners
        .iter()
        .filter(|o| o.kind == OwnerKind::Person && o.left_on.is_none())
        .count();
    let changes = ChangeSet::diff_into(current, target);
    Ok(DirectoryPlan {
        files,
        people,
        teams,
        known_people,
        departed,
        returned,
        rerouted,
        changes,
        findings,
    })
}

impl DirectoryPlan {
    /// Whether more than half of the people still here would be marked as
    /// left (and more than two): more likely a partial directory (one
    /// department's file, a provider that skipped a namespace) than a
    /// wave of departures, so it is applied only when asked for.
    pub fn is_mass_departure(&self) -> bool {
        self.departed.len() > 2 && self.departed.len() * 2 > self.known_people
    }
}
