use lintel_domain::Area;
use lintel_testkit::{Backend, on_both_backends};
use reqwest::StatusCode;
use serde_json::json;

use crate::{TestApp, assert_error};

on_both_backends!(
    an_operator_creates_lists_and_deletes_organizations,
    an_organization_key_sees_only_its_own_organization,
    owners_change_settings_one_at_a_time,
    only_owners_change_the_organization,
);

async fn an_operator_creates_lists_and_deletes_organizations(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let operator = app.key(None, &[]).await;
    let (status, org) = app
        .post(
            &operator,
            "/api/v1/orgs",
            json!({ "slug": "acme", "name": "Acme", "time_zone": "America/New_York" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{org}");
    assert_eq!(org["time_zone"], "America/New_York");
    assert_eq!(org["settings"]["app_pin_max_age_hours"], 168);

    let dup = app
        .post(
            &operator,
            "/api/v1/orgs",
            json!({ "slug": "acme", "name": "Again" }),
        )
        .await;
    assert_error(&dup, StatusCode::CONFLICT, "slug_taken", Some("slug"));

    for i in 0..3 {
        let (status, _) = app
            .post(
                &operator,
                "/api/v1/orgs",
                json!({ "slug": format!("org-{i}"), "name": "x" }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let (_, page) = app.get(&operator, "/api/v1/orgs?limit=3").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 3);
    let cursor = page["next_cursor"].as_str().unwrap();
    let (_, rest) = app
        .get(&operator, &format!("/api/v1/orgs?limit=3&cursor={cursor}"))
        .await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert_eq!(rest["next_cursor"], serde_json::Value::Null);

    let (status, _) = app.delete(&operator, "/api/v1/orgs/acme").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let gone = app.get(&operator, "/api/v1/orgs/acme").await;
    assert_error(&gone, StatusCode::NOT_FOUND, "organization_not_found", None);
}

async fn an_organization_key_sees_only_its_own_organization(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, a_key) = app.org("org-a").await;
    app.org("org-b").await;
    let (status, list) = app.get(&a_key, "/api/v1/orgs").await;
    assert_eq!(status, StatusCode::OK);
    let slugs: Vec<_> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["slug"].clone())
        .collect();
    assert_eq!(slugs, vec![json!("org-a")]);

    // Creating and deleting organizations is the operator's, whatever areas a key holds.
    let create = app
        .post(
            &a_key,
            "/api/v1/orgs",
            json!({ "slug": "org-c", "name": "C" }),
        )
        .await;
    assert_error(&create, StatusCode::FORBIDDEN, "forbidden", None);
    assert!(
        create.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("operator key")
    );
    let delete = app.delete(&a_key, "/api/v1/orgs/org-a").await;
    assert_error(&delete, StatusCode::FORBIDDEN, "forbidden", None);
    assert_eq!(
        app.get(&a_key, "/api/v1/orgs/org-a").await.0,
        StatusCode::OK
    );
}

async fn owners_change_settings_one_at_a_time(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, key) = app.org("acme").await;
    app.clock.advance(chrono::Duration::minutes(3));
    let (status, org) = app
        .patch(
            &key,
            "/api/v1/orgs/acme",
            json!({ "name": "Acme Offices", "settings": { "guest_links_by_members": true } }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{org}");
    assert_eq!(org["name"], "Acme Offices");
    assert_eq!(org["settings"]["guest_links_by_members"], true);
    assert_eq!(
        org["settings"]["app_pin_max_age_hours"], 168,
        "untouched settings keep their value"
    );
    assert_ne!(org["updated_at"], org["created_at"]);
    assert_eq!(app.get(&key, "/api/v1/orgs/acme").await.1, org);

    let bad = app
        .patch(
            &key,
            "/api/v1/orgs/acme",
            json!({ "settings": { "app_pin_max_age_hours": 0 } }),
        )
        .await;
    assert_error(
        &bad,
        StatusCode::UNPROCESSABLE_ENTITY,
        "out_of_range",
        Some("settings.app_pin_max_age_hours"),
    );
    let bad = app
        .patch(
            &key,
            "/api/v1/orgs/acme",
            json!({ "time_zone": "Europe/Atlantis" }),
        )
        .await;
    assert_error(
        &bad,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_time_zone",
        Some("time_zone"),
    );
    assert_eq!(
        app.get(&key, "/api/v1/orgs/acme").await.1,
        org,
        "refused changes write nothing"
    );
}

async fn only_owners_change_the_organization(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (org, _) = app.org("acme").await;
    let doors = app
        .key(Some(org), &[Area::Doors, Area::Members, Area::Api])
        .await;
    let refused = app
        .patch(&doors, "/api/v1/orgs/acme", json!({ "name": "Mine now" }))
        .await;
    assert_error(&refused, StatusCode::FORBIDDEN, "forbidden", None);
    assert!(
        refused.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("owner")
    );
    assert_eq!(
        app.get(&doors, "/api/v1/orgs/acme").await.1["name"],
        "Org acme"
    );
}
