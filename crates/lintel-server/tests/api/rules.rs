//! Each node keeps an organization's rules in memory and applies changes piecemeal. After
//! every kind of change, the rules so kept must answer exactly as rules loaded whole from the
//! store; and small changes must not load everything again.

use chrono::Duration;
use lintel_domain::credential::{card_key, pin_key};
use lintel_domain::decision::CredentialKey;
use lintel_domain::{Clock as _, DoorId, MembershipId, SiteId};
use lintel_server::app::rules_cache::build;
use lintel_testkit::{Backend, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::TestApp;
use crate::unlocking::{Place, acme};

on_both_backends!(rules_kept_in_memory_answer_as_rules_loaded_whole);

fn id(value: &Value) -> Uuid {
    value.as_str().unwrap().parse().unwrap()
}

/// Compares the node's rules with a whole load: every door (its restrictions, and who can
/// open it at each hour of a week), every member ever made (the doors they can open), and
/// the credentials in `keys`.
async fn same_as_whole(
    app: &TestApp,
    p: &Place,
    step: &str,
    members: &[MembershipId],
    keys: &[CredentialKey],
) {
    // Any decision question brings the node's rules up to date.
    let (status, body) = app
        .get(
            &p.key,
            &format!("/api/v1/orgs/acme/doors/{}/who-can-open", p.front),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{step}: {body}");
    let org = app.state.store.get_org_by_slug("acme").await.unwrap().id;
    let kept = app.state.rules.current(&app.state, org).await.unwrap();
    let whole = build(app.state.store.load_rules(org).await.unwrap());
    let kept = kept.read();
    assert_eq!(kept.version, whole.version, "{step}");
    assert_eq!(
        kept.rules.grant_count(),
        whole.rules.grant_count(),
        "{step}"
    );
    let doors = [&p.front, &p.back].map(|d| DoorId(d.parse().unwrap()));
    for door in doors {
        assert_eq!(
            kept.rules.door_restrictions(door),
            whole.rules.door_restrictions(door),
            "{step}: {door}"
        );
    }
    let now = app.clock.now();
    for at in (0..24 * 7).map(|h| now + Duration::hours(h)) {
        for door in doors {
            let (mut a, mut b) = (
                kept.rules.who_can_open(door, at),
                whole.rules.who_can_open(door, at),
            );
            a.sort();
            b.sort();
            assert_eq!(a, b, "{step}: who can open {door} at {at}");
            assert_eq!(
                kept.rules.knows_door(door),
                whole.rules.knows_door(door),
                "{step}"
            );
        }
        for &member in members {
            let (mut a, mut b) = (
                kept.rules.doors_of(member, at),
                whole.rules.doors_of(member, at),
            );
            a.sort();
            b.sort();
            assert_eq!(a, b, "{step}: doors of {member} at {at}");
        }
    }
    for key in keys {
        assert_eq!(
            kept.rules.credential(key),
            whole.rules.credential(key),
            "{step}: {key:?}"
        );
    }
}

async fn ok(answer: (StatusCode, Value)) -> Value {
    assert!(answer.0.is_success(), "{answer:?}");
    answer.1
}

async fn rules_kept_in_memory_answer_as_rules_loaded_whole(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let p = acme(&app).await;
    let k = p.key.as_str();
    let mut keys = vec![card_key(Some(12), "4711")];
    let mut members = vec![MembershipId(p.ada_member.parse().unwrap())];
    same_as_whole(&app, &p, "start", &members, &keys).await;
    let loads = app.state.rules.full_loads();

    // Credentials: a card, revoked, its number given to someone else; a PIN code.
    let card = ok(app
        .post(
            k,
            "/api/v1/orgs/acme/cards",
            json!({ "member_id": p.ada_member, "number": "4711", "facility_code": 12 }),
        )
        .await)
    .await;
    same_as_whole(&app, &p, "card", &members, &keys).await;
    let bob = app
        .invite(k, "acme", json!({ "email": "bob@example.com" }))
        .await;
    app.sign_up("bob@example.com", "+46703333333").await;
    members.push(MembershipId(id(&bob["id"])));
    same_as_whole(&app, &p, "bob joins", &members, &keys).await;
    ok(app
        .delete(
            k,
            &format!("/api/v1/orgs/acme/cards/{}", card["id"].as_str().unwrap()),
        )
        .await)
    .await;
    ok(app
        .post(
            k,
            "/api/v1/orgs/acme/cards",
            json!({ "member_id": bob["id"], "number": "4711", "facility_code": 12 }),
        )
        .await)
    .await;
    same_as_whole(&app, &p, "card revoked and given to Bob", &members, &keys).await;
    let pin = ok(app
        .post(
            k,
            "/api/v1/orgs/acme/pins",
            json!({ "member_id": p.ada_member, "site_id": p.site }),
        )
        .await)
    .await;
    let site = SiteId(p.site.parse().unwrap());
    keys.push(pin_key(
        site,
        &app.state
            .key
            .pin_digest(site, pin["code"].as_str().unwrap()),
    ));
    same_as_whole(&app, &p, "PIN code", &members, &keys).await;

    // Accesses: one for Bob, changed, then deleted; a group given to Bob.
    let access = ok(app
        .post(
            k,
            "/api/v1/orgs/acme/accesses",
            json!({ "name": "Bob", "users": [bob["id"]], "doors": [{ "door_id": p.back }] }),
        )
        .await)
    .await;
    same_as_whole(&app, &p, "access created", &members, &keys).await;
    let access_path = format!(
        "/api/v1/orgs/acme/accesses/{}",
        access["id"].as_str().unwrap()
    );
    ok(app
        .patch(
            k,
            &access_path,
            json!({ "doors": [{ "door_id": p.front }, { "door_id": p.back }] }),
        )
        .await)
    .await;
    same_as_whole(&app, &p, "access changed", &members, &keys).await;
    let (_, groups) = app.get(k, "/api/v1/orgs/acme/groups").await;
    ok(app
        .patch(
            k,
            &format!("/api/v1/orgs/acme/members/{}", bob["id"].as_str().unwrap()),
            json!({ "groups": [groups["items"][0]["id"]] }),
        )
        .await)
    .await;
    same_as_whole(&app, &p, "Bob in Staff", &members, &keys).await;
    ok(app.delete(k, &access_path).await).await;
    same_as_whole(&app, &p, "access deleted", &members, &keys).await;

    // Schedules, sites and doors; a member suspended.
    let (_, schedules) = app.get(k, "/api/v1/orgs/acme/schedules").await;
    ok(app
        .patch(
            k,
            &format!(
                "/api/v1/orgs/acme/schedules/{}",
                schedules["items"][0]["id"].as_str().unwrap()
            ),
            json!({ "windows": [{ "day": "monday", "start": "11:00", "end": "12:00" }] }),
        )
        .await)
    .await;
    same_as_whole(&app, &p, "schedule changed", &members, &keys).await;
    ok(app
        .patch(
            k,
            &format!("/api/v1/orgs/acme/doors/{}", p.front),
            json!({ "geofence_required": true }),
        )
        .await)
    .await;
    same_as_whole(&app, &p, "door changed", &members, &keys).await;
    ok(app
        .patch(
            k,
            &format!("/api/v1/orgs/acme/sites/{}", p.site),
            json!({ "geofence": null }),
        )
        .await)
    .await;
    same_as_whole(&app, &p, "site changed", &members, &keys).await;
    ok(app
        .patch(
            k,
            &format!("/api/v1/orgs/acme/members/{}", p.ada_member),
            json!({ "status": "suspended" }),
        )
        .await)
    .await;
    same_as_whole(&app, &p, "Ada suspended", &members, &keys).await;
    ok(app
        .delete(
            k,
            &format!("/api/v1/orgs/acme/pins/{}", pin["id"].as_str().unwrap()),
        )
        .await)
    .await;
    same_as_whole(&app, &p, "PIN revoked", &members, &keys).await;
    // Bob's own card goes with him; the number he shared with Ada's revoked card stays hers.
    ok(app
        .post(
            k,
            "/api/v1/orgs/acme/cards",
            json!({ "member_id": bob["id"], "number": "999" }),
        )
        .await)
    .await;
    keys.push(card_key(None, "999"));
    same_as_whole(&app, &p, "Bob's own card", &members, &keys).await;
    ok(app
        .delete(
            k,
            &format!("/api/v1/orgs/acme/members/{}", bob["id"].as_str().unwrap()),
        )
        .await)
    .await;
    same_as_whole(&app, &p, "Bob removed", &members, &keys).await;
    assert_eq!(
        app.state.rules.full_loads(),
        loads,
        "every change so far applied piecemeal"
    );

    // A deleted door takes itself out of accesses without naming them: loaded whole.
    ok(app
        .delete(k, &format!("/api/v1/orgs/acme/doors/{}", p.back))
        .await)
    .await;
    same_as_whole(&app, &p, "door deleted", &members, &keys).await;
    assert_eq!(app.state.rules.full_loads(), loads + 1);

    // An hour without a request and the hourly job forgets them; they come back when asked.
    app.clock.advance(Duration::minutes(59));
    let now = app.clock.now();
    lintel_server::app::housekeeping::run_once(&app.state, now)
        .await
        .unwrap();
    same_as_whole(&app, &p, "kept while used", &members, &keys).await;
    assert_eq!(app.state.rules.full_loads(), loads + 1);
    app.clock.advance(Duration::minutes(61));
    let now = app.clock.now();
    lintel_server::app::housekeeping::run_once(&app.state, now)
        .await
        .unwrap();
    same_as_whole(&app, &p, "forgotten when idle", &members, &keys).await;
    assert_eq!(app.state.rules.full_loads(), loads + 2);
}
