use lintel_domain::Area;
use lintel_testkit::{Backend, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{TestApp, assert_error};

on_both_backends!(
    a_site_is_created_read_changed_and_deleted,
    sites_page_through_with_a_cursor,
    a_site_with_doors_is_not_deleted,
    changing_sites_needs_the_doors_area,
);

async fn a_site_is_created_read_changed_and_deleted(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, key) = app.org("acme").await;
    let (status, site) = app
        .post(
            &key,
            "/api/v1/orgs/acme/sites",
            json!({
                "name": "  Headquarters ",
                "address": "Storgatan 1, Stockholm",
                "geofence": { "latitude": 59.3293, "longitude": 18.0686, "radius_m": 150 }
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{site}");
    assert_eq!(site["name"], "Headquarters");
    assert_eq!(
        site["time_zone"], "Europe/Stockholm",
        "a site takes its organization's zone"
    );
    assert_eq!(site["geofence"]["radius_m"], 150.0);
    let path = format!("/api/v1/orgs/acme/sites/{}", site["id"].as_str().unwrap());
    assert_eq!(app.get(&key, &path).await.1, site);

    let (status, changed) = app
        .patch(
            &key,
            &path,
            json!({ "geofence": null, "time_zone": "Europe/Oslo" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["geofence"], Value::Null);
    assert_eq!(changed["time_zone"], "Europe/Oslo");
    assert_eq!(changed["address"], "Storgatan 1, Stockholm");

    // Leaving the geofence out leaves it as it is.
    let (_, renamed) = app.patch(&key, &path, json!({ "name": "HQ" })).await;
    assert_eq!(renamed["geofence"], Value::Null);
    assert_eq!(renamed["name"], "HQ");

    assert_eq!(app.delete(&key, &path).await.0, StatusCode::NO_CONTENT);
    assert_error(
        &app.get(&key, &path).await,
        StatusCode::NOT_FOUND,
        "site_not_found",
        None,
    );
    assert_error(
        &app.delete(&key, &path).await,
        StatusCode::NOT_FOUND,
        "site_not_found",
        None,
    );
}

async fn sites_page_through_with_a_cursor(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, key) = app.org("acme").await;
    let mut made = Vec::new();
    for i in 0..7 {
        made.push(app.site(&key, "acme", &format!("Site {i}")).await);
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/orgs/acme/sites?limit=3".to_owned();
    loop {
        let (status, page) = app.get(&key, &path).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["id"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/orgs/acme/sites?limit=3&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, made, "every site once, in creation order");
}

async fn a_site_with_doors_is_not_deleted(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, key) = app.org("acme").await;
    let site = app.site(&key, "acme", "HQ").await;
    let door = app.door(&key, "acme", &site, "Front").await;
    let refused = app
        .delete(&key, &format!("/api/v1/orgs/acme/sites/{site}"))
        .await;
    assert_error(&refused, StatusCode::CONFLICT, "site_has_doors", None);
    assert_eq!(
        app.get(&key, &format!("/api/v1/orgs/acme/sites/{site}"))
            .await
            .0,
        StatusCode::OK
    );
    app.delete(&key, &format!("/api/v1/orgs/acme/doors/{door}"))
        .await;
    let done = app
        .delete(&key, &format!("/api/v1/orgs/acme/sites/{site}"))
        .await;
    assert_eq!(done.0, StatusCode::NO_CONTENT);
}

async fn changing_sites_needs_the_doors_area(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (org, owner) = app.org("acme").await;
    let site = app.site(&owner, "acme", "HQ").await;
    let path = format!("/api/v1/orgs/acme/sites/{site}");
    let auditor = app
        .key(Some(org), &[Area::Audit, Area::Members, Area::Delegation])
        .await;
    assert_eq!(
        app.get(&auditor, &path).await.0,
        StatusCode::OK,
        "reading needs no area"
    );
    assert_eq!(
        app.get(&auditor, "/api/v1/orgs/acme/sites").await.0,
        StatusCode::OK
    );
    for refused in [
        app.post(
            &auditor,
            "/api/v1/orgs/acme/sites",
            json!({ "name": "Mine" }),
        )
        .await,
        app.patch(&auditor, &path, json!({ "name": "Mine" })).await,
        app.delete(&auditor, &path).await,
    ] {
        assert_error(&refused, StatusCode::FORBIDDEN, "forbidden", None);
    }
    let doors = app.key(Some(org), &[Area::Doors]).await;
    assert_eq!(
        app.patch(&doors, &path, json!({ "name": "Main" })).await.0,
        StatusCode::OK
    );
    let (_, list) = app.get(&owner, "/api/v1/orgs/acme/sites").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
}
