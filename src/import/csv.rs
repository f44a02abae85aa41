//! Countersign's CSV files (docs/csv-format.md): one file per table, told
//! apart by their headers. The row types here are also what `export
//! --format csv` writes, so the two directions cannot drift apart.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use super::{Format, Source};
use crate::inventory::{Inventory, InventoryError, LineMap, MergeMode, Section};
use crate::model::{
    Access, ApprovalTier, BreakGlass, ContainmentAction, ContainmentPlan, Credential,
    CredentialKind, Environment, Identity, IdentityKind, Lifetime, Owner, OwnerKind, Review,
    SecretDelivery, Service, Tier, Usage,
};

/// Characters that make a spreadsheet read a cell as a formula (OWASP's
/// "CSV Injection": `=HYPERLINK(…)` in a name becomes a live link or a
/// command when an export is opened in Excel or LibreOffice). The export
/// prefixes such cells with `'`; the import removes it again.
pub(crate) const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Whether a cell is one the export prefixes with `'`: it starts, after
/// any `'`s, with a formula character. Counting the `'`s already there
/// makes the round trip exact (`'=x` is exported as `''=x`).
pub(crate) fn looks_like_formula(cell: &str) -> bool {
    cell.trim_start_matches('\'').starts_with(FORMULA_STARTS)
}

/// Lists inside one cell are separated by this.
const LIST_SEPARATOR: char = ';';

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OwnerRow {
    pub id: String,
    pub kind: OwnerKind,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub parent: Option<String>,
    #[serde(default)]
    pub left_on: Option<Date>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ServiceRow {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub owner: Option<String>,
    pub tier: Tier,
    #[serde(default)]
    pub system: Option<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub depends_on: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct IdentityRow {
    pub id: String,
    pub kind: IdentityKind,
    pub name: String,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub backup_owner: Option<String>,
    pub environment: Environment,
    pub tier: Tier,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub external_ids: String,
    #[serde(default)]
    pub lifetime: Option<Lifetime>,
    #[serde(default)]
    pub expires_on: Option<Date>,
    #[serde(default)]
    pub permissions: String,
    #[serde(default)]
    pub admin_equivalent: Option<bool>,
    #[serde(default)]
    pub derived_from: Option<String>,
    #[serde(default)]
    pub break_glass_justification: Option<String>,
    #[serde(default)]
    pub break_glass_custodians: String,
    #[serde(default)]
    pub break_glass_use_window: String,
    #[serde(default)]
    pub break_glass_dual_approval: Option<bool>,
    #[serde(default)]
    pub break_glass_owner_veto: Option<bool>,
    #[serde(default)]
    pub reviewed_by: Option<String>,
    #[serde(default)]
    pub reviewed_on: Option<Date>,
    #[serde(default)]
    pub orphaned_from: Option<String>,
    #[serde(default)]
    pub orphaned_on: Option<Date>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UsageRow {
    pub identity: String,
    pub service: String,
    #[serde(default)]
    pub access: Option<Access>,
    #[serde(default)]
    pub delivery: Option<SecretDelivery>,
    #[serde(default)]
    pub live_sessions: Option<bool>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ContainmentRow {
    pub identity: String,
    pub action: ContainmentAction,
    #[serde(default)]
    pub reversible: Option<bool>,
    #[serde(default)]
    pub rollback: String,
    #[serde(default)]
    pub rto_minutes: Option<u32>,
    #[serde(default)]
    pub preauthorised: Option<ApprovalTier>,
}

/// One credential of an identity (`credentials.csv`): the issuer's id
/// and dates, never the secret (`model::Credential`).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CredentialRow {
    pub identity: String,
    pub id: String,
    pub kind: CredentialKind,
    #[serde(default)]
    pub created_on: Option<Date>,
    #[serde(default)]
    pub last_used_on: Option<Date>,
    #[serde(default)]
    pub never_used: Option<bool>,
    #[serde(default)]
    pub expires_on: Option<Date>,
    #[serde(default)]
    pub active: Option<bool>,
}

impl CredentialRow {
    pub(crate) fn from_credential(identity: &str, c: &Credential) -> Self {
        CredentialRow {
            identity: identity.to_owned(),
            id: c.id.clone(),
            kind: c.kind,
            created_on: c.created_on,
            last_used_on: c.last_used_on,
            never_used: Some(c.never_used),
            expires_on: c.expires_on,
            active: Some(c.active),
        }
    }

    fn into_credential(self) -> Credential {
        Credential {
            id: self.id,
            kind: self.kind,
            created_on: self.created_on,
            last_used_on: self.last_used_on,
            never_used: self.never_used.unwrap_or(false),
            expires_on: self.expires_on,
            // As in the native format: a credential is active unless said.
            active: self.active.unwrap_or(true),
        }
    }
}

pub(crate) fn split_list(cell: &str) -> Vec<String> {
    cell.split(LIST_SEPARATOR)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

pub(crate) fn join_list(items: &[String]) -> String {
    items.join(&LIST_SEPARATOR.to_string())
}

impl IdentityRow {
    pub(crate) fn from_identity(i: &Identity) -> Self {
        let bg = i.break_glass.as_ref();
        IdentityRow {
            id: i.id.clone(),
            kind: i.kind,
            name: i.name.clone(),
            owner: i.owner.clone(),
            backup_owner: i.backup_owner.clone(),
            environment: i.environment,
            tier: i.tier,
            description: i.description.clone(),
            external_ids: join_list(&i.external_ids),
            lifetime: i.lifetime,
            expires_on: i.expires_on,
            permissions: join_list(&i.permissions),
            admin_equivalent: Some(i.admin_equivalent),
            derived_from: i.derived_from.clone(),
            break_glass_justification: bg.map(|b| b.justification.clone()),
            break_glass_custodians: bg.map(|b| join_list(&b.custodians)).unwrap_or_default(),
            break_glass_use_window: bg.map(|b| b.use_window.clone()).unwrap_or_default(),
            break_glass_dual_approval: bg.map(|b| b.always_dual_approval),
            break_glass_owner_veto: bg.map(|b| b.owner_veto),
            reviewed_by: i.review.as_ref().map(|r| r.by.clone()),
            reviewed_on: i.review.as_ref().map(|r| r.on),
            orphaned_from: i.orphaned.as_ref().map(|o| o.former_owner.clone()),
            orphaned_on: i.orphaned.as_ref().map(|o| o.since),
        }
    }

    fn into_identity(self) -> Identity {
        let mut i = Identity::new(&self.id, self.kind, &self.name, self.environment, self.tier);
        i.owner = self.owner;
        i.backup_owner = self.backup_owner;
        i.description = self.description;
        i.external_ids = split_list(&self.external_ids);
        i.lifetime = self.lifetime;
        i.expires_on = self.expires_on;
        i.permissions = split_list(&self.permissions);
        i.admin_equivalent = self.admin_equivalent.unwrap_or(false);
        i.derived_from = self.derived_from;
        i.break_glass = self
            .break_glass_justification
            .map(|justification| BreakGlass {
                justification,
                custodians: split_list(&self.break_glass_custodians),
                use_window: self.break_glass_use_window,
                always_dual_approval: self.break_glass_dual_approval.unwrap_or(true),
                owner_veto: self.break_glass_owner_veto.unwrap_or(true),
            });
        i.review = match (self.reviewed_by, self.reviewed_on) {
            (Some(by), Some(on)) => Some(Review { by, on }),
            _ => None,
        };
        i.orphaned = match (self.orphaned_from, self.orphaned_on) {
            (Some(former_owner), Some(since)) => Some(crate::model::Orphaned {
                former_owner,
                since,
            }),
            _ => None,
        };
        i
    }
}

/// One CSV file's rows, with the line each came from.
pub(super) enum Part {
    Owners(Vec<(u64, OwnerRow)>),
    Services(Vec<(u64, ServiceRow)>),
    Identities(Vec<(u64, IdentityRow)>),
    Usages(Vec<(u64, UsageRow)>),
    Containment(Vec<(u64, ContainmentRow)>),
    Credentials(Vec<(u64, CredentialRow)>),
}

#[derive(Clone, Copy)]
enum Table {
    Owners,
    Services,
    Identities,
    Usages,
    Containment,
    Credentials,
}

fn table_of(headers: &csv::StringRecord, origin: &str) -> Result<Table, InventoryError> {
    let has = |h: &str| headers.iter().any(|x| x.trim() == h);
    Ok(if has("identity") && has("service") {
        Table::Usages
    } else if has("identity") && has("action") {
        Table::Containment
    } else if has("identity") && has("kind") {
        Table::Credentials
    } else if has("kind") && has("environment") {
        Table::Identities
    } else if has("tier") {
        Table::Services
    } else if has("kind") && has("id") {
        Table::Owners
    } else {
        return Err(InventoryError::Unsupported {
            origin: origin.to_owned(),
            message: "the header matches none of the CSV tables (owners, services, identities, usages, containment, credentials); see docs/csv-format.md".into(),
        });
    })
}

/// Counts the lines of what passes through it, so a record is placed by
/// the newlines before its first byte. The csv crate's own line count is
/// one short on CRLF files (what Excel, LibreOffice and Python's `csv`
/// write) from the third line on.
struct Lines<R> {
    inner: R,
    read: u64,
    /// The line endings read but not yet counted.
    ahead: std::rc::Rc<std::cell::RefCell<LineCount>>,
}

#[derive(Default)]
struct LineCount {
    /// Offsets of the line-ending bytes read but not yet passed, and
    /// whether each is a `\n` (else a `\r`).
    endings: std::collections::VecDeque<(u64, bool)>,
    before: u64,
}

impl LineCount {
    /// The 1-based line a record found at `offset` starts on (offsets
    /// asked in order). The csv crate may place a record at the line
    /// ending before it, or at the blank lines it skipped (on CRLF files):
    /// its first byte that ends no line is where it starts.
    fn line_at(&mut self, offset: u64) -> u64 {
        let mut start = offset;
        while let Some(&(at, newline)) = self.endings.front() {
            if at > start {
                break;
            }
            if at == start {
                start += 1;
            }
            if newline {
                self.before += 1;
            }
            self.endings.pop_front();
        }
        self.before + 1
    }
}

impl<R: std::io::Read> std::io::Read for Lines<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut ahead = self.ahead.borrow_mut();
        for (i, b) in buf[..n].iter().enumerate() {
            if *b == b'\n' || *b == b'\r' {
                ahead.endings.push_back((self.read + i as u64, *b == b'\n'));
            }
        }
        self.read += n as u64;
        Ok(n)
    }
}

fn rows<T: serde::de::DeserializeOwned, R: std::io::Read>(
    reader: &mut csv::Reader<R>,
    lines: &std::cell::RefCell<LineCount>,
    origin: &str,
) -> Result<Vec<(u64, T)>, InventoryError> {
    let headers = reader.headers().map_err(|e| syntax(origin, &e))?.clone();
    let mut out = Vec::new();
    for record in reader.records() {
        let read = record.map_err(|e| match (e.kind(), e.position()) {
            (
                csv::ErrorKind::UnequalLengths {
                    expected_len, len, ..
                },
                Some(at),
            ) => InventoryError::Invalid {
                origin: origin.to_owned(),
                line: Some(lines.borrow_mut().line_at(at.byte())),
                at: "row".into(),
                message: format!("the row has {len} field(s), the header {expected_len}"),
            },
            _ => syntax(origin, &e),
        })?;
        let line = read
            .position()
            .map_or(0, |p| lines.borrow_mut().line_at(p.byte()));
        // A cell the export defused (`'=…`, docs/csv-format.md) is read
        // back as it was.
        let record: csv::StringRecord = read
            .iter()
            .map(|cell| match cell.strip_prefix('\'') {
                Some(rest) if looks_like_formula(rest) => rest,
                _ => cell,
            })
            .collect();
        let row: T = record.deserialize(Some(&headers)).map_err(|e| {
            let field = column_of(&e, &headers, &record)
                .map(|h| format!("column {h:?}: "))
                .unwrap_or_default();
            InventoryError::Invalid {
                origin: origin.to_owned(),
                line: Some(line),
                at: "row".into(),
                message: format!("{field}{}", describe(e.kind())),
            }
        })?;
        out.push((line, row));
    }
    Ok(out)
}

/// The column a deserialisation error is about: csv reports it for some
/// errors; for the rest (an unknown enum variant, an out-of-range tier) it
/// is the one column whose value the message quotes.
fn column_of<'h>(
    e: &csv::Error,
    headers: &'h csv::StringRecord,
    record: &csv::StringRecord,
) -> Option<&'h str> {
    let csv::ErrorKind::Deserialize { err, .. } = e.kind() else {
        return None;
    };
    if let Some(f) = err.field() {
        return headers.get(f as usize);
    }
    let message = err.kind().to_string();
    let quoted: Vec<usize> = record
        .iter()
        .enumerate()
        .filter(|(_, v)| {
            !v.is_empty()
                && (message.contains(&format!("`{v}`")) || message.contains(&format!("\"{v}\"")))
        })
        .map(|(i, _)| i)
        .collect();
    match quoted.as_slice() {
        [one] => headers.get(*one),
        _ => None,
    }
}

fn describe(kind: &csv::ErrorKind) -> String {
    match kind {
        csv::ErrorKind::Deserialize { err, .. } => err.kind().to_string(),
        other => format!("{other:?}"),
    }
}

fn syntax(origin: &str, e: &csv::Error) -> InventoryError {
    InventoryError::Syntax {
        origin: origin.to_owned(),
        position: None,
        message: e.to_string(),
    }
}

pub(super) fn parse_part(text: &str, origin: &str) -> Result<Part, InventoryError> {
    read_part(text.as_bytes(), origin)
}

/// Reads one CSV file record by record from `input`, so memory follows
/// the rows kept, not the size of the file. A UTF-8 byte-order mark is
/// skipped; invalid UTF-8 is reported with its line and byte.
pub(super) fn read_part(input: impl std::io::Read, origin: &str) -> Result<Part, InventoryError> {
    let count = std::rc::Rc::new(std::cell::RefCell::new(LineCount::default()));
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(Lines {
            inner: input,
            read: 0,
            ahead: count.clone(),
        });
    let headers = reader.headers().map_err(|e| syntax(origin, &e))?.clone();
    let (r, l) = (&mut reader, &*count);
    Ok(match table_of(&headers, origin)? {
        Table::Owners => Part::Owners(rows(r, l, origin)?),
        Table::Services => Part::Services(rows(r, l, origin)?),
        Table::Identities => Part::Identities(rows(r, l, origin)?),
        Table::Usages => Part::Usages(rows(r, l, origin)?),
        Table::Containment => Part::Containment(rows(r, l, origin)?),
        Table::Credentials => Part::Credentials(rows(r, l, origin)?),
    })
}

/// Combines the CSV files of one import into one source: usages,
/// containment and credential rows attach to identities from an
/// identities file of the same import.
pub(super) fn combine(parts: Vec<(String, Part)>) -> Result<Source, InventoryError> {
    let mut inv = Inventory::default();
    let mut lines = LineMap::default();
    let mut index: HashMap<String, usize> = HashMap::new();
    let (mut has_usages, mut has_containment, mut has_credentials) = (false, false, false);
    let mut deferred = Vec::new();
    // Where each owner, service and identity was first listed: a second
    // row of one is refused, not taken over the first.
    let mut seen: HashMap<(&'static str, String), (String, u64)> = HashMap::new();
    let mut first = |what: &'static str, id: &str, origin: &str, line: u64| match seen
        .get(&(what, id.to_owned()))
    {
        Some((at, at_line)) => Err(InventoryError::Invalid {
            origin: origin.to_owned(),
            line: Some(line),
            at: "id".into(),
            message: format!("{what} {id:?} is listed twice, here and first at {at}:{at_line}"),
        }),
        None => {
            seen.insert((what, id.to_owned()), (origin.to_owned(), line));
            Ok(())
        }
    };
    for (origin, part) in parts {
        lines.file(&origin);
        match part {
            Part::Owners(rows) => {
                for (line, r) in rows {
                    first("owner", &r.id, &origin, line)?;
                    lines.entity(Section::Owners, &r.id, line);
                    inv.owners.push(Owner {
                        id: r.id,
                        kind: r.kind,
                        name: r.name,
                        email: r.email,
                        parent: r.parent,
                        left_on: r.left_on,
                    });
                }
            }
            Part::Services(rows) => {
                for (line, r) in rows {
                    first("service", &r.id, &origin, line)?;
                    lines.entity(Section::Services, &r.id, line);
                    inv.services.push(Service {
                        depends_on: split_list(&r.depends_on),
                        id: r.id,
                        name: r.name,
                        owner: r.owner,
                        tier: r.tier,
                        system: r.system,
                        description: r.description,
                    });
                }
            }
            Part::Identities(rows) => {
                for (line, r) in rows {
                    first("identity", &r.id, &origin, line)?;
                    lines.entity(Section::Identities, &r.id, line);
                    index.insert(r.id.clone(), inv.identities.len());
                    inv.identities.push(r.into_identity());
                }
            }
            Part::Usages(rows) => {
                has_usages = true;
                deferred.push((origin, Part::Usages(rows)));
            }
            Part::Containment(rows) => {
                has_containment = true;
                deferred.push((origin, Part::Containment(rows)));
            }
            Part::Credentials(rows) => {
                has_credentials = true;
                deferred.push((origin, Part::Credentials(rows)));
            }
        }
    }
    for (origin, part) in deferred {
        lines.file(&origin);
        let missing = |line, identity: &str| InventoryError::Invalid {
            origin: origin.clone(),
            line: Some(line),
            at: "identity".into(),
            message: format!("identity {identity:?} is not in an identities CSV of this import"),
        };
        match part {
            Part::Usages(rows) => {
                for (line, r) in rows {
                    let &i = index
                        .get(&r.identity)
                        .ok_or_else(|| missing(line, &r.identity))?;
                    lines.field(
                        Section::Identities,
                        &r.identity,
                        "used_by",
                        Some(&r.service),
                        line,
                    );
                    inv.identities[i].used_by.push(Usage {
                        service: r.service,
                        access: r.access,
                        delivery: r.delivery,
                        live_sessions: r.live_sessions.unwrap_or(false),
                    });
                }
            }
            Part::Containment(rows) => {
                for (line, r) in rows {
                    let &i = index
                        .get(&r.identity)
                        .ok_or_else(|| missing(line, &r.identity))?;
                    lines.field(Section::Identities, &r.identity, "containment", None, line);
                    inv.identities[i].containment.insert(
                        r.action,
                        ContainmentPlan {
                            reversible: r.reversible,
                            rollback: r.rollback,
                            rto_minutes: r.rto_minutes,
                            preauthorised: r.preauthorised,
                        },
                    );
                }
            }
            Part::Credentials(rows) => {
                for (line, r) in rows {
                    let &i = index
                        .get(&r.identity)
                        .ok_or_else(|| missing(line, &r.identity))?;
                    lines.field(
                        Section::Identities,
                        &r.identity,
                        "credentials",
                        Some(&r.id),
                        line,
                    );
                    inv.identities[i].credentials.push(r.into_credential());
                }
            }
            _ => unreachable!("only usages, containment and credentials are deferred"),
        }
    }
    let origin = lines_origin(&lines);
    let mut source = Source::new(&origin, Format::Csv, inv, MergeMode::Replace);
    source.covers_usages = has_usages;
    source.covers_containment = has_containment;
    source.covers_credentials = has_credentials;
    source.lines = lines;
    Ok(source)
}

fn lines_origin(lines: &LineMap) -> String {
    lines.files().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(files: &[(&str, &str)]) -> Result<Source, InventoryError> {
        let parts = files
            .iter()
            .map(|(name, text)| parse_part(text, name).map(|p| (name.to_string(), p)))
            .collect::<Result<Vec<_>, _>>()?;
        combine(parts)
    }

    #[test]
    fn tables_are_told_apart_by_header_and_combined() {
        let s = source(&[
            ("services.csv", "id,name,owner,tier,depends_on\napi,API,team-a,1,db\ndb,DB,team-d,0,\n"),
            ("identities.csv", "id,kind,name,owner,environment,tier,external_ids\nk,api_key,Key,team-a,production,1,a;b\n"),
            ("usages.csv", "identity,service,access,delivery\nk,api,write,static\n"),
        ])
        .unwrap();
        assert_eq!(s.inventory.services[0].depends_on, ["db"]);
        let k = &s.inventory.identities[0];
        assert_eq!(k.external_ids, ["a", "b"]);
        assert_eq!(k.used_by[0].access, Some(Access::Write));
        assert!(s.covers_usages && !s.covers_containment);
    }

    #[test]
    fn a_bad_cell_names_file_line_and_column() {
        let e = source(&[(
            "ids.csv",
            "id,kind,name,environment,tier\nk,api_key,K,production,1\nj,robot,J,production,1\n",
        )])
        .err()
        .unwrap()
        .to_string();
        assert!(e.starts_with("ids.csv:3: row: column \"kind\": "), "{e}");
        let e = source(&[(
            "ids.csv",
            "id,kind,name,environment,tier\nk,api_key,K,production,7\n",
        )])
        .err()
        .unwrap()
        .to_string();
        assert!(e.contains("ids.csv:2") && e.contains("tier"), "{e}");
    }

    #[test]
    fn credentials_attach_to_their_identity_and_say_what_they_cover() {
        let ids =
            "id,kind,name,environment,tier,admin_equivalent\nci,api_key,CI,production,1,true\n";
        let s = source(&[
            ("ids.csv", ids),
            (
                "creds.csv",
                "identity,id,kind,created_on,last_used_on,never_used,expires_on,active\n\
                 ci,access_key_1,access_key,2026-01-02,,true,,false\n\
                 ci,cert,certificate,2026-03-01,,,2027-03-01,\n",
            ),
        ])
        .unwrap();
        let ci = &s.inventory.identities[0];
        assert!(ci.admin_equivalent);
        let [key, cert] = ci.credentials.as_slice() else {
            panic!("{:?}", ci.credentials)
        };
        assert_eq!(
            (key.kind, key.never_used, key.active, key.created_on),
            (
                CredentialKind::AccessKey,
                true,
                false,
                Some(jiff::civil::date(2026, 1, 2))
            )
        );
        assert_eq!(
            (cert.kind, cert.never_used, cert.active, cert.expires_on),
            (
                CredentialKind::Certificate,
                false,
                true,
                Some(jiff::civil::date(2027, 3, 1))
            )
        );
        assert!(s.covers_credentials);
        // Without a credentials file the stored ones are kept.
        assert!(!source(&[("ids.csv", ids)]).unwrap().covers_credentials);
        let e = source(&[
            ("ids.csv", ids),
            ("creds.csv", "identity,id,kind\nci,k,api_key\n"),
        ])
        .err()
        .unwrap()
        .to_string();
        assert!(e.starts_with("creds.csv:2: row: column \"kind\": "), "{e}");
    }

    #[test]
    fn lines_are_counted_alike_on_lf_and_crlf_files() {
        // A quoted cell spanning lines counts too.
        let text = "id,kind,name,environment,tier,description\nid-a,token,A,production,2,\"two\nlines\"\nid-b,token,B,production,2,\n\nid-c,token,C,production,2,\n";
        for text in [text.to_owned(), text.replace('\n', "\r\n")] {
            let Part::Identities(rows) = parse_part(&text, "ids.csv").unwrap() else {
                panic!("identities")
            };
            let lines: Vec<u64> = rows.iter().map(|(l, _)| *l).collect();
            assert_eq!(lines, [2, 4, 6], "{text:?}");
        }
    }

    #[test]
    fn a_row_listed_twice_or_short_is_refused_at_its_line() {
        let e = source(&[(
            "ids.csv",
            "id,kind,name,environment,tier\r\nk,token,K,production,1\r\n\r\nk,api_key,J,production,1\r\n",
        )])
        .err()
        .unwrap()
        .to_string();
        assert_eq!(
            e,
            "ids.csv:4: id: identity \"k\" is listed twice, here and first at ids.csv:2"
        );
        for text in [
            "id,kind,name,environment,tier\nk,token,K,production,1\n\nj,token\n",
            "id,kind,name,environment,tier\r\nk,token,K,production,1\r\n\r\nj,token\r\n",
        ] {
            let e = parse_part(text, "ids.csv").err().unwrap().to_string();
            assert_eq!(
                e, "ids.csv:4: row: the row has 2 field(s), the header 5",
                "{text:?}"
            );
        }
    }

    #[test]
    fn usages_need_their_identity_in_the_same_import() {
        let e = source(&[("usages.csv", "identity,service\nghost,api\n")])
            .err()
            .unwrap()
            .to_string();
        assert_eq!(
            e,
            "usages.csv:2: identity: identity \"ghost\" is not in an identities CSV of this import"
        );
    }

    #[test]
    fn unknown_header_is_rejected() {
        let e = source(&[("x.csv", "a,b\n1,2\n")])
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("matches none of the CSV tables"), "{e}");
    }
}
