//! Real headless Chromium driven over WebDriver (chromedriver started per
//! test on a free loopback port), against the real server on a fresh
//! SQLite database. Screenshots go to `target/screenshots/`.

use dealflow_core::model::{NewUser, Role};
use dealflow_server::{AppState, Config};
use dealflow_store::{Actor, Store};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const EMAIL: &str = "admin@example.com";
pub const PASSWORD: &str = "correct horse battery";

/// Whether browser tests run in this pass: they need Chromium, and they run
/// once, in the SQLite pass (the server code they exercise is the same on
/// both engines, which the API tests cover).
pub fn enabled() -> bool {
    let on_sqlite = !std::env::var("DEALFLOW_TEST_DATABASE").is_ok_and(|v| v.starts_with("postgres"));
    let have =
        std::path::Path::new("/usr/bin/chromium").exists() && std::path::Path::new("/usr/bin/chromedriver").exists();
    if on_sqlite && !have {
        assert!(std::env::var("CI").is_err(), "CI must run the browser tests: scripts/test installs chromium");
        eprintln!("chromium or chromedriver missing (scripts/test installs them); browser tests not run");
    }
    on_sqlite && have
}

pub struct Session {
    pub base: String,
    pub client: Client,
    pub store: Store,
    driver: Child,
    /// The browser profile folder, removed when the session closes.
    profile: std::path::PathBuf,
    _db: dealflow_store::testing::TestDb,
}

/// Phone (390 px wide, touch) or desktop.
#[derive(Clone, Copy, PartialEq)]
pub enum Screen {
    Desktop,
    Phone,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

/// Starts the app (optionally with the demo workspace) and a browser.
pub async fn start(demo: bool, screen: Screen, lang: &str) -> Session {
    let db = dealflow_store::testing::test_database().await.expect("test database");
    let store = db.open().await.expect("open store");
    dealflow_server::api::users::add_user(
        &store,
        &Actor::system(),
        NewUser {
            email: EMAIL.into(),
            name: "Ada Admin".into(),
            role: Role::Admin,
            password: PASSWORD.into(),
            locale: None,
        },
    )
    .await
    .expect("admin");
    if demo {
        dealflow_server::demo::ensure(&store, None).await.expect("demo data");
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let state = AppState::new(store.clone(), Config::default());
    tokio::spawn(async move {
        let _ = dealflow_server::serve(listener, state, std::future::pending()).await;
    });

    let port = free_port();
    let driver = Command::new("/usr/bin/chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let profile = std::env::temp_dir().join(format!("dealflow-chrome-{}", dealflow_core::ids::next_id()));
    let mut args = vec![
        "--headless".to_string(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-quic".into(),
        "--no-first-run".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--disable-dev-shm-usage".into(),
        format!("--lang={lang}"),
        format!("--user-data-dir={}", profile.display()),
    ];
    let mut opts = json!({"binary": "/usr/bin/chromium", "prefs": {"intl.accept_languages": lang}});
    match screen {
        Screen::Desktop => args.push("--window-size=1400,900".into()),
        Screen::Phone => {
            opts["mobileEmulation"] =
                json!({"deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 2, "touch": true}});
        }
    }
    opts["args"] = json!(args);
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), opts);
    let url = format!("http://127.0.0.1:{port}");
    let mut client = None;
    for _ in 0..50 {
        match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(c) => {
                client = Some(c);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    let client = client.expect("connect to chromedriver");
    Session { base, client, store, driver, profile, _db: db }
}

impl Session {
    pub async fn goto(&self, path: &str) {
        self.client.goto(&format!("{}{path}", self.base)).await.expect("navigate");
    }

    pub async fn login(&self) {
        self.goto("/login").await;
        self.client.find(Locator::Css("input[name=email]")).await.expect("email").send_keys(EMAIL).await.expect("type");
        self.client
            .find(Locator::Css("input[name=password]"))
            .await
            .expect("pw")
            .send_keys(PASSWORD)
            .await
            .expect("type");
        self.client.find(Locator::Css("form button[type=submit]")).await.expect("submit").click().await.expect("click");
        self.wait_for("main .board, main .filters").await;
    }

    /// Waits until `css` matches (up to 10 s).
    pub async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("waiting for {css}: {e}"))
    }

    /// Evaluates JavaScript and returns its JSON value.
    pub async fn js(&self, script: &str) -> serde_json::Value {
        self.client.execute(script, vec![]).await.expect("execute script")
    }

    /// Polls `script` until it returns true (up to 10 s).
    pub async fn until(&self, script: &str) {
        for _ in 0..100 {
            if self.js(script).await == json!(true) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("condition never held: {script}");
    }

    /// Saves a screenshot under target/screenshots/.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/screenshots");
        std::fs::create_dir_all(dir).expect("screenshot dir");
        std::fs::write(format!("{dir}/{name}.png"), png).expect("write screenshot");
    }

    /// Drags `from` onto `to` with real pointer input: press, move a little
    /// (the drag starts), move onto the target, release.
    pub async fn drag(&self, from: &str, to: &str) {
        use fantoccini::actions::{InputSource, MouseActions, PointerAction};
        let src = self.client.find(Locator::Css(from)).await.expect("drag source");
        let dst = self.client.find(Locator::Css(to)).await.expect("drop target");
        let mouse = MouseActions::new("mouse".into())
            .then(PointerAction::MoveToElement { element: src, duration: None, x: 0.0, y: 0.0 })
            .then(PointerAction::Down { button: fantoccini::actions::MOUSE_BUTTON_LEFT })
            .then(PointerAction::MoveBy { duration: Some(Duration::from_millis(100)), x: 12.0, y: 12.0 })
            .then(PointerAction::MoveToElement {
                element: dst,
                duration: Some(Duration::from_millis(200)),
                x: 0.0,
                y: 0.0,
            })
            .then(PointerAction::Up { button: fantoccini::actions::MOUSE_BUTTON_LEFT });
        self.client.perform_actions(mouse).await.expect("drag");
    }

    /// Ends the WebDriver session (the browser quits); `Drop` does the rest.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Session {
    /// Also runs when a test fails: stop chromedriver, any browser of this
    /// session's profile that is still running, and remove the profile.
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = Command::new("pkill").arg("-f").arg(format!("user-data-dir={}", self.profile.display())).status();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}
