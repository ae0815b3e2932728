//! OSDP readers against the controller binary: each reader is PyPI's libosdp
//! `PeripheralDevice` (`osdp_reader.py`), a complete reader written apart from Lintel, on the
//! far end of a pseudo-terminal that the controller opens as its serial port.
//!
//! Skipped when Python's `osdp` module is missing, unless `LINTEL_TEST_REQUIRE_OSDP` is set
//! (`.ci/run` sets it and installs `libosdp` from PyPI).

use std::time::Duration;

use lintel_store::EventFilter;
use lintel_testkit::Backend;
use serde_json::{Value, json};

use crate::sync::acme_decisions;
use crate::{Controller, PyReader, Server, osdp_wiring};

const RED: &str = "Red";
const GREEN: &str = "Green";
const AMBER: &str = "Amber";

async fn reader_state(controller: &Controller, name: &str, state: &str) -> Value {
    let what = format!("{name} {state}");
    let readers = controller
        .until_said("readers", &what, |r| {
            r["readers"]
                .as_array()
                .is_some_and(|all| all.iter().any(|x| x["name"] == name && x["state"] == state))
        })
        .await;
    readers["readers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == name)
        .unwrap()
        .clone()
}

#[tokio::test]
async fn osdp_readers_on_their_secure_channel_open_doors_by_card_pin_or_both_offline_too() {
    let Some(mut server) = Server::start(Backend::Sqlite).await else {
        return;
    };
    let p = server.acme().await;
    let door = server
        .post(
            &p.key,
            "/api/v1/orgs/acme/cards",
            json!({ "member_id": p.ada, "number": "1001", "facility_code": 12 }),
        )
        .await;
    assert_eq!(door["number"], "1001");
    let (_, front) = server
        .call(
            reqwest::Method::GET,
            &p.key,
            &format!("/api/v1/orgs/acme/doors/{}", p.door),
            None,
        )
        .await;
    let site = front["site_id"].clone();
    let vault = server
        .post(
            &p.key,
            "/api/v1/orgs/acme/doors",
            json!({ "site_id": site, "name": "Vault", "controller_id": p.controller_id }),
        )
        .await;
    let vault = vault["id"].as_str().unwrap().to_owned();
    server
        .post(
            &p.key,
            "/api/v1/orgs/acme/accesses",
            json!({ "name": "Vault", "users": [p.ada],
                    "doors": [{ "door_id": vault, "in_auth_types": ["card_and_pin"] }] }),
        )
        .await;
    server
        .post(
            &p.key,
            "/api/v1/orgs/acme/pins",
            json!({ "member_id": p.ada, "site_id": site, "code": "480213" }),
        )
        .await;

    let Some(mut front_reader) = PyReader::start(1, Some(server.osdp_key(&p.door, 1))) else {
        return;
    };
    let mut vault_reader = PyReader::start(5, Some(server.osdp_key(&vault, 5))).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let wiring = osdp_wiring(&[
        (&front_reader.port, "front-in", 1, &p.door),
        (&vault_reader.port, "vault-in", 5, &vault),
    ]);
    let controller = Controller::start_configured(server.addr, &p.token, dir.path(), Some(&wiring));
    reader_state(&controller, "front-in", "online").await;
    reader_state(&controller, "vault-in", "online").await;

    // A card: granted, the relay fires, green and one beep.
    front_reader.card(12, 1001);
    assert_eq!(front_reader.led(), GREEN);
    assert_eq!(front_reader.beeps(), 1);
    assert_eq!(controller.unlocks(), 1);
    assert_eq!(controller.say("relays")["relays"][0]["released"], true);
    // A card no one has: red and two beeps; the relay stays.
    front_reader.card(12, 4242);
    assert_eq!(front_reader.led(), RED);
    assert_eq!(front_reader.beeps(), 2);
    // A PIN code on the keypad, after a mistake cleared with `*`.
    front_reader.send(json!({ "keys": "99*480213#" }));
    assert_eq!(front_reader.led(), GREEN);

    // The vault wants card and PIN: the card alone asks for the code (amber), then opens.
    vault_reader.card(12, 1001);
    assert_eq!(vault_reader.led(), AMBER);
    vault_reader.send(json!({ "keys": "480213#" }));
    assert_eq!(vault_reader.led(), GREEN);
    // A wrong code with the card: denied.
    vault_reader.card(12, 1001);
    assert_eq!(vault_reader.led(), AMBER);
    vault_reader.send(json!({ "keys": "480214#" }));
    assert_eq!(vault_reader.led(), RED);

    // The server stops: the same card still opens, decided offline.
    server.stop().await;
    controller
        .until("noticed", |s| s["connected"] == false)
        .await;
    front_reader.card(12, 1001);
    assert_eq!(front_reader.led(), GREEN);
    let status = controller.say("status");
    assert_eq!(status["events_waiting"].as_u64(), Some(1), "{status}");

    // Tamper, reported by the reader, shows on it.
    front_reader.send(json!({ "tamper": true }));
    controller
        .until_said("readers", "tamper", |r| r["readers"][0]["tamper"] == true)
        .await;

    // Unplugged: offline; plugged back: online again, and it opens again.
    front_reader.send(json!({ "unplug": true }));
    reader_state(&controller, "front-in", "offline").await;
    front_reader.send(json!({ "plug": true }));
    reader_state(&controller, "front-in", "online").await;
    front_reader.card(12, 1001);
    assert_eq!(front_reader.led(), GREEN);

    // Back online, the server gets every decision once, as each was made at its reader.
    server.restart().await;
    controller
        .until("handed everything over", |s| {
            s["connected"] == true && s["events_waiting"] == 0
        })
        .await;
    let mut stored = acme_decisions(&server).await;
    stored.reverse();
    let seen: Vec<(String, &str, bool)> = stored
        .iter()
        .map(|e| {
            let credential = e.summary["credential"].as_str().unwrap().to_owned();
            assert_eq!(e.summary["direction"], "in", "{:?}", e.summary);
            (credential, e.kind.as_str(), e.summary["offline"] == true)
        })
        .collect();
    let (granted, denied) = ("decision.granted", "decision.denied");
    let expected = [
        ("card", granted, false),
        ("card", denied, false),
        ("pin", granted, false),
        ("card_and_pin", granted, false),
        ("card_and_pin", denied, false),
        ("card", granted, true),
        ("card", granted, true),
    ];
    let expected: Vec<(String, &str, bool)> = expected
        .iter()
        .map(|(c, k, o)| (c.to_string(), *k, *o))
        .collect();
    assert_eq!(seen, expected);

    // The front reader's life is on record too: online, tamper, unplugged, back online.
    let filter = EventFilter {
        kind: Some("reader.state_changed".into()),
        ..EventFilter::default()
    };
    let org = server.state.store.get_org_by_slug("acme").await.unwrap();
    let page = lintel_store::PageRequest {
        limit: 200,
        after: None,
    };
    let mut logged = server
        .state
        .store
        .list_events(org.id, &filter, page)
        .await
        .unwrap()
        .items;
    logged.reverse();
    let front: Vec<(String, bool)> = logged
        .iter()
        .filter(|e| e.summary["reader"] == "front-in")
        .map(|e| {
            assert_eq!(e.object_id.map(|id| id.to_string()), Some(p.door.clone()));
            let state = e.summary["state"].as_str().unwrap().to_owned();
            (state, e.summary["tamper"] == true)
        })
        .collect();
    assert_eq!(
        front.first(),
        Some(&("online".to_owned(), false)),
        "{front:?}"
    );
    assert!(front.contains(&("online".to_owned(), true)), "{front:?}");
    assert!(front.iter().any(|(s, _)| s == "offline"), "{front:?}");
    assert_eq!(
        front.last().map(|(s, _)| s.as_str()),
        Some("online"),
        "{front:?}"
    );
}

#[tokio::test]
async fn a_reader_with_only_the_default_key_is_refused_until_install_mode_gives_it_its_own() {
    let Some(server) = Server::start(Backend::Sqlite).await else {
        return;
    };
    let p = server.acme().await;
    server
        .post(
            &p.key,
            "/api/v1/orgs/acme/cards",
            json!({ "member_id": p.ada, "number": "1001", "facility_code": 12 }),
        )
        .await;
    let Some(mut fresh) = PyReader::start(1, None) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let wiring = osdp_wiring(&[(&fresh.port, "front-in", 1, &p.door)]);
    let controller = Controller::start_configured(server.addr, &p.token, dir.path(), Some(&wiring));
    // It answers, but not on its own key: refused, and nothing it sends counts.
    reader_state(&controller, "front-in", "refused").await;
    fresh.card(12, 1001);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(controller.say("status")["events_waiting"], 0);
    assert_eq!(controller.say("relays")["relays"], json!([]));

    // Install mode, for this reader only: its own key is set (KEYSET), and it is online.
    let answer = controller.say("install front-in");
    assert_eq!(answer["install_mode"], "front-in", "{answer}");
    let keyset = fresh.until("a KEYSET", |l| l["command"]["name"] == "Keyset");
    let expected = lintel_domain::controller::hex(&server.osdp_key(&p.door, 1));
    assert_eq!(keyset["command"]["data"], expected, "{keyset}");
    reader_state(&controller, "front-in", "online").await;
    fresh.card(12, 1001);
    assert_eq!(fresh.led(), GREEN);
    assert!(controller.say("install nobody")["error"].is_string());
}
