use lintel_domain::{Controller, ControllerId, DoorKind};
use lintel_store::{DoorFilter, EventFilter, StoreError};
use lintel_testkit::{Backend, on_both_backends};

use crate::{audit, db, door, first, now, org, site};

on_both_backends!(
    a_controller_is_found_by_its_current_token_only,
    a_door_is_wired_only_to_a_controller_of_its_own_site,
    a_controller_with_doors_or_a_site_with_controllers_is_not_deleted,
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
