//! Registering and signing in: email link, SMS code, device tokens, and every rule around
//! them (SPEC §2).

use chrono::Duration;
use lintel_domain::Area;
use lintel_testkit::{Backend, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{TestApp, assert_error, code_sent_to, link_token};

on_both_backends!(
    a_person_registers_with_a_link_and_a_code_and_gets_a_device,
    opening_the_link_does_not_use_it_and_it_works_once,
    links_and_codes_expire,
    five_wrong_codes_end_the_attempt,
    a_hundred_wrong_codes_in_a_row_lock_the_account_until_unlocked,
    known_and_unknown_emails_get_the_same_answer,
    sends_are_limited_per_address,
    sends_are_limited_per_source_address,
    a_phone_of_another_account_is_refused,
    reissue_tokens_rotate_and_a_reused_one_unregisters_the_device,
    an_expired_auth_token_is_reissued,
    a_reissue_token_unused_for_90_days_has_expired,
    unregistering_a_device_signs_it_out,
    five_wrong_pins_unregister_the_device,
    a_wrong_clock_gets_clock_skew,
    bad_pins_and_names_do_not_count_as_wrong_codes,
    api_keys_and_devices_stay_in_their_lanes,
    emails_and_texts_are_in_the_persons_language,
);

const ADA: &str = "ada@example.com";
const ADA_PHONE: &str = "+46701234567";

fn anonymous() -> &'static str {
    ""
}

impl TestApp {
    pub async fn register(&self, email: &str, phone: &str) -> (StatusCode, Value) {
        self.post(
            anonymous(),
            "/api/v1/auth/register",
            json!({ "first_name": "Ada", "last_name": "Lovelace", "email": email, "phone": phone }),
        )
        .await
    }

    pub async fn login(&self, email: &str) -> (StatusCode, Value) {
        self.post(anonymous(), "/api/v1/auth/login", json!({ "email": email }))
            .await
    }

    /// Presents the last link sent to `email`; returns the attempt's `sign_in` handle.
    pub async fn confirm(&self, email: &str) -> String {
        let token = link_token(&self.deliver().await, email);
        let (status, body) = self.verify_link(&token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["sign_in"].as_str().unwrap().to_owned()
    }

    async fn enter_code(&self, sign_in: &str, code: &str, pin: &str) -> (StatusCode, Value) {
        self.post(
            anonymous(),
            "/api/v1/auth/sms/verify",
            json!({ "sign_in": sign_in, "code": code, "device_name": "Ada's phone", "pin": pin }),
        )
        .await
    }

    /// Presents the last code sent to `phone`.
    pub async fn finish(&self, sign_in: &str, phone: &str) -> Value {
        let code = code_sent_to(&self.deliver().await, phone);
        let (status, body) = self.enter_code(sign_in, &code, "2580").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    /// Registers and signs in a person; returns the signed-in answer.
    pub async fn sign_up(&self, email: &str, phone: &str) -> Value {
        assert_eq!(self.register(email, phone).await.0, StatusCode::ACCEPTED);
        let sign_in = self.confirm(email).await;
        self.finish(&sign_in, phone).await
    }

    pub async fn sign_in(&self, email: &str, phone: &str) -> Value {
        assert_eq!(self.login(email).await.0, StatusCode::ACCEPTED);
        let sign_in = self.confirm(email).await;
        self.finish(&sign_in, phone).await
    }

    async fn verify_link(&self, token: &str) -> (StatusCode, Value) {
        self.post(
            anonymous(),
            "/api/v1/auth/email/verify",
            json!({ "token": token }),
        )
        .await
    }

    pub async fn reissue(&self, reissue_token: &Value) -> (StatusCode, Value) {
        self.post(
            anonymous(),
            "/api/v1/auth/reissue",
            json!({ "reissue_token": reissue_token }),
        )
        .await
    }

    fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }
}

fn token(signed_in: &Value) -> String {
    signed_in["auth_token"].as_str().unwrap().to_owned()
}

async fn a_person_registers_with_a_link_and_a_code_and_gets_a_device(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (status, body) = app.register(" Ada@Example.com ", "+46 70-123 45 67").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["status"], "check_your_email");
    let sent = app.deliver().await;
    assert_eq!(sent.len(), 1);
    assert!(
        sent[0].body.contains(&app.url("/auth/confirm?token=")),
        "{}",
        sent[0].body
    );
    assert!(
        app.state
            .store
            .find_account_by_email(&lintel_domain::Email::parse("e", ADA).unwrap())
            .await
            .unwrap()
            .is_none(),
        "no account before the phone is proven"
    );

    let token_value = link_token(&sent, ADA);
    let (status, code_sent) = app.verify_link(&token_value).await;
    assert_eq!(status, StatusCode::OK, "{code_sent}");
    assert_eq!(code_sent["phone"], "+•••••••••67");
    let signed_in = app
        .finish(code_sent["sign_in"].as_str().unwrap(), ADA_PHONE)
        .await;
    assert_eq!(signed_in["account"]["email"], ADA);
    assert_eq!(signed_in["account"]["phone"], ADA_PHONE);
    assert!(
        signed_in["auth_token"]
            .as_str()
            .unwrap()
            .starts_with("lat_")
    );
    assert!(
        signed_in["reissue_token"]
            .as_str()
            .unwrap()
            .starts_with("lrt_")
    );

    let auth = token(&signed_in);
    let (status, me) = app.get(&auth, "/api/v1/me").await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me, signed_in["account"]);
    let (_, devices) = app.get(&auth, "/api/v1/me/devices").await;
    assert_eq!(devices.as_array().unwrap().len(), 1);
    assert_eq!(devices[0]["current"], true);
    assert_eq!(devices[0]["name"], "Ada's phone");
    let (status, renamed) = app
        .patch(&auth, "/api/v1/me", json!({ "first_name": "Augusta Ada" }))
        .await;
    assert_eq!(
        (status, renamed["first_name"].clone()),
        (StatusCode::OK, json!("Augusta Ada"))
    );
    // The language of pages: one Lintel speaks, or back to the browser's with "".
    assert!(renamed["language"].is_null(), "{renamed}");
    let (status, me) = app
        .patch(&auth, "/api/v1/me", json!({ "language": "sv" }))
        .await;
    assert_eq!(
        (status, me["language"].clone()),
        (StatusCode::OK, json!("sv"))
    );
    assert_eq!(app.get(&auth, "/api/v1/me").await.1["language"], "sv");
    let (status, refused) = app
        .patch(&auth, "/api/v1/me", json!({ "language": "de" }))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["error"]["field"], "language");
    let (_, me) = app
        .patch(&auth, "/api/v1/me", json!({ "language": "" }))
        .await;
    assert!(me["language"].is_null(), "{me}");

    // Signing in again adds a second device to the same account.
    let again = app.sign_in(ADA, ADA_PHONE).await;
    assert_eq!(again["account"]["id"], signed_in["account"]["id"]);
    assert_eq!(
        app.get(&token(&again), "/api/v1/me/devices")
            .await
            .1
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

async fn opening_the_link_does_not_use_it_and_it_works_once(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.register(ADA, ADA_PHONE).await;
    let token_value = link_token(&app.deliver().await, ADA);
    // A mail scanner fetching the link with GET signs nobody in and uses nothing up.
    let fetched = reqwest::get(app.url(&format!("/auth/confirm?token={token_value}")))
        .await
        .unwrap();
    assert_eq!(fetched.status(), StatusCode::OK);
    let page = fetched.text().await.unwrap();
    assert!(
        page.contains("<button>Continue</button>"),
        "the page asks before using the link: {page}"
    );
    assert_eq!(app.verify_link(&token_value).await.0, StatusCode::OK);
    assert_error(
        &app.verify_link(&token_value).await,
        StatusCode::CONFLICT,
        "link_used",
        None,
    );
    assert_error(
        &app.verify_link("made-up").await,
        StatusCode::NOT_FOUND,
        "link_not_found",
        None,
    );
}

async fn links_and_codes_expire(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.register(ADA, ADA_PHONE).await;
    let token_value = link_token(&app.deliver().await, ADA);
    app.advance(Duration::minutes(15));
    assert_error(
        &app.verify_link(&token_value).await,
        StatusCode::GONE,
        "link_expired",
        None,
    );

    app.advance(Duration::minutes(5));
    app.register(ADA, ADA_PHONE).await;
    let sign_in = app.confirm(ADA).await;
    let code = code_sent_to(&app.deliver().await, ADA_PHONE);
    app.advance(Duration::minutes(10));
    let late = app.enter_code(&sign_in, &code, "2580").await;
    assert_error(&late, StatusCode::GONE, "code_expired", None);
}

async fn five_wrong_codes_end_the_attempt(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.register(ADA, ADA_PHONE).await;
    let sign_in = app.confirm(ADA).await;
    let code = code_sent_to(&app.deliver().await, ADA_PHONE);
    let wrong = if code == "111111" { "222222" } else { "111111" };
    for left in (1..=4).rev() {
        let got = app.enter_code(&sign_in, wrong, "2580").await;
        assert_error(
            &got,
            StatusCode::UNPROCESSABLE_ENTITY,
            "wrong_code",
            Some("code"),
        );
        assert!(
            got.1["error"]["message"]
                .as_str()
                .unwrap()
                .contains(&format!(
                    "{left} {} left",
                    if left == 1 { "try" } else { "tries" }
                ))
        );
    }
    let fifth = app.enter_code(&sign_in, wrong, "2580").await;
    assert_error(&fifth, StatusCode::CONFLICT, "sign_in_ended", None);
    let right_too_late = app.enter_code(&sign_in, &code, "2580").await;
    assert_error(&right_too_late, StatusCode::CONFLICT, "sign_in_ended", None);
    let made_up = app.enter_code("lsi_nothing", &code, "2580").await;
    assert_error(&made_up, StatusCode::NOT_FOUND, "sign_in_not_found", None);
}

async fn a_hundred_wrong_codes_in_a_row_lock_the_account_until_unlocked(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.sign_up(ADA, ADA_PHONE).await;
    for _ in 0..20 {
        app.advance(Duration::minutes(3)); // within the send limits
        app.login(ADA).await;
        let sign_in = app.confirm(ADA).await;
        let code = code_sent_to(&app.deliver().await, ADA_PHONE);
        let wrong = if code == "111111" { "222222" } else { "111111" };
        for _ in 0..5 {
            app.enter_code(&sign_in, wrong, "2580").await;
        }
    }
    app.advance(Duration::minutes(3));
    app.login(ADA).await;
    let sign_in = app.confirm(ADA).await;
    let code = code_sent_to(&app.deliver().await, ADA_PHONE);
    let locked = app.enter_code(&sign_in, &code, "2580").await;
    assert_error(&locked, StatusCode::LOCKED, "account_locked", None);
    assert!(locked.1["error"]["details"]["locked_until"].is_string());

    app.state
        .store
        .unlock_account(&lintel_domain::Email::parse("e", ADA).unwrap())
        .await
        .unwrap();
    let (status, body) = app.enter_code(&sign_in, &code, "2580").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the right code works once unlocked: {body}"
    );
}

async fn known_and_unknown_emails_get_the_same_answer(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.sign_up(ADA, ADA_PHONE).await;
    let known = app.login(ADA).await;
    let unknown = app.login("nobody@example.com").await;
    assert_eq!(known, unknown);
    assert_eq!(known.0, StatusCode::ACCEPTED);
    let sent = app.deliver().await;
    assert!(sent.iter().all(|m| m.recipient != "nobody@example.com"));
    assert_eq!(sent.iter().filter(|m| m.recipient == ADA).count(), 1);
    // Registering an email that has an account answers the same too, and mails a sign-in link.
    let again = app.register(ADA, ADA_PHONE).await;
    assert_eq!(again, unknown);
    let mail = app.deliver().await;
    assert!(
        mail.iter()
            .any(|m| m.recipient == ADA && m.body.contains("sign in to Lintel"))
    );
}

async fn sends_are_limited_per_address(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.sign_up(ADA, ADA_PHONE).await;
    app.advance(Duration::minutes(10));
    for email in [ADA, "nobody@example.com"] {
        for _ in 0..3 {
            assert_eq!(app.login(email).await.0, StatusCode::ACCEPTED);
        }
        let limited = app.login(email).await;
        assert_error(
            &limited,
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            None,
        );
        let after = limited.1["error"]["details"]["retry_after_secs"]
            .as_u64()
            .unwrap();
        assert!((1..=60).contains(&after), "{after}");
    }
    let resp = reqwest::Client::new()
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({ "email": ADA }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(
        resp.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );

    app.advance(Duration::minutes(1));
    assert_eq!(
        app.login(ADA).await.0,
        StatusCode::ACCEPTED,
        "the minute has passed"
    );
    assert_eq!(app.login(ADA).await.0, StatusCode::ACCEPTED);
    let ten_minute_limit = app.login(ADA).await;
    assert_error(
        &ten_minute_limit,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_requests",
        None,
    );
}

async fn sends_are_limited_per_source_address(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let client = reqwest::Client::new();
    let login = |n: usize, forwarded: &'static str| {
        client
            .post(app.url("/api/v1/auth/login"))
            .header("x-forwarded-for", forwarded)
            .json(&json!({ "email": format!("person{n}@example.com") }))
            .send()
    };
    // The proxy appends the address it saw; what the client wrote before it is not trusted.
    for n in 0..30 {
        let spoofed = if n % 2 == 0 {
            "198.51.100.7, 203.0.113.1"
        } else {
            "203.0.113.1"
        };
        assert_eq!(
            login(n, spoofed).await.unwrap().status(),
            StatusCode::ACCEPTED
        );
    }
    let limited = login(30, "198.51.100.99, 203.0.113.1").await.unwrap();
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let other = login(31, "203.0.113.2").await.unwrap();
    assert_eq!(
        other.status(),
        StatusCode::ACCEPTED,
        "another client is not limited"
    );
}

async fn a_phone_of_another_account_is_refused(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.sign_up(ADA, ADA_PHONE).await;
    let taken = app.register("grace@example.com", "+46 70 123 45 67").await;
    assert_error(
        &taken,
        StatusCode::CONFLICT,
        "account_exists",
        Some("phone"),
    );
    let bad = app.register("grace@example.com", "0701234567").await;
    assert_error(
        &bad,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_phone",
        Some("phone"),
    );
    let bad = app.register("grace@", "+46701234568").await;
    assert_error(
        &bad,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_email",
        Some("email"),
    );
}

async fn reissue_tokens_rotate_and_a_reused_one_unregisters_the_device(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let first = app.sign_up(ADA, ADA_PHONE).await;
    let (status, second) = app.reissue(&first["reissue_token"]).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_eq!(second["device_id"], first["device_id"]);
    assert_ne!(second["reissue_token"], first["reissue_token"]);
    assert_error(
        &app.get(&token(&first), "/api/v1/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        None,
    );
    assert_eq!(
        app.get(&token(&second), "/api/v1/me").await.0,
        StatusCode::OK
    );

    // The first reissue token again: it was copied, so the device is unregistered.
    let reused = app.reissue(&first["reissue_token"]).await;
    assert_error(&reused, StatusCode::UNAUTHORIZED, "unauthenticated", None);
    assert_error(
        &app.get(&token(&second), "/api/v1/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        None,
    );
    assert_error(
        &app.reissue(&second["reissue_token"]).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        None,
    );
}

async fn a_reissue_token_unused_for_90_days_has_expired(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let signed_in = app.sign_up(ADA, ADA_PHONE).await;
    app.advance(Duration::days(89));
    let (status, fresh) = app.reissue(&signed_in["reissue_token"]).await;
    assert_eq!(status, StatusCode::OK, "{fresh}");
    app.advance(Duration::days(90));
    let expired = app.reissue(&fresh["reissue_token"]).await;
    assert_error(&expired, StatusCode::UNAUTHORIZED, "unauthenticated", None);
}

async fn an_expired_auth_token_is_reissued(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let signed_in = app.sign_up(ADA, ADA_PHONE).await;
    app.advance(Duration::minutes(15));
    let expired = app.get(&token(&signed_in), "/api/v1/me").await;
    assert_error(&expired, StatusCode::UNAUTHORIZED, "token_expired", None);
    let (status, fresh) = app.reissue(&signed_in["reissue_token"]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        app.get(&token(&fresh), "/api/v1/me").await.0,
        StatusCode::OK
    );
}

async fn unregistering_a_device_signs_it_out(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let phone = app.sign_up(ADA, ADA_PHONE).await;
    let laptop = app.sign_in(ADA, ADA_PHONE).await;
    let grace = app.sign_up("grace@example.com", "+46701234568").await;
    let path = format!(
        "/api/v1/me/devices/{}",
        phone["device_id"].as_str().unwrap()
    );
    assert_error(
        &app.delete(&token(&grace), &path).await,
        StatusCode::NOT_FOUND,
        "device_not_found",
        None,
    );
    assert_eq!(
        app.delete(&token(&laptop), &path).await.0,
        StatusCode::NO_CONTENT
    );
    assert_error(
        &app.get(&token(&phone), "/api/v1/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        None,
    );
    assert_error(
        &app.reissue(&phone["reissue_token"]).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        None,
    );
    let (_, left) = app.get(&token(&laptop), "/api/v1/me/devices").await;
    assert_eq!(left.as_array().unwrap().len(), 1);
}

async fn five_wrong_pins_unregister_the_device(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let signed_in = app.sign_up(ADA, ADA_PHONE).await;
    let auth = token(&signed_in);
    let path = format!(
        "/api/v1/me/devices/{}/pin",
        signed_in["device_id"].as_str().unwrap()
    );
    app.advance(Duration::minutes(10));
    let (status, ok) = app.post(&auth, &path, json!({ "pin": "2580" })).await;
    assert_eq!(status, StatusCode::OK, "{ok}");
    assert_ne!(ok["pin_verified_at"], signed_in["account"]["created_at"]);
    for left in (1..=4).rev() {
        let wrong = app.post(&auth, &path, json!({ "pin": "2581" })).await;
        assert_error(
            &wrong,
            StatusCode::UNPROCESSABLE_ENTITY,
            "wrong_pin",
            Some("pin"),
        );
        assert!(
            wrong.1["error"]["message"]
                .as_str()
                .unwrap()
                .contains(&format!(
                    "{left} {} left",
                    if left == 1 { "try" } else { "tries" }
                ))
        );
    }
    let fifth = app.post(&auth, &path, json!({ "pin": "2581" })).await;
    assert_error(
        &fifth,
        StatusCode::UNAUTHORIZED,
        "device_unregistered",
        None,
    );
    assert_error(
        &app.get(&auth, "/api/v1/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        None,
    );
}

async fn a_wrong_clock_gets_clock_skew(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let signed_in = app.sign_up(ADA, ADA_PHONE).await;
    let now = lintel_domain::Clock::now(&app.clock);
    let client = reqwest::Client::new();
    let at = |device_time: String| {
        client
            .get(app.url("/api/v1/me"))
            .bearer_auth(token(&signed_in))
            .header("x-device-time", device_time)
            .send()
    };
    let fine = at((now + Duration::minutes(4)).to_rfc3339()).await.unwrap();
    assert_eq!(fine.status(), StatusCode::OK);
    let (status, body) =
        crate::read(at((now - Duration::minutes(6)).to_rfc3339()).await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "clock_skew");
    assert_eq!(body["error"]["details"]["skew_secs"], -360);
    assert!(body["error"]["details"]["server_time"].is_string());
    let (status, body) = crate::read(at("yesterday".into()).await.unwrap()).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_header"))
    );
}

async fn bad_pins_and_names_do_not_count_as_wrong_codes(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.register(ADA, ADA_PHONE).await;
    let sign_in = app.confirm(ADA).await;
    let code = code_sent_to(&app.deliver().await, ADA_PHONE);
    for _ in 0..6 {
        let trivial = app.enter_code(&sign_in, &code, "1234").await;
        assert_error(
            &trivial,
            StatusCode::UNPROCESSABLE_ENTITY,
            "trivial_pin",
            Some("pin"),
        );
    }
    let short = app.enter_code(&sign_in, &code, "12").await;
    assert_error(
        &short,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_pin",
        Some("pin"),
    );
    let letters = app.enter_code(&sign_in, "abcdef", "2580").await;
    assert_error(
        &letters,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_code",
        Some("code"),
    );
    let (status, body) = app.enter_code(&sign_in, &code, "2580").await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn api_keys_and_devices_stay_in_their_lanes(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (org, key) = app.org("acme").await;
    let _ = (org, Area::Owner);
    let me = app.get(&key, "/api/v1/me").await;
    assert_error(&me, StatusCode::FORBIDDEN, "device_only", None);
    let signed_in = app.sign_up(ADA, ADA_PHONE).await;
    // A person reaches organizations through memberships; without one, none exists for them.
    let org = app.get(&token(&signed_in), "/api/v1/orgs/acme").await;
    assert_error(&org, StatusCode::NOT_FOUND, "organization_not_found", None);
    let (status, list) = app.get(&token(&signed_in), "/api/v1/orgs").await;
    assert_eq!(status, StatusCode::OK);
    assert!(list["items"].as_array().unwrap().is_empty());
}

/// What Lintel sends a person is in their language: the one they chose in their profile,
/// else the one the request asks for (`Accept-Language`), else English.
async fn emails_and_texts_are_in_the_persons_language(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (email, phone) = ("ada@example.com", "+46701234567");
    let (status, _) = app
        .post_speaking(
            "fr-FR,fr;q=0.9",
            anonymous(),
            "/api/v1/auth/register",
            json!({ "first_name": "Ada", "last_name": "Lund", "email": email, "phone": phone }),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let sent = app.deliver().await;
    let mail = sent.iter().find(|m| m.recipient == email).unwrap();
    assert_eq!(mail.subject, "Votre lien de connexion à Lintel");
    assert!(
        mail.body
            .starts_with("Bonjour,\n\nOuvrez ce lien pour terminer la création")
            && mail.body.contains("/auth/confirm?token="),
        "{}",
        mail.body
    );
    let link = link_token(&sent, email);
    let (status, body) = app
        .post_speaking(
            "fr",
            anonymous(),
            "/api/v1/auth/email/verify",
            json!({ "token": link }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let sent = app.deliver().await;
    let sms = sent.iter().find(|m| m.recipient == phone).unwrap();
    assert!(
        sms.body.starts_with("Votre code Lintel est "),
        "{}",
        sms.body
    );
    let code = code_sent_to(&sent, phone);
    let sign_in = body["sign_in"].as_str().unwrap();
    let (status, signed_in) = app.enter_code(sign_in, &code, "2580").await;
    assert_eq!(status, StatusCode::OK, "{signed_in}");

    // Chosen in the profile, Swedish wins over what a later request asks for.
    let auth = token(&signed_in);
    let (status, _) = app
        .patch(&auth, "/api/v1/me", json!({ "language": "sv" }))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .post_speaking(
            "en",
            anonymous(),
            "/api/v1/auth/login",
            json!({ "email": email }),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let sent = app.deliver().await;
    let mail = sent.iter().find(|m| m.recipient == email).unwrap();
    assert_eq!(mail.subject, "Din inloggningslänk till Lintel");
    assert!(mail.body.starts_with("Hej Ada,\n\n"), "{}", mail.body);
    let (_, body) = app.verify_link(&link_token(&sent, email)).await;
    let sent = app.deliver().await;
    assert!(
        sent.iter()
            .any(|m| m.recipient == phone && m.body.starts_with("Din Lintel-kod är ")),
        "{sent:?}"
    );
    assert!(body["sign_in"].is_string(), "{body}");

    // An invitation and a guest's link are in the sender's language, dates the local way.
    let (_, key) = app.org("acme").await;
    let (status, _) = app
        .post_speaking(
            "sv",
            &key,
            "/api/v1/orgs/acme/invitations",
            json!({ "email": "grace@example.com" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let sent = app.deliver().await;
    let invitation = sent
        .iter()
        .find(|m| m.recipient == "grace@example.com")
        .unwrap();
    assert_eq!(invitation.subject, "Du är inbjuden till Org acme i Lintel");
    assert!(
        invitation.body.contains("Länken fungerar till "),
        "{}",
        invitation.body
    );
    let (_, group) = app
        .post(
            &key,
            "/api/v1/orgs/acme/groups",
            json!({ "name": "Gäster" }),
        )
        .await;
    let (status, link) = app
        .post_speaking(
            "fr",
            &key,
            "/api/v1/orgs/acme/access-links",
            json!({
                "group_id": group["id"], "recipient_name": "Greta", "delivery": "sms",
                "address": "+12025550143", "valid_until": "2030-08-02T14:05:00Z"
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{link}");
    let sent = app.deliver().await;
    let sms = sent.iter().find(|m| m.recipient == "+12025550143").unwrap();
    assert!(
        sms.body.starts_with(
            "Org acme : votre lien d'accès, jusqu'au 2 août 2030 à 16:05 (Europe/Stockholm) : http"
        ),
        "{}",
        sms.body
    );
}
