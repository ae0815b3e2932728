use lintel_domain::Area;
use lintel_testkit::{Backend, on_both_backends};
use reqwest::StatusCode;
use serde_json::json;

use crate::{TestApp, assert_error};

on_both_backends!(
    a_group_is_created_renamed_and_deleted,
    group_names_are_unique_per_organization,
    changing_groups_needs_the_members_area,
);

async fn a_group_is_created_renamed_and_deleted(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, key) = app.org("acme").await;
    let (status, group) = app
        .post(
            &key,
            "/api/v1/orgs/acme/groups",
            json!({ "name": "Staff", "description": "Everyone on payroll" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{group}");
    let path = format!("/api/v1/orgs/acme/groups/{}", group["id"].as_str().unwrap());
    assert_eq!(app.get(&key, &path).await.1, group);
    let (_, renamed) = app.patch(&key, &path, json!({ "name": "Employees" })).await;
    assert_eq!(renamed["name"], "Employees");
    assert_eq!(renamed["description"], "Everyone on payroll");
    assert_eq!(app.delete(&key, &path).await.0, StatusCode::NO_CONTENT);
    assert_error(
        &app.get(&key, &path).await,
        StatusCode::NOT_FOUND,
        "group_not_found",
        None,
    );
}

async fn group_names_are_unique_per_organization(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, a) = app.org("org-a").await;
    let (_, b) = app.org("org-b").await;
    assert_eq!(
        app.post(&a, "/api/v1/orgs/org-a/groups", json!({ "name": "Staff" }))
            .await
            .0,
        StatusCode::CREATED
    );
    assert_eq!(
        app.post(&b, "/api/v1/orgs/org-b/groups", json!({ "name": "Staff" }))
            .await
            .0,
        StatusCode::CREATED
    );
    let dup = app
        .post(&a, "/api/v1/orgs/org-a/groups", json!({ "name": "Staff" }))
        .await;
    assert_error(&dup, StatusCode::CONFLICT, "group_name_taken", Some("name"));
    let (_, guests) = app
        .post(&a, "/api/v1/orgs/org-a/groups", json!({ "name": "Guests" }))
        .await;
    let rename = app
        .patch(
            &a,
            &format!(
                "/api/v1/orgs/org-a/groups/{}",
                guests["id"].as_str().unwrap()
            ),
            json!({ "name": "Staff" }),
        )
        .await;
    assert_error(
        &rename,
        StatusCode::CONFLICT,
        "group_name_taken",
        Some("name"),
    );
}

async fn changing_groups_needs_the_members_area(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (org, _) = app.org("acme").await;
    let doors = app.key(Some(org), &[Area::Doors]).await;
    let refused = app
        .post(
            &doors,
            "/api/v1/orgs/acme/groups",
            json!({ "name": "Staff" }),
        )
        .await;
    assert_error(&refused, StatusCode::FORBIDDEN, "forbidden", None);
    let members = app.key(Some(org), &[Area::Members]).await;
    assert_eq!(
        app.post(
            &members,
            "/api/v1/orgs/acme/groups",
            json!({ "name": "Staff" })
        )
        .await
        .0,
        StatusCode::CREATED
    );
}
