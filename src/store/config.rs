//! Which database to open when none is named: the per-user settings file
//! (`config.json` in the platform's config directory) may name a team
//! PostgreSQL server; its password, if it needs one, lives in the OS
//! keyring, never in the file. `--db` and `COUNTERSIGN_DB` come first.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{Store, StoreError, is_postgres_url, redact_url};
use crate::secrets::{SecretError, SecretStore};

/// Where the database named for this user came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// `--db` or `COUNTERSIGN_DB`.
    Explicit,
    /// The settings file.
    Settings,
    /// The SQLite file in the platform's data directory.
    Default,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// A `postgres://` URL (without its password) to open by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot find a config directory for this user (is HOME set?)")]
    NoConfigDir,
    #[error("{path}: {message}")]
    File { path: String, message: String },
    #[error(
        "{0} is not a postgres:// URL (a local file is opened with --db PATH or COUNTERSIGN_DB; the local default needs no setting)"
    )]
    NotPostgres(String),
    #[error(transparent)]
    Keyring(#[from] SecretError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub fn config_path() -> Result<PathBuf, ConfigError> {
    let dirs = directories::ProjectDirs::from("dev", "Countersign", "countersign")
        .ok_or(ConfigError::NoConfigDir)?;
    Ok(dirs.config_dir().join("config.json"))
}

/// The settings file; a missing file is the default settings. A damaged
/// one is an error naming the file and line, not silently ignored.
pub fn read_config() -> Result<Config, ConfigError> {
    let path = config_path()?;
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
        Err(e) => {
            return Err(ConfigError::File {
                path: path.display().to_string(),
                message: e.to_string(),
            });
        }
    };
    serde_json::from_str(&text).map_err(|e| ConfigError::File {
        path: path.display().to_string(),
        message: format!("line {}: {e}", e.line()),
    })
}

/// Writes the settings file whole (a temporary file renamed over it).
pub fn write_config(config: &Config) -> Result<PathBuf, ConfigError> {
    let path = config_path()?;
    let fail = |e: std::io::Error| ConfigError::File {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    let tmp = path.with_extension("json.tmp");
    let text = serde_json::to_string_pretty(config).expect("settings serialise");
    std::fs::write(&tmp, text + "\n").map_err(fail)?;
    std::fs::rename(&tmp, &path).map_err(fail)?;
    Ok(path)
}

/// The URL without any password: what the settings file and the keyring
/// entry's name hold.
pub fn without_password(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_password(None);
            u.to_string()
        }
        Err(_) => url.to_owned(),
    }
}

fn password_name(url: &str) -> String {
    format!("database-password:{}", without_password(url))
}

/// Saves the choice: a password goes to the keyring, the rest of the URL
/// to the settings file.
fn save_choice(
    url: Option<&str>,
    password: Option<&str>,
    secrets: &dyn SecretStore,
) -> Result<PathBuf, ConfigError> {
    let database = match url {
        None => None,
        Some(u) => {
            let embedded = reqwest::Url::parse(u)
                .ok()
                .and_then(|p| p.password().map(str::to_owned));
            if let Some(pw) = password.map(str::to_owned).or(embedded) {
                secrets.set(&password_name(u), &pw)?;
            }
            Some(without_password(u))
        }
    };
    write_config(&Config { database })
}

/// What choosing a database did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Chosen {
    pub settings_file: PathBuf,
    /// The server now named (without its password), and its schema
    /// version, checked by connecting; `None` for the local database.
    pub database: Option<(String, i64)>,
}

/// Makes `url` (a `postgres://` URL, with or without a password) the
/// database this user's CLI and app open by default, after checking it
/// opens: a URL that does not work is not saved. `None` goes back to the
/// local SQLite file.
pub async fn choose_database(
    url: Option<&str>,
    password: Option<Zeroizing<String>>,
    secrets: std::sync::Arc<dyn SecretStore>,
) -> Result<Chosen, ConfigError> {
    let database = match url {
        None => None,
        Some(u) if !is_postgres_url(u) => return Err(ConfigError::NotPostgres(redact_url(u))),
        Some(u) => {
            let store =
                Store::connect(&url_with(u, password.as_ref().map(|p| p.as_str()))?).await?;
            let version = store.schema_version().await?;
            store.close().await;
            Some((redact_url(&without_password(u)), version))
        }
    };
    let url = url.map(str::to_owned);
    let settings_file = tokio::task::spawn_blocking(move || {
        save_choice(
            url.as_deref(),
            password.as_ref().map(|p| p.as_str()),
            secrets.as_ref(),
        )
    })
    .await
    .map_err(|e| ConfigError::Keyring(SecretError::Refused(e.to_string())))??;
    Ok(Chosen {
        settings_file,
        database,
    })
}

/// The URL to connect with: the stored one plus its password from the
/// keyring, if it has one there (else libpq's `PGPASSWORD` still applies).
pub fn with_password(
    url: &str,
    secrets: &dyn SecretStore,
) -> Result<Zeroizing<String>, ConfigError> {
    // A keyring that cannot be reached is not fatal here: the server may
    // not need a password, or PGPASSWORD may hold it; if it does need one,
    // the connection error says so.
    let password = secrets.get(&password_name(url)).ok().flatten();
    url_with(url, password.as_ref().map(|p| p.as_str()))
}

/// `url` with `password` put in it (for a connection; never stored).
pub fn url_with(url: &str, password: Option<&str>) -> Result<Zeroizing<String>, ConfigError> {
    let Some(password) = password else {
        return Ok(Zeroizing::new(url.to_owned()));
    };
    let mut parsed =
        reqwest::Url::parse(url).map_err(|_| ConfigError::NotPostgres(redact_url(url)))?;
    let _ = parsed.set_password(Some(password));
    Ok(Zeroizing::new(parsed.to_string()))
}

/// Opens the database this user means: `explicit` (`--db` or
/// `COUNTERSIGN_DB`) if given, else the one the settings file names, else
/// the local default. Keyring reads block, so this runs them on a blocking
/// thread.
pub async fn open_configured(
    explicit: Option<String>,
    secrets: std::sync::Arc<dyn SecretStore>,
) -> Result<(Store, Source), ConfigError> {
    if let Some(target) = explicit {
        return Ok((Store::connect(&target).await?, Source::Explicit));
    }
    match read_config()?.database {
        Some(url) => {
            let full = tokio::task::spawn_blocking(move || with_password(&url, secrets.as_ref()))
                .await
                .map_err(|e| ConfigError::Keyring(SecretError::Refused(e.to_string())))??;
            Ok((Store::connect(&full).await?, Source::Settings))
        }
        None => Ok((Store::open_default().await?, Source::Default)),
    }
}
