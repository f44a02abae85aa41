//! Writes. Every change goes through [`Store::apply`]: one transaction that
//! writes the entity rows and their audit entries together, so an import or
//! an edit lands whole with its record, or not at all.

use serde::Serialize;
use sqlx::AnyConnection;

use super::audit::{self, NewEntry};
use super::read::Which;
use super::{Store, StoreError};
use crate::inventory::{Change, ChangeSet, Entity, Inventory, Operation, Problem};
use crate::model::{Identity, Owner, Service};

/// Who is making a change and through what, for the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeContext {
    pub actor: String,
    pub source: String,
    /// The approver's groups as the organisation's identity provider
    /// vouched for them in a verified ID token (signed in); `None` in the
    /// local single-user mode, where the `approver_groups` setting is used.
    pub vouched_groups: Option<Vec<String>>,
    /// The drill run a decision answers, when it is a rehearsal: kept with
    /// the decision so it leaves the Approvals list when the drill ends.
    pub drill_run: Option<String>,
}

impl ChangeContext {
    pub fn new(actor: impl Into<String>, source: impl Into<String>) -> Self {
        ChangeContext {
            actor: actor.into(),
            source: source.into(),
            vouched_groups: None,
            drill_run: None,
        }
    }

    /// Acting as a person the identity provider vouched for: their `sub`
    /// is the actor (the approver's id) and their groups are the token's.
    pub fn signed_in(
        sub: impl Into<String>,
        groups: Vec<String>,
        source: impl Into<String>,
    ) -> Self {
        ChangeContext {
            vouched_groups: Some(groups),
            ..ChangeContext::new(sub, source)
        }
    }

    /// The operating-system user, which is who sits at the keyboard of a
    /// desktop app; `COUNTERSIGN_ACTOR` overrides it (scripts, shared hosts).
    pub fn local_user(source: impl Into<String>) -> Self {
        let actor = std::env::var("COUNTERSIGN_ACTOR")
            .ok()
            .filter(|s| !s.trim().is_empty())
            .or_else(|| whoami::username().ok())
            .unwrap_or_else(|| "unknown".into());
        ChangeContext::new(actor, source)
    }
}

/// One edit from the app or the CLI.
#[derive(Debug, Clone)]
pub enum Edit {
    SaveOwner(Owner),
    DeleteOwner(String),
    SaveService(Service),
    DeleteService(String),
    SaveIdentity(Box<Identity>),
    DeleteIdentity(String),
}

impl Edit {
    fn target(&self) -> (Entity, &str) {
        match self {
            Edit::SaveOwner(o) => (Entity::Owner, &o.id),
            Edit::DeleteOwner(id) => (Entity::Owner, id),
            Edit::SaveService(s) => (Entity::Service, &s.id),
            Edit::DeleteService(id) => (Entity::Service, id),
            Edit::SaveIdentity(i) => (Entity::Identity, &i.id),
            Edit::DeleteIdentity(id) => (Entity::Identity, id),
        }
    }
}

pub(super) async fn version_of(
    conn: &mut AnyConnection,
    entity: Entity,
    id: &str,
) -> Result<Option<i64>, sqlx::Error> {
    let sql = match entity {
        Entity::Owner => "SELECT version FROM owners WHERE id = $1",
        Entity::Service => "SELECT version FROM services WHERE id = $1",
        Entity::Identity => "SELECT version FROM identities WHERE id = $1",
    };
    sqlx::query_scalar(sql)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
}

async fn delete(conn: &mut AnyConnection, entity: Entity, id: &str) -> Result<(), sqlx::Error> {
    let sql = match entity {
        Entity::Owner => "DELETE FROM owners WHERE id = $1",
        Entity::Service => "DELETE FROM services WHERE id = $1",
        Entity::Identity => "DELETE FROM identities WHERE id = $1",
    };
    sqlx::query(sql).bind(id).execute(&mut *conn).await?;
    Ok(())
}

/// What [`Store::apply`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Applied {
    pub changes: usize,
    pub first_audit_seq: Option<i64>,
    pub last_audit_seq: Option<i64>,
}

fn json(v: &Option<crate::inventory::EntityState>) -> Option<String> {
    v.as_ref()
        .map(|v| serde_json::to_string(v).expect("entities serialise"))
}

impl Store {
    /// Writes a change set and its audit entries in one transaction. The
    /// set must already be valid against the stored inventory (see
    /// `Inventory::validate`); foreign keys are checked at commit so changes
    /// may refer to entities created later in the same set.
    pub async fn apply(&self, set: &ChangeSet, ctx: &ChangeContext) -> Result<Applied, StoreError> {
        self.apply_checked(set, ctx, None).await
    }

    async fn apply_checked(
        &self,
        set: &ChangeSet,
        ctx: &ChangeContext,
        expected: Option<(Entity, &str, i64)>,
    ) -> Result<Applied, StoreError> {
        let err = |e| self.query_error(e);
        let mut tx = self.begin_write().await.map_err(err)?;
        self.check_version(&mut tx, expected).await?;
        let applied = self.write_set(&mut tx, set, ctx).await?;
        self.commit(tx).await?;
        Ok(applied)
    }

    /// Refuses a stale form: `expected` names the row an edit was made
    /// from and the version it had.
    async fn check_version(
        &self,
        conn: &mut AnyConnection,
        expected: Option<(Entity, &str, i64)>,
    ) -> Result<(), StoreError> {
        let err = |e| self.query_error(e);
        let Some((entity, id, version)) = expected else {
            return Ok(());
        };
        let actual = version_of(conn, entity, id).await.map_err(err)?;
        if actual == Some(version) {
            return Ok(());
        }
        let other = audit::latest_change(conn, entity.as_str(), id)
            .await
            .map_err(err)?;
        Err(StoreError::Conflict {
            entity: entity.as_str(),
            id: id.to_owned(),
            expected: version,
            actual,
            other: other.map(Box::new),
        })
    }

    /// Writes the changes and their audit entries on `conn` (a write
    /// transaction).
    async fn write_set(
        &self,
        conn: &mut AnyConnection,
        set: &ChangeSet,
        ctx: &ChangeContext,
    ) -> Result<Applied, StoreError> {
        let err = |e| self.query_error(e);
        let mut applied = Applied::default();
        for change in &set.changes {
            write_change(conn, change).await.map_err(err)?;
            let entry = audit::append(
                conn,
                NewEntry {
                    actor: &ctx.actor,
                    operation: change.operation.as_str(),
                    entity: change.entity.as_str(),
                    entity_id: &change.id,
                    before: json(&change.before),
                    after: json(&change.after),
                    source: &ctx.source,
                },
            )
            .await
            .map_err(err)?;
            applied.first_audit_seq.get_or_insert(entry.seq);
            applied.last_audit_seq = Some(entry.seq);
            applied.changes += 1;
        }
        Ok(applied)
    }

    /// Applies one edit if `expected_version` (when given) still matches the
    /// stored row: a stale form is refused, never silently written over.
    /// Returns the change made, or `None` if the edit changed nothing.
    pub async fn edit(
        &self,
        edit: Edit,
        expected_version: Option<i64>,
        ctx: &ChangeContext,
    ) -> Result<Option<Change>, StoreError> {
        Ok(self
            .edit_with(Vec::new(), edit, expected_version, ctx)
            .await?
            .pop())
    }

    /// Applies `edit` together with `creates` — owners (or other entities)
    /// that must not exist yet, created explicitly for it ("a new owner
    /// created explicitly", issue 19) — in one transaction with their audit
    /// entries: all of it lands, or none. `expected_version` is checked
    /// against `edit`'s row as in [`Store::edit`]. Returns the changes made
    /// (the creations first). Errors: [`StoreError::Invalid`] when a
    /// creation names an entity that exists, or the result is invalid.
    ///
    /// Everything is read and checked inside the write's transaction, and
    /// only what the edit touches: the edited rows by primary key, and the
    /// references they make or lose through the tables' indexes
    /// ([`Inventory::validate_against`]). An edit costs the same on a
    /// hundred identities as on a million (issue 20).
    pub async fn edit_with(
        &self,
        creates: Vec<Edit>,
        edit: Edit,
        expected_version: Option<i64>,
        ctx: &ChangeContext,
    ) -> Result<Vec<Change>, StoreError> {
        use crate::inventory::{Deleted, EntityState};
        let err = |e| self.query_error(e);
        let mut ids: [Vec<String>; 3] = Default::default();
        for e in creates.iter().chain(std::iter::once(&edit)) {
            let (entity, id) = e.target();
            ids[entity as usize].push(id.to_owned());
        }
        let mut tx = self.begin_write().await.map_err(err)?;
        let current = Inventory {
            owners: self
                .owners_on(&mut tx, Which::ids(&ids[Entity::Owner as usize]).as_which())
                .await?,
            services: self
                .services_on(
                    &mut tx,
                    Which::ids(&ids[Entity::Service as usize]).as_which(),
                )
                .await?,
            identities: self
                .identities_on(
                    &mut tx,
                    Which::ids(&ids[Entity::Identity as usize]).as_which(),
                )
                .await?,
        };
        let stored = |entity: Entity, id: &str| -> Option<EntityState> {
            match entity {
                Entity::Owner => current
                    .owners
                    .iter()
                    .find(|o| o.id == id)
                    .cloned()
                    .map(Into::into),
                Entity::Service => current
                    .services
                    .iter()
                    .find(|s| s.id == id)
                    .cloned()
                    .map(Into::into),
                Entity::Identity => current
                    .identities
                    .iter()
                    .find(|i| i.id == id)
                    .cloned()
                    .map(Into::into),
            }
        };
        let after_of = |edit: &Edit| -> Option<EntityState> {
            match edit {
                Edit::SaveOwner(o) => Some(o.clone().into()),
                Edit::SaveService(s) => Some(s.clone().into()),
                Edit::SaveIdentity(i) => Some((**i).clone().into()),
                _ => None,
            }
        };
        let mut changes = Vec::new();
        for create in &creates {
            let (entity, id) = create.target();
            if stored(entity, id).is_some() {
                return Err(StoreError::Invalid(format!(
                    "{} {id:?} already exists; choose it instead of creating it",
                    entity.as_str()
                )));
            }
            let Some(after) = after_of(create) else {
                return Err(StoreError::Invalid(format!(
                    "{} {id:?}: only a save creates",
                    entity.as_str()
                )));
            };
            changes.push(Change {
                entity,
                id: id.to_owned(),
                operation: Operation::Create,
                before: None,
                after: Some(after),
            });
        }
        let (entity, id) = edit.target();
        let id = id.to_owned();
        let before = stored(entity, &id);
        let after = after_of(&edit);
        let operation = match (&before, &after) {
            (None, None) => return Err(StoreError::not_found(entity, &id)),
            (None, Some(_)) => Operation::Create,
            (Some(_), Some(_)) => Operation::Update,
            (Some(_), None) => Operation::Delete,
        };
        if before != after {
            changes.push(Change {
                entity,
                id: id.clone(),
                operation,
                before,
                after,
            });
        }
        if changes.is_empty() {
            return Ok(changes);
        }
        let set = ChangeSet {
            changes: changes.clone(),
            unchanged: 0,
        };
        // The changed entities as they will be, and what is deleted.
        let mut scope = Inventory::default();
        let mut deleted = Deleted::default();
        for c in &set.changes {
            match &c.after {
                Some(EntityState::Owner(o)) => scope.owners.push(o.clone()),
                Some(EntityState::Service(s)) => scope.services.push(s.clone()),
                Some(EntityState::Identity(i)) => scope.identities.push((**i).clone()),
                None => {
                    let gone = match c.entity {
                        Entity::Owner => &mut deleted.owners,
                        Entity::Service => &mut deleted.services,
                        Entity::Identity => &mut deleted.identities,
                    };
                    gone.insert(c.id.clone());
                }
            }
        }
        let facts = self.stored_facts_on(&mut tx, &scope, &deleted).await?;
        if let Err(problems) = scope.validate_against(&deleted, &facts) {
            let principal = changes.last().expect("not empty");
            return Err(StoreError::Invalid(explain(&problems, principal)));
        }
        let expected = match (operation, expected_version) {
            (Operation::Create, _) | (_, None) => None,
            (_, Some(v)) => Some((entity, id.as_str(), v)),
        };
        self.check_version(&mut tx, expected).await?;
        self.write_set(&mut tx, &set, ctx).await?;
        self.commit(tx).await?;
        Ok(changes)
    }
}

/// One sentence for the first problem, phrased for the edit that caused it.
fn explain(problems: &[Problem], change: &Change) -> String {
    let p = &problems[0];
    let mut text = if change.operation == Operation::Delete && p.item.as_deref() == Some(&change.id)
    {
        format!(
            "cannot delete {} {:?}: {} still refers to it",
            change.entity.as_str(),
            change.id,
            p.path()
        )
    } else {
        format!("{}: {}", p.path(), p.message)
    };
    if problems.len() > 1 {
        text.push_str(&format!(" (and {} more problem(s))", problems.len() - 1));
    }
    text
}

async fn write_change(conn: &mut AnyConnection, change: &Change) -> Result<(), sqlx::Error> {
    use crate::inventory::EntityState;
    match &change.after {
        Some(EntityState::Owner(o)) => write_owner(conn, o).await,
        Some(EntityState::Service(s)) => write_service(conn, s).await,
        Some(EntityState::Identity(i)) => write_identity(conn, i).await,
        None => delete(conn, change.entity, &change.id).await,
    }
}

async fn write_owner(conn: &mut AnyConnection, o: &Owner) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO owners (id, kind, name, email, parent, left_on) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, name = excluded.name, email = excluded.email,
            parent = excluded.parent, left_on = excluded.left_on, version = owners.version + 1",
    )
    .bind(&o.id)
    .bind(o.kind.as_str())
    .bind(&o.name)
    .bind(&o.email)
    .bind(&o.parent)
    .bind(o.left_on.map(|d| d.to_string()))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn write_service(conn: &mut AnyConnection, s: &Service) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO services (id, name, owner, tier, system, description) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, owner = excluded.owner, tier = excluded.tier,
            system = excluded.system, description = excluded.description, version = services.version + 1",
    )
    .bind(&s.id)
    .bind(&s.name)
    .bind(&s.owner)
    .bind(i64::from(s.tier.get()))
    .bind(&s.system)
    .bind(&s.description)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM service_dependencies WHERE service_id = $1")
        .bind(&s.id)
        .execute(&mut *conn)
        .await?;
    for (position, dep) in s.depends_on.iter().enumerate() {
        sqlx::query(
            "INSERT INTO service_dependencies (service_id, depends_on, position) VALUES ($1, $2, $3)",
        )
        .bind(&s.id)
        .bind(dep)
        .bind(position as i64)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

async fn write_identity(conn: &mut AnyConnection, i: &Identity) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO identities (id, kind, name, owner, backup_owner, environment, tier, description,
                                 lifetime, expires_on, permissions, derived_from, reviewed_by, reviewed_on,
                                 admin_equivalent, orphaned_from, orphaned_on)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
         ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, name = excluded.name, owner = excluded.owner,
            backup_owner = excluded.backup_owner, environment = excluded.environment, tier = excluded.tier,
            description = excluded.description, lifetime = excluded.lifetime, expires_on = excluded.expires_on,
            permissions = excluded.permissions, admin_equivalent = excluded.admin_equivalent,
            derived_from = excluded.derived_from, reviewed_by = excluded.reviewed_by,
            reviewed_on = excluded.reviewed_on, orphaned_from = excluded.orphaned_from,
            orphaned_on = excluded.orphaned_on, version = identities.version + 1",
    )
    .bind(&i.id)
    .bind(i.kind.as_str())
    .bind(&i.name)
    .bind(&i.owner)
    .bind(&i.backup_owner)
    .bind(i.environment.as_str())
    .bind(i64::from(i.tier.get()))
    .bind(&i.description)
    .bind(i.lifetime.map(|l| l.as_str()))
    .bind(i.expires_on.map(|d| d.to_string()))
    .bind(serde_json::to_string(&i.permissions).expect("strings serialise"))
    .bind(&i.derived_from)
    .bind(i.review.as_ref().map(|r| r.by.as_str()))
    .bind(i.review.as_ref().map(|r| r.on.to_string()))
    .bind(i64::from(i.admin_equivalent))
    .bind(i.orphaned.as_ref().map(|o| o.former_owner.as_str()))
    .bind(i.orphaned.as_ref().map(|o| o.since.to_string()))
    .execute(&mut *conn)
    .await?;
    for sql in [
        "DELETE FROM identity_external_ids WHERE identity_id = $1",
        "DELETE FROM identity_usages WHERE identity_id = $1",
        "DELETE FROM break_glass WHERE identity_id = $1",
        "DELETE FROM containment_plans WHERE identity_id = $1",
        "DELETE FROM identity_credentials WHERE identity_id = $1",
    ] {
        sqlx::query(sql).bind(&i.id).execute(&mut *conn).await?;
    }
    for (position, x) in i.external_ids.iter().enumerate() {
        sqlx::query("INSERT INTO identity_external_ids (external_id, identity_id, position) VALUES ($1, $2, $3)")
            .bind(x)
            .bind(&i.id)
            .bind(position as i64)
            .execute(&mut *conn)
            .await?;
    }
    for (position, u) in i.used_by.iter().enumerate() {
        sqlx::query(
            "INSERT INTO identity_usages (identity_id, service_id, position, access, delivery, live_sessions)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&i.id)
        .bind(&u.service)
        .bind(position as i64)
        .bind(u.access.map(|a| a.as_str()))
        .bind(u.delivery.map(|d| d.as_str()))
        .bind(i64::from(u.live_sessions))
        .execute(&mut *conn)
        .await?;
    }
    if let Some(bg) = &i.break_glass {
        sqlx::query(
            "INSERT INTO break_glass (identity_id, justification, custodians, use_window, always_dual_approval, owner_veto)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&i.id)
        .bind(&bg.justification)
        .bind(serde_json::to_string(&bg.custodians).expect("strings serialise"))
        .bind(&bg.use_window)
        .bind(i64::from(bg.always_dual_approval))
        .bind(i64::from(bg.owner_veto))
        .execute(&mut *conn)
        .await?;
    }
    for (position, c) in i.credentials.iter().enumerate() {
        sqlx::query(
            "INSERT INTO identity_credentials
                 (identity_id, credential_id, position, kind, created_on, last_used_on, never_used,
                  expires_on, active)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&i.id)
        .bind(&c.id)
        .bind(position as i64)
        .bind(c.kind.as_str())
        .bind(c.created_on.map(|d| d.to_string()))
        .bind(c.last_used_on.map(|d| d.to_string()))
        .bind(i64::from(c.never_used))
        .bind(c.expires_on.map(|d| d.to_string()))
        .bind(i64::from(c.active))
        .execute(&mut *conn)
        .await?;
    }
    for (action, plan) in &i.containment {
        sqlx::query(
            "INSERT INTO containment_plans (identity_id, action, reversible, rollback, rto_minutes, preauthorised)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&i.id)
        .bind(action.as_str())
        .bind(plan.reversible.map(i64::from))
        .bind(&plan.rollback)
        .bind(plan.rto_minutes.map(i64::from))
        .bind(plan.preauthorised.map(|p| p.as_str()))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

impl Store {
    /// Records that the actor has reviewed the identity's record today: the
    /// attestation "Needs attention" counts staleness from.
    pub async fn attest_review(
        &self,
        id: &str,
        expected_version: Option<i64>,
        ctx: &ChangeContext,
    ) -> Result<Option<Change>, StoreError> {
        let mut identity = self.identity(id).await?;
        if let Some(o) = &identity.orphaned
            && identity.owner.as_deref() == Some(o.former_owner.as_str())
        {
            return Err(StoreError::Invalid(format!(
                "{id} is still owned by {}, who left: name its owner first, then confirm it",
                o.former_owner
            )));
        }
        identity.review = Some(crate::model::Review {
            by: ctx.actor.clone(),
            on: jiff::ZonedDateTime::now().date(),
        });
        // An owner confirming the record takes the orphan in (a directory
        // import handed it to them when its owner left).
        identity.orphaned = None;
        self.edit(
            Edit::SaveIdentity(Box::new(identity)),
            expected_version,
            ctx,
        )
        .await
    }
}
