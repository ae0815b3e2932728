use lintel_domain::controller::ControllerLive;
use lintel_domain::door::DoorState;
use lintel_domain::{
    AccessStatus, Controller, ControllerId, Door, DoorId, DoorKind, OrgId, Organization,
};
use lintel_store::{DoorFilter, EventFilter, Signal, StoreError};
use lintel_testkit::TestDb;
use lintel_testkit::{Backend, on_both_backends};

use crate::{audit, db, door, first, now, org, site};

on_both_backends!(
    a_controller_is_found_by_its_current_token_only,
    a_door_is_wired_only_to_a_controller_of_its_own_site,
    a_controller_with_doors_or_a_site_with_controllers_is_not_deleted,
    an_access_on_controller_doors_waits_for_their_controllers,
    a_rules_change_or_an_event_is_signalled_once_it_can_be_read,
    a_controller_goes_stale_its_site_s_days_after_its_rules_were_confirmed,
    a_door_keeps_the_newest_state_its_controller_reported,
    a_pairing_code_is_spent_once_even_by_two_at_the_same_time,
    a_stream_that_ends_does_not_say_offline_over_a_newer_one,
);

fn controller(site: lintel_domain::SiteId, name: &str) -> Controller {
    Controller {
        id: ControllerId::new(now()),
        site_id: site,
        name: name.into(),
        description: String::new(),
        token_issued_at: now(),
        live: Default::default(),
        created_at: now(),
        updated_at: now(),
    }
}

async fn a_controller_is_found_by_its_current_token_only(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let acme = org("acme");
    db.store.create_org(&acme, None, &audit()).await.unwrap();
    let hq = site("HQ");
    db.store.create_site(acme.id, &hq, &audit()).await.unwrap();
    let cabinet = controller(hq.id, "Cabinet");
    db.store
        .create_controller(acme.id, &cabinet, b"first-hash", &audit())
        .await
        .unwrap();
    assert_eq!(
        db.store.get_controller(acme.id, cabinet.id).await.unwrap(),
        cabinet
    );
    let (found_org, found) = db
        .store
        .find_controller(b"first-hash")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((found_org, found.id), (acme.id, cabinet.id));

    let later = now() + chrono::Duration::hours(1);
    let rotated = db
        .store
        .rotate_controller_token(acme.id, cabinet.id, b"second-hash", later, &audit())
        .await
        .unwrap();
    assert_eq!(rotated.token_issued_at, later);
    assert!(
        db.store
            .find_controller(b"first-hash")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        db.store
            .find_controller(b"second-hash")
            .await
            .unwrap()
            .is_some()
    );

    // Another organization neither sees it nor rotates it.
    let globex = org("globex");
    db.store.create_org(&globex, None, &audit()).await.unwrap();
    assert!(matches!(
        db.store.get_controller(globex.id, cabinet.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        db.store
            .rotate_controller_token(globex.id, cabinet.id, b"third-hash", later, &audit())
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(
        db.store
            .list_controllers(globex.id, None, first(10))
            .await
            .unwrap()
            .items
            .is_empty()
    );

    // The log says when the token changed, never what it is.
    let events = db
        .store
        .list_events(acme.id, &EventFilter::default(), first(10))
        .await
        .unwrap();
    let kinds: Vec<&str> = events.items.iter().map(|e| e.kind.as_str()).collect();
    assert!(kinds.contains(&"controller.created"), "{kinds:?}");
    assert!(kinds.contains(&"controller.token_rotated"), "{kinds:?}");
    let text = serde_json::to_string(&events.items).unwrap();
    assert!(!text.contains("hash"), "{text}");
}

async fn a_door_is_wired_only_to_a_controller_of_its_own_site(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let acme = org("acme");
    db.store.create_org(&acme, None, &audit()).await.unwrap();
    let (hq, depot) = (site("HQ"), site("Depot"));
    for s in [&hq, &depot] {
        db.store.create_site(acme.id, s, &audit()).await.unwrap();
    }
    let at_hq = controller(hq.id, "HQ cabinet");
    db.store
        .create_controller(acme.id, &at_hq, b"hq", &audit())
        .await
        .unwrap();

    let mut front = door(hq.id, "Front");
    front.controller_id = Some(at_hq.id);
    db.store
        .create_door(acme.id, &front, &audit())
        .await
        .unwrap();
    let mut gate = door(depot.id, "Gate");
    gate.kind = DoorKind::Gate;
    gate.controller_id = Some(at_hq.id);
    let refused = db.store.create_door(acme.id, &gate, &audit()).await;
    assert!(
        matches!(&refused, Err(StoreError::Invalid(e)) if e.code == "controller_of_another_site"),
        "{refused:?}"
    );
    gate.controller_id = Some(ControllerId::new(now()));
    let refused = db.store.create_door(acme.id, &gate, &audit()).await;
    assert!(
        matches!(
            refused,
            Err(StoreError::MissingReference {
                field: "controller_id"
            })
        ),
        "{refused:?}"
    );
    gate.controller_id = None;
    db.store
        .create_door(acme.id, &gate, &audit())
        .await
        .unwrap();

    // Moving a wired door to another site keeps it wired to a controller it cannot have.
    let moved = db
        .store
        .update_door(
            acme.id,
            front.id,
            &|d| {
                d.site_id = depot.id;
                Ok(())
            },
            &audit(),
        )
        .await;
    assert!(matches!(moved, Err(StoreError::Invalid(_))), "{moved:?}");

    let wired = DoorFilter {
        controller_id: Some(at_hq.id),
        ..DoorFilter::default()
    };
    let doors = db
        .store
        .list_doors(acme.id, wired, first(10))
        .await
        .unwrap();
    let names: Vec<&str> = doors.items.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["Front"]);

    // A controller of another organization is no reference at all.
    let globex = org("globex");
    db.store.create_org(&globex, None, &audit()).await.unwrap();
    let plant = site("Plant");
    db.store
        .create_site(globex.id, &plant, &audit())
        .await
        .unwrap();
    let theirs = controller(plant.id, "Theirs");
    db.store
        .create_controller(globex.id, &theirs, b"theirs", &audit())
        .await
        .unwrap();
    let stolen = db
        .store
        .update_door(
            acme.id,
            gate.id,
            &|d| {
                d.controller_id = Some(theirs.id);
                Ok(())
            },
            &audit(),
        )
        .await;
    assert!(
        matches!(
            stolen,
            Err(StoreError::MissingReference {
                field: "controller_id"
            })
        ),
        "{stolen:?}"
    );
}

async fn a_controller_with_doors_or_a_site_with_controllers_is_not_deleted(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let acme = org("acme");
    db.store.create_org(&acme, None, &audit()).await.unwrap();
    let hq = site("HQ");
    db.store.create_site(acme.id, &hq, &audit()).await.unwrap();
    let cabinet = controller(hq.id, "Cabinet");
    db.store
        .create_controller(acme.id, &cabinet, b"cabinet", &audit())
        .await
        .unwrap();
    let mut front = door(hq.id, "Front");
    front.controller_id = Some(cabinet.id);
    db.store
        .create_door(acme.id, &front, &audit())
        .await
        .unwrap();

    let refused = db
        .store
        .delete_controller(acme.id, cabinet.id, &audit())
        .await;
    assert!(
        matches!(
            refused,
            Err(StoreError::Conflict {
                code: "controller_has_doors",
                ..
            })
        ),
        "{refused:?}"
    );
    db.store
        .delete_door(acme.id, front.id, &audit())
        .await
        .unwrap();
    let refused = db.store.delete_site(acme.id, hq.id, &audit()).await;
    assert!(
        matches!(
            refused,
            Err(StoreError::Conflict {
                code: "site_has_controllers",
                ..
            })
        ),
        "{refused:?}"
    );
    db.store
        .delete_controller(acme.id, cabinet.id, &audit())
        .await
        .unwrap();
    assert!(
        db.store
            .find_controller(b"cabinet")
            .await
            .unwrap()
            .is_none()
    );
    db.store
        .delete_site(acme.id, hq.id, &audit())
        .await
        .unwrap();
}

/// Says that `controller` holds the organization's rules as of now.
async fn holds_current_rules(db: &TestDb, org: OrgId, controller: ControllerId) {
    let version = db.store.rules_version(org).await.unwrap();
    let live = ControllerLive {
        rules_version: Some(version),
        rules_in_sync: true,
        ..ControllerLive::default()
    };
    db.store
        .set_controller_live(org, controller, &live)
        .await
        .unwrap();
}

async fn an_access_on_controller_doors_waits_for_their_controllers(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let acme = org("acme");
    db.store.create_org(&acme, None, &audit()).await.unwrap();
    let hq = site("HQ");
    db.store.create_site(acme.id, &hq, &audit()).await.unwrap();
    let (lobby, yard) = (controller(hq.id, "Lobby"), controller(hq.id, "Yard"));
    db.store
        .create_controller(acme.id, &lobby, b"lobby", &audit())
        .await
        .unwrap();
    db.store
        .create_controller(acme.id, &yard, b"yard", &audit())
        .await
        .unwrap();
    let mut front = door(hq.id, "Front");
    front.controller_id = Some(lobby.id);
    let mut gate = door(hq.id, "Gate");
    gate.kind = DoorKind::Gate;
    gate.controller_id = Some(yard.id);
    let side = door(hq.id, "Side");
    for d in [&front, &gate, &side] {
        db.store.create_door(acme.id, d, &audit()).await.unwrap();
    }
    let status = |a: &lintel_domain::Access| (a.status, a.waiting_for.clone());

    // No controller involved: ready at once, as before.
    let plain = crate::accesses::access("Side", &side);
    let made = db
        .store
        .create_accesses(acme.id, &[plain], false, &[], &audit())
        .await
        .unwrap();
    assert_eq!(status(&made[0]), (AccessStatus::Ready, vec![]));

    // On both controllers' doors: creating until both hold it.
    let mut staff = crate::accesses::access("Staff", &front);
    staff.doors.push(lintel_domain::AccessDoor {
        door_id: gate.id,
        ..staff.doors[0].clone()
    });
    let made = db
        .store
        .create_accesses(acme.id, std::slice::from_ref(&staff), false, &[], &audit())
        .await
        .unwrap();
    let mut both = vec![lobby.id, yard.id];
    both.sort();
    assert_eq!(status(&made[0]), (AccessStatus::Creating, both));
    let version = db.store.rules_version(acme.id).await.unwrap();
    holds_current_rules(&db, acme.id, lobby.id).await;
    assert_eq!(
        db.store.settle_accesses(acme.id, &audit()).await.unwrap(),
        0
    );
    let got = db.store.get_access(acme.id, staff.id).await.unwrap();
    assert_eq!(status(&got), (AccessStatus::Creating, vec![yard.id]));
    // An older version is not enough.
    let older = ControllerLive {
        rules_version: Some(version - 1),
        ..ControllerLive::default()
    };
    db.store
        .set_controller_live(acme.id, yard.id, &older)
        .await
        .unwrap();
    assert_eq!(
        db.store.settle_accesses(acme.id, &audit()).await.unwrap(),
        0
    );
    holds_current_rules(&db, acme.id, yard.id).await;
    assert_eq!(
        db.store.settle_accesses(acme.id, &audit()).await.unwrap(),
        1
    );
    let got = db.store.get_access(acme.id, staff.id).await.unwrap();
    assert_eq!(status(&got), (AccessStatus::Ready, vec![]));
    assert_eq!(
        db.store.settle_accesses(acme.id, &audit()).await.unwrap(),
        0,
        "settled once"
    );

    // Changed: updating; deleted: deleting, which grants nothing and cannot be changed.
    let rename = |a: &mut lintel_domain::Access| {
        a.name = "Staff and visitors".into();
        Ok(())
    };
    let updated = db
        .store
        .update_accesses(acme.id, &[(staff.id, &rename)], false, &[], &audit())
        .await
        .unwrap();
    assert_eq!(updated[0].status, AccessStatus::Updating);
    let deleted = db
        .store
        .delete_accesses(acme.id, &[staff.id], &audit())
        .await
        .unwrap();
    assert_eq!(deleted[0].status, AccessStatus::Deleting);
    assert!(deleted[0].rule().is_none());
    let refused = db
        .store
        .update_accesses(acme.id, &[(staff.id, &rename)], false, &[], &audit())
        .await;
    assert!(
        matches!(&refused, Err(StoreError::Conflict { code, .. }) if *code == "access_deleted"),
        "{refused:?}"
    );
    for c in [lobby.id, yard.id] {
        holds_current_rules(&db, acme.id, c).await;
    }
    assert_eq!(
        db.store.settle_accesses(acme.id, &audit()).await.unwrap(),
        1
    );
    let got = db.store.get_access(acme.id, staff.id).await.unwrap();
    assert_eq!(status(&got), (AccessStatus::Deleted, vec![]));

    // A door unwired from the controller an access waits for: it waits for nobody.
    let night = crate::accesses::access("Night", &front);
    db.store
        .create_accesses(acme.id, std::slice::from_ref(&night), false, &[], &audit())
        .await
        .unwrap();
    db.store
        .update_door(
            acme.id,
            front.id,
            &|d| {
                d.controller_id = None;
                Ok(())
            },
            &audit(),
        )
        .await
        .unwrap();
    let got = db.store.get_access(acme.id, night.id).await.unwrap();
    assert_eq!(status(&got), (AccessStatus::Ready, vec![]));

    let events = db
        .store
        .list_events(acme.id, &EventFilter::default(), first(100))
        .await
        .unwrap();
    let applied: Vec<&serde_json::Value> = events
        .items
        .iter()
        .filter(|e| e.kind == "access.applied")
        .map(|e| &e.summary["changes"]["status"])
        .collect();
    assert_eq!(
        applied,
        [
            &serde_json::json!({ "before": "creating", "after": "ready" }),
            &serde_json::json!({ "before": "deleting", "after": "deleted" }),
            &serde_json::json!({ "before": "creating", "after": "ready" }),
        ],
        "{:?}",
        events.items
    );
}

/// The next signal other than `Missed` (which a PostgreSQL listener says when it starts).
async fn next_signal(signals: &mut lintel_store::Receiver) -> Signal {
    let wait = async {
        loop {
            let signal = signals.next().await;
            if signal != Signal::Missed {
                return signal;
            }
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(10), wait)
        .await
        .expect("a signal")
}

async fn a_rules_change_or_an_event_is_signalled_once_it_can_be_read(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let acme = org("acme");
    db.store.create_org(&acme, None, &audit()).await.unwrap();
    let hq = site("HQ");
    db.store.create_site(acme.id, &hq, &audit()).await.unwrap();
    let mut signals = db.store.signals();
    // A command and its answer travel to every node, this one included. Sent until heard:
    // a PostgreSQL listener starts with its first receiver, and what is sent before it
    // listens is lost (it then says `Missed`, which is what a receiver looks again on).
    let open = Signal::Open {
        request: uuid::Uuid::now_v7(),
        controller: ControllerId::new(now()),
        door: lintel_domain::DoorId::new(now()),
    };
    let heard = async {
        loop {
            db.store.signal(open).await.unwrap();
            let wait = tokio::time::timeout(std::time::Duration::from_millis(200), async {
                while signals.next().await != open {}
            });
            if wait.await.is_ok() {
                return;
            }
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(10), heard)
        .await
        .expect("a signal sent is heard");

    // Listening, a committed rules change is heard, and whoever hears it reads the change;
    // so is the event that records it, readable too.
    let before = db.store.rules_version(acme.id).await.unwrap();
    let front = door(hq.id, "Front");
    db.store
        .create_door(acme.id, &front, &audit())
        .await
        .unwrap();
    let (mut rules, mut events) = (false, false);
    while !(rules && events) {
        match next_signal(&mut signals).await {
            Signal::Rules(org) if org == acme.id => rules = true,
            Signal::Events(org) if org == acme.id => events = true,
            // Probes sent twice come back twice.
            s if s == open => {}
            other => panic!("{other:?}"),
        }
    }
    assert!(db.store.rules_version(acme.id).await.unwrap() > before);
    let page = lintel_store::PageRequest {
        limit: 10,
        after: None,
    };
    let logged = db
        .store
        .list_events(acme.id, &lintel_store::EventFilter::default(), page)
        .await
        .unwrap();
    assert!(
        logged.items.iter().any(|e| e.object_id == Some(front.id.0)),
        "{:?}",
        logged.items
    );

    // Events a controller hands over are signalled alike.
    let cabinet = controller(hq.id, "Cabinet");
    db.store
        .create_controller(acme.id, &cabinet, b"hash", &audit())
        .await
        .unwrap();
    while next_signal(&mut signals).await != Signal::Events(acme.id) {}
    let decided = lintel_domain::Event {
        id: lintel_domain::EventId::new(now()),
        kind: "decision.granted".into(),
        ..logged.items[0].clone()
    };
    db.store
        .store_controller_events(acme.id, std::slice::from_ref(&decided), &[])
        .await
        .unwrap();
    while next_signal(&mut signals).await != Signal::Events(acme.id) {}
}

async fn a_controller_goes_stale_its_site_s_days_after_its_rules_were_confirmed(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let acme = org("acme");
    db.store.create_org(&acme, None, &audit()).await.unwrap();
    let mut hq = site("HQ");
    hq.offline_rules_max_days = 7;
    db.store.create_site(acme.id, &hq, &audit()).await.unwrap();
    let cabinet = controller(hq.id, "Cabinet");
    db.store
        .create_controller(acme.id, &cabinet, b"hash", &audit())
        .await
        .unwrap();
    let read = db.store.get_controller(acme.id, cabinet.id).await.unwrap();
    assert_eq!(
        (read.live.rules_confirmed_at, read.live.rules_stale_at),
        (None, None)
    );

    let live = ControllerLive {
        rules_in_sync: true,
        rules_confirmed_at: Some(now()),
        ..ControllerLive::default()
    };
    db.store
        .set_controller_live(acme.id, cabinet.id, &live)
        .await
        .unwrap();
    let read = db.store.get_controller(acme.id, cabinet.id).await.unwrap();
    assert_eq!(read.live.rules_confirmed_at, Some(now()));
    assert_eq!(
        read.live.rules_stale_at,
        Some(now() + chrono::Duration::days(7))
    );
    let listed = db
        .store
        .list_controllers(
            acme.id,
            None,
            lintel_store::PageRequest {
                limit: 10,
                after: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(listed.items, vec![read]);
}

/// Acme with site HQ and its controller Cabinet, whose token hashes to `token_hash`.
async fn acme_with_cabinet(db: &TestDb, token_hash: &[u8]) -> (Organization, Controller) {
    let acme = org("acme");
    db.store.create_org(&acme, None, &audit()).await.unwrap();
    let hq = site("HQ");
    db.store.create_site(acme.id, &hq, &audit()).await.unwrap();
    let cabinet = controller(hq.id, "Cabinet");
    db.store
        .create_controller(acme.id, &cabinet, token_hash, &audit())
        .await
        .unwrap();
    (acme, cabinet)
}

/// The door states kept for `org`, as (door, state, cause).
async fn kept(store: &dyn lintel_store::Store, org: OrgId) -> Vec<(DoorId, String, String)> {
    let states = store.list_door_states(org).await.unwrap();
    states
        .into_iter()
        .map(|s| (s.door_id, s.state, s.cause))
        .collect()
}

async fn a_door_keeps_the_newest_state_its_controller_reported(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let (acme, other) = (org("acme"), org("other"));
    db.store.create_org(&acme, None, &audit()).await.unwrap();
    db.store.create_org(&other, None, &audit()).await.unwrap();
    let hq = site("HQ");
    db.store.create_site(acme.id, &hq, &audit()).await.unwrap();
    let (front, back) = (door(hq.id, "Front"), door(hq.id, "Back"));
    for d in [&front, &back] {
        db.store.create_door(acme.id, d, &audit()).await.unwrap();
    }
    let t = now();
    let state = |door: &Door, state: &str, cause: &str, secs: i64| DoorState {
        door_id: door.id,
        state: state.into(),
        cause: cause.into(),
        at: t + chrono::Duration::seconds(secs),
    };
    db.store
        .store_controller_events(
            acme.id,
            &[],
            &[
                state(&front, "unlocked", "granted", 1),
                state(&front, "open", "opened", 2),
            ],
        )
        .await
        .unwrap();
    assert_eq!(
        kept(&*db.store, acme.id).await,
        [(front.id, "open".to_owned(), "opened".to_owned())]
    );
    // Older (seen offline, handed over late): the newer stays. Newer: it replaces it. A door
    // since deleted is skipped, and the rest is stored.
    let gone = door(hq.id, "Gone");
    db.store
        .create_door(acme.id, &gone, &audit())
        .await
        .unwrap();
    db.store
        .delete_door(acme.id, gone.id, &audit())
        .await
        .unwrap();
    db.store
        .store_controller_events(
            acme.id,
            &[],
            &[
                state(&front, "forced_open", "opened", 0),
                state(&back, "held_open", "held_too_long", 5),
                state(&gone, "locked", "closed", 5),
            ],
        )
        .await
        .unwrap();
    let mut expected = vec![
        (front.id, "open".to_owned(), "opened".to_owned()),
        (back.id, "held_open".to_owned(), "held_too_long".to_owned()),
    ];
    expected.sort();
    assert_eq!(kept(&*db.store, acme.id).await, expected);
    db.store
        .store_controller_events(acme.id, &[], &[state(&front, "locked", "closed", 3)])
        .await
        .unwrap();
    assert_eq!(kept(&*db.store, acme.id).await[..].len(), 2);
    assert!(kept(&*db.store, acme.id).await.contains(&(
        front.id,
        "locked".to_owned(),
        "closed".to_owned()
    )));
    // Another organization sees none of them, and cannot write to them.
    assert!(kept(&*db.store, other.id).await.is_empty());
    db.store
        .store_controller_events(other.id, &[], &[state(&front, "unlocked", "granted", 9)])
        .await
        .unwrap();
    assert!(kept(&*db.store, other.id).await.is_empty());
    assert!(kept(&*db.store, acme.id).await.contains(&(
        front.id,
        "locked".to_owned(),
        "closed".to_owned()
    )));
}

async fn a_pairing_code_is_spent_once_even_by_two_at_the_same_time(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let (acme, cabinet) = acme_with_cabinet(&db, b"old token").await;
    let other = org("other");
    db.store.create_org(&other, None, &audit()).await.unwrap();
    let later = now() + chrono::Duration::minutes(10);
    // Not another organization's controller.
    let refused = db
        .store
        .create_pairing_code(other.id, cabinet.id, b"code", later, &audit())
        .await;
    assert!(matches!(refused, Err(StoreError::NotFound)), "{refused:?}");

    // A new code replaces the last.
    for code in [b"first".as_slice(), b"second"] {
        db.store
            .create_pairing_code(acme.id, cabinet.id, code, later, &audit())
            .await
            .unwrap();
    }
    let spent = db
        .store
        .pair_controller(b"first", b"t1", now())
        .await
        .unwrap();
    assert!(spent.is_none());
    // Ten at once with the same code: one pairs.
    let tries = (0..10).map(|i| {
        let store = db.store.clone();
        async move {
            let token = format!("token {i}");
            let paired = store
                .pair_controller(b"second", token.as_bytes(), now())
                .await;
            paired.unwrap().map(|_| token)
        }
    });
    let won: Vec<String> = crate::futures_join(tries)
        .await
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(won.len(), 1, "{won:?}");
    let (org, found) = db
        .store
        .find_controller(won[0].as_bytes())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((org, found.id), (acme.id, cabinet.id));
    assert!(
        db.store
            .find_controller(b"old token")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        db.store
            .pair_controller(b"second", b"t2", now())
            .await
            .unwrap()
            .is_none()
    );

    // An expired code pairs nothing, and is gone.
    db.store
        .create_pairing_code(acme.id, cabinet.id, b"third", now(), &audit())
        .await
        .unwrap();
    let late = now() + chrono::Duration::seconds(1);
    assert!(
        db.store
            .pair_controller(b"third", b"t3", late)
            .await
            .unwrap()
            .is_none()
    );
    assert!(db.store.find_controller(b"t3").await.unwrap().is_none());
}

async fn a_stream_that_ends_does_not_say_offline_over_a_newer_one(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let (acme, cabinet) = acme_with_cabinet(&db, b"hash").await;
    let at = |secs: i64| Some(now() + chrono::Duration::seconds(secs));
    let live = |online: bool, seen: i64| ControllerLive {
        online,
        last_seen_at: at(seen),
        ..ControllerLive::default()
    };
    // The old stream was last heard at 5 s; the new one began at 6 s; the old one's end is
    // written last.
    db.store
        .set_controller_live(acme.id, cabinet.id, &live(true, 5))
        .await
        .unwrap();
    db.store
        .set_controller_live(acme.id, cabinet.id, &live(true, 6))
        .await
        .unwrap();
    db.store
        .set_controller_live(acme.id, cabinet.id, &live(false, 5))
        .await
        .unwrap();
    let read = db.store.get_controller(acme.id, cabinet.id).await.unwrap();
    assert!(read.live.online);
    // The newer one's own end is written.
    db.store
        .set_controller_live(acme.id, cabinet.id, &live(false, 7))
        .await
        .unwrap();
    let read = db.store.get_controller(acme.id, cabinet.id).await.unwrap();
    assert!(!read.live.online);
    let missing = db
        .store
        .set_controller_live(acme.id, ControllerId::new(now()), &live(false, 8))
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
}
