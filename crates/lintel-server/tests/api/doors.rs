use lintel_domain::Area;
use lintel_testkit::{Backend, on_both_backends};
use reqwest::StatusCode;
use serde_json::json;

use crate::{TestApp, assert_error};

on_both_backends!(
    a_door_is_created_with_defaults_and_changed,
    doors_list_by_site,
    a_door_needs_a_site_of_its_organization,
    door_fields_are_checked,
    changing_doors_needs_the_doors_area,
);

async fn a_door_is_created_with_defaults_and_changed(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, key) = app.org("acme").await;
    let site = app.site(&key, "acme", "HQ").await;
    let (status, door) = app
        .post(
            &key,
            "/api/v1/orgs/acme/doors",
            json!({ "site_id": site, "name": "Front" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{door}");
    assert_eq!(door["kind"], "door");
    assert_eq!(door["unlock_duration_secs"], 5);
    assert_eq!(door["geofence_required"], false);
    assert_eq!(door["preferences"], json!({}));

    let path = format!("/api/v1/orgs/acme/doors/{}", door["id"].as_str().unwrap());
    let depot = app.site(&key, "acme", "Depot").await;
    let (status, changed) = app
        .patch(
            &key,
            &path,
            json!({
                "site_id": depot,
                "kind": "storage_unit",
                "reader_required": true,
                "unlock_duration_secs": 12,
                "preferences": { "relay": "2" }
            }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["site_id"], depot.as_str());
    assert_eq!(changed["kind"], "storage_unit");
    assert_eq!(changed["reader_required"], true);
    assert_eq!(changed["unlock_duration_secs"], 12);
    assert_eq!(changed["preferences"]["relay"], "2");
    assert_eq!(changed["name"], "Front");
    assert_eq!(app.get(&key, &path).await.1, changed);
}

async fn doors_list_by_site(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, key) = app.org("acme").await;
    let hq = app.site(&key, "acme", "HQ").await;
    let depot = app.site(&key, "acme", "Depot").await;
    for name in ["Front", "Back"] {
        app.door(&key, "acme", &hq, name).await;
    }
    app.door(&key, "acme", &depot, "Gate").await;
    let (_, all) = app.get(&key, "/api/v1/orgs/acme/doors").await;
    assert_eq!(all["items"].as_array().unwrap().len(), 3);
    let (_, at_hq) = app
        .get(&key, &format!("/api/v1/orgs/acme/doors?site_id={hq}"))
        .await;
    let names: Vec<_> = at_hq["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("Front"), json!("Back")]);
    let bad = app.get(&key, "/api/v1/orgs/acme/doors?site_id=hq").await;
    assert_error(
        &bad,
        StatusCode::BAD_REQUEST,
        "invalid_query_parameter",
        Some("site_id"),
    );
}

async fn a_door_needs_a_site_of_its_organization(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, a_key) = app.org("org-a").await;
    let (_, b_key) = app.org("org-b").await;
    let a_site = app.site(&a_key, "org-a", "A's HQ").await;
    let smuggled = app
        .post(
            &b_key,
            "/api/v1/orgs/org-b/doors",
            json!({ "site_id": a_site, "name": "Sneaky" }),
        )
        .await;
    assert_error(
        &smuggled,
        StatusCode::UNPROCESSABLE_ENTITY,
        "reference_not_found",
        Some("site_id"),
    );
    let (_, b_doors) = app.get(&b_key, "/api/v1/orgs/org-b/doors").await;
    assert!(b_doors["items"].as_array().unwrap().is_empty());

    let b_site = app.site(&b_key, "org-b", "B's HQ").await;
    let b_door = app.door(&b_key, "org-b", &b_site, "Front").await;
    let moved = app
        .patch(
            &b_key,
            &format!("/api/v1/orgs/org-b/doors/{b_door}"),
            json!({ "site_id": a_site }),
        )
        .await;
    assert_error(
        &moved,
        StatusCode::UNPROCESSABLE_ENTITY,
        "reference_not_found",
        Some("site_id"),
    );
}

async fn door_fields_are_checked(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, key) = app.org("acme").await;
    let site = app.site(&key, "acme", "HQ").await;
    let cases = [
        (
            json!({ "site_id": site, "name": "W", "kind": "window" }),
            "invalid_value",
            "kind",
        ),
        (
            json!({ "site_id": site, "name": "W", "unlock_duration_secs": 0 }),
            "out_of_range",
            "unlock_duration_secs",
        ),
        (
            json!({ "site_id": site, "name": "W", "unlock_duration_secs": 601 }),
            "out_of_range",
            "unlock_duration_secs",
        ),
        (
            json!({ "site_id": site, "name": "W", "unlock_duration_secs": -1 }),
            "invalid_value",
            "unlock_duration_secs",
        ),
        (json!({ "site_id": site, "name": "" }), "required", "name"),
        (
            json!({ "site_id": "not-a-uuid", "name": "W" }),
            "invalid_value",
            "site_id",
        ),
        (json!({ "name": "W" }), "missing_field", "site_id"),
        (
            json!({ "site_id": site, "name": "W", "description": "x".repeat(2001) }),
            "too_long",
            "description",
        ),
        (
            json!({ "site_id": site, "name": "W", "preferences": { "": "x" } }),
            "invalid_key",
            "preferences.",
        ),
    ];
    for (body, code, field) in cases {
        let got = app
            .post(&key, "/api/v1/orgs/acme/doors", body.clone())
            .await;
        assert_eq!(
            got.0,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body} → {}",
            got.1
        );
        assert_eq!(got.1["error"]["code"], code, "{body} → {}", got.1);
        assert!(
            got.1["error"]["field"].as_str().unwrap().starts_with(field),
            "{body} → {}",
            got.1
        );
    }
    let (_, doors) = app.get(&key, "/api/v1/orgs/acme/doors").await;
    assert!(
        doors["items"].as_array().unwrap().is_empty(),
        "nothing was written"
    );
}

async fn changing_doors_needs_the_doors_area(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (org, owner) = app.org("acme").await;
    let site = app.site(&owner, "acme", "HQ").await;
    let door = app.door(&owner, "acme", &site, "Front").await;
    let members = app.key(Some(org), &[Area::Members]).await;
    let path = format!("/api/v1/orgs/acme/doors/{door}");
    for refused in [
        app.post(
            &members,
            "/api/v1/orgs/acme/doors",
            json!({ "site_id": site, "name": "X" }),
        )
        .await,
        app.patch(&members, &path, json!({ "name": "X" })).await,
        app.delete(&members, &path).await,
    ] {
        assert_error(&refused, StatusCode::FORBIDDEN, "forbidden", None);
    }
    assert_eq!(app.get(&members, &path).await.1["name"], "Front");
}
