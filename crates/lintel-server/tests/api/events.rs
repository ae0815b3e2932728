//! The event log: every admin change and sign-in on record with its actor, object and what
//! changed; filters, pages, CSV; and an erased account's events kept with an anonymous actor.

use chrono::Duration;
use lintel_domain::Area;
use lintel_testkit::{Backend, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::members::auth;
use crate::{TestApp, assert_error, code_sent_to};

on_both_backends!(
    changes_are_recorded_with_actor_object_and_what_changed,
    the_log_is_filtered_paged_and_exported,
    sign_ins_and_membership_changes_are_recorded,
    a_deleted_accounts_events_keep_an_anonymous_actor,
);

async fn events(app: &TestApp, key: &str, query: &str) -> Vec<Value> {
    let (status, page) = app
        .get(key, &format!("/api/v1/orgs/acme/events{query}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{query}: {page}");
    page["items"].as_array().unwrap().clone()
}

fn kinds(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["kind"].as_str().unwrap()).collect()
}

async fn changes_are_recorded_with_actor_object_and_what_changed(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, key) = app.org("acme").await;
    let site = app.site(&key, "acme", "HQ").await;
    let door = app.door(&key, "acme", &site, "Front").await;
    app.patch(
        &key,
        &format!("/api/v1/orgs/acme/doors/{door}"),
        json!({ "name": "Front door", "reader_required": true }),
    )
    .await;
    app.delete(&key, &format!("/api/v1/orgs/acme/doors/{door}"))
        .await;

    let log = events(&app, &key, "").await;
    assert_eq!(
        kinds(&log),
        [
            "door.deleted",
            "door.updated",
            "door.created",
            "site.created",
            "organization.created"
        ],
        "newest first"
    );
    let updated = &log[1];
    assert_eq!(updated["object_kind"], "door");
    assert_eq!(updated["object_id"], door.as_str());
    assert_eq!(updated["actor"]["kind"], "api_key");
    assert_eq!(updated["actor"]["name"], "test");
    assert_eq!(
        updated["summary"]["changes"],
        json!({
            "name": { "before": "Front", "after": "Front door" },
            "reader_required": { "before": false, "after": true },
        })
    );
    assert_eq!(log[0]["summary"]["before"]["name"], "Front door");
    assert_eq!(log[2]["summary"]["after"]["name"], "Front");
    assert_eq!(log[4]["actor"]["kind"], "console");

    // Reading the log needs `audit`; the key above is an owner's.
    let doors_only = app.key_for("acme", &[Area::Doors]).await;
    let got = app.get(&doors_only, "/api/v1/orgs/acme/events").await;
    assert_error(&got, StatusCode::FORBIDDEN, "forbidden", None);
    assert_eq!(got.1["error"]["details"]["area"], "audit");
}

async fn the_log_is_filtered_paged_and_exported(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, key) = app.org("acme").await;
    let auditor = app.key_for("acme", &[Area::Audit, Area::Doors]).await;
    let site = app.site(&key, "acme", "HQ").await;
    app.clock.advance(Duration::hours(1));
    let door = app.door(&auditor, "acme", &site, "Front, \"main\"").await;
    let later = lintel_domain::Clock::now(&app.clock);

    assert_eq!(
        kinds(&events(&app, &auditor, "?kind=site").await),
        ["site.created"]
    );
    assert_eq!(
        kinds(&events(&app, &auditor, "?kind=door.created").await),
        ["door.created"]
    );
    assert!(
        events(&app, &auditor, "?kind=door.updated")
            .await
            .is_empty()
    );
    let by_object = events(&app, &auditor, &format!("?object_id={door}")).await;
    assert_eq!(kinds(&by_object), ["door.created"]);
    let actor = by_object[0]["actor"]["key_id"].as_str().unwrap().to_owned();
    assert_eq!(
        kinds(&events(&app, &auditor, &format!("?actor_id={actor}")).await),
        ["door.created"]
    );
    let from = later.to_rfc3339().replace('+', "%2B");
    assert_eq!(
        kinds(&events(&app, &auditor, &format!("?from={from}")).await),
        ["door.created"]
    );
    assert_eq!(
        kinds(&events(&app, &auditor, &format!("?until={from}")).await),
        ["site.created", "organization.created"]
    );
    assert_error(
        &app.get(
            &auditor,
            &format!("/api/v1/orgs/acme/events?from={from}&until={from}"),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "empty_range",
        Some("until"),
    );
    assert_error(
        &app.get(&auditor, "/api/v1/orgs/acme/events?kind=DROP%20TABLE")
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_kind",
        Some("kind"),
    );

    let (_, first) = app.get(&auditor, "/api/v1/orgs/acme/events?limit=2").await;
    assert_eq!(
        kinds(first["items"].as_array().unwrap()),
        ["door.created", "site.created"]
    );
    let cursor = first["next_cursor"].as_str().unwrap();
    let (_, rest) = app
        .get(
            &auditor,
            &format!("/api/v1/orgs/acme/events?limit=2&cursor={cursor}"),
        )
        .await;
    assert_eq!(
        kinds(rest["items"].as_array().unwrap()),
        ["organization.created"]
    );
    assert!(rest["next_cursor"].is_null());

    let resp = reqwest::Client::new()
        .get(app.url("/api/v1/orgs/acme/events.csv?kind=door"))
        .bearer_auth(&auditor)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        resp.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("acme-events.csv")
    );
    let csv = resp.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "id,at,kind,actor_kind,actor_id,actor_name,object_kind,object_id,summary"
    );
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(lines[1].contains(",door.created,api_key,"), "{csv}");
    assert!(
        lines[1].contains(r#"""Front, \""main\"""""#),
        "the name is quoted: {csv}"
    );
}

async fn sign_ins_and_membership_changes_are_recorded(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let owner = app.org_with_owner("acme").await;
    let invited = app
        .invite(
            &owner,
            "acme",
            json!({ "email": "ada@example.com", "areas": ["doors"] }),
        )
        .await;
    let ada = app.sign_up("ada@example.com", "+46702222222").await;
    let member = invited["id"].as_str().unwrap();
    app.patch(
        &owner,
        &format!("/api/v1/orgs/acme/members/{member}"),
        json!({ "status": "suspended" }),
    )
    .await;

    let log = events(&app, &owner, &format!("?object_id={member}")).await;
    assert_eq!(
        kinds(&log),
        [
            "member.suspended",
            "account.signed_in",
            "member.joined",
            "member.invited"
        ]
    );
    assert_eq!(log[0]["actor"]["kind"], "member");
    assert_eq!(log[0]["actor"]["name"], "Ada Lovelace");
    assert_eq!(
        log[0]["summary"]["changes"]["status"],
        json!({ "before": "active", "after": "suspended" })
    );
    assert_eq!(log[1]["actor"]["account_id"], ada["account"]["id"]);
    assert_eq!(log[3]["summary"]["after"]["areas"], json!(["doors"]));
}

async fn a_deleted_accounts_events_keep_an_anonymous_actor(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let owner = app.org_with_owner("acme").await;
    app.invite(
        &owner,
        "acme",
        json!({ "email": "ada@example.com", "areas": ["doors"] }),
    )
    .await;
    let ada = auth(&app.sign_up("ada@example.com", "+46702222222").await);
    let site = app.site(&ada, "acme", "Ada's site").await;

    let (_, sent) = app.post(&ada, "/api/v1/me/delete", json!({})).await;
    let code = code_sent_to(&app.deliver().await, "+46702222222");
    let done = app
        .post(
            &ada,
            "/api/v1/me/delete/confirm",
            json!({ "verification": sent["verification"], "code": code }),
        )
        .await;
    assert_eq!(done.0, StatusCode::NO_CONTENT, "{}", done.1);

    let log = events(&app, &owner, &format!("?object_id={site}")).await;
    assert_eq!(
        log[0]["actor"],
        json!({ "kind": "member", "account_id": null, "name": "deleted account" })
    );
    let (_, members) = app.get(&owner, "/api/v1/orgs/acme/members").await;
    assert_eq!(
        members["items"].as_array().unwrap().len(),
        1,
        "her membership ended: {members}"
    );
    // Nothing in the log names her any more.
    let (_, all) = app.get(&owner, "/api/v1/orgs/acme/events?limit=200").await;
    let text = all.to_string();
    assert!(
        !text.contains("ada@example.com") && !text.contains("+46702222222"),
        "{text}"
    );
}
