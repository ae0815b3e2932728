//! Bad input: every kind gets a clear 4xx in the error format, and nothing is written.

use lintel_testkit::{Backend, on_both_backends};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::{MAX_BODY, TestApp, assert_error};

on_both_backends!(
    malformed_bodies_are_refused_and_nothing_is_written,
    bad_values_name_their_field_and_rule,
    bad_paths_and_queries_are_client_errors,
    bad_organizations_are_refused,
);

async fn site_count(app: &TestApp, key: &str) -> usize {
    app.get(key, "/api/v1/orgs/acme/sites").await.1["items"]
        .as_array()
        .unwrap()
        .len()
}

async fn malformed_bodies_are_refused_and_nothing_is_written(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, key) = app.org("acme").await;
    let sites = "/api/v1/orgs/acme/sites";
    let json_type = "application/json";

    let got = app
        .send_raw(Method::POST, &key, sites, json_type, "{\"name\": ")
        .await;
    assert_error(&got, StatusCode::BAD_REQUEST, "malformed_json", None);
    let got = app
        .send_raw(Method::POST, &key, sites, json_type, "{\"name\": \"a\"} {}")
        .await;
    assert_error(&got, StatusCode::BAD_REQUEST, "malformed_json", None);
    let got = app.send_raw(Method::POST, &key, sites, json_type, "").await;
    assert_error(&got, StatusCode::BAD_REQUEST, "malformed_json", None);
    let got = app
        .send_raw(Method::POST, &key, sites, "text/plain", "{\"name\": \"a\"}")
        .await;
    assert_error(
        &got,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        None,
    );
    let ok_type = app
        .send_raw(
            Method::POST,
            &key,
            sites,
            "application/json; charset=utf-8",
            "{\"name\": \"typed\"}",
        )
        .await;
    assert_eq!(ok_type.0, StatusCode::CREATED, "{}", ok_type.1);

    let huge = json!({ "name": "big", "address": "x".repeat(MAX_BODY) }).to_string();
    let got = app
        .send_raw(Method::POST, &key, sites, json_type, huge)
        .await;
    assert_error(&got, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", None);

    let got = app
        .post(&key, sites, json!({ "name": "HQ", "colour": "red" }))
        .await;
    assert_error(
        &got,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_field",
        Some("colour"),
    );
    let got = app.post(&key, sites, json!({ "name": ["HQ"] })).await;
    assert_error(
        &got,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_type",
        Some("name"),
    );
    let got = app.post(&key, sites, json!([])).await;
    assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "invalid_type", None);
    let got = app.post(&key, sites, json!({ "address": "nowhere" })).await;
    assert_error(
        &got,
        StatusCode::UNPROCESSABLE_ENTITY,
        "missing_field",
        Some("name"),
    );

    assert_eq!(
        site_count(&app, &key).await,
        1,
        "only the well-formed site was written"
    );
}

async fn bad_values_name_their_field_and_rule(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, key) = app.org("acme").await;
    let sites = "/api/v1/orgs/acme/sites";
    let fence =
        |lat: f64, lon: f64, r: f64| json!({ "latitude": lat, "longitude": lon, "radius_m": r });
    let cases = [
        (
            json!({ "name": "HQ", "time_zone": "Mars/Olympus_Mons" }),
            "invalid_time_zone",
            "time_zone",
        ),
        (
            json!({ "name": "HQ", "geofence": fence(59.0, 18.0, -5.0) }),
            "out_of_range",
            "geofence.radius_m",
        ),
        (
            json!({ "name": "HQ", "geofence": fence(95.0, 18.0, 100.0) }),
            "out_of_range",
            "geofence.latitude",
        ),
        (
            json!({ "name": "HQ", "geofence": fence(59.0, 181.0, 100.0) }),
            "out_of_range",
            "geofence.longitude",
        ),
        (
            json!({ "name": "HQ", "geofence": { "latitude": 59.0, "longitude": 18.0 } }),
            "missing_field",
            "geofence.radius_m",
        ),
        (
            json!({ "name": "HQ", "geofence": { "latitude": 59.0, "longitude": 18.0, "radius_m": 100, "alt": 3 } }),
            "unknown_field",
            "geofence.alt",
        ),
        (json!({ "name": "   " }), "required", "name"),
        (json!({ "name": "x".repeat(201) }), "too_long", "name"),
        (json!({ "name": "bell\u{7}" }), "control_characters", "name"),
    ];
    for (body, code, field) in cases {
        let got = app.post(&key, sites, body.clone()).await;
        assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, code, Some(field));
    }
    let site = app.site(&key, "acme", "HQ").await;
    let path = format!("{sites}/{site}");
    let got = app
        .patch(&key, &path, json!({ "geofence": fence(0.0, 0.0, 1e9) }))
        .await;
    assert_error(
        &got,
        StatusCode::UNPROCESSABLE_ENTITY,
        "out_of_range",
        Some("geofence.radius_m"),
    );
    let got = app
        .patch(
            &key,
            &path,
            json!({ "id": "0190c2d4-0000-7000-8000-000000000000" }),
        )
        .await;
    assert_error(
        &got,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_field",
        Some("id"),
    );
    let (_, unchanged) = app.get(&key, &path).await;
    assert_eq!(unchanged["geofence"], serde_json::Value::Null);
    assert_eq!(site_count(&app, &key).await, 1);
}

async fn bad_paths_and_queries_are_client_errors(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, key) = app.org("acme").await;
    let got = app.get(&key, "/api/v1/orgs/acme/sites/not-a-uuid").await;
    assert_error(
        &got,
        StatusCode::BAD_REQUEST,
        "invalid_path_parameter",
        Some("site_id"),
    );
    let got = app.get(&key, "/api/v1/orgs/acme/sites?limit=many").await;
    assert_error(
        &got,
        StatusCode::BAD_REQUEST,
        "invalid_query_parameter",
        Some("limit"),
    );
    let got = app.get(&key, "/api/v1/orgs/acme/sites?limit=0").await;
    assert_error(
        &got,
        StatusCode::UNPROCESSABLE_ENTITY,
        "out_of_range",
        Some("limit"),
    );
    let got = app.get(&key, "/api/v1/orgs/acme/sites?limit=201").await;
    assert_error(
        &got,
        StatusCode::UNPROCESSABLE_ENTITY,
        "out_of_range",
        Some("limit"),
    );
    let got = app
        .get(&key, "/api/v1/orgs/acme/sites?cursor=garbage")
        .await;
    assert_error(
        &got,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_cursor",
        Some("cursor"),
    );
    let got = app.get(&key, "/api/v1/nothing-here").await;
    assert_error(&got, StatusCode::NOT_FOUND, "route_not_found", None);
    let got = app
        .call(
            Method::PUT,
            &key,
            "/api/v1/orgs/acme/sites",
            Some(json!({})),
        )
        .await;
    assert_error(
        &got,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        None,
    );
}

async fn bad_organizations_are_refused(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let operator = app.key(None, &[]).await;
    let cases = [
        (
            json!({ "slug": "Acme Inc", "name": "Acme" }),
            "invalid_slug",
            "slug",
        ),
        (
            json!({ "slug": "ab", "name": "Acme" }),
            "invalid_slug",
            "slug",
        ),
        (json!({ "slug": "acme", "name": "" }), "required", "name"),
        (
            json!({ "slug": "acme", "name": "Acme", "time_zone": "CET+1" }),
            "invalid_time_zone",
            "time_zone",
        ),
        (
            json!({ "slug": "acme", "name": "Acme", "settings": { "app_pin_max_age_hours": 9000 } }),
            "out_of_range",
            "settings.app_pin_max_age_hours",
        ),
        (
            json!({ "slug": "acme", "name": "Acme", "settings": { "theme": "dark" } }),
            "unknown_field",
            "settings.theme",
        ),
    ];
    for (body, code, field) in cases {
        let got = app.post(&operator, "/api/v1/orgs", body).await;
        assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, code, Some(field));
    }
    let (_, list) = app.get(&operator, "/api/v1/orgs").await;
    assert!(
        list["items"].as_array().unwrap().is_empty(),
        "nothing was written: {list}"
    );
}
