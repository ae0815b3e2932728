use lintel_domain::Area;
use lintel_testkit::{Backend, on_both_backends};
use reqwest::StatusCode;
use serde_json::json;

use lintel_server::app;

use crate::{TestApp, assert_error};

on_both_backends!(
    a_controller_is_made_with_a_token_shown_once_and_doors_are_wired_to_it,
    controllers_need_the_doors_area_and_stay_in_their_organization,
    each_site_says_how_long_its_controllers_work_offline,
    a_pairing_code_enrols_a_controller_once_and_says_nothing_of_wrong_ones,
);

/// Controller "Cabinet" of acme at `site`, made with `key`: the answer, with its token.
async fn cabinet(app: &TestApp, key: &str, site: &str) -> serde_json::Value {
    let (status, made) = app
        .post(
            key,
            "/api/v1/orgs/acme/controllers",
            json!({ "site_id": site, "name": "Cabinet" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    made
}

async fn a_controller_is_made_with_a_token_shown_once_and_doors_are_wired_to_it(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, key) = app.org("acme").await;
    let hq = app.site(&key, "acme", "HQ").await;
    let depot = app.site(&key, "acme", "Depot").await;
    let made = cabinet(&app, &key, &hq).await;
    let token = made["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("lct_") && token.len() > 40, "{token}");
    let id = made["controller"]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/orgs/acme/controllers/{id}");
    let (_, read) = app.get(&key, &path).await;
    assert_eq!(read, made["controller"]);
    assert!(!read.to_string().contains(&token));

    let (status, renamed) = app.patch(&key, &path, json!({ "name": "Cabinet A" })).await;
    assert_eq!(status, StatusCode::OK, "{renamed}");
    assert_eq!(renamed["name"], "Cabinet A");

    // Doors of its site are wired to it; a door of another site is not.
    let front = app.door(&key, "acme", &hq, "Front").await;
    let gate = app.door(&key, "acme", &depot, "Gate").await;
    let (status, wired) = app
        .patch(
            &key,
            &format!("/api/v1/orgs/acme/doors/{front}"),
            json!({ "controller_id": id }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{wired}");
    assert_eq!(wired["controller_id"], id.as_str());
    let refused = app
        .patch(
            &key,
            &format!("/api/v1/orgs/acme/doors/{gate}"),
            json!({ "controller_id": id }),
        )
        .await;
    assert_error(
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "controller_of_another_site",
        Some("controller_id"),
    );
    let (_, its_doors) = app
        .get(&key, &format!("/api/v1/orgs/acme/doors?controller_id={id}"))
        .await;
    assert_eq!(
        its_doors["items"].as_array().unwrap().len(),
        1,
        "{its_doors}"
    );

    // Rotating gives a new token, shown once.
    let (status, rotated) = app
        .post(&key, &format!("{path}/rotate-token"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let new_token = rotated["token"].as_str().unwrap();
    assert!(new_token.starts_with("lct_") && new_token != token);

    // Not deleted while a door is wired to it; unwired, it is.
    let refused = app.delete(&key, &path).await;
    assert_error(&refused, StatusCode::CONFLICT, "controller_has_doors", None);
    let (status, _) = app
        .patch(
            &key,
            &format!("/api/v1/orgs/acme/doors/{front}"),
            json!({ "controller_id": null }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.delete(&key, &path).await.0, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&key, &path).await.0, StatusCode::NOT_FOUND);

    // The log has each step, and no token anywhere.
    let (_, events) = app.get(&key, "/api/v1/orgs/acme/events?limit=200").await;
    let text = events.to_string();
    for kind in [
        "controller.created",
        "controller.updated",
        "controller.token_rotated",
        "controller.deleted",
    ] {
        assert!(text.contains(kind), "{kind} missing: {text}");
    }
    assert!(!text.contains("lct_"), "{text}");
}

async fn controllers_need_the_doors_area_and_stay_in_their_organization(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, key) = app.org("acme").await;
    let hq = app.site(&key, "acme", "HQ").await;
    let made = cabinet(&app, &key, &hq).await;
    let id = made["controller"]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/orgs/acme/controllers/{id}");

    // Another admin area reads, but does not change.
    let members = app.key_for("acme", &[Area::Members]).await;
    assert_eq!(app.get(&members, &path).await.0, StatusCode::OK);
    let refused = app
        .post(
            &members,
            "/api/v1/orgs/acme/controllers",
            json!({ "site_id": hq, "name": "Another" }),
        )
        .await;
    assert_error(&refused, StatusCode::FORBIDDEN, "forbidden", None);
    let refused = app
        .post(&members, &format!("{path}/rotate-token"), json!({}))
        .await;
    assert_error(&refused, StatusCode::FORBIDDEN, "forbidden", None);

    // Another organization sees none of it, and cannot wire its doors to it.
    let (_, _) = app.org("globex").await;
    let globex = app.key_for("globex", &[Area::Owner]).await;
    let plant = app.site(&globex, "globex", "Plant").await;
    let theirs = format!("/api/v1/orgs/globex/controllers/{id}");
    assert_eq!(app.get(&globex, &theirs).await.0, StatusCode::NOT_FOUND);
    let refused = app
        .post(&globex, &format!("{theirs}/rotate-token"), json!({}))
        .await;
    assert_error(
        &refused,
        StatusCode::NOT_FOUND,
        "controller_not_found",
        None,
    );
    let (_, listed) = app.get(&globex, "/api/v1/orgs/globex/controllers").await;
    assert_eq!(listed["items"], json!([]));
    let refused = app
        .post(
            &globex,
            "/api/v1/orgs/globex/doors",
            json!({ "site_id": plant, "name": "Dock", "controller_id": id }),
        )
        .await;
    assert_error(
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "reference_not_found",
        Some("controller_id"),
    );
    // A controller of a site of another organization is refused the same way.
    let refused = app
        .post(
            &globex,
            "/api/v1/orgs/globex/controllers",
            json!({ "site_id": hq, "name": "Stolen" }),
        )
        .await;
    assert_error(
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "reference_not_found",
        Some("site_id"),
    );
}

async fn each_site_says_how_long_its_controllers_work_offline(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (org, key) = app.org("acme").await;
    let hq = app.site(&key, "acme", "HQ").await;
    let path = format!("/api/v1/orgs/acme/sites/{hq}");
    let (_, site) = app.get(&key, &path).await;
    assert_eq!(site["offline_rules_max_days"], 30, "{site}");
    for days in [0, 366] {
        let refused = app
            .patch(&key, &path, json!({ "offline_rules_max_days": days }))
            .await;
        assert_error(
            &refused,
            StatusCode::UNPROCESSABLE_ENTITY,
            "out_of_range",
            Some("offline_rules_max_days"),
        );
    }
    let (status, changed) = app
        .patch(&key, &path, json!({ "offline_rules_max_days": 3 }))
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["offline_rules_max_days"], 3);

    // The site's controllers get it in their rules.
    let made = cabinet(&app, &key, &hq).await;
    let id: uuid::Uuid = made["controller"]["id"].as_str().unwrap().parse().unwrap();
    let controller = app
        .state
        .store
        .get_controller(org, lintel_domain::ControllerId(id))
        .await
        .unwrap();
    let rules = lintel_server::app::controllers::rules_for(&app.state, org, &controller)
        .await
        .unwrap();
    assert_eq!(rules.offline_max_age_secs, 3 * 24 * 3600);
}

async fn a_pairing_code_enrols_a_controller_once_and_says_nothing_of_wrong_ones(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, key) = app.org("acme").await;
    let hq = app.site(&key, "acme", "HQ").await;
    let made = cabinet(&app, &key, &hq).await;
    let old = made["token"].as_str().unwrap().to_owned();
    let id = made["controller"]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/orgs/acme/controllers/{id}/pairing-code");
    let (status, first) = app.post(&key, &path, json!(null)).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let (_, pairing) = app.post(&key, &path, json!(null)).await;
    let code = pairing["code"].as_str().unwrap().to_owned();
    assert!(
        code.len() == 11 && code.as_bytes()[5] == b'-',
        "two groups of five: {code}"
    );
    // Only the digest is kept: neither code is in the log or the controller's record.
    let (_, events) = app.get(&key, "/api/v1/orgs/acme/events").await;
    let (_, read) = app
        .get(&key, &format!("/api/v1/orgs/acme/controllers/{id}"))
        .await;
    for code in [first["code"].as_str().unwrap(), code.as_str()] {
        let letters = code.replace('-', "");
        assert!(!events.to_string().contains(&letters) && !read.to_string().contains(&letters));
    }

    // The first code was replaced; typos of the form are forgiven, wrong codes are not found.
    let pair = |code: &str| app.post("", "/api/v1/controllers/pair", json!({ "code": code }));
    let replaced = pair(first["code"].as_str().unwrap()).await;
    assert_error(
        &replaced,
        StatusCode::NOT_FOUND,
        "pairing_code_not_found",
        None,
    );
    for wrong in ["", "not a code", "AAAAA-AAAAA"] {
        let refused = pair(wrong).await;
        assert_error(
            &refused,
            StatusCode::NOT_FOUND,
            "pairing_code_not_found",
            None,
        );
    }
    let typed = code.to_lowercase().replace('-', " ").replace('0', "o");
    let (status, paired) = pair(&typed).await;
    assert_eq!(status, StatusCode::OK, "{paired}");
    assert_eq!(
        (&paired["controller_id"], &paired["organization_slug"]),
        (&json!(id), &json!("acme"))
    );
    let token = paired["token"].as_str().unwrap();
    assert!(token.starts_with("lct_"), "{paired}");
    let found = app::controllers::authenticate(&app.state, token)
        .await
        .unwrap();
    assert_eq!(found.1.id.0.to_string(), id);
    assert!(
        app::controllers::authenticate(&app.state, &old)
            .await
            .is_err()
    );
    // Once only.
    let again = pair(&code).await;
    assert_error(
        &again,
        StatusCode::NOT_FOUND,
        "pairing_code_not_found",
        None,
    );
    let (_, events) = app
        .get(&key, "/api/v1/orgs/acme/events?kind=controller")
        .await;
    let kinds: Vec<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"controller.paired"), "{kinds:?}");
    assert!(!events.to_string().contains(token));
}
