//! `spawn_app()` and request helpers shared by the API tests.

use dealflow_core::model::{NewUser, Role};
use dealflow_server::{AppState, Config};
use dealflow_store::{Actor, Store};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A running server with an admin user and an API token for it.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub token: String,
    pub store: Store,
    pub db: Option<dealflow_store::testing::TestDb>,
}

/// The app on a fresh database of the engine under test.
pub async fn spawn_app() -> TestApp {
    let db = dealflow_store::testing::test_database().await.expect("create a test database");
    let mut app = spawn_app_on(&db.url).await;
    app.db = Some(db);
    app
}

/// The app with `config` on a fresh database of the engine under test.
pub async fn spawn_app_with(config: Config) -> TestApp {
    let db = dealflow_store::testing::test_database().await.expect("create a test database");
    let mut app = spawn_app_on_with(&db.url, config).await;
    app.db = Some(db);
    app
}

/// The app on the database at `url`.
pub async fn spawn_app_on(url: &str) -> TestApp {
    spawn_app_on_with(url, Config::default()).await
}

async fn spawn_app_on_with(url: &str, config: Config) -> TestApp {
    let store = Store::open(url, &dealflow_store::PoolSettings::default()).await.expect("open store");
    let admin = dealflow_server::api::users::add_user(
        &store,
        &Actor::system(),
        NewUser {
            email: "admin@example.com".into(),
            name: "Ada Admin".into(),
            role: Role::Admin,
            password: "correct horse battery".into(),
            locale: None,
        },
    )
    .await
    .expect("create admin");
    let token = dealflow_server::api::users::issue_token(&store, &Actor::system(), admin.id, "tests")
        .await
        .expect("create token")
        .secret;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let state = AppState::new(store.clone(), config);
    tokio::spawn(async move {
        let _ = dealflow_server::serve(listener, state, std::future::pending()).await;
    });
    TestApp {
        base: format!("http://{addr}"),
        client: reqwest::Client::builder().cookie_store(true).build().expect("client"),
        token,
        store,
        db: None,
    }
}

impl TestApp {
    /// Sends a request with the admin token; `body` as JSON when given.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        self.call_as(Some(&self.token), method, path, body).await
    }

    /// Sends a request with the given bearer token (or none).
    pub async fn call_as(
        &self,
        token: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.client.request(method, format!("{}{}", self.base, path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("send request");
        let status = resp.status();
        let text = resp.text().await.expect("read body");
        let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, json)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::DELETE, path, None).await
    }

    /// The HTML of a page in Chinese, fetched with the signed-in browser `c`.
    pub async fn zh_page(&self, c: &reqwest::Client, path: &str) -> String {
        let r = c.get(format!("{}{path}", self.base)).header("accept-language", "zh-CN").send().await;
        r.expect("the page answers").text().await.expect("a body")
    }

    /// Creates a deal and returns its JSON, asserting success.
    pub async fn create_deal(&self, body: Value) -> Value {
        let (s, d) = self.post("/api/v1/deals", body).await;
        assert_eq!(s, StatusCode::CREATED, "{d}");
        d
    }

    /// A user of `role` (`admin`, `manager`, `rep`) and an API token for them.
    pub async fn user_with_token(&self, email: &str, role: &str) -> (Value, String) {
        let body = json!({"email": email, "name": "Someone", "role": role, "password": "a password 123"});
        let (s, u) = self.post("/api/v1/users", body).await;
        assert_eq!(s, StatusCode::CREATED, "{u}");
        let (s, t) = self.post("/api/v1/tokens", json!({"name": "t", "user_id": u["id"]})).await;
        assert_eq!(s, StatusCode::CREATED, "{t}");
        (u, t["secret"].as_str().expect("secret").to_string())
    }

    /// The default pipeline's JSON.
    pub async fn default_pipeline(&self) -> Value {
        let (s, p) = self.get("/api/v1/pipelines").await;
        assert_eq!(s, StatusCode::OK);
        p[0].clone()
    }
}

/// Asserts a problem document with `status` that names `field` among its errors.
pub fn assert_problem(status: StatusCode, body: &Value, want: StatusCode, field: Option<&str>) {
    assert_eq!(status, want, "body: {body}");
    assert_eq!(body["status"], want.as_u16(), "problem document expected: {body}");
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()), "detail expected: {body}");
    if let Some(f) = field {
        let named = body["errors"].as_array().is_some_and(|es| es.iter().any(|e| e["field"] == f));
        assert!(named, "expected an error for field `{f}`: {body}");
    }
}
