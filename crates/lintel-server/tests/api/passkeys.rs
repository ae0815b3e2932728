//! Passkeys through the API: what the challenges ask for, and answers that do not verify.
//! A real authenticator answering them is Chromium's virtual one, in `browser.rs`.

use lintel_testkit::{Backend, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::members::auth;
use crate::{TestApp, assert_error};

on_both_backends!(
    passkeys_need_a_public_url_with_a_domain,
    passkey_challenges_ask_for_discoverable_credentials_and_user_verification,
    an_answer_that_does_not_verify_is_refused_and_its_ceremony_ends,
);

const ADA: &str = "ada@example.com";
const ADA_PHONE: &str = "+46701234567";

async fn localhost(backend: Backend) -> Option<TestApp> {
    Some(
        TestApp::spawn_with(backend, "localhost", |_| (Vec::new(), ()))
            .await?
            .0,
    )
}

/// A registration answer shaped like a browser's, signed by nobody.
fn made_up_registration() -> Value {
    json!({
        "id": "AAAA", "rawId": "AAAA", "type": "public-key",
        "response": { "attestationObject": "AAAA", "clientDataJSON": "AAAA" },
        "clientExtensionResults": {}
    })
}

fn made_up_assertion(user_handle: &str) -> Value {
    json!({
        "id": "AAAA", "rawId": "AAAA", "type": "public-key",
        "response": { "authenticatorData": "AAAA", "clientDataJSON": "AAAA",
                      "signature": "AAAA", "userHandle": user_handle },
        "clientExtensionResults": {}
    })
}

async fn passkeys_need_a_public_url_with_a_domain(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let ada = auth(&app.sign_up(ADA, ADA_PHONE).await);
    for (key, path) in [
        ("", "/api/v1/auth/passkey/options"),
        (ada.as_str(), "/api/v1/me/passkeys/options"),
    ] {
        let got = app.post(key, path, json!({})).await;
        assert_error(&got, StatusCode::CONFLICT, "passkeys_unavailable", None);
    }
}

async fn passkey_challenges_ask_for_discoverable_credentials_and_user_verification(
    backend: Backend,
) {
    let Some(app) = localhost(backend).await else {
        return;
    };
    let ada = auth(&app.sign_up(ADA, ADA_PHONE).await);
    let (status, add) = app
        .post(&ada, "/api/v1/me/passkeys/options", json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{add}");
    let options = &add["options"]["publicKey"];
    assert_eq!(options["rp"]["id"], "localhost", "{add}");
    assert_eq!(options["user"]["name"], ADA);
    let selection = &options["authenticatorSelection"];
    assert_eq!(selection["residentKey"], "required", "{add}");
    assert_eq!(selection["requireResidentKey"], true);
    assert_eq!(selection["userVerification"], "required");

    let (status, sign_in) = app
        .post("", "/api/v1/auth/passkey/options", json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{sign_in}");
    let options = &sign_in["options"];
    assert!(
        options.get("mediation").is_none(),
        "asked by a button: {sign_in}"
    );
    assert_eq!(options["publicKey"]["userVerification"], "required");
    assert!(
        options["publicKey"]["allowCredentials"]
            .as_array()
            .is_none_or(Vec::is_empty),
        "any passkey of the site: {sign_in}"
    );
    // Without a passkey, the app PIN it is.
    let got = app
        .post(&ada, "/api/v1/me/passkeys/verify/options", json!({}))
        .await;
    assert_error(&got, StatusCode::CONFLICT, "no_passkey", None);
    let (_, listed) = app.get(&ada, "/api/v1/me/passkeys").await;
    assert_eq!(listed, json!([]));
}

async fn an_answer_that_does_not_verify_is_refused_and_its_ceremony_ends(backend: Backend) {
    let Some(app) = localhost(backend).await else {
        return;
    };
    let signed_in = app.sign_up(ADA, ADA_PHONE).await;
    let ada = auth(&signed_in);
    let (_, add) = app
        .post(&ada, "/api/v1/me/passkeys/options", json!({}))
        .await;
    let body = json!({ "ceremony": add["ceremony"], "name": "Laptop",
                       "credential": made_up_registration() });
    let got = app.post(&ada, "/api/v1/me/passkeys", body.clone()).await;
    assert_error(
        &got,
        StatusCode::UNPROCESSABLE_ENTITY,
        "passkey_refused",
        Some("credential"),
    );
    let got = app.post(&ada, "/api/v1/me/passkeys", body).await;
    assert_error(&got, StatusCode::CONFLICT, "ceremony_ended", None);

    // Signing in with a credential nobody registered, claiming to be Ada.
    let (_, options) = app
        .post("", "/api/v1/auth/passkey/options", json!({}))
        .await;
    let account_id = signed_in["account"]["id"].as_str().unwrap();
    let handle = {
        use base64::Engine as _;
        let id = uuid::Uuid::parse_str(account_id).unwrap();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id.as_bytes())
    };
    let body = json!({ "ceremony": options["ceremony"], "credential": made_up_assertion(&handle),
                       "device_name": "Laptop", "pin": "2580" });
    let got = app
        .post("", "/api/v1/auth/passkey/finish", body.clone())
        .await;
    assert_error(
        &got,
        StatusCode::UNPROCESSABLE_ENTITY,
        "passkey_refused",
        Some("credential"),
    );
    let got = app.post("", "/api/v1/auth/passkey/finish", body).await;
    assert_error(&got, StatusCode::CONFLICT, "ceremony_ended", None);
    // A bad PIN is named before anything is spent.
    let (_, options) = app
        .post("", "/api/v1/auth/passkey/options", json!({}))
        .await;
    let got = app
        .post(
            "",
            "/api/v1/auth/passkey/finish",
            json!({ "ceremony": options["ceremony"], "credential": made_up_assertion(&handle),
                    "device_name": "Laptop", "pin": "1234" }),
        )
        .await;
    assert_eq!(got.1["error"]["field"], "pin", "{}", got.1);
}
