use lintel_testkit::{Backend, on_both_backends};
use reqwest::StatusCode;

use crate::TestApp;

on_both_backends!(
    health_and_readiness_answer_without_a_key,
    every_response_carries_a_request_id,
    the_served_document_is_the_committed_one,
    shutdown_lets_the_server_finish,
);

async fn health_and_readiness_answer_without_a_key(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for path in ["/healthz", "/readyz"] {
        let resp = reqwest::get(app.url(path)).await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(
            resp.json::<serde_json::Value>().await.unwrap()["status"],
            "ok"
        );
    }
}

async fn every_response_carries_a_request_id(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let client = reqwest::Client::new();
    let first = client.get(app.url("/api/v1/orgs")).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::UNAUTHORIZED);
    let id = first.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(id.len(), 36, "{id}");
    let second = client.get(app.url("/healthz")).send().await.unwrap();
    assert_ne!(second.headers()["x-request-id"].to_str().unwrap(), id);
    // A caller's own id is kept, so it can follow its request through the logs.
    let mine = client
        .get(app.url("/nowhere"))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(mine.headers()["x-request-id"], "trace-me-42");
}

async fn the_served_document_is_the_committed_one(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let resp = reqwest::get(app.url("/api/v1/openapi.json")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/json");
    let served = resp.text().await.unwrap();
    assert_eq!(served, lintel_server::http::openapi_json_text());
    let doc: serde_json::Value = serde_json::from_str(&served).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
}

async fn shutdown_lets_the_server_finish(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let addr = app.addr;
    app.shut_down().await.unwrap();
    assert!(
        reqwest::get(format!("http://{addr}/healthz"))
            .await
            .is_err()
    );
}

/// The committed copy of the OpenAPI document matches the code. To accept a change on
/// purpose: `LINTEL_WRITE_OPENAPI=1 cargo test -p lintel-server openapi`.
#[test]
fn the_committed_openapi_document_matches_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json");
    let generated = lintel_server::http::openapi_json_text();
    if std::env::var("LINTEL_WRITE_OPENAPI").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/openapi.json is out of date; regenerate it with \
         LINTEL_WRITE_OPENAPI=1 cargo test -p lintel-server openapi"
    );
}

/// Every route the API serves is in the document, with its methods.
#[test]
fn the_openapi_document_describes_every_route() {
    let doc = serde_json::to_value(lintel_server::http::openapi()).unwrap();
    let expected: &[(&str, &[&str])] = &[
        ("/healthz", &["get"]),
        ("/readyz", &["get"]),
        ("/api/v1/openapi.json", &["get"]),
        ("/api/v1/auth/register", &["post"]),
        ("/api/v1/auth/login", &["post"]),
        ("/api/v1/auth/oidc/providers", &["get"]),
        ("/api/v1/auth/oidc/register", &["post"]),
        ("/api/v1/auth/oidc/complete", &["post"]),
        ("/api/v1/auth/oidc/{provider}/start", &["post"]),
        ("/api/v1/auth/oidc/{provider}/finish", &["post"]),
        ("/api/v1/auth/passkey/options", &["post"]),
        ("/api/v1/auth/passkey/finish", &["post"]),
        ("/api/v1/auth/email/verify", &["post"]),
        ("/api/v1/auth/sms/verify", &["post"]),
        ("/api/v1/auth/reissue", &["post"]),
        ("/api/v1/auth/recover", &["post"]),
        ("/api/v1/auth/reset-account", &["post"]),
        ("/api/v1/auth/reset-account/verify", &["post"]),
        ("/api/v1/me/email", &["post"]),
        ("/api/v1/me/email/verify", &["post"]),
        ("/api/v1/me/phone", &["post"]),
        ("/api/v1/me/phone/verify", &["post"]),
        ("/api/v1/me/delete", &["post"]),
        ("/api/v1/me/delete/confirm", &["post"]),
        ("/api/v1/me", &["get", "patch"]),
        ("/api/v1/me/devices", &["get"]),
        ("/api/v1/me/devices/{device_id}", &["delete"]),
        ("/api/v1/me/devices/{device_id}/pin", &["post"]),
        ("/api/v1/me/memberships", &["get"]),
        ("/api/v1/me/memberships/{org_slug}", &["delete"]),
        ("/api/v1/invitations/{token}", &["get"]),
        ("/api/v1/invitations/{token}/accept", &["post"]),
        ("/api/v1/orgs", &["get", "post"]),
        ("/api/v1/orgs/{org_slug}", &["get", "patch", "delete"]),
        ("/api/v1/orgs/{org_slug}/sites", &["get", "post"]),
        (
            "/api/v1/orgs/{org_slug}/sites/{site_id}",
            &["get", "patch", "delete"],
        ),
        ("/api/v1/orgs/{org_slug}/doors", &["get", "post"]),
        ("/api/v1/orgs/{org_slug}/controllers", &["get", "post"]),
        (
            "/api/v1/orgs/{org_slug}/controllers/{controller_id}",
            &["get", "patch", "delete"],
        ),
        (
            "/api/v1/orgs/{org_slug}/controllers/{controller_id}/rotate-token",
            &["post"],
        ),
        ("/api/v1/orgs/{org_slug}/door-states", &["get"]),
        (
            "/api/v1/orgs/{org_slug}/controllers/{controller_id}/pairing-code",
            &["post"],
        ),
        ("/api/v1/controllers/pair", &["post"]),
        (
            "/api/v1/orgs/{org_slug}/doors/{door_id}",
            &["get", "patch", "delete"],
        ),
        ("/api/v1/orgs/{org_slug}/groups", &["get", "post"]),
        (
            "/api/v1/orgs/{org_slug}/groups/{group_id}",
            &["get", "patch", "delete"],
        ),
        ("/api/v1/orgs/{org_slug}/schedules", &["get", "post"]),
        (
            "/api/v1/orgs/{org_slug}/schedules/{schedule_id}",
            &["get", "patch", "delete"],
        ),
        ("/api/v1/orgs/{org_slug}/accesses", &["get", "post"]),
        ("/api/v1/orgs/{org_slug}/accesses/batch", &["post"]),
        (
            "/api/v1/orgs/{org_slug}/accesses/{access_id}",
            &["get", "patch", "delete"],
        ),
        ("/api/v1/orgs/{org_slug}/doors/{door_id}/unlock", &["post"]),
        (
            "/api/v1/orgs/{org_slug}/doors/{door_id}/reader-proof",
            &["post"],
        ),
        (
            "/api/v1/orgs/{org_slug}/doors/{door_id}/remote-unlock",
            &["post"],
        ),
        (
            "/api/v1/orgs/{org_slug}/doors/{door_id}/who-can-open",
            &["get"],
        ),
        (
            "/api/v1/orgs/{org_slug}/members/{member_id}/doors",
            &["get"],
        ),
        ("/api/v1/me/doors", &["get"]),
        ("/api/v1/me/pins", &["get"]),
        ("/api/v1/me/passkeys", &["get", "post"]),
        ("/api/v1/me/passkeys/options", &["post"]),
        ("/api/v1/me/passkeys/verify", &["post"]),
        ("/api/v1/me/passkeys/verify/options", &["post"]),
        ("/api/v1/me/passkeys/{id}", &["delete"]),
        ("/api/v1/me/providers", &["get"]),
        ("/api/v1/me/providers/{provider}", &["delete"]),
        ("/api/v1/me/providers/{provider}/start", &["post"]),
        ("/api/v1/me/providers/{provider}/finish", &["post"]),
        ("/api/v1/orgs/{org_slug}/cards", &["get", "post"]),
        (
            "/api/v1/orgs/{org_slug}/cards/{card_id}",
            &["get", "delete"],
        ),
        ("/api/v1/orgs/{org_slug}/pins", &["get", "post"]),
        ("/api/v1/orgs/{org_slug}/pins/{pin_id}", &["get", "delete"]),
        ("/api/v1/orgs/{org_slug}/doors/{door_id}/present", &["post"]),
        ("/api/v1/orgs/{org_slug}/access-links", &["get", "post"]),
        (
            "/api/v1/orgs/{org_slug}/access-links/{link_id}",
            &["get", "delete"],
        ),
        ("/api/v1/orgs/{org_slug}/quotas", &["get", "put"]),
        ("/api/v1/links/{secret}", &["get"]),
        ("/api/v1/links/{secret}/doors/{door_id}/unlock", &["post"]),
        ("/api/v1/orgs/{org_slug}/members", &["get"]),
        (
            "/api/v1/orgs/{org_slug}/members/{member_id}",
            &["get", "patch", "delete"],
        ),
        ("/api/v1/orgs/{org_slug}/invitations", &["get", "post"]),
        (
            "/api/v1/orgs/{org_slug}/invitations/{invitation_id}",
            &["delete"],
        ),
        (
            "/api/v1/orgs/{org_slug}/invitations/{invitation_id}/resend",
            &["post"],
        ),
        ("/api/v1/orgs/{org_slug}/admins", &["get"]),
        ("/api/v1/orgs/{org_slug}/api-keys", &["get", "post"]),
        (
            "/api/v1/orgs/{org_slug}/api-keys/{key_id}/revoke",
            &["post"],
        ),
        ("/api/v1/orgs/{org_slug}/events", &["get"]),
        ("/api/v1/orgs/{org_slug}/events.csv", &["get"]),
    ];
    let paths = doc["paths"].as_object().unwrap();
    assert_eq!(
        paths.len(),
        expected.len(),
        "{:?}",
        paths.keys().collect::<Vec<_>>()
    );
    for (path, methods) in expected {
        let item = paths
            .get(*path)
            .unwrap_or_else(|| panic!("{path} is not documented"));
        let mut documented: Vec<_> = item.as_object().unwrap().keys().cloned().collect();
        documented.retain(|k| k != "parameters");
        documented.sort();
        let mut methods = methods.to_vec();
        methods.sort();
        assert_eq!(documented, methods, "{path}");
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}
