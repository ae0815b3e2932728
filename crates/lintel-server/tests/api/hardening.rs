//! What an attacker tried: links that outreach their maker, the `members` area granting
//! access, limits and counters under parallel requests, contact changes with a stolen session,
//! and the operator key inside a tenant.

use chrono::Duration;
use futures_util::future::join_all;
use lintel_domain::Area;
use lintel_server::i18n::Lang;
use lintel_testkit::{Backend, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::members::auth;
use crate::unlocking::{ADA, ADA_PHONE, Place, acme, denied};
use crate::{TestApp, assert_error, code_sent_to};

on_both_backends!(
    a_members_link_opens_only_what_the_member_can_open_at_that_moment,
    the_members_area_alone_cannot_grant_access_through_groups,
    parallel_wrong_app_pins_are_compared_five_times_at_most,
    parallel_requests_never_pass_a_limit,
    changing_an_address_needs_the_app_pin_and_ends_sign_ins_in_flight,
    the_operator_key_administers_tenants_but_opens_no_door,
    slow_and_half_sent_requests_time_out,
    every_answer_carries_the_security_headers,
    sms_to_unproven_numbers_is_bounded,
    dates_outside_the_years_0001_to_9999_are_refused,
    requests_that_cannot_mean_what_they_say_are_refused,
    a_members_api_keys_go_when_the_member_goes,
    reset_codes_are_counted_per_number_across_attempts,
    a_wrong_clock_is_named_on_every_sign_in_step,
    names_cannot_carry_a_message_into_mail_sent_to_others,
    the_previous_owner_of_a_recycled_number_comes_back_with_email_and_a_new_phone,
);

async fn guest_unlock(app: &TestApp, secret: &str, door: &str) -> Value {
    let (status, answer) = app
        .post(
            "",
            &format!("/api/v1/links/{secret}/doors/{door}/unlock"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer
}

async fn group(app: &TestApp, key: &str, name: &str) -> String {
    let (status, made) = app
        .post(key, "/api/v1/orgs/acme/groups", json!({ "name": name }))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    made["id"].as_str().unwrap().to_owned()
}

async fn access(app: &TestApp, key: &str, body: Value) {
    let (status, made) = app.post(key, "/api/v1/orgs/acme/accesses", body).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
}

/// Ada (Staff: the front door Mon–Fri 07:00–19:00; her night shift at the back door) makes a
/// manual link for `group`.
async fn adas_link(app: &TestApp, p: &Place, group: &str) -> String {
    let (status, made) = app
        .post(
            &auth(&p.ada),
            "/api/v1/orgs/acme/access-links",
            json!({ "group_id": group, "recipient_name": "Ada's guest", "delivery": "manual" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    made["url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned()
}

async fn set_status(app: &TestApp, p: &Place, status: &str) {
    let (code, body) = app
        .patch(
            &p.key,
            &format!("/api/v1/orgs/acme/members/{}", p.ada_member),
            json!({ "status": status }),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{body}");
}

async fn a_members_link_opens_only_what_the_member_can_open_at_that_moment(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let p = acme(&app).await;
    app.patch(
        &p.key,
        "/api/v1/orgs/acme",
        json!({ "settings": { "guest_links_by_members": true } }),
    )
    .await;
    // Visitors open the front door at any hour; Ada herself only in office hours.
    let visitors = group(&app, &p.key, "Visitors").await;
    access(
        &app,
        &p.key,
        json!({ "name": "Visitors", "groups": [visitors], "doors": [{ "door_id": p.front }] }),
    )
    .await;
    let link = adas_link(&app, &p, &visitors).await;
    // A group that opens nothing yet passes at creation...
    let empty = group(&app, &p.key, "Later").await;
    let later = adas_link(&app, &p, &empty).await;
    access(
        &app,
        &p.key,
        json!({ "name": "Later", "groups": [empty], "doors": [{ "door_id": p.back }] }),
    )
    .await;

    // Monday 10:00: Ada could open the front door, so her guest can.
    assert_eq!(guest_unlock(&app, &link, &p.front).await["granted"], true);
    // ...and the back door only when Ada's night shift could.
    denied(
        &guest_unlock(&app, &later, &p.back).await,
        "outside_schedule",
    );
    // Monday 20:00: not Ada's hours, so not her guest's, whatever Visitors allow.
    app.clock.advance(Duration::hours(10));
    denied(
        &guest_unlock(&app, &link, &p.front).await,
        "outside_schedule",
    );
    app.clock
        .advance(Duration::hours(2) + Duration::minutes(30));
    assert_eq!(guest_unlock(&app, &later, &p.back).await["granted"], true);

    // Suspending Ada stops her links; reinstating her brings them back.
    set_status(&app, &p, "suspended").await;
    denied(
        &guest_unlock(&app, &later, &p.back).await,
        "membership_suspended",
    );
    set_status(&app, &p, "active").await;
    assert_eq!(guest_unlock(&app, &later, &p.back).await["granted"], true);
}

async fn the_members_area_alone_cannot_grant_access_through_groups(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let p = acme(&app).await;
    let members_only = app.key_for("acme", &[Area::Members]).await;
    let both = app
        .key_for("acme", &[Area::Members, Area::Delegation])
        .await;
    let (_, groups) = app.get(&p.key, "/api/v1/orgs/acme/groups").await;
    let staff = groups["items"][0]["id"].as_str().unwrap().to_owned();
    let book_club = group(&app, &p.key, "Book club").await;

    // Into a group that opens doors: refused, for an invitation as for a member.
    assert_error(
        &app.post(
            &members_only,
            "/api/v1/orgs/acme/invitations",
            json!({ "email": "mallory@example.com", "groups": [staff] }),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
        None,
    );
    let (status, invited) = app
        .post(
            &members_only,
            "/api/v1/orgs/acme/invitations",
            json!({ "email": "bob@example.com", "groups": [book_club] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{invited}");
    let bob = format!(
        "/api/v1/orgs/acme/members/{}",
        invited["id"].as_str().unwrap()
    );
    let ada = format!("/api/v1/orgs/acme/members/{}", p.ada_member);
    for (who, groups) in [(&bob, json!([book_club, staff])), (&ada, json!([]))] {
        assert_error(
            &app.patch(&members_only, who, json!({ "groups": groups }))
                .await,
            StatusCode::FORBIDDEN,
            "forbidden",
            None,
        );
    }
    assert_error(
        &app.delete(&members_only, &format!("/api/v1/orgs/acme/groups/{staff}"))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
        None,
    );
    // Groups that open nothing are the members area's own; with delegation, any group.
    let (status, _) = app
        .patch(&members_only, &bob, json!({ "groups": [] }))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = app.patch(&both, &bob, json!({ "groups": [staff] })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn parallel_wrong_app_pins_are_compared_five_times_at_most(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let p = acme(&app).await;
    app.patch(
        &p.key,
        "/api/v1/orgs/acme",
        json!({ "settings": { "app_pin_max_age_hours": 1 } }),
    )
    .await;
    app.clock.advance(Duration::hours(2));
    let (_, fresh) = app.reissue(&p.ada["reissue_token"]).await;
    let ada = auth(&fresh);
    let path = format!("/api/v1/orgs/acme/doors/{}/unlock", p.front);
    // Thirty wrong PINs at once: at most five are compared (four answered wrong_pin at most,
    // the fifth unregisters the device), none opens.
    let answers = join_all((0..30).map(|_| app.post(&ada, &path, json!({ "pin": "1397" })))).await;
    let wrong = answers
        .iter()
        .filter(|(_, a)| a["error"]["code"] == "wrong_pin")
        .count();
    assert!(wrong <= 4, "{answers:?}");
    assert!(answers.iter().all(|(_, a)| a["granted"] != true));
    assert!(
        answers
            .iter()
            .any(|(_, a)| a["error"]["code"] == "device_unregistered"),
        "{answers:?}"
    );
    // After the fifth wrong PIN nothing is granted to the device, the right PIN included (a
    // right PIN compared beside the fifth wrong one fails with it: the store test
    // `parallel_pin_checks_never_count_past_the_limit`).
    let (status, _) = app.post(&ada, &path, json!({ "pin": "2580" })).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn parallel_requests_never_pass_a_limit(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    acme(&app).await;
    app.deliver().await;
    // Ada's own sign-up took one of the minute's slots.
    app.clock.advance(Duration::minutes(1));
    // Three sign-in emails a minute to one address, even when eleven ask at once.
    let app = &app;
    let answers = join_all((0..11).map(|i| async move {
        let ip = format!("10.0.0.{i}");
        app.send_from(&ip, "/api/v1/auth/login", json!({ "email": ADA }))
            .await
    }))
    .await;
    let accepted = answers.iter().filter(|s| s.is_success()).count();
    assert_eq!(accepted, 3, "{answers:?}");
    assert_eq!(
        answers
            .iter()
            .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
            .count(),
        8
    );
    assert_eq!(app.deliver().await.len(), 3);
}

async fn changing_an_address_needs_the_app_pin_and_ends_sign_ins_in_flight(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let phone = auth(&app.sign_up(ADA, ADA_PHONE).await);
    // A stolen session alone changes nothing.
    let (status, _) = app
        .post(
            &phone,
            "/api/v1/me/email",
            json!({ "email": "mallory@example.com" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_error(
        &app.post(
            &phone,
            "/api/v1/me/email",
            json!({ "email": "mallory@example.com", "pin": "1397" }),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "wrong_pin",
        Some("pin"),
    );
    // A sign-in started before the change cannot finish after it.
    let (status, _) = app
        .post("", "/api/v1/auth/login", json!({ "email": ADA }))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let token = crate::link_token(&app.deliver().await, ADA);
    let (status, started) = app
        .post("", "/api/v1/auth/email/verify", json!({ "token": token }))
        .await;
    assert_eq!(status, StatusCode::OK, "{started}");
    let old_code = code_sent_to(&app.deliver().await, ADA_PHONE);
    let (status, sent) = app
        .post(
            &phone,
            "/api/v1/me/phone",
            json!({ "phone": "+46701234599", "pin": "2580" }),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{sent}");
    let code = code_sent_to(&app.deliver().await, "+46701234599");
    let (status, _) = app
        .post(
            &phone,
            "/api/v1/me/phone/verify",
            json!({ "verification": sent["verification"], "code": code }),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let finished = app
        .post(
            "",
            "/api/v1/auth/sms/verify",
            json!({ "sign_in": started["sign_in"], "code": old_code,
                    "device_name": "Mallory's phone", "pin": "2580" }),
        )
        .await;
    assert_error(&finished, StatusCode::CONFLICT, "sign_in_ended", None);
}

async fn the_operator_key_administers_tenants_but_opens_no_door(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let p = acme(&app).await;
    let operator = app.key(None, &[]).await;
    // Its own: the tenant itself and its quotas.
    let (status, _) = app.get(&operator, "/api/v1/orgs/acme").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.get(&operator, "/api/v1/orgs/acme/quotas").await;
    assert_eq!(status, StatusCode::OK);
    let quotas = json!({ "email_links": 5, "sms_links_per_month": 5 });
    let (status, body) = app
        .call(
            reqwest::Method::PUT,
            &operator,
            "/api/v1/orgs/acme/quotas",
            Some(quotas),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Not what is inside: doors, keys, members.
    for (method, path, body) in [
        (
            reqwest::Method::POST,
            format!("/api/v1/orgs/acme/doors/{}/remote-unlock", p.front),
            None,
        ),
        (
            reqwest::Method::POST,
            "/api/v1/orgs/acme/api-keys".to_owned(),
            Some(json!({ "name": "mine", "areas": ["owner"] })),
        ),
        (
            reqwest::Method::GET,
            "/api/v1/orgs/acme/members".to_owned(),
            None,
        ),
    ] {
        let got = app.call(method, &operator, &path, body).await;
        assert_error(&got, StatusCode::FORBIDDEN, "forbidden", None);
    }
}

/// The app served again on a listener of its own, with timeouts short enough to wait for.
async fn with_timeouts(
    app: &TestApp,
) -> (
    std::net::SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let options = lintel_server::HttpOptions {
        max_body_bytes: 1 << 16,
        client_ip_header: None,
        timeouts: lintel_server::Timeouts {
            header_read: std::time::Duration::from_millis(300),
            body_idle: std::time::Duration::from_millis(300),
            shutdown_grace: std::time::Duration::from_millis(300),
        },
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(lintel_server::serve(
        listener,
        app.state.clone(),
        options,
        async {
            let _ = stopped.await;
        },
    ));
    (addr, stop, server)
}

/// Whether the server closes the connection within two seconds (a read sees the end).
async fn closed_soon(stream: &mut tokio::net::TcpStream) -> bool {
    use tokio::io::AsyncReadExt as _;
    let mut buf = Vec::new();
    matches!(
        tokio::time::timeout(
            std::time::Duration::from_secs(2),
            stream.read_to_end(&mut buf)
        )
        .await,
        Ok(Ok(_))
    )
}

async fn slow_and_half_sent_requests_time_out(backend: Backend) {
    use tokio::io::AsyncWriteExt as _;
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (addr, stop, server) = with_timeouts(&app).await;
    // Nothing sent at all, half a head, and an idle kept-alive connection: each is closed.
    let mut silent = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut half = tokio::net::TcpStream::connect(addr).await.unwrap();
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut idle = tokio::net::TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    for stream in [&mut silent, &mut half, &mut idle] {
        assert!(closed_soon(stream).await);
    }
    // A body that stops half-way is answered with an error instead of waiting for ever.
    let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
    slow.write_all(
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
          Content-Length: 100\r\n\r\n{\"email\":",
    )
    .await
    .unwrap();
    assert!(closed_soon(&mut slow).await);
    // A request held open does not hold shutdown beyond its grace.
    let mut held = tokio::net::TcpStream::connect(addr).await.unwrap();
    held.write_all(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        .await
        .unwrap();
    stop.send(()).unwrap();
    let stopped = tokio::time::timeout(std::time::Duration::from_secs(3), server).await;
    assert!(matches!(stopped, Ok(Ok(Ok(())))), "{stopped:?}");
}

async fn every_answer_carries_the_security_headers(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let client = reqwest::Client::new();
    for path in ["/signin", "/api/v1/orgs", "/healthz"] {
        let resp = client.get(app.url(path)).send().await.unwrap();
        let h = resp.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["cache-control"], "no-store", "{path}");
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'none'"),
            "{csp}"
        );
        // Served over plain http here: no HSTS, which would be a promise about https.
        assert!(h.get("strict-transport-security").is_none());
    }
    // A caller's request id is kept only when it is a plain short id.
    for (sent, kept) in [("abc-123", true), ("x\r\nforged: 1", false), ("a b", false)] {
        let Ok(resp) = client
            .get(app.url("/healthz"))
            .header("x-request-id", sent)
            .send()
            .await
        else {
            // reqwest itself refuses a header with a line break: nothing to forge.
            continue;
        };
        let echoed = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert_eq!(echoed == sent, kept, "{sent:?} → {echoed:?}");
    }
}

async fn sms_to_unproven_numbers_is_bounded(backend: Backend) {
    use lintel_server::app::auth::{RegisterRequest, ResetAccountRequest, register, reset_account};
    use lintel_server::app::limits::SmsPolicy;
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.sign_up(ADA, ADA_PHONE).await;
    app.deliver().await;
    // Taking over a number is for numbers some account has: others get the same answer and
    // no SMS, so the route cannot text numbers at large.
    let (status, _) = app
        .post(
            "",
            "/api/v1/auth/reset-account",
            json!({ "phone": "+15005550006" }),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert!(app.deliver().await.is_empty());

    // The operator's countries, and a budget for the whole server: three an hour, one of
    // them taken by Ada's registration.
    let mut state = app.state.clone();
    state.sms = std::sync::Arc::new(SmsPolicy {
        countries: vec!["SE".into()],
        per_hour: 3,
    });
    let source = "10.1.1.1".parse().unwrap();
    let abroad = reset_account(
        &state,
        source,
        Lang::En,
        ResetAccountRequest {
            phone: "+15005550006".into(),
        },
    )
    .await;
    let refused = lintel_server::http::error::ApiError::from(abroad.unwrap_err());
    assert_eq!(
        (refused.code.as_str(), refused.field.as_deref()),
        ("sms_country_not_allowed", Some("phone"))
    );
    let person = |i: u32| RegisterRequest {
        first_name: "New".into(),
        last_name: "Person".into(),
        email: format!("new{i}@example.com"),
        phone: format!("+4670900000{i}"),
    };
    for i in 0..2 {
        register(
            &state,
            format!("10.2.0.{i}").parse().unwrap(),
            Lang::En,
            person(i),
        )
        .await
        .unwrap();
    }
    let over = register(&state, "10.2.0.9".parse().unwrap(), Lang::En, person(2)).await;
    let refused = lintel_server::http::error::ApiError::from(over.unwrap_err());
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
}

async fn dates_outside_the_years_0001_to_9999_are_refused(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let p = acme(&app).await;
    let year_zero = "0000-06-01T00:00:00Z";
    let (_, groups) = app.get(&p.key, "/api/v1/orgs/acme/groups").await;
    for (path, body, field) in [
        (
            "/api/v1/orgs/acme/accesses",
            json!({ "name": "Old", "valid_from": year_zero, "doors": [{ "door_id": p.front }],
                    "users": [p.ada_member] }),
            "valid_from",
        ),
        (
            "/api/v1/orgs/acme/access-links",
            json!({ "group_id": groups["items"][0]["id"], "recipient_name": "G",
                    "delivery": "manual", "valid_from": year_zero }),
            "valid_from",
        ),
        (
            "/api/v1/orgs/acme/api-keys",
            json!({ "name": "k", "areas": ["audit"], "expires_at": year_zero }),
            "expires_at",
        ),
    ] {
        let got = app.post(&p.key, path, body).await;
        assert_error(
            &got,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_date",
            Some(field),
        );
    }
    let got = app
        .get(
            &p.key,
            &format!("/api/v1/orgs/acme/events?from={year_zero}"),
        )
        .await;
    assert_error(
        &got,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_date",
        Some("from"),
    );
}

async fn requests_that_cannot_mean_what_they_say_are_refused(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let p = acme(&app).await;
    // The same client id twice in one batch.
    let id = "0190f000-0000-7000-8000-000000000042";
    let one = json!({ "id": id, "name": "Twice", "doors": [{ "door_id": p.front }],
                      "users": [p.ada_member] });
    let got = app
        .post(
            &p.key,
            "/api/v1/orgs/acme/accesses/batch",
            json!({ "accesses": [one, one] }),
        )
        .await;
    assert_error(
        &got,
        StatusCode::UNPROCESSABLE_ENTITY,
        "duplicate_id",
        Some("accesses[1].id"),
    );
    // Cards are not per site: a site filter on them would match nothing, silently.
    let got = app
        .get(&p.key, &format!("/api/v1/orgs/acme/cards?site={}", p.site))
        .await;
    assert_error(
        &got,
        StatusCode::UNPROCESSABLE_ENTITY,
        "not_for_cards",
        Some("site"),
    );
}

async fn a_members_api_keys_go_when_the_member_goes(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let p = acme(&app).await;
    let (status, _) = app
        .patch(
            &p.key,
            &format!("/api/v1/orgs/acme/members/{}", p.ada_member),
            json!({ "areas": ["api", "audit"] }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, made) = app
        .post(
            &auth(&p.ada),
            "/api/v1/orgs/acme/api-keys",
            json!({ "name": "Ada's script", "areas": ["audit"] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let secret = made["secret"].as_str().unwrap().to_owned();
    let (status, _) = app.get(&secret, "/api/v1/orgs/acme/events").await;
    assert_eq!(status, StatusCode::OK);
    app.delete(
        &p.key,
        &format!("/api/v1/orgs/acme/members/{}", p.ada_member),
    )
    .await;
    let (status, _) = app.get(&secret, "/api/v1/orgs/acme/events").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // A key the organization's own key made stays.
    let (status, _) = app.get(&p.key, "/api/v1/orgs/acme/events").await;
    assert_eq!(status, StatusCode::OK);
}

async fn reset_codes_are_counted_per_number_across_attempts(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.sign_up(ADA, ADA_PHONE).await;
    app.deliver().await;
    let mut guesses = 0;
    let mut right = None;
    // Fresh attempts, each with at most four wrong codes (under its own five).
    for attempt in 0..3 {
        if attempt > 0 {
            app.clock.advance(Duration::minutes(11));
        }
        let (_, sent) = app
            .post(
                "",
                "/api/v1/auth/reset-account",
                json!({ "phone": ADA_PHONE }),
            )
            .await;
        let code = code_sent_to(&app.deliver().await, ADA_PHONE);
        right = Some((sent["verification"].clone(), code));
        for _ in 0..4 {
            if guesses == 10 {
                break;
            }
            let got = app
                .post(
                    "",
                    "/api/v1/auth/reset-account/verify",
                    json!({ "verification": sent["verification"], "code": "000000" }),
                )
                .await;
            assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "wrong_code", None);
            guesses += 1;
        }
    }
    // Ten wrong codes for the number: the right one no longer works today, and Ada is told.
    assert_eq!(guesses, 10);
    let (verification, code) = right.unwrap();
    let got = app
        .post(
            "",
            "/api/v1/auth/reset-account/verify",
            json!({ "verification": verification, "code": code }),
        )
        .await;
    assert_error(
        &got,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_requests",
        None,
    );
    assert!(
        app.deliver()
            .await
            .iter()
            .any(|m| m.recipient == ADA && m.body.contains("stopped for a day"))
    );
}

async fn a_wrong_clock_is_named_on_every_sign_in_step(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let now = lintel_domain::Clock::now(&app.clock);
    let late = (now - Duration::hours(2)).to_rfc3339();
    let fine = (now + Duration::seconds(30)).to_rfc3339();
    for (path, body) in [
        (
            "/api/v1/auth/register",
            json!({ "first_name": "Ada", "last_name": "L", "email": ADA, "phone": ADA_PHONE }),
        ),
        ("/api/v1/auth/login", json!({ "email": ADA })),
        ("/api/v1/auth/email/verify", json!({ "token": "x" })),
        ("/api/v1/auth/reissue", json!({ "reissue_token": "lrt_x" })),
        ("/api/v1/auth/reset-account", json!({ "phone": ADA_PHONE })),
    ] {
        let resp = reqwest::Client::new()
            .post(app.url(path))
            .header("x-device-time", &late)
            .json(&body)
            .send()
            .await
            .unwrap();
        let got = crate::read(resp).await;
        assert_error(&got, StatusCode::BAD_REQUEST, "clock_skew", None);
    }
    let resp = reqwest::Client::new()
        .post(app.url("/api/v1/auth/login"))
        .header("x-device-time", &fine)
        .json(&json!({ "email": ADA }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
}

async fn names_cannot_carry_a_message_into_mail_sent_to_others(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let planted = "Your account is blocked, call 0900 123 or visit evil.example/x";
    let got = app
        .post(
            "",
            "/api/v1/auth/register",
            json!({ "first_name": planted, "last_name": "X", "email": "grace@example.com",
                    "phone": "+46705555555" }),
        )
        .await;
    assert_error(
        &got,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_name",
        Some("first_name"),
    );
    // A name-like name typed beside someone else's address is not put in their mail.
    let (status, _) = app
        .post(
            "",
            "/api/v1/auth/register",
            json!({ "first_name": "Mallory", "last_name": "O'Neil", "email": "grace@example.com",
                    "phone": "+46705555555" }),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let mail = app.deliver().await;
    assert!(mail.iter().all(|m| !m.body.contains("Mallory")), "{mail:?}");
}

async fn the_previous_owner_of_a_recycled_number_comes_back_with_email_and_a_new_phone(
    backend: Backend,
) {
    const GRACE: &str = "grace@example.com";
    const GRACE_PHONE: &str = "+46701234568";
    const NEW_PHONE: &str = "+46701234599";
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let p = acme(&app).await;
    app.invite(
        &p.key,
        "acme",
        json!({ "email": GRACE, "areas": ["members"] }),
    )
    .await;
    app.sign_up(GRACE, GRACE_PHONE).await;
    app.deliver().await;

    // A newcomer proves Ada's old number and registers with it.
    let (_, sent) = app
        .post(
            "",
            "/api/v1/auth/reset-account",
            json!({ "phone": ADA_PHONE }),
        )
        .await;
    let code = code_sent_to(&app.deliver().await, ADA_PHONE);
    let (status, _) = app
        .post(
            "",
            "/api/v1/auth/reset-account/verify",
            json!({ "verification": sent["verification"], "code": code }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let told = app.deliver().await;
    assert!(
        told.iter()
            .any(|m| m.recipient == ADA && m.body.contains("/recover")),
        "{told:?}"
    );
    app.sign_up("newcomer@example.com", ADA_PHONE).await;

    // The way back: a number another account has is refused, as at registration.
    let taken = app
        .post(
            "",
            "/api/v1/auth/recover",
            json!({ "email": ADA, "phone": GRACE_PHONE }),
        )
        .await;
    assert_error(
        &taken,
        StatusCode::CONFLICT,
        "account_exists",
        Some("phone"),
    );
    // An unknown email gets the answer a known one gets, and nothing is sent.
    let unknown = app
        .post(
            "",
            "/api/v1/auth/recover",
            json!({ "email": "nobody@example.com", "phone": NEW_PHONE }),
        )
        .await;
    assert_eq!(unknown.0, StatusCode::ACCEPTED, "{}", unknown.1);
    assert!(app.deliver().await.is_empty());

    // The email link, then a code to the new number.
    let (status, answer) = app
        .post(
            "",
            "/api/v1/auth/recover",
            json!({ "email": ADA, "phone": NEW_PHONE }),
        )
        .await;
    assert_eq!((status, &answer), (StatusCode::ACCEPTED, &unknown.1));
    let sign_in = app.confirm(ADA).await;
    let back = app.finish(&sign_in, NEW_PHONE).await;
    assert_eq!(back["account"]["phone"], NEW_PHONE);
    assert_eq!(
        back["account"]["id"], p.ada["account"]["id"],
        "the same account"
    );

    // Grace, who administers acme's members, is told, and it is on record.
    let sent = app.deliver().await;
    let notice = sent
        .iter()
        .find(|m| m.recipient == GRACE)
        .unwrap_or_else(|| panic!("no notice to Grace: {sent:?}"));
    assert!(
        notice.body.contains("Ada Lovelace") && notice.body.contains("suspend"),
        "{}",
        notice.body
    );
    let (_, log) = app
        .get(
            &p.key,
            "/api/v1/orgs/acme/events?kind=account.phone_recovered",
        )
        .await;
    assert_eq!(log["items"].as_array().unwrap().len(), 1, "{log}");
    assert_eq!(log["items"][0]["object_id"], p.ada_member, "{log}");

    // Ada's access is hers again.
    let ada = auth(&back);
    let (status, opened) = app
        .post(
            &ada,
            &format!("/api/v1/orgs/acme/doors/{}/unlock", p.front),
            json!({}),
        )
        .await;
    assert_eq!((status, &opened["granted"]), (StatusCode::OK, &json!(true)));

    // With a phone again, the way back is an ordinary sign-in: the code goes to the
    // account's phone, never to a number the requester names.
    app.clock.advance(Duration::minutes(2));
    let again = app
        .post(
            "",
            "/api/v1/auth/recover",
            json!({ "email": ADA, "phone": "+46701234511" }),
        )
        .await;
    assert_eq!(again.0, StatusCode::ACCEPTED);
    let sign_in = app.confirm(ADA).await;
    let sent = app.deliver().await;
    assert!(sent.iter().any(|m| m.recipient == NEW_PHONE), "{sent:?}");
    assert!(sent.iter().all(|m| m.recipient != "+46701234511"));
    let code = code_sent_to(&sent, NEW_PHONE);
    let (status, body) = app
        .post(
            "",
            "/api/v1/auth/sms/verify",
            json!({ "sign_in": sign_in, "code": code, "device_name": "Laptop", "pin": "2580" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["account"]["phone"], NEW_PHONE);
}
