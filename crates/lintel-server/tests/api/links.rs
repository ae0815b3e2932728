//! Access links: sent by email, SMS or by hand; opened without an account through the
//! engine as credential `link`; their states; the quotas and the country rule; links members
//! send to their own guests; and the limits on using them.

use chrono::{Duration, TimeZone as _, Utc};
use lintel_testkit::{Backend, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::members::auth;
use crate::unlocking::{Place, acme, denied};
use crate::{TestApp, assert_error};

on_both_backends!(
    a_manual_link_opens_its_groups_doors_without_an_account,
    a_link_says_when_it_is_not_valid_and_opens_nothing,
    quotas_and_the_sms_country_rule_hold,
    members_send_links_to_their_own_guests_within_their_own_access,
    using_a_link_is_limited,
);

/// A Visitors group whose access opens the front door by any means, every day, all day.
async fn visitors(app: &TestApp, p: &Place) -> String {
    let (_, group) = app
        .post(
            &p.key,
            "/api/v1/orgs/acme/groups",
            json!({ "name": "Visitors" }),
        )
        .await;
    let (status, body) = app
        .post(
            &p.key,
            "/api/v1/orgs/acme/accesses",
            json!({ "name": "Visitors", "groups": [group["id"]], "doors": [{ "door_id": p.front }] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    group["id"].as_str().unwrap().to_owned()
}

async fn send(app: &TestApp, key: &str, body: Value) -> (StatusCode, Value) {
    app.post(key, "/api/v1/orgs/acme/access-links", body).await
}

fn secret_of(created: &Value) -> String {
    let url = created["url"].as_str().unwrap();
    url.rsplit('/').next().unwrap().to_owned()
}

async fn guest_unlock(app: &TestApp, secret: &str, door: &str) -> (StatusCode, Value) {
    app.post(
        "",
        &format!("/api/v1/links/{secret}/doors/{door}/unlock"),
        json!({}),
    )
    .await
}

async fn a_manual_link_opens_its_groups_doors_without_an_account(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let p = acme(&app).await;
    let group = visitors(&app, &p).await;
    // The front door wants phones at the site: links are exempt.
    app.patch(
        &p.key,
        &format!("/api/v1/orgs/acme/doors/{}", p.front),
        json!({ "geofence_required": true, "reader_required": true }),
    )
    .await;
    let (status, created) = send(
        &app,
        &p.key,
        json!({ "group_id": group, "recipient_name": "Grace", "delivery": "manual" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["state"], "active");
    let secret = secret_of(&created);
    assert!(
        secret.starts_with("lnk_") && secret.len() >= 4 + 43,
        "{secret}"
    );
    let id = created["id"].as_str().unwrap();

    // Never again: not in the link, the list or the log.
    let (_, got) = app
        .get(&p.key, &format!("/api/v1/orgs/acme/access-links/{id}"))
        .await;
    let (_, list) = app.get(&p.key, "/api/v1/orgs/acme/access-links").await;
    let (_, log) = app.get(&p.key, "/api/v1/orgs/acme/events").await;
    for seen in [&got, &list, &log] {
        assert!(!seen.to_string().contains(&secret), "{seen}");
    }
    assert!(got.get("url").is_none());

    // The guest's view, with no key at all.
    let (status, view) = app.get("", &format!("/api/v1/links/{secret}")).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["org_name"], "Org acme");
    assert_eq!(view["recipient_name"], "Grace");
    assert_eq!(view["doors"][0]["id"], p.front.as_str());
    assert_eq!(view["doors"].as_array().unwrap().len(), 1);

    let (status, answer) = guest_unlock(&app, &secret, &p.front).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["granted"], true, "{answer}");
    // The back door is not the group's.
    let (_, answer) = guest_unlock(&app, &secret, &p.back).await;
    denied(&answer, "no_access");
    // Each is an event naming the link and its recipient.
    let (_, log) = app
        .get(&p.key, "/api/v1/orgs/acme/events?kind=decision")
        .await;
    let last = &log["items"][1];
    assert_eq!(last["kind"], "decision.granted");
    assert_eq!(last["summary"]["credential"], "link");
    assert_eq!(last["actor"]["kind"], "guest");
    assert_eq!(last["actor"]["link_id"], id);
    assert_eq!(last["actor"]["name"], "Grace");
    let (_, got) = app
        .get(&p.key, &format!("/api/v1/orgs/acme/access-links/{id}"))
        .await;
    assert!(got["last_used_at"].is_string(), "{got}");

    // Another tenant's door, a made-up secret: not found.
    let (status, body) = app
        .get(
            "",
            "/api/v1/links/lnk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["error"]["code"], "link_not_found");
    let (status, body) = guest_unlock(&app, &secret, "0190f000-0000-7000-8000-00000000dead").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

async fn a_link_says_when_it_is_not_valid_and_opens_nothing(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let p = acme(&app).await;
    let group = visitors(&app, &p).await;
    // Monday 09:00 UTC now; valid from Tuesday until Wednesday.
    let (status, created) = send(
        &app,
        &p.key,
        json!({ "group_id": group, "recipient_name": "Grace", "delivery": "manual",
                "valid_from": "2026-03-03T09:00:00Z", "valid_until": "2026-03-04T09:00:00Z" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["state"], "scheduled");
    let secret = secret_of(&created);
    let path = format!("/api/v1/links/{secret}");
    let view = || app.get("", &path);
    assert_eq!(view().await.1["state"], "scheduled");
    denied(
        &guest_unlock(&app, &secret, &p.front).await.1,
        "not_yet_valid",
    );
    app.clock.advance(Duration::days(1));
    assert_eq!(
        guest_unlock(&app, &secret, &p.front).await.1["granted"],
        true
    );
    app.clock.advance(Duration::days(1));
    assert_eq!(view().await.1["state"], "expired");
    denied(&guest_unlock(&app, &secret, &p.front).await.1, "expired");
    let (_, expired) = app
        .get(&p.key, "/api/v1/orgs/acme/access-links?state=expired")
        .await;
    assert_eq!(expired["items"].as_array().unwrap().len(), 1, "{expired}");

    // Revoked: says so, shows no doors, opens nothing.
    let (_, open) = send(
        &app,
        &p.key,
        json!({ "group_id": group, "recipient_name": "Heidi", "delivery": "manual" }),
    )
    .await;
    let secret = secret_of(&open);
    let (status, revoked) = app
        .delete(
            &p.key,
            &format!(
                "/api/v1/orgs/acme/access-links/{}",
                open["id"].as_str().unwrap()
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{revoked}");
    assert_eq!(revoked["state"], "revoked");
    let (_, seen) = app.get("", &format!("/api/v1/links/{secret}")).await;
    assert_eq!(seen["state"], "revoked");
    assert!(seen["doors"].as_array().unwrap().is_empty());
    denied(
        &guest_unlock(&app, &secret, &p.front).await.1,
        "credential_revoked",
    );

    // Validity that ends before it starts, or is over, is refused.
    for (from, until) in [
        ("2026-03-05T09:00:00Z", "2026-03-05T09:00:00Z"),
        ("2026-03-01T09:00:00Z", "2026-03-02T09:00:00Z"),
    ] {
        assert_error(
            &send(
                &app,
                &p.key,
                json!({ "group_id": group, "recipient_name": "X", "delivery": "manual",
                        "valid_from": from, "valid_until": until }),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_validity",
            Some("valid_until"),
        );
    }
    // Sorted by name; filtered by state.
    let (_, by_name) = app
        .get(&p.key, "/api/v1/orgs/acme/access-links?sort=name&limit=1")
        .await;
    assert_eq!(by_name["items"][0]["recipient_name"], "Grace");
    let cursor = by_name["next_cursor"].as_str().unwrap();
    let (_, next) = app
        .get(
            &p.key,
            &format!("/api/v1/orgs/acme/access-links?sort=name&limit=1&cursor={cursor}"),
        )
        .await;
    assert_eq!(next["items"][0]["recipient_name"], "Heidi", "{next}");
    assert!(next["next_cursor"].is_null());
}

async fn quotas_and_the_sms_country_rule_hold(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let p = acme(&app).await;
    let group = visitors(&app, &p).await;
    // Quotas are the operator's to set; owners read them.
    let (_, quotas) = app.get(&p.key, "/api/v1/orgs/acme/quotas").await;
    assert_eq!(
        quotas,
        json!({ "email_links": 1000, "sms_links_per_month": 10 })
    );
    let small = json!({ "email_links": 2, "sms_links_per_month": 1 });
    assert_error(
        &app.call(
            reqwest::Method::PUT,
            &p.key,
            "/api/v1/orgs/acme/quotas",
            Some(small.clone()),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
        None,
    );
    let operator = app.key(None, &[]).await;
    let (status, body) = app
        .call(
            reqwest::Method::PUT,
            &operator,
            "/api/v1/orgs/acme/quotas",
            Some(small),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let email = |to: &str| json!({ "group_id": group, "recipient_name": "Guest", "delivery": "email", "address": to });
    let (status, first) = send(&app, &p.key, email("a@example.com")).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert!(
        first["url"].is_null(),
        "an emailed link's secret is in the email only"
    );
    send(&app, &p.key, email("b@example.com")).await;
    let refused = send(&app, &p.key, email("c@example.com")).await;
    assert_error(
        &refused,
        StatusCode::CONFLICT,
        "email_link_quota",
        Some("delivery"),
    );
    assert!(
        refused.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("2 email links"),
        "{refused:?}"
    );
    // Revoking one frees its place.
    app.delete(
        &p.key,
        &format!(
            "/api/v1/orgs/acme/access-links/{}",
            first["id"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(
        send(&app, &p.key, email("c@example.com")).await.0,
        StatusCode::CREATED
    );
    // The email names the organization and the validity, and carries the link that works.
    let sent = app.deliver().await;
    let mail = sent
        .iter()
        .find(|m| m.recipient == "c@example.com")
        .unwrap();
    assert!(
        mail.body.contains("Org acme") && mail.body.contains("from now on"),
        "{}",
        mail.body
    );
    let url = mail
        .body
        .lines()
        .find(|l| l.contains("/l/lnk_"))
        .unwrap()
        .trim();
    let secret = url.rsplit('/').next().unwrap();
    assert_eq!(
        guest_unlock(&app, secret, &p.front).await.1["granted"],
        true
    );

    // SMS: by the number's region, not its +1.
    let sms = |to: &str| json!({ "group_id": group, "recipient_name": "Guest", "delivery": "sms", "address": to });
    for foreign in ["+18765550123", "+46701234567"] {
        assert_error(
            &send(&app, &p.key, sms(foreign)).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "sms_region_not_allowed",
            Some("address"),
        );
    }
    let (status, body) = send(&app, &p.key, sms("+12025550143")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let sent = app.deliver().await;
    let text = &sent
        .iter()
        .find(|m| m.recipient == "+12025550143")
        .unwrap()
        .body;
    assert!(
        text.starts_with("Org acme: your access link, from now on: http")
            && text.contains("/l/lnk_"),
        "{text}"
    );
    let refused = send(&app, &p.key, sms("+14165550123")).await;
    assert_error(
        &refused,
        StatusCode::CONFLICT,
        "sms_link_quota",
        Some("delivery"),
    );
    assert!(
        refused.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("sent 1 SMS")
    );
    // A new month in Stockholm: midnight on 1 April local time is 22:00 UTC on 31 March.
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 3, 31, 21, 59, 0).unwrap());
    assert_eq!(
        send(&app, &p.key, sms("+14165550123")).await.0,
        StatusCode::CONFLICT
    );
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 3, 31, 22, 0, 0).unwrap());
    assert_eq!(
        send(&app, &p.key, sms("+14165550123")).await.0,
        StatusCode::CREATED
    );

    // Addresses are checked; manual links have none.
    assert_error(
        &send(&app, &p.key, email("not an email")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_email",
        Some("address"),
    );
    assert_error(
        &send(
            &app,
            &p.key,
            json!({ "group_id": group, "recipient_name": "G", "delivery": "manual", "address": "a@example.com" }),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "address_not_allowed",
        Some("address"),
    );
}

async fn members_send_links_to_their_own_guests_within_their_own_access(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let p = acme(&app).await;
    let visitors = visitors(&app, &p).await;
    let (_, groups) = app.get(&p.key, "/api/v1/orgs/acme/groups").await;
    let staff = groups["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "Staff")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let ada = auth(&p.ada);
    let own = |group: &str, until: Option<&str>| json!({ "group_id": group, "recipient_name": "Ada's guest", "delivery": "manual", "valid_until": until });
    // Not until the organization allows it.
    assert_error(
        &send(&app, &ada, own(&staff, None)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
        None,
    );
    let (status, body) = app
        .patch(
            &p.key,
            "/api/v1/orgs/acme",
            json!({ "settings": { "guest_links_by_members": true } }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Staff's front door is Ada's; Visitors' is hers too (through Staff), but a group whose
    // door she cannot open is refused.
    let (_, elsewhere) = app
        .post(
            &p.key,
            "/api/v1/orgs/acme/groups",
            json!({ "name": "Night crew" }),
        )
        .await;
    app.post(
        &p.key,
        "/api/v1/orgs/acme/accesses",
        json!({ "name": "Night crew", "groups": [elsewhere["id"]],
                "doors": [{ "door_id": p.back }, { "door_id": p.front }] }),
    )
    .await;
    let (status, made) = send(&app, &ada, own(&visitors, None)).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(made["created_by"], p.ada_member.as_str());
    // The back door is hers by the night shift: any door she has an access to counts.
    let (status, _) = send(&app, &ada, own(elsewhere["id"].as_str().unwrap(), None)).await;
    assert_eq!(status, StatusCode::CREATED);
    let bob = app
        .invite(&p.key, "acme", json!({ "email": "bob@example.com" }))
        .await;
    let bob_auth = auth(&app.sign_up("bob@example.com", "+46703333333").await);
    assert_error(
        &send(&app, &bob_auth, own(&visitors, None)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "not_your_door",
        Some("group_id"),
    );
    // Never longer than her own access: a temporary one until Friday.
    let (_, accesses) = app
        .get(
            &p.key,
            &format!(
                "/api/v1/orgs/acme/accesses?user={}",
                bob["id"].as_str().unwrap()
            ),
        )
        .await;
    assert!(accesses["items"].as_array().unwrap().is_empty());
    app.post(
        &p.key,
        "/api/v1/orgs/acme/accesses",
        json!({ "name": "Bob this week", "kind": "temporary", "valid_to": "2026-03-06T17:00:00Z",
                "users": [bob["id"]], "doors": [{ "door_id": p.front }] }),
    )
    .await;
    assert_error(
        &send(&app, &bob_auth, own(&visitors, None)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "beyond_own_access",
        Some("valid_until"),
    );
    assert_error(
        &send(
            &app,
            &bob_auth,
            own(&visitors, Some("2026-03-07T00:00:00Z")),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "beyond_own_access",
        Some("valid_until"),
    );
    let (status, bobs) = send(
        &app,
        &bob_auth,
        own(&visitors, Some("2026-03-06T12:00:00Z")),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{bobs}");
    // Each sees their own links only; the admin sees all.
    let (_, mine) = app.get(&bob_auth, "/api/v1/orgs/acme/access-links").await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1, "{mine}");
    let (status, _) = app
        .get(
            &bob_auth,
            &format!(
                "/api/v1/orgs/acme/access-links/{}",
                made["id"].as_str().unwrap()
            ),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, all) = app.get(&p.key, "/api/v1/orgs/acme/access-links").await;
    assert_eq!(all["items"].as_array().unwrap().len(), 3);
    // Removing Bob revokes his links.
    app.delete(
        &p.key,
        &format!("/api/v1/orgs/acme/members/{}", bob["id"].as_str().unwrap()),
    )
    .await;
    let (_, gone) = app
        .get(
            &p.key,
            &format!(
                "/api/v1/orgs/acme/access-links/{}",
                bobs["id"].as_str().unwrap()
            ),
        )
        .await;
    assert_eq!(gone["state"], "revoked", "{gone}");

    // Deleting the account that sent links revokes them too.
    let (_, sent) = app.post(&ada, "/api/v1/me/delete", json!({})).await;
    let code = crate::code_sent_to(&app.deliver().await, crate::unlocking::ADA_PHONE);
    let done = app
        .post(
            &ada,
            "/api/v1/me/delete/confirm",
            json!({ "verification": sent["verification"], "code": code }),
        )
        .await;
    assert_eq!(done.0, StatusCode::NO_CONTENT, "{}", done.1);
    let (_, hers) = app
        .get(
            &p.key,
            &format!(
                "/api/v1/orgs/acme/access-links/{}",
                made["id"].as_str().unwrap()
            ),
        )
        .await;
    assert_eq!(hers["state"], "revoked", "{hers}");
}

async fn using_a_link_is_limited(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let p = acme(&app).await;
    let group = visitors(&app, &p).await;
    let (_, created) = send(
        &app,
        &p.key,
        json!({ "group_id": group, "recipient_name": "Grace", "delivery": "manual" }),
    )
    .await;
    let secret = secret_of(&created);
    for _ in 0..30 {
        assert_eq!(
            guest_unlock(&app, &secret, &p.front).await.0,
            StatusCode::OK
        );
    }
    assert_error(
        &guest_unlock(&app, &secret, &p.front).await,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_requests",
        None,
    );
    // Another link is not held back by this one.
    let (_, other) = send(
        &app,
        &p.key,
        json!({ "group_id": group, "recipient_name": "Heidi", "delivery": "manual" }),
    )
    .await;
    let other = secret_of(&other);
    assert_eq!(
        guest_unlock(&app, &other, &p.front).await.1["granted"],
        true
    );
    // One source gets 120 requests in 10 minutes, made-up secrets included.
    for _ in 0..88 {
        let (status, _) = app.get("", "/api/v1/links/lnk_made_up").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    assert_error(
        &app.get("", "/api/v1/links/lnk_made_up").await,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_requests",
        None,
    );
}
