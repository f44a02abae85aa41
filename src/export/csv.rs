use serde::Serialize;
use std::path::Path;

use super::ExportError;
use crate::import::csv_tables::{
    ContainmentRow, CredentialRow, IdentityRow, OwnerRow, ServiceRow, UsageRow, join_list,
};
use crate::inventory::Inventory;

/// Writes `owners.csv`, `services.csv`, `identities.csv`, `usages.csv`,
/// `containment.csv` and `credentials.csv` into `dir` (a table with no rows is left out, since
/// CSV takes its header from the rows); importing the directory gives back
/// the same inventory. Returns the files written.
pub fn write_csv_dir(inv: &Inventory, dir: &Path) -> Result<Vec<String>, ExportError> {
    if dir.exists() && !dir.is_dir() {
        return Err(ExportError::Write {
            path: dir.display().to_string(),
            message: "CSV is written as one file per table into a directory; give a directory"
                .into(),
        });
    }
    // Every table's name checked first, so a refusal writes no table.
    for name in [
        "owners.csv",
        "services.csv",
        "identities.csv",
        "usages.csv",
        "containment.csv",
        "credentials.csv",
    ] {
        let path = dir.join(name);
        crate::store::guard::check_not_database(&path).map_err(|e| ExportError::Write {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
    }
    std::fs::create_dir_all(dir).map_err(|e| ExportError::Write {
        path: dir.display().to_string(),
        message: e.to_string(),
    })?;
    let mut written = Vec::new();
    let owners = inv.owners.iter().map(|o| OwnerRow {
        id: o.id.clone(),
        kind: o.kind,
        name: o.name.clone(),
        email: o.email.clone(),
        parent: o.parent.clone(),
        left_on: o.left_on,
    });
    table(dir, "owners.csv", owners, &mut written)?;
    let services = inv.services.iter().map(|s| ServiceRow {
        id: s.id.clone(),
        name: s.name.clone(),
        owner: s.owner.clone(),
        tier: s.tier,
        system: s.system.clone(),
        description: s.description.clone(),
        depends_on: join_list(&s.depends_on),
    });
    table(dir, "services.csv", services, &mut written)?;
    table(
        dir,
        "identities.csv",
        inv.identities.iter().map(IdentityRow::from_identity),
        &mut written,
    )?;
    let usages = inv.identities.iter().flat_map(|i| {
        i.used_by.iter().map(|u| UsageRow {
            identity: i.id.clone(),
            service: u.service.clone(),
            access: u.access,
            delivery: u.delivery,
            live_sessions: Some(u.live_sessions),
        })
    });
    table(dir, "usages.csv", usages, &mut written)?;
    let plans = inv.identities.iter().flat_map(|i| {
        i.containment.iter().map(|(action, p)| ContainmentRow {
            identity: i.id.clone(),
            action: *action,
            reversible: p.reversible,
            rollback: p.rollback.clone(),
            rto_minutes: p.rto_minutes,
            preauthorised: p.preauthorised,
        })
    });
    table(dir, "containment.csv", plans, &mut written)?;
    let credentials = inv.identities.iter().flat_map(|i| {
        i.credentials
            .iter()
            .map(|c| CredentialRow::from_credential(&i.id, c))
    });
    table(dir, "credentials.csv", credentials, &mut written)?;
    Ok(written)
}

fn table<T: Serialize>(
    dir: &Path,
    name: &str,
    rows: impl Iterator<Item = T>,
    written: &mut Vec<String>,
) -> Result<(), ExportError> {
    let mut rows = rows.peekable();
    let path = dir.join(name);
    if rows.peek().is_none() {
        return Ok(());
    }
    let fail = |e: csv::Error| ExportError::Write {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r).map_err(fail)?;
    }
    let bytes = w.into_inner().map_err(|e| fail(e.into_error().into()))?;
    let bytes = defuse_formulas(&bytes).map_err(fail)?;
    // Never over an open database's files, and never half-written.
    crate::store::guard::write(&path, bytes).map_err(|e| fail(e.into()))?;
    written.push(path.display().to_string());
    Ok(())
}

/// Every cell that a spreadsheet would take for a formula, prefixed with
/// `'` (OWASP's mitigation); `import` removes that prefix again, so the
/// export still round-trips (docs/csv-format.md).
fn defuse_formulas(csv_bytes: &[u8]) -> Result<Vec<u8>, csv::Error> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv_bytes);
    let mut out = csv::Writer::from_writer(Vec::new());
    for record in reader.records() {
        let record = record?;
        out.write_record(record.iter().map(|cell| {
            if crate::import::csv_tables::looks_like_formula(cell) {
                format!("'{cell}")
            } else {
                cell.to_owned()
            }
        }))?;
    }
    out.into_inner().map_err(|e| e.into_error().into())
}
