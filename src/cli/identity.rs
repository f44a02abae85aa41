//! `countersign login | whoami | logout`: the approver as the
//! organisation's OpenID Connect provider knows them. Signed in, the
//! approver's id is the provider's `sub` and their groups are the ID
//! token's; signed out, the local single-user mode (the OS user or
//! `--actor`, the `approver_groups` setting) stays, and says so. The
//! actions are the workspace's (`countersign::app::identity`), shared
//! with the desktop app; this module parses and prints.

use anyhow::{Result, bail};
use clap::Args;

use countersign::app::Workspace;
use countersign::oidc::{self, Person};

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

/// Takes up the signed-in person: for commands that sign as them
/// (`identified`: deciding, enrolling) refreshing the session if needed,
/// for the others as kept; `--actor` (or `COUNTERSIGN_ACTOR`), when given,
/// must be their `sub`.
pub async fn take_up(ws: &Workspace, actor_given: bool, identified: bool) -> Result<()> {
    // Team mode: the database role is who writes (the database refuses
    // anyone else as an audit row's author), so a different --actor is
    // refused here, before anything is attempted.
    if let Some(role) = ws.store()?.team_role()
        && actor_given
        && ws.local_ctx().actor != role
    {
        bail!(
            "--actor (or COUNTERSIGN_ACTOR) {:?} is refused in team mode: you write as your database role {role:?}; leave it out",
            ws.local_ctx().actor
        );
    }
    // Other commands take up the kept session as it is (no network), so
    // their audit rows name who signed in rather than the OS user.
    let person = if identified {
        ws.restore_session().await?
    } else {
        ws.restore_kept_session().await?
    };
    if let Some(person) = person
        && actor_given
        && ws.local_ctx().actor != person.sub
    {
        bail!(
            "--actor (or COUNTERSIGN_ACTOR) {:?} is not who is signed in ({}, sub {:?}): sign out first (`countersign logout`) or leave it out",
            ws.local_ctx().actor,
            person.name.as_deref().unwrap_or("?"),
            person.sub
        );
    }
    Ok(())
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

pub async fn login(ws: &Workspace, args: LoginArgs) -> Result<()> {
    let config = ws
        .provider_for(
            args.issuer.as_deref(),
            args.client_id.as_deref(),
            args.groups_claim.as_deref(),
        )
        .await?;
    // The token is asked for this installation's signing keys (its nonce
    // commits to them), so a backend enrolls them, and only them, for the
    // person signing in.
    if ws.keys(ws.store()?).commitment().await?.is_none() {
        eprintln!(
            "note: there is no signing key yet, so this sign-in binds none and cannot enroll one; to approve, stop here (Ctrl-C), run `countersign keys init`, then sign in"
        );
    }
    let person = if args.device {
        ws.sign_in_with_device(&config, |p| {
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
        ws.sign_in(&config, |url| {
            // The address is printed either way: a browser that does not
            // open (no desktop session, a remote shell) is not a dead end.
            eprintln!("To sign in, open this address in a browser on this machine:\n  {url}");
            if !no_browser && let Err(e) = countersign::app::identity::open_browser(url) {
                eprintln!("(could not open a browser: {e})");
            }
            eprintln!(
                "waiting up to {} minutes for you to sign in…",
                oidc::BROWSER_TIMEOUT.as_secs() / 60
            );
        })
        .await?
    };
    println!("signed in as {}", describe(&person));
    let who = ws.who().await?;
    let has_keys = ws.keys(ws.store()?).commitment().await?.is_some();
    if !has_keys {
        println!(
            "no signing key yet: this sign-in cannot enroll one; run `countersign keys init`, then `countersign login` again before `countersign backend enroll`"
        );
    } else if !who.keys_bound {
        println!(
            "this sign-in binds no signing key (the provider did not return the nonce from a device sign-in): to enroll keys with a backend, run `countersign login` without --device in a browser on this machine"
        );
    }
    Ok(())
}

pub async fn whoami(ws: &Workspace, json: bool) -> Result<()> {
    ws.restore_session().await?;
    let who = ws.who().await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&who)?);
        return Ok(());
    }
    if let Some(role) = &who.team_role {
        println!(
            "team mode: connected as the database role {role:?}, who writes and approves here"
        );
    }
    match &who.person {
        Some(p) => {
            println!("signed in as {}", describe(p));
            if p.sub != who.acting_as {
                println!(
                    "warning: you act here as {:?}, not as the signed-in person: your decisions carry no groups from the identity provider and enrolling is refused; sign in as {:?} or sign out",
                    who.acting_as, who.acting_as
                );
            }
            if !who.keys_bound {
                println!(
                    "the signing keys are not the ones this sign-in was for (created or rotated since, or a device sign-in): run `countersign login` again before enrolling them"
                );
            }
        }
        None => println!(
            "not signed in: {}, approving as {:?} with the approver_groups setting ({}); no identity provider vouches for it{}",
            if who.team_role.is_some() {
                "team mode"
            } else {
                "local single-user mode (the OS user or --actor)"
            },
            who.local_actor,
            if who.local_groups.is_empty() {
                "none".to_owned()
            } else {
                who.local_groups.join(", ")
            },
            match &who.issuer {
                Some(issuer) => format!(" — sign in with `countersign login` ({issuer})"),
                None => String::new(),
            }
        ),
    }
    Ok(())
}

pub async fn logout(ws: &Workspace) -> Result<()> {
    let had = ws.sign_out().await?;
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
