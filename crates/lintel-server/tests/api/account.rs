//! Changing email or phone, deleting an account, and taking over a recycled phone number.

use lintel_store::Channel;
use lintel_testkit::{Backend, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{TestApp, assert_error, code_sent_to};

on_both_backends!(
    a_new_email_is_proven_then_every_device_is_signed_out_and_the_old_one_told,
    a_new_phone_is_proven_then_every_device_is_signed_out_and_the_old_one_told,
    a_deleted_account_is_gone_with_its_devices,
    a_recycled_phone_is_taken_over_by_proving_it,
    codes_are_checked_like_sign_in_codes,
);

const ADA: &str = "ada@example.com";
const ADA_PHONE: &str = "+46701234567";

fn auth(signed_in: &Value) -> String {
    signed_in["auth_token"].as_str().unwrap().to_owned()
}

async fn a_new_email_is_proven_then_every_device_is_signed_out_and_the_old_one_told(
    backend: Backend,
) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let phone = app.sign_up(ADA, ADA_PHONE).await;
    let laptop = app.sign_in(ADA, ADA_PHONE).await;
    let same = app
        .post(
            &auth(&phone),
            "/api/v1/me/email",
            json!({ "email": ADA, "pin": "2580" }),
        )
        .await;
    assert_error(
        &same,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unchanged",
        Some("email"),
    );
    let (status, sent) = app
        .post(
            &auth(&phone),
            "/api/v1/me/email",
            json!({ "email": "Ada@Lovelace.org", "pin": "2580" }),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{sent}");
    assert_eq!(sent["sent_to"], "ada@lovelace.org");
    let code = code_sent_to(&app.deliver().await, "ada@lovelace.org");
    let body = json!({ "verification": sent["verification"], "code": code });
    assert_eq!(
        app.post(&auth(&phone), "/api/v1/me/email/verify", body.clone())
            .await
            .0,
        StatusCode::NO_CONTENT
    );

    for device in [&phone, &laptop] {
        assert_error(
            &app.get(&auth(device), "/api/v1/me").await,
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            None,
        );
    }
    let notices = app.deliver().await;
    assert!(
        notices
            .iter()
            .any(|m| m.recipient == ADA && m.body.contains("ada@lovelace.org")),
        "{notices:?}"
    );
    let back = app.sign_in("ada@lovelace.org", ADA_PHONE).await;
    assert_eq!(back["account"]["email"], "ada@lovelace.org");
    // The code worked once.
    let again = app
        .post(&auth(&back), "/api/v1/me/email/verify", body)
        .await;
    assert_error(&again, StatusCode::CONFLICT, "verification_ended", None);
}

async fn a_new_phone_is_proven_then_every_device_is_signed_out_and_the_old_one_told(
    backend: Backend,
) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let signed_in = app.sign_up(ADA, ADA_PHONE).await;
    app.sign_up("grace@example.com", "+46701234568").await;
    let taken = app
        .post(
            &auth(&signed_in),
            "/api/v1/me/phone",
            json!({ "phone": "+46701234568", "pin": "2580" }),
        )
        .await;
    assert_eq!(
        taken.0,
        StatusCode::ACCEPTED,
        "the code goes out; the clash shows when proven"
    );
    let code = code_sent_to(&app.deliver().await, "+46701234568");
    let clash = app
        .post(
            &auth(&signed_in),
            "/api/v1/me/phone/verify",
            json!({ "verification": taken.1["verification"], "code": code }),
        )
        .await;
    assert_error(
        &clash,
        StatusCode::CONFLICT,
        "account_exists",
        Some("phone"),
    );
    assert_eq!(
        app.get(&auth(&signed_in), "/api/v1/me").await.1["phone"],
        ADA_PHONE
    );

    let (_, sent) = app
        .post(
            &auth(&signed_in),
            "/api/v1/me/phone",
            json!({ "phone": "+46 70 123 45 99", "pin": "2580" }),
        )
        .await;
    assert_eq!(sent["sent_to"], "+•••••••••99");
    let code = code_sent_to(&app.deliver().await, "+46701234599");
    let done = app
        .post(
            &auth(&signed_in),
            "/api/v1/me/phone/verify",
            json!({ "verification": sent["verification"], "code": code }),
        )
        .await;
    assert_eq!(done.0, StatusCode::NO_CONTENT, "{}", done.1);
    assert_error(
        &app.get(&auth(&signed_in), "/api/v1/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        None,
    );
    let notices = app.deliver().await;
    assert!(
        notices
            .iter()
            .any(|m| m.recipient == ADA_PHONE && m.channel == Channel::Sms),
        "{notices:?}"
    );
    let back = app.sign_in(ADA, "+46701234599").await;
    assert_eq!(back["account"]["phone"], "+46701234599");
}

async fn a_deleted_account_is_gone_with_its_devices(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let signed_in = app.sign_up(ADA, ADA_PHONE).await;
    let (status, sent) = app
        .post(&auth(&signed_in), "/api/v1/me/delete", json!({}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{sent}");
    assert_eq!(sent["sent_to"], "+•••••••••67");
    let code = code_sent_to(&app.deliver().await, ADA_PHONE);
    let done = app
        .post(
            &auth(&signed_in),
            "/api/v1/me/delete/confirm",
            json!({ "verification": sent["verification"], "code": code }),
        )
        .await;
    assert_eq!(done.0, StatusCode::NO_CONTENT, "{}", done.1);
    assert_error(
        &app.get(&auth(&signed_in), "/api/v1/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        None,
    );
    let email = lintel_domain::Email::parse("e", ADA).unwrap();
    assert!(
        app.state
            .store
            .find_account_by_email(&email)
            .await
            .unwrap()
            .is_none()
    );
    // The email and phone are free again.
    let again = app.sign_up(ADA, ADA_PHONE).await;
    assert_ne!(again["account"]["id"], signed_in["account"]["id"]);
}

async fn a_recycled_phone_is_taken_over_by_proving_it(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let old = app.sign_up(ADA, ADA_PHONE).await;
    let refused = app.register("newcomer@example.com", ADA_PHONE).await;
    assert_error(
        &refused,
        StatusCode::CONFLICT,
        "account_exists",
        Some("phone"),
    );

    let (status, sent) = app
        .post(
            "",
            "/api/v1/auth/reset-account",
            json!({ "phone": ADA_PHONE }),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{sent}");
    let unknown = app
        .post(
            "",
            "/api/v1/auth/reset-account",
            json!({ "phone": "+46701234500" }),
        )
        .await;
    assert_eq!(
        unknown.0,
        StatusCode::ACCEPTED,
        "a number nobody has answers alike"
    );
    let code = code_sent_to(&app.deliver().await, ADA_PHONE);
    let (status, released) = app
        .post(
            "",
            "/api/v1/auth/reset-account/verify",
            json!({ "verification": sent["verification"], "code": code }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{released}");
    assert_eq!(released["status"], "phone_released");
    assert_error(
        &app.get(&auth(&old), "/api/v1/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        None,
    );
    let notices = app.deliver().await;
    assert!(notices.iter().any(|m| m.recipient == ADA
        && m.body.contains("removed from your account")
        && !m.body.contains("  ")));

    let newcomer = app.sign_up("newcomer@example.com", ADA_PHONE).await;
    assert_eq!(newcomer["account"]["phone"], ADA_PHONE);
    // The old account has no phone now, so it cannot sign in: its login answers as ever, and
    // the email tells Ada the way back (`hardening::the_previous_owner_of_a_recycled_number_…`).
    assert_eq!(app.login(ADA).await.0, StatusCode::ACCEPTED);
    let sent = app.deliver().await;
    let told: Vec<_> = sent.iter().filter(|m| m.recipient == ADA).collect();
    assert_eq!(told.len(), 1, "{sent:?}");
    assert!(told[0].body.contains("/recover") && !told[0].body.contains("token"));
}

async fn codes_are_checked_like_sign_in_codes(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let ada = app.sign_up(ADA, ADA_PHONE).await;
    let grace = app.sign_up("grace@example.com", "+46701234568").await;
    let (_, sent) = app
        .post(
            &auth(&ada),
            "/api/v1/me/email",
            json!({ "email": "ada@lovelace.org", "pin": "2580" }),
        )
        .await;
    let code = code_sent_to(&app.deliver().await, "ada@lovelace.org");
    // Another person cannot use my verification, nor can it serve another purpose.
    let body = json!({ "verification": sent["verification"], "code": code });
    let theirs = app
        .post(&auth(&grace), "/api/v1/me/email/verify", body.clone())
        .await;
    assert_error(
        &theirs,
        StatusCode::NOT_FOUND,
        "verification_not_found",
        None,
    );
    let other_purpose = app
        .post(&auth(&ada), "/api/v1/me/delete/confirm", body)
        .await;
    assert_error(
        &other_purpose,
        StatusCode::NOT_FOUND,
        "verification_not_found",
        None,
    );

    let wrong = if code == "111111" { "222222" } else { "111111" };
    let attempt = json!({ "verification": sent["verification"], "code": wrong });
    for left in (1..=4).rev() {
        let got = app
            .post(&auth(&ada), "/api/v1/me/email/verify", attempt.clone())
            .await;
        assert_error(
            &got,
            StatusCode::UNPROCESSABLE_ENTITY,
            "wrong_code",
            Some("code"),
        );
        assert!(
            got.1["error"]["message"]
                .as_str()
                .unwrap()
                .contains(&format!(
                    "{left} {} left",
                    if left == 1 { "try" } else { "tries" }
                ))
        );
    }
    let fifth = app
        .post(&auth(&ada), "/api/v1/me/email/verify", attempt)
        .await;
    assert_error(&fifth, StatusCode::CONFLICT, "verification_ended", None);
    let right = app
        .post(
            &auth(&ada),
            "/api/v1/me/email/verify",
            json!({ "verification": sent["verification"], "code": code }),
        )
        .await;
    assert_error(&right, StatusCode::CONFLICT, "verification_ended", None);

    let (_, later) = app
        .post(
            &auth(&ada),
            "/api/v1/me/email",
            json!({ "email": "ada@lovelace.org", "pin": "2580" }),
        )
        .await;
    let code = code_sent_to(&app.deliver().await, "ada@lovelace.org");
    app.clock.advance(chrono::Duration::minutes(10));
    let expired = app
        .post(
            &auth(&ada),
            "/api/v1/me/email/verify",
            json!({ "verification": later["verification"], "code": code }),
        )
        .await;
    assert_error(&expired, StatusCode::GONE, "code_expired", None);
}
