use lintel_domain::{OrgId, ValidationError};
use lintel_store::{PageRequest, StoreError};
use lintel_testkit::{Backend, on_both_backends};

use crate::{audit, db, first, now, org};

on_both_backends!(
    an_organization_reads_back_as_written,
    a_taken_slug_is_a_conflict,
    organizations_page_through_in_creation_order,
    an_update_changes_the_row_and_a_refused_one_changes_nothing,
    deleting_an_organization_deletes_what_it_owns,
    concurrent_updates_are_all_kept,
);

async fn an_organization_reads_back_as_written(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let mut acme = org("acme");
    acme.settings.guest_links_by_members = true;
    db.store.create_org(&acme, None, &audit()).await.unwrap();
    assert_eq!(db.store.get_org(acme.id).await.unwrap(), acme);
    assert_eq!(db.store.get_org_by_slug("acme").await.unwrap(), acme);
    assert!(matches!(
        db.store.get_org_by_slug("other").await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        db.store.get_org(OrgId::new(now())).await,
        Err(StoreError::NotFound)
    ));
}

async fn a_taken_slug_is_a_conflict(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    db.store
        .create_org(&org("acme"), None, &audit())
        .await
        .unwrap();
    let err = db
        .store
        .create_org(&org("acme"), None, &audit())
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        StoreError::Conflict {
            code: "slug_taken",
            field: Some(ref field),
            ..
        } if field == "slug"
    ));
    assert_eq!(db.store.list_orgs(first(10)).await.unwrap().items.len(), 1);
}

async fn organizations_page_through_in_creation_order(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let mut made = Vec::new();
    for i in 0..5 {
        let o = org(&format!("org-{i}"));
        db.store.create_org(&o, None, &audit()).await.unwrap();
        made.push(o.id);
    }
    made.sort();
    let mut seen = Vec::new();
    let mut page = first(2);
    loop {
        let got = db.store.list_orgs(page).await.unwrap();
        assert!(got.items.len() <= 2);
        seen.extend(got.items.iter().map(|o| o.id));
        match got.next_after {
            Some(after) => {
                page = PageRequest {
                    limit: 2,
                    after: Some(after),
                }
            }
            None => break,
        }
    }
    assert_eq!(seen, made);
    // A page that ends exactly at the last item has no next cursor.
    let all = db.store.list_orgs(first(5)).await.unwrap();
    assert_eq!(all.items.len(), 5);
    assert_eq!(all.next_after, None);
}

async fn an_update_changes_the_row_and_a_refused_one_changes_nothing(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let acme = org("acme");
    db.store.create_org(&acme, None, &audit()).await.unwrap();
    let later = now() + chrono::Duration::minutes(5);
    let updated = db
        .store
        .update_org(
            acme.id,
            &|o| {
                o.name = "Acme Offices".into();
                o.settings.app_pin_max_age_hours = 24;
                o.updated_at = later;
                Ok(())
            },
            &audit(),
        )
        .await
        .unwrap();
    assert_eq!(db.store.get_org(acme.id).await.unwrap(), updated);
    assert_eq!(updated.name, "Acme Offices");
    assert_eq!(updated.updated_at, later);

    let err = db
        .store
        .update_org(
            acme.id,
            &|o| {
                o.name = "never written".into();
                Err(ValidationError::new("name", "nope", "refused"))
            },
            &audit(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(e) if e.code == "nope"));
    assert_eq!(
        db.store.get_org(acme.id).await.unwrap().name,
        "Acme Offices"
    );

    let missing = db
        .store
        .update_org(OrgId::new(now()), &|_| Ok(()), &audit())
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound)));
}

async fn deleting_an_organization_deletes_what_it_owns(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let acme = org("acme");
    db.store.create_org(&acme, None, &audit()).await.unwrap();
    let site = crate::site("HQ");
    db.store
        .create_site(acme.id, &site, &audit())
        .await
        .unwrap();
    let door = crate::door(site.id, "Front");
    db.store
        .create_door(acme.id, &door, &audit())
        .await
        .unwrap();
    db.store
        .create_group(acme.id, &crate::group("Staff"), &audit())
        .await
        .unwrap();

    db.store.delete_org(acme.id).await.unwrap();
    assert!(matches!(
        db.store.get_org(acme.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        db.store.get_door(acme.id, door.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        db.store.delete_org(acme.id).await,
        Err(StoreError::NotFound)
    ));
}

async fn concurrent_updates_are_all_kept(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let acme = org("acme");
    db.store.create_org(&acme, None, &audit()).await.unwrap();
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let store = db.store.clone();
            tokio::spawn(async move {
                store
                    .update_org(
                        acme.id,
                        &|o| {
                            o.name.push_str(&format!(" {i}"));
                            Ok(())
                        },
                        &audit(),
                    )
                    .await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let name = db.store.get_org(acme.id).await.unwrap().name;
    for i in 0..16 {
        assert!(
            name.split(' ').any(|w| w == i.to_string()),
            "{i} lost from {name}"
        );
    }
}
