//! Unlocking with a phone: the staff access and a night shift across midnight, granted inside
//! their windows and denied outside with `outside_schedule`; every denial reason a phone can
//! meet; remote unlock; "who can open" and "which doors"; and every decision in the log.

use chrono::Duration;
use lintel_domain::Area;
use lintel_testkit::{Backend, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::members::auth;
use crate::{TestApp, assert_error};

on_both_backends!(
    a_phone_opens_inside_the_windows_and_not_outside,
    each_reason_a_phone_can_be_refused_for,
    admins_open_from_afar_and_see_who_can_open,
);

pub const ADA: &str = "ada@example.com";
pub const ADA_PHONE: &str = "+46702222222";

pub struct Place {
    pub key: String,
    pub site: String,
    pub front: String,
    pub back: String,
    pub ada_member: String,
    pub ada: Value,
}

/// Acme with the staff access (Mon–Fri 07:00–19:00, front door in by phone or card, out by
/// anything) for group Staff, and a night shift (every night 22:00–06:00) at the back door
/// for Ada, who is in Staff. The clock starts Monday 10:00 in Stockholm.
pub async fn acme(app: &TestApp) -> Place {
    let (_, key) = app.org("acme").await;
    let (_, site) = app
        .post(
            &key,
            "/api/v1/orgs/acme/sites",
            json!({ "name": "HQ", "geofence": { "latitude": 59.3293, "longitude": 18.0686, "radius_m": 150 } }),
        )
        .await;
    let site = site["id"].as_str().unwrap().to_owned();
    let front = app.door(&key, "acme", &site, "Front").await;
    let back = app.door(&key, "acme", &site, "Back").await;
    let weekdays = ["monday", "tuesday", "wednesday", "thursday", "friday"];
    let (_, staff_hours) = app
        .post(
            &key,
            "/api/v1/orgs/acme/schedules",
            json!({ "name": "Staff", "windows": weekdays.iter()
                .map(|d| json!({ "day": d, "start": "07:00", "end": "19:00" })).collect::<Vec<_>>() }),
        )
        .await;
    let days = lintel_domain::schedule::DAY_NAMES;
    let (_, nights) = app
        .post(
            &key,
            "/api/v1/orgs/acme/schedules",
            json!({ "name": "Nights", "windows": days.iter()
                .map(|d| json!({ "day": d, "start": "22:00", "end": "06:00" })).collect::<Vec<_>>() }),
        )
        .await;
    let (_, group) = app
        .post(&key, "/api/v1/orgs/acme/groups", json!({ "name": "Staff" }))
        .await;
    let invited = app
        .invite(
            &key,
            "acme",
            json!({ "email": ADA, "groups": [group["id"]] }),
        )
        .await;
    let ada_member = invited["id"].as_str().unwrap().to_owned();
    let staff = json!({
        "name": "Staff",
        "schedule_id": staff_hours["id"],
        "doors": [{ "door_id": front, "in_auth_types": ["mobile", "card"], "out_auth_types": [] }],
        "groups": [group["id"]]
    });
    let (status, body) = app.post(&key, "/api/v1/orgs/acme/accesses", staff).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let night = json!({
        "name": "Night shift",
        "schedule_id": nights["id"],
        "doors": [{ "door_id": back }],
        "users": [ada_member]
    });
    let (status, body) = app.post(&key, "/api/v1/orgs/acme/accesses", night).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let ada = app.sign_up(ADA, ADA_PHONE).await;
    Place {
        key,
        site,
        front,
        back,
        ada_member,
        ada,
    }
}

async fn unlock(app: &TestApp, token: &str, door: &str, body: Value) -> Value {
    let (status, answer) = app
        .post(
            token,
            &format!("/api/v1/orgs/acme/doors/{door}/unlock"),
            body,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer
}

pub fn denied(answer: &Value, reason: &str) {
    assert_eq!(answer["granted"], false, "{answer}");
    assert_eq!(answer["reason"], reason, "{answer}");
}

async fn a_phone_opens_inside_the_windows_and_not_outside(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let p = acme(&app).await;
    let ada = auth(&p.ada);
    // Monday 10:00 in Stockholm.
    let front = unlock(&app, &ada, &p.front, json!({})).await;
    assert_eq!(front["granted"], true, "{front}");
    assert!(front["access_id"].is_string());
    let out = unlock(&app, &ada, &p.front, json!({ "direction": "out" })).await;
    assert_eq!(out["granted"], true, "out by anything");
    denied(
        &unlock(&app, &ada, &p.back, json!({})).await,
        "outside_schedule",
    );

    // Monday 22:30 in Stockholm: the night shift, not the office.
    app.clock
        .advance(Duration::hours(12) + Duration::minutes(30));
    let ada = auth(&app.sign_in(ADA, ADA_PHONE).await);
    denied(
        &unlock(&app, &ada, &p.front, json!({})).await,
        "outside_schedule",
    );
    assert_eq!(
        unlock(&app, &ada, &p.back, json!({})).await["granted"],
        true
    );
    // Tuesday 05:30: still the night that began on Monday.
    app.clock.advance(Duration::hours(7));
    let ada = auth(&app.sign_in(ADA, ADA_PHONE).await);
    assert_eq!(
        unlock(&app, &ada, &p.back, json!({})).await["granted"],
        true
    );
    app.clock.advance(Duration::minutes(30));
    let ada = auth(&app.sign_in(ADA, ADA_PHONE).await);
    denied(
        &unlock(&app, &ada, &p.back, json!({})).await,
        "outside_schedule",
    );

    let (_, log) = app
        .get(&p.key, "/api/v1/orgs/acme/events?kind=decision")
        .await;
    let items = log["items"].as_array().unwrap();
    assert_eq!(items.len(), 7, "{log}");
    let denial = &items[0];
    assert_eq!(denial["kind"], "decision.denied");
    assert_eq!(denial["summary"]["reason"], "outside_schedule");
    assert_eq!(denial["summary"]["credential"], "mobile");
    assert_eq!(denial["object_id"], p.back.as_str());
    assert_eq!(denial["actor"]["name"], "Ada Lovelace");
    assert_eq!(items[1]["kind"], "decision.granted");
    let (_, granted) = app
        .get(&p.key, "/api/v1/orgs/acme/events?kind=decision.granted")
        .await;
    assert_eq!(granted["items"].as_array().unwrap().len(), 4);
}

async fn each_reason_a_phone_can_be_refused_for(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let p = acme(&app).await;
    let ada = auth(&p.ada);
    // A door nobody has an access to.
    let side = app.door(&p.key, "acme", &p.site, "Side").await;
    denied(&unlock(&app, &ada, &side, json!({})).await, "no_access");

    // Cards only going in.
    let cards = app.door(&p.key, "acme", &p.site, "Cards").await;
    let access = json!({ "name": "Cards", "doors": [{ "door_id": cards, "in_auth_types": ["card"] }],
                          "users": [p.ada_member] });
    app.post(&p.key, "/api/v1/orgs/acme/accesses", access).await;
    denied(
        &unlock(&app, &ada, &cards, json!({})).await,
        "auth_type_not_allowed",
    );
    assert_eq!(
        unlock(&app, &ada, &cards, json!({ "direction": "out" })).await["granted"],
        true
    );

    // Geofence and reader.
    let fenced = app.door(&p.key, "acme", &p.site, "Fenced").await;
    app.patch(
        &p.key,
        &format!("/api/v1/orgs/acme/doors/{fenced}"),
        json!({ "geofence_required": true }),
    )
    .await;
    let reader = app.door(&p.key, "acme", &p.site, "Reader").await;
    app.patch(
        &p.key,
        &format!("/api/v1/orgs/acme/doors/{reader}"),
        json!({ "reader_required": true }),
    )
    .await;
    let access = json!({ "name": "Tight", "doors": [{ "door_id": fenced }, { "door_id": reader }],
                          "users": [p.ada_member] });
    app.post(&p.key, "/api/v1/orgs/acme/accesses", access).await;
    denied(
        &unlock(&app, &ada, &fenced, json!({})).await,
        "outside_geofence",
    );
    let far = json!({ "location": { "latitude": 59.40, "longitude": 18.10 } });
    denied(&unlock(&app, &ada, &fenced, far).await, "outside_geofence");
    let near = json!({ "location": { "latitude": 59.3294, "longitude": 18.0687 } });
    assert_eq!(unlock(&app, &ada, &fenced, near).await["granted"], true);
    denied(
        &unlock(&app, &ada, &reader, json!({})).await,
        "reader_required",
    );
    // A proof of presence from the reader, good for 30 seconds and for its door only.
    let proof_of = |door: String| {
        let app = &app;
        let ada = ada.clone();
        async move {
            let (status, proof) = app
                .post(
                    &ada,
                    &format!("/api/v1/orgs/acme/doors/{door}/reader-proof"),
                    json!({}),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{proof}");
            proof["proof"].as_str().unwrap().to_owned()
        }
    };
    let proof = proof_of(reader.clone()).await;
    assert!(proof.starts_with("lrp_"), "{proof}");
    let with = |proof: &str| json!({ "reader_proof": proof });
    assert_eq!(
        unlock(&app, &ada, &reader, with(&proof)).await["granted"],
        true
    );
    // Once only: a replayed proof proves nothing.
    denied(
        &unlock(&app, &ada, &reader, with(&proof)).await,
        "reader_required",
    );
    let proof = proof_of(reader.clone()).await;
    let elsewhere = proof_of(fenced.clone()).await;
    denied(
        &unlock(&app, &ada, &reader, with(&elsewhere)).await,
        "reader_required",
    );
    denied(
        &unlock(
            &app,
            &ada,
            &reader,
            with("lrp_99999999999.bm9uY2U.Zm9yZ2Vk"),
        )
        .await,
        "reader_required",
    );
    denied(
        &unlock(&app, &ada, &reader, with("nonsense")).await,
        "reader_required",
    );
    app.clock.advance(Duration::seconds(31));
    denied(
        &unlock(&app, &ada, &reader, with(&proof)).await,
        "reader_required",
    );

    // The app PIN, when the organization asks for it every hour.
    app.patch(
        &p.key,
        "/api/v1/orgs/acme",
        json!({ "settings": { "app_pin_max_age_hours": 1 } }),
    )
    .await;
    app.clock.advance(Duration::hours(2));
    let (status, fresh) = app.reissue(&p.ada["reissue_token"]).await;
    assert_eq!(status, StatusCode::OK, "{fresh}");
    let ada = auth(&fresh);
    denied(
        &unlock(&app, &ada, &p.front, json!({})).await,
        "pin_required",
    );
    let got = app
        .post(
            &ada,
            &format!("/api/v1/orgs/acme/doors/{}/unlock", p.front),
            json!({ "pin": "1397" }),
        )
        .await;
    assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "wrong_pin", None);
    assert_eq!(
        unlock(&app, &ada, &p.front, json!({ "pin": "2580" })).await["granted"],
        true
    );
    assert_eq!(
        unlock(&app, &ada, &p.front, json!({})).await["granted"],
        true,
        "fresh for an hour"
    );

    // Rules changed on the way are seen at once: out of the group, then suspended.
    let (_, member) = app
        .patch(
            &p.key,
            &format!("/api/v1/orgs/acme/members/{}", p.ada_member),
            json!({ "groups": [] }),
        )
        .await;
    assert_eq!(member["groups"], json!([]));
    denied(&unlock(&app, &ada, &p.front, json!({})).await, "no_access");
    app.patch(
        &p.key,
        &format!("/api/v1/orgs/acme/members/{}", p.ada_member),
        json!({ "status": "suspended" }),
    )
    .await;
    denied(
        &unlock(&app, &ada, &cards, json!({ "direction": "out" })).await,
        "membership_suspended",
    );

    // Keys are not phones.
    assert_error(
        &app.post(
            &p.key,
            &format!("/api/v1/orgs/acme/doors/{}/unlock", p.front),
            json!({}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "device_only",
        None,
    );
}

async fn admins_open_from_afar_and_see_who_can_open(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let p = acme(&app).await;
    let (_, who) = app
        .get(
            &p.key,
            &format!("/api/v1/orgs/acme/doors/{}/who-can-open", p.front),
        )
        .await;
    assert_eq!(who.as_array().unwrap().len(), 1, "{who}");
    assert_eq!(who[0]["name"], "Ada Lovelace");
    assert_eq!(who[0]["member_id"], p.ada_member.as_str());
    let (_, nobody) = app
        .get(
            &p.key,
            &format!("/api/v1/orgs/acme/doors/{}/who-can-open", p.back),
        )
        .await;
    assert!(
        nobody.as_array().unwrap().is_empty(),
        "the night shift is not open at 10:00"
    );
    let (_, doors) = app
        .get(
            &p.key,
            &format!("/api/v1/orgs/acme/members/{}/doors", p.ada_member),
        )
        .await;
    assert_eq!(doors[0]["id"], p.front.as_str());
    let (_, mine) = app.get(&auth(&p.ada), "/api/v1/me/doors").await;
    assert_eq!(mine.as_array().unwrap().len(), 1, "{mine}");
    assert_eq!(mine[0]["door"]["name"], "Front");
    assert_eq!(mine[0]["org_slug"], "acme");

    let doors_key = app.key_for("acme", &[Area::Doors]).await;
    let (status, opened) = app
        .post(
            &doors_key,
            &format!("/api/v1/orgs/acme/doors/{}/remote-unlock", p.back),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{opened}");
    assert_eq!(opened["granted"], true);
    let audit_key = app.key_for("acme", &[Area::Audit]).await;
    let got = app
        .post(
            &audit_key,
            &format!("/api/v1/orgs/acme/doors/{}/remote-unlock", p.back),
            json!({}),
        )
        .await;
    assert_error(&got, StatusCode::FORBIDDEN, "forbidden", None);
    let (_, log) = app
        .get(&audit_key, "/api/v1/orgs/acme/events?kind=decision")
        .await;
    assert_eq!(log["items"][0]["summary"]["credential"], "remote");
    assert_eq!(log["items"][0]["actor"]["kind"], "api_key");
}
