//! Signing in with an OpenID Connect provider, against a real one: the certified
//! `oidc-provider` package from the npm registry, run with Node (`tests/support/oidc`), behind
//! a pass-through proxy of the test's that can tamper with the ID tokens it hands back.
//!
//! Without Node or the installed package the tests say so and pass, except with `CI=true` or
//! `LINTEL_TEST_REQUIRE_OIDC=1`, where they fail (`.ci/run` installs the package).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use lintel_server::config::OidcProvider;
use lintel_store::Channel;
use lintel_testkit::{Backend, on_both_backends};
use serde_json::{Value, json};

use crate::members::{OWNER, OWNER_PHONE, auth};
use crate::web::Browser;
use crate::{TestApp, assert_error, code_sent_to};

on_both_backends!(
    a_provider_proves_the_email_of_an_account_and_the_code_still_goes_to_its_phone,
    a_provider_email_that_matches_nothing_gets_the_answer_of_an_unknown_email,
    an_invited_email_registers_through_a_provider_and_joins,
    a_forged_or_replayed_provider_answer_is_refused,
    a_provider_that_rotated_its_keys_still_signs_in,
    a_browsers_provider_answer_goes_nowhere_in_another_browser,
    a_linked_identity_signs_in_by_its_subject_and_can_be_unlinked,
    organizations_may_let_the_provider_alone_sign_their_members_in,
);

/// What the proxy does to the next ID token it hands back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tamper {
    Nothing,
    /// Changes one character of its signature.
    Signature,
    /// Hands back the ID token of the sign-in before (validly signed, for another nonce).
    Replay,
}

#[derive(Clone)]
struct Proxy {
    upstream: String,
    tamper: Arc<Mutex<Tamper>>,
    last_id_token: Arc<Mutex<Option<String>>>,
    http: reqwest::Client,
}

/// The provider and the proxy in front of it, whose address is the issuer.
pub struct Op {
    child: Child,
    port: u16,
    clients: String,
    proxy: Proxy,
    proxy_listener: Option<std::net::TcpListener>,
    pub issuer: String,
}

impl Drop for Op {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn required() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
        || std::env::var("LINTEL_TEST_REQUIRE_OIDC").is_ok_and(|v| v == "1")
}

fn support_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/oidc")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn spawn_provider(port: u16, issuer: &str, clients: &str, key_id: &str) -> std::io::Result<Child> {
    Command::new("node")
        .arg("provider.mjs")
        .current_dir(support_dir())
        .env("OIDC_PORT", port.to_string())
        .env("OIDC_ISSUER", issuer)
        .env("OIDC_CLIENTS", clients)
        .env("OIDC_KEY_ID", key_id)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
}

impl Op {
    /// Starts the provider for a Lintel at `http://<host>:<app.port>`, or says why not.
    pub fn start(app: SocketAddr, host: &str) -> (Vec<OidcProvider>, Option<Op>) {
        let installed = support_dir().join("node_modules/oidc-provider").is_dir();
        let proxy_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        proxy_listener.set_nonblocking(true).unwrap();
        let issuer = format!("http://{}", proxy_listener.local_addr().unwrap());
        let callback = |id: &str| format!("http://{host}:{}/auth/oidc/{id}/callback", app.port());
        let clients = json!([
            { "client_id": "lintel", "client_secret": "lintel-secret",
              "redirect_uris": [callback("op")] },
            { "client_id": "lintel-post", "client_secret": "lintel-post-secret",
              "redirect_uris": [callback("op-post")] },
        ])
        .to_string();
        let port = free_port();
        let spawned = if installed {
            spawn_provider(port, &issuer, &clients, "key-1")
        } else {
            Err(std::io::Error::other(
                "tests/support/oidc has no node_modules",
            ))
        };
        let child = match spawned {
            Ok(child) => child,
            Err(e) => {
                assert!(
                    !required(),
                    "the OpenID Connect tests need Node and `npm ci --prefix \
                     crates/lintel-server/tests/support/oidc` ({e})"
                );
                eprintln!("skipped: no OpenID provider to run ({e})");
                return (Vec::new(), None);
            }
        };
        let providers = vec![
            OidcProvider {
                id: "op".into(),
                name: "Test OP".into(),
                issuer: issuer.clone(),
                client_id: "lintel".into(),
                client_secret: "lintel-secret".into(),
                response_mode: None,
            },
            OidcProvider {
                id: "op-post".into(),
                name: "Test OP by post".into(),
                issuer: issuer.clone(),
                client_id: "lintel-post".into(),
                client_secret: "lintel-post-secret".into(),
                response_mode: Some("form_post".into()),
            },
        ];
        let op = Op {
            child,
            port,
            clients,
            proxy: Proxy {
                upstream: format!("http://127.0.0.1:{port}"),
                tamper: Arc::new(Mutex::new(Tamper::Nothing)),
                last_id_token: Arc::default(),
                http: reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .unwrap(),
            },
            proxy_listener: Some(proxy_listener),
            issuer,
        };
        (providers, Some(op))
    }

    /// Serves the proxy and waits for the provider to answer.
    pub async fn ready(&mut self) {
        if let Some(listener) = self.proxy_listener.take() {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let router = axum::Router::new()
                .fallback(forward)
                .with_state(self.proxy.clone());
            tokio::spawn(async move { axum::serve(listener, router).await });
        }
        let discovery = format!("{}/.well-known/openid-configuration", self.issuer);
        for _ in 0..100 {
            if reqwest::get(&discovery)
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the OpenID provider did not answer at {discovery}");
    }

    /// Starts the provider again with a new signing key (and nothing else remembered).
    pub async fn rotate_key(&mut self, key_id: &str) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.child = spawn_provider(self.port, &self.issuer, &self.clients, key_id).unwrap();
        self.ready().await;
    }

    pub fn tamper(&self, how: Tamper) {
        *self.proxy.tamper.lock().unwrap() = how;
    }

    /// Signs in at the provider as `login` from `authorization_url`, as a person would on
    /// its page, and returns where it sends them back: the redirect URI with `code` and
    /// `state`.
    pub async fn sign_in(&self, authorization_url: &str, login: &str) -> (String, String) {
        let browser = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let mut url = authorization_url.to_owned();
        for _ in 0..10 {
            let response = browser.get(&url).send().await.unwrap();
            let mut response = if response.status() == reqwest::StatusCode::OK {
                // The provider's login page: any password will do.
                let page = response.text().await.unwrap();
                let action = between(&page, "action=\"", "\"").expect("a login form");
                let action = if action.starts_with('/') {
                    format!("{}{action}", self.issuer)
                } else {
                    action.to_owned()
                };
                browser
                    .post(action)
                    .form(&[("prompt", "login"), ("login", login), ("password", "any")])
                    .send()
                    .await
                    .unwrap()
            } else {
                response
            };
            while response.status().is_redirection() {
                let location = response.headers()["location"].to_str().unwrap().to_owned();
                let next = if location.starts_with('/') {
                    format!("{}{location}", self.issuer)
                } else {
                    location
                };
                if next.contains("/auth/oidc/") {
                    let query = next.split_once('?').unwrap().1;
                    let pairs: Vec<(String, String)> = serde_urlencoded_pairs(query);
                    let get = |k: &str| {
                        pairs
                            .iter()
                            .find(|(key, _)| key == k)
                            .map(|(_, v)| v.clone())
                            .unwrap_or_else(|| panic!("no {k} in {next}"))
                    };
                    return (get("code"), get("state"));
                }
                response = browser.get(&next).send().await.unwrap();
            }
            url = response.url().to_string();
            if response.status() != reqwest::StatusCode::OK {
                panic!("the provider answered {}", response.status());
            }
        }
        panic!("the provider never sent the person back");
    }
}

fn serde_urlencoded_pairs(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let to = text[from..].find(end)? + from;
    Some(&text[from..to])
}

/// Passes a request on to the provider, and tampers with the ID token of a token answer
/// when told to.
async fn forward(
    State(proxy): State<Proxy>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut request = proxy
        .http
        .request(method, format!("{}{path}", proxy.upstream))
        .body(body);
    for (name, value) in &headers {
        // The provider builds its URLs from the Host it is asked at: the proxy's.
        if name != "content-length" {
            request = request.header(name, value);
        }
    }
    let Ok(upstream) = request.send().await else {
        // The provider is starting (or starting again).
        return StatusCode::BAD_GATEWAY.into_response();
    };
    let status = upstream.status();
    let mut out_headers = HeaderMap::new();
    for (name, value) in upstream.headers() {
        if name != "content-length" && name != "transfer-encoding" {
            out_headers.append(name, value.clone());
        }
    }
    let mut body = upstream.bytes().await.unwrap().to_vec();
    if uri.path() == "/token"
        && let Ok(mut answer) = serde_json::from_slice::<Value>(&body)
        && let Some(token) = answer["id_token"].as_str().map(str::to_owned)
    {
        let previous = proxy.last_id_token.lock().unwrap().replace(token.clone());
        let tamper = std::mem::replace(&mut *proxy.tamper.lock().unwrap(), Tamper::Nothing);
        let handed = match tamper {
            Tamper::Nothing => token,
            Tamper::Signature => {
                let mut chars: Vec<char> = token.chars().collect();
                let i = chars.len() - 5;
                chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
                chars.into_iter().collect()
            }
            Tamper::Replay => previous.expect("a sign-in before"),
        };
        answer["id_token"] = handed.into();
        body = serde_json::to_vec(&answer).unwrap();
    }
    (
        StatusCode::from_u16(status.as_u16()).unwrap(),
        out_headers,
        body,
    )
        .into_response()
}

/// A Lintel with the provider in front of it, both running.
pub async fn app_with_provider(backend: Backend, host: &str) -> Option<(TestApp, Op)> {
    let (app, op) = TestApp::spawn_with(backend, host, |addr| Op::start(addr, host)).await?;
    let mut op = op?;
    op.ready().await;
    Some((app, op))
}

const ADA: &str = "ada@example.com";
const ADA_PHONE: &str = "+46701234567";

impl TestApp {
    /// Starts a provider sign-in through the API; returns the provider's URL.
    async fn start_oidc(&self, provider: &str) -> String {
        let (status, started) = self
            .post(
                "",
                &format!("/api/v1/auth/oidc/{provider}/start"),
                json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{started}");
        started["authorization_url"].as_str().unwrap().to_owned()
    }

    async fn finish_oidc(&self, provider: &str, answer: &(String, String)) -> (StatusCode, Value) {
        self.post(
            "",
            &format!("/api/v1/auth/oidc/{provider}/finish"),
            json!({ "code": answer.0, "state": answer.1 }),
        )
        .await
    }

    /// Signs in at the provider as `login` and hands its answer to Lintel.
    async fn through_provider(&self, op: &Op, login: &str) -> (StatusCode, Value) {
        let url = self.start_oidc("op").await;
        let answer = op.sign_in(&url, login).await;
        self.finish_oidc("op", &answer).await
    }
}

async fn a_provider_proves_the_email_of_an_account_and_the_code_still_goes_to_its_phone(
    backend: Backend,
) {
    let Some((app, op)) = app_with_provider(backend, "127.0.0.1").await else {
        return;
    };
    let (_, providers) = app.get("", "/api/v1/auth/oidc/providers").await;
    assert_eq!(
        providers,
        json!([{ "id": "op", "name": "Test OP" }, { "id": "op-post", "name": "Test OP by post" }])
    );
    let ada = auth(&app.sign_up(ADA, ADA_PHONE).await);
    let url = app.start_oidc("op").await;
    assert!(url.starts_with(&op.issuer), "{url} is not at {}", op.issuer);
    for param in [
        "code_challenge_method=S256",
        "nonce=",
        "state=",
        "scope=openid",
    ] {
        assert!(url.contains(param), "{param} missing from {url}");
    }
    let answer = op.sign_in(&url, ADA).await;
    let (status, outcome) = app.finish_oidc("op", &answer).await;
    assert_eq!(status, StatusCode::OK, "{outcome}");
    assert_eq!(outcome["status"], "code_sent");
    assert_eq!(outcome["phone"], "+•••••••••67");
    // The provider stood in for the emailed link only: nothing was emailed, and the code
    // went to Ada's phone.
    let sent = app.deliver().await;
    assert!(sent.iter().all(|m| m.channel == Channel::Sms), "{sent:?}");
    let (status, signed_in) = app
        .post(
            "",
            "/api/v1/auth/sms/verify",
            json!({ "sign_in": outcome["sign_in"], "code": code_sent_to(&sent, ADA_PHONE),
                    "device_name": "Ada's phone", "pin": "2580" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{signed_in}");
    assert_eq!(signed_in["account"]["email"], ADA);
    // The answer works once.
    let (status, again) = app.finish_oidc("op", &answer).await;
    assert_error(
        &(status, again.clone()),
        StatusCode::CONFLICT,
        "provider_flow_ended",
        None,
    );

    let (_, linked) = app.get(&ada, "/api/v1/me/providers").await;
    assert_eq!(linked.as_array().unwrap().len(), 1, "{linked}");
    assert_eq!(linked[0]["provider"], "op");
    assert_eq!(linked[0]["email"], ADA);
}

async fn a_provider_email_that_matches_nothing_gets_the_answer_of_an_unknown_email(
    backend: Backend,
) {
    let Some((app, op)) = app_with_provider(backend, "127.0.0.1").await else {
        return;
    };
    app.sign_up(ADA, ADA_PHONE).await;
    let (_, unknown) = app.login("nobody@example.com").await;
    assert!(app.deliver().await.is_empty());

    // A stranger, proven by the provider: the same answer, nothing sent, no account made.
    let (status, outcome) = app.through_provider(&op, "stranger@example.com").await;
    assert_eq!(status, StatusCode::OK, "{outcome}");
    assert_eq!(outcome, unknown);
    assert!(app.deliver().await.is_empty());
    let stranger = lintel_domain::Email::parse("email", "stranger@example.com").unwrap();
    assert!(
        app.state
            .store
            .find_account_by_email(&stranger)
            .await
            .unwrap()
            .is_none()
    );

    // Ada's email, but the provider has not verified it: the same answer, and what a
    // login with her email gets (a link to her mailbox), no code to her phone.
    let (status, outcome) = app
        .through_provider(&op, "unverified:ada@example.com")
        .await;
    assert_eq!(status, StatusCode::OK, "{outcome}");
    assert_eq!(outcome, unknown);
    let sent = app.deliver().await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(
        (sent[0].channel, sent[0].recipient.as_str()),
        (Channel::Email, ADA)
    );
    // And nothing was linked to her account.
    assert_eq!(
        app.state
            .store
            .account_of_identity(&op.issuer, "sub-unverified:ada@example.com")
            .await
            .unwrap(),
        None
    );
}

async fn an_invited_email_registers_through_a_provider_and_joins(backend: Backend) {
    let Some((app, op)) = app_with_provider(backend, "127.0.0.1").await else {
        return;
    };
    let owner = app.org_with_owner("acme").await;
    app.invite(&owner, "acme", json!({ "email": "grace@example.com" }))
        .await;
    app.deliver().await;
    let (status, outcome) = app.through_provider(&op, "grace@example.com").await;
    assert_eq!(status, StatusCode::OK, "{outcome}");
    assert_eq!(outcome["status"], "phone_needed", "{outcome}");
    assert_eq!(outcome["email"], "grace@example.com");
    assert_eq!(
        (&outcome["first_name"], &outcome["last_name"]),
        (&json!("Grace"), &json!("Tester"))
    );
    let registration = outcome["registration"].as_str().unwrap();
    let register = |phone: &str| {
        json!({ "registration": registration, "first_name": "Grace", "last_name": "Hopper",
                "phone": phone })
    };
    // A phone to correct does not end the registration.
    let (status, body) = app
        .post("", "/api/v1/auth/oidc/register", register("12"))
        .await;
    assert_error(
        &(status, body.clone()),
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_phone",
        Some("phone"),
    );
    let (status, sent) = app
        .post("", "/api/v1/auth/oidc/register", register("+46709999999"))
        .await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    let (status, again) = app
        .post("", "/api/v1/auth/oidc/register", register("+46709999998"))
        .await;
    assert_error(
        &(status, again.clone()),
        StatusCode::CONFLICT,
        "provider_flow_ended",
        None,
    );
    let grace = app
        .finish(sent["sign_in"].as_str().unwrap(), "+46709999999")
        .await;
    assert_eq!(grace["account"]["first_name"], "Grace");
    let (_, mine) = app.get(&auth(&grace), "/api/v1/me/memberships").await;
    assert_eq!(mine[0]["org_slug"], "acme", "{mine}");
    assert_eq!(mine[0]["status"], "active", "{mine}");
    let (_, events) = app
        .get(
            &owner,
            "/api/v1/orgs/acme/events?kind=account.provider_linked",
        )
        .await;
    assert_eq!(events["items"].as_array().unwrap().len(), 1, "{events}");
    let (_, events) = app
        .get(&owner, "/api/v1/orgs/acme/events?kind=account.signed_in")
        .await;
    let methods: Vec<_> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["summary"]["method"].clone())
        .collect();
    assert!(methods.contains(&json!("oidc")), "{events}");
}

async fn a_forged_or_replayed_provider_answer_is_refused(backend: Backend) {
    let Some((app, op)) = app_with_provider(backend, "127.0.0.1").await else {
        return;
    };
    app.sign_up(ADA, ADA_PHONE).await;
    assert_eq!(app.through_provider(&op, ADA).await.0, StatusCode::OK);
    app.deliver().await;

    // An ID token whose signature does not match.
    op.tamper(Tamper::Signature);
    let (status, body) = app.through_provider(&op, ADA).await;
    assert_error(
        &(status, body.clone()),
        StatusCode::UNPROCESSABLE_ENTITY,
        "provider_answer_invalid",
        Some("code"),
    );
    // A valid ID token from an earlier sign-in: its nonce is not this flow's.
    op.tamper(Tamper::Replay);
    let (status, body) = app.through_provider(&op, ADA).await;
    assert_error(
        &(status, body.clone()),
        StatusCode::UNPROCESSABLE_ENTITY,
        "provider_answer_invalid",
        Some("code"),
    );
    // One flow's code with another flow's state: the provider refuses the PKCE verifier.
    let first = op.sign_in(&app.start_oidc("op").await, ADA).await;
    let second = op.sign_in(&app.start_oidc("op").await, ADA).await;
    let (status, body) = app
        .finish_oidc("op", &(first.0.clone(), second.1.clone()))
        .await;
    assert_error(
        &(status, body.clone()),
        StatusCode::UNPROCESSABLE_ENTITY,
        "provider_answer_invalid",
        Some("code"),
    );
    // A made-up state, and another provider's.
    let (status, body) = app
        .finish_oidc("op", &(first.0.clone(), "made-up".into()))
        .await;
    assert_error(
        &(status, body.clone()),
        StatusCode::CONFLICT,
        "provider_flow_ended",
        None,
    );
    let (status, body) = app.finish_oidc("op-post", &first).await;
    assert_error(
        &(status, body.clone()),
        StatusCode::CONFLICT,
        "provider_flow_ended",
        None,
    );
    // None of it sent a code.
    assert!(app.deliver().await.is_empty());
}

async fn a_provider_that_rotated_its_keys_still_signs_in(backend: Backend) {
    let Some((app, mut op)) = app_with_provider(backend, "127.0.0.1").await else {
        return;
    };
    app.sign_up(ADA, ADA_PHONE).await;
    let (status, outcome) = app.through_provider(&op, ADA).await;
    assert_eq!(
        (status, &outcome["status"]),
        (StatusCode::OK, &json!("code_sent"))
    );
    // Lintel holds the first key; the provider now signs with another.
    op.rotate_key("key-2").await;
    let (status, outcome) = app.through_provider(&op, ADA).await;
    assert_eq!(status, StatusCode::OK, "{outcome}");
    assert_eq!(outcome["status"], "code_sent");
}

async fn a_linked_identity_signs_in_by_its_subject_and_can_be_unlinked(backend: Backend) {
    let Some((app, op)) = app_with_provider(backend, "127.0.0.1").await else {
        return;
    };
    let ada = auth(&app.sign_up(ADA, ADA_PHONE).await);
    // Ada links the provider account "ada.work@example.com" from her profile.
    let (status, started) = app
        .post(&ada, "/api/v1/me/providers/op/start", json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{started}");
    let answer = op
        .sign_in(
            started["authorization_url"].as_str().unwrap(),
            "ada.work@example.com",
        )
        .await;
    // Only through the API of the account that began it.
    let (status, body) = app.finish_oidc("op", &answer).await;
    assert_error(
        &(status, body.clone()),
        StatusCode::NOT_FOUND,
        "sign_in_not_found",
        None,
    );
    let started = app
        .post(&ada, "/api/v1/me/providers/op/start", json!({}))
        .await
        .1;
    let answer = op
        .sign_in(
            started["authorization_url"].as_str().unwrap(),
            "ada.work@example.com",
        )
        .await;
    let (status, linked) = app
        .post(
            &ada,
            "/api/v1/me/providers/op/finish",
            json!({ "code": answer.0, "state": answer.1 }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{linked}");
    assert_eq!(linked["email"], "ada.work@example.com");

    // Its email is not Ada's, yet it signs her in: by issuer and subject.
    let (status, outcome) = app.through_provider(&op, "ada.work@example.com").await;
    assert_eq!(
        (status, &outcome["status"]),
        (StatusCode::OK, &json!("code_sent"))
    );
    // With it linked, another identity at the provider with Ada's email is not Ada.
    app.deliver().await;
    let (_, unknown) = app.login("nobody@example.com").await;
    let (_, outcome) = app.through_provider(&op, ADA).await;
    assert_eq!(outcome, unknown);

    let (status, _) = app.delete(&ada, "/api/v1/me/providers/op").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = app.delete(&ada, "/api/v1/me/providers/op").await;
    assert_error(
        &(status, body.clone()),
        StatusCode::NOT_FOUND,
        "linked_provider_not_found",
        None,
    );
    app.deliver().await;
    let (_, outcome) = app.through_provider(&op, "ada.work@example.com").await;
    assert_eq!(outcome, unknown, "unlinked, it is a stranger again");
    let sent = app.deliver().await;
    assert!(code_sent_to_nobody(&sent), "{sent:?}");
}

/// Begins a sign-in with the provider in `browser`, signs `login` in there, and returns the
/// callback address the provider sends the browser back to.
async fn provider_answer(browser: &Browser<'_>, op: &Op, login: &str) -> String {
    let (status, _, headers) = browser.post("/auth/oidc/op", &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let at = headers["location"].to_str().unwrap();
    let (code, state) = op.sign_in(at, login).await;
    let query = serde_urlencoded::to_string([("code", code), ("state", state)]).unwrap();
    format!("/auth/oidc/op/callback?{query}")
}

async fn a_browsers_provider_answer_goes_nowhere_in_another_browser(backend: Backend) {
    let Some((app, op)) = app_with_provider(backend, "127.0.0.1").await else {
        return;
    };
    app.sign_up(ADA, ADA_PHONE).await;
    app.deliver().await;
    let (mine, other) = (Browser::new(&app), Browser::new(&app));

    // Ada's answer, opened by someone else's browser (a link sent to them, say), signs
    // nobody in, and is spent: Ada's browser cannot use it afterwards either.
    let callback = provider_answer(&mine, &op, ADA).await;
    let (status, page, _) = other.get(&callback).await;
    assert_eq!(status, StatusCode::CONFLICT, "{page}");
    assert!(page.contains("has ended or was used already"), "{page}");
    let (status, _, _) = mine.get(&callback).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(app.deliver().await.is_empty(), "no code was sent");

    // In the browser that began it, the answer leads to the code.
    let callback = provider_answer(&mine, &op, ADA).await;
    let (status, page, _) = mine.get(&callback).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Enter your code"), "{page}");
    code_sent_to(&app.deliver().await, ADA_PHONE);
}

async fn organizations_may_let_the_provider_alone_sign_their_members_in(backend: Backend) {
    let Some((app, op)) = app_with_provider(backend, "127.0.0.1").await else {
        return;
    };
    let owner = app.org_with_owner("acme").await;
    app.deliver().await;
    let without_code = |on: bool| json!({ "settings": { "provider_sign_in_without_code": on } });
    let complete =
        |sign_in: &Value| json!({ "sign_in": sign_in, "device_name": "Laptop", "pin": "2580" });

    // By default the code still goes to the phone, and that sign-in needs it.
    let (_, outcome) = app.through_provider(&op, OWNER).await;
    assert_eq!(outcome["status"], "code_sent", "{outcome}");
    code_sent_to(&app.deliver().await, OWNER_PHONE);
    let (status, body) = app
        .post(
            "",
            "/api/v1/auth/oidc/complete",
            complete(&outcome["sign_in"]),
        )
        .await;
    assert_error(
        &(status, body.clone()),
        StatusCode::CONFLICT,
        "code_needed",
        Some("sign_in"),
    );

    // Acme lets the provider alone sign in: no code is sent, and none finishes it.
    let (status, org) = app
        .patch(&owner, "/api/v1/orgs/acme", without_code(true))
        .await;
    assert_eq!(status, StatusCode::OK, "{org}");
    assert_eq!(org["settings"]["provider_sign_in_without_code"], true);
    let (status, outcome) = app.through_provider(&op, OWNER).await;
    assert_eq!(status, StatusCode::OK, "{outcome}");
    assert_eq!(outcome["status"], "ready", "{outcome}");
    assert!(outcome.get("phone").is_none(), "{outcome}");
    assert!(code_sent_to_nobody(&app.deliver().await));
    let (status, body) = app
        .post(
            "",
            "/api/v1/auth/sms/verify",
            json!({ "sign_in": outcome["sign_in"], "code": "000000",
                    "device_name": "Laptop", "pin": "2580" }),
        )
        .await;
    assert_error(
        &(status, body.clone()),
        StatusCode::UNPROCESSABLE_ENTITY,
        "wrong_code",
        Some("code"),
    );
    let (status, signed_in) = app
        .post(
            "",
            "/api/v1/auth/oidc/complete",
            complete(&outcome["sign_in"]),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{signed_in}");
    assert_eq!(signed_in["account"]["email"], OWNER);
    let (status, me) = app.get(&auth(&signed_in), "/api/v1/me/memberships").await;
    assert_eq!(
        (status, &me[0]["org_slug"]),
        (StatusCode::OK, &json!("acme"))
    );
    let (status, again) = app
        .post(
            "",
            "/api/v1/auth/oidc/complete",
            complete(&outcome["sign_in"]),
        )
        .await;
    assert_error(
        &(status, again.clone()),
        StatusCode::CONFLICT,
        "sign_in_ended",
        None,
    );
    let (_, events) = app
        .get(&owner, "/api/v1/orgs/acme/events?kind=account.signed_in")
        .await;
    assert_eq!(
        events["items"][0]["summary"],
        json!({ "method": "oidc", "provider": "op", "sms_code": false }),
        "{events}"
    );

    // An invitation from an organization that was not asked waits: signing in would accept
    // it, so the code is needed again; and once the owner has joined Globex, which does not
    // allow it, still.
    // (A minute later: an email starts at most 3 sign-ins a minute and 5 in 10 minutes.)
    app.clock.advance(chrono::Duration::minutes(1));
    let (_, globex) = app.org("globex").await;
    app.invite(&globex, "globex", json!({ "email": OWNER }))
        .await;
    let token = app.invitation_token(OWNER).await;
    let (_, outcome) = app.through_provider(&op, OWNER).await;
    assert_eq!(outcome["status"], "code_sent", "{outcome}");
    let (status, joined) = app
        .post(
            &owner,
            &format!("/api/v1/invitations/{token}/accept"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{joined}");
    let (_, outcome) = app.through_provider(&op, OWNER).await;
    assert_eq!(outcome["status"], "code_sent", "{outcome}");
    let (status, _) = app
        .patch(&globex, "/api/v1/orgs/globex", without_code(true))
        .await;
    assert_eq!(status, StatusCode::OK);
    app.deliver().await;

    // In the browser, a page names the device and sets its PIN; no code is asked.
    app.clock
        .advance(chrono::Duration::minutes(10) + chrono::Duration::seconds(1));
    let browser = Browser::new(&app);
    let callback = provider_answer(&browser, &op, OWNER).await;
    let (status, page, _) = browser.get(&callback).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Name this device"), "{page}");
    assert!(!page.contains("name=\"code\""), "{page}");
    let sign_in = between(&page, "name=\"sign_in\" value=\"", "\"").unwrap();
    let (status, _, headers) = browser
        .post(
            "/auth/code",
            &[
                ("sign_in", sign_in),
                ("without_code", "1"),
                ("device_name", "Browser"),
                ("pin", "2580"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], "/me");
    let (status, page, _) = browser.get("/me").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(OWNER), "{page}");
    assert!(code_sent_to_nobody(&app.deliver().await));
}

fn code_sent_to_nobody(sent: &[lintel_store::Message]) -> bool {
    sent.iter().all(|m| m.channel != Channel::Sms)
}
