//! Harness for the end-to-end tests: starts `tauri-driver` (which starts
//! WebKitWebDriver, which starts the real `countersign-desktop` binary) and
//! hands back a WebDriver client. Run under Xvfb and a private D-Bus session
//! (`scripts/test` does both).

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long to wait for the app to show something before failing.
pub const UI_TIMEOUT: Duration = Duration::from_secs(20);

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// `target/e2e`, where screenshots go for a person to look at.
pub fn artifacts_dir() -> PathBuf {
    let dir = workspace_root().join("target/e2e");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn app_binary() -> PathBuf {
    let path = std::env::var_os("COUNTERSIGN_DESKTOP_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target/debug/countersign-desktop"));
    assert!(
        path.is_file(),
        "desktop binary {} not found: build it first (scripts/test does), or set COUNTERSIGN_DESKTOP_BIN",
        path.display()
    );
    path
}

fn tauri_driver() -> PathBuf {
    if let Some(p) = std::env::var_os("TAURI_DRIVER") {
        return PathBuf::from(p);
    }
    let cargo_bin = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .map(|h| h.join("bin/tauri-driver"));
    match cargo_bin {
        Some(p) if p.is_file() => p,
        _ => PathBuf::from("tauri-driver"),
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running app with a WebDriver session; dropping it stops the driver
/// (and with it WebKitWebDriver and the app).
pub struct AppSession {
    pub client: Client,
    driver: Driver,
}

/// tauri-driver in a process group of its own, with the WebKitWebDriver
/// and the app it starts: dropped (a test that passed, failed or panicked
/// while starting), the whole group is killed, so nothing is left holding
/// the test command's output open.
struct Driver(Child);

impl Driver {
    fn stop(&mut self) {
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.stop();
    }
}

impl AppSession {
    /// Starts the desktop app on the database at `db`.
    pub async fn start(db: &Path) -> AppSession {
        Self::start_with_env(db, &[]).await
    }

    /// Starts the app with extra environment (the backend to poll, say).
    pub async fn start_with_env(db: &Path, env: &[(&str, &str)]) -> AppSession {
        Self::start_on(Some(db), env).await
    }

    /// Starts the app on its default database, as a person opens it from
    /// the desktop: no `COUNTERSIGN_DB`, so the app finds it under the
    /// `XDG_DATA_HOME` that `env` gives.
    pub async fn start_on_default_database(env: &[(&str, &str)]) -> AppSession {
        Self::start_on(None, env).await
    }

    async fn start_on(db: Option<&Path>, env: &[(&str, &str)]) -> AppSession {
        assert!(
            std::env::var_os("DISPLAY").is_some(),
            "no DISPLAY: run the end-to-end tests under Xvfb (scripts/test does)"
        );
        let port = free_port();
        let native_port = free_port();
        use std::os::unix::process::CommandExt as _;
        let mut driver = Command::new(tauri_driver());
        driver.args([
            "--port",
            &port.to_string(),
            "--native-port",
            &native_port.to_string(),
        ]);
        match db {
            Some(db) => driver.env("COUNTERSIGN_DB", db),
            None => driver.env_remove("COUNTERSIGN_DB"),
        };
        let mut driver = driver
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .process_group(0)
            .spawn()
            .map(Driver)
            .expect(
                "cannot start tauri-driver: install it with `cargo install tauri-driver --locked`",
            );
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + UI_TIMEOUT;
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if let Some(status) = driver.0.try_wait().unwrap() {
                panic!("tauri-driver exited early with {status}");
            }
            assert!(
                Instant::now() < deadline,
                "tauri-driver did not listen on {addr}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        // tauri-driver answers before the WebKitWebDriver it starts
        // listens (on the native port); a session asked for in between is
        // cut off (IncompleteMessage). Wait for both, and ask again if the
        // first request still races it.
        let native = SocketAddr::from(([127, 0, 0, 1], native_port));
        while TcpStream::connect_timeout(&native, Duration::from_millis(200)).is_err() {
            if let Some(status) = driver.0.try_wait().unwrap() {
                panic!("tauri-driver exited early with {status}");
            }
            if Instant::now() >= deadline {
                // Older tauri-driver starts the native driver per session.
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), "wry".into());
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": app_binary() }),
        );
        let mut attempt = 0;
        let client = loop {
            attempt += 1;
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&format!("http://{addr}"))
                .await
            {
                Ok(client) => break client,
                Err(e @ fantoccini::error::NewSessionError::FailedC(_)) if attempt < 3 => {
                    eprintln!("WebDriver session not made ({e}); asking again");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err(e) => panic!("WebDriver session with the desktop app: {e:?}"),
            }
        };
        AppSession { client, driver }
    }

    /// Waits for an element; the UI loads asynchronously over IPC.
    pub async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(UI_TIMEOUT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css} did not appear: {e}"))
    }

    /// Scrolls an element into the middle of its scroll container and clicks
    /// it, as a person would (WebKitWebDriver does not scroll nested panes).
    pub async fn click(&self, css: &str) {
        let el = self.wait_for(css).await;
        let arg = serde_json::to_value(&el).expect("element serialises");
        self.client
            .execute("arguments[0].scrollIntoView({block: 'center'});", vec![arg])
            .await
            .expect("scroll into view");
        el.click()
            .await
            .unwrap_or_else(|e| panic!("cannot click {css}: {e}"));
    }

    /// Waits until the element's text contains `expected`.
    pub async fn wait_for_text_containing(&self, css: &str, expected: &str) {
        let deadline = Instant::now() + UI_TIMEOUT;
        let mut last = String::new();
        while Instant::now() < deadline {
            if let Ok(el) = self.client.find(Locator::Css(css)).await {
                last = el.text().await.unwrap_or_default();
                if last.contains(expected) {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css} shows {last:?}, expected it to contain {expected:?}");
    }

    /// Waits until no element matches `css` (a notice that goes once its
    /// work is done, say), so a click after it lands on a settled page.
    pub async fn wait_gone(&self, css: &str) {
        let deadline = Instant::now() + UI_TIMEOUT;
        while self.client.find(Locator::Css(css)).await.is_ok() {
            assert!(Instant::now() < deadline, "{css} is still shown");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the element's attribute `name` equals `expected`.
    pub async fn wait_for_attr(&self, css: &str, name: &str, expected: &str) {
        let deadline = Instant::now() + UI_TIMEOUT;
        let mut last = None;
        while Instant::now() < deadline {
            if let Ok(el) = self.client.find(Locator::Css(css)).await {
                last = el.attr(name).await.unwrap_or_default();
                if last.as_deref() == Some(expected) {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css} has {name}={last:?}, expected {expected:?}");
    }

    /// Waits until the element's text equals `expected`.
    pub async fn wait_for_text(&self, css: &str, expected: &str) {
        let deadline = Instant::now() + UI_TIMEOUT;
        let mut last = String::new();
        while Instant::now() < deadline {
            if let Ok(el) = self.client.find(Locator::Css(css)).await {
                last = el.text().await.unwrap_or_default();
                if last.trim() == expected {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css} shows {last:?}, expected {expected:?}");
    }

    /// Saves a PNG of the window under `target/e2e/` and returns its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        // What was just waited for is in the DOM; let WebKit paint it
        // before the picture (without this, pictures showed the frame
        // before). Two animation frames, then a short rest.
        let _ = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];\
                 requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(done, 50)));",
                vec![],
            )
            .await;
        let png = self.client.screenshot().await.expect("screenshot");
        assert!(png.starts_with(b"\x89PNG"), "WebDriver returned no PNG");
        let path = artifacts_dir().join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        self.driver.stop();
    }
}

/// Pixels of a screenshot, to check that a canvas really drew something.
pub struct Screenshot {
    pub width: u32,
    pub height: u32,
    rgba: Vec<u8>,
}

impl Screenshot {
    pub fn decode(png_bytes: &[u8]) -> Screenshot {
        let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
        let mut reader = decoder.read_info().expect("a PNG");
        let mut buf = vec![0; reader.output_buffer_size().expect("PNG size")];
        let info = reader.next_frame(&mut buf).expect("PNG frame");
        let channels = info.color_type.samples();
        let rgba = buf[..info.buffer_size()]
            .chunks(channels)
            .flat_map(|p| [p[0], p[1], p[2], if channels == 4 { p[3] } else { 255 }])
            .collect();
        Screenshot {
            width: info.width,
            height: info.height,
            rgba,
        }
    }

    pub fn pixel(&self, x: u32, y: u32) -> [u8; 4] {
        let i = ((y * self.width + x) * 4) as usize;
        [
            self.rgba[i],
            self.rgba[i + 1],
            self.rgba[i + 2],
            self.rgba[i + 3],
        ]
    }

    /// Distinct colours in a rectangle, sampled every `step` pixels.
    pub fn colours_in(&self, x: u32, y: u32, w: u32, h: u32, step: u32) -> Vec<[u8; 4]> {
        let mut seen: Vec<[u8; 4]> = Vec::new();
        for yy in (y..(y + h).min(self.height)).step_by(step as usize) {
            for xx in (x..(x + w).min(self.width)).step_by(step as usize) {
                let p = self.pixel(xx, yy);
                if !seen.contains(&p) {
                    seen.push(p);
                }
            }
        }
        seen
    }
}

impl AppSession {
    /// The window as pixels.
    pub async fn pixels(&self) -> Screenshot {
        Screenshot::decode(&self.client.screenshot().await.expect("screenshot"))
    }

    /// Waits until the element's rectangle (inset by `inset` pixels) shows
    /// at least `min` distinct colours (sampled every 3 pixels): drawn, not
    /// blank. Screenshots are taken until then, so a slow renderer is waited
    /// for rather than guessed at with a sleep. Returns the colours seen.
    pub async fn wait_for_drawn(&self, css: &str, inset: u32, min: usize) -> Vec<[u8; 4]> {
        let deadline = Instant::now() + UI_TIMEOUT;
        loop {
            let (x, y, w, h) = self.rect_of(css).await;
            let colours = self.pixels().await.colours_in(
                x + inset,
                y + inset,
                w.saturating_sub(2 * inset),
                h.saturating_sub(2 * inset),
                3,
            );
            if colours.len() >= min {
                return colours;
            }
            assert!(
                Instant::now() < deadline,
                "{css} still looks blank: {} colours",
                colours.len()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// An element's rectangle in CSS pixels (the screenshot's too).
    pub async fn rect_of(&self, css: &str) -> (u32, u32, u32, u32) {
        let el = self.wait_for(css).await;
        let (x, y, w, h) = el.rectangle().await.expect("element rectangle");
        (x as u32, y as u32, w as u32, h as u32)
    }
}

/// A file dialog the app opened through the XDG desktop portal. It is a
/// window of `xdg-desktop-portal-gtk`, not of the app, so WebDriver cannot
/// reach it: it is driven with `xdotool` on the same X display, as a person
/// types into it.
pub struct PortalDialog {
    window: String,
}

fn xdotool(args: &[&str]) -> String {
    let out = Command::new("xdotool")
        .args(args)
        .output()
        .expect("xdotool (Debian package xdotool) runs");
    assert!(
        out.status.success(),
        "xdotool {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

impl PortalDialog {
    /// Waits for the portal's dialog titled `title` to be shown.
    pub async fn wait(title: &str) -> PortalDialog {
        let deadline = Instant::now() + UI_TIMEOUT;
        loop {
            let found = Command::new("xdotool")
                .args(["search", "--onlyvisible", "--name", title])
                .output()
                .expect("xdotool (Debian package xdotool) runs");
            let ids = String::from_utf8_lossy(&found.stdout);
            if let Some(window) = ids.lines().last().filter(|w| !w.is_empty()) {
                let dialog = PortalDialog {
                    window: window.to_owned(),
                };
                // Let GTK finish mapping it before typing.
                tokio::time::sleep(Duration::from_millis(500)).await;
                return dialog;
            }
            assert!(
                Instant::now() < deadline,
                "no portal dialog titled {title:?} appeared (is xdg-desktop-portal-gtk installed?)"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    fn focus(&self) {
        // Xvfb has no window manager: set the input focus directly.
        xdotool(&["windowfocus", "--sync", &self.window]);
    }

    /// Types `location` into the chooser's location bar (Ctrl+L), replacing
    /// what is there. A folder's path ending in `/` shows that folder.
    pub async fn type_location(&self, location: &str) {
        self.focus();
        xdotool(&["key", "--clearmodifiers", "ctrl+l"]);
        tokio::time::sleep(Duration::from_millis(300)).await;
        xdotool(&["key", "--clearmodifiers", "ctrl+a"]);
        xdotool(&["type", "--delay", "20", location]);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    /// Presses `key` (an xdotool key name such as `BackSpace`).
    pub async fn key(&self, key: &str) {
        self.focus();
        xdotool(&["key", "--clearmodifiers", key]);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    /// Presses Enter: the chooser accepts what the location bar names.
    pub async fn press_enter(&self) {
        self.focus();
        xdotool(&["key", "Return"]);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    /// A screenshot of the whole X display (the dialog is not in the
    /// app's WebDriver screenshots), under `target/e2e/`.
    pub fn screenshot_display(name: &str) -> PathBuf {
        let path = artifacts_dir().join(format!("{name}.png"));
        let status = Command::new("import")
            .args(["-window", "root"])
            .arg(&path)
            .status()
            .expect("import (Debian package imagemagick) runs");
        assert!(status.success(), "import -window root failed");
        path
    }

    /// Whether the dialog is still shown.
    pub fn is_open(&self) -> bool {
        Command::new("xdotool")
            .args(["search", "--onlyvisible", "--name", "."])
            .output()
            .map(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .any(|l| l == self.window)
            })
            .unwrap_or(false)
    }
}

/// The test OpenID provider and the person at its browser, shared with
/// the core's tests.
#[path = "../../common/oidc.rs"]
pub mod oidc;

/// The reference backend (the SOAR side), served in this process on a
/// free loopback port with bearer token `token`; returns its URL.
pub async fn start_reference_backend(token: &str) -> String {
    start_reference_backend_trusting(token, None).await
}

/// [`start_reference_backend`] trusting `identity` to say who approvers
/// are (enrollment needs their ID token).
pub async fn start_reference_backend_trusting(
    token: &str,
    identity: Option<countersign::backend::IdentityProvider>,
) -> String {
    use countersign::backend::{self, ServeConfig};
    let (tx, rx) = tokio::sync::oneshot::channel();
    let config = ServeConfig {
        identity,
        ..ServeConfig::new("127.0.0.1:0", token)
    };
    tokio::spawn(async move {
        // Serves until the test process ends.
        backend::serve(
            config,
            move |_, audience| {
                let _ = tx.send(audience.to_owned());
            },
            std::future::pending(),
        )
        .await
        .unwrap();
    });
    rx.await.unwrap()
}

/// The `countersign` CLI built beside the app (`target/debug/countersign`,
/// or `COUNTERSIGN_BIN`), on database `db`.
pub fn cli(db: &Path) -> Command {
    let path = std::env::var_os("COUNTERSIGN_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target/debug/countersign"));
    assert!(
        path.is_file(),
        "CLI binary {} not found: build it first (scripts/test does), or set COUNTERSIGN_BIN",
        path.display()
    );
    let mut cmd = Command::new(path);
    cmd.env_remove("COUNTERSIGN_DB").arg("--db").arg(db);
    cmd
}

/// The example containment request (`assets/examples/`) as request `id`,
/// created now and expiring in an hour, so it is live on any date.
pub fn live_request(id: &str) -> serde_json::Value {
    let mut request: serde_json::Value = serde_json::from_str(include_str!(
        "../../../assets/examples/containment-request.json"
    ))
    .unwrap();
    let now = jiff::Timestamp::now();
    request["id"] = id.into();
    request["created_at"] = now.to_string().into();
    request["expires_at"] = (now + Duration::from_secs(3600)).to_string().into();
    request
}

impl AppSession {
    /// With a verdict chosen in the open request: writes the reason, signs,
    /// confirms, and waits until the backend accepted the decision.
    pub async fn sign_and_confirm(&self, reason: &str) {
        self.wait_for("[data-testid=reason]")
            .await
            .send_keys(reason)
            .await
            .unwrap();
        self.click("[data-testid=sign]").await;
        self.click("[data-testid=confirm-sign]").await;
        self.wait_for_text_containing("[data-testid=delivery-state]", "Delivered and accepted")
            .await;
    }
}
