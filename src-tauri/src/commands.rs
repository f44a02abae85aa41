//! IPC commands: validate what the webview sent, call the core, return model
//! types. Anything that is not argument checking belongs in the core.

use serde::Serialize;
use tauri::{AppHandle, State};
use tauri_plugin_dialog::{DialogExt, FilePath};

use countersign::app::AppError;
use countersign::attention::{Query as AttentionQuery, Report as AttentionReport};
use countersign::graph::blast_radius::{Alternatives, BlastResult, RankedIdentity, Threat};
use countersign::graph::summary::{GroupBy, RadiusSummary};
use countersign::import::{self, Apply, Format, ImportReport};
use countersign::inventory::{Change, Entity};
use countersign::model::{ContainmentAction, Identity, Owner, Service, validate_id};
use countersign::store::{
    AuditEntry, Edit, IdentityDetail, IdentitySummary, InventoryCounts, ListCursor, ListPage,
    ServiceDetail, ServiceSummary,
};

use crate::{AppState, CommandError};

/// Longest search text accepted over IPC; a search box never needs more.
const MAX_SEARCH_LEN: usize = 200;
/// Most audit entries one history request returns.
const MAX_HISTORY: u32 = 500;

#[derive(Debug, Serialize)]
pub struct AppStatus {
    pub db_path: String,
    pub startup_error: Option<String>,
    pub counts: Option<InventoryCounts>,
    /// The audit trail's newest `seq:hash`: it changes with every change
    /// anyone makes, so the webview polls it to refresh what it shows when
    /// another owner (another app, the CLI) changes the shared inventory.
    pub audit_head: Option<String>,
}

fn check_search(search: Option<String>) -> Result<Option<String>, CommandError> {
    match search {
        Some(s) if s.chars().count() > MAX_SEARCH_LEN => Err(CommandError::InvalidInput {
            field: "search",
            reason: format!("longer than {MAX_SEARCH_LEN} characters"),
        }),
        other => Ok(other),
    }
}

fn check_id(field: &'static str, id: &str) -> Result<(), CommandError> {
    validate_id(id).map_err(|reason| CommandError::InvalidInput { field, reason })
}

#[tauri::command]
pub async fn app_status(state: State<'_, AppState>) -> Result<AppStatus, CommandError> {
    let (counts, audit_head) = match state.store() {
        Ok(store) => (Some(store.counts().await?), store.audit_head().await?),
        Err(_) => (None, None),
    };
    Ok(AppStatus {
        db_path: state.location().to_owned(),
        startup_error: state.startup_error().map(str::to_owned),
        counts,
        audit_head,
    })
}

/// Rows per page of a list the app asks for at most: enough to fill a
/// tall window many times over, small enough that no page is slow.
const MAX_PAGE: u32 = 1000;

/// Checks a page request: `after` from the page before, `limit` rows.
fn check_page(after: &Option<ListCursor>, limit: u32) -> Result<(), CommandError> {
    if limit == 0 || limit > MAX_PAGE {
        return Err(CommandError::InvalidInput {
            field: "limit",
            reason: format!("between 1 and {MAX_PAGE} rows"),
        });
    }
    if let Some(c) = after {
        check_id("after.id", &c.id)?;
        if c.name.chars().count() > MAX_CURSOR_NAME {
            return Err(CommandError::InvalidInput {
                field: "after.name",
                reason: format!("longer than {MAX_CURSOR_NAME} characters"),
            });
        }
    }
    Ok(())
}

/// Longer than any name the model accepts: a cursor is a row's key.
const MAX_CURSOR_NAME: usize = 4096;

/// One page of the identity list (the first page carries the total).
#[tauri::command]
pub async fn list_identities(
    state: State<'_, AppState>,
    search: Option<String>,
    after: Option<ListCursor>,
    limit: u32,
) -> Result<ListPage<IdentitySummary>, CommandError> {
    let search = check_search(search)?;
    check_page(&after, limit)?;
    Ok(state
        .store()?
        .list_identities(search.as_deref(), after.as_ref(), Some(limit))
        .await?)
}

#[tauri::command]
pub async fn identity_detail(
    state: State<'_, AppState>,
    id: String,
) -> Result<IdentityDetail, CommandError> {
    check_id("id", &id)?;
    Ok(state.store()?.identity_detail(&id).await?)
}

/// One page of the service list (the first page carries the total).
#[tauri::command]
pub async fn list_services(
    state: State<'_, AppState>,
    search: Option<String>,
    after: Option<ListCursor>,
    limit: u32,
) -> Result<ListPage<ServiceSummary>, CommandError> {
    let search = check_search(search)?;
    check_page(&after, limit)?;
    Ok(state
        .store()?
        .list_services(search.as_deref(), after.as_ref(), Some(limit))
        .await?)
}

#[tauri::command]
pub async fn service_detail(
    state: State<'_, AppState>,
    id: String,
) -> Result<ServiceDetail, CommandError> {
    check_id("id", &id)?;
    Ok(state.store()?.service_detail(&id).await?)
}

/// Creates or updates an identity. `version` is the one the form was opened
/// at (absent when creating): if someone else saved in between, the edit is
/// refused with both versions named instead of overwriting theirs.
///
/// `new_owners` are owners the person chose to create for it (an owner or
/// backup owner nobody knew yet, created explicitly, never implied by a
/// typo): written with the identity in one transaction, refused if one
/// exists already.
#[tauri::command]
pub async fn save_identity(
    state: State<'_, AppState>,
    identity: Identity,
    version: Option<i64>,
    new_owners: Option<Vec<Owner>>,
) -> Result<Option<Change>, CommandError> {
    check_id("id", &identity.id)?;
    let new_owners = new_owners.unwrap_or_default();
    if new_owners.len() > 2 {
        return Err(AppError::InvalidInput {
            field: "new_owners",
            reason: "at most the owner and the backup owner".into(),
        });
    }
    for o in &new_owners {
        check_id("new_owners", &o.id)?;
    }
    let creates = new_owners.into_iter().map(Edit::SaveOwner).collect();
    Ok(state
        .store()?
        .edit_with(
            creates,
            Edit::SaveIdentity(Box::new(identity)),
            version,
            &state.ctx(),
        )
        .await?
        .pop())
}

/// The owners the inventory knows (listed, or named by an identity or a
/// service), for the pickers.
#[tauri::command]
pub async fn list_owners(
    state: State<'_, AppState>,
) -> Result<Vec<countersign::store::KnownOwner>, CommandError> {
    Ok(state.store()?.known_owners().await?)
}

#[tauri::command]
pub async fn delete_identity(
    state: State<'_, AppState>,
    id: String,
    version: Option<i64>,
) -> Result<Option<Change>, CommandError> {
    check_id("id", &id)?;
    Ok(state
        .store()?
        .edit(Edit::DeleteIdentity(id), version, &state.ctx())
        .await?)
}

#[tauri::command]
pub async fn save_service(
    state: State<'_, AppState>,
    service: Service,
    version: Option<i64>,
    new_owner: Option<Owner>,
) -> Result<Option<Change>, CommandError> {
    check_id("id", &service.id)?;
    if let Some(o) = &new_owner {
        check_id("new_owner", &o.id)?;
    }
    let creates = new_owner.into_iter().map(Edit::SaveOwner).collect();
    Ok(state
        .store()?
        .edit_with(creates, Edit::SaveService(service), version, &state.ctx())
        .await?
        .pop())
}

#[tauri::command]
pub async fn delete_service(
    state: State<'_, AppState>,
    id: String,
    version: Option<i64>,
) -> Result<Option<Change>, CommandError> {
    check_id("id", &id)?;
    Ok(state
        .store()?
        .edit(Edit::DeleteService(id), version, &state.ctx())
        .await?)
}

/// The owner attests that the record is right as of today.
#[tauri::command]
pub async fn mark_reviewed(
    state: State<'_, AppState>,
    id: String,
    version: Option<i64>,
) -> Result<Option<Change>, CommandError> {
    check_id("id", &id)?;
    Ok(state
        .store()?
        .attest_review(&id, version, &state.ctx())
        .await?)
}

/// The audit trail of one identity or service, newest first.
#[tauri::command]
pub async fn history(
    state: State<'_, AppState>,
    entity: Entity,
    id: String,
) -> Result<Vec<AuditEntry>, CommandError> {
    check_id("id", &id)?;
    Ok(state
        .store()?
        .audit_log(Some((entity.as_str(), &id)), MAX_HISTORY)
        .await?)
}

/// Every rule's count and the findings `query` asks for: the first page
/// of each severity, a later page of one, or none (`limit` 0: the tab's
/// count).
#[tauri::command]
pub async fn attention(
    state: State<'_, AppState>,
    query: AttentionQuery,
) -> Result<AttentionReport, CommandError> {
    match query.limit {
        Some(limit) if limit <= MAX_PAGE => {}
        _ => {
            return Err(CommandError::InvalidInput {
                field: "limit",
                reason: format!("between 0 and {MAX_PAGE} findings"),
            });
        }
    }
    if let Some(after) = &query.after {
        check_id("after.id", &after.id)?;
        if !matches!(after.entity.as_str(), "identity" | "service") {
            return Err(CommandError::InvalidInput {
                field: "after.entity",
                reason: "identity or service".into(),
            });
        }
    }
    Ok(state.store()?.attention_report(query).await?)
}

/// Asks the user for a file (or a folder) to import through the native
/// dialog, remembers it, and returns the dry-run diff. `None` if the user
/// cancelled.
#[tauri::command]
pub async fn choose_import(
    app: AppHandle,
    state: State<'_, AppState>,
    folder: bool,
    format: Format,
) -> Result<Option<ImportReport>, CommandError> {
    crate::dialogs::ensure_available().await?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    let dialog = app.dialog().file().set_title("Import an inventory");
    let send = move |picked: Option<FilePath>| {
        let _ = tx.send(picked.and_then(|p| p.into_path().ok()));
    };
    if folder {
        dialog.pick_folder(send);
    } else {
        dialog
            .add_filter("Inventories", &["yaml", "yml", "json", "csv"])
            .pick_file(send);
    }
    let Some(path) = rx.await.ok().flatten() else {
        return Ok(None);
    };
    state.set_pending_import(path.clone(), format);
    preview(&state, &path, format).await.map(Some)
}

async fn preview(
    state: &AppState,
    path: &std::path::Path,
    format: Format,
) -> Result<ImportReport, CommandError> {
    let actor = state.ctx().actor.clone();
    Ok(import::import(
        state.store()?,
        path,
        &import::Options::new(format),
        Apply::Nothing,
        &actor,
        &(),
    )
    .await?)
}

/// Applies the previewed import, but only if it would still write exactly
/// what the preview showed.
#[tauri::command]
pub async fn apply_import(
    state: State<'_, AppState>,
    fingerprint: String,
) -> Result<ImportReport, CommandError> {
    let (path, format) = state.pending_import().ok_or(CommandError::InvalidInput {
        field: "import",
        reason: "no import has been previewed; choose a file first".into(),
    })?;
    let actor = state.ctx().actor.clone();
    let report = import::import(
        state.store()?,
        &path,
        &import::Options::new(format),
        Apply::IfUnchanged(&fingerprint),
        &actor,
        &(),
    )
    .await?;
    state.clear_pending_import();
    Ok(report)
}

/// Most actions one blast-radius request may combine.
const MAX_ACTIONS: usize = 16;

/// Checks an identity and a set of actions from the webview and pairs them
/// as the engine's targets.
fn targets<'a>(
    identity: &'a str,
    actions: &[ContainmentAction],
) -> Result<Vec<(&'a str, ContainmentAction)>, CommandError> {
    check_id("identity", identity)?;
    if actions.is_empty() || actions.len() > MAX_ACTIONS {
        return Err(CommandError::InvalidInput {
            field: "actions",
            reason: format!("give between 1 and {MAX_ACTIONS} actions"),
        });
    }
    Ok(actions.iter().map(|a| (identity, *a)).collect())
}

/// What containing `identity` with `actions` (together) would break.
#[tauri::command]
pub async fn blast_radius(
    state: State<'_, AppState>,
    identity: String,
    actions: Vec<ContainmentAction>,
) -> Result<BlastResult, CommandError> {
    let targets = targets(&identity, &actions)?;
    let graph = state.graphs.get(state.store()?).await?;
    Ok(graph.blast(&targets)?)
}

#[tauri::command]
pub async fn alternatives(
    state: State<'_, AppState>,
    identity: String,
    threat: Threat,
) -> Result<Alternatives, CommandError> {
    check_id("identity", &identity)?;
    let graph = state.graphs.get(state.store()?).await?;
    Ok(graph.alternatives(&identity, threat)?)
}

/// The riskiest identities, worst first.
#[tauri::command]
pub async fn rank(
    state: State<'_, AppState>,
    top: u32,
) -> Result<Vec<RankedIdentity>, CommandError> {
    let graph = state.graphs.get(state.store()?).await?;
    let mut ranked = graph.rank();
    ranked.truncate(top.min(10_000) as usize);
    Ok(ranked)
}

/// Loads the demo inventory, but only into an empty database: the button
/// is an onboarding aid and must never overwrite an owner's edits.
#[tauri::command]
pub async fn load_demo(state: State<'_, AppState>) -> Result<InventoryCounts, CommandError> {
    let store = state.store()?;
    countersign::demo::load(store, true, &state.ctx().actor).await?;
    Ok(store.counts().await?)
}

/// The blast radius of `actions` on `identity` as a graph to draw. Sent as
/// binary columns (`graph::columns`): a 50k-node radius is megabytes.
/// With `group`, only the impacted services of that group of the radius's
/// summary ([`explore_summary`]) are drawn, with the contained identities.
#[tauri::command]
pub async fn explore(
    state: State<'_, AppState>,
    identity: String,
    actions: Vec<ContainmentAction>,
    group: Option<GroupSelection>,
) -> Result<tauri::ipc::Response, CommandError> {
    // What a person typed: an id, a name or part of one (resolved in the
    // core, which names the candidates when several match).
    check_search(Some(identity.clone()))?;
    if let Some(key) = group.as_ref().and_then(|g| g.key.as_ref()) {
        check_search(Some(key.clone()))?;
    }
    let graph = state.graphs.get(state.store()?).await?;
    let id = graph.resolve(&identity)?.to_owned();
    let targets = targets(&id, &actions)?;
    let explorer = match group {
        None => graph.explore(&targets)?,
        Some(g) => graph.explore_group(&targets, g.by, g.key.as_deref())?,
    };
    explorer_response(&explorer)
}

/// One group of a radius's summary: how services were grouped, and the
/// group's key (`null` for the services with no owner, or no system).
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSelection {
    by: GroupBy,
    key: Option<String>,
}

/// The blast radius of `actions` on `identity` grouped by owning team,
/// system or tier: what the explorer draws first for a radius of
/// thousands of nodes.
#[tauri::command]
pub async fn explore_summary(
    state: State<'_, AppState>,
    identity: String,
    actions: Vec<ContainmentAction>,
    group_by: GroupBy,
) -> Result<RadiusSummary, CommandError> {
    check_search(Some(identity.clone()))?;
    let graph = state.graphs.get(state.store()?).await?;
    let id = graph.resolve(&identity)?.to_owned();
    let targets = targets(&id, &actions)?;
    Ok(graph.summarise(&targets, group_by)?)
}

/// The explorer's columns as one binary buffer (`graph::columns`): the
/// webview views the numbers in place instead of parsing megabytes of
/// JSON, and the raw response skips the IPC layer's own serialisation.
pub(crate) fn explorer_response(
    explorer: &countersign::graph::explore::Explorer,
) -> Result<tauri::ipc::Response, CommandError> {
    Ok(tauri::ipc::Response::new(explorer.to_columns()))
}

/// Largest file the front end may ask to save (a PNG of a big graph).
const MAX_EXPORT_BYTES: usize = 64 * 1024 * 1024;

/// Asks where to save and writes the file; `None` if the user cancelled.
pub(crate) async fn save_with_dialog(
    app: &AppHandle,
    suggested: &str,
    extension: &str,
    bytes: Vec<u8>,
) -> Result<Option<String>, CommandError> {
    crate::dialogs::ensure_available().await?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog()
        .file()
        .set_title("Save")
        .set_file_name(suggested)
        .add_filter(extension.to_uppercase(), &[extension])
        .save_file(move |picked: Option<FilePath>| {
            let _ = tx.send(picked.and_then(|p| p.into_path().ok()));
        });
    let Some(path) = rx.await.ok().flatten() else {
        return Ok(None);
    };
    // Never over one of the open database's files: that would truncate
    // it under SQLite (and closing it drop SQLite's locks).
    let target = path.clone();
    tokio::task::spawn_blocking(move || countersign::store::guard::write(&target, bytes))
        .await
        .map_err(|e| CommandError::InvalidInput {
            field: "file",
            reason: e.to_string(),
        })?
        .map_err(|e| CommandError::InvalidInput {
            field: "file",
            reason: format!("cannot write {}: {e}", path.display()),
        })?;
    Ok(Some(path.display().to_string()))
}

/// Saves an image of the explorer's view (PNG as base64, or SVG text).
#[tauri::command]
pub async fn save_export(
    app: AppHandle,
    name: String,
    format: String,
    contents: String,
) -> Result<Option<String>, CommandError> {
    check_id("name", &name)?;
    let bytes = match format.as_str() {
        "png" => {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD
                .decode(contents.as_bytes())
                .map_err(|e| CommandError::InvalidInput {
                    field: "contents",
                    reason: e.to_string(),
                })?
        }
        "svg" => contents.into_bytes(),
        _ => {
            return Err(CommandError::InvalidInput {
                field: "format",
                reason: "png or svg".into(),
            });
        }
    };
    if bytes.len() > MAX_EXPORT_BYTES {
        return Err(CommandError::InvalidInput {
            field: "contents",
            reason: "larger than 64 MiB".into(),
        });
    }
    save_with_dialog(&app, &format!("{name}.{format}"), &format, bytes).await
}

/// Writes the drill handout (HTML) for a blast radius, made in the core.
#[tauri::command]
pub async fn save_handout(
    app: AppHandle,
    state: State<'_, AppState>,
    identity: String,
    actions: Vec<ContainmentAction>,
) -> Result<Option<String>, CommandError> {
    let targets = targets(&identity, &actions)?;
    let store = state.store()?;
    let graph = state.graphs.get(store).await?;
    let result = graph.blast(&targets)?;
    let today = jiff::ZonedDateTime::now().date().to_string();
    let html = countersign::export::handout_from_store(store, &result, &today).await?;
    save_with_dialog(
        &app,
        &format!("handout-{identity}.html"),
        "html",
        html.into_bytes(),
    )
    .await
}
