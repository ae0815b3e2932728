use lintel_domain::{DoorKind, Geofence, SiteId};
use lintel_store::{DoorFilter, PageRequest, StoreError};
use lintel_testkit::{Backend, on_both_backends};

use crate::{acme_with_front, audit, db, door, first, group, now, org, site};

on_both_backends!(
    a_site_with_a_geofence_reads_back_as_written,
    another_organizations_sites_are_not_found,
    a_site_with_doors_cannot_be_deleted,
    a_door_must_be_at_a_site_of_its_own_organization,
    doors_filter_by_site_and_move_between_sites,
    group_names_are_unique_within_an_organization,
    many_doors_and_members_are_read_at_once_and_only_the_organizations,
);

async fn a_site_with_a_geofence_reads_back_as_written(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let acme = org("acme");
    db.store.create_org(&acme, None, &audit()).await.unwrap();
    let mut hq = site("HQ");
    hq.geofence = Some(Geofence {
        latitude: 59.3293,
        longitude: 18.0686,
        radius_m: 150.5,
    });
    db.store.create_site(acme.id, &hq, &audit()).await.unwrap();
    assert_eq!(db.store.get_site(acme.id, hq.id).await.unwrap(), hq);

    let cleared = db
        .store
        .update_site(
            acme.id,
            hq.id,
            &|s| {
                s.geofence = None;
                Ok(())
            },
            &audit(),
        )
        .await
        .unwrap();
    assert_eq!(cleared.geofence, None);
    assert_eq!(db.store.get_site(acme.id, hq.id).await.unwrap(), cleared);
}

async fn another_organizations_sites_are_not_found(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let (a, b) = (org("org-a"), org("org-b"));
    db.store.create_org(&a, None, &audit()).await.unwrap();
    db.store.create_org(&b, None, &audit()).await.unwrap();
    let hq = site("A's HQ");
    db.store.create_site(a.id, &hq, &audit()).await.unwrap();

    assert!(matches!(
        db.store.get_site(b.id, hq.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        db.store
            .update_site(
                b.id,
                hq.id,
                &|s| {
                    s.name = "taken over".into();
                    Ok(())
                },
                &audit()
            )
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        db.store.delete_site(b.id, hq.id, &audit()).await,
        Err(StoreError::NotFound)
    ));
    assert!(
        db.store
            .list_sites(b.id, first(10))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert_eq!(db.store.get_site(a.id, hq.id).await.unwrap(), hq);
}

async fn a_site_with_doors_cannot_be_deleted(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let (acme, hq, front) = acme_with_front(&db).await;

    let err = db
        .store
        .delete_site(acme.id, hq.id, &audit())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict { code: "site_has_doors", message, .. } if message.contains("1 door")),
        "{err}"
    );
    db.store
        .delete_door(acme.id, front.id, &audit())
        .await
        .unwrap();
    db.store
        .delete_site(acme.id, hq.id, &audit())
        .await
        .unwrap();
    assert!(matches!(
        db.store.get_site(acme.id, hq.id).await,
        Err(StoreError::NotFound)
    ));
}

async fn a_door_must_be_at_a_site_of_its_own_organization(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let (a, b) = (org("org-a"), org("org-b"));
    db.store.create_org(&a, None, &audit()).await.unwrap();
    db.store.create_org(&b, None, &audit()).await.unwrap();
    let a_site = site("A's HQ");
    db.store.create_site(a.id, &a_site, &audit()).await.unwrap();

    let smuggled = door(a_site.id, "B's door at A's site");
    let err = db
        .store
        .create_door(b.id, &smuggled, &audit())
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        StoreError::MissingReference { field: "site_id" }
    ));
    let nowhere = door(SiteId::new(now()), "Nowhere");
    assert!(matches!(
        db.store.create_door(a.id, &nowhere, &audit()).await,
        Err(StoreError::MissingReference { field: "site_id" })
    ));
    let listed = db
        .store
        .list_doors(b.id, DoorFilter::default(), first(10))
        .await
        .unwrap();
    assert!(listed.items.is_empty());
}

async fn doors_filter_by_site_and_move_between_sites(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let acme = org("acme");
    db.store.create_org(&acme, None, &audit()).await.unwrap();
    let (hq, depot) = (site("HQ"), site("Depot"));
    db.store.create_site(acme.id, &hq, &audit()).await.unwrap();
    db.store
        .create_site(acme.id, &depot, &audit())
        .await
        .unwrap();
    let mut gate = door(depot.id, "Gate");
    gate.kind = DoorKind::Gate;
    gate.preferences.insert("relay".into(), "2".into());
    db.store
        .create_door(acme.id, &gate, &audit())
        .await
        .unwrap();
    for name in ["Front", "Back", "Roof"] {
        db.store
            .create_door(acme.id, &door(hq.id, name), &audit())
            .await
            .unwrap();
    }

    let at_hq = DoorFilter {
        controller_id: None,
        site_id: Some(hq.id),
    };
    let page = db.store.list_doors(acme.id, at_hq, first(2)).await.unwrap();
    assert_eq!(page.items.len(), 2);
    let rest = db
        .store
        .list_doors(
            acme.id,
            at_hq,
            PageRequest {
                limit: 2,
                after: page.next_after,
            },
        )
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 1);
    assert_eq!(rest.next_after, None);
    assert!(
        page.items
            .iter()
            .chain(&rest.items)
            .all(|d| d.site_id == hq.id)
    );

    let moved = db
        .store
        .update_door(
            acme.id,
            gate.id,
            &|d| {
                d.site_id = hq.id;
                Ok(())
            },
            &audit(),
        )
        .await
        .unwrap();
    assert_eq!(moved.site_id, hq.id);
    assert_eq!(
        moved.preferences.get("relay").map(String::as_str),
        Some("2")
    );
    assert_eq!(db.store.get_door(acme.id, gate.id).await.unwrap(), moved);

    let lost = db
        .store
        .update_door(
            acme.id,
            gate.id,
            &|d| {
                d.site_id = SiteId::new(now());
                Ok(())
            },
            &audit(),
        )
        .await;
    assert!(matches!(
        lost,
        Err(StoreError::MissingReference { field: "site_id" })
    ));
    assert_eq!(
        db.store.get_door(acme.id, gate.id).await.unwrap().site_id,
        hq.id
    );
}

async fn group_names_are_unique_within_an_organization(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let (a, b) = (org("org-a"), org("org-b"));
    db.store.create_org(&a, None, &audit()).await.unwrap();
    db.store.create_org(&b, None, &audit()).await.unwrap();
    let staff = group("Staff");
    db.store.create_group(a.id, &staff, &audit()).await.unwrap();
    db.store
        .create_group(b.id, &group("Staff"), &audit())
        .await
        .unwrap();
    let err = db
        .store
        .create_group(a.id, &group("Staff"), &audit())
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        StoreError::Conflict {
            code: "group_name_taken",
            ..
        }
    ));

    let guests = group("Guests");
    db.store
        .create_group(a.id, &guests, &audit())
        .await
        .unwrap();
    let rename = db
        .store
        .update_group(
            a.id,
            guests.id,
            &|g| {
                g.name = "Staff".into();
                Ok(())
            },
            &audit(),
        )
        .await;
    assert!(matches!(
        rename,
        Err(StoreError::Conflict {
            code: "group_name_taken",
            ..
        })
    ));
    assert_eq!(
        db.store.get_group(a.id, guests.id).await.unwrap().name,
        "Guests"
    );

    db.store
        .delete_group(a.id, staff.id, &audit())
        .await
        .unwrap();
    assert!(matches!(
        db.store.delete_group(a.id, staff.id, &audit()).await,
        Err(StoreError::NotFound)
    ));
}

async fn many_doors_and_members_are_read_at_once_and_only_the_organizations(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let (acme, hq, front) = acme_with_front(&db).await;
    let back = door(hq.id, "Back");
    db.store
        .create_door(acme.id, &back, &audit())
        .await
        .unwrap();
    let (globex, _, gate) = {
        let globex = org("globex");
        db.store.create_org(&globex, None, &audit()).await.unwrap();
        let plant = site("Plant");
        db.store
            .create_site(globex.id, &plant, &audit())
            .await
            .unwrap();
        let gate = door(plant.id, "Gate");
        db.store
            .create_door(globex.id, &gate, &audit())
            .await
            .unwrap();
        (globex, plant, gate)
    };
    let missing = lintel_domain::DoorId::new(now());
    let found = db
        .store
        .find_doors(acme.id, &[back.id, gate.id, missing, front.id])
        .await
        .unwrap();
    let mut expected = vec![front.clone(), back.clone()];
    expected.sort_by_key(|d| d.id);
    assert_eq!(
        found, expected,
        "acme's, in id order; globex's gate is not acme's"
    );
    assert!(db.store.find_doors(acme.id, &[]).await.unwrap().is_empty());

    let ada = crate::credentials::member(&*db.store, acme.id).await;
    let grace = crate::credentials::member(&*db.store, acme.id).await;
    let theirs = crate::credentials::member(&*db.store, globex.id).await;
    let members = db
        .store
        .find_members(acme.id, &[grace, theirs, ada])
        .await
        .unwrap();
    let ids: Vec<_> = members.iter().map(|m| m.membership.id).collect();
    let mut expected = vec![ada, grace];
    expected.sort();
    assert_eq!(ids, expected);
    assert_eq!(
        members[0],
        db.store
            .get_member(acme.id, members[0].membership.id)
            .await
            .unwrap()
    );
}
