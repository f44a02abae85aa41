//! `countersign login | whoami | logout`: the approver as the
//! organisation's OpenID Connect provider knows them. Signed in, the
//! approver's id is the provider's `sub` and their groups are the ID
//! token's; signed out, the local single-user mode (the OS user, the
//! `approver_groups` setting) stays, and says so.

use anyhow::{Context, Result, bail};
use clap::Args;

use countersign::oidc::{self, Person, ProviderConfig, Session};
use countersign::secrets::OsKeyring;
use countersign::store::{ChangeContext, Store};

/// The store setting naming the provider (JSON `ProviderConfig`).
pub const PROVIDER_KEY: &str = "oidc_provider";

#[derive(Args, Debug)]
pub struct LoginArgs {
    /// The provider's issuer URL (its discovery document is at
    /// ISSUER/.well-known/openid-configuration); kept for the next time
    #[arg(long)]
    pub issuer: Option<String>,
    /// This installation's client id at the provider (a public client)
    #[arg(long)]
    pub client_id: Option<String>,
    /// The ID token claim holding the person's groups
    #[arg(long)]
    pub groups_claim: Option<String>,
    /// Print the sign-in address instead of opening the browser (open it
    /// in a browser on this machine: the redirect comes back to loopback)
    #[arg(long)]
    pub no_browser: bool,
    /// Sign in with a code on another device (RFC 8628) instead of a
    /// browser on this machine. Most providers bind no signing key to such
    /// a sign-in, so a backend that checks the binding refuses enrollment
    #[arg(long, conflicts_with = "no_browser")]
    pub device: bool,
}

/// The provider configured in the store, if any.
pub async fn provider(store: &Store) -> Result<Option<ProviderConfig>> {
    Ok(match store.setting(PROVIDER_KEY).await? {
        Some(json) => Some(serde_json::from_str(&json).context("the oidc_provider setting")?),
        None => None,
    })
}

async fn keyring<T: Send + 'static>(
    f: impl FnOnce(&OsKeyring) -> Result<T, countersign::secrets::SecretError> + Send + 'static,
) -> Result<T> {
    Ok(tokio::task::spawn_blocking(move || f(&OsKeyring))
        .await
        .context("keyring thread failed")??)
}

/// The signed-in person and a fresh session (refreshed and kept again
/// when its ID token was about to expire); `None` when nobody is signed in.
pub async fn signed_in() -> Result<Option<(Person, Session)>> {
    // No keyring, no session: nobody can be signed in (the local mode).
    let kept = tokio::task::spawn_blocking(|| oidc::load(&OsKeyring))
        .await
        .context("keyring thread failed")?;
    let session = match kept {
        Ok(Some(session)) => session,
        Ok(None) | Err(countersign::secrets::SecretError::Unavailable(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let (person, fresh) = oidc::refreshed(&session).await?;
    if fresh.id_token != session.id_token {
        let keep = fresh.clone();
        keyring(move |k| oidc::save(k, &keep)).await?;
    }
    Ok(Some((person, fresh)))
}

/// Who acts: `--actor` when given (refused when it is not the signed-in
/// person), else the signed-in person when `identified` commands need
/// one, else the OS user.
pub async fn context(actor: Option<String>, identified: bool) -> Result<ChangeContext> {
    let person = if identified {
        signed_in().await?.map(|(p, _)| p)
    } else {
        None
    };
    match (actor, person) {
        (Some(actor), Some(p)) if actor != p.sub => bail!(
            "--actor {actor:?} is not who is signed in ({}, sub {:?}): sign out first (`countersign logout`) or leave --actor out",
            p.name.as_deref().unwrap_or("?"),
            p.sub
        ),
        (_, Some(p)) => Ok(ChangeContext::signed_in(p.sub, p.groups, "cli")),
        (Some(actor), None) => Ok(ChangeContext::new(actor, "cli")),
        (None, None) => Ok(ChangeContext::local_user("cli")),
    }
}

fn describe(person: &Person) -> String {
    format!(
        "{} (sub {:?} at {}){}",
        person.name.as_deref().unwrap_or("(no name)"),
        person.sub,
        person.issuer,
        if person.groups.is_empty() {
            ", no groups".to_owned()
        } else {
            format!(", groups: {}", person.groups.join(", "))
        }
    )
}

pub async fn login(store: &Store, ctx: &ChangeContext, args: LoginArgs) -> Result<()> {
    let kept = provider(store).await?;
    let mut config = match (&args.issuer, kept) {
        (Some(issuer), kept) => {
            let mut c = ProviderConfig::new(issuer, "countersign");
            if let Some(k) = kept.filter(|k| k.issuer == c.issuer) {
                c = k;
            }
            c
        }
        (None, Some(kept)) => kept,
        (None, None) => bail!(
            "no identity provider is configured: give its issuer URL, `countersign login --issuer https://login.example.com`"
        ),
    };
    if let Some(id) = args.client_id {
        config.client_id = id;
    }
    if let Some(claim) = args.groups_claim {
        config.groups_claim = claim;
    }
    // The token is asked for this installation's signing keys (its nonce
    // commits to them), so a backend enrolls them, and only them, for the
    // person signing in.
    let keys = countersign::signing::Keys::new(store, std::sync::Arc::new(OsKeyring));
    let commitment = keys.commitment().await?;
    let (person, session) = if args.device {
        oidc::device_login(&config, commitment.as_deref(), |p| {
            eprintln!(
                "To sign in, open {} and enter the code {}",
                p.verification_uri, p.user_code
            );
            if let Some(complete) = &p.verification_uri_complete {
                eprintln!("  (or open {complete})");
            }
            eprintln!("waiting for you to sign in…");
        })
        .await?
    } else {
        let no_browser = args.no_browser;
        oidc::loopback_login(
            &config,
            commitment.as_deref(),
            oidc::BROWSER_TIMEOUT,
            |url| {
                // The address is printed either way: a browser that does not
                // open (no desktop session, a remote shell) is not a dead end.
                eprintln!("To sign in, open this address in a browser on this machine:\n  {url}");
                if !no_browser && let Err(e) = open::that_detached(url) {
                    eprintln!("(could not open a browser: {e})");
                }
                eprintln!(
                    "waiting up to {} minutes for you to sign in…",
                    oidc::BROWSER_TIMEOUT.as_secs() / 60
                );
            },
        )
        .await?
    };
    let bound = commitment.is_some() && oidc::nonce_of(&session.id_token) == commitment;
    keyring(move |k| oidc::save(k, &session)).await?;
    let json = serde_json::to_string(&config).expect("a provider config serialises");
    if store.setting(PROVIDER_KEY).await?.as_deref() != Some(json.as_str()) {
        store.set_setting(PROVIDER_KEY, &json, ctx).await?;
    }
    println!("signed in as {}", describe(&person));
    if commitment.is_some() && !bound {
        println!(
            "this sign-in binds no signing key (the provider did not return the nonce from a device sign-in): to enroll keys with a backend, run `countersign login` without --device in a browser on this machine"
        );
    }
    if commitment.is_none() {
        println!(
            "no signing key yet: this sign-in cannot enroll one; run `countersign keys init`, then `countersign login` again before `countersign backend enroll`"
        );
    }
    Ok(())
}

pub async fn whoami(store: &Store, json: bool) -> Result<()> {
    let person = signed_in().await?.map(|(p, _)| p);
    if json {
        println!("{}", serde_json::to_string_pretty(&person)?);
        return Ok(());
    }
    match person {
        Some(p) => println!("signed in as {}", describe(&p)),
        None => {
            let local = ChangeContext::local_user("cli");
            let groups = store.approver_groups().await?;
            println!(
                "not signed in: local single-user mode, approving as {:?} (the OS user) with the approver_groups setting ({}); no identity provider vouches for it{}",
                local.actor,
                if groups.is_empty() {
                    "none".to_owned()
                } else {
                    groups.join(", ")
                },
                match provider(store).await? {
                    Some(c) => format!(" — sign in with `countersign login` ({})", c.issuer),
                    None => String::new(),
                }
            );
        }
    }
    Ok(())
}

pub async fn logout() -> Result<()> {
    let had = keyring(|k| oidc::load(k)).await?.is_some();
    keyring(|k| oidc::forget(k)).await?;
    println!(
        "{}",
        if had {
            "signed out: the session's tokens are gone from the keyring"
        } else {
            "nobody was signed in"
        }
    );
    Ok(())
}
