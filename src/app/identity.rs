//! Who is at the keyboard (issue 17): signed in with the organisation's
//! OpenID Connect provider, the person the provider vouches for — their
//! `sub` acts and signs, their groups are the ID token's; signed out, the
//! local single-user mode (the OS user or `COUNTERSIGN_ACTOR`, the
//! `approver_groups` setting), which says so.
//!
//! The session (ID and refresh tokens) is kept in the workspace's secret
//! store (the OS keyring), never in the database; the provider's issuer,
//! client id and groups claim are the audited `oidc_provider` setting.

use std::sync::Arc;

use serde::Serialize;

use crate::oidc::{self, Person, ProviderConfig, Session};
use crate::secrets::{SecretError, SecretStore};

use super::{AppError, Workspace};

/// The store setting naming the provider (JSON [`ProviderConfig`]).
pub const PROVIDER_SETTING: &str = "oidc_provider";

/// Who acts here, for the window's identity panel and `whoami --json`.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct WhoAmI {
    /// The signed-in person; `None` in the local single-user mode.
    pub person: Option<Person>,
    /// Who acts when nobody is signed in: the OS user or
    /// `COUNTERSIGN_ACTOR`, or in team mode the database role. No identity
    /// provider vouches for it.
    pub local_actor: String,
    /// In team mode, the database role connected as: the author of every
    /// write and the approver id, signed in or not.
    pub team_role: Option<String>,
    /// Who writes and signs here now (the signed-in person's `sub`, or in
    /// team mode the database role, or `local_actor`).
    pub acting_as: String,
    /// The `approver_groups` setting used when nobody is signed in.
    pub local_groups: Vec<String>,
    /// The configured provider's issuer URL, if any (what "Sign in" uses).
    pub issuer: Option<String>,
    /// Whether the signing keys are the ones the session's ID token was
    /// asked for (its `nonce`), so a backend that checks the binding will
    /// enroll them; `false` when signed out, without keys, or after keys
    /// were created or rotated since signing in.
    pub keys_bound: bool,
    /// Why the session kept in the keyring could not be taken up when the
    /// window started (expired and not refreshable, provider unreachable),
    /// so the window says "sign in again" instead of silently acting in
    /// the local mode.
    pub session_problem: Option<String>,
}

/// What the window shows while the person signs in in their browser.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct SignInProgress {
    /// The sign-in address (also opened in the browser).
    pub address: String,
    /// Why the browser could not be opened, if it could not.
    pub not_opened: Option<String>,
}

/// Opens the sign-in address in the person's default browser (the
/// desktop's URL handler, `xdg-open` on Linux), unless
/// `COUNTERSIGN_NO_BROWSER` is set (a remote shell, a kiosk, a test that
/// plays the browser itself). The address is always shown as well, so a
/// browser that does not open is not a dead end. Returns why it could not
/// be opened.
pub fn open_browser(url: &str) -> Result<(), String> {
    if std::env::var_os("COUNTERSIGN_NO_BROWSER").is_some_and(|v| !v.is_empty()) {
        return Err("COUNTERSIGN_NO_BROWSER is set".into());
    }
    open::that_detached(url).map_err(|e| e.to_string())
}

async fn blocking<T: Send + 'static>(
    secrets: Arc<dyn SecretStore>,
    f: impl FnOnce(&dyn SecretStore) -> Result<T, SecretError> + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(move || f(secrets.as_ref()))
        .await
        .map_err(|e| {
            AppError::Oidc(oidc::OidcError::Secrets(SecretError::Refused(
                e.to_string(),
            )))
        })?
        .map_err(|e| AppError::Oidc(e.into()))
}

impl Workspace {
    /// The provider configured in the store, if any.
    pub async fn provider(&self) -> Result<Option<ProviderConfig>, AppError> {
        let Some(json) = self.store()?.setting(PROVIDER_SETTING).await? else {
            return Ok(None);
        };
        serde_json::from_str(&json)
            .map(Some)
            .map_err(|e| AppError::InvalidInput {
                field: "the oidc_provider setting",
                reason: e.to_string(),
            })
    }

    /// Takes up the session kept in the keyring, refreshing it when its ID
    /// token is about to expire (and keeping the fresh one). No keyring or
    /// no session is the local mode, not an error; a session that can no
    /// longer be refreshed is an error that says whose it was.
    pub async fn restore_session(&self) -> Result<Option<Person>, AppError> {
        let kept = match blocking(self.secrets(), |s| oidc::load(s)).await {
            Ok(kept) => kept,
            Err(AppError::Oidc(oidc::OidcError::Secrets(SecretError::Unavailable(_)))) => None,
            Err(e) => return Err(e),
        };
        let Some(session) = kept else {
            self.set_signed_in(None);
            return Ok(None);
        };
        let (person, fresh) = oidc::refreshed(&session).await?;
        // Kept whenever anything changed: a refresh within the same second
        // can return the same ID token with a new (rotated) refresh token,
        // and the spent one would revoke the grant if used again.
        if fresh != session {
            let keep = fresh.clone();
            blocking(self.secrets(), move |s| oidc::save(s, &keep)).await?;
        }
        self.set_signed_in(Some((person.clone(), fresh)));
        Ok(Some(person))
    }

    /// The provider to sign in with: `issuer` (replacing the configured
    /// one unless it is the same), else the configured one, with
    /// `client_id` and `groups_claim` overriding what is kept.
    pub async fn provider_for(
        &self,
        issuer: Option<&str>,
        client_id: Option<&str>,
        groups_claim: Option<&str>,
    ) -> Result<ProviderConfig, AppError> {
        let mut config = match (issuer, self.provider().await?) {
            (Some(issuer), kept) => {
                let fresh = ProviderConfig::new(issuer, "countersign");
                kept.filter(|k| k.issuer == fresh.issuer).unwrap_or(fresh)
            }
            (None, Some(kept)) => kept,
            (None, None) => {
                return Err(AppError::InvalidInput {
                    field: "issuer",
                    reason: "no identity provider is configured: give its issuer URL (`countersign login --issuer https://login.example.com`)".into(),
                });
            }
        };
        if let Some(id) = client_id {
            config.client_id = id.to_owned();
        }
        if let Some(claim) = groups_claim {
            config.groups_claim = claim.to_owned();
        }
        Ok(config)
    }

    /// Takes up the session kept in the keyring as it is, without asking
    /// the provider (no refresh, no network): for writes whose audit row
    /// should name who signed in on this machine, not the OS user. Only
    /// when a provider is configured (so the local mode never touches the
    /// keyring for it); an unavailable keyring is the local mode.
    pub async fn restore_kept_session(&self) -> Result<Option<Person>, AppError> {
        if self.provider().await?.is_none() {
            return Ok(None);
        }
        let Ok(Some(session)) = blocking(self.secrets(), |s| oidc::load(s)).await else {
            return Ok(None);
        };
        let Some(person) = oidc::kept_person(&session) else {
            return Ok(None);
        };
        self.set_signed_in(Some((person.clone(), session)));
        Ok(Some(person))
    }

    /// [`Workspace::restore_session`] for a window starting: bounded by
    /// `timeout` (a provider that does not answer must not hold the window
    /// back), and a failure kept for [`WhoAmI::session_problem`] rather
    /// than returned.
    pub async fn restore_session_within(&self, timeout: std::time::Duration) {
        let problem = match tokio::time::timeout(timeout, self.restore_session()).await {
            Ok(Ok(_)) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(_) => Some(format!(
                "the identity provider did not answer within {} s, so the kept session could not be refreshed; sign in again",
                timeout.as_secs()
            )),
        };
        *self.session_problem.write().expect("the sign-in lock") = problem;
    }

    /// Signs in through the system browser (authorization code + PKCE,
    /// loopback redirect: [`oidc::loopback_login`]), the ID token asked for
    /// this installation's signing keys; `open` is given the sign-in
    /// address (open it, and show it). Keeps the session in the keyring
    /// and the provider in the settings; from then on this workspace acts
    /// as the person.
    pub async fn sign_in(
        &self,
        config: &ProviderConfig,
        open: impl FnOnce(&str),
    ) -> Result<Person, AppError> {
        self.may_keep(config).await?;
        let nonce = self.keys(self.store()?).commitment().await?;
        let (person, session) =
            oidc::loopback_login(config, nonce.as_deref(), oidc::BROWSER_TIMEOUT, open).await?;
        self.keep(config, person, session).await
    }

    /// Signs in with a code entered on another device (RFC 8628,
    /// [`oidc::device_login`]); most providers bind no key to such a
    /// session ([`WhoAmI::keys_bound`] says).
    pub async fn sign_in_with_device(
        &self,
        config: &ProviderConfig,
        prompt: impl FnOnce(&oidc::DevicePrompt),
    ) -> Result<Person, AppError> {
        self.may_keep(config).await?;
        let nonce = self.keys(self.store()?).commitment().await?;
        let (person, session) = oidc::device_login(config, nonce.as_deref(), prompt).await?;
        self.keep(config, person, session).await
    }

    /// Before the browser round trip: in team mode the provider is the
    /// team's setting, which only identity governance changes.
    async fn may_keep(&self, config: &ProviderConfig) -> Result<(), AppError> {
        let store = self.store()?;
        let json = serde_json::to_string(config).expect("a provider config serialises");
        let unchanged = store.setting(PROVIDER_SETTING).await?.as_deref() == Some(json.as_str());
        if !unchanged && store.team_role().is_some() && !store.team_governance().await? {
            return Err(AppError::InvalidInput {
                field: "issuer",
                reason: format!(
                    "in team mode the identity provider is the team's setting, kept by identity governance (countersign_governance); {}",
                    match self.provider().await? {
                        Some(kept) => format!(
                            "sign in with the configured one ({}: `countersign login` without --issuer, --client-id or --groups-claim)",
                            kept.issuer
                        ),
                        None => "ask identity governance to sign in first, which sets it".into(),
                    }
                ),
            });
        }
        Ok(())
    }

    /// Keeps a session that signed in: in team mode only the person the
    /// connected database role is (roles are named after the provider's
    /// `sub`); the provider setting first, the session last, so a refusal
    /// leaves nobody signed in.
    async fn keep(
        &self,
        config: &ProviderConfig,
        person: Person,
        session: Session,
    ) -> Result<Person, AppError> {
        let store = self.store()?;
        if let Some(role) = store.team_role()
            && role != person.sub
        {
            return Err(AppError::InvalidInput {
                field: "sign-in",
                reason: format!(
                    "you signed in as {:?} (sub {:?}), but you are connected to the team database as the role {role:?}, which is who writes and approves here; nobody was signed in. Sign in as the person the role is named after, or ask the database administrator for a role named after your sub (docs/team-mode.md)",
                    person.name.as_deref().unwrap_or(&person.sub),
                    person.sub
                ),
            });
        }
        let json = serde_json::to_string(config).expect("a provider config serialises");
        if store.setting(PROVIDER_SETTING).await?.as_deref() != Some(json.as_str()) {
            store
                .set_setting(PROVIDER_SETTING, &json, &self.ctx_as(&person))
                .await?;
        }
        let keep = session.clone();
        blocking(self.secrets(), move |s| oidc::save(s, &keep)).await?;
        self.set_signed_in(Some((person.clone(), session)));
        Ok(person)
    }

    /// Signs out: the session leaves the keyring and this workspace is in
    /// the local mode again. Returns whether someone was signed in.
    pub async fn sign_out(&self) -> Result<bool, AppError> {
        let had = blocking(self.secrets(), |s| oidc::load(s)).await?.is_some();
        blocking(self.secrets(), |s| oidc::forget(s)).await?;
        self.set_signed_in(None);
        Ok(had)
    }

    /// Who acts here, and how.
    pub async fn who(&self) -> Result<WhoAmI, AppError> {
        let store = self.store()?;
        let signed_in = self.signed_in();
        let keys_bound = match &signed_in {
            Some((_, session)) => {
                let commitment = self.keys(store).commitment().await?;
                commitment.is_some() && oidc::nonce_of(&session.id_token) == commitment
            }
            None => false,
        };
        let team_role = store.team_role().map(str::to_owned);
        Ok(WhoAmI {
            person: signed_in.map(|(p, _)| p),
            local_actor: team_role
                .clone()
                .unwrap_or_else(|| self.local_ctx().actor.clone()),
            acting_as: self.ctx().actor,
            team_role,
            local_groups: store.approver_groups().await?,
            issuer: self.provider().await?.map(|c| c.issuer),
            keys_bound,
            session_problem: self
                .session_problem
                .read()
                .expect("the sign-in lock")
                .clone(),
        })
    }

    /// The signed-in person and their session, if any.
    pub fn signed_in(&self) -> Option<(Person, Session)> {
        self.person.read().expect("the sign-in lock").clone()
    }

    fn set_signed_in(&self, signed_in: Option<(Person, Session)>) {
        *self.session_problem.write().expect("the sign-in lock") = None;
        *self.person.write().expect("the sign-in lock") = signed_in;
    }
}
