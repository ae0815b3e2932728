//! Delivery to real servers: email to an SMTP server (aiosmtpd, from PyPI, driven by
//! `tests/support/smtp_sink.py`), SMS to an HTTP endpoint, both through the outbox.
//!
//! Without python3 and aiosmtpd the SMTP tests say so and pass, except with `CI=true` or
//! `LINTEL_TEST_REQUIRE_SMTP=1`, where they fail (`.ci/run` installs aiosmtpd).

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::Duration as ChronoDuration;
use lintel_domain::{Clock as _, MessageId};
use lintel_server::app::outbox::{self, Transport};
use lintel_server::notify::{ByChannel, HttpSms, Smtp};
use lintel_store::{Channel, Message};
use lintel_testkit::{Backend, on_both_backends};
use serde_json::{Value, json};

use crate::TestApp;

on_both_backends!(
    a_sign_in_link_reaches_a_real_smtp_server,
    a_failing_sms_provider_is_retried_with_backoff,
);

/// A running SMTP sink and the directory it writes messages to.
pub struct SmtpSink {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
}

impl SmtpSink {
    pub fn start() -> Option<SmtpSink> {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_sink.py");
        let dir = tempfile::tempdir().unwrap();
        let required = std::env::var("CI").is_ok_and(|v| v == "true")
            || std::env::var("LINTEL_TEST_REQUIRE_SMTP").is_ok_and(|v| v == "1");
        let spawned = Command::new("python3")
            .arg(&script)
            .arg(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(e) if !required => {
                eprintln!("skipped: cannot run python3 for the SMTP sink ({e})");
                return None;
            }
            Err(e) => panic!("python3 is required for the SMTP tests: {e}"),
        };
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        match line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
        {
            Some(port) => Some(SmtpSink { child, port, dir }),
            None => {
                let mut err = String::new();
                if let Some(mut stderr) = child.stderr.take() {
                    std::io::Read::read_to_string(&mut stderr, &mut err).ok();
                }
                let _ = child.kill();
                assert!(
                    !required,
                    "the SMTP sink did not start (pip install aiosmtpd): {err}"
                );
                eprintln!("skipped: the SMTP sink did not start (pip install aiosmtpd): {err}");
                None
            }
        }
    }

    /// The messages received so far, oldest first, with quoted-printable decoded as a mail
    /// client would.
    pub fn received(&self) -> Vec<String> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| decode_quoted_printable(&std::fs::read_to_string(p).unwrap()))
            .collect()
    }
}

/// Joins soft line breaks and decodes `=XX` escapes (RFC 2045 §6.7).
fn decode_quoted_printable(text: &str) -> String {
    let joined = text.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'=', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn message(channel: Channel, to: &str, body: &str) -> Message {
    Message {
        id: MessageId::new(lintel_testkit::FakeClock::START),
        channel,
        recipient: to.into(),
        subject: if channel == Channel::Email {
            "Hello".into()
        } else {
            String::new()
        },
        body: body.into(),
        attempts: 0,
        created_at: lintel_testkit::FakeClock::START,
    }
}

#[tokio::test]
async fn smtp_delivers_plain_text_mail_to_its_recipient() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let smtp = Smtp::new(
        &format!("smtp://127.0.0.1:{}", sink.port),
        "Lintel <no-reply@lintel.test>",
    )
    .unwrap();
    smtp.send(&message(
        Channel::Email,
        "ada@example.com",
        "Åke's link: https://lintel.test/x",
    ))
    .await
    .unwrap();
    let mail = sink.received();
    assert_eq!(mail.len(), 1);
    assert!(
        mail[0].starts_with("X-Envelope-To: ada@example.com"),
        "{}",
        mail[0]
    );
    assert!(
        mail[0].contains("From: Lintel <no-reply@lintel.test>"),
        "{}",
        mail[0]
    );
    assert!(mail[0].contains("Subject: Hello"), "{}", mail[0]);
    assert!(mail[0].contains("text/plain"), "{}", mail[0]);
}

#[tokio::test]
async fn unreachable_or_malformed_smtp_settings_fail_clearly() {
    assert!(Smtp::new("http://smtp.example.com", "x@example.com").is_err());
    assert!(Smtp::new("smtp://127.0.0.1:1", "not an address").is_err());
    let nobody = Smtp::new("smtp://127.0.0.1:1", "no-reply@lintel.test").unwrap();
    let err = nobody
        .send(&message(Channel::Email, "ada@example.com", "x"))
        .await
        .unwrap_err();
    assert!(err.starts_with("SMTP"), "{err}");
}

async fn a_sign_in_link_reaches_a_real_smtp_server(backend: Backend) {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let smtp = Smtp::new(
        &format!("smtp://127.0.0.1:{}", sink.port),
        "Lintel <no-reply@lintel.test>",
    )
    .unwrap();
    let transports = ByChannel {
        email: Arc::new(smtp),
        sms: Arc::new(outbox::LogTransport),
    };
    app.register("ada@example.com", "+46701234567").await;
    let now = app.clock.now();
    assert_eq!(
        outbox::deliver_due(&app.state, &transports, now)
            .await
            .unwrap(),
        outbox::Outcome::Worked
    );
    assert_eq!(
        outbox::deliver_due(&app.state, &transports, now)
            .await
            .unwrap(),
        outbox::Outcome::Idle,
        "a sent message is not sent again"
    );
    let mail = sink.received();
    assert_eq!(mail.len(), 1);
    assert!(
        mail[0].contains("Subject: Your Lintel sign-in link"),
        "{}",
        mail[0]
    );
    assert!(
        mail[0].contains(&app.url("/auth/confirm?token=")),
        "{}",
        mail[0]
    );
}

/// What a provider was sent: the `Authorization` header and the JSON body of each request.
type Received = Vec<(Option<String>, Value)>;

/// An SMS provider stand-in: answers with `status` and keeps what it was sent.
#[derive(Clone)]
struct Provider {
    status: Arc<Mutex<StatusCode>>,
    got: Arc<Mutex<Received>>,
}

async fn provider_endpoint(
    State(p): State<Provider>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> StatusCode {
    let auth = headers
        .get("authorization")
        .map(|v| v.to_str().unwrap().to_owned());
    p.got.lock().unwrap().push((auth, body));
    *p.status.lock().unwrap()
}

async fn sms_provider(status: StatusCode) -> (Provider, String) {
    let provider = Provider {
        status: Arc::new(Mutex::new(status)),
        got: Arc::default(),
    };
    let app = axum::Router::new()
        .route("/messages", axum::routing::post(provider_endpoint))
        .with_state(provider.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/messages", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (provider, url)
}

#[tokio::test]
async fn sms_are_posted_as_documented() {
    let (provider, url) = sms_provider(StatusCode::ACCEPTED).await;
    let sms = HttpSms::new(&url, Some("Bearer provider-key"), "Lintel").unwrap();
    sms.send(&message(
        Channel::Sms,
        "+46701234567",
        "Your Lintel code is 123456.",
    ))
    .await
    .unwrap();
    let got = provider.got.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0.as_deref(), Some("Bearer provider-key"));
    assert_eq!(
        got[0].1,
        json!({ "to": "+46701234567", "from": "Lintel", "text": "Your Lintel code is 123456." })
    );
    assert!(HttpSms::new("ftp://provider.example", None, "Lintel").is_err());
}

async fn a_failing_sms_provider_is_retried_with_backoff(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (provider, url) = sms_provider(StatusCode::INTERNAL_SERVER_ERROR).await;
    let transports = ByChannel {
        email: Arc::new(outbox::LogTransport),
        sms: Arc::new(HttpSms::new(&url, None, "Lintel").unwrap()),
    };
    app.register("ada@example.com", "+46701234567").await;
    let sent = app.deliver().await;
    let token = sent[0]
        .body
        .split("token=")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    app.post("", "/api/v1/auth/email/verify", json!({ "token": token }))
        .await;

    let now = app.clock.now();
    outbox::deliver_due(&app.state, &transports, now)
        .await
        .unwrap();
    assert_eq!(provider.got.lock().unwrap().len(), 1);
    // Not again before the backoff (20 s after a first failure) has passed…
    let soon = now + ChronoDuration::seconds(19);
    assert_eq!(
        outbox::deliver_due(&app.state, &transports, soon)
            .await
            .unwrap(),
        outbox::Outcome::Idle
    );
    // …then again, and the provider has recovered.
    *provider.status.lock().unwrap() = StatusCode::OK;
    let later = now + ChronoDuration::seconds(20);
    assert_eq!(
        outbox::deliver_due(&app.state, &transports, later)
            .await
            .unwrap(),
        outbox::Outcome::Worked
    );
    assert_eq!(provider.got.lock().unwrap().len(), 2);
    let much_later = later + ChronoDuration::hours(1);
    assert_eq!(
        outbox::deliver_due(&app.state, &transports, much_later)
            .await
            .unwrap(),
        outbox::Outcome::Idle
    );
}
