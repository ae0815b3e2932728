//! Schedules over the API: weekly windows (across midnight too) and exceptions, checked with
//! errors that name the field, kept as given, and on record.

use lintel_domain::Area;
use lintel_testkit::{Backend, on_both_backends};
use reqwest::StatusCode;
use serde_json::json;

use crate::{TestApp, assert_error};

on_both_backends!(
    a_staff_schedule_and_a_night_shift_are_stored_as_given,
    bad_windows_and_exceptions_are_refused_naming_the_field,
    schedules_are_changed_and_deleted_by_the_doors_area_only,
);

fn staff() -> serde_json::Value {
    let weekdays = ["monday", "tuesday", "wednesday", "thursday", "friday"];
    json!({
        "name": "Staff",
        "windows": weekdays
            .iter()
            .map(|d| json!({ "day": d, "start": "07:00", "end": "19:00" }))
            .collect::<Vec<_>>(),
        "exceptions": [
            { "date": "2026-12-25", "closed": true },
            { "date": "2026-12-24", "windows": [{ "start": "08:00", "end": "12:00" }] }
        ]
    })
}

async fn a_staff_schedule_and_a_night_shift_are_stored_as_given(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, key) = app.org("acme").await;
    let (status, schedule) = app.post(&key, "/api/v1/orgs/acme/schedules", staff()).await;
    assert_eq!(status, StatusCode::CREATED, "{schedule}");
    assert_eq!(
        schedule["time_zone"], "Europe/Stockholm",
        "the organization's zone"
    );
    assert_eq!(schedule["windows"].as_array().unwrap().len(), 5);
    assert_eq!(
        schedule["exceptions"][0]["date"], "2026-12-24",
        "exceptions are sorted by date"
    );
    let night = json!({
        "name": "Night shift",
        "time_zone": "America/New_York",
        "windows": [{ "day": "sunday", "start": "22:00", "end": "06:00" }]
    });
    let (status, night) = app.post(&key, "/api/v1/orgs/acme/schedules", night).await;
    assert_eq!(status, StatusCode::CREATED, "{night}");
    assert_eq!(night["windows"][0]["end"], "06:00");

    let id = schedule["id"].as_str().unwrap();
    let (_, read) = app
        .get(&key, &format!("/api/v1/orgs/acme/schedules/{id}"))
        .await;
    assert_eq!(read, schedule);
    let (_, list) = app.get(&key, "/api/v1/orgs/acme/schedules").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    assert_error(
        &app.post(&key, "/api/v1/orgs/acme/schedules", staff()).await,
        StatusCode::CONFLICT,
        "schedule_name_taken",
        Some("name"),
    );
}

async fn bad_windows_and_exceptions_are_refused_naming_the_field(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, key) = app.org("acme").await;
    let window = |day: &str, start: &str, end: &str| {
        json!({ "name": "S", "windows": [
            { "day": "monday", "start": "07:00", "end": "08:00" },
            { "day": day, "start": start, "end": end }
        ] })
    };
    for (body, code, field) in [
        (
            window("funday", "07:00", "08:00"),
            "invalid_day",
            "windows[1].day",
        ),
        (
            window("monday", "25:00", "08:00"),
            "invalid_time",
            "windows[1].start",
        ),
        (
            window("monday", "07:00", "7"),
            "invalid_time",
            "windows[1].end",
        ),
        (
            window("monday", "07:00", "07:00"),
            "empty_window",
            "windows[1]",
        ),
        (
            json!({ "name": "S", "exceptions": [{ "date": "2026-12-24" }] }),
            "invalid_exception",
            "exceptions[0]",
        ),
        (
            json!({ "name": "S", "exceptions": [
                { "date": "2026-12-24", "closed": true },
                { "date": "2026-12-24", "closed": true }
            ] }),
            "duplicate_date",
            "exceptions[1].date",
        ),
        (
            json!({ "name": "S", "time_zone": "Mars/Base" }),
            "invalid_time_zone",
            "time_zone",
        ),
        (json!({ "name": "" }), "required", "name"),
    ] {
        let got = app
            .post(&key, "/api/v1/orgs/acme/schedules", body.clone())
            .await;
        assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, code, Some(field));
    }
    let (_, list) = app.get(&key, "/api/v1/orgs/acme/schedules").await;
    assert!(
        list["items"].as_array().unwrap().is_empty(),
        "nothing was stored"
    );
}

async fn schedules_are_changed_and_deleted_by_the_doors_area_only(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, key) = app.org("acme").await;
    let (_, schedule) = app.post(&key, "/api/v1/orgs/acme/schedules", staff()).await;
    let path = format!(
        "/api/v1/orgs/acme/schedules/{}",
        schedule["id"].as_str().unwrap()
    );

    let auditor = app.key_for("acme", &[Area::Audit]).await;
    assert_eq!(app.get(&auditor, &path).await.0, StatusCode::OK);
    let got = app.patch(&auditor, &path, json!({ "name": "Mine" })).await;
    assert_error(&got, StatusCode::FORBIDDEN, "forbidden", None);
    assert_eq!(got.1["error"]["details"]["area"], "doors");

    let doors = app.key_for("acme", &[Area::Doors]).await;
    let new_windows =
        json!({ "windows": [{ "day": "saturday", "start": "10:00", "end": "14:00" }] });
    let (status, changed) = app.patch(&doors, &path, new_windows).await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["windows"].as_array().unwrap().len(), 1);
    assert_eq!(
        changed["exceptions"], schedule["exceptions"],
        "left out, kept"
    );
    let bad = app
        .patch(
            &doors,
            &path,
            json!({ "windows": [{ "day": "saturday", "start": "10:00", "end": "10:00" }] }),
        )
        .await;
    assert_error(
        &bad,
        StatusCode::UNPROCESSABLE_ENTITY,
        "empty_window",
        Some("windows[0]"),
    );

    assert_eq!(app.delete(&doors, &path).await.0, StatusCode::NO_CONTENT);
    assert_error(
        &app.get(&doors, &path).await,
        StatusCode::NOT_FOUND,
        "schedule_not_found",
        None,
    );
    let (_, log) = app
        .get(&key, "/api/v1/orgs/acme/events?kind=schedule")
        .await;
    let kinds: Vec<_> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["schedule.deleted", "schedule.updated", "schedule.created"]
    );
}
