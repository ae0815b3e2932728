//! Accesses over the API (the Entryfy model): doors with authentication types each way,
//! users and groups, schedule and validity; batches all or nothing; welcome emails; deletion
//! and expiry on record.

use chrono::Duration;
use lintel_domain::Area;
use lintel_testkit::{Backend, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::members::auth;
use crate::{TestApp, assert_error};

on_both_backends!(
    a_staff_access_is_stored_ready_and_found_by_door_user_and_group,
    accesses_that_break_a_rule_are_refused_naming_the_field,
    a_batch_is_created_whole_or_not_at_all,
    changes_welcome_new_users_and_deletion_keeps_the_record,
    temporary_accesses_end_by_themselves,
);

struct Setup {
    key: String,
    door: String,
    back_door: String,
    schedule: String,
    group: String,
    member: String,
}

async fn setup(app: &TestApp) -> Setup {
    let (_, key) = app.org("acme").await;
    let site = app.site(&key, "acme", "HQ").await;
    let door = app.door(&key, "acme", &site, "Front").await;
    let back_door = app.door(&key, "acme", &site, "Back").await;
    let (_, schedule) = app
        .post(
            &key,
            "/api/v1/orgs/acme/schedules",
            json!({ "name": "Staff hours", "windows": [
                { "day": "monday", "start": "07:00", "end": "19:00" },
                { "day": "friday", "start": "07:00", "end": "19:00" }
            ] }),
        )
        .await;
    let (_, group) = app
        .post(&key, "/api/v1/orgs/acme/groups", json!({ "name": "Staff" }))
        .await;
    let invited = app
        .invite(&key, "acme", json!({ "email": "ada@example.com" }))
        .await;
    Setup {
        key,
        door,
        back_door,
        schedule: schedule["id"].as_str().unwrap().to_owned(),
        group: group["id"].as_str().unwrap().to_owned(),
        member: invited["id"].as_str().unwrap().to_owned(),
    }
}

fn staff(s: &Setup) -> Value {
    json!({
        "name": "Staff",
        "schedule_id": s.schedule,
        "doors": [{ "door_id": s.door, "in_auth_types": ["mobile", "card"], "out_auth_types": [] }],
        "users": [s.member],
        "groups": [s.group],
        "preferences": { "source": "test" },
        "description": "Front door in office hours"
    })
}

async fn a_staff_access_is_stored_ready_and_found_by_door_user_and_group(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let s = setup(&app).await;
    let (status, access) = app
        .post(&s.key, "/api/v1/orgs/acme/accesses", staff(&s))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{access}");
    assert_eq!(access["status"], "ready");
    assert_eq!(access["kind"], "permanent");
    assert_eq!(
        access["doors"][0]["in_auth_types"],
        json!(["mobile", "card"])
    );
    assert_eq!(access["doors"][0]["lock_unlock_enabled"], false);
    let id = access["id"].as_str().unwrap();
    let (_, read) = app
        .get(&s.key, &format!("/api/v1/orgs/acme/accesses/{id}"))
        .await;
    assert_eq!(read, access);

    let night = json!({ "name": "Night", "doors": [{ "door_id": s.back_door }] });
    app.post(&s.key, "/api/v1/orgs/acme/accesses", night).await;
    let count = |query: String| {
        let app = &app;
        let key = s.key.clone();
        async move {
            let (_, page) = app
                .get(&key, &format!("/api/v1/orgs/acme/accesses{query}"))
                .await;
            page["items"].as_array().unwrap().len()
        }
    };
    assert_eq!(count(String::new()).await, 2);
    assert_eq!(count(format!("?door={}", s.door)).await, 1);
    assert_eq!(count(format!("?door={}", s.back_door)).await, 1);
    assert_eq!(count(format!("?user={}", s.member)).await, 1);
    assert_eq!(count(format!("?group={}", s.group)).await, 1);

    // Granting needs `delegation`; reading any area.
    let doors_key = app.key_for("acme", &[Area::Doors]).await;
    assert_eq!(
        app.get(&doors_key, "/api/v1/orgs/acme/accesses").await.0,
        StatusCode::OK
    );
    let got = app
        .post(&doors_key, "/api/v1/orgs/acme/accesses", staff(&s))
        .await;
    assert_error(&got, StatusCode::FORBIDDEN, "forbidden", None);
    assert_eq!(got.1["error"]["details"]["area"], "delegation");
    let (_, log) = app
        .get(&s.key, "/api/v1/orgs/acme/events?kind=access")
        .await;
    assert_eq!(log["items"].as_array().unwrap().len(), 2);
}

async fn accesses_that_break_a_rule_are_refused_naming_the_field(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let s = setup(&app).await;
    let (_, other) = app.org("other").await;
    let their_site = app.site(&other, "other", "Theirs").await;
    let their_door = app.door(&other, "other", &their_site, "Theirs").await;
    let with = |patch: Value| {
        let mut body = staff(&s);
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    for (body, status, code, field) in [
        (
            with(json!({ "kind": "temporary" })),
            422,
            "temporary_access_needs_valid_to",
            "valid_to",
        ),
        (
            with(
                json!({ "valid_from": "2026-03-03T00:00:00Z", "valid_to": "2026-03-02T00:00:00Z" }),
            ),
            422,
            "invalid_validity",
            "valid_to",
        ),
        (with(json!({ "doors": [] })), 422, "required", "doors"),
        (
            with(json!({ "doors": [{ "door_id": s.door }, { "door_id": s.door }] })),
            422,
            "duplicate_door",
            "doors[1].door_id",
        ),
        (
            with(json!({ "doors": [{ "door_id": s.door }, { "door_id": their_door }] })),
            422,
            "reference_not_found",
            "doors[1].door_id",
        ),
        (
            with(json!({ "users": [their_door] })),
            422,
            "reference_not_found",
            "users[0]",
        ),
        (
            with(json!({ "schedule_id": their_door })),
            422,
            "reference_not_found",
            "schedule_id",
        ),
        (
            with(json!({ "doors": [{ "door_id": s.door, "in_auth_types": ["retina"] }] })),
            422,
            "invalid_value",
            "doors[0].in_auth_types[0]",
        ),
        (
            with(json!({ "kind": "forever" })),
            422,
            "invalid_value",
            "kind",
        ),
    ] {
        let got = app
            .post(&s.key, "/api/v1/orgs/acme/accesses", body.clone())
            .await;
        assert_eq!(got.0.as_u16(), status, "{body}: {}", got.1);
        assert_eq!(got.1["error"]["code"], code, "{body}: {}", got.1);
        assert_eq!(got.1["error"]["field"], field, "{body}: {}", got.1);
    }
    let (_, page) = app.get(&s.key, "/api/v1/orgs/acme/accesses").await;
    assert!(
        page["items"].as_array().unwrap().is_empty(),
        "nothing was stored"
    );
    // A schedule in use stays.
    app.post(&s.key, "/api/v1/orgs/acme/accesses", staff(&s))
        .await;
    assert_error(
        &app.delete(
            &s.key,
            &format!("/api/v1/orgs/acme/schedules/{}", s.schedule),
        )
        .await,
        StatusCode::CONFLICT,
        "schedule_in_use",
        None,
    );
}

async fn a_batch_is_created_whole_or_not_at_all(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let s = setup(&app).await;
    let mut accesses: Vec<Value> = (0..5)
        .map(|i| json!({ "name": format!("Locker {i}"), "doors": [{ "door_id": s.back_door }] }))
        .collect();
    accesses[3]["users"] = json!([s.door]);
    let got = app
        .post(
            &s.key,
            "/api/v1/orgs/acme/accesses/batch",
            json!({ "accesses": accesses }),
        )
        .await;
    assert_error(
        &got,
        StatusCode::UNPROCESSABLE_ENTITY,
        "reference_not_found",
        Some("accesses[3].users[0]"),
    );
    accesses[3]["users"] = json!([]);
    accesses[1]["kind"] = json!("temporary");
    let got = app
        .post(
            &s.key,
            "/api/v1/orgs/acme/accesses/batch",
            json!({ "accesses": accesses }),
        )
        .await;
    assert_error(
        &got,
        StatusCode::UNPROCESSABLE_ENTITY,
        "temporary_access_needs_valid_to",
        Some("accesses[1].valid_to"),
    );
    let (_, page) = app.get(&s.key, "/api/v1/orgs/acme/accesses").await;
    assert!(
        page["items"].as_array().unwrap().is_empty(),
        "none of the batch was stored"
    );

    accesses[1]["valid_to"] = json!("2026-04-01T00:00:00Z");
    let (status, created) = app
        .post(
            &s.key,
            "/api/v1/orgs/acme/accesses/batch",
            json!({ "accesses": accesses }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["accesses"].as_array().unwrap().len(), 5);
    let (_, page) = app.get(&s.key, "/api/v1/orgs/acme/accesses").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 5);
    assert_error(
        &app.post(
            &s.key,
            "/api/v1/orgs/acme/accesses/batch",
            json!({ "accesses": [] }),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "out_of_range",
        Some("accesses"),
    );
}

async fn changes_welcome_new_users_and_deletion_keeps_the_record(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let s = setup(&app).await;
    app.deliver().await;
    auth(&app.sign_up("ada@example.com", "+46702222222").await);
    app.deliver().await;
    let mut body = json!({ "name": "Lockers", "doors": [{ "door_id": s.back_door }],
                           "welcome_email_required": true });
    let (_, access) = app
        .post(&s.key, "/api/v1/orgs/acme/accesses", body.take())
        .await;
    let path = format!(
        "/api/v1/orgs/acme/accesses/{}",
        access["id"].as_str().unwrap()
    );
    assert!(app.deliver().await.is_empty(), "nobody to welcome yet");

    let (status, changed) = app
        .patch(
            &s.key,
            &path,
            json!({ "users": [s.member], "valid_to": "2027-01-01T00:00:00Z" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["users"], json!([s.member]));
    let sent = app.deliver().await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].recipient, "ada@example.com");
    assert!(
        sent[0].body.contains("Back") && sent[0].body.contains("Lockers"),
        "{}",
        sent[0].body
    );
    // Already a user: no second welcome.
    app.patch(
        &s.key,
        &path,
        json!({ "description": "Lockers by the gym" }),
    )
    .await;
    assert!(app.deliver().await.is_empty());
    let (_, cleared) = app.patch(&s.key, &path, json!({ "valid_to": null })).await;
    assert!(cleared["valid_to"].is_null());

    let (status, deleted) = app.delete(&s.key, &path).await;
    assert_eq!(status, StatusCode::OK, "{deleted}");
    assert_eq!(deleted["status"], "deleted");
    assert_error(
        &app.patch(&s.key, &path, json!({ "name": "Back" })).await,
        StatusCode::CONFLICT,
        "access_deleted",
        None,
    );
    let (_, page) = app.get(&s.key, "/api/v1/orgs/acme/accesses").await;
    assert!(page["items"].as_array().unwrap().is_empty());
    let (_, page) = app
        .get(&s.key, "/api/v1/orgs/acme/accesses?status=deleted")
        .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let (_, log) = app
        .get(&s.key, "/api/v1/orgs/acme/events?kind=access")
        .await;
    let kinds: Vec<_> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].clone())
        .collect();
    assert_eq!(kinds[0], "access.deleted");
}

async fn temporary_accesses_end_by_themselves(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let s = setup(&app).await;
    let now = lintel_domain::Clock::now(&app.clock);
    let body = json!({
        "name": "Contractor",
        "kind": "temporary",
        "valid_to": (now + Duration::hours(2)).to_rfc3339(),
        "doors": [{ "door_id": s.door }]
    });
    let (_, access) = app.post(&s.key, "/api/v1/orgs/acme/accesses", body).await;
    let path = format!(
        "/api/v1/orgs/acme/accesses/{}",
        access["id"].as_str().unwrap()
    );
    let state = &app.state;
    lintel_server::app::housekeeping::run_once(state, now + Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(app.get(&s.key, &path).await.1["status"], "ready");
    lintel_server::app::housekeeping::run_once(state, now + Duration::hours(2))
        .await
        .unwrap();
    assert_eq!(app.get(&s.key, &path).await.1["status"], "deleted");
    let (_, log) = app
        .get(&s.key, "/api/v1/orgs/acme/events?kind=access.expired")
        .await;
    assert_eq!(log["items"][0]["actor"]["kind"], "system");
}
