//! Tenant isolation: organization B's key never sees, changes or lists organization A's
//! objects through any route; it gets exactly the answers a missing object gets, and ids A
//! chose are free for B to choose too.

use lintel_testkit::{Backend, on_both_backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::TestApp;

on_both_backends!(another_organizations_objects_do_not_exist_for_a_key);

/// Everything organization A has, as A's own key sees it.
async fn snapshot(app: &TestApp, a_key: &str) -> Vec<Value> {
    let mut all = Vec::new();
    for path in [
        "",
        "/sites",
        "/doors",
        "/controllers",
        "/door-states",
        "/groups",
        "/schedules",
        "/accesses",
        "/members",
        "/api-keys",
        "/admins",
        "/cards",
        "/pins",
        "/access-links",
        "/quotas",
    ] {
        all.push(app.get(a_key, &format!("/api/v1/orgs/org-a{path}")).await.1);
    }
    all
}

async fn another_organizations_objects_do_not_exist_for_a_key(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, a) = app.org("org-a").await;
    let (_, b) = app.org("org-b").await;
    let site = app.site(&a, "org-a", "A's HQ").await;
    let door = app.door(&a, "org-a", &site, "A's front door").await;
    let (_, group) = app
        .post(
            &a,
            "/api/v1/orgs/org-a/groups",
            json!({ "name": "A staff" }),
        )
        .await;
    let group = group["id"].as_str().unwrap().to_owned();
    let invited = app
        .invite(&a, "org-a", json!({ "email": "ada@example.com" }))
        .await;
    let member = invited["id"].as_str().unwrap().to_owned();
    let (_, schedule) = app
        .post(
            &a,
            "/api/v1/orgs/org-a/schedules",
            json!({ "name": "A hours" }),
        )
        .await;
    let schedule = schedule["id"].as_str().unwrap().to_owned();
    let (_, access) = app
        .post(
            &a,
            "/api/v1/orgs/org-a/accesses",
            json!({ "name": "A staff", "doors": [{ "door_id": door }], "groups": [group] }),
        )
        .await;
    let access = access["id"].as_str().unwrap().to_owned();
    let (_, card) = app
        .post(
            &a,
            "/api/v1/orgs/org-a/cards",
            json!({ "member_id": member, "number": "4711" }),
        )
        .await;
    let card = card["id"].as_str().unwrap().to_owned();
    let (_, pin) = app
        .post(
            &a,
            "/api/v1/orgs/org-a/pins",
            json!({ "member_id": member, "site_id": site }),
        )
        .await;
    let pin = pin["id"].as_str().unwrap().to_owned();
    let (_, link) = app
        .post(
            &a,
            "/api/v1/orgs/org-a/access-links",
            json!({ "group_id": group, "recipient_name": "Guest", "delivery": "manual" }),
        )
        .await;
    let link = link["id"].as_str().unwrap().to_owned();
    let (_, controller) = app
        .post(
            &a,
            "/api/v1/orgs/org-a/controllers",
            json!({ "site_id": site, "name": "A's lobby box" }),
        )
        .await;
    let controller = controller["controller"]["id"].as_str().unwrap().to_owned();
    let (_, keys) = app.get(&a, "/api/v1/orgs/org-a/api-keys").await;
    let key = keys["items"][0]["id"].as_str().unwrap().to_owned();

    let before = snapshot(&app, &a).await;

    // Every route, aimed at A's organization and objects with B's key, and the same route
    // aimed at an organization that does not exist.
    let routes: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, "/api/v1/orgs/{org}".into(), None),
        (
            Method::PATCH,
            "/api/v1/orgs/{org}".into(),
            Some(json!({ "name": "Owned" })),
        ),
        (Method::DELETE, "/api/v1/orgs/{org}".into(), None),
        (Method::GET, "/api/v1/orgs/{org}/sites".into(), None),
        (
            Method::POST,
            "/api/v1/orgs/{org}/sites".into(),
            Some(json!({ "name": "Planted" })),
        ),
        (
            Method::GET,
            format!("/api/v1/orgs/{{org}}/sites/{site}"),
            None,
        ),
        (
            Method::PATCH,
            format!("/api/v1/orgs/{{org}}/sites/{site}"),
            Some(json!({ "name": "Owned" })),
        ),
        (
            Method::DELETE,
            format!("/api/v1/orgs/{{org}}/sites/{site}"),
            None,
        ),
        (Method::GET, "/api/v1/orgs/{org}/doors".into(), None),
        (
            Method::POST,
            "/api/v1/orgs/{org}/doors".into(),
            Some(json!({ "site_id": site, "name": "Planted" })),
        ),
        (
            Method::GET,
            format!("/api/v1/orgs/{{org}}/doors/{door}"),
            None,
        ),
        (
            Method::PATCH,
            format!("/api/v1/orgs/{{org}}/doors/{door}"),
            Some(json!({ "name": "Owned" })),
        ),
        (
            Method::DELETE,
            format!("/api/v1/orgs/{{org}}/doors/{door}"),
            None,
        ),
        (Method::GET, "/api/v1/orgs/{org}/controllers".into(), None),
        (
            Method::POST,
            "/api/v1/orgs/{org}/controllers".into(),
            Some(json!({ "site_id": site, "name": "Planted" })),
        ),
        (
            Method::GET,
            format!("/api/v1/orgs/{{org}}/controllers/{controller}"),
            None,
        ),
        (
            Method::PATCH,
            format!("/api/v1/orgs/{{org}}/controllers/{controller}"),
            Some(json!({ "name": "Owned" })),
        ),
        (
            Method::DELETE,
            format!("/api/v1/orgs/{{org}}/controllers/{controller}"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/orgs/{{org}}/controllers/{controller}/rotate-token"),
            None,
        ),
        (Method::GET, "/api/v1/orgs/{org}/door-states".into(), None),
        (
            Method::POST,
            format!("/api/v1/orgs/{{org}}/controllers/{controller}/pairing-code"),
            None,
        ),
        (Method::GET, "/api/v1/orgs/{org}/groups".into(), None),
        (
            Method::POST,
            "/api/v1/orgs/{org}/groups".into(),
            Some(json!({ "name": "Planted" })),
        ),
        (
            Method::GET,
            format!("/api/v1/orgs/{{org}}/groups/{group}"),
            None,
        ),
        (
            Method::PATCH,
            format!("/api/v1/orgs/{{org}}/groups/{group}"),
            Some(json!({ "name": "Owned" })),
        ),
        (
            Method::DELETE,
            format!("/api/v1/orgs/{{org}}/groups/{group}"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/orgs/{{org}}/doors/{door}/unlock"),
            Some(json!({})),
        ),
        (
            Method::POST,
            format!("/api/v1/orgs/{{org}}/doors/{door}/reader-proof"),
            Some(json!({})),
        ),
        (
            Method::POST,
            format!("/api/v1/orgs/{{org}}/doors/{door}/remote-unlock"),
            Some(json!({})),
        ),
        (
            Method::GET,
            format!("/api/v1/orgs/{{org}}/doors/{door}/who-can-open"),
            None,
        ),
        (
            Method::GET,
            format!("/api/v1/orgs/{{org}}/members/{member}/doors"),
            None,
        ),
        (Method::GET, "/api/v1/orgs/{org}/accesses".into(), None),
        (
            Method::POST,
            "/api/v1/orgs/{org}/accesses".into(),
            Some(json!({ "name": "Planted", "doors": [{ "door_id": door }] })),
        ),
        (
            Method::POST,
            "/api/v1/orgs/{org}/accesses/batch".into(),
            Some(json!({ "accesses": [{ "name": "Planted", "doors": [{ "door_id": door }] }] })),
        ),
        (
            Method::GET,
            format!("/api/v1/orgs/{{org}}/accesses/{access}"),
            None,
        ),
        (
            Method::PATCH,
            format!("/api/v1/orgs/{{org}}/accesses/{access}"),
            Some(json!({ "name": "Owned" })),
        ),
        (
            Method::DELETE,
            format!("/api/v1/orgs/{{org}}/accesses/{access}"),
            None,
        ),
        (Method::GET, "/api/v1/orgs/{org}/schedules".into(), None),
        (
            Method::POST,
            "/api/v1/orgs/{org}/schedules".into(),
            Some(json!({ "name": "Planted" })),
        ),
        (
            Method::GET,
            format!("/api/v1/orgs/{{org}}/schedules/{schedule}"),
            None,
        ),
        (
            Method::PATCH,
            format!("/api/v1/orgs/{{org}}/schedules/{schedule}"),
            Some(json!({ "name": "Owned" })),
        ),
        (
            Method::DELETE,
            format!("/api/v1/orgs/{{org}}/schedules/{schedule}"),
            None,
        ),
        (Method::GET, "/api/v1/orgs/{org}/members".into(), None),
        (
            Method::GET,
            format!("/api/v1/orgs/{{org}}/members/{member}"),
            None,
        ),
        (
            Method::PATCH,
            format!("/api/v1/orgs/{{org}}/members/{member}"),
            Some(json!({ "areas": ["owner"] })),
        ),
        (
            Method::DELETE,
            format!("/api/v1/orgs/{{org}}/members/{member}"),
            None,
        ),
        (Method::GET, "/api/v1/orgs/{org}/invitations".into(), None),
        (
            Method::POST,
            "/api/v1/orgs/{org}/invitations".into(),
            Some(json!({ "email": "planted@example.com" })),
        ),
        (
            Method::POST,
            format!("/api/v1/orgs/{{org}}/invitations/{member}/resend"),
            Some(json!({})),
        ),
        (
            Method::DELETE,
            format!("/api/v1/orgs/{{org}}/invitations/{member}"),
            None,
        ),
        (Method::GET, "/api/v1/orgs/{org}/admins".into(), None),
        (Method::GET, "/api/v1/orgs/{org}/api-keys".into(), None),
        (
            Method::POST,
            "/api/v1/orgs/{org}/api-keys".into(),
            Some(json!({ "name": "planted", "areas": ["owner"] })),
        ),
        (
            Method::POST,
            format!("/api/v1/orgs/{{org}}/api-keys/{key}/revoke"),
            Some(json!({})),
        ),
        (Method::GET, "/api/v1/orgs/{org}/events".into(), None),
        (Method::GET, "/api/v1/orgs/{org}/events.csv".into(), None),
        (Method::GET, "/api/v1/orgs/{org}/cards".into(), None),
        (
            Method::POST,
            "/api/v1/orgs/{org}/cards".into(),
            Some(json!({ "member_id": member, "number": "99" })),
        ),
        (
            Method::GET,
            format!("/api/v1/orgs/{{org}}/cards/{card}"),
            None,
        ),
        (
            Method::DELETE,
            format!("/api/v1/orgs/{{org}}/cards/{card}"),
            None,
        ),
        (Method::GET, "/api/v1/orgs/{org}/pins".into(), None),
        (
            Method::POST,
            "/api/v1/orgs/{org}/pins".into(),
            Some(json!({ "member_id": member, "site_id": site })),
        ),
        (
            Method::GET,
            format!("/api/v1/orgs/{{org}}/pins/{pin}"),
            None,
        ),
        (
            Method::DELETE,
            format!("/api/v1/orgs/{{org}}/pins/{pin}"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/orgs/{{org}}/doors/{door}/present"),
            Some(json!({ "card": { "number": "4711" } })),
        ),
        (Method::GET, "/api/v1/orgs/{org}/access-links".into(), None),
        (
            Method::POST,
            "/api/v1/orgs/{org}/access-links".into(),
            Some(json!({ "group_id": group, "recipient_name": "P", "delivery": "manual" })),
        ),
        (
            Method::GET,
            format!("/api/v1/orgs/{{org}}/access-links/{link}"),
            None,
        ),
        (
            Method::DELETE,
            format!("/api/v1/orgs/{{org}}/access-links/{link}"),
            None,
        ),
        (Method::GET, "/api/v1/orgs/{org}/quotas".into(), None),
        (
            Method::PUT,
            "/api/v1/orgs/{org}/quotas".into(),
            Some(json!({ "email_links": 1, "sms_links_per_month": 1 })),
        ),
    ];
    // Every organization route is here.
    let doc = serde_json::to_value(lintel_server::http::openapi()).unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let Some(rest) = path.strip_prefix("/api/v1/orgs/{org_slug}") else {
            continue;
        };
        for method in item
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| *k != "parameters")
        {
            let covered = routes.iter().any(|(m, template, _)| {
                m.as_str().eq_ignore_ascii_case(method)
                    && template.split('/').count() == path.split('/').count()
                    && template.ends_with(rest.rsplit('}').next().unwrap_or(rest))
                    && template.contains(rest.split('{').next().unwrap_or(rest))
            });
            assert!(covered, "{method} {path} is not checked for isolation");
        }
    }
    for (method, template, body) in &routes {
        let at_a = app
            .call(
                method.clone(),
                &b,
                &template.replace("{org}", "org-a"),
                body.clone(),
            )
            .await;
        let at_none = app
            .call(
                method.clone(),
                &b,
                &template.replace("{org}", "no-such-org"),
                body.clone(),
            )
            .await;
        assert_eq!(
            at_a.0,
            StatusCode::NOT_FOUND,
            "{method} {template}: {}",
            at_a.1
        );
        assert_eq!(
            at_a.1["error"]["code"], "organization_not_found",
            "{method} {template}"
        );
        assert_eq!(
            at_a, at_none,
            "{method} {template} must look exactly like a missing organization"
        );

        // A's object ids inside B's own organization are simply not found there either.
        // (Unlocking is for phones: a key is refused before any door is looked up.)
        if [
            &site,
            &door,
            &controller,
            &group,
            &member,
            &key,
            &schedule,
            &access,
            &card,
            &pin,
            &link,
        ]
        .iter()
        .any(|id| template.contains(id.as_str()))
            && !template.ends_with("/unlock")
            && !template.ends_with("/reader-proof")
        {
            let in_b = app
                .call(
                    method.clone(),
                    &b,
                    &template.replace("{org}", "org-b"),
                    body.clone(),
                )
                .await;
            assert_eq!(
                in_b.0,
                StatusCode::NOT_FOUND,
                "{method} {template} in org-b: {}",
                in_b.1
            );
        }
    }

    // B's lists hold only B's objects.
    for list in [
        "sites",
        "doors",
        "controllers",
        "groups",
        "members",
        "invitations",
        "schedules",
        "accesses",
        "cards",
        "pins",
        "access-links",
    ] {
        let (_, page) = app.get(&b, &format!("/api/v1/orgs/org-b/{list}")).await;
        assert!(
            page["items"].as_array().unwrap().is_empty(),
            "{list}: {page}"
        );
    }
    let (_, orgs) = app.get(&b, "/api/v1/orgs").await;
    assert_eq!(orgs["items"].as_array().unwrap().len(), 1);
    assert_eq!(orgs["items"][0]["slug"], "org-b");

    // A's member and site named in B's own organization are not B's.
    let planted = app.site(&b, "org-b", "B's HQ").await;
    for (path, body, field) in [
        (
            "cards",
            json!({ "member_id": member, "number": "4711" }),
            "member_id",
        ),
        (
            "pins",
            json!({ "member_id": member, "site_id": planted }),
            "member_id",
        ),
        (
            "access-links",
            json!({ "group_id": group, "recipient_name": "P", "delivery": "manual" }),
            "group_id",
        ),
    ] {
        let (status, err) = app
            .post(&b, &format!("/api/v1/orgs/org-b/{path}"), body)
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {err}");
        assert_eq!(err["error"]["code"], "reference_not_found", "{path}");
        assert_eq!(err["error"]["field"], field, "{path}");
    }

    // A's access id is A's own: B takes the same id for an access of its own, alone and in a
    // batch, as if A's did not exist, and A's stays as it was.
    let b_door = app.door(&b, "org-b", &planted, "B's front door").await;
    let mine = json!({ "id": access, "name": "B staff", "doors": [{ "door_id": b_door }] });
    let (status, made) = app
        .post(&b, "/api/v1/orgs/org-b/accesses", mine.clone())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(
        (&made["id"], &made["name"]),
        (&json!(access), &json!("B staff"))
    );
    let (status, again) = app
        .post(
            &b,
            "/api/v1/orgs/org-b/accesses/batch",
            json!({ "accesses": [mine] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
    assert_eq!(again["accesses"][0], made, "a retry of B's own");
    let (status, gone) = app
        .delete(&b, &format!("/api/v1/orgs/org-b/accesses/{access}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{gone}");

    assert_eq!(snapshot(&app, &a).await, before, "nothing of A's changed");
}
