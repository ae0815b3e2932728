use chrono::Duration;
use lintel_domain::{Area, Areas};
use lintel_server::app;
use lintel_testkit::{Backend, on_both_backends};
use reqwest::StatusCode;

use crate::{TestApp, assert_error};

on_both_backends!(
    requests_without_a_valid_key_are_unauthenticated,
    an_expired_key_stops_working,
    keys_are_stored_only_as_hashes,
);

async fn requests_without_a_valid_key_are_unauthenticated(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, key) = app.org("acme").await;
    let client = reqwest::Client::new();
    let url = app.url("/api/v1/orgs/acme");
    let no_header = crate::read(client.get(&url).send().await.unwrap()).await;
    assert_error(
        &no_header,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        None,
    );
    let basic = crate::read(
        client
            .get(&url)
            .basic_auth("acme", Some(&key))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(&basic, StatusCode::UNAUTHORIZED, "unauthenticated", None);
    let mut wrong = key.clone();
    wrong.pop();
    wrong.push(if key.ends_with('A') { 'B' } else { 'A' });
    for bad in [wrong.as_str(), "lnt_", "not-a-key", ""] {
        let got = app.get(bad, "/api/v1/orgs/acme").await;
        assert_error(&got, StatusCode::UNAUTHORIZED, "unauthenticated", None);
    }
    // An unknown organization with a bad key is still 401: nothing is revealed before
    // authentication.
    let got = app.get(&wrong, "/api/v1/orgs/nobody").await;
    assert_error(&got, StatusCode::UNAUTHORIZED, "unauthenticated", None);
    let resp = client.get(&url).send().await.unwrap();
    assert_eq!(resp.headers()["www-authenticate"], "Bearer");
    let lower = client
        .get(&url)
        .header("authorization", format!("bearer {key}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        lower.status(),
        StatusCode::OK,
        "the scheme is case-insensitive"
    );
}

async fn an_expired_key_stops_working(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (org, _) = app.org("acme").await;
    let expires = lintel_domain::Clock::now(&app.clock) + Duration::days(1);
    let issued = app::api_keys::issue(
        &app.state,
        Some(org),
        "temp",
        Areas::new([Area::Owner]),
        Some(expires),
        None,
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        app.get(&issued.secret, "/api/v1/orgs/acme").await.0,
        StatusCode::OK
    );
    app.clock.advance(Duration::days(1));
    let got = app.get(&issued.secret, "/api/v1/orgs/acme").await;
    assert_error(&got, StatusCode::UNAUTHORIZED, "unauthenticated", None);

    let past = app::api_keys::issue(
        &app.state,
        Some(org),
        "late",
        Areas::new([Area::Owner]),
        Some(expires),
        None,
        None,
    )
    .await;
    assert!(matches!(past, Err(app::Error::Invalid(e)) if e.field == "expires_at"));
}

async fn keys_are_stored_only_as_hashes(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, key) = app.org("acme").await;
    assert!(key.starts_with("lnt_") && key.len() >= 40, "{key}");
    use sha2::Digest as _;
    let hash = sha2::Sha256::digest(key.as_bytes());
    let stored = app.state.store.find_api_key(&hash).await.unwrap().unwrap();
    assert_eq!(stored.prefix, key[..12]);
    assert!(!String::from_utf8_lossy(&stored.secret_hash).contains(&key[4..]));
    assert_eq!(stored.last_used_at, None);
    app.get(&key, "/api/v1/orgs/acme").await;
    let used = app.state.store.find_api_key(&hash).await.unwrap().unwrap();
    assert!(used.last_used_at.is_some(), "use is recorded");
}
