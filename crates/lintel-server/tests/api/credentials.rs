//! Cards and PIN codes: assigning and revoking them, presenting them at doors (alone and
//! together), the PIN code shown once to the issuer and afterwards only to its owner, the
//! thousand-to-one rule, and the limits on guessing.

use futures_util::future::join_all;
use lintel_testkit::{Backend, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::members::auth;
use crate::unlocking::{acme, denied};
use crate::{TestApp, assert_error};

on_both_backends!(
    cards_open_what_their_member_may_open,
    pin_codes_are_shown_once_then_only_to_their_owner,
    a_card_with_its_pin_code_opens_a_card_and_pin_door,
    codes_stay_a_thousand_times_fewer_than_possible_ones,
    guessing_is_limited,
);

async fn present(app: &TestApp, key: &str, door: &str, body: Value) -> Value {
    let (status, answer) = app
        .post(
            key,
            &format!("/api/v1/orgs/acme/doors/{door}/present"),
            body,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer
}

async fn card(app: &TestApp, key: &str, member: &str, number: &str) -> (StatusCode, Value) {
    app.post(
        key,
        "/api/v1/orgs/acme/cards",
        json!({ "member_id": member, "number": number, "facility_code": 12 }),
    )
    .await
}

async fn cards_open_what_their_member_may_open(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let p = acme(&app).await;
    let (status, ada_card) = card(&app, &p.key, &p.ada_member, "004711").await;
    assert_eq!(status, StatusCode::CREATED, "{ada_card}");
    assert_eq!(
        ada_card["number"], "4711",
        "leading zeros are not part of the number"
    );
    assert_eq!(ada_card["status"], "active");
    let card_id = ada_card["id"].as_str().unwrap();
    let shown = json!({ "card": { "number": "4711", "facility_code": 12 } });

    // The staff access lets the front door in by phone or card: Monday 10:00 is inside.
    let answer = present(&app, &p.key, &p.front, shown.clone()).await;
    assert_eq!(answer["granted"], true, "{answer}");
    // The night shift's back door: any type, but not at 10:00.
    denied(
        &present(&app, &p.key, &p.back, shown.clone()).await,
        "outside_schedule",
    );
    // The same number with another facility code, or none, is another card.
    for other in [
        json!({ "card": { "number": "4711", "facility_code": 13 } }),
        json!({ "card": { "number": "4711" } }),
    ] {
        denied(
            &present(&app, &p.key, &p.front, other).await,
            "unknown_credential",
        );
    }

    // Unique among active cards; a wrong number names its field.
    assert_error(
        &card(&app, &p.key, &p.ada_member, "4711").await,
        StatusCode::CONFLICT,
        "card_taken",
        Some("number"),
    );
    assert_error(
        &card(&app, &p.key, &p.ada_member, "47-11").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_card_number",
        Some("number"),
    );
    assert_error(
        &app.post(
            &p.key,
            "/api/v1/orgs/acme/cards",
            json!({ "member_id": p.ada_member, "number": "1", "facility_code": 70000 }),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_facility_code",
        Some("facility_code"),
    );
    assert_error(
        &app.post(
            &p.key,
            &format!("/api/v1/orgs/acme/doors/{}/present", p.front),
            json!({}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "credential_required",
        Some("card"),
    );

    // A suspended member's card opens nothing, and says why.
    let (status, body) = app
        .patch(
            &p.key,
            &format!("/api/v1/orgs/acme/members/{}", p.ada_member),
            json!({ "status": "suspended" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    denied(
        &present(&app, &p.key, &p.front, shown.clone()).await,
        "membership_suspended",
    );
    app.patch(
        &p.key,
        &format!("/api/v1/orgs/acme/members/{}", p.ada_member),
        json!({ "status": "active" }),
    )
    .await;

    // Revoked: kept, listed as such, and answered as revoked.
    let (status, revoked) = app
        .delete(&p.key, &format!("/api/v1/orgs/acme/cards/{card_id}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{revoked}");
    assert_eq!(revoked["status"], "revoked");
    assert!(revoked["revoked_at"].is_string());
    denied(
        &present(&app, &p.key, &p.front, shown.clone()).await,
        "credential_revoked",
    );
    let (_, list) = app
        .get(&p.key, "/api/v1/orgs/acme/cards?status=revoked")
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    // Its number is free again; the new card wins over the revoked one.
    let (status, again) = card(&app, &p.key, &p.ada_member, "4711").await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
    let answer = present(&app, &p.key, &p.front, shown).await;
    assert_eq!(answer["granted"], true, "{answer}");

    // Each decision is an event naming the member and how.
    let (_, events) = app
        .get(&p.key, "/api/v1/orgs/acme/events?kind=decision")
        .await;
    let items = events["items"].as_array().unwrap();
    assert!(items.len() >= 7, "{events}");
    assert_eq!(items[0]["kind"], "decision.granted");
    assert_eq!(items[0]["summary"]["credential"], "card");
    assert_eq!(items[0]["summary"]["member_id"], p.ada_member.as_str());
    let (_, changes) = app.get(&p.key, "/api/v1/orgs/acme/events?kind=card").await;
    let kinds: Vec<&str> = changes["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["card.created", "card.revoked", "card.created"]);
}

async fn pin_codes_are_shown_once_then_only_to_their_owner(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let p = acme(&app).await;
    let (status, issued) = app
        .post(
            &p.key,
            "/api/v1/orgs/acme/pins",
            json!({ "member_id": p.ada_member, "site_id": p.site }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    let code = issued["code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 6, "made codes have six digits: {issued}");
    assert_eq!(issued["length"], 6);
    let id = issued["id"].as_str().unwrap();

    // Admins never see it again.
    let (_, got) = app
        .get(&p.key, &format!("/api/v1/orgs/acme/pins/{id}"))
        .await;
    let (_, list) = app.get(&p.key, "/api/v1/orgs/acme/pins").await;
    let (_, events) = app.get(&p.key, "/api/v1/orgs/acme/events").await;
    for seen in [&got, &list, &events] {
        assert!(!seen.to_string().contains(&code), "{seen}");
    }
    assert_eq!(got["member_id"], p.ada_member.as_str());
    // Ada does, in her app.
    let ada = auth(&p.ada);
    let (status, mine) = app.get(&ada, "/api/v1/me/pins").await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    assert_eq!(mine[0]["code"], code.as_str(), "{mine}");
    assert_eq!(mine[0]["site_name"], "HQ");
    assert_eq!(mine[0]["org_slug"], "acme");
    // Keys have no PIN codes of their own.
    assert_error(
        &app.get(&p.key, "/api/v1/me/pins").await,
        StatusCode::FORBIDDEN,
        "device_only",
        None,
    );

    // The front door lets in by phone or card only; out by anything.
    let typed = json!({ "pin": code, "direction": "out" });
    let answer = present(&app, &p.key, &p.front, typed).await;
    assert_eq!(answer["granted"], true, "{answer}");
    denied(
        &present(&app, &p.key, &p.front, json!({ "pin": code })).await,
        "auth_type_not_allowed",
    );
    // A code counts at its own site only.
    let (_, other_site) = app
        .post(
            &p.key,
            "/api/v1/orgs/acme/sites",
            json!({ "name": "Annex" }),
        )
        .await;
    let other_site = other_site["id"].as_str().unwrap();
    let annex = app.door(&p.key, "acme", other_site, "Annex door").await;
    denied(
        &present(&app, &p.key, &annex, json!({ "pin": code })).await,
        "unknown_credential",
    );

    // Codes given by hand: checked, unique per site, one per member and site.
    let given = |code: &str, site: &str| json!({ "member_id": p.ada_member, "site_id": site, "code": code });
    assert_error(
        &app.post(&p.key, "/api/v1/orgs/acme/pins", given("1234", other_site))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "trivial_pin",
        Some("code"),
    );
    assert_error(
        &app.post(&p.key, "/api/v1/orgs/acme/pins", given("48a1", other_site))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_pin",
        Some("code"),
    );
    assert_error(
        &app.post(&p.key, "/api/v1/orgs/acme/pins", given("480213", &p.site))
            .await,
        StatusCode::CONFLICT,
        "member_has_pin",
        Some("member_id"),
    );
    let bob = app
        .invite(&p.key, "acme", json!({ "email": "bob@example.com" }))
        .await;
    assert_error(
        &app.post(
            &p.key,
            "/api/v1/orgs/acme/pins",
            json!({ "member_id": bob["id"], "site_id": p.site, "code": code }),
        )
        .await,
        StatusCode::CONFLICT,
        "pin_taken",
        Some("code"),
    );
    // The same code at another site is another code.
    let (status, body) = app
        .post(&p.key, "/api/v1/orgs/acme/pins", given(&code, other_site))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, mine) = app.get(&ada, "/api/v1/me/pins").await;
    assert_eq!(mine.as_array().unwrap().len(), 2, "{mine}");

    // Revoked: answered as such, and gone from Ada's app.
    let (status, revoked) = app
        .delete(&p.key, &format!("/api/v1/orgs/acme/pins/{id}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{revoked}");
    denied(
        &present(
            &app,
            &p.key,
            &p.front,
            json!({ "pin": code, "direction": "out" }),
        )
        .await,
        "credential_revoked",
    );
    let (_, mine) = app.get(&ada, "/api/v1/me/pins").await;
    assert_eq!(mine.as_array().unwrap().len(), 1, "{mine}");
    assert_eq!(mine[0]["site_name"], "Annex");
}

async fn a_card_with_its_pin_code_opens_a_card_and_pin_door(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let p = acme(&app).await;
    let vault = app.door(&p.key, "acme", &p.site, "Vault").await;
    let (status, body) = app
        .post(
            &p.key,
            "/api/v1/orgs/acme/accesses",
            json!({ "name": "Vault", "users": [p.ada_member],
                    "doors": [{ "door_id": vault, "in_auth_types": ["card_and_pin"] }] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    card(&app, &p.key, &p.ada_member, "777").await;
    let (_, issued) = app
        .post(
            &p.key,
            "/api/v1/orgs/acme/pins",
            json!({ "member_id": p.ada_member, "site_id": p.site, "code": "480213" }),
        )
        .await;
    assert_eq!(issued["code"], "480213", "{issued}");
    let bob = app
        .invite(&p.key, "acme", json!({ "email": "bob@example.com" }))
        .await;
    app.post(
        &p.key,
        "/api/v1/orgs/acme/pins",
        json!({ "member_id": bob["id"], "site_id": p.site, "code": "861305" }),
    )
    .await;

    let card = json!({ "number": "777", "facility_code": 12 });
    let answer = present(
        &app,
        &p.key,
        &vault,
        json!({ "card": card, "pin": "480213" }),
    )
    .await;
    assert_eq!(answer["granted"], true, "{answer}");
    // The card alone, or the code alone, is not enough here.
    denied(
        &present(&app, &p.key, &vault, json!({ "card": card })).await,
        "auth_type_not_allowed",
    );
    denied(
        &present(&app, &p.key, &vault, json!({ "pin": "480213" })).await,
        "auth_type_not_allowed",
    );
    // Someone else's code, or a wrong one, does not go with Ada's card.
    for pin in ["861305", "480214"] {
        denied(
            &present(&app, &p.key, &vault, json!({ "card": card, "pin": pin })).await,
            "unknown_credential",
        );
    }
}

async fn codes_stay_a_thousand_times_fewer_than_possible_ones(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let p = acme(&app).await;
    // Ten four-digit codes fit in 10,000; the eleventh does not.
    let codes = [
        "1357", "2468", "1470", "2581", "3692", "4703", "5814", "6925", "7036", "8147", "9258",
    ];
    for (i, code) in codes.iter().enumerate() {
        let member = app
            .invite(
                &p.key,
                "acme",
                json!({ "email": format!("m{i}@example.com") }),
            )
            .await;
        let answer = app
            .post(
                &p.key,
                "/api/v1/orgs/acme/pins",
                json!({ "member_id": member["id"], "site_id": p.site, "code": code }),
            )
            .await;
        if i < 10 {
            assert_eq!(answer.0, StatusCode::CREATED, "{answer:?}");
        } else {
            assert_error(
                &answer,
                StatusCode::CONFLICT,
                "pin_space_exhausted",
                Some("length"),
            );
            assert!(
                answer.1["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("10 active 4-digit"),
                "{answer:?}"
            );
            // A code Lintel makes for them is longer, and fits.
            let (status, made) = app
                .post(
                    &p.key,
                    "/api/v1/orgs/acme/pins",
                    json!({ "member_id": member["id"], "site_id": p.site, "length": 8 }),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{made}");
            assert_eq!(made["code"].as_str().unwrap().len(), 8);
        }
    }
    assert_error(
        &app.post(
            &p.key,
            "/api/v1/orgs/acme/pins",
            json!({ "member_id": p.ada_member, "site_id": p.site, "length": 4 }),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "out_of_range",
        Some("length"),
    );
}

async fn guessing_is_limited(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let p = acme(&app).await;
    // Five unknown codes at a door in ten minutes, then its keypad backs off: not even a
    // right code is decided there, and each refusal is on record for the admins.
    let guess = |i: u32| format!("{:06}", 100_000 + i * 7919);
    for i in 0..5 {
        denied(
            &present(&app, &p.key, &p.front, json!({ "pin": guess(i) })).await,
            "unknown_credential",
        );
    }
    denied(
        &present(&app, &p.key, &p.front, json!({ "pin": guess(5) })).await,
        "too_many_attempts",
    );
    // Twenty guesses at once at another door, from another reader's key: five are decided.
    let reader = app.key_for("acme", &[lintel_domain::Area::Doors]).await;
    let answers = join_all((0..20).map(|i| {
        let (app, reader, back) = (&app, &reader, &p.back);
        async move { present(app, reader, back, json!({ "pin": guess(100 + i) })).await }
    }))
    .await;
    let decided = answers
        .iter()
        .filter(|a| a["reason"] == "unknown_credential")
        .count();
    assert_eq!(decided, 5, "{answers:?}");
    assert!(answers.iter().all(|a| {
        ["unknown_credential", "too_many_attempts"].contains(&a["reason"].as_str().unwrap())
    }));
    // Other doors are not held up, and codes people have take no slot.
    let side = app.door(&p.key, "acme", &p.site, "Side").await;
    app.post(
        &p.key,
        "/api/v1/orgs/acme/accesses",
        json!({ "name": "Side", "users": [p.ada_member], "doors": [{ "door_id": side }] }),
    )
    .await;
    let (status, ada_code) = app
        .post(
            &p.key,
            "/api/v1/orgs/acme/pins",
            json!({ "member_id": p.ada_member, "site_id": p.site, "code": "739146" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{ada_code}");
    for _ in 0..8 {
        let opened = present(&app, &p.key, &side, json!({ "pin": "739146" })).await;
        assert_eq!(opened["granted"], true, "{opened}");
    }
    denied(
        &present(&app, &p.key, &p.front, json!({ "pin": "739146" })).await,
        "too_many_attempts",
    );
    let (_, events) = app
        .get(&p.key, "/api/v1/orgs/acme/events?kind=decision.denied")
        .await;
    assert!(
        events["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["summary"]["reason"] == "too_many_attempts"),
        "{events}"
    );
    // Ten minutes on, the door decides again; its hour allows ten.
    app.clock.advance(chrono::Duration::minutes(11));
    denied(
        &present(&app, &p.key, &p.front, json!({ "pin": "480213" })).await,
        "unknown_credential",
    );

    // Codes given by hand that turn out taken (Ada's): ten an hour, as each says a code is
    // in use.
    let bob = app
        .invite(&p.key, "acme", json!({ "email": "bob@example.com" }))
        .await;
    let try_taken = || {
        app.post(
            &p.key,
            "/api/v1/orgs/acme/pins",
            json!({ "member_id": bob["id"], "site_id": p.site, "code": "739146" }),
        )
    };
    for _ in 0..10 {
        assert_error(&try_taken().await, StatusCode::CONFLICT, "pin_taken", None);
    }
    assert_error(
        &try_taken().await,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_requests",
        None,
    );
}
