//! The audit trail: every change to the inventory, who made it, when, and
//! the entity before and after, in an append-only table whose rows are
//! hash-chained. Each row's hash covers its fields and the previous row's
//! hash, and the newest hash is also kept in `settings`, so altering,
//! removing or reordering any row — even the last — is detected and the
//! first bad row named.

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, FromRow};
use std::io::Write;

use super::{Store, StoreError};
use crate::inventory::{Change, Entity, EntityState, Operation};

/// Tables only Countersign's sessions may write (migrations 0005, 0006,
/// 0011, 0012, 0014).
const WRITE_GUARDED: [&str; 16] = [
    "owners",
    "services",
    "service_dependencies",
    "identities",
    "identity_external_ids",
    "identity_usages",
    "break_glass",
    "containment_plans",
    "identity_credentials",
    "observed_edges",
    "campaigns",
    "campaign_items",
    "settings",
    "signing_keys",
    "decisions",
    "outbox",
];

/// `prev_hash` of the first row.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
pub(super) const HEAD_KEY: &str = "audit_head";

/// One row of the audit trail, as stored and as exported (JSON Lines).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow, ts_rs::TS)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    #[ts(type = "\"create\" | \"update\" | \"delete\"")]
    pub operation: String,
    pub entity: String,
    pub entity_id: String,
    /// The entity as JSON before the change; `None` on create.
    pub before: Option<String>,
    /// The entity as JSON after the change; `None` on delete.
    pub after: Option<String>,
    /// Where the change came from: `app`, `cli`, `import:<file>`, `demo`.
    pub source: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The hashed fields, in a fixed order; serde_json writes struct fields in
/// declaration order, so the bytes are stable across versions.
#[derive(Serialize)]
struct Hashed<'a> {
    seq: i64,
    at: &'a str,
    actor: &'a str,
    operation: &'a str,
    entity: &'a str,
    entity_id: &'a str,
    before: Option<&'a str>,
    after: Option<&'a str>,
    source: &'a str,
    prev_hash: &'a str,
}

impl AuditEntry {
    pub fn compute_hash(&self) -> String {
        let hashed = Hashed {
            seq: self.seq,
            at: &self.at,
            actor: &self.actor,
            operation: &self.operation,
            entity: &self.entity,
            entity_id: &self.entity_id,
            before: self.before.as_deref(),
            after: self.after.as_deref(),
            source: &self.source,
            prev_hash: &self.prev_hash,
        };
        let bytes = serde_json::to_vec(&hashed).expect("audit fields serialise");
        hex(&Sha256::digest(bytes))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What a new row records; the chain fields are filled in by [`append`].
pub(super) struct NewEntry<'a> {
    pub actor: &'a str,
    pub operation: &'a str,
    pub entity: &'a str,
    pub entity_id: &'a str,
    pub before: Option<String>,
    pub after: Option<String>,
    pub source: &'a str,
}

/// Appends a row inside the caller's transaction, so the change and its
/// record commit together or not at all.
pub(super) async fn append(
    conn: &mut AnyConnection,
    new: NewEntry<'_>,
) -> Result<AuditEntry, sqlx::Error> {
    let last: Option<(i64, String)> =
        sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *conn)
            .await?;
    let (seq, prev_hash) = match last {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, GENESIS.to_owned()),
    };
    let mut entry = AuditEntry {
        seq,
        at: jiff::Timestamp::now().to_string(),
        actor: new.actor.to_owned(),
        operation: new.operation.to_owned(),
        entity: new.entity.to_owned(),
        entity_id: new.entity_id.to_owned(),
        before: new.before,
        after: new.after,
        source: new.source.to_owned(),
        prev_hash,
        hash: String::new(),
    };
    entry.hash = entry.compute_hash();
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor, operation, entity, entity_id, before, after, source, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(entry.seq)
    .bind(&entry.at)
    .bind(&entry.actor)
    .bind(&entry.operation)
    .bind(&entry.entity)
    .bind(&entry.entity_id)
    .bind(&entry.before)
    .bind(&entry.after)
    .bind(&entry.source)
    .bind(&entry.prev_hash)
    .bind(&entry.hash)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(HEAD_KEY)
    .bind(format!("{}:{}", entry.seq, entry.hash))
    .execute(&mut *conn)
    .await?;
    Ok(entry)
}

/// The newest audited change to one entity: who made it, when, and which
/// fields it touched.
pub(super) async fn latest_change(
    conn: &mut AnyConnection,
    entity: &str,
    id: &str,
) -> Result<Option<super::error::OtherChange>, sqlx::Error> {
    #[derive(FromRow)]
    struct Latest {
        actor: String,
        at: String,
        operation: String,
        before: Option<String>,
        after: Option<String>,
    }
    let row: Option<Latest> = sqlx::query_as(
        "SELECT actor, at, operation, before, after FROM audit_log
         WHERE entity = $1 AND entity_id = $2 ORDER BY seq DESC LIMIT 1",
    )
    .bind(entity)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|r| {
        let parse =
            |v: Option<String>| v.and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok());
        let (before, after) = (parse(r.before), parse(r.after));
        super::error::OtherChange {
            actor: r.actor,
            at: r.at,
            operation: r.operation,
            fields: crate::inventory::changed_fields_of(before.as_ref(), after.as_ref()),
        }
    }))
}

/// The result of checking the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditVerification {
    pub rows: u64,
    pub head: Option<String>,
}

/// Why the audit trail cannot be trusted, naming the first bad row.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum AuditBroken {
    #[error("audit row {seq} was altered: its hash does not match its contents")]
    Altered { seq: i64 },
    #[error(
        "audit row {seq} does not follow row {previous}: a row was removed or the rows were reordered"
    )]
    Unlinked { seq: i64, previous: i64 },
    #[error("audit rows are missing: row {seq} follows row {previous}")]
    Gap { seq: i64, previous: i64 },
    #[error("the newest audit row{} is not the one last written (row {expected_seq}): rows were removed from the end or the table was replaced", .last.map(|s| format!(" ({s})")).unwrap_or_default())]
    Truncated {
        last: Option<i64>,
        expected_seq: i64,
    },
    #[error(
        "audit rows exist but the head recorded with them (the newest row's seq and hash) is missing: rows may have been removed from the end"
    )]
    HeadMissing,
    #[error(
        "the database's write guards were removed or disabled ({missing}): writes can bypass the audit trail; find out who changed the schema, and restore the database from a backup taken before"
    )]
    Unguarded { missing: String },
    #[error("{entity} {id} {what}: it was changed outside Countersign, without an audit record")]
    Unaudited {
        entity: String,
        id: String,
        /// How it differs: `differs from its last audited state (row N)`,
        /// `has no audit record`, `was removed, but its last audit record
        /// (row N) is not a removal`.
        what: String,
    },
}

#[derive(FromRow)]
struct HeadRow {
    value: String,
}

impl Store {
    async fn all_audit_entries(&self) -> Result<Vec<AuditEntry>, StoreError> {
        sqlx::query_as(
            "SELECT seq, at, actor, operation, entity, entity_id, before, after, source, prev_hash, hash
             FROM audit_log ORDER BY seq",
        )
        .fetch_all(&self.pool().await)
        .await
        .map_err(|e| self.query_error(e))
    }

    /// Recomputes the whole chain, then checks that every owner, service,
    /// identity and setting is exactly as its last audit row left it (so a
    /// change made around Countersign — the write triggers lifted — is
    /// found and named). `Ok(Err(..))` is a broken trail; the outer error
    /// is a database that could not be read.
    pub async fn verify_audit(&self) -> Result<Result<AuditVerification, AuditBroken>, StoreError> {
        let rows = self.all_audit_entries().await?;
        let head: Option<HeadRow> = sqlx::query_as("SELECT value FROM settings WHERE key = $1")
            .bind(HEAD_KEY)
            .fetch_optional(&self.pool().await)
            .await
            .map_err(|e| self.query_error(e))?;
        let verified = match check_chain(&rows, head.map(|h| h.value).as_deref()) {
            Ok(v) => v,
            Err(broken) => return Ok(Err(broken)),
        };
        let settings: Vec<(String, String)> =
            sqlx::query_as("SELECT key, value FROM settings WHERE key <> $1")
                .bind(HEAD_KEY)
                .fetch_all(&self.pool().await)
                .await
                .map_err(|e| self.query_error(e))?;
        let current = self.snapshot().await?;
        if let Some(broken) = unaudited(&rows, &current, &settings) {
            return Ok(Err(broken));
        }
        let keys: Vec<(String, String)> =
            sqlx::query_as("SELECT kid, status FROM signing_keys ORDER BY kid")
                .fetch_all(&self.pool().await)
                .await
                .map_err(|e| self.query_error(e))?;
        let decisions: Vec<(String, String, String, String, String, String)> = sqlx::query_as(
            "SELECT jti, request_id, decision, approver, jws, request_json FROM decisions ORDER BY jti",
        )
        .fetch_all(&self.pool().await)
        .await
        .map_err(|e| self.query_error(e))?;
        if let Some(broken) = unaudited_keys_and_decisions(&rows, &keys, &decisions) {
            return Ok(Err(broken));
        }
        let campaigns: Vec<CampaignRow> = sqlx::query_as(
            "SELECT id, name, scope, due_on, closed_at, closed_by, closed_reason, started_by FROM campaigns ORDER BY id",
        )
        .fetch_all(&self.pool().await)
        .await
        .map_err(|e| self.query_error(e))?;
        let items: Vec<CampaignItemRow> = sqlx::query_as(
            "SELECT campaign_id, identity_id, reviewer, attested_by, verdict, jws, attested_at, record
             FROM campaign_items ORDER BY campaign_id, identity_id",
        )
        .fetch_all(&self.pool().await)
        .await
        .map_err(|e| self.query_error(e))?;
        if let Some(broken) = unaudited_campaigns(&rows, &campaigns, &items) {
            return Ok(Err(broken));
        }
        let missing = self.missing_write_guards().await?;
        if !missing.is_empty() {
            return Ok(Err(AuditBroken::Unguarded {
                missing: missing.join(", "),
            }));
        }
        Ok(Ok(verified))
    }

    /// The write guards of migrations 0001, 0005, 0006 (and, on PostgreSQL,
    /// 0007 and 0010) that are not in
    /// place: SQLite triggers missing, PostgreSQL triggers missing or
    /// disabled.
    async fn missing_write_guards(&self) -> Result<Vec<String>, StoreError> {
        let mut expected: Vec<String> = Vec::new();
        let (present, disabled): (Vec<String>, Vec<String>) = match self.engine {
            super::Engine::Sqlite => {
                expected.extend(
                    [
                        "audit_log_is_append_only_update",
                        "audit_log_is_append_only_delete",
                    ]
                    .map(String::from),
                );
                expected.push("audit_log_insert_is_audited".into());
                for t in WRITE_GUARDED {
                    for op in ["insert", "update", "delete"] {
                        expected.push(format!("{t}_{op}_is_audited"));
                    }
                }
                let names: Vec<String> =
                    sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'trigger'")
                        .fetch_all(&self.pool().await)
                        .await
                        .map_err(|e| self.query_error(e))?;
                (names, Vec::new())
            }
            super::Engine::Postgres => {
                expected.extend(
                    [
                        "audit_log_is_append_only_update",
                        "audit_log_is_append_only_delete",
                        "audit_log_is_append_only_truncate",
                        "audit_log_insert_is_audited",
                        // Team mode's "who writes" (migrations/postgres/0007;
                        // per statement since 0010).
                        "audit_log_authors_are_connected",
                        "settings_policy_is_governance",
                        "observed_edges_are_governance",
                        "campaigns_are_governance",
                        "signing_keys_are_their_persons",
                        "decisions_are_their_approvers",
                    ]
                    .map(String::from),
                );
                for t in [
                    "identities",
                    "services",
                    "identity_external_ids",
                    "identity_usages",
                    "break_glass",
                    "containment_plans",
                    "identity_credentials",
                    "service_dependencies",
                ] {
                    for op in ["inserted", "updated", "deleted"] {
                        expected.push(format!("{t}_{op}_are_their_owners"));
                    }
                }
                for op in ["inserted", "updated", "deleted"] {
                    expected.push(format!("owners_{op}_are_their_teams"));
                }
                for t in WRITE_GUARDED {
                    expected.push(format!("{t}_write_is_audited"));
                }
                let rows: Vec<(String, String)> = sqlx::query_as(
                    "SELECT tgname::text, tgenabled::text FROM pg_trigger WHERE NOT tgisinternal",
                )
                .fetch_all(&self.pool().await)
                .await
                .map_err(|e| self.query_error(e))?;
                let disabled = rows
                    .iter()
                    .filter(|(_, e)| e == "D")
                    .map(|(n, _)| n.clone())
                    .collect();
                (rows.into_iter().map(|(n, _)| n).collect(), disabled)
            }
        };
        Ok(expected
            .into_iter()
            .filter_map(|name| {
                if !present.contains(&name) {
                    Some(format!("{name} missing"))
                } else if disabled.contains(&name) {
                    Some(format!("{name} disabled"))
                } else {
                    None
                }
            })
            .collect())
    }

    /// The newest row's sequence number and hash, read from the trail
    /// itself; `None` for an empty trail.
    pub async fn audit_last_row(&self) -> Result<Option<(i64, String)>, StoreError> {
        sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&self.pool().await)
            .await
            .map_err(|e| self.query_error(e))
    }

    /// The hash of row `seq`, if the trail has it.
    pub async fn audit_row_hash(&self, seq: i64) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar("SELECT hash FROM audit_log WHERE seq = $1")
            .bind(seq)
            .fetch_optional(&self.pool().await)
            .await
            .map_err(|e| self.query_error(e))
    }

    /// The newest entries first; for one entity if given.
    pub async fn audit_log(
        &self,
        entity: Option<(&str, &str)>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let (kind, id) = entity.unzip();
        sqlx::query_as(
            "SELECT seq, at, actor, operation, entity, entity_id, before, after, source, prev_hash, hash
             FROM audit_log WHERE ($1 IS NULL OR (entity = $1 AND entity_id = $2))
             ORDER BY seq DESC LIMIT $3",
        )
        .bind(kind)
        .bind(id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool().await)
        .await
        .map_err(|e| self.query_error(e))
    }

    /// Writes every entry, oldest first, one JSON object per line.
    pub async fn export_audit(&self, out: &mut dyn Write) -> Result<u64, StoreError> {
        let rows = self.all_audit_entries().await?;
        for r in &rows {
            let line = serde_json::to_string(r).expect("audit entries serialise");
            writeln!(out, "{line}").map_err(|e| StoreError::Output(e.to_string()))?;
        }
        Ok(rows.len() as u64)
    }
}

/// Signing keys and decisions against their audit rows: every key's status
/// is the one its rows leave it in (created or rotated in: `active`;
/// replaced by a later rotation: `previous`; retired: `retired`), every
/// decision row is the one its audit row recorded (the signed claims, the
/// decision, request and approver), and nothing audited is missing.
/// A campaign as stored: id, name, scope, due date, and when, by whom and
/// why it was closed.
type CampaignRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
);

/// A campaign item as stored: campaign, identity, reviewer, attester,
/// verdict, attestation JWS, attestation time, record attested.
type CampaignItemRow = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Every campaign as its start's audit row recorded it (name, due date,
/// scope, and each item with its reviewer), and every attestation as its
/// audit row recorded it (the JWS, whose `sub` and `verdict` the stored
/// attester and verdict must be); an item attested without an audit row,
/// or cleared after one, is named.
fn unaudited_campaigns(
    rows: &[AuditEntry],
    campaigns: &[CampaignRow],
    items: &[CampaignItemRow],
) -> Option<AuditBroken> {
    use std::collections::BTreeMap;
    let broken = |entity: &str, id: &str, what: String| AuditBroken::Unaudited {
        entity: entity.to_owned(),
        id: id.to_owned(),
        what,
    };
    let mut started: BTreeMap<&str, (&AuditEntry, serde_json::Value)> = BTreeMap::new();
    let mut closed: BTreeMap<&str, (&AuditEntry, serde_json::Value)> = BTreeMap::new();
    let mut attested: BTreeMap<&str, &AuditEntry> = BTreeMap::new();
    for row in rows {
        let after = || -> serde_json::Value {
            row.after
                .as_deref()
                .and_then(|a| serde_json::from_str(a).ok())
                .unwrap_or_default()
        };
        match (row.entity.as_str(), row.operation.as_str()) {
            ("campaign", "close") => {
                closed.insert(row.entity_id.as_str(), (row, after()));
            }
            ("campaign", _) => {
                started.insert(row.entity_id.as_str(), (row, after()));
            }
            ("attestation", _) => {
                attested.insert(row.entity_id.as_str(), row);
            }
            _ => {}
        }
    }
    for (id, name, scope, due_on, closed_at, closed_by, reason, started_by) in campaigns {
        let Some((row, after)) = started.remove(id.as_str()) else {
            return Some(broken("campaign", id, "has no audit record".into()));
        };
        if &row.actor != started_by {
            return Some(broken(
                "campaign",
                id,
                format!(
                    "differs from its last audited state (row {}): who started it",
                    row.seq
                ),
            ));
        }
        let held = closed_at
            .as_ref()
            .map(|at| serde_json::json!({ "at": at, "by": closed_by, "reason": reason }));
        let audited = closed.get(id.as_str());
        if held.as_ref() != audited.map(|(_, a)| a) {
            return Some(broken(
                "campaign",
                id,
                match audited {
                    Some((row, _)) => format!(
                        "differs from its last audited state (row {}): its closing",
                        row.seq
                    ),
                    None => "was closed without an audit record".into(),
                },
            ));
        }
        let scope: serde_json::Value = serde_json::from_str(scope).unwrap_or_default();
        if after["name"] != name.as_str()
            || after["due_on"] != due_on.as_str()
            || after["scope"] != scope
        {
            return Some(broken(
                "campaign",
                id,
                format!(
                    "differs from its last audited state (row {}): its name, due date or scope",
                    row.seq
                ),
            ));
        }
        let held: Vec<&CampaignItemRow> = items.iter().filter(|i| &i.0 == id).collect();
        let count_differs = after["items"].as_u64() != Some(held.len() as u64);
        let reviewers_differ = after["reviewers"].as_object().is_some_and(|r| {
            r.len() != held.len()
                || held
                    .iter()
                    .any(|i| r.get(&i.1).is_none_or(|v| v.as_str() != i.2.as_deref()))
        });
        if count_differs || reviewers_differ {
            return Some(broken(
                "campaign",
                id,
                format!(
                    "has items that differ from those its start recorded (row {}): added, dropped or reassigned",
                    row.seq
                ),
            ));
        }
    }
    if let Some((id, (row, _))) = started.into_iter().next() {
        return Some(broken(
            "campaign",
            id,
            format!(
                "was removed, but its audit record (row {}) is not a removal",
                row.seq
            ),
        ));
    }
    for (campaign, identity, _, attested_by, verdict, jws, attested_at, record) in items {
        let key = format!("{campaign}#{identity}");
        match (attested.remove(key.as_str()), jws) {
            (None, None) => {
                if attested_by.is_some()
                    || verdict.is_some()
                    || attested_at.is_some()
                    || record.is_some()
                {
                    return Some(broken(
                        "attestation",
                        &key,
                        "is marked attested without a signature or an audit record".into(),
                    ));
                }
            }
            (None, Some(_)) => {
                return Some(broken("attestation", &key, "has no audit record".into()));
            }
            (Some(row), None) => {
                return Some(broken(
                    "attestation",
                    &key,
                    format!(
                        "was cleared, but its audit record (row {}) is not a removal",
                        row.seq
                    ),
                ));
            }
            (Some(row), Some(jws)) => {
                let claims = crate::jose::peek_claims(jws);
                // Recorded when it was signed (within a minute of `iat`),
                // over the record kept beside it.
                let signed_at = |c: &serde_json::Value| {
                    let at = attested_at.as_deref()?.parse::<jiff::Timestamp>().ok()?;
                    Some((at.as_second() - c["iat"].as_i64()?).abs() <= 60)
                };
                let record_digest = record
                    .as_deref()
                    .and_then(|r| serde_json::from_str::<serde_json::Value>(r).ok())
                    .map(|r| crate::jose::request_digest(&r));
                let consistent = row.after.as_deref() == Some(jws.as_str())
                    && claims.as_ref().is_some_and(|c| {
                        c["sub"].as_str() == attested_by.as_deref()
                            && c["verdict"].as_str() == verdict.as_deref()
                            && signed_at(c) == Some(true)
                            && c["record_digest"].as_str() == record_digest.as_deref()
                    });
                if !consistent {
                    return Some(broken(
                        "attestation",
                        &key,
                        format!("differs from its last audited state (row {})", row.seq),
                    ));
                }
            }
        }
    }
    if let Some((key, row)) = attested.into_iter().next() {
        return Some(broken(
            "attestation",
            key,
            format!(
                "was removed, but its audit record (row {}) is not a removal",
                row.seq
            ),
        ));
    }
    None
}

fn unaudited_keys_and_decisions(
    rows: &[AuditEntry],
    keys: &[(String, String)],
    decisions: &[(String, String, String, String, String, String)],
) -> Option<AuditBroken> {
    use std::collections::BTreeMap;
    let broken = |entity: &str, id: &str, what: String| AuditBroken::Unaudited {
        entity: entity.to_owned(),
        id: id.to_owned(),
        what,
    };
    let mut key_status: BTreeMap<&str, (&'static str, i64)> = BTreeMap::new();
    let mut decided: BTreeMap<&str, &AuditEntry> = BTreeMap::new();
    for row in rows {
        let after: Option<serde_json::Value> = row
            .after
            .as_deref()
            .and_then(|a| serde_json::from_str(a).ok());
        match row.entity.as_str() {
            "signing_key" => {
                let status = match row.operation.as_str() {
                    "retire" => "retired",
                    _ => "active",
                };
                if let Some(old) = after.as_ref().and_then(|a| a["replaces"].as_str())
                    && let Some(entry) = key_status.get_mut(old)
                {
                    *entry = ("previous", row.seq);
                }
                let kid = row.entity_id.as_str();
                key_status.insert(kid, (status, row.seq));
            }
            "decision" => {
                decided.insert(row.entity_id.as_str(), row);
            }
            _ => {}
        }
    }
    for (kid, status) in keys {
        match key_status.remove(kid.as_str()) {
            None => return Some(broken("signing_key", kid, "has no audit record".into())),
            Some((audited, seq)) if audited != status => {
                return Some(broken(
                    "signing_key",
                    kid,
                    format!("is {status}, but its audit records (to row {seq}) leave it {audited}"),
                ));
            }
            Some(_) => {}
        }
    }
    if let Some((kid, (_, seq))) = key_status.into_iter().next() {
        return Some(broken(
            "signing_key",
            kid,
            format!("was removed, but its audit record (row {seq}) is not a removal"),
        ));
    }
    for (jti, request_id, decision, approver, jws, request_json) in decisions {
        let Some(row) = decided.remove(jti.as_str()) else {
            return Some(broken("decision", jti, "has no audit record".into()));
        };
        let audited: Option<serde_json::Value> = row
            .after
            .as_deref()
            .and_then(|a| serde_json::from_str(a).ok());
        let signed = crate::jose::peek_claims(jws);
        // The request kept beside it is the one whose digest was signed.
        let request_digest = serde_json::from_str::<serde_json::Value>(request_json)
            .ok()
            .map(|r| crate::jose::request_digest(&r));
        let agrees = audited.is_some()
            && signed == audited
            && audited.as_ref().is_some_and(|c| {
                c["decision"] == decision.as_str()
                    && c["request_id"] == request_id.as_str()
                    && c["approver"]["id"] == approver.as_str()
                    && request_digest
                        .as_deref()
                        .is_some_and(|d| c["request_digest"] == d)
            });
        if !agrees {
            return Some(broken(
                "decision",
                jti,
                format!("differs from its audit record (row {})", row.seq),
            ));
        }
    }
    if let Some((jti, row)) = decided.into_iter().next() {
        return Some(broken(
            "decision",
            jti,
            format!(
                "was removed, but its audit record (row {}) is not a removal",
                row.seq
            ),
        ));
    }
    None
}

/// The first entity whose current state is not its last audited state.
/// States compare as JSON values (the audit rows hold the same
/// serialisation of the model the store reads back).
fn unaudited(
    rows: &[AuditEntry],
    current: &crate::inventory::Inventory,
    settings: &[(String, String)],
) -> Option<AuditBroken> {
    use std::collections::BTreeMap;
    let mut last: BTreeMap<(&str, &str), &AuditEntry> = BTreeMap::new();
    for row in rows {
        last.insert((row.entity.as_str(), row.entity_id.as_str()), row);
    }
    let broken = |entity: &str, id: &str, what: String| AuditBroken::Unaudited {
        entity: entity.to_owned(),
        id: id.to_owned(),
        what,
    };
    let mut present: Vec<(&str, String, serde_json::Value)> = Vec::new();
    fn value<T: Serialize>(v: &T) -> serde_json::Value {
        serde_json::to_value(v).expect("entities serialise")
    }
    for o in &current.owners {
        present.push(("owner", o.id.clone(), value(o)));
    }
    for s in &current.services {
        present.push(("service", s.id.clone(), value(s)));
    }
    for i in &current.identities {
        present.push(("identity", i.id.clone(), value(i)));
    }
    for (key, v) in settings {
        present.push(("setting", key.clone(), serde_json::Value::String(v.clone())));
    }
    let mut seen = std::collections::HashSet::new();
    for (entity, id, now) in &present {
        seen.insert((*entity, id.as_str()));
        let Some(row) = last.get(&(*entity, id.as_str())) else {
            return Some(broken(entity, id, "has no audit record".into()));
        };
        let audited: Option<serde_json::Value> = row
            .after
            .as_deref()
            .and_then(|a| serde_json::from_str(a).ok());
        if audited.as_ref() != Some(now) {
            return Some(broken(
                entity,
                id,
                format!("differs from its last audited state (row {})", row.seq),
            ));
        }
    }
    // What the trail says exists, and does not.
    let audited_kinds = ["owner", "service", "identity", "setting"];
    for ((entity, id), row) in &last {
        if audited_kinds.contains(entity) && row.after.is_some() && !seen.contains(&(*entity, *id))
        {
            return Some(broken(
                entity,
                id,
                format!(
                    "was removed, but its last audit record (row {}) is not a removal",
                    row.seq
                ),
            ));
        }
    }
    None
}

fn check_chain(rows: &[AuditEntry], head: Option<&str>) -> Result<AuditVerification, AuditBroken> {
    let mut previous: Option<&AuditEntry> = None;
    for row in rows {
        let (expected_seq, expected_prev) = match previous {
            Some(p) => (p.seq + 1, p.hash.as_str()),
            None => (1, GENESIS),
        };
        let previous_seq = previous.map_or(0, |p| p.seq);
        if row.compute_hash() != row.hash {
            return Err(AuditBroken::Altered { seq: row.seq });
        }
        if row.prev_hash != expected_prev {
            return Err(AuditBroken::Unlinked {
                seq: row.seq,
                previous: previous_seq,
            });
        }
        if row.seq != expected_seq {
            return Err(AuditBroken::Gap {
                seq: row.seq,
                previous: previous_seq,
            });
        }
        previous = Some(row);
    }
    let last = previous.map(|p| format!("{}:{}", p.seq, p.hash));
    if head.is_none() && last.is_some() {
        return Err(AuditBroken::HeadMissing);
    }
    if let Some(head) = head
        && last.as_deref() != Some(head)
    {
        let expected_seq = head
            .split(':')
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        return Err(AuditBroken::Truncated {
            last: previous.map(|p| p.seq),
            expected_seq,
        });
    }
    Ok(AuditVerification {
        rows: rows.len() as u64,
        head: last,
    })
}

impl Store {
    /// `seq:hash` of the newest audit row: changes whenever the inventory does.
    pub async fn audit_head(&self) -> Result<Option<String>, StoreError> {
        self.setting(HEAD_KEY).await
    }

    /// The inventory's version: `seq:hash` of the newest audit row that
    /// changed an owner, a service or an identity (`None` for an inventory
    /// never changed). It moves with every inventory change anyone makes —
    /// this process, the CLI, another owner in team mode — and with
    /// nothing else: a decision signed, a key made or a setting changed
    /// leaves it, so signing one request does not make the others' views
    /// stale. The blast-radius graph is cached by it and decisions are
    /// bound to it.
    pub async fn inventory_version(&self) -> Result<Option<String>, StoreError> {
        let sql = format!(
            "SELECT seq, hash FROM audit_log WHERE {} ORDER BY seq DESC LIMIT 1",
            self.inventory_rows()
        );
        let row: Option<(i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_optional(&self.pool().await)
            .await
            .map_err(|e| self.query_error(e))?;
        Ok(row.map(|(seq, hash)| format!("{seq}:{hash}")))
    }

    /// The condition picking the audit rows that changed the inventory,
    /// for queries walking the trail in `seq` order. SQLite's planner
    /// would otherwise read them through the index on `entity` and sort
    /// the whole trail (tens of milliseconds at 100k rows); the unary `+`
    /// keeps it on the primary key, in order, stopping at the `LIMIT`.
    /// PostgreSQL's planner does the same on a table it has no statistics
    /// for yet (just copied or imported, before autovacuum's ANALYZE): a
    /// bitmap of the entity index ANDed with the key range, then a sort,
    /// 16 ms per graph refresh at 110k rows. `|| ''` hides the index from
    /// it the same way.
    fn inventory_rows(&self) -> &'static str {
        match self.engine {
            super::Engine::Sqlite => "+entity IN ('owner', 'service', 'identity')",
            super::Engine::Postgres => "entity || '' IN ('owner', 'service', 'identity')",
        }
    }

    /// The inventory changes recorded after `version` (an
    /// [`Store::inventory_version`] a reader saw; `None` for the empty
    /// inventory), oldest first, each with the state it left
    /// (`before` is not read), and the version they bring the inventory
    /// to. `None` when the trail at `version` is no longer the one the
    /// reader saw (a database restored or replaced) or when more than
    /// `limit` changes follow: then the reader reads the inventory whole.
    /// A cached engine graph catches up with this instead of a rebuild.
    pub async fn inventory_changes_since(
        &self,
        version: Option<&str>,
        limit: usize,
    ) -> Result<Option<(Vec<Change>, Option<String>)>, StoreError> {
        let err = |e| self.query_error(e);
        let mut conn = self.connection().await?;
        let seq = match version {
            None => 0,
            Some(v) => {
                let Some((seq, hash)) = v
                    .split_once(':')
                    .and_then(|(s, h)| s.parse::<i64>().ok().map(|s| (s, h)))
                else {
                    return Ok(None);
                };
                let stored: Option<String> =
                    sqlx::query_scalar("SELECT hash FROM audit_log WHERE seq = $1")
                        .bind(seq)
                        .fetch_optional(&mut *conn)
                        .await
                        .map_err(err)?;
                if stored.as_deref() != Some(hash) {
                    return Ok(None);
                }
                seq
            }
        };
        let sql = format!(
            "SELECT seq, hash, operation, entity, entity_id, after FROM audit_log
             WHERE seq > $1 AND {} ORDER BY seq LIMIT $2",
            self.inventory_rows()
        );
        let rows: Vec<(i64, String, String, String, String, Option<String>)> =
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(seq)
                .bind(i64::try_from(limit).unwrap_or(i64::MAX).saturating_add(1))
                .fetch_all(&mut *conn)
                .await
                .map_err(err)?;
        if rows.len() > limit {
            return Ok(None);
        }
        let mut version = version.map(str::to_owned);
        let mut changes = Vec::with_capacity(rows.len());
        for (seq, hash, operation, entity, id, after) in rows {
            let bad = |e: serde_json::Error| StoreError::InvalidRow {
                db: self.location.clone(),
                entity: "audit entry",
                id: seq.to_string(),
                field: "after",
                reason: e.to_string(),
            };
            let entity = match entity.as_str() {
                "owner" => Entity::Owner,
                "service" => Entity::Service,
                _ => Entity::Identity,
            };
            let operation = match operation.as_str() {
                "create" => Operation::Create,
                "delete" => Operation::Delete,
                _ => Operation::Update,
            };
            let after = match after {
                None => None,
                Some(json) => Some(match entity {
                    Entity::Owner => EntityState::Owner(serde_json::from_str(&json).map_err(bad)?),
                    Entity::Service => {
                        EntityState::Service(serde_json::from_str(&json).map_err(bad)?)
                    }
                    Entity::Identity => {
                        EntityState::Identity(Box::new(serde_json::from_str(&json).map_err(bad)?))
                    }
                }),
            };
            changes.push(Change {
                entity,
                id,
                operation,
                before: None,
                after,
            });
            version = Some(format!("{seq}:{hash}"));
        }
        Ok(Some((changes, version)))
    }
}
