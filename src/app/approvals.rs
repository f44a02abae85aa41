//! The Approvals inbox as an owner works it: which backend to ask, one
//! poll of it (queued decisions delivered first, then the pending list
//! fetched with its ETag), the inbox view, the request view, and the
//! decision — signed on the same cached graph, at the same inventory
//! version, as the view the owner saw.

use std::collections::HashSet;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex, Notify};

use super::inbox::{self, InboxItem, Received};
use super::{AppError, Workspace};
use crate::approval::{self, Decision, DecisionInput, Narrowing, RequestView};
use crate::client::{self, BackendClient, DeliveryReport, Listing};
use crate::model::ContainmentAction;
use crate::secrets::SecretStore;
use crate::signing::{KeyInfo, KeyStatus};
use crate::store::{BACKEND_URL_KEY, DecisionRow, Store};

/// Decided requests listed under the pending ones.
const MAX_DECIDED_SHOWN: usize = 50;

/// Longest reason accepted; a reason is a sentence or two, not a document.
pub const MAX_REASON: usize = 2000;

/// What the last poll found.
#[derive(Default)]
struct Cache {
    backend: Option<String>,
    requests: Vec<Received>,
    etag: Option<String>,
    error: Option<String>,
    last_poll: Option<jiff::Timestamp>,
    /// Requests already announced (a notification is shown once).
    announced: HashSet<String>,
}

/// The inbox's state and its doorbell (rung to poll now).
pub struct Approvals {
    cache: Mutex<Cache>,
    /// Rung to make the poller poll now (a drill issued a request, a
    /// backend was connected).
    pub wake: Notify,
    /// `--backend URL` / `COUNTERSIGN_BACKEND`, over the stored setting.
    backend_override: Option<String>,
    /// While a drill runs here, its backend (with its token, which is in
    /// memory only) takes the inbox's place.
    drill: std::sync::Mutex<Option<BackendClient>>,
    secrets: Arc<dyn SecretStore>,
}

/// What one poll brought.
#[derive(Debug, Default)]
pub struct Polled {
    /// Requests seen for the first time (to announce).
    pub new: Vec<Received>,
    /// Requests offered that you have not decided.
    pub awaiting: usize,
}

/// The inbox as the Approvals view shows it.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct InboxView {
    pub backend: Option<String>,
    /// The drill running here, whose backend the inbox shows meanwhile.
    pub drill: Option<String>,
    /// Why the last poll failed, if it did.
    pub error: Option<String>,
    /// When the backend was last asked (RFC 3339).
    pub last_poll: Option<String>,
    pub items: Vec<InboxItem>,
    pub awaiting: usize,
    /// Decisions signed here and not yet delivered.
    pub queued: i64,
    pub signing_key: Option<KeyInfo>,
    pub approver: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Approve,
    Deny,
    Narrow,
}

/// Whether the owner can sign a request, known before the Sign button is
/// enabled: the backend's judgement by the rules it holds decisions to
/// ([`approval::may_approve`]), beside what only this app knows (which
/// key would sign, which groups the decision would claim).
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct SignCheck {
    /// Why an approval (or a narrower one) would be refused; `None` when
    /// it would count.
    pub approve_refused: Option<Refusal>,
    /// Why a denial would be refused; `None` when it would count.
    pub deny_refused: Option<Refusal>,
    /// What an approval by you would do (decide alone, be the first of
    /// two, complete a dual approval).
    pub standing: Option<approval::Standing>,
    /// The groups a dual approval needs between its two approvers, as the
    /// backend enforces them (empty: any two people).
    pub required_groups: Vec<String>,
    /// Your groups as the backend holds them (enrolled with your keys).
    pub your_groups: Vec<String>,
    /// Approvals the backend has accepted so far.
    pub approvals: Vec<approval::Signer>,
    /// Set when the backend could not be asked, saying why: signing stays
    /// possible (the decision is queued) and the backend judges it when
    /// it is delivered.
    pub unchecked: Option<String>,
}

/// One refusal: the backend's reason code, a sentence, and what fixes it.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Refusal {
    pub code: String,
    pub message: String,
    /// `enroll` when enrolling your keys and groups again fixes it;
    /// `signing_key` when a signing key must be created first.
    pub fix: Option<String>,
}

impl Refusal {
    fn new(code: &str, message: impl Into<String>, fix: Option<&str>) -> Self {
        Refusal {
            code: code.to_owned(),
            message: message.into(),
            fix: fix.map(str::to_owned),
        }
    }
}

/// What saving the approver groups did.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct GroupsSaved {
    pub groups: Vec<String>,
    /// The backend the new groups were enrolled with, if one is connected.
    pub enrolled_at: Option<String>,
    /// Why the connected backend could not be told (the groups are saved
    /// here; enroll again when it answers).
    pub enroll_problem: Option<String>,
}

/// What the owner decided, as the window sends it.
#[derive(Debug, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DecideInput {
    pub id: String,
    pub verdict: Verdict,
    /// With `narrow`: the narrower action approved instead.
    pub action: Option<ContainmentAction>,
    /// With `narrow`: approved only until this time (RFC 3339).
    pub until: Option<String>,
    pub reason: String,
    /// The `inventory_version` of the request view the owner saw.
    pub inventory_version: Option<String>,
}

impl Approvals {
    pub fn new(backend_override: Option<String>, secrets: Arc<dyn SecretStore>) -> Self {
        Approvals {
            cache: Mutex::default(),
            wake: Notify::new(),
            backend_override: backend_override.map(|u| client::normalise(&u)),
            drill: std::sync::Mutex::new(None),
            secrets,
        }
    }

    /// The backend the inbox asks: a running drill's, else the override,
    /// else the stored setting.
    pub async fn backend_url(&self, store: &Store) -> Option<String> {
        if let Some(drill) = self.drill.lock().expect("drill lock").as_ref() {
            return Some(drill.url().to_owned());
        }
        match &self.backend_override {
            Some(url) => Some(url.clone()),
            None => store.backend_url().await.ok().flatten(),
        }
    }

    /// Forgets what the last poll found (its backend was disconnected).
    pub async fn forget_backend(&self) {
        *self.cache.lock().await = Cache::default();
    }

    /// A client for `url`: the running drill's, else one with the token
    /// from the environment or the keyring.
    pub async fn client(&self, url: &str) -> Result<BackendClient, client::ClientError> {
        let drill = self
            .drill
            .lock()
            .expect("drill lock")
            .clone()
            .filter(|c| c.url() == url);
        match drill {
            Some(c) => Ok(c),
            None => client::connect_with(url, Arc::clone(&self.secrets)).await,
        }
    }

    /// Points the inbox at a drill's backend (`Some`) or back (`None`).
    pub fn set_drill_backend(&self, client: Option<BackendClient>) {
        *self.drill.lock().expect("drill lock") = client;
        self.wake.notify_one();
    }

    /// The request exactly as the backend sent it (decisions sign its digest).
    pub async fn offered(&self, id: &str) -> Option<serde_json::Value> {
        self.cache
            .lock()
            .await
            .requests
            .iter()
            .find(|r| r.id() == id)
            .map(|r| r.raw().clone())
    }
}

/// A request id as the window may name one.
fn check_request_id(id: &str) -> Result<(), AppError> {
    if id.is_empty() || id.len() > 200 || id.chars().any(char::is_control) {
        return Err(AppError::InvalidInput {
            field: "request",
            reason: "not a request id".into(),
        });
    }
    Ok(())
}

impl DecideInput {
    /// The verdict as the core's [`Decision`], with the input checked.
    fn decision(&self) -> Result<Decision, AppError> {
        let invalid = |field, reason: String| AppError::InvalidInput { field, reason };
        check_request_id(&self.id)?;
        if self.reason.trim().is_empty() || self.reason.len() > MAX_REASON {
            return Err(invalid(
                "reason",
                format!("give a reason of 1 to {MAX_REASON} characters"),
            ));
        }
        let until = self
            .until
            .as_deref()
            .filter(|u| !u.trim().is_empty())
            .map(|u| {
                u.parse::<jiff::Timestamp>()
                    .map_err(|e| invalid("until", e.to_string()))
            })
            .transpose()?;
        Ok(match (self.verdict, self.action) {
            (Verdict::Approve, _) => Decision::Approve,
            (Verdict::Deny, _) => Decision::Deny,
            (Verdict::Narrow, Some(action)) => Decision::ApproveNarrowed(Narrowing {
                action: Some(action),
                scope: Vec::new(),
                until,
            }),
            (Verdict::Narrow, None) => {
                return Err(invalid(
                    "action",
                    "choose the narrower action to approve".into(),
                ));
            }
        })
    }
}

impl Workspace {
    /// One round of the inbox: deliver what is queued, then fetch what
    /// awaits a decision (an unchanged listing costs a 304). Failures are
    /// kept in the view (`error`), not returned: the poller runs on.
    pub async fn poll(&self) -> Polled {
        let Ok(store) = self.store() else {
            return Polled::default();
        };
        let approvals = &self.approvals;
        let Some(url) = approvals.backend_url(store).await else {
            // No backend (any more: a drill ended, or it was disconnected):
            // nothing it offered stays in the inbox.
            *approvals.cache.lock().await = Cache::default();
            return Polled::default();
        };
        let result = async {
            let client = approvals.client(&url).await?;
            if let Err(e) = client::deliver_due(store, &client).await {
                eprintln!("warning: delivering queued decisions failed: {e}");
            }
            let etag = {
                let cache = approvals.cache.lock().await;
                (cache.backend.as_deref() == Some(url.as_str()))
                    .then(|| cache.etag.clone())
                    .flatten()
            };
            client.pending_requests(etag.as_deref()).await
        }
        .await;
        let mut new = Vec::new();
        {
            let mut cache = approvals.cache.lock().await;
            if cache.backend.as_deref() != Some(url.as_str()) {
                *cache = Cache {
                    backend: Some(url.clone()),
                    ..Default::default()
                };
            }
            cache.last_poll = Some(jiff::Timestamp::now());
            match result {
                Ok(Listing::Changed { requests, etag, .. }) => {
                    // A request without an id cannot be decided or named.
                    let requests: Vec<Received> = requests
                        .into_iter()
                        .filter_map(Received::from_json)
                        .collect();
                    for r in &requests {
                        if cache.announced.insert(r.id().to_owned()) {
                            new.push(r.clone());
                        }
                    }
                    cache.requests = requests;
                    cache.etag = etag;
                    cache.error = None;
                }
                Ok(Listing::NotModified) => cache.error = None,
                Err(e) => cache.error = Some(e.to_string()),
            }
        }
        Polled {
            new,
            awaiting: self.awaiting().await,
        }
    }

    /// Requests in the inbox that you have not decided yet.
    pub async fn awaiting(&self) -> usize {
        let Ok(store) = self.store() else { return 0 };
        let decisions = store.decisions(None).await.unwrap_or_default();
        inbox::awaiting(&self.approvals.cache.lock().await.requests, &decisions)
    }

    /// The inbox as last polled, beside the decisions signed here.
    pub async fn inbox(&self) -> Result<InboxView, AppError> {
        let store = self.store()?;
        let decisions = store.decisions(None).await?;
        let (backend, error, last_poll, requests) = {
            let cache = self.approvals.cache.lock().await;
            (
                cache.backend.clone(),
                cache.error.clone(),
                cache.last_poll.map(|t| t.to_string()),
                cache.requests.clone(),
            )
        };
        Ok(InboxView {
            backend: backend.or(self.approvals.backend_url(store).await),
            drill: self.drills.running_scenario(),
            error,
            last_poll,
            awaiting: inbox::awaiting(&requests, &decisions),
            items: inbox::items(
                &requests,
                &decisions,
                MAX_DECIDED_SHOWN,
                self.drills.running_run_id().as_deref(),
            ),
            queued: store.undelivered(None).await?,
            signing_key: self.active_key(store).await?,
            approver: self.ctx().actor.clone(),
        })
    }

    /// Everything the owner needs to decide request `id`, from the request
    /// the backend offered (or, once decided and no longer offered, as it
    /// was decided), on the cached graph of the inventory now.
    pub async fn request_view(&self, id: &str) -> Result<RequestView, AppError> {
        check_request_id(id)?;
        let store = self.store()?;
        let request = match self.approvals.offered(id).await {
            Some(r) => r,
            None => store
                .decisions(Some(id))
                .await?
                .first()
                .and_then(|d| serde_json::from_str(&d.request_json).ok())
                .ok_or_else(|| AppError::RequestGone(id.to_owned()))?,
        };
        self.view_of(&request).await
    }

    /// The request view of `request` (as the backend sent it).
    pub async fn view_of(&self, request: &serde_json::Value) -> Result<RequestView, AppError> {
        let store = self.store()?;
        let (version, graph) = self.graphs.get_with_version(store).await?;
        Ok(approval::request_view(store, (&graph, version), request, &self.ctx().actor).await?)
    }

    /// Signs and records the decision on an offered request, durably with
    /// its audit record and outbox row, on the graph the view was built
    /// from; refused with `inventory_changed` if the inventory moved since
    /// `input.inventory_version`. Delivery is the poller's (or the
    /// caller's) next step: the row returned shows it queued.
    pub async fn decide(&self, input: DecideInput) -> Result<DecisionRow, AppError> {
        let decision = input.decision()?;
        let store = self.store()?;
        let backend = self
            .approvals
            .backend_url(store)
            .await
            .ok_or(AppError::NoBackend)?;
        let request = self
            .approvals
            .offered(&input.id)
            .await
            .ok_or_else(|| AppError::RequestGone(input.id.clone()))?;
        self.decide_on(
            &request,
            decision,
            &input.reason,
            (&backend, Some(&backend)),
            input.inventory_version.as_deref(),
        )
        .await
    }

    /// Signs and records `decision` on `request` for `(audience,
    /// destination)`: the backend the decision is for (`aud`) and, when
    /// given, where it is queued to be pushed. The CLI names the request
    /// itself; the desktop goes through [`Workspace::decide`].
    pub async fn decide_on(
        &self,
        request: &serde_json::Value,
        decision: Decision,
        reason: &str,
        (audience, destination): (&str, Option<&str>),
        inventory_version: Option<&str>,
    ) -> Result<DecisionRow, AppError> {
        let store = self.store()?;
        let mut ctx = self.ctx();
        // Sent to the running drill's backend: a rehearsal, marked as one.
        let drill_url = self
            .approvals
            .drill
            .lock()
            .expect("drill lock")
            .as_ref()
            .map(|c| c.url().to_owned());
        if drill_url.is_some() && destination == drill_url.as_deref() {
            ctx.drill_run = self.drills.running_run_id();
        }
        let recorded = approval::decide_on(
            store,
            &self.graphs,
            &self.keys(store),
            DecisionInput {
                request,
                decision,
                reason,
                audience,
                destination,
                inventory_version,
            },
            &ctx,
        )
        .await?;
        store
            .decisions(Some(&recorded.claims.request_id))
            .await?
            .into_iter()
            .find(|d| d.jti == recorded.claims.jti)
            .ok_or_else(|| AppError::RequestGone(recorded.claims.request_id))
    }

    /// Makes every queued decision due now and tries to deliver it.
    pub async fn retry_deliveries(&self) -> Result<DeliveryReport, AppError> {
        let store = self.store()?;
        store.retry_deliveries_now().await?;
        let backend = self
            .approvals
            .backend_url(store)
            .await
            .ok_or(AppError::NoBackend)?;
        let client = self.approvals.client(&backend).await?;
        Ok(client::deliver_due(store, &client).await?)
    }

    /// Connects to a backend: checks that it answers at `url` and takes
    /// the token (a listing of its requests), then keeps the token in the
    /// keyring, makes it the default backend, and enrolls the signing key
    /// if there is one. Nothing is kept when the check fails, so a wrong
    /// URL or token leaves the previous connection as it was. Errors:
    /// `invalid_input` (no URL or token), `backend_unreachable`,
    /// `backend_unauthorized`.
    pub async fn connect_backend(&self, url: &str, token: &str) -> Result<(), AppError> {
        let url = client::normalise(url);
        if url.is_empty() || url.len() > 2000 || token.trim().is_empty() || token.len() > 4096 {
            return Err(AppError::InvalidInput {
                field: "backend",
                reason: "give the backend's URL and the token it issued".into(),
            });
        }
        // The URL parses, the backend answers, and it takes this token —
        // all before anything is stored.
        let failed = |error| AppError::Connect {
            url: url.clone(),
            error: Box::new(error),
        };
        let trial = BackendClient::new(&url, token.trim().to_owned().into()).map_err(failed)?;
        trial.pending_requests(None).await.map_err(failed)?;
        let store = self.store()?;
        let (u, t, secrets) = (
            url.clone(),
            zeroize::Zeroizing::new(token.to_owned()),
            self.secrets(),
        );
        tokio::task::spawn_blocking(move || client::store_token(&u, &t, secrets.as_ref()))
            .await
            .map_err(|e| AppError::InvalidInput {
                field: "token",
                reason: e.to_string(),
            })??;
        store
            .set_setting(BACKEND_URL_KEY, &url, &self.ctx())
            .await?;
        self.enroll(&url).await?;
        self.approvals.wake.notify_one();
        Ok(())
    }

    /// Disconnects from the default backend: forgets its token and that it
    /// is the default; decisions still queued for it stay queued (they
    /// name their destination) and go out if it is connected again.
    /// Returns the URL disconnected from, if there was one.
    pub async fn disconnect_backend(&self) -> Result<Option<String>, AppError> {
        let store = self.store()?;
        let Some(url) = store.backend_url().await? else {
            return Ok(None);
        };
        let (u, secrets) = (url.clone(), self.secrets());
        tokio::task::spawn_blocking(move || client::forget_token(&u, secrets.as_ref()))
            .await
            .map_err(|e| AppError::InvalidInput {
                field: "token",
                reason: e.to_string(),
            })??;
        store.set_setting(BACKEND_URL_KEY, "", &self.ctx()).await?;
        self.approvals.forget_backend().await;
        self.approvals.wake.notify_one();
        Ok(Some(url))
    }

    /// Enrolls the owner's public keys and groups with the backend at `url`.
    pub async fn enroll(&self, url: &str) -> Result<usize, AppError> {
        let store = self.store()?;
        let client = self.approvals.client(url).await?;
        // Signed in, the enrollment carries the ID token (asked for these
        // keys) and its groups: a backend trusting the provider checks both.
        let signed_in = self.signed_in();
        let actor = self.ctx().actor;
        if let Some((person, _)) = &signed_in
            && person.sub != actor
        {
            return Err(AppError::InvalidInput {
                field: "sign-in",
                reason: format!(
                    "you are signed in as {:?} but write and approve here as {actor:?} (the team database's role): a backend enrolls keys only for the person signed in. Sign in as {actor:?}, or sign out",
                    person.sub
                ),
            });
        }
        let vouched = signed_in.as_ref().map(|(person, session)| client::Vouched {
            id_token: &session.id_token,
            groups: &person.groups,
        });
        Ok(
            client::enroll_keys_of(&self.keys(store), store, &client, &actor, vouched.as_ref())
                .await?,
        )
    }

    /// The owner's active signing key, if there is one.
    async fn active_key(&self, store: &Store) -> Result<Option<KeyInfo>, AppError> {
        Ok(self
            .keys(store)
            .list()
            .await?
            .into_iter()
            .find(|k| k.status == KeyStatus::Active))
    }

    /// Whether the owner can sign request `id` now ([`SignCheck`]): asked
    /// of the backend the request came from, then checked against the key
    /// that would sign and the groups the decision would claim. A backend
    /// that cannot be asked leaves the check `unchecked`, not failed.
    pub async fn sign_check(&self, id: &str) -> Result<SignCheck, AppError> {
        check_request_id(id)?;
        let store = self.store()?;
        let actor = self.ctx().actor;
        let key = self.active_key(store).await?;
        let claimed = match self.signed_in() {
            Some((person, _)) if person.sub == actor => person.groups,
            _ => store.approver_groups().await?,
        };
        let mut check = SignCheck {
            approve_refused: None,
            deny_refused: None,
            standing: None,
            required_groups: Vec::new(),
            your_groups: Vec::new(),
            approvals: Vec::new(),
            unchecked: None,
        };
        let Some(key) = key else {
            let no_key = Refusal::new(
                "no_signing_key",
                "you have no signing key yet: create one (it stays in your system keyring)",
                Some("signing_key"),
            );
            check.approve_refused = Some(no_key.clone());
            check.deny_refused = Some(no_key);
            return Ok(check);
        };
        let Some(url) = self.approvals.backend_url(store).await else {
            check.unchecked = Some("no backend is connected".into());
            return Ok(check);
        };
        let asked = match self.approvals.client(&url).await {
            Ok(client) => client.eligibility(id, &actor).await,
            Err(e) => Err(e),
        };
        let e = match asked {
            Ok(e) => e,
            Err(e) => {
                check.unchecked = Some(format!(
                    "{url} could not be asked whether you may sign ({e}); a decision is queued and judged there when it is delivered"
                ));
                return Ok(check);
            }
        };
        let refusal = |j: &approval::Judgement| {
            (!j.allowed).then(|| {
                let code = j.reason.clone().unwrap_or_default();
                let fix = (code == "unknown_key").then_some("enroll");
                Refusal::new(&code, j.message.clone().unwrap_or_default(), fix)
            })
        };
        check.approve_refused = refusal(&e.approve);
        check.deny_refused = refusal(&e.deny);
        check.standing = e.approve.standing;
        // What the backend cannot know: the key this app signs with, and
        // the groups the decision claims, must be the ones enrolled.
        if !e.enrolled_kids.is_empty() && !e.enrolled_kids.contains(&key.kid) {
            let stale = Refusal::new(
                "unknown_key",
                format!(
                    "your signing key {}… is not enrolled at {url} (it holds other keys for {actor}): enroll it",
                    &key.kid[..key.kid.len().min(12)]
                ),
                Some("enroll"),
            );
            check.approve_refused.get_or_insert(stale.clone());
            check.deny_refused.get_or_insert(stale);
        }
        let unenrolled: Vec<&str> = claimed
            .iter()
            .filter(|g| !e.groups.contains(g))
            .map(String::as_str)
            .collect();
        if !e.enrolled_kids.is_empty() && !unenrolled.is_empty() {
            let mismatch = Refusal::new(
                "approver_mismatch",
                format!(
                    "your decision would claim {}, but {url} has you enrolled with {}: enroll again",
                    approval::Groups(claimed.clone()),
                    approval::Groups(e.groups.clone())
                ),
                Some("enroll"),
            );
            check.approve_refused.get_or_insert(mismatch.clone());
            check.deny_refused.get_or_insert(mismatch);
        }
        check.required_groups = e.required_groups;
        check.your_groups = e.groups;
        check.approvals = e.approvals;
        Ok(check)
    }

    /// Sets the approver groups this installation's owner signs with when
    /// nobody is signed in (the `approver_groups` setting, audited), then
    /// enrolls them with the connected backend, which holds decisions to
    /// the groups enrolled. Each group is 1 to
    /// [`crate::backend::MAX_GROUP_BYTES`] bytes without a comma, at most
    /// [`crate::backend::MAX_GROUPS`]; blanks and repeats are dropped.
    /// Errors: `invalid_input` naming the group at fault.
    pub async fn set_approver_groups(&self, groups: &[String]) -> Result<GroupsSaved, AppError> {
        let mut cleaned: Vec<String> = Vec::new();
        for g in groups.iter().map(|g| g.trim()).filter(|g| !g.is_empty()) {
            if g.contains(',') || g.len() > crate::backend::MAX_GROUP_BYTES {
                return Err(AppError::InvalidInput {
                    field: "approver_groups",
                    reason: format!(
                        "{g:?}: a group is 1 to {} bytes without a comma (give each group separately)",
                        crate::backend::MAX_GROUP_BYTES
                    ),
                });
            }
            if !cleaned.iter().any(|c| c == g) {
                cleaned.push(g.to_owned());
            }
        }
        if cleaned.len() > crate::backend::MAX_GROUPS {
            return Err(AppError::InvalidInput {
                field: "approver_groups",
                reason: format!("at most {} groups", crate::backend::MAX_GROUPS),
            });
        }
        let store = self.store()?;
        store
            .set_setting(
                crate::store::APPROVER_GROUPS_KEY,
                &cleaned.join(","),
                &self.ctx(),
            )
            .await?;
        let mut saved = GroupsSaved {
            groups: cleaned,
            enrolled_at: None,
            enroll_problem: None,
        };
        // Signed in, the identity provider's groups are the ones enrolled
        // and claimed; this setting waits for the local mode.
        if self.signed_in().is_none()
            && self.active_key(store).await?.is_some()
            && let Some(url) = self.approvals.backend_url(store).await
        {
            match self.enroll(&url).await {
                Ok(_) => saved.enrolled_at = Some(url),
                Err(e) => saved.enroll_problem = Some(e.to_string()),
            }
        }
        Ok(saved)
    }

    /// Creates the owner's signing key (private half in the keyring) and
    /// enrolls it with the backend, if one is configured — in the local
    /// mode. Signed in, the session was asked for the keys that existed
    /// then, so the new key is enrolled by signing in again
    /// ([`Workspace::enroll_if_connected`] after [`Workspace::sign_in`]).
    pub async fn create_signing_key(&self) -> Result<KeyInfo, AppError> {
        let store = self.store()?;
        let key = self.keys(store).init(&self.ctx()).await?;
        if self.signed_in().is_none() {
            self.enroll_if_connected().await?;
        }
        Ok(key)
    }

    /// Enrolls the signing keys with the configured backend, if there is
    /// one and there are keys; returns how many were sent.
    pub async fn enroll_if_connected(&self) -> Result<usize, AppError> {
        let store = self.store()?;
        match self.approvals.backend_url(store).await {
            Some(url) => self.enroll(&url).await,
            None => Ok(0),
        }
    }
}
