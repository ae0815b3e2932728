//! Accesses on both backends: a batch update rewrites each access with its own values in one
//! statement, a batch naming a deleted access changes nothing, and an access's id is its
//! organization's own.

use chrono::Duration;
use lintel_domain::decision::AuthType;
use lintel_domain::{Access, AccessDoor, AccessId, AccessKind, AccessStatus, Door};
use lintel_store::StoreError;
use lintel_testkit::{Backend, on_both_backends};

use crate::{acme_with_front, audit, db, door, group, now, org, site};

on_both_backends!(
    a_batch_update_gives_each_access_its_own_values,
    a_batch_with_a_deleted_access_changes_nothing,
    two_organizations_may_choose_the_same_access_id,
);

pub(crate) fn access(name: &str, door: &Door) -> Access {
    Access {
        id: AccessId::new(now()),
        name: name.into(),
        kind: AccessKind::Permanent,
        status: AccessStatus::Ready,
        preferences: Default::default(),
        valid_from: None,
        valid_to: None,
        schedule_id: None,
        doors: vec![AccessDoor {
            door_id: door.id,
            lock_unlock_enabled: false,
            in_auth_types: vec![AuthType::Mobile],
            out_auth_types: Vec::new(),
        }],
        users: Vec::new(),
        groups: Vec::new(),
        description: String::new(),
        welcome_email_required: false,
        waiting_for: Vec::new(),
        created_at: now(),
        updated_at: now(),
    }
}

async fn a_batch_update_gives_each_access_its_own_values(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let (acme, _, front) = acme_with_front(&db).await;
    let staff = group("Staff");
    db.store
        .create_group(acme.id, &staff, &audit())
        .await
        .unwrap();
    let mut first = access("First", &front);
    first.valid_from = Some(now());
    first.description = "kept".into();
    let second = access("Second", &front);
    let untouched = access("Untouched", &front);
    let made = [first.clone(), second.clone(), untouched.clone()];
    db.store
        .create_accesses(acme.id, &made, true, &[], &audit())
        .await
        .unwrap();

    let later = now() + Duration::hours(1);
    let until = now() + Duration::days(30);
    let rename = move |a: &mut Access| {
        a.name = "First renamed".into();
        a.valid_from = None;
        a.groups = vec![staff.id];
        a.updated_at = later;
        Ok(())
    };
    let temporary = move |a: &mut Access| {
        a.kind = AccessKind::Temporary;
        a.valid_to = Some(until);
        a.preferences.insert("source".into(), "batch".into());
        a.welcome_email_required = true;
        a.updated_at = later;
        Ok(())
    };
    let updated = db
        .store
        .update_accesses(
            acme.id,
            &[(first.id, &rename), (second.id, &temporary)],
            true,
            &[],
            &audit(),
        )
        .await
        .unwrap();

    let read = db
        .store
        .find_accesses(acme.id, &[first.id, second.id, untouched.id])
        .await
        .unwrap();
    let by_id = |id: AccessId| read.iter().find(|a| a.id == id).unwrap().clone();
    let (one, two) = (by_id(first.id), by_id(second.id));
    assert_eq!(updated, [one.clone(), two.clone()]);
    assert_eq!(
        (one.name.as_str(), one.valid_from, one.description.as_str()),
        ("First renamed", None, "kept")
    );
    assert_eq!(
        (one.groups.as_slice(), one.kind),
        (&[staff.id][..], AccessKind::Permanent)
    );
    assert_eq!(one.updated_at, later);
    assert_eq!(
        (two.name.as_str(), two.kind),
        ("Second", AccessKind::Temporary)
    );
    assert_eq!(two.valid_to, Some(until));
    assert_eq!(two.preferences["source"], "batch");
    assert!(two.welcome_email_required && two.groups.is_empty());
    assert_eq!(by_id(untouched.id), untouched);
}

async fn a_batch_with_a_deleted_access_changes_nothing(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let (acme, _, front) = acme_with_front(&db).await;
    let (kept, gone) = (access("Kept", &front), access("Gone", &front));
    db.store
        .create_accesses(acme.id, &[kept.clone(), gone.clone()], true, &[], &audit())
        .await
        .unwrap();
    db.store
        .delete_accesses(acme.id, &[gone.id], &audit())
        .await
        .unwrap();
    let rename = |a: &mut Access| {
        a.name = "Renamed".into();
        Ok(())
    };
    let err = db
        .store
        .update_accesses(
            acme.id,
            &[(kept.id, &rename), (gone.id, &rename)],
            true,
            &[],
            &audit(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict { code: "access_deleted", message, .. }
            if message.starts_with("accesses[1].")),
        "{err:?}"
    );
    assert_eq!(db.store.get_access(acme.id, kept.id).await.unwrap(), kept);
}

async fn two_organizations_may_choose_the_same_access_id(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let (acme, _, front) = acme_with_front(&db).await;
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
    let ours = access("Ours", &front);
    db.store
        .create_accesses(acme.id, std::slice::from_ref(&ours), false, &[], &audit())
        .await
        .unwrap();

    // Another organization's id is free to take, and taking it touches nothing of ours.
    let mut theirs = access("Theirs", &gate);
    theirs.id = ours.id;
    let made = db
        .store
        .create_accesses(
            globex.id,
            std::slice::from_ref(&theirs),
            false,
            &[],
            &audit(),
        )
        .await
        .unwrap();
    assert_eq!(made, [theirs.clone()]);
    assert_eq!(db.store.get_access(acme.id, ours.id).await.unwrap(), ours);
    assert_eq!(
        db.store.get_access(globex.id, ours.id).await.unwrap(),
        theirs
    );

    // Each organization's changes and lists stay its own.
    let rename = |a: &mut Access| {
        a.name = "Renamed".into();
        Ok(())
    };
    db.store
        .update_accesses(globex.id, &[(ours.id, &rename)], false, &[], &audit())
        .await
        .unwrap();
    db.store
        .delete_accesses(globex.id, &[ours.id], &audit())
        .await
        .unwrap();
    assert_eq!(db.store.get_access(acme.id, ours.id).await.unwrap(), ours);
    let rules = db.store.load_rules(acme.id).await.unwrap();
    assert_eq!(rules.accesses, [ours]);
    assert!(
        db.store
            .load_rules(globex.id)
            .await
            .unwrap()
            .accesses
            .is_empty()
    );
}
