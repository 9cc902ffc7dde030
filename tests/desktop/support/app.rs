//! The real desktop app (`garage-inbox`), started by tauri-driver (which runs WebKitWebDriver,
//! which runs the app) and driven through WebDriver with fantoccini. tauri-driver leads a process
//! group of its own, holding WebKitWebDriver and the app: dropping an `App` ends the whole group,
//! so no driver outlives its test, even one that panicked.

use std::ffi::OsStr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, MouseActions, PointerAction, MOUSE_BUTTON_LEFT};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

use super::{bins, WAIT};

/// The layouts each test photographs: desktop with sidebar room, desktop, narrow.
pub const WIDTHS: [u32; 3] = [1440, 1100, 800];
const HEIGHT: u32 = 900;

/// Keeps a frame coming while a screenshot is taken ([`App::screenshot`]).
const FRAME_SOURCE: &str = "if (!document.getElementById('e2e-frames')) {
  const style = document.createElement('style');
  style.id = 'e2e-frames-style';
  style.textContent = '@keyframes e2e-frames { from { opacity: 0.01 } to { opacity: 0.02 } }';
  document.head.appendChild(style);
  const dot = document.createElement('div');
  dot.id = 'e2e-frames';
  dot.style.cssText = 'position:fixed;left:0;top:0;width:1px;height:1px;pointer-events:none;'
    + 'background:#000;animation:e2e-frames 50ms infinite alternate';
  document.body.appendChild(dot);
}";
const FRAME_SOURCE_GONE: &str =
    "for (const id of ['e2e-frames', 'e2e-frames-style']) document.getElementById(id)?.remove();";

pub struct App {
    pub client: Client,
    /// tauri-driver, leader of the process group that holds WebKitWebDriver and the app.
    driver: Option<Child>,
    pub data_dir: PathBuf,
    test: String,
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

impl App {
    /// Starts the app with its files in `data_dir` (a second launch on the same directory is
    /// the same desktop starting again). `test` names the screenshots.
    pub async fn launch(data_dir: &Path, test: &str) -> App {
        App::launch_with(data_dir, test, &[]).await
    }

    /// [`App::launch`] with more environment for the app (e.g. `GARAGE_INBOX_EXTRA_CA`).
    /// `GARAGE_INBOX_APP` among it runs that build of the app instead of [`bins::app`] (the
    /// desktop benchmark compares two builds side by side so).
    pub async fn launch_with(data_dir: &Path, test: &str, env: &[(&str, &OsStr)]) -> App {
        let application = env
            .iter()
            .find(|(name, _)| *name == "GARAGE_INBOX_APP")
            .map_or_else(bins::app, |(_, path)| PathBuf::from(path));
        let port = free_port();
        let native_port = free_port();
        let driver = Command::new("tauri-driver")
            .args(["--port", &port.to_string()])
            .args(["--native-port", &native_port.to_string()])
            .env("GARAGE_INBOX_DATA_DIR", data_dir)
            .env("GARAGE_INBOX_PAUSE_AFTER_SECS", "3")
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("tauri-driver (cargo install tauri-driver): run with `cargo xtask e2e`");
        let deadline = Instant::now() + Duration::from_secs(20);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "tauri-driver did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("wry"));
        caps.insert(
            "tauri:options".into(),
            json!({ "application": application }),
        );
        // The driver is on loopback: plain HTTP, no TLS stack. WebKitWebDriver may still be
        // starting when tauri-driver already listens: retry the session a few times.
        let mut attempt = 0;
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            // Bounded: an app that exits at start leaves WebKitWebDriver waiting for it forever.
            let session = tokio::time::timeout(
                Duration::from_secs(60),
                ClientBuilder::new(connector)
                    .capabilities(caps.clone())
                    .connect(&format!("http://127.0.0.1:{port}")),
            )
            .await
            .unwrap_or_else(|_| {
                panic!("the app did not open a window within 60 s (its stderr is above)")
            });
            match session {
                Ok(c) => break c,
                Err(e) if attempt < 5 => {
                    attempt += 1;
                    eprintln!("WebDriver session attempt {attempt} failed: {e}");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(e) => panic!("no WebDriver session with the app: {e}"),
            }
        };
        let app = App {
            client,
            driver: Some(driver),
            data_dir: data_dir.to_path_buf(),
            test: test.to_string(),
        };
        app.client.set_window_size(WIDTHS[0], HEIGHT).await.unwrap();
        app
    }

    /// Polls `check` until it returns `Some`; on timeout saves a screenshot and the page's
    /// markup (`target/screenshots/<test>-FAILED.*`) and fails with `what`.
    pub async fn until<T, F, Fut>(&self, what: &str, check: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        self.until_within(WAIT, what, check).await
    }

    /// [`App::until`] with its own time limit.
    pub async fn until_within<T, F, Fut>(&self, limit: Duration, what: &str, mut check: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(v) = check().await {
                return v;
            }
            if Instant::now() > deadline {
                let dir = bins::screenshots();
                if let Ok(png) = self.shoot().await {
                    let _ = std::fs::write(dir.join(format!("{}-FAILED.png", self.test)), png);
                }
                let html = self
                    .js("return document.documentElement.outerHTML;", vec![])
                    .await;
                let html = html.as_str().unwrap_or("");
                let _ = std::fs::write(dir.join(format!("{}-FAILED.html", self.test)), html);
                let url = self.url().await;
                panic!("timed out after {limit:?} waiting for {what} (at {url}; page saved as {}-FAILED.html)", self.test);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Ends the app (as closing its window does, so it exits cleanly) and the driver.
    pub async fn quit(mut self) {
        let _ = self.client.clone().close().await;
        // The app is single-instance per profile: the next launch on this profile must not find
        // this one still exiting (it would hand over to it and leave).
        let deadline = Instant::now() + Duration::from_secs(15);
        while !app_processes(&self.data_dir).is_empty() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.end_driver();
    }

    /// SIGKILL to tauri-driver's process group (WebKitWebDriver and the app with it).
    fn end_driver(&mut self) {
        if let Some(mut driver) = self.driver.take() {
            let group = format!("-{}", driver.id());
            let _ = Command::new("kill")
                .args(["-KILL", "--", &group])
                .stderr(Stdio::null())
                .status();
            let _ = driver.kill();
            let _ = driver.wait();
        }
        // Should the app have left the group, it is still found by its profile.
        for pid in app_processes(&self.data_dir) {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
    }

    /// Signs in through the form and waits for the inbox.
    pub async fn sign_in(&self, server: &str, email: &str) {
        self.wait("#sign-in").await;
        self.fill("#server", server).await;
        self.fill("#email", email).await;
        self.fill("#password", super::stack::PASSWORD).await;
        self.click("#sign-in").await;
    }

    pub async fn fill(&self, css: &str, text: &str) {
        let e = self.wait(css).await;
        e.clear().await.unwrap();
        // WebDriver's clear fires no `input` event; a person deleting the text does.
        self.js(
            "document.querySelector(arguments[0]).dispatchEvent(new Event('input', { bubbles: true }));",
            vec![json!(css)],
        )
        .await;
        if !text.is_empty() {
            e.send_keys(text).await.unwrap();
        }
    }

    pub async fn click(&self, css: &str) {
        self.wait(css).await.click().await.unwrap();
    }

    /// Moves the mouse to the centre of `css`, as a person does, and returns that point (in
    /// the viewport's pixels).
    pub async fn hover(&self, css: &str) -> (f64, f64) {
        // Re-rendering lists may replace the element between a look and the next: retry.
        let (x, y) = self
            .until(&format!("`{css}` on screen"), || async {
                let centre = self
                    .js(
                        "const e = document.querySelector(arguments[0]); if (!e) return null; \
                         e.scrollIntoView({ block: 'nearest', inline: 'nearest' }); \
                         const r = e.getBoundingClientRect(); \
                         const x = Math.round(r.left + r.width / 2), y = Math.round(r.top + r.height / 2); \
                         if (x < 0 || y < 0 || x >= window.innerWidth || y >= window.innerHeight) return null; \
                         return [x, y];",
                        vec![json!(css)],
                    )
                    .await;
                Some((centre[0].as_f64()?, centre[1].as_f64()?))
            })
            .await;
        self.pointer(vec![PointerAction::MoveTo {
            duration: None,
            x,
            y,
        }])
        .await;
        (x, y)
    }

    /// Moves the mouse to (`x`, `y`) in the viewport's pixels.
    pub async fn move_to(&self, x: f64, y: f64) {
        self.pointer(vec![PointerAction::MoveTo {
            duration: None,
            x,
            y,
        }])
        .await;
    }

    /// A left click wherever the mouse is now (nothing moves it first).
    pub async fn click_here(&self) {
        self.pointer(vec![
            PointerAction::Down {
                button: MOUSE_BUTTON_LEFT,
            },
            PointerAction::Up {
                button: MOUSE_BUTTON_LEFT,
            },
        ])
        .await;
    }

    async fn pointer(&self, steps: Vec<PointerAction>) {
        let mut mouse = MouseActions::new("mouse".into());
        for step in steps {
            mouse = mouse.then(step);
        }
        self.client.perform_actions(mouse).await.unwrap();
    }

    /// The element, once it is in the page.
    pub async fn wait(&self, css: &str) -> Element {
        let found = self
            .until(&format!("`{css}`"), || async {
                self.client.find(Locator::Css(css)).await.ok()
            })
            .await;
        found
    }

    /// Waits until `css` is gone from the page (or hidden).
    pub async fn wait_gone(&self, css: &str) {
        self.until(&format!("`{css}` to go"), || async {
            (!self.visible(css).await).then_some(())
        })
        .await
    }

    pub async fn visible(&self, css: &str) -> bool {
        self.js(
            "const e = document.querySelector(arguments[0]); \
             return !!e && e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden';",
            vec![json!(css)],
        )
        .await
        .as_bool()
        .unwrap_or(false)
    }

    pub async fn count(&self, css: &str) -> usize {
        self.client
            .find_all(Locator::Css(css))
            .await
            .map(|v| v.len())
            .unwrap_or(0)
    }

    /// The text of the first match, or None.
    pub async fn text(&self, css: &str) -> Option<String> {
        self.js(
            "const e = document.querySelector(arguments[0]); return e ? e.textContent.trim() : null;",
            vec![json!(css)],
        )
        .await
        .as_str()
        .map(str::to_string)
    }

    pub async fn attr(&self, css: &str, name: &str) -> Option<String> {
        self.js(
            "const e = document.querySelector(arguments[0]); return e ? e.getAttribute(arguments[1]) : null;",
            vec![json!(css), json!(name)],
        )
        .await
        .as_str()
        .map(str::to_string)
    }

    /// Waits until the text of `css` satisfies `ok`; returns it.
    pub async fn wait_text(&self, css: &str, what: &str, ok: impl Fn(&str) -> bool) -> String {
        self.until(&format!("`{css}` {what}"), || async {
            self.text(css).await.filter(|t| ok(t))
        })
        .await
    }

    /// The count badge of a read filter (LST-4).
    pub async fn count_badge(&self, filter: &str) -> u64 {
        let css = format!("button[data-filter=\"{filter}\"] .count");
        let t = self
            .wait_text(&css, "a number", |t| t.parse::<u64>().is_ok())
            .await;
        t.parse().unwrap()
    }

    /// The conversation ids of the list, top to bottom.
    pub async fn row_ids(&self) -> Vec<i64> {
        self.js(
            "return [...document.querySelectorAll('.conversation-row')].map(e => Number(e.dataset.conversationId));",
            vec![],
        )
        .await
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_i64).collect())
        .unwrap_or_default()
    }

    /// Picks `value` in the `<select>` `css`, as a person does (a `change` event follows).
    pub async fn select(&self, css: &str, value: &str) {
        // The choices may still be loading: wait for this one.
        self.wait(&format!("{css} option[value=\"{value}\"]")).await;
        self.js(
            "const e = document.querySelector(arguments[0]); e.value = arguments[1]; \
             e.dispatchEvent(new Event('change', { bubbles: true }));",
            vec![json!(css), json!(value)],
        )
        .await;
    }

    /// The current value of a form field.
    pub async fn value(&self, css: &str) -> Option<String> {
        self.js(
            "const e = document.querySelector(arguments[0]); return e ? e.value : null;",
            vec![json!(css)],
        )
        .await
        .as_str()
        .map(str::to_string)
    }

    /// Opens a route of the app (`/messages?conversation=5`), as a link inside it does.
    pub async fn go(&self, route: &str) {
        self.js("location.hash = arguments[0];", vec![json!(route)])
            .await;
    }

    pub async fn url(&self) -> String {
        self.client
            .current_url()
            .await
            .map(|u| u.to_string())
            .unwrap_or_default()
    }

    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or(Value::Null)
    }

    pub async fn set_width(&self, width: u32) {
        self.client.set_window_size(width, HEIGHT).await.unwrap();
        let w = self
            .until("the window to resize", || async {
                self.js("return window.innerWidth;", vec![])
                    .await
                    .as_u64()
                    .filter(|w| w.abs_diff(u64::from(width)) < 40)
            })
            .await;
        let _ = w;
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    /// One screenshot at the current size: `target/screenshots/<test>-<name>.png`.
    ///
    /// WebKitGTK's WebDriver answers a screenshot once the page has drawn its next frame. The
    /// app runs without accelerated compositing (`src-tauri/src/webview.rs`), and then a page
    /// with nothing left to repaint draws no next frame, so the screenshot would wait forever
    /// (the window itself shows the page; this is the driver's wait). A one-pixel animation at
    /// 1–2% opacity runs while the screenshot is taken, so a frame always comes.
    pub async fn screenshot(&self, name: &str) {
        let png = self.shoot().await.unwrap();
        let path = bins::screenshots().join(format!("{}-{name}.png", self.test));
        std::fs::write(&path, png).unwrap();
    }

    /// The window as WebDriver sees it, with a frame coming while it looks.
    async fn shoot(&self) -> Result<Vec<u8>, fantoccini::error::CmdError> {
        self.js(FRAME_SOURCE, vec![]).await;
        let png = self.client.screenshot().await;
        self.js(FRAME_SOURCE_GONE, vec![]).await;
        png
    }

    /// Screenshots at 1440, 1100 and 800 px, then back to 1440.
    pub async fn screenshots(&self, name: &str) {
        for w in WIDTHS {
            self.set_width(w).await;
            self.screenshot(&format!("{name}-{w}")).await;
        }
        self.set_width(WIDTHS[0]).await;
    }
}

impl Drop for App {
    fn drop(&mut self) {
        self.end_driver();
    }
}

/// The app processes running on `data_dir` (their `GARAGE_INBOX_DATA_DIR`), from `/proc`.
pub fn app_processes(data_dir: &Path) -> Vec<u32> {
    let want = format!("GARAGE_INBOX_DATA_DIR={}", data_dir.display());
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            comm.trim() == "garage-inbox"
                && std::fs::read(format!("/proc/{pid}/environ"))
                    .map(|env| env.split(|b| *b == 0).any(|kv| kv == want.as_bytes()))
                    .unwrap_or(false)
        })
        .collect()
}
