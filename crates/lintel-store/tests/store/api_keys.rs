use chrono::Duration;
use lintel_domain::{ApiKeyId, Area, Areas};
use lintel_store::{ApiKey, StoreError};
use lintel_testkit::{Backend, on_both_backends};

use crate::{audit, db, now, org};

on_both_backends!(
    a_key_is_found_by_its_hash_only,
    use_is_recorded_at_most_once_a_minute,
    a_key_for_a_missing_organization_is_refused,
);

fn key(org: Option<lintel_domain::OrgId>, hash: &[u8]) -> ApiKey {
    ApiKey {
        id: ApiKeyId::new(now()),
        org_id: org,
        name: "integration".into(),
        prefix: "lnt_abcdefgh".into(),
        secret_hash: hash.to_vec(),
        areas: Areas::new([Area::Doors, Area::Members]),
        created_at: now(),
        expires_at: Some(now() + Duration::days(30)),
        last_used_at: None,
        revoked_at: None,
    }
}

async fn a_key_is_found_by_its_hash_only(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let acme = org("acme");
    db.store.create_org(&acme, None, &audit()).await.unwrap();
    let k = key(Some(acme.id), &[7; 32]);
    db.store.create_api_key(&k, None).await.unwrap();
    let operator = key(None, &[9; 32]);
    db.store.create_api_key(&operator, None).await.unwrap();

    assert_eq!(db.store.find_api_key(&[7; 32]).await.unwrap(), Some(k));
    assert_eq!(
        db.store.find_api_key(&[9; 32]).await.unwrap(),
        Some(operator)
    );
    assert_eq!(db.store.find_api_key(&[8; 32]).await.unwrap(), None);

    db.store.delete_org(acme.id).await.unwrap();
    assert_eq!(db.store.find_api_key(&[7; 32]).await.unwrap(), None);
}

async fn use_is_recorded_at_most_once_a_minute(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let k = key(None, &[1; 32]);
    db.store.create_api_key(&k, None).await.unwrap();
    let t0 = now();
    db.store.touch_api_key(k.id, t0).await.unwrap();
    db.store
        .touch_api_key(k.id, t0 + Duration::seconds(30))
        .await
        .unwrap();
    let found = db.store.find_api_key(&[1; 32]).await.unwrap().unwrap();
    assert_eq!(found.last_used_at, Some(t0));
    db.store
        .touch_api_key(k.id, t0 + Duration::seconds(90))
        .await
        .unwrap();
    let found = db.store.find_api_key(&[1; 32]).await.unwrap().unwrap();
    assert_eq!(found.last_used_at, Some(t0 + Duration::seconds(90)));
}

async fn a_key_for_a_missing_organization_is_refused(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let orphan = key(Some(lintel_domain::OrgId::new(now())), &[2; 32]);
    let err = db.store.create_api_key(&orphan, None).await.unwrap_err();
    assert!(
        matches!(err, StoreError::MissingReference { field: "org_id" }),
        "{err}"
    );
}
