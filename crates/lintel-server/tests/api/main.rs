//! The HTTP API, end to end: the server runs in-process on 127.0.0.1:0 with a fresh database
//! per test, and every test runs on SQLite and on PostgreSQL.

mod accesses;
mod account;
mod auth;
mod browser;
mod cli;
mod controllers;
mod credentials;
mod delivery;
mod doors;
mod errors;
mod events;
mod groups;
mod grpc;
mod hardening;
mod health;
mod isolation;
mod links;
mod members;
mod nodes;
mod oidc;
mod orgs;
mod passkeys;
mod permissions;
mod rules;
mod schedules;
mod signin;
mod sites;
mod unlocking;
mod web;

use std::net::SocketAddr;
use std::sync::Arc;

use lintel_domain::{Area, Areas, OrgId};
use lintel_server::app::oidc::Providers;
use lintel_server::app::passkeys::Passkeys;
use lintel_server::app::server_key::ServerKey;
use lintel_server::app::{self, AppState, orgs::CreateOrganization, outbox};
use lintel_server::config::OidcProvider;
use lintel_server::{HttpOptions, serve};
use lintel_store::Message;
use lintel_testkit::{Backend, FakeClock, TestDb};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::oneshot;

pub struct TestApp {
    pub addr: SocketAddr,
    pub state: AppState,
    pub clock: FakeClock,
    pub db: TestDb,
    client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

/// A small body limit, so the oversized-body test need not send megabytes.
pub const MAX_BODY: usize = 16 * 1024;

impl TestApp {
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        Some(
            Self::spawn_with(backend, "127.0.0.1", |_| (Vec::new(), ()))
                .await?
                .0,
        )
    }

    /// A server reached as `http://<host>:<port>` (`localhost` for passkeys, which refuse
    /// IP addresses), with the OpenID Connect providers `oidc` gives once the port is known,
    /// and what else it gives.
    pub async fn spawn_with<T>(
        backend: Backend,
        host: &str,
        oidc: impl FnOnce(SocketAddr) -> (Vec<OidcProvider>, T),
    ) -> Option<(TestApp, T)> {
        // The server's log, shown with a failing test's output.
        let _ = tracing_subscriber::fmt().with_test_writer().try_init();
        let db = TestDb::new(backend).await?;
        let clock = FakeClock::new();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let public_url = format!("http://{host}:{}", addr.port());
        let (providers, extra) = oidc(addr);
        let state = AppState {
            store: db.store.clone(),
            clock: Arc::new(clock.clone()),
            public_url: public_url.clone().into(),
            rules: Arc::default(),
            key: Arc::new(ServerKey::generate()),
            sms: Arc::default(),
            controllers: Arc::default(),
            oidc: Arc::new(Providers::new(providers, &public_url)),
            passkeys: Arc::new(Passkeys::new(&public_url)),
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let options = HttpOptions {
            max_body_bytes: MAX_BODY,
            // As behind a proxy, so tests can speak from many addresses.
            client_ip_header: Some(axum::http::HeaderName::from_static("x-forwarded-for")),
            timeouts: lintel_server::Timeouts::default(),
        };
        let server = tokio::spawn(serve(listener, state.clone(), options, async {
            let _ = stopped.await;
        }));
        let app = TestApp {
            addr,
            state,
            clock,
            db,
            client: reqwest::Client::new(),
            stop: Some(stop),
            server: Some(server),
        };
        Some((app, extra))
    }

    /// Creates an organization the way the operator's command line does, with an owner key.
    pub async fn org(&self, slug: &str) -> (OrgId, String) {
        let org = app::orgs::create(
            &self.state,
            &app::Actor::Console,
            CreateOrganization {
                slug: slug.into(),
                name: format!("Org {slug}"),
                time_zone: Some("Europe/Stockholm".into()),
                settings: None,
                owner: None,
            },
        )
        .await
        .unwrap()
        .org;
        let key = self.key(Some(org.id), &[Area::Owner]).await;
        (org.id, key)
    }

    /// A key of `org` (`None`: an operator key) holding `areas`.
    pub async fn key(&self, org: Option<OrgId>, areas: &[Area]) -> String {
        app::api_keys::issue(
            &self.state,
            org,
            "test",
            Areas::new(areas.iter().copied()),
            None,
            None,
            None,
        )
        .await
        .unwrap()
        .secret
    }

    /// A key of organization `slug` holding `areas`.
    pub async fn key_for(&self, slug: &str, areas: &[Area]) -> String {
        let org = self.state.store.get_org_by_slug(slug).await.unwrap();
        self.key(Some(org.id), areas).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Sends a request and returns the status and the JSON body (`Null` when empty).
    pub async fn call(
        &self,
        method: Method,
        key: &str,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.client.request(method, self.url(path)).bearer_auth(key);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.unwrap();
        read(resp).await
    }

    pub async fn get(&self, key: &str, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, key, path, None).await
    }

    pub async fn post(&self, key: &str, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, key, path, Some(body)).await
    }

    /// `post` from a client whose preferred language is `lang` (`Accept-Language`).
    pub async fn post_speaking(
        &self,
        lang: &str,
        key: &str,
        path: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        let resp = self
            .client
            .post(self.url(path))
            .bearer_auth(key)
            .header("accept-language", lang)
            .json(&body)
            .send()
            .await
            .unwrap();
        read(resp).await
    }

    pub async fn patch(&self, key: &str, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PATCH, key, path, Some(body)).await
    }

    pub async fn delete(&self, key: &str, path: &str) -> (StatusCode, Value) {
        self.call(Method::DELETE, key, path, None).await
    }

    /// Sends a body as it is, with the content type given.
    /// Posts `body` without a key, as from source address `ip` (behind the test's proxy
    /// header); the status.
    pub async fn send_from(&self, ip: &str, path: &str, body: Value) -> StatusCode {
        self.client
            .post(self.url(path))
            .header("x-forwarded-for", ip)
            .json(&body)
            .send()
            .await
            .unwrap()
            .status()
    }

    pub async fn send_raw(
        &self,
        method: Method,
        key: &str,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> (StatusCode, Value) {
        let resp = self
            .client
            .request(method, self.url(path))
            .bearer_auth(key)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        read(resp).await
    }

    /// Creates a site and returns its id.
    pub async fn site(&self, key: &str, slug: &str, name: &str) -> String {
        let (status, body) = self
            .post(
                key,
                &format!("/api/v1/orgs/{slug}/sites"),
                json!({ "name": name }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().unwrap().to_owned()
    }

    /// Creates a door at `site` and returns its id.
    pub async fn door(&self, key: &str, slug: &str, site: &str, name: &str) -> String {
        let (status, body) = self
            .post(
                key,
                &format!("/api/v1/orgs/{slug}/doors"),
                json!({ "site_id": site, "name": name }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().unwrap().to_owned()
    }

    /// Delivers the outbox as the server's job does, and returns what was sent.
    pub async fn deliver(&self) -> Vec<Message> {
        let capture = Capture::default();
        let now = lintel_domain::Clock::now(&self.clock);
        while outbox::deliver_due(&self.state, &capture, now)
            .await
            .unwrap()
            == outbox::Outcome::Worked
        {}
        capture.0.into_inner().unwrap()
    }

    /// Stops the server the way SIGTERM does and waits for it to finish.
    pub async fn shut_down(mut self) -> std::io::Result<()> {
        let _ = self.stop.take().unwrap().send(());
        self.server.take().unwrap().await.unwrap()
    }
}

/// The six-digit code in the last message sent to `to`.
pub fn code_sent_to(sent: &[Message], to: &str) -> String {
    let message = sent
        .iter()
        .rev()
        .find(|m| m.recipient == to)
        .unwrap_or_else(|| panic!("nothing was sent to {to}: {sent:?}"));
    let word = message
        .body
        .split_whitespace()
        .find(|w| w.len() == 7 && w.ends_with('.') && w[..6].bytes().all(|b| b.is_ascii_digit()))
        .unwrap_or_else(|| panic!("no code in {:?}", message.body));
    word[..6].to_owned()
}

/// The token of the sign-in link in the last email sent to `to`.
pub fn link_token(sent: &[Message], to: &str) -> String {
    let mail = sent
        .iter()
        .rev()
        .find(|m| m.channel == lintel_store::Channel::Email && m.recipient == to)
        .unwrap_or_else(|| panic!("no email to {to}: {sent:?}"));
    let start = mail.body.find("token=").expect("a link") + "token=".len();
    mail.body[start..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

/// A transport that keeps what it is given.
#[derive(Default)]
struct Capture(std::sync::Mutex<Vec<Message>>);

#[async_trait::async_trait]
impl outbox::Transport for Capture {
    async fn send(&self, message: &Message) -> Result<(), String> {
        self.0.lock().unwrap().push(message.clone());
        Ok(())
    }
}

pub async fn read(resp: reqwest::Response) -> (StatusCode, Value) {
    let status = resp.status();
    let csv = resp
        .headers()
        .get("content-type")
        .is_some_and(|t| t.as_bytes().starts_with(b"text/csv"));
    let text = resp.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else if csv {
        Value::String(text)
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
    };
    (status, body)
}

/// Asserts an error answer: its status, its code and (when given) its field.
#[track_caller]
pub fn assert_error(
    got: &(StatusCode, Value),
    status: StatusCode,
    code: &str,
    field: Option<&str>,
) {
    let (got_status, body) = got;
    assert_eq!(*got_status, status, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(!message.is_empty(), "an error needs a message: {body}");
    if let Some(field) = field {
        assert_eq!(body["error"]["field"], field, "{body}");
    }
}
