use chrono::Duration;
use lintel_domain::{ApiKeyId, Area, Areas};
use lintel_store::{ApiKey, FreshTokens, KeyReissue, Purge, StoreError};
use lintel_testkit::{Backend, on_both_backends};
use uuid::Uuid;

use crate::{audit, db, now, org};

on_both_backends!(
    a_key_is_found_by_its_hash_only,
    use_is_recorded_at_most_once_a_minute,
    a_key_for_a_missing_organization_is_refused,
    key_sessions_rotate_and_a_reused_token_revokes_the_session,
    a_session_of_a_revoked_key_cannot_be_reissued_and_old_sessions_are_purged,
);

fn key(org: Option<lintel_domain::OrgId>, hash: &[u8]) -> ApiKey {
    ApiKey {
        id: ApiKeyId::new(now()),
        org_id: org,
        name: "integration".into(),
        prefix: "lnt_abcdefgh".into(),
        secret_hash: hash.to_vec(),
        areas: Areas::new([Area::Doors, Area::Members]),
        created_by: None,
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

fn tokens(auth: u8, reissue: u8, at: chrono::DateTime<chrono::Utc>) -> FreshTokens {
    FreshTokens {
        auth_hash: vec![auth; 32],
        auth_expires_at: at + Duration::minutes(15),
        reissue_hash: vec![reissue; 32],
        now: at,
    }
}

async fn key_sessions_rotate_and_a_reused_token_revokes_the_session(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let acme = org("acme");
    db.store.create_org(&acme, None, &audit()).await.unwrap();
    let k = key(Some(acme.id), &[7; 32]);
    db.store.create_api_key(&k, None).await.unwrap();
    let session = Uuid::now_v7();
    db.store
        .create_key_session(session, k.id, &tokens(10, 11, now()))
        .await
        .unwrap();
    let found = db.store.find_key_session(&[10; 32]).await.unwrap().unwrap();
    assert_eq!(found.id, session);
    assert_eq!(found.key, k);
    assert_eq!(found.auth_expires_at, now() + Duration::minutes(15));
    assert!(!found.revoked);
    assert!(
        db.store
            .find_key_session(&[11; 32])
            .await
            .unwrap()
            .is_none()
    );

    let later = now() + Duration::hours(1);
    let old = now() - Duration::days(90);
    assert_eq!(
        db.store
            .reissue_key_session(&[11; 32], old, &tokens(20, 21, later))
            .await
            .unwrap(),
        KeyReissue::Rotated
    );
    // The old auth token is replaced; the new one works.
    assert!(
        db.store
            .find_key_session(&[10; 32])
            .await
            .unwrap()
            .is_none()
    );
    let found = db.store.find_key_session(&[20; 32]).await.unwrap().unwrap();
    assert_eq!(found.auth_expires_at, later + Duration::minutes(15));
    // Too old a token is unknown.
    assert_eq!(
        db.store
            .reissue_key_session(&[21; 32], later, &tokens(30, 31, later))
            .await
            .unwrap(),
        KeyReissue::Unknown
    );
    // The rotated one again: reuse, and the session is revoked for good.
    assert_eq!(
        db.store
            .reissue_key_session(&[11; 32], old, &tokens(40, 41, later))
            .await
            .unwrap(),
        KeyReissue::Reused
    );
    assert!(
        db.store
            .find_key_session(&[20; 32])
            .await
            .unwrap()
            .unwrap()
            .revoked
    );
    assert_eq!(
        db.store
            .reissue_key_session(&[21; 32], old, &tokens(50, 51, later))
            .await
            .unwrap(),
        KeyReissue::Unknown
    );
}

async fn a_session_of_a_revoked_key_cannot_be_reissued_and_old_sessions_are_purged(
    backend: Backend,
) {
    let Some(db) = db(backend).await else { return };
    let acme = org("acme");
    db.store.create_org(&acme, None, &audit()).await.unwrap();
    let k = key(Some(acme.id), &[7; 32]);
    db.store.create_api_key(&k, None).await.unwrap();
    db.store
        .create_key_session(Uuid::now_v7(), k.id, &tokens(10, 11, now()))
        .await
        .unwrap();
    db.store
        .revoke_api_key(acme.id, k.id, &audit())
        .await
        .unwrap();
    let old = now() - Duration::days(90);
    assert_eq!(
        db.store
            .reissue_key_session(&[11; 32], old, &tokens(20, 21, now()))
            .await
            .unwrap(),
        KeyReissue::Unknown
    );
    // A key past its expiry likewise.
    let expiring = ApiKey {
        expires_at: Some(now() + Duration::minutes(1)),
        ..key(Some(acme.id), &[8; 32])
    };
    db.store.create_api_key(&expiring, None).await.unwrap();
    db.store
        .create_key_session(Uuid::now_v7(), expiring.id, &tokens(30, 31, now()))
        .await
        .unwrap();
    let after = now() + Duration::minutes(2);
    assert_eq!(
        db.store
            .reissue_key_session(&[31; 32], old, &tokens(40, 41, after))
            .await
            .unwrap(),
        KeyReissue::Unknown
    );
    // Sessions whose tokens have all long expired go with the housekeeping.
    let purge = |tokens_before| Purge {
        sends_before: old,
        attempts_before: old,
        messages_before: old,
        flows_before: old,
        tokens_before,
    };
    db.store.purge(&purge(now())).await.unwrap();
    assert!(
        db.store
            .find_key_session(&[30; 32])
            .await
            .unwrap()
            .is_some()
    );
    db.store
        .purge(&purge(now() + Duration::hours(1)))
        .await
        .unwrap();
    assert!(
        db.store
            .find_key_session(&[30; 32])
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        db.store
            .find_key_session(&[10; 32])
            .await
            .unwrap()
            .is_none()
    );
}
