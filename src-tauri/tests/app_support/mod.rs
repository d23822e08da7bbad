//! What the app's end-to-end stories share: the tools they need (Xvfb,
//! tauri-driver, WebKitWebDriver), the app launched under them with a home
//! of its own ([`App`]), and a minimal W3C WebDriver client ([`Driver`]).
//! Each story is its own test binary and uses its own part.

#![allow(dead_code)]

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use base64::Engine;
use gridwork_core::model::{Role, User};
use gridwork_core::validate::id_check_character;
use gridwork_tests::community;
use serde_json::{Value, json};

/// How long any one wait for the app may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(30);

/// A child process killed (and reaped) when the test ends, however it ends.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn wait_until(what: &str, mut ready: impl FnMut() -> bool) -> Result<()> {
    let start = Instant::now();
    while start.elapsed() < WAIT {
        if ready() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!("{what} not ready after {WAIT:?}")
}

/// Starts Xvfb on a display nobody uses.
fn start_xvfb() -> Result<(Reaped, String)> {
    let n = (90..400)
        .find(|n| {
            !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
                && !Path::new(&format!("/tmp/.X{n}-lock")).exists()
        })
        .context("no free X display")?;
    let child = Command::new("Xvfb")
        .arg(format!(":{n}"))
        .args(["-screen", "0", "1280x800x24", "-nolisten", "tcp"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("start Xvfb (apt-get install xvfb)")?;
    let xvfb = Reaped(child);
    let socket = format!("/tmp/.X11-unix/X{n}");
    wait_until("Xvfb", || Path::new(&socket).exists())?;
    Ok((xvfb, format!(":{n}")))
}

/// `name` on the PATH, if it is there.
fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

fn tauri_driver_binary() -> Option<PathBuf> {
    on_path("tauri-driver").or_else(|| {
        std::env::var_os("HOME")
            .map(|home| PathBuf::from(home).join(".cargo/bin/tauri-driver"))
            .filter(|p| p.is_file())
    })
}

/// Fails, naming what is missing and how to get it, when a tool the story
/// needs is not installed: a machine without them must not pass by
/// skipping the app.
fn require_tools() -> Result<PathBuf> {
    let mut missing = Vec::new();
    if on_path("Xvfb").is_none() {
        missing.push("Xvfb (apt-get install xvfb xauth)");
    }
    if on_path("WebKitWebDriver").is_none() {
        missing.push("WebKitWebDriver (apt-get install webkit2gtk-driver)");
    }
    let driver = tauri_driver_binary();
    if driver.is_none() {
        missing.push("tauri-driver (cargo install tauri-driver --locked)");
    }
    match driver {
        Some(driver) if missing.is_empty() => Ok(driver),
        _ => bail!(
            "the app's end-to-end test needs {}; scripts/setup installs them all",
            missing.join(", ")
        ),
    }
}

/// The app ready to start: Xvfb on a free display and tauri-driver (with
/// the WebKitWebDriver it starts) on free ports, with a home of its own
/// (data, XDG folders) and a folder for screenshots. Each [`App::open`]
/// starts the built `gridwork-app` in a new WebDriver session; dropping
/// the `App` ends tauri-driver, then Xvfb.
pub struct App {
    port: u16,
    binary: PathBuf,
    /// Where screenshots go: `<target>/e2e-screenshots/<story>`.
    pub shots: PathBuf,
    /// The app's home; files a story picks in the app go here too.
    pub home: tempfile::TempDir,
    // Dropped in this order: tauri-driver before its display.
    _driver: Reaped,
    _xvfb: Reaped,
}

impl App {
    /// Starts Xvfb and tauri-driver for the story named `story` (its
    /// screenshots' folder; empty for the folder itself). Fails, naming
    /// what is missing, when a tool is not installed.
    pub fn launch(story: &str) -> Result<App> {
        let tauri_driver = require_tools()?;
        let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .parent()
            .context("target dir")?
            .join("e2e-screenshots")
            .join(story);
        std::fs::create_dir_all(&shots)?;
        let _ = std::fs::remove_file(shots.join("failure.png"));
        let home = tempfile::tempdir()?;
        let (xvfb, display) = start_xvfb()?;
        let port = free_port()?;
        let native_port = free_port()?;
        let driver = Command::new(&tauri_driver)
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native_port.to_string(),
            ])
            .env("DISPLAY", &display)
            .env("GRIDWORK_DATA_DIR", home.path().join("gridwork"))
            .env("XDG_DATA_HOME", home.path().join("xdg-data"))
            .env("XDG_CONFIG_HOME", home.path().join("xdg-config"))
            .env("XDG_CACHE_HOME", home.path().join("xdg-cache"))
            // Only "sync now" syncs, so what a story checks happens when it says.
            .env("GRIDWORK_SYNC_INTERVAL", "3600")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("start tauri-driver (cargo install tauri-driver --locked)")?;
        let driver = Reaped(driver);
        // tauri-driver listens before the WebKitWebDriver it starts does, and
        // drops a session request it cannot pass on: wait for both.
        wait_until("tauri-driver and WebKitWebDriver", || {
            TcpStream::connect(("127.0.0.1", port)).is_ok()
                && TcpStream::connect(("127.0.0.1", native_port)).is_ok()
        })?;
        Ok(App {
            port,
            binary: PathBuf::from(env!("CARGO_BIN_EXE_gridwork-app")),
            shots,
            home,
            _driver: driver,
            _xvfb: xvfb,
        })
    }

    /// Starts the app in a new WebDriver session.
    pub async fn open(&self) -> Result<Driver> {
        Driver::start(self.port, &self.binary, &self.shots).await
    }
}

/// A minimal W3C WebDriver client: the handful of endpoints the story uses.
pub struct Driver {
    http: reqwest::Client,
    base: String,
    session: String,
    /// Where screenshots go, a failure's included.
    shots: PathBuf,
}

impl Driver {
    pub async fn start(port: u16, app: &Path, shots: &Path) -> Result<Driver> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()?;
        let base = format!("http://127.0.0.1:{port}");
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "wry",
            "tauri:options": {"application": app},
        }}});
        let answer: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await?
            .json()
            .await?;
        let session = answer["value"]["sessionId"]
            .as_str()
            .with_context(|| format!("no session: {answer}"))?
            .to_string();
        Ok(Driver {
            http,
            base,
            session,
            shots: shots.to_path_buf(),
        })
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value> {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut request = self.http.request(method, url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer: Value = request.send().await?.json().await?;
        if let Some(error) = answer["value"]["error"].as_str() {
            bail!("webdriver {path}: {error}: {}", answer["value"]["message"]);
        }
        Ok(answer["value"].clone())
    }

    pub async fn post(&self, path: &str, body: Value) -> Result<Value> {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn quit(&self) -> Result<()> {
        self.call(reqwest::Method::DELETE, "", None)
            .await
            .map(|_| ())
    }

    pub async fn script(&self, script: &str, args: Value) -> Result<Value> {
        self.post("/execute/sync", json!({"script": script, "args": args}))
            .await
    }

    /// First run: signs `user` in to `server_url` on the setup screen
    /// (the test password), chooses [`PIN`] and waits for the home screen.
    pub async fn sign_in(&self, server_url: &str, user: &str) -> Result<()> {
        self.find("[data-test=setup]").await?;
        self.type_into("[data-test=server-url] input", server_url)
            .await?;
        self.type_into("[data-test=user] input", user).await?;
        self.type_into("[data-test=password] input", gridwork_tests::PASSWORD)
            .await?;
        self.click("[data-test=login]").await?;
        self.choose_pin(PIN).await?;
        self.find("[data-test=home]").await.map(drop)
    }

    /// Chooses `pin` on the screen a first sign-in shows (typed twice).
    pub async fn choose_pin(&self, pin: &str) -> Result<()> {
        self.find("[data-test=pin-choose]").await?;
        self.press_pin(pin).await?;
        self.press_pin(pin).await
    }

    /// Presses the PIN keyboard's keys, one call each so the view renders
    /// between them (Vant's keys answer touches, not clicks).
    pub async fn press_pin(&self, pin: &str) -> Result<()> {
        for digit in pin.chars() {
            self.script(
                "const key = [...document.querySelectorAll('.van-key')]
                   .find((k) => k.textContent.trim() === arguments[0]);
                 if (!key) throw new Error('no key ' + arguments[0]);
                 const start = new Event('touchstart', { bubbles: true });
                 Object.defineProperty(start, 'touches', { value: [{ clientX: 0, clientY: 0 }] });
                 key.dispatchEvent(start);
                 key.dispatchEvent(new Event('touchend', { bubbles: true }));",
                json!([digit.to_string()]),
            )
            .await?;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    }

    /// The element matching `css`, waiting for it to appear.
    pub async fn find(&self, css: &str) -> Result<String> {
        let start = Instant::now();
        loop {
            let found = self
                .post("/element", json!({"using": "css selector", "value": css}))
                .await;
            if let Ok(value) = found
                && let Some(id) = value
                    .as_object()
                    .and_then(|o| o.values().next())
                    .and_then(Value::as_str)
            {
                return Ok(id.to_string());
            }
            if start.elapsed() > WAIT {
                return Err(self
                    .failure(&format!("no element {css} after {WAIT:?}"))
                    .await);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Clicks an element, waiting while something covers it (a
    /// notification sliding away).
    pub async fn click(&self, css: &str) -> Result<()> {
        let start = Instant::now();
        loop {
            let id = self.find(css).await?;
            // WebDriver scrolls an element only to the bottom edge of the
            // window, where the fixed tab bar covers it: centre it first,
            // as a person scrolls to what they mean to tap.
            self.script(
                "document.querySelector(arguments[0])?.scrollIntoView({ block: 'center' });",
                json!([css]),
            )
            .await?;
            match self.post(&format!("/element/{id}/click"), json!({})).await {
                Ok(_) => return Ok(()),
                Err(e) if start.elapsed() > WAIT => {
                    return Err(self.failure(&format!("click {css}: {e}")).await);
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }

    /// Clears a field and types `text` into it, as a person would.
    pub async fn type_into(&self, css: &str, text: &str) -> Result<()> {
        let id = self.find(css).await?;
        // WebDriver's own "clear" empties the element but fires no `input`
        // event, so Vue's model keeps the old text and the typed text is
        // appended to it: empty the field as a person's delete key would.
        self.script(
            "const e = document.querySelector(arguments[0]); e.value = ''; \
             e.dispatchEvent(new Event('input', { bubbles: true }));",
            json!([css]),
        )
        .await?;
        self.post(&format!("/element/{id}/value"), json!({"text": text}))
            .await?;
        Ok(())
    }

    /// Taps an element at a point given as fractions of its width and
    /// height, with WebDriver's pointer actions.
    pub async fn click_at(&self, css: &str, fx: f64, fy: f64) -> Result<()> {
        self.find(css).await?;
        // Where that point is in the window, once the element is in view.
        let at = self
            .script(
                "const e = document.querySelector(arguments[0]); \
                 e.scrollIntoView({ block: 'center' }); \
                 const r = e.getBoundingClientRect(); \
                 return [Math.round(r.left + r.width * arguments[1]), \
                         Math.round(r.top + r.height * arguments[2])];",
                json!([css, fx, fy]),
            )
            .await?;
        let (x, y) = (at[0].as_i64().unwrap_or(0), at[1].as_i64().unwrap_or(0));
        self.post(
            "/actions",
            json!({"actions": [{
                "type": "pointer",
                "id": "finger",
                "parameters": {"pointerType": "mouse"},
                "actions": [
                    {"type": "pointerMove", "origin": "viewport", "x": x, "y": y},
                    {"type": "pointerDown", "button": 0},
                    {"type": "pointerUp", "button": 0},
                ],
            }]}),
        )
        .await?;
        Ok(())
    }

    /// Picks a file in an `<input type=file>`, as the file chooser would.
    pub async fn attach(&self, css: &str, file: &Path) -> Result<()> {
        let id = self.find(css).await?;
        let path = file.to_str().context("file path is not UTF-8")?;
        self.post(&format!("/element/{id}/value"), json!({"text": path}))
            .await?;
        Ok(())
    }

    /// Chooses an option of a native select.
    pub async fn select(&self, css: &str, value: &str) -> Result<()> {
        self.find(css).await?;
        self.script(
            "const s = document.querySelector(arguments[0]); s.value = arguments[1]; \
             s.dispatchEvent(new Event('change'));",
            json!([css, value]),
        )
        .await?;
        Ok(())
    }

    pub async fn text(&self, css: &str) -> Result<String> {
        let v = self
            .script(
                "const e = document.querySelector(arguments[0]); return e ? e.textContent : null;",
                json!([css]),
            )
            .await?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }

    pub async fn value(&self, css: &str) -> Result<String> {
        let v = self
            .script(
                "const e = document.querySelector(arguments[0]); return e ? e.value : null;",
                json!([css]),
            )
            .await?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }

    pub async fn attr(&self, css: &str, name: &str) -> Result<String> {
        let v = self
            .script(
                "const e = document.querySelector(arguments[0]); \
                 return e ? e.getAttribute(arguments[1]) : null;",
                json!([css, name]),
            )
            .await?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }

    pub async fn count(&self, css: &str) -> Result<usize> {
        let v = self
            .script(
                "return document.querySelectorAll(arguments[0]).length;",
                json!([css]),
            )
            .await?;
        Ok(v.as_u64().unwrap_or(0) as usize)
    }

    pub async fn hash(&self) -> Result<String> {
        let v = self.script("return location.hash;", json!([])).await?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }

    /// Waits until `check` holds for what `read` returns.
    pub async fn wait_for<F, Fut>(
        &self,
        what: &str,
        mut read: F,
        check: impl Fn(&str) -> bool,
    ) -> Result<String>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<String>>,
    {
        let start = Instant::now();
        let mut last = String::new();
        while start.elapsed() < WAIT {
            if let Ok(v) = read().await {
                if check(&v) {
                    return Ok(v);
                }
                last = v;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(self
            .failure(&format!("{what}: still {last:?} after {WAIT:?}"))
            .await)
    }

    /// Waits until `n` elements match `css`.
    pub async fn wait_count(&self, css: &str, n: usize) -> Result<()> {
        self.wait_for(
            &format!("{n} of {css}"),
            || async { Ok(self.count(css).await?.to_string()) },
            |c| c == n.to_string(),
        )
        .await
        .map(|_| ())
    }

    /// The error for a wait that timed out, with what the screen showed:
    /// its text in the message and a screenshot beside the others.
    pub async fn failure(&self, what: &str) -> anyhow::Error {
        let shown = self
            .script("return document.body.innerText;", json!([]))
            .await
            .map(|v| v.as_str().unwrap_or_default().replace('\n', " | "))
            .unwrap_or_else(|e| format!("(unreadable: {e})"));
        let shot = match self.shot("failure").await {
            Ok(()) => format!("{}", self.shots.join("failure.png").display()),
            Err(e) => format!("(no screenshot: {e})"),
        };
        anyhow::anyhow!("{what}\nthe screen showed: {shown}\nscreenshot: {shot}")
    }

    pub async fn wait_text(&self, css: &str, want: &str) -> Result<String> {
        self.wait_for(
            &format!("text of {css}"),
            || self.text(css),
            |t| t.contains(want),
        )
        .await
    }

    pub async fn shot(&self, name: &str) -> Result<()> {
        let v = self.call(reqwest::Method::GET, "/screenshot", None).await?;
        let png =
            base64::engine::general_purpose::STANDARD.decode(v.as_str().unwrap_or_default())?;
        std::fs::write(self.shots.join(format!("{name}.png")), png)?;
        Ok(())
    }
}

/// A valid resident ID number: region, birth date, sequence, check character.
pub fn id_number(region: &str, birth: &str, seq: &str) -> String {
    let first17 = format!("{region}{birth}{seq}");
    format!("{first17}{}", id_check_character(&first17))
}

pub fn user_with(role: Role, covering: &str) -> &'static User {
    community()
        .users
        .iter()
        .find(|u| u.role == role && covering.starts_with(&u.grid))
        .expect("the demo community has such a user")
}

pub fn uuid_in_hash(hash: &str, prefix: &str) -> Option<uuid::Uuid> {
    let rest = hash.strip_prefix(prefix)?;
    uuid::Uuid::parse_str(rest.get(..36)?).ok()
}

/// The PIN the tests choose at a first sign-in.
pub const PIN: &str = "135792";

/// The app's store in `data_dir`, opened as the app opens it: the data key
/// unwrapped with the worker's `pin` (the store is encrypted at rest).
pub fn open_store(data_dir: &Path, pin: &str) -> Result<gridwork_core::store::Store> {
    use gridwork_core::vault::{KeyFile, pin::Pin};
    let mut keys = KeyFile::load(data_dir)?.context("the app's key file")?;
    // The app under test has no platform keystore (no D-Bus session).
    let key = keys.unlock(
        &Pin::parse(pin)?,
        jiff::Timestamp::now().as_millisecond(),
        None,
    )?;
    Ok(gridwork_core::store::Store::open_encrypted(
        data_dir.join("device.sqlite"),
        automerge::ActorId::random(),
        &key,
    )?)
}
