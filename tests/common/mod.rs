//! Helpers shared by the integration tests. Each test file compiles its
//! own copy and uses only some of them.
#![allow(dead_code)]

pub mod approver;
pub mod oidc;

use assert_cmd::Command;
use std::path::Path;

/// What a command printed, once it succeeded (its stderr otherwise).
pub fn stdout(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// What a command printed, read as JSON (`--json`).
pub fn stdout_json(cmd: &mut Command) -> serde_json::Value {
    serde_json::from_str(&stdout(cmd)).unwrap()
}

/// The `countersign` binary on `db`, as the user "tester", ignoring any
/// database named in the environment.
pub fn countersign(db: &Path) -> Command {
    countersign_as("tester", db)
}

/// The `countersign` binary on `db`, as `actor`.
pub fn countersign_as(actor: &str, db: &Path) -> Command {
    let mut cmd = Command::cargo_bin("countersign").unwrap();
    cmd.env_remove("COUNTERSIGN_DB")
        .env("COUNTERSIGN_ACTOR", actor)
        .arg("--db")
        .arg(db);
    cmd
}

/// The URL a `backend serve` child prints first on stdout ("listening on
/// URL (audience …)"); `None` when it ended without one (it refused to
/// start: its stderr says why).
pub fn listening_url(child: &mut std::process::Child) -> Option<String> {
    use std::io::BufRead;
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take()?)
        .read_line(&mut line)
        .ok()?;
    line.strip_prefix("listening on ")?
        .split_whitespace()
        .next()
        .map(str::to_owned)
}

/// `countersign backend serve` as its own process on a free loopback port;
/// killed when dropped.
pub struct ServedBackend {
    child: std::process::Child,
    pub url: String,
}

impl ServedBackend {
    pub fn start(args: &[&str], env: &[(&str, &str)]) -> ServedBackend {
        ServedBackend::start_on("127.0.0.1:0", args, env)
    }

    /// [`ServedBackend::start`] listening on `listen` (a restart on the
    /// port a client already knows).
    pub fn start_on(listen: &str, args: &[&str], env: &[(&str, &str)]) -> ServedBackend {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_countersign"))
            .env_remove("COUNTERSIGN_BACKEND_TOKEN")
            .envs(env.iter().copied())
            .args(["backend", "serve", "--listen", listen])
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let url = listening_url(&mut child).expect("backend serve printed where it listens");
        ServedBackend { child, url }
    }
}

impl ServedBackend {
    /// Stops the process (SIGSTOP): connections are still accepted by the
    /// kernel, but nothing is answered until [`ServedBackend::resume`].
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, which: &str) {
        let ok = std::process::Command::new("kill")
            .args([which, &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill {which}");
    }
}

impl Drop for ServedBackend {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where the PostgreSQL the tests use listens (`scripts/test` starts a
/// throwaway server on loopback and sets this to its admin URL).
pub const POSTGRES_ENV: &str = "COUNTERSIGN_TEST_POSTGRES";

/// A fresh, empty database on one engine, for tests that must pass on both.
pub enum TestDb {
    Sqlite(tempfile::TempDir),
    Postgres { url: String },
}

impl TestDb {
    pub fn sqlite() -> TestDb {
        TestDb::Sqlite(tempfile::tempdir().unwrap())
    }

    /// A new database on the test server, named uniquely so tests run in
    /// parallel without seeing each other's rows.
    pub async fn postgres() -> TestDb {
        use sqlx::{Connection as _, Executor as _};
        let admin = std::env::var(POSTGRES_ENV).unwrap_or_else(|_| {
            panic!(
                "{POSTGRES_ENV} is not set: the PostgreSQL half of the store tests needs a server \
                 (scripts/test starts one on loopback; or point it at postgres://user@host:port/postgres)"
            )
        });
        sqlx::any::install_default_drivers();
        let name = format!("cs_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::AnyConnection::connect(&admin).await.unwrap();
        conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .unwrap();
        conn.close().await.unwrap();
        let mut url = reqwest::Url::parse(&admin).unwrap();
        url.set_path(&name);
        TestDb::Postgres {
            url: url.to_string(),
        }
    }

    /// Another new, empty database on the same engine.
    pub async fn fresh(&self) -> TestDb {
        match self {
            TestDb::Sqlite(_) => TestDb::sqlite(),
            TestDb::Postgres { .. } => TestDb::postgres().await,
        }
    }

    /// What `--db` and `Store::connect` take.
    pub fn target(&self) -> String {
        match self {
            TestDb::Sqlite(dir) => dir.path().join("inv.db").display().to_string(),
            TestDb::Postgres { url } => url.clone(),
        }
    }

    pub async fn open(&self) -> countersign::Store {
        countersign::Store::connect(&self.target()).await.unwrap()
    }

    /// Runs SQL behind the store's back, the way an insider with the
    /// engine's own client would.
    /// Runs `sql` as Countersign's own connections may (the write triggers
    /// of migrations/*/0005 let it through): what a test that plants bad
    /// data needs. In this process SQLite's connections already carry the
    /// function the triggers check; PostgreSQL's need the session setting.
    pub async fn execute(&self, sql: &'static str) -> Result<(), sqlx::Error> {
        use sqlx::{Connection as _, Executor as _};
        sqlx::any::install_default_drivers();
        let url = match self {
            TestDb::Sqlite(_) => format!("sqlite://{}", self.target()),
            TestDb::Postgres { url } => url.clone(),
        };
        let mut conn = sqlx::AnyConnection::connect(&url).await?;
        if let TestDb::Postgres { .. } = self {
            conn.execute("SET countersign.write_is_audited = 'on'")
                .await?;
        }
        conn.execute(sql).await?;
        conn.close().await
    }
}

/// Runs each named `async fn(TestDb)` twice: on a SQLite file and on the
/// test PostgreSQL server.
#[macro_export]
macro_rules! on_both_engines {
    ($($test:ident),* $(,)?) => {$(
        mod $test {
            #[tokio::test]
            async fn sqlite() {
                super::$test(super::common::TestDb::sqlite()).await
            }
            #[tokio::test]
            async fn postgres() {
                super::$test(super::common::TestDb::postgres().await).await
            }
        }
    )*};
}

/// Gives `actor` a signing key (kept in memory) in `store`, and records
/// their signed denial of the example request (as `request_id`, for a
/// backend at https://soar.test, queued for delivery there): a database
/// that uses the key, decision and outbox tables.
pub async fn sign_a_denial(store: &countersign::Store, actor: &str, request_id: &str) {
    use countersign::approval::{Decision, DecisionInput};
    let ctx = countersign::store::ChangeContext::new(actor, "test");
    let keys = countersign::signing::Keys::new(
        store,
        std::sync::Arc::new(countersign::signing::MemorySecrets::default()),
    );
    keys.init(&ctx).await.unwrap();
    let mut request: serde_json::Value = serde_json::from_str(include_str!(
        "../../assets/examples/containment-request.json"
    ))
    .unwrap();
    request["id"] = request_id.into();
    countersign::approval::decide(
        store,
        &keys,
        DecisionInput {
            request: &request,
            decision: Decision::Deny,
            reason: "not with six consumers",
            audience: "https://soar.test",
            destination: Some("https://soar.test"),
            inventory_version: None,
        },
        &ctx,
    )
    .await
    .unwrap();
}

/// The example containment request (assets/examples) as `id`, of `tier`,
/// asked by `requester`, created a minute ago and expiring in 30 minutes:
/// valid whenever the test runs.
pub fn live_request(id: &str, tier: &str, requester: &str) -> serde_json::Value {
    let mut r: serde_json::Value = serde_json::from_str(include_str!(
        "../../assets/examples/containment-request.json"
    ))
    .unwrap();
    let now = jiff::Timestamp::now();
    r["id"] = id.into();
    r["tier"] = tier.into();
    r["requested_by"]["id"] = requester.into();
    r["created_at"] = (now - jiff::SignedDuration::from_secs(60))
        .to_string()
        .into();
    r["expires_at"] = (now + jiff::SignedDuration::from_secs(1800))
        .to_string()
        .into();
    r
}
