use std::time::{Duration, Instant};

use lintel_domain::EventActor;
use lintel_store::EventFilter;
use lintel_testkit::{Backend, on_both_backends};
use serde_json::{Value, json};
use tokio_stream::StreamExt as _;

use lintel_proto::v1 as pb;

use crate::{Acme, Controller, Server};

on_both_backends!(
    a_controller_decides_online_and_offline_and_hands_every_decision_over_once,
    a_rotated_token_ends_the_session_and_another_organization_sees_nothing,
    an_access_is_ready_once_its_controller_holds_it,
    a_door_opens_through_its_controller_or_answers_that_it_is_offline,
    a_door_an_access_holds_unlocked_stays_so_offline_and_locks_when_it_stops,
    killed_again_and_again_while_uploading_a_controller_loses_and_doubles_nothing,
    killed_again_and_again_while_taking_rules_a_controller_keeps_whole_ones,
    a_controller_s_word_counts_only_for_its_own_site_s_doors,
    a_controller_is_sent_what_changed_not_its_rules_whole,
    a_door_s_states_reach_the_api_and_a_watch_as_its_controller_sees_them,
    a_controller_pairs_with_a_code_once_and_syncs_with_the_token_it_got,
    a_controller_s_malformed_report_ends_its_stream_naming_the_field,
);

/// Acme (`Server::acme`) and Ada's cards 1001 and 1002.
async fn acme(server: &Server) -> (Acme, Vec<String>) {
    let acme = server.acme().await;
    let mut cards = Vec::new();
    for number in ["1001", "1002"] {
        let card = server
            .post(
                &acme.key,
                "/api/v1/orgs/acme/cards",
                json!({ "member_id": acme.ada, "number": number, "facility_code": 12 }),
            )
            .await;
        cards.push(card["id"].as_str().unwrap().to_owned());
    }
    (acme, cards)
}

/// Acme's first 200 events that `filter` lets through, oldest first.
async fn acme_events(server: &Server, filter: EventFilter) -> Vec<lintel_domain::Event> {
    let org = server.state.store.get_org_by_slug("acme").await.unwrap();
    let page = lintel_store::PageRequest {
        limit: 200,
        after: None,
    };
    let events = server.state.store.list_events(org.id, &filter, page);
    events.await.unwrap().items
}

/// Every decision event of Acme, newest first.
pub async fn acme_decisions(server: &Server) -> Vec<lintel_domain::Event> {
    let org = server.state.store.get_org_by_slug("acme").await.unwrap();
    let filter = EventFilter {
        kind: Some("decision".into()),
        ..EventFilter::default()
    };
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let page = lintel_store::PageRequest { limit: 500, after };
        let page = server.state.store.list_events(org.id, &filter, page);
        let page = page.await.unwrap();
        all.extend(page.items);
        match page.next_after {
            Some(next) => after = Some(next),
            None => return all,
        }
    }
}

/// Waits until the controller is connected and holds rules; its status then.
async fn has_rules(controller: &Controller) -> Value {
    controller
        .until("has rules", |s| {
            s["connected"] == true && s["rules_version"].as_i64() > Some(0)
        })
        .await
}

fn granted(answer: &Value) -> bool {
    answer["granted"] == true
}

async fn a_controller_decides_online_and_offline_and_hands_every_decision_over_once(
    backend: Backend,
) {
    let Some(mut server) = Server::start(backend).await else {
        return;
    };
    let (p, cards) = acme(&server).await;
    let dir = tempfile::tempdir().unwrap();
    let mut controller = Controller::start(server.addr, &p.token, dir.path());
    let first = has_rules(&controller).await;
    assert_eq!(first["doors"][&p.door], "Front", "{first}");

    let card = |number: &str| format!("card {} {number} 12", p.door);
    let mut decisions = Vec::new();
    let answer = controller.say(&card("1001"));
    assert!(granted(&answer) && answer["offline"] == false, "{answer}");
    decisions.push(answer);
    let answer = controller.say(&format!("card {} 9999 12", p.door));
    assert_eq!(answer["reason"], "unknown_credential", "{answer}");
    decisions.push(answer);
    assert_eq!(controller.unlocks(), 1);

    // A card revoked through the API is refused at the door, pushed within moments.
    let before = first["rules_hash"].clone();
    let started = Instant::now();
    let (status, _) = server
        .call(
            reqwest::Method::DELETE,
            &p.key,
            &format!("/api/v1/orgs/acme/cards/{}", cards[0]),
            None,
        )
        .await;
    assert_eq!(status, 200);
    controller
        .until("applied the revocation", |s| s["rules_hash"] != before)
        .await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let answer = controller.say(&card("1001"));
    assert_eq!(answer["reason"], "credential_revoked", "{answer}");
    decisions.push(answer);

    // The server goes away: the controller keeps deciding, from the same rules, offline.
    server.stop().await;
    controller
        .until("noticed", |s| s["connected"] == false)
        .await;
    for _ in 0..3 {
        let answer = controller.say(&card("1002"));
        assert!(granted(&answer) && answer["offline"] == true, "{answer}");
        decisions.push(answer);
    }
    let answer = controller.say(&card("1001"));
    assert_eq!(answer["reason"], "credential_revoked", "{answer}");
    decisions.push(answer);

    // Killed while the server is away, it starts again from what it kept on disk.
    controller.kill_and_restart();
    // At least the four offline ones wait (the last one online may not have gone yet).
    let status = controller.say("status");
    let waiting = status["events_waiting"].as_u64().unwrap();
    assert!((4..=decisions.len() as u64).contains(&waiting), "{status}");
    let answer = controller.say(&card("1002"));
    assert!(granted(&answer) && answer["offline"] == true, "{answer}");
    decisions.push(answer);

    // The server comes back: every decision arrives once, with its own id and time.
    server.restart().await;
    controller
        .until("handed everything over", |s| {
            s["connected"] == true && s["events_waiting"] == 0
        })
        .await;
    // Sent again (as after a crash between storing and acknowledging), nothing doubles.
    controller.kill_and_restart();
    controller
        .until("reconnected", |s| s["connected"] == true)
        .await;
    let events = acme_events(&server, EventFilter::default()).await;
    let by_controller: Vec<_> = events
        .iter()
        .filter(|e| e.kind.starts_with("decision."))
        .filter(|e| matches!(e.actor, EventActor::Controller { .. }))
        .collect();
    assert_eq!(by_controller.len(), decisions.len(), "{by_controller:#?}");
    for d in &decisions {
        let id = d["event"].as_str().unwrap();
        let stored: Vec<_> = by_controller
            .iter()
            .filter(|e| e.id.0.to_string() == id)
            .collect();
        assert_eq!(stored.len(), 1, "{id}");
        assert_eq!(stored[0].summary["offline"], d["offline"]);
        assert_eq!(
            stored[0].kind,
            if granted(d) {
                "decision.granted"
            } else {
                "decision.denied"
            }
        );
    }
    let connections = events
        .iter()
        .filter(|e| e.kind == "controller.connected")
        .count();
    assert!(connections >= 3, "{connections}");

    // The API shows the controller's live state.
    let (_, live) = server
        .call(
            reqwest::Method::GET,
            &p.key,
            &format!("/api/v1/orgs/acme/controllers/{}", p.controller_id),
            None,
        )
        .await;
    assert_eq!(live["live"]["online"], true, "{live}");
    let started = Instant::now();
    loop {
        let (_, live) = server
            .call(
                reqwest::Method::GET,
                &p.key,
                &format!("/api/v1/orgs/acme/controllers/{}", p.controller_id),
                None,
            )
            .await;
        if live["live"]["rules_in_sync"] == true {
            assert_eq!(live["live"]["events_waiting"], 0, "{live}");
            // It works offline for its site's 30 days from its last confirmation, and says so.
            let at = |v: &Value| {
                v.as_str()
                    .unwrap()
                    .parse::<chrono::DateTime<chrono::Utc>>()
                    .unwrap()
            };
            let confirmed = at(&live["live"]["rules_confirmed_at"]);
            assert_eq!(
                at(&live["live"]["rules_stale_at"]),
                confirmed + chrono::Duration::days(30)
            );
            let status = controller.say("status");
            assert_eq!(status["stale"], false, "{status}");
            let stale_at = at(&status["stale_at"]);
            assert!(
                (stale_at - (confirmed + chrono::Duration::days(30)))
                    .num_seconds()
                    .abs()
                    <= 90,
                "{status} {live}"
            );
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{live}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn a_rotated_token_ends_the_session_and_another_organization_sees_nothing(backend: Backend) {
    let Some(server) = Server::start(backend).await else {
        return;
    };
    let (p, _) = acme(&server).await;
    // Another organization's door and member: nothing of them reaches acme's controller.
    let globex = server.org("globex").await;
    let plant = server
        .post(
            &globex,
            "/api/v1/orgs/globex/sites",
            json!({ "name": "Plant" }),
        )
        .await;
    let theirs = server
        .post(
            &globex,
            "/api/v1/orgs/globex/doors",
            json!({ "site_id": plant["id"], "name": "Dock" }),
        )
        .await;
    let dir = tempfile::tempdir().unwrap();
    let controller = Controller::start(server.addr, &p.token, dir.path());
    let status = has_rules(&controller).await;
    let doors = status["doors"].as_object().unwrap();
    assert_eq!(doors.len(), 1, "{status}");
    let kept = std::fs::read_to_string(dir.path().join("data/rules.json")).unwrap();
    assert!(!kept.contains(theirs["id"].as_str().unwrap()));
    assert!(!kept.contains("globex"));
    let answer = controller.say(&format!("card {} 1001 12", theirs["id"].as_str().unwrap()));
    assert_eq!(answer["granted"], false, "{answer}");

    // A rotated token ends the session at once; the old one never connects again.
    server
        .post(
            &p.key,
            &format!(
                "/api/v1/orgs/acme/controllers/{}/rotate-token",
                p.controller_id
            ),
            json!({}),
        )
        .await;
    controller
        .until("was cut off", |s| s["connected"] == false)
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(controller.say("status")["connected"], false);
    // It still decides from what it holds.
    let answer = controller.say(&format!("card {} 1001 12", p.door));
    assert!(granted(&answer), "{answer}");
}

/// Waits (up to 20 seconds) until the access's status is `status`; returns the access.
async fn access_until(server: &Server, key: &str, id: &str, status: &str) -> Value {
    let started = Instant::now();
    loop {
        let (_, access) = server
            .call(
                reqwest::Method::GET,
                key,
                &format!("/api/v1/orgs/acme/accesses/{id}"),
                None,
            )
            .await;
        if access["status"] == status {
            return access;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "never {status}: {access}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn an_access_is_ready_once_its_controller_holds_it(backend: Backend) {
    let Some(server) = Server::start(backend).await else {
        return;
    };
    let (p, _) = acme(&server).await;
    let (_, list) = server
        .call(
            reqwest::Method::GET,
            &p.key,
            "/api/v1/orgs/acme/accesses",
            None,
        )
        .await;
    let staff = list["items"][0].clone();
    // Made before the controller ever connected: it waits, visibly, for that controller.
    assert_eq!(staff["status"], "creating", "{staff}");
    assert_eq!(staff["waiting_for"], json!([p.controller_id]), "{staff}");
    let staff = staff["id"].as_str().unwrap().to_owned();

    let dir = tempfile::tempdir().unwrap();
    let controller = Controller::start(server.addr, &p.token, dir.path());
    let ready = access_until(&server, &p.key, &staff, "ready").await;
    assert!(ready.get("waiting_for").is_none(), "{ready}");

    // With the controller away, a new access stays `creating`; back, it becomes ready.
    drop(controller);
    let night = server
        .post(
            &p.key,
            "/api/v1/orgs/acme/accesses",
            json!({ "name": "Night", "doors": [{ "door_id": p.door }], "groups": [] }),
        )
        .await;
    let night = night["id"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let waiting = access_until(&server, &p.key, &night, "creating").await;
    assert_eq!(
        waiting["waiting_for"],
        json!([p.controller_id]),
        "{waiting}"
    );
    let controller = Controller::start(server.addr, &p.token, dir.path());
    access_until(&server, &p.key, &night, "ready").await;

    // Deleting goes through `deleting` to `deleted` the same way.
    let (status, gone) = server
        .call(
            reqwest::Method::DELETE,
            &p.key,
            &format!("/api/v1/orgs/acme/accesses/{night}"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{gone}");
    assert!(
        ["deleting", "deleted"].contains(&gone["status"].as_str().unwrap()),
        "{gone}"
    );
    access_until(&server, &p.key, &night, "deleted").await;
    drop(controller);

    let filter = EventFilter {
        kind: Some("access.applied".into()),
        ..EventFilter::default()
    };
    let applied = acme_events(&server, filter).await;
    assert_eq!(applied.len(), 3, "{applied:?}");
    assert!(
        applied
            .iter()
            .all(|e| matches!(e.actor, EventActor::Controller { .. })),
        "{applied:?}"
    );
}

/// `POST …/doors/{door}/{path}` (`unlock`, `remote-unlock`) as `who`.
async fn open_door(server: &Server, who: &str, door: &str, path: &str) -> (u16, Value) {
    let path = format!("/api/v1/orgs/acme/doors/{door}/{path}");
    server
        .call(reqwest::Method::POST, who, &path, Some(json!({})))
        .await
}

async fn a_door_opens_through_its_controller_or_answers_that_it_is_offline(backend: Backend) {
    let Some(server) = Server::start(backend).await else {
        return;
    };
    let (p, _) = acme(&server).await;
    let dir = tempfile::tempdir().unwrap();
    let controller = Controller::start(server.addr, &p.token, dir.path());
    has_rules(&controller).await;
    // Ada's phone and an administrator's remote open: the server decides, the controller
    // releases the lock, and the answer says it did.
    let (status, phone) = open_door(&server, &p.ada_phone, &p.door, "unlock").await;
    assert_eq!(status, 200, "{phone}");
    assert_eq!(
        (&phone["granted"], &phone["opened"]),
        (&json!(true), &json!(true)),
        "{phone}"
    );
    let (_, remote) = open_door(&server, &p.key, &p.door, "remote-unlock").await;
    assert_eq!(remote["opened"], true, "{remote}");
    assert_eq!(controller.unlocks(), 2);

    // A door that wants the phone at its reader: the controller signs the proof of presence
    // with the door's key, the server takes it once.
    let door_path = format!("/api/v1/orgs/acme/doors/{}", p.door);
    let reader_required = |required: bool| {
        let body = json!({ "reader_required": required });
        server.call(reqwest::Method::PATCH, &p.key, &door_path, Some(body))
    };
    assert_eq!(reader_required(true).await.0, 200);
    let unlock_path = format!("{door_path}/unlock");
    let unlock_with = |proof: Option<&str>| {
        let body = json!({ "reader_proof": proof });
        server.call(
            reqwest::Method::POST,
            &p.ada_phone,
            &unlock_path,
            Some(body),
        )
    };
    let (_, answer) = unlock_with(None).await;
    assert_eq!(answer["reason"], "reader_required", "{answer}");
    let signed = controller.say(&format!("proof {}", p.door));
    let proof = signed["proof"]
        .as_str()
        .unwrap_or_else(|| panic!("{signed}"));
    let (_, answer) = unlock_with(Some(proof)).await;
    assert_eq!(answer["opened"], true, "{answer}");
    let (_, replayed) = unlock_with(Some(proof)).await;
    assert_eq!(replayed["reason"], "reader_required", "{replayed}");
    let unknown = controller.say(&format!("proof {}", uuid::Uuid::now_v7()));
    assert!(unknown["error"].is_string(), "{unknown}");
    assert_eq!(reader_required(false).await.0, 200);

    // The controller gone: nobody is told the door opened, within the bounded wait.
    drop(controller);
    for who in [&p.ada_phone, &p.key] {
        let path = if *who == p.key {
            "remote-unlock"
        } else {
            "unlock"
        };
        let started = Instant::now();
        let (status, answer) = open_door(&server, who, &p.door, path).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["granted"], false, "{answer}");
        assert_eq!(answer["reason"], "door_offline", "{answer}");
        assert_eq!(answer["opened"], false, "{answer}");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
    }
    let filter = EventFilter {
        kind: Some("decision.denied".into()),
        ..EventFilter::default()
    };
    let denied = acme_events(&server, filter).await;
    let offline = denied
        .iter()
        .filter(|e| e.summary["reason"] == "door_offline")
        .count();
    assert_eq!(offline, 2, "{denied:?}");
}

/// Two nodes on one PostgreSQL database, the controller's stream on the second: a card
/// revoked through the first reaches the controller at once (a signal between the nodes, not
/// the session's five-second look), and a door opened through the first is opened by the
/// second's session.
#[tokio::test]
async fn a_change_or_a_command_on_one_node_reaches_a_controller_on_another() {
    let Some(server) = Server::start(Backend::Postgres).await else {
        return;
    };
    let (p, cards) = acme(&server).await;
    let second = server.another_node().await;
    let dir = tempfile::tempdir().unwrap();
    let controller = Controller::start(second.addr, &p.token, dir.path());
    let first = has_rules(&controller).await;
    let card = format!("card {} 1001 12", p.door);
    assert!(granted(&controller.say(&card)));

    let started = Instant::now();
    let path = format!("/api/v1/orgs/acme/cards/{}", cards[0]);
    let (status, _) = server
        .call(reqwest::Method::DELETE, &p.key, &path, None)
        .await;
    assert_eq!(status, 200);
    let before = first["rules_hash"].clone();
    controller
        .until("applied the revocation", |s| s["rules_hash"] != before)
        .await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(controller.say(&card)["reason"], "credential_revoked");

    // Asked on the first node, carried out by the second's session.
    let (_, phone) = open_door(&server, &p.ada_phone, &p.door, "unlock").await;
    assert_eq!(phone["opened"], true, "{phone}");
    let (_, remote) = open_door(&server, &p.key, &p.door, "remote-unlock").await;
    assert_eq!(remote["opened"], true, "{remote}");
    assert_eq!(controller.unlocks(), 3);

    // The controller gone, either node answers that the door is offline.
    drop(controller);
    let started = Instant::now();
    loop {
        let (_, remote) = open_door(&server, &p.key, &p.door, "remote-unlock").await;
        if remote["reason"] == "door_offline" {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "{remote}");
    }
    let path = format!("/api/v1/orgs/acme/doors/{}/remote-unlock", p.door);
    let (_, remote) = server
        .call_on(
            second.addr,
            reqwest::Method::POST,
            &p.key,
            &path,
            Some(json!({})),
        )
        .await;
    assert_eq!(remote["reason"], "door_offline", "{remote}");
}

/// Two nodes on one PostgreSQL database: a `WatchEvents` stream on the second hears an event
/// recorded through the first at once (a signal between the nodes; the watch's own look is
/// every five seconds).
#[tokio::test]
async fn a_watch_on_one_node_hears_an_event_recorded_through_another() {
    let Some(server) = Server::start(Backend::Postgres).await else {
        return;
    };
    let (p, _) = acme(&server).await;
    let second = server.another_node().await;
    let mut watch = crate::watch_acme(second.addr, &p.key, "door").await;
    let path = format!("/api/v1/orgs/acme/doors/{}", p.door);
    for round in 0..3 {
        let name = format!("Front {round}");
        let started = Instant::now();
        let body = json!({ "name": name });
        let (status, _) = server
            .call(reqwest::Method::PATCH, &p.key, &path, Some(body))
            .await;
        assert_eq!(status, 200);
        loop {
            let next = tokio::time::timeout(Duration::from_secs(10), watch.message());
            let event = next.await.unwrap().unwrap().expect("the stream goes on");
            if event.kind == "door.updated" && event.summary_json.contains(&name) {
                break;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "round {round}: {:?}",
            started.elapsed()
        );
    }
}

/// Whether the controller holds Acme's door unlocked now.
fn held(controller: &Controller) -> bool {
    let doors = controller.say("doors");
    let relays = controller.say("relays");
    doors["doors"][0]["held"] == true && relays["relays"][0]["released"] == true
}

async fn a_door_an_access_holds_unlocked_stays_so_offline_and_locks_when_it_stops(
    backend: Backend,
) {
    let Some(mut server) = Server::start(backend).await else {
        return;
    };
    let (p, _) = acme(&server).await;
    let days = lintel_domain::schedule::DAY_NAMES;
    let windows: Vec<Value> = days
        .iter()
        .map(|day| json!({ "day": day, "start": "00:00", "end": "24:00" }))
        .collect();
    let always = server
        .post(
            &p.key,
            "/api/v1/orgs/acme/schedules",
            json!({ "name": "Always", "windows": windows }),
        )
        .await;
    let lobby = server
        .post(
            &p.key,
            "/api/v1/orgs/acme/accesses",
            json!({
                "name": "Lobby hours",
                "schedule_id": always["id"],
                "doors": [{ "door_id": p.door, "lock_unlock_enabled": true }],
                "groups": []
            }),
        )
        .await;
    let dir = tempfile::tempdir().unwrap();
    let mut controller = Controller::start(server.addr, &p.token, dir.path());
    controller
        .until("holds the door unlocked", |_| held(&controller))
        .await;

    // Without the server, from the rules on its disk, after a restart too.
    server.stop().await;
    controller.kill_and_restart();
    controller
        .until("holds it again", |_| held(&controller))
        .await;

    // The access no longer holds the door: it locks as soon as the change arrives.
    server.restart().await;
    controller
        .until("connected", |s| s["connected"] == true)
        .await;
    let path = format!(
        "/api/v1/orgs/acme/accesses/{}",
        lobby["id"].as_str().unwrap()
    );
    let (status, answer) = server
        .call(
            reqwest::Method::PATCH,
            &p.key,
            &path,
            Some(json!({ "doors": [{ "door_id": p.door, "lock_unlock_enabled": false }] })),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    controller
        .until("locked again", |_| !held(&controller))
        .await;
}

async fn killed_again_and_again_while_uploading_a_controller_loses_and_doubles_nothing(
    backend: Backend,
) {
    let Some(mut server) = Server::start(backend).await else {
        return;
    };
    let (p, _) = acme(&server).await;
    let dir = tempfile::tempdir().unwrap();
    let mut controller = Controller::start(server.addr, &p.token, dir.path());
    has_rules(&controller).await;
    server.stop().await;
    controller
        .until("noticed", |s| s["connected"] == false)
        .await;
    // Three batches' worth, decided offline.
    let card = format!("card {} 1002 12", p.door);
    let mut decided = std::collections::HashSet::new();
    for _ in 0..1100 {
        let answer = controller.say(&card);
        assert!(granted(&answer), "{answer}");
        decided.insert(answer["event"].as_str().unwrap().to_owned());
    }
    // The server back, the controller is killed over and over while it hands them over:
    // before a batch is stored, between storing and the acknowledgement, after.
    server.restart().await;
    for pause in [40, 80, 120, 160, 200, 300] {
        tokio::time::sleep(Duration::from_millis(pause)).await;
        controller.kill_and_restart();
    }
    controller
        .until("handed everything over", |s| {
            s["connected"] == true && s["events_waiting"] == 0
        })
        .await;
    let stored = acme_decisions(&server).await;
    let ids: std::collections::HashSet<String> =
        stored.iter().map(|e| e.id.0.to_string()).collect();
    assert_eq!(stored.len(), decided.len(), "nothing doubled");
    assert_eq!(ids, decided, "nothing lost");
}

async fn killed_again_and_again_while_taking_rules_a_controller_keeps_whole_ones(backend: Backend) {
    let Some(server) = Server::start(backend).await else {
        return;
    };
    let (p, _) = acme(&server).await;
    let dir = tempfile::tempdir().unwrap();
    let mut controller = Controller::start(server.addr, &p.token, dir.path());
    has_rules(&controller).await;
    // Rules growing to a few megabytes, so that taking them takes a while.
    let batch = |n: usize, round: usize| -> Value {
        let accesses: Vec<Value> = (0..n)
            .map(|i| {
                json!({
                    "name": format!("Locker {round}-{i}"),
                    "doors": [{ "door_id": p.door, "in_auth_types": ["card"] }],
                    "users": [p.ada]
                })
            })
            .collect();
        json!({ "accesses": accesses })
    };
    let card = format!("card {} 1001 12", p.door);
    // Where the controller writes new rules whole before renaming them over the old, and
    // where it appends changes (the first round comes whole, the later ones as changes).
    let writing = controller.data_dir.join("rules.json.new");
    let changes = controller.data_dir.join("rules.changes.jsonl");
    let size = |path: &std::path::Path| std::fs::metadata(path).map_or(0, |m| m.len());
    let org = server.state.store.get_org_by_slug("acme").await.unwrap();
    let (mut mid_write, mut mid_changes) = (0, 0);
    let mut accesses = 1;
    for round in 0..8 {
        // Even rounds add more accesses than there are (sent whole), odd ones a few (sent
        // as changes).
        let adding = if round % 2 == 0 { accesses + 500 } else { 200 };
        accesses += adding;
        let _ = std::fs::remove_file(&writing);
        let kept = size(&changes);
        server
            .post(
                &p.key,
                "/api/v1/orgs/acme/accesses/batch",
                batch(adding, round),
            )
            .await;
        // Killed the moment it starts writing them (or, missing that, once it gave up
        // waiting): the file is half written, or being synced or renamed.
        let started = Instant::now();
        while !writing.exists()
            && size(&changes) == kept
            && started.elapsed() < Duration::from_secs(5)
        {
            std::hint::spin_loop();
        }
        mid_write += usize::from(writing.exists());
        mid_changes += usize::from(size(&changes) != kept);
        controller.kill_and_restart();
        // Whole rules, old or new, whichever it kept: the card still opens.
        let answer = controller.say(&card);
        assert!(granted(&answer), "round {round}: {answer}");
        // Caught up before the next round, which then comes as the round says.
        let version = server.state.store.rules_version(org.id).await.unwrap();
        controller
            .until("caught up", |s| {
                s["connected"] == true && s["rules_version"] == version
            })
            .await;
    }
    assert!(mid_write > 0, "no kill landed while rules were written");
    assert!(mid_changes > 0, "no kill landed while changes were written");
    let version = server.state.store.rules_version(org.id).await.unwrap();
    controller
        .until("caught up", |s| s["rules_version"] == version)
        .await;
    assert!(granted(&controller.say(&card)));
}

/// A decision as a controller reports it: granted, by card, at `door`.
fn reported(door: &str) -> pb::ControllerEvent {
    pb::ControllerEvent {
        uuid: uuid::Uuid::now_v7().to_string(),
        at: Some(prost_types::Timestamp {
            seconds: lintel_domain::Clock::now(&lintel_domain::SystemClock).timestamp(),
            nanos: 0,
        }),
        door_uuid: door.to_owned(),
        granted: true,
        credential: "card".into(),
        direction: "in".into(),
        ..pb::ControllerEvent::default()
    }
}

/// A controller made by hand (no binary): it says hello, then reports decisions at its own
/// door, at a door of another site and at a door that does not exist. All are acknowledged
/// (its journal must not jam), only the first is stored.
async fn a_controller_s_word_counts_only_for_its_own_site_s_doors(backend: Backend) {
    let Some(server) = Server::start(backend).await else {
        return;
    };
    let (p, _) = acme(&server).await;
    let annex = server
        .post(
            &p.key,
            "/api/v1/orgs/acme/sites",
            json!({ "name": "Annex" }),
        )
        .await;
    let elsewhere = server
        .post(
            &p.key,
            "/api/v1/orgs/acme/doors",
            json!({ "site_id": annex["id"], "name": "Annex door" }),
        )
        .await;
    let elsewhere = elsewhere["id"].as_str().unwrap();
    let nowhere = uuid::Uuid::now_v7().to_string();

    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", server.addr))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = pb::controller_service_client::ControllerServiceClient::new(channel);
    let (out, rx) = tokio::sync::mpsc::channel(4);
    let say = |body| pb::ControllerMessage { body: Some(body) };
    out.send(say(pb::controller_message::Body::Hello(
        pb::ControllerHello::default(),
    )))
    .await
    .unwrap();
    let mut request = tonic::Request::new(tokio_stream::wrappers::ReceiverStream::new(rx));
    let bearer = format!("Bearer {}", p.token).parse().unwrap();
    request.metadata_mut().insert("authorization", bearer);
    let mut inbound = client.sync(request).await.unwrap().into_inner();
    let events = vec![reported(&p.door), reported(elsewhere), reported(&nowhere)];
    let sent: Vec<String> = events.iter().map(|e| e.uuid.clone()).collect();
    out.send(say(pb::controller_message::Body::Events(
        pb::ControllerEvents { events },
    )))
    .await
    .unwrap();
    let stored = loop {
        let message = tokio::time::timeout(Duration::from_secs(10), inbound.message())
            .await
            .expect("an answer within 10 s")
            .unwrap()
            .expect("the stream open");
        if let Some(pb::server_message::Body::Stored(stored)) = message.body {
            break stored.uuids;
        }
    };
    assert_eq!(stored, sent);
    let kept: Vec<String> = acme_decisions(&server)
        .await
        .iter()
        .map(|e| e.id.0.to_string())
        .collect();
    assert_eq!(kept, [sent[0].clone()]);
}

/// Revokes one of Acme's cards through the API.
async fn revoke(server: &Server, p: &Acme, card: &str) {
    let path = format!("/api/v1/orgs/acme/cards/{card}");
    let (status, _) = server
        .call(reqwest::Method::DELETE, &p.key, &path, None)
        .await;
    assert_eq!(status, 200);
}

async fn a_controller_is_sent_what_changed_not_its_rules_whole(backend: Backend) {
    let Some(server) = Server::start(backend).await else {
        return;
    };
    let (p, cards) = acme(&server).await;
    let dir = tempfile::tempdir().unwrap();
    let mut controller = Controller::start(server.addr, &p.token, dir.path());
    let first = has_rules(&controller).await;
    assert_eq!(first["rules_received"], json!({ "whole": 1, "changes": 0 }));
    let card = |number: &str| format!("card {} {number} 12", p.door);

    // A card revoked: only that change travels, and is applied in place.
    revoke(&server, &p, &cards[0]).await;
    let status = controller
        .until("applied the revocation", |s| {
            s["rules_hash"] != first["rules_hash"]
        })
        .await;
    assert_eq!(
        status["rules_received"],
        json!({ "whole": 1, "changes": 1 })
    );
    let answer = controller.say(&card("1001"));
    assert_eq!(answer["reason"], "credential_revoked", "{answer}");

    // Away while the other card is revoked, then back: the node kept the rules it left
    // with, so it is sent only what changed meanwhile.
    controller.kill();
    let path = format!("/api/v1/orgs/acme/controllers/{}", p.controller_id);
    let started = Instant::now();
    while server
        .call(reqwest::Method::GET, &p.key, &path, None)
        .await
        .1["live"]["online"]
        == true
    {
        assert!(started.elapsed() < Duration::from_secs(10), "never offline");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    revoke(&server, &p, &cards[1]).await;
    controller.restart();
    let org = server.state.store.get_org_by_slug("acme").await.unwrap();
    let version = server.state.store.rules_version(org.id).await.unwrap();
    let status = controller
        .until("caught up", |s| {
            s["connected"] == true && s["rules_version"] == version
        })
        .await;
    assert_eq!(
        status["rules_received"],
        json!({ "whole": 0, "changes": 1 })
    );
    let answer = controller.say(&card("1002"));
    assert_eq!(answer["reason"], "credential_revoked", "{answer}");
}

/// A `WatchDoorStates` stream of Acme's, as the holder of `key`.
async fn watch_door_states(server: &Server, key: &str) -> tonic::Streaming<pb::DoorStateChange> {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", server.addr))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = pb::doors_service_client::DoorsServiceClient::new(channel);
    let mut request = tonic::Request::new(pb::WatchDoorStatesRequest {
        organization_slug: "acme".into(),
    });
    let bearer = format!("Bearer {key}").parse().unwrap();
    request.metadata_mut().insert("authorization", bearer);
    client
        .watch_door_states(request)
        .await
        .unwrap()
        .into_inner()
}

async fn a_door_s_states_reach_the_api_and_a_watch_as_its_controller_sees_them(backend: Backend) {
    let Some(server) = Server::start(backend).await else {
        return;
    };
    let (p, _) = acme(&server).await;
    // A short unlock time, so that one running out is seen soon.
    let door_path = format!("/api/v1/orgs/acme/doors/{}", p.door);
    let (status, _) = server
        .call(
            reqwest::Method::PATCH,
            &p.key,
            &door_path,
            Some(json!({ "unlock_duration_secs": 2 })),
        )
        .await;
    assert_eq!(status, 200);
    let dir = tempfile::tempdir().unwrap();
    let controller = Controller::start(server.addr, &p.token, dir.path());
    has_rules(&controller).await;
    let mut states = watch_door_states(&server, &p.key).await;

    // Granted, opened, closed (locked behind); forced open, closed; an exit, run out.
    let door = |what: &str| controller.say(&format!("{what} {}", p.door));
    assert!(granted(
        &controller.say(&format!("card {} 1001 12", p.door))
    ));
    // Said wrong: a clear error, nothing changed.
    assert!(door("contact")["error"].is_string());
    controller.say(&format!("contact {} open", p.door));
    controller.say(&format!("contact {} closed", p.door));
    let forced = controller.say(&format!("contact {} open", p.door));
    assert_eq!(forced["door"]["state"], "forced_open", "{forced}");
    controller.say(&format!("contact {} closed", p.door));
    assert_eq!(door("exit")["door"]["state"], "unlocked");
    let expected = [
        ("unlocked", "granted"),
        ("open", "opened"),
        ("locked", "closed"),
        ("forced_open", "opened"),
        ("locked", "closed"),
        ("unlocked", "exit"),
        ("locked", "timeout"),
    ];
    let mut seen = Vec::new();
    while seen.len() < expected.len() {
        let change = tokio::time::timeout(Duration::from_secs(20), states.message())
            .await
            .expect("the watch hears every change")
            .unwrap()
            .unwrap();
        assert!(!change.current, "{change:?}");
        assert_eq!(change.door_uuid, p.door);
        seen.push((change.state, change.cause));
    }
    let seen: Vec<(&str, &str)> = seen.iter().map(|(s, c)| (s.as_str(), c.as_str())).collect();
    assert_eq!(seen, expected);

    // The API keeps the newest; a new watch starts from it.
    let (status, kept) = server
        .call(
            reqwest::Method::GET,
            &p.key,
            "/api/v1/orgs/acme/door-states",
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(kept["items"][0]["door_id"], p.door.as_str(), "{kept}");
    assert_eq!(
        (&kept["items"][0]["state"], &kept["items"][0]["cause"]),
        (&json!("locked"), &json!("timeout"))
    );
    let mut again = watch_door_states(&server, &p.key).await;
    let now = again.message().await.unwrap().unwrap();
    assert!(now.current && now.state == "locked", "{now:?}");
    // Each change is an event of the log, by the controller.
    let logged = acme_events(
        &server,
        EventFilter {
            kind: Some("door.state_changed".into()),
            ..EventFilter::default()
        },
    )
    .await;
    assert_eq!(logged.len(), expected.len());
    assert!(
        logged
            .iter()
            .all(|e| matches!(e.actor, EventActor::Controller { .. }))
    );
}

async fn a_controller_pairs_with_a_code_once_and_syncs_with_the_token_it_got(backend: Backend) {
    let Some(server) = Server::start(backend).await else {
        return;
    };
    let (p, _) = acme(&server).await;
    let path = format!(
        "/api/v1/orgs/acme/controllers/{}/pairing-code",
        p.controller_id
    );
    let made = server.post(&p.key, &path, Value::Null).await;
    let code = made["code"].as_str().unwrap().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("etc").join("token");
    let pair = |code: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_lintel-controller"))
            .arg("--server")
            .arg(format!("http://{}", server.addr))
            .arg("--token-file")
            .arg(&token_file)
            .args(["pair", code])
            .output()
            .unwrap()
    };
    let paired = pair(&code);
    let said = String::from_utf8_lossy(&paired.stdout);
    assert!(
        paired.status.success(),
        "{said} {}",
        String::from_utf8_lossy(&paired.stderr)
    );
    assert!(
        said.contains("Paired as controller \"Cabinet\" of acme"),
        "{said}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&token_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let token = std::fs::read_to_string(&token_file).unwrap();
    assert_ne!(token.trim(), p.token);
    // With the token it got, it syncs; the code does not work twice.
    let controller = Controller::start(server.addr, token.trim(), dir.path());
    has_rules(&controller).await;
    let again = pair(&code);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("does not know this code"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(std::fs::read_to_string(&token_file).unwrap(), token);
}

async fn a_controller_s_malformed_report_ends_its_stream_naming_the_field(backend: Backend) {
    let Some(server) = Server::start(backend).await else {
        return;
    };
    let (p, _) = acme(&server).await;
    let now = lintel_domain::Clock::now(&lintel_domain::SystemClock);
    let at = Some(prost_types::Timestamp {
        seconds: now.timestamp(),
        nanos: 0,
    });
    let good = pb::ControllerEvent {
        uuid: uuid::Uuid::now_v7().to_string(),
        at,
        door_uuid: p.door.clone(),
        ..pb::ControllerEvent::default()
    };
    let cases = [
        (
            pb::ControllerEvent {
                reader_name: "front-in".into(),
                reader_state: "exploded".into(),
                ..good.clone()
            },
            "events[0].reader_state",
        ),
        (
            pb::ControllerEvent {
                reader_name: "x".repeat(65),
                reader_state: "online".into(),
                ..good.clone()
            },
            "events[0].reader_name",
        ),
        (
            pb::ControllerEvent {
                door_state: "ajar".into(),
                door_state_cause: "opened".into(),
                ..good.clone()
            },
            "events[0].door_state",
        ),
        (
            pb::ControllerEvent {
                door_state: "open".into(),
                door_state_cause: "ghosts".into(),
                ..good
            },
            "events[0].door_state_cause",
        ),
    ];
    for (event, field) in cases {
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", server.addr))
            .unwrap()
            .connect()
            .await
            .unwrap();
        let mut client = pb::controller_service_client::ControllerServiceClient::new(channel);
        let hello = pb::ControllerMessage {
            body: Some(pb::controller_message::Body::Hello(
                pb::ControllerHello::default(),
            )),
        };
        let events = pb::ControllerMessage {
            body: Some(pb::controller_message::Body::Events(pb::ControllerEvents {
                events: vec![event],
            })),
        };
        let messages = tokio_stream::iter([hello, events]).chain(tokio_stream::pending());
        let mut request = tonic::Request::new(messages);
        let bearer = format!("Bearer {}", p.token).parse().unwrap();
        request.metadata_mut().insert("authorization", bearer);
        let mut stream = client.sync(request).await.unwrap().into_inner();
        let ended = loop {
            match tokio::time::timeout(Duration::from_secs(10), stream.message()).await {
                Ok(Ok(Some(_))) => continue,
                Ok(Err(status)) => break status,
                other => panic!("the stream went on: {other:?}"),
            }
        };
        assert_eq!(ended.code(), tonic::Code::InvalidArgument, "{ended:?}");
        assert!(ended.message().contains(field), "{field}: {ended:?}");
    }
    // Nothing of them was stored.
    let org = server.state.store.get_org_by_slug("acme").await.unwrap();
    assert!(
        server
            .state
            .store
            .list_door_states(org.id)
            .await
            .unwrap()
            .is_empty()
    );
}
