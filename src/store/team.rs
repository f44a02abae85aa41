//! Team mode's map from database roles to the owners (teams, people) whose
//! identities and services they may change (migrations/postgres/0007,
//! where the database enforces it). Kept by the database's administrator;
//! each change is audited like any other.

use super::audit::{NewEntry, append};
use super::{ChangeContext, Engine, Store, StoreError};

/// One role's right to change what one owner owns.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct TeamMember {
    /// The PostgreSQL role the person logs in as.
    pub role: String,
    /// An owner id (a team, or a person whose team then counts too).
    pub owner_id: String,
}

impl Store {
    /// Whether the connected role may change everything (identity
    /// governance, or not a team member at all: the administrator, or the
    /// local database).
    pub async fn team_governance(&self) -> Result<bool, StoreError> {
        if self.team_role.is_none() {
            return Ok(true);
        }
        sqlx::query_scalar("SELECT countersign_is_governance()")
            .fetch_one(&self.pool().await)
            .await
            .map_err(|e| self.query_error(e))
    }

    /// Every role-to-owner mapping, by role then owner.
    pub async fn team_members(&self) -> Result<Vec<TeamMember>, StoreError> {
        sqlx::query_as("SELECT role, owner_id FROM team_members ORDER BY role, owner_id")
            .fetch_all(&self.pool().await)
            .await
            .map_err(|e| self.query_error(e))
    }

    /// Lets `role` change what `owner_id` owns; `false` if it already may.
    /// Only on PostgreSQL (the local database has one user), and only the
    /// administrator: a member has no right to write this table.
    pub async fn add_team_member(
        &self,
        role: &str,
        owner_id: &str,
        ctx: &ChangeContext,
    ) -> Result<bool, StoreError> {
        self.change_team_member(role, owner_id, true, ctx).await
    }

    /// Takes that right away again; `false` if `role` did not have it.
    pub async fn remove_team_member(
        &self,
        role: &str,
        owner_id: &str,
        ctx: &ChangeContext,
    ) -> Result<bool, StoreError> {
        self.change_team_member(role, owner_id, false, ctx).await
    }

    async fn change_team_member(
        &self,
        role: &str,
        owner_id: &str,
        add: bool,
        ctx: &ChangeContext,
    ) -> Result<bool, StoreError> {
        if self.engine != Engine::Postgres {
            return Err(StoreError::Invalid(
                "team members are a team-mode (PostgreSQL) setting; the local database has one user"
                    .into(),
            ));
        }
        if self.team_role.is_some() {
            return Err(StoreError::Invalid(format!(
                "team members are kept by the database's administrator (the role that owns Countersign's tables), not by {}; connect as the administrator",
                self.team_role.as_deref().unwrap_or_default()
            )));
        }
        if add {
            if !self.owner_exists(owner_id).await? {
                return Err(StoreError::OwnerNotFound(owner_id.to_owned()));
            }
            let member: Option<bool> = sqlx::query_scalar(
                "SELECT pg_has_role(rolname, 'countersign_owner', 'MEMBER') FROM pg_roles WHERE rolname = $1",
            )
            .bind(role)
            .fetch_optional(&self.pool().await)
            .await
            .map_err(|e| self.query_error(e))?;
            match member {
                None => {
                    return Err(StoreError::Invalid(format!(
                        "there is no database role {role:?}: create it first (CREATE ROLE {role} LOGIN; GRANT countersign_owner TO {role})"
                    )));
                }
                Some(false) => {
                    return Err(StoreError::Invalid(format!(
                        "the role {role:?} is not a team member: GRANT countersign_owner TO {role} (or countersign_governance) first"
                    )));
                }
                Some(true) => {}
            }
        }
        let err = |e| self.query_error(e);
        let mut tx = self.begin_write().await.map_err(err)?;
        let sql = if add {
            "INSERT INTO team_members (role, owner_id) VALUES ($1, $2) ON CONFLICT DO NOTHING"
        } else {
            "DELETE FROM team_members WHERE role = $1 AND owner_id = $2"
        };
        let changed = sqlx::query(sql)
            .bind(role)
            .bind(owner_id)
            .execute(&mut *tx)
            .await
            .map_err(err)?
            .rows_affected()
            == 1;
        if changed {
            let row = serde_json::json!({ "role": role, "owner_id": owner_id }).to_string();
            append(
                &mut tx,
                NewEntry {
                    actor: &ctx.actor,
                    operation: if add { "create" } else { "delete" },
                    entity: "team_member",
                    entity_id: &format!("{role}:{owner_id}"),
                    before: (!add).then(|| row.clone()),
                    after: add.then_some(row),
                    source: &ctx.source,
                },
            )
            .await
            .map_err(err)?;
        }
        self.commit(tx).await?;
        Ok(changed)
    }

    async fn owner_exists(&self, id: &str) -> Result<bool, StoreError> {
        let found: Option<String> = sqlx::query_scalar("SELECT id FROM owners WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool().await)
            .await
            .map_err(|e| self.query_error(e))?;
        Ok(found.is_some())
    }
}
