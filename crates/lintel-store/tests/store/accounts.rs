use chrono::Duration;
use lintel_domain::{
    Account, AccountId, DeviceId, DeviceKind, Email, MessageId, Phone, SignInId, VerificationId,
};
use lintel_store::{
    Attempt, Audit, AuthFlow, Channel, EmailConfirmation, FreshTokens, Limit, LinkedIdentity,
    Message, NewDevice, PasskeyRecord, ProviderIdentity, Purge, Purpose, Registration, Reissue,
    SignIn, Slot, StoreError, Verification,
};
use lintel_testkit::{Backend, TestDb, on_both_backends};

use crate::{db, futures_join, now};

on_both_backends!(
    a_registration_creates_its_account_and_device_at_the_end,
    an_email_link_confirms_once,
    wrong_codes_end_the_attempt_and_lock_the_account,
    a_finished_sign_in_cannot_complete_again,
    a_registration_that_lost_its_phone_is_refused,
    reissue_tokens_rotate_and_reuse_revokes_the_device,
    devices_are_listed_and_revoked_only_by_their_account,
    the_outbox_leases_retries_and_sends_once,
    slots_are_taken_per_key_within_their_windows,
    parallel_takers_never_get_more_slots_than_a_window_has,
    a_device_its_organization_and_membership_are_read_together,
    a_ceremony_is_taken_once_however_many_ask,
    a_provider_sign_in_links_its_identity_when_it_completes,
    passkeys_belong_to_their_account_and_sign_it_in,
);

fn email(s: &str) -> Email {
    Email::parse("email", s).unwrap()
}

fn phone(s: &str) -> Phone {
    Phone::parse("phone", s).unwrap()
}

fn message(to: &str) -> Message {
    Message {
        id: MessageId::new(now()),
        channel: Channel::Email,
        recipient: to.into(),
        subject: "Sign in".into(),
        body: "a link".into(),
        attempts: 0,
        created_at: now(),
    }
}

fn sign_in(account: Option<AccountId>, mail: &str, tel: &str, token: u8) -> SignIn {
    SignIn {
        id: SignInId::new(now()),
        account_id: account,
        registration: account.is_none().then(|| Registration {
            first_name: "Ada".into(),
            last_name: "Lovelace".into(),
        }),
        email: email(mail),
        phone: phone(tel),
        adds_phone: false,
        email_token_hash: vec![token; 32],
        email_expires_at: now() + Duration::minutes(15),
        email_confirmed_at: None,
        code_hash: None,
        code_expires_at: None,
        code_failures: 0,
        finished_at: None,
        created_at: now(),
        via: None,
    }
}

fn account(mail: &str, tel: &str) -> Account {
    Account {
        id: AccountId::new(now()),
        first_name: "Ada".into(),
        last_name: "Lovelace".into(),
        email: email(mail),
        phone: Some(phone(tel)),
        created_at: now(),
        updated_at: now(),
        language: None,
    }
}

fn device(account: AccountId, seed: u8) -> NewDevice {
    NewDevice {
        id: DeviceId::new(now()),
        account_id: account,
        kind: DeviceKind::App,
        name: "Ada's phone".into(),
        pin_hash: "$argon2id$stand-in".into(),
        tokens: FreshTokens {
            auth_hash: vec![seed; 32],
            auth_expires_at: now() + Duration::minutes(15),
            reissue_hash: vec![seed.wrapping_add(100); 32],
            now: now(),
        },
    }
}

fn confirmation(session: u8) -> EmailConfirmation {
    EmailConfirmation {
        now: now(),
        session_hash: vec![session; 32],
        code_hash: vec![session.wrapping_add(1); 32],
        code_expires_at: now() + Duration::minutes(10),
    }
}

/// Runs a registration through to its end and returns the account and device.
async fn registered(db: &TestDb, mail: &str, tel: &str, seed: u8) -> (Account, NewDevice) {
    let s = sign_in(None, mail, tel, seed);
    db.store.create_sign_in(&s, &message(mail)).await.unwrap();
    assert!(
        db.store
            .confirm_sign_in_email(s.id, &confirmation(seed), &message(tel))
            .await
            .unwrap()
    );
    let a = account(mail, tel);
    let d = device(a.id, seed);
    db.store
        .complete_sign_in(s.id, Some(&a), &d, &[])
        .await
        .unwrap();
    (a, d)
}

async fn a_registration_creates_its_account_and_device_at_the_end(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let (a, d) = registered(&db, "ada@example.com", "+46701234567", 1).await;
    let found = db
        .store
        .find_account_by_email(&email("ada@example.com"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.account, a);
    assert_eq!(found.failed_codes, 0);
    assert_eq!(
        db.store
            .find_account_by_phone(&phone("+46701234567"))
            .await
            .unwrap()
            .unwrap()
            .account
            .id,
        a.id
    );
    let dev = db
        .store
        .find_device_by_auth(&d.tokens.auth_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (dev.account_id, dev.device.id, dev.revoked_at),
        (a.id, d.id, None)
    );
    assert_eq!(db.store.list_devices(a.id).await.unwrap().len(), 1);
}

async fn an_email_link_confirms_once(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let s = sign_in(None, "ada@example.com", "+46701234567", 7);
    db.store
        .create_sign_in(&s, &message("ada@example.com"))
        .await
        .unwrap();
    let found = db
        .store
        .find_sign_in_by_email_token(&[7; 32])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, s);
    assert!(
        db.store
            .confirm_sign_in_email(s.id, &confirmation(9), &message("+46701234567"))
            .await
            .unwrap()
    );
    assert!(
        !db.store
            .confirm_sign_in_email(s.id, &confirmation(10), &message("+46701234567"))
            .await
            .unwrap()
    );
    let by_session = db
        .store
        .find_sign_in_by_session(&[9; 32])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_session.code_hash, Some(vec![10; 32]));
    assert!(
        db.store
            .find_sign_in_by_session(&[10; 32])
            .await
            .unwrap()
            .is_none()
    );
}

async fn wrong_codes_end_the_attempt_and_lock_the_account(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let (a, _) = registered(&db, "ada@example.com", "+46701234567", 1).await;
    let lock_until = now() + Duration::hours(24);
    let mut total = 0;
    // Attempts of 5 wrong codes each; the account locks at 12 in a row.
    for seed in 20u8..23 {
        let s = sign_in(Some(a.id), "ada@example.com", "+46701234567", seed);
        db.store
            .create_sign_in(&s, &message("ada@example.com"))
            .await
            .unwrap();
        db.store
            .confirm_sign_in_email(s.id, &confirmation(seed.wrapping_add(50)), &message("x"))
            .await
            .unwrap();
        for expected in 1..=5 {
            let attempt = Attempt::SignIn(s.id);
            assert!(db.store.start_attempt(attempt, 5).await.unwrap());
            let failures = db
                .store
                .fail_sign_in_code(s.id, now(), 5, 12, lock_until)
                .await
                .unwrap();
            assert_eq!(failures, expected);
            total += 1;
        }
        let ended = db
            .store
            .find_sign_in_by_email_token(&[seed; 32])
            .await
            .unwrap()
            .unwrap();
        assert!(
            ended.finished_at.is_some(),
            "five wrong codes end the attempt"
        );
        assert!(matches!(
            db.store
                .fail_sign_in_code(s.id, now(), 5, 12, lock_until)
                .await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            db.store.start_attempt(Attempt::SignIn(s.id), 5).await,
            Err(StoreError::NotFound)
        ));
        let record = db.store.get_account(a.id).await.unwrap();
        assert_eq!(record.failed_codes, total);
        assert_eq!(record.locked_until, (total >= 12).then_some(lock_until));
    }
    db.store
        .unlock_account(&email("ada@example.com"))
        .await
        .unwrap();
    let record = db.store.get_account(a.id).await.unwrap();
    assert_eq!((record.failed_codes, record.locked_until), (0, None));
    assert!(matches!(
        db.store.unlock_account(&email("nobody@example.com")).await,
        Err(StoreError::NotFound)
    ));
}

async fn a_finished_sign_in_cannot_complete_again(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let (a, _) = registered(&db, "ada@example.com", "+46701234567", 1).await;
    let s = sign_in(Some(a.id), "ada@example.com", "+46701234567", 30);
    db.store
        .create_sign_in(&s, &message("ada@example.com"))
        .await
        .unwrap();
    // Not before the email is confirmed, either.
    let early = db
        .store
        .complete_sign_in(s.id, None, &device(a.id, 31), &[])
        .await;
    assert!(matches!(
        early,
        Err(StoreError::Conflict {
            code: "sign_in_ended",
            ..
        })
    ));
    db.store
        .confirm_sign_in_email(s.id, &confirmation(32), &message("x"))
        .await
        .unwrap();
    db.store
        .complete_sign_in(s.id, None, &device(a.id, 33), &[])
        .await
        .unwrap();
    let again = db
        .store
        .complete_sign_in(s.id, None, &device(a.id, 34), &[])
        .await;
    assert!(matches!(
        again,
        Err(StoreError::Conflict {
            code: "sign_in_ended",
            ..
        })
    ));
    assert_eq!(db.store.list_devices(a.id).await.unwrap().len(), 2);
}

async fn a_registration_that_lost_its_phone_is_refused(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let first = sign_in(None, "ada@example.com", "+46701234567", 40);
    let second = sign_in(None, "grace@example.com", "+46701234567", 41);
    for s in [&first, &second] {
        db.store.create_sign_in(s, &message("x")).await.unwrap();
        db.store
            .confirm_sign_in_email(
                s.id,
                &confirmation(s.email_token_hash[0] + 100),
                &message("x"),
            )
            .await
            .unwrap();
    }
    let ada = account("ada@example.com", "+46701234567");
    db.store
        .complete_sign_in(first.id, Some(&ada), &device(ada.id, 42), &[])
        .await
        .unwrap();
    let grace = account("grace@example.com", "+46701234567");
    let lost = db
        .store
        .complete_sign_in(second.id, Some(&grace), &device(grace.id, 43), &[])
        .await;
    assert!(matches!(
        lost,
        Err(StoreError::Conflict {
            code: "account_exists",
            ..
        })
    ));
    assert!(
        db.store
            .find_account_by_email(&email("grace@example.com"))
            .await
            .unwrap()
            .is_none()
    );
    // The refused completion wrote nothing: the attempt is still open.
    let open = db
        .store
        .find_sign_in_by_email_token(&[41; 32])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(open.finished_at, None);
}

fn long_ago() -> chrono::DateTime<chrono::Utc> {
    now() - Duration::days(365)
}

async fn reissue_tokens_rotate_and_reuse_revokes_the_device(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let (a, d) = registered(&db, "ada@example.com", "+46701234567", 1).await;
    let fresh = |seed: u8| FreshTokens {
        auth_hash: vec![seed; 32],
        auth_expires_at: now() + Duration::minutes(30),
        reissue_hash: vec![seed.wrapping_add(1); 32],
        now: now() + Duration::minutes(20),
    };
    let first = d.tokens.reissue_hash.clone();
    let rotated = db
        .store
        .reissue_device(&first, long_ago(), &fresh(60))
        .await
        .unwrap();
    assert_eq!(
        rotated,
        Reissue::Rotated {
            device: d.id,
            account: a.id
        }
    );
    assert!(
        db.store
            .find_device_by_auth(&d.tokens.auth_hash)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        db.store
            .find_device_by_auth(&[60; 32])
            .await
            .unwrap()
            .is_some()
    );
    let second = vec![61; 32];
    assert_eq!(
        db.store
            .reissue_device(&second, long_ago(), &fresh(70))
            .await
            .unwrap(),
        Reissue::Rotated {
            device: d.id,
            account: a.id
        }
    );

    // The first token again: copied, so the device goes.
    assert_eq!(
        db.store
            .reissue_device(&first, long_ago(), &fresh(80))
            .await
            .unwrap(),
        Reissue::Reused { device: d.id }
    );
    let dev = db
        .store
        .find_device_by_auth(&[70; 32])
        .await
        .unwrap()
        .unwrap();
    assert!(dev.revoked_at.is_some());
    assert_eq!(
        db.store
            .reissue_device(&[71; 32], long_ago(), &fresh(90))
            .await
            .unwrap(),
        Reissue::Unknown
    );
    assert_eq!(
        db.store
            .reissue_device(&[200; 32], long_ago(), &fresh(91))
            .await
            .unwrap(),
        Reissue::Unknown
    );
    assert!(db.store.list_devices(a.id).await.unwrap().is_empty());

    // A token issued before the cut-off has expired: unknown, and its device is left alone.
    let (b, e) = registered(&db, "grace@example.com", "+46701234568", 2).await;
    let expired = db
        .store
        .reissue_device(&e.tokens.reissue_hash, now(), &fresh(120))
        .await;
    assert_eq!(expired.unwrap(), Reissue::Unknown);
    assert_eq!(db.store.list_devices(b.id).await.unwrap().len(), 1);
}

async fn devices_are_listed_and_revoked_only_by_their_account(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let (ada, ada_device) = registered(&db, "ada@example.com", "+46701234567", 1).await;
    let (grace, _) = registered(&db, "grace@example.com", "+46701234568", 2).await;
    assert_eq!(
        db.store
            .get_device(ada.id, ada_device.id)
            .await
            .unwrap()
            .device
            .id,
        ada_device.id
    );
    assert!(matches!(
        db.store.get_device(grace.id, ada_device.id).await,
        Err(StoreError::NotFound)
    ));
    let refused = db.store.revoke_device(grace.id, ada_device.id, now()).await;
    assert!(matches!(refused, Err(StoreError::NotFound)));
    db.store
        .revoke_device(ada.id, ada_device.id, now())
        .await
        .unwrap();
    assert!(db.store.list_devices(ada.id).await.unwrap().is_empty());
    assert!(matches!(
        db.store.get_device(ada.id, ada_device.id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(db.store.list_devices(grace.id).await.unwrap().len(), 1);
    assert!(matches!(
        db.store.revoke_device(ada.id, ada_device.id, now()).await,
        Err(StoreError::NotFound)
    ));
}

async fn the_outbox_leases_retries_and_sends_once(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let s = sign_in(None, "ada@example.com", "+46701234567", 1);
    let mail = message("ada@example.com");
    db.store.create_sign_in(&s, &mail).await.unwrap();
    let t0 = now();
    let lease = Duration::seconds(60);
    let taken = db.store.claim_messages(t0, t0 + lease, 10).await.unwrap();
    assert_eq!(taken, vec![mail.clone()]);
    assert!(
        db.store
            .claim_messages(t0, t0 + lease, 10)
            .await
            .unwrap()
            .is_empty(),
        "leased"
    );

    db.store
        .mark_message_failed(
            mail.id,
            "connection refused",
            Some(t0 + Duration::seconds(30)),
        )
        .await
        .unwrap();
    assert!(
        db.store
            .claim_messages(t0 + Duration::seconds(29), t0 + lease, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let retry = db
        .store
        .claim_messages(t0 + Duration::seconds(30), t0 + Duration::seconds(90), 10)
        .await
        .unwrap();
    assert_eq!(retry.len(), 1);
    assert_eq!(retry[0].attempts, 1);
    db.store
        .mark_message_sent(mail.id, t0 + Duration::seconds(31))
        .await
        .unwrap();
    assert!(
        db.store
            .claim_messages(t0 + Duration::hours(1), t0 + Duration::hours(2), 10)
            .await
            .unwrap()
            .is_empty()
    );
    // Sent, its body (a link, a code) is gone; who it went to and when stay.
    let kept = "SELECT COUNT(*) FROM outbox WHERE body = '' AND recipient = 'ada@example.com' \
                AND sent_at IS NOT NULL";
    assert_eq!(db.count(kept).await, 1);
    // A message given up on is erased the same way.
    let other = sign_in(None, "grace@example.com", "+46701234568", 2);
    db.store
        .create_sign_in(&other, &message("grace@example.com"))
        .await
        .unwrap();
    let taken = db.store.claim_messages(t0, t0 + lease, 10).await.unwrap();
    db.store
        .mark_message_failed(taken[0].id, "mailbox unavailable", None)
        .await
        .unwrap();
    assert_eq!(
        db.count("SELECT COUNT(*) FROM outbox WHERE body <> ''")
            .await,
        0
    );
    assert!(
        db.store
            .claim_messages(t0 + Duration::days(365), t0 + Duration::days(366), 10)
            .await
            .unwrap()
            .is_empty(),
        "given up"
    );
}

/// A copy of the data directory must not be readable by others on the machine.
#[cfg(unix)]
#[tokio::test]
async fn the_sqlite_files_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let path = data.join("lintel.db");
    let _store = lintel_store::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&path), 0o600);
}

const TEN_MINUTES: &[(Duration, usize)] = &[(Duration::minutes(10), 3)];

/// Takes one slot under each of `keys`, three in ten minutes.
async fn take(db: &TestDb, keys: &[&str], at: chrono::DateTime<chrono::Utc>) -> Slot {
    let limits: Vec<Limit<'_>> = keys
        .iter()
        .map(|key| Limit {
            key,
            windows: TEN_MINUTES,
        })
        .collect();
    db.store.take_slots(&limits, at).await.unwrap()
}

async fn slots_are_taken_per_key_within_their_windows(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let (email, ip) = ("email:ada@example.com", "ip:127.0.0.1");
    let at = |minutes| now() + Duration::minutes(minutes);
    for minutes in [0, 1, 2] {
        assert_eq!(take(&db, &[email, ip], at(minutes)).await, Slot::Taken);
    }
    // The email's window is full until its first slot leaves it; all or none, so the source
    // got no slot either.
    assert_eq!(
        take(&db, &[email, ip], at(3)).await,
        Slot::Full {
            retry_after: Duration::minutes(7)
        }
    );
    let since = now() - Duration::seconds(1);
    assert_eq!(db.store.recent_sends(ip, since).await.unwrap().len(), 3);
    assert_eq!(
        take(&db, &["ip:10.0.0.1"], at(3)).await,
        Slot::Taken,
        "another key has its own slots"
    );
    // A slot given back is free again.
    db.store.give_back(email, at(2)).await.unwrap();
    assert_eq!(
        db.store.recent_sends(email, since).await.unwrap(),
        vec![at(0), at(1)]
    );
    assert_eq!(take(&db, &[email], at(4)).await, Slot::Taken);
    // Slots at 0, 1 and 4: full until the first leaves the window at 10.
    assert_eq!(
        take(&db, &[email], at(9)).await,
        Slot::Full {
            retry_after: Duration::minutes(1)
        }
    );
    assert_eq!(take(&db, &[email], at(10)).await, Slot::Taken);
}

async fn parallel_takers_never_get_more_slots_than_a_window_has(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let takes = futures_join((0..30).map(|i| {
        let store = db.store.clone();
        async move {
            // Half of them also take a slot of their own source: the shared key still bounds.
            let source = format!("ip:10.0.0.{}", i % 2);
            let limits = [
                Limit {
                    key: "email:ada@example.com",
                    windows: TEN_MINUTES,
                },
                Limit {
                    key: &source,
                    windows: &[(Duration::minutes(10), 100)],
                },
            ];
            store.take_slots(&limits[..1 + i % 2], now()).await.unwrap()
        }
    }))
    .await;
    assert_eq!(takes.iter().filter(|t| **t == Slot::Taken).count(), 3);
}

on_both_backends!(wrong_pins_in_a_row_revoke_the_device);

async fn wrong_pins_in_a_row_revoke_the_device(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let (a, d) = registered(&db, "ada@example.com", "+46701234567", 1).await;
    let wrong = async |expected| {
        assert!(db.store.start_attempt(Attempt::Pin(d.id), 5).await.unwrap());
        assert_eq!(
            db.store.app_pin_wrong(d.id, now(), 5).await.unwrap(),
            expected
        );
    };
    for expected in 1..=4 {
        wrong(expected).await;
    }
    let later = now() + Duration::hours(1);
    assert!(db.store.start_attempt(Attempt::Pin(d.id), 5).await.unwrap());
    db.store.app_pin_verified(d.id, later).await.unwrap();
    let dev = db
        .store
        .find_device_by_auth(&d.tokens.auth_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((dev.pin_failures, dev.device.pin_verified_at), (0, later));
    for expected in 1..=5 {
        wrong(expected).await;
    }
    assert!(
        db.store.list_devices(a.id).await.unwrap().is_empty(),
        "revoked at five in a row"
    );
    assert!(matches!(
        db.store.start_attempt(Attempt::Pin(d.id), 5).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        db.store.app_pin_verified(d.id, later).await,
        Err(StoreError::NotFound)
    ));
}

on_both_backends!(parallel_pin_checks_never_count_past_the_limit);

async fn parallel_pin_checks_never_count_past_the_limit(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let (a, d) = registered(&db, "ada@example.com", "+46701234567", 1).await;
    let started = futures_join((0..30).map(|_| {
        let store = db.store.clone();
        async move { store.start_attempt(Attempt::Pin(d.id), 5).await }
    }))
    .await;
    let taken = started.iter().filter(|r| *r.as_ref().unwrap()).count();
    assert_eq!(taken, 5, "only five checks may be under way at once");
    // All five wrong: the fifth revokes, and a right PIN checked beside them cannot win.
    for _ in 0..5 {
        let _ = db.store.app_pin_wrong(d.id, now(), 5).await;
    }
    assert!(db.store.list_devices(a.id).await.unwrap().is_empty());
    assert!(matches!(
        db.store.app_pin_verified(d.id, now()).await,
        Err(StoreError::NotFound)
    ));
}

on_both_backends!(
    a_proven_email_or_phone_replaces_the_old_and_signs_out_every_device,
    a_taken_email_or_phone_is_refused_and_nothing_changes,
    deleting_an_account_erases_it_and_what_names_it,
    a_reset_detaches_a_recycled_phone_from_its_old_account,
    a_sign_in_that_adds_a_phone_gives_it_only_to_an_account_without_one,
    a_verification_completes_once_and_ends_after_five_wrong_codes,
);

fn verification(
    account: Option<AccountId>,
    purpose: Purpose,
    target: &str,
    seed: u8,
) -> Verification {
    Verification {
        id: VerificationId::new(now()),
        account_id: account,
        purpose,
        target: target.into(),
        handle_hash: vec![seed; 32],
        code_hash: vec![seed.wrapping_add(1); 32],
        expires_at: now() + Duration::minutes(10),
        failures: 0,
        finished_at: None,
        created_at: now(),
    }
}

async fn verified(db: &TestDb, v: &Verification) -> Result<(), StoreError> {
    db.store
        .create_verification(v, Some(&message(&v.target)))
        .await
        .unwrap();
    db.store.complete_verification(v.id, now(), None).await
}

async fn a_proven_email_or_phone_replaces_the_old_and_signs_out_every_device(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let (a, d) = registered(&db, "ada@example.com", "+46701234567", 1).await;
    verified(
        &db,
        &verification(Some(a.id), Purpose::ChangeEmail, "ada@lovelace.org", 10),
    )
    .await
    .unwrap();
    let record = db.store.get_account(a.id).await.unwrap();
    assert_eq!(record.account.email.as_str(), "ada@lovelace.org");
    assert!(
        db.store
            .find_account_by_email(&email("ada@example.com"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(db.store.list_devices(a.id).await.unwrap().is_empty());
    assert!(
        db.store
            .find_device_by_auth(&d.tokens.auth_hash)
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_some()
    );

    verified(
        &db,
        &verification(Some(a.id), Purpose::ChangePhone, "+46701234599", 11),
    )
    .await
    .unwrap();
    let record = db.store.get_account(a.id).await.unwrap();
    assert_eq!(record.account.phone, Some(phone("+46701234599")));
}

async fn a_taken_email_or_phone_is_refused_and_nothing_changes(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let (a, d) = registered(&db, "ada@example.com", "+46701234567", 1).await;
    registered(&db, "grace@example.com", "+46701234568", 2).await;
    let email_taken = verified(
        &db,
        &verification(Some(a.id), Purpose::ChangeEmail, "grace@example.com", 10),
    )
    .await;
    assert!(matches!(
        email_taken,
        Err(StoreError::Conflict {
            code: "email_taken",
            ..
        })
    ));
    let phone_taken = verified(
        &db,
        &verification(Some(a.id), Purpose::ChangePhone, "+46701234568", 11),
    )
    .await;
    assert!(matches!(
        phone_taken,
        Err(StoreError::Conflict {
            code: "account_exists",
            ..
        })
    ));
    let record = db.store.get_account(a.id).await.unwrap();
    assert_eq!(
        (record.account.email.as_str(), record.account.phone),
        ("ada@example.com", Some(phone("+46701234567")))
    );
    assert_eq!(
        db.store
            .find_device_by_auth(&d.tokens.auth_hash)
            .await
            .unwrap()
            .unwrap()
            .revoked_at,
        None
    );
    let still_open = db
        .store
        .find_verification(&[10; 32])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        still_open.finished_at, None,
        "a refused change rolls back entirely"
    );
}

async fn deleting_an_account_erases_it_and_what_names_it(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let (a, d) = registered(&db, "ada@example.com", "+46701234567", 1).await;
    let (g, _) = registered(&db, "grace@example.com", "+46701234568", 2).await;
    take(&db, &["email:ada@example.com"], now()).await;
    verified(
        &db,
        &verification(Some(a.id), Purpose::DeleteAccount, "+46701234567", 10),
    )
    .await
    .unwrap();
    assert!(matches!(
        db.store.get_account(a.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(
        db.store
            .find_account_by_phone(&phone("+46701234567"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        db.store
            .find_device_by_auth(&d.tokens.auth_hash)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        db.store
            .find_sign_in_by_email_token(&[1; 32])
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        db.store
            .recent_sends("email:ada@example.com", now() - Duration::days(1))
            .await
            .unwrap()
            .is_empty()
    );
    let queued = db
        .store
        .claim_messages(now(), now() + Duration::minutes(1), 100)
        .await
        .unwrap();
    assert!(
        queued
            .iter()
            .all(|m| m.recipient != "ada@example.com" && m.recipient != "+46701234567"),
        "{queued:?}"
    );
    assert!(
        queued.iter().any(|m| m.recipient == "grace@example.com"),
        "others' messages stay"
    );
    assert!(db.store.get_account(g.id).await.is_ok());
}

async fn a_reset_detaches_a_recycled_phone_from_its_old_account(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let (old, d) = registered(&db, "ada@example.com", "+46701234567", 1).await;
    verified(
        &db,
        &verification(None, Purpose::ResetPhone, "+46701234567", 10),
    )
    .await
    .unwrap();
    let record = db.store.get_account(old.id).await.unwrap();
    assert_eq!(record.account.phone, None);
    assert!(db.store.list_devices(old.id).await.unwrap().is_empty());
    assert!(
        db.store
            .find_device_by_auth(&d.tokens.auth_hash)
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_some()
    );
    // The number is free: a newcomer registers with it.
    registered(&db, "newcomer@example.com", "+46701234567", 3).await;
    // A reset of a number nobody has changes nothing and still completes.
    verified(
        &db,
        &verification(None, Purpose::ResetPhone, "+46701234500", 11),
    )
    .await
    .unwrap();
}

async fn a_sign_in_that_adds_a_phone_gives_it_only_to_an_account_without_one(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let (old, _) = registered(&db, "ada@example.com", "+46701234567", 1).await;
    registered(&db, "grace@example.com", "+46701234568", 2).await;
    let adding = |tel: &str, seed: u8| {
        let mut s = sign_in(Some(old.id), "ada@example.com", tel, seed);
        s.adds_phone = true;
        s
    };
    let finish = async |s: &SignIn, seed: u8| {
        db.store
            .create_sign_in(s, &message("ada@example.com"))
            .await
            .unwrap();
        db.store
            .confirm_sign_in_email(s.id, &confirmation(seed), &message("x"))
            .await
            .unwrap();
        let notice = message("admin@example.com");
        db.store
            .complete_sign_in(s.id, None, &device(old.id, seed + 1), &[notice])
            .await
    };
    let ended = |r: &Result<(), StoreError>, expected: &str| matches!(r, Err(StoreError::Conflict { code, .. }) if *code == expected);
    // While the account has its phone, a sign-in cannot give it another.
    let early = finish(&adding("+46701234599", 10), 11).await;
    assert!(ended(&early, "sign_in_ended"), "{early:?}");
    assert_eq!(
        db.store.get_account(old.id).await.unwrap().account.phone,
        Some(phone("+46701234567"))
    );

    // The number's new owner takes it; the old account's way back cannot take another's.
    verified(
        &db,
        &verification(None, Purpose::ResetPhone, "+46701234567", 20),
    )
    .await
    .unwrap();
    let theirs = finish(&adding("+46701234568", 30), 31).await;
    assert!(ended(&theirs, "account_exists"), "{theirs:?}");
    assert_eq!(
        db.store.get_account(old.id).await.unwrap().account.phone,
        None
    );

    // Two ways back in flight: the first gives the phone and ends the other.
    let (first, second) = (adding("+46701234599", 40), adding("+46701234598", 50));
    db.store
        .create_sign_in(&second, &message("ada@example.com"))
        .await
        .unwrap();
    finish(&first, 41).await.unwrap();
    assert_eq!(
        db.store.get_account(old.id).await.unwrap().account.phone,
        Some(phone("+46701234599"))
    );
    let devices = db.store.list_devices(old.id).await.unwrap();
    assert_eq!(devices.len(), 1, "only the new device: {devices:?}");
    let other = db
        .store
        .find_sign_in_by_email_token(&second.email_token_hash)
        .await
        .unwrap()
        .unwrap();
    assert!(other.finished_at.is_some(), "the other way back ended");
    let queued = db
        .store
        .claim_messages(now(), now() + Duration::minutes(1), 100)
        .await
        .unwrap();
    assert!(queued.iter().any(|m| m.recipient == "admin@example.com"));
}

async fn a_verification_completes_once_and_ends_after_five_wrong_codes(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let (a, _) = registered(&db, "ada@example.com", "+46701234567", 1).await;
    let v = verification(Some(a.id), Purpose::ChangeEmail, "ada@lovelace.org", 10);
    verified(&db, &v).await.unwrap();
    let again = db.store.complete_verification(v.id, now(), None).await;
    assert!(matches!(
        again,
        Err(StoreError::Conflict {
            code: "verification_ended",
            ..
        })
    ));

    let w = verification(Some(a.id), Purpose::ChangePhone, "+46701234599", 20);
    db.store
        .create_verification(&w, Some(&message("x")))
        .await
        .unwrap();
    for expected in 1..=5 {
        let attempt = Attempt::Verification(w.id);
        assert!(db.store.start_attempt(attempt, 5).await.unwrap());
        assert_eq!(
            db.store.fail_verification(w.id, now(), 5).await.unwrap(),
            expected
        );
    }
    assert!(matches!(
        db.store.fail_verification(w.id, now(), 5).await,
        Err(StoreError::NotFound)
    ));
    let ended = db.store.complete_verification(w.id, now(), None).await;
    assert!(matches!(
        ended,
        Err(StoreError::Conflict {
            code: "verification_ended",
            ..
        })
    ));
    assert_eq!(
        db.store.get_account(a.id).await.unwrap().account.phone,
        Some(phone("+46701234567"))
    );
}

on_both_backends!(housekeeping_deletes_only_what_has_outlived_its_use);

async fn housekeeping_deletes_only_what_has_outlived_its_use(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    // Everything below happens at now(); the cut-offs fall just before or just after it.
    let (a, d) = registered(&db, "ada@example.com", "+46701234567", 1).await;
    take(&db, &["email:ada@example.com"], now()).await;
    let keep_all = Purge {
        sends_before: now(),
        attempts_before: now(),
        messages_before: now(),
        flows_before: now(),
        tokens_before: now(),
    };
    assert_eq!(
        db.store.purge(&keep_all).await.unwrap(),
        0,
        "nothing is older than now()"
    );

    db.store.revoke_device(a.id, d.id, now()).await.unwrap();
    let later = now() + Duration::seconds(1);
    let purged = db
        .store
        .purge(&Purge {
            sends_before: later,
            attempts_before: later,
            messages_before: later,
            flows_before: later,
            tokens_before: later,
        })
        .await
        .unwrap();
    // One send record, one sign-in, two outbox messages (link and code), one revoked device.
    assert_eq!(purged, 5);
    assert!(
        db.store
            .recent_sends("email:ada@example.com", now() - Duration::days(1))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        db.store
            .find_sign_in_by_email_token(&[1; 32])
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        db.store
            .claim_messages(later, later, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        db.store
            .find_device_by_auth(&d.tokens.auth_hash)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        db.store.get_account(a.id).await.is_ok(),
        "accounts are never purged"
    );
}

async fn a_device_its_organization_and_membership_are_read_together(backend: Backend) {
    use lintel_domain::{Area, Areas, Membership, MembershipId, MembershipStatus};

    let Some(db) = db(backend).await else { return };
    let (a, d) = registered(&db, "ada@example.com", "+46701234567", 1).await;
    let acme = crate::org("acme");
    db.store
        .create_org(&acme, None, &crate::audit())
        .await
        .unwrap();
    let (night, day) = (crate::group("Night"), crate::group("Day"));
    for g in [&night, &day] {
        db.store
            .create_group(acme.id, g, &crate::audit())
            .await
            .unwrap();
    }
    let member = lintel_store::NewMember {
        membership: Membership {
            id: MembershipId::new(now()),
            account_id: Some(a.id),
            status: MembershipStatus::Active,
            areas: Areas::new([Area::Doors]),
            groups: vec![night.id, day.id],
            invitation: None,
            created_at: now(),
            updated_at: now(),
        },
        link: None,
        message: None,
    };
    db.store
        .create_membership(acme.id, &member, &crate::audit())
        .await
        .unwrap();
    let version = db.store.rules_version(acme.id).await.unwrap();
    assert!(version > 0);

    let read = |hash: Vec<u8>, slug: &'static str| {
        let store = db.store.clone();
        async move { store.device_in_org(&hash, slug).await.unwrap() }
    };
    let ada = d.tokens.auth_hash.clone();
    let found = read(ada.clone(), "acme").await.unwrap();
    assert_eq!(found.device.device.id, d.id);
    let in_org = found.org.unwrap();
    assert_eq!(in_org.org, acme);
    assert_eq!(in_org.rules_version, version);
    // The same record as the membership read on its own, groups and person included.
    let alone = db.store.find_membership(acme.id, a.id).await.unwrap();
    assert_eq!(in_org.member, alone);
    assert_eq!(in_org.member.unwrap().membership.groups.len(), 2);

    // Another organization: found, without a membership; no such slug: no organization.
    let other = crate::org("other");
    db.store
        .create_org(&other, None, &crate::audit())
        .await
        .unwrap();
    let there = read(ada.clone(), "other").await.unwrap().org.unwrap();
    assert_eq!((there.org.id, there.member), (other.id, None));
    assert_eq!(read(ada.clone(), "nowhere").await.unwrap().org, None);
    assert!(read(vec![9; 32], "acme").await.is_none());

    // A suspension counts at the next read.
    db.store
        .update_membership(
            acme.id,
            member.membership.id,
            &|m| {
                m.status = MembershipStatus::Suspended;
                Ok(())
            },
            &crate::audit(),
        )
        .await
        .unwrap();
    let suspended = read(ada, "acme").await.unwrap().org.unwrap();
    assert_eq!(
        suspended.member.unwrap().membership.status,
        MembershipStatus::Suspended
    );
    assert!(suspended.rules_version > version);
}

fn flow(handle: u8, kind: &'static str) -> AuthFlow {
    AuthFlow {
        handle_hash: vec![handle; 32],
        kind,
        account_id: None,
        browser_hash: Some(vec![7; 32]),
        state: "{\"nonce\":\"n\"}".into(),
        expires_at: now() + Duration::minutes(10),
        created_at: now(),
    }
}

async fn a_ceremony_is_taken_once_however_many_ask(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    db.store.create_flow(&flow(1, "oidc")).await.unwrap();
    assert_eq!(
        db.store
            .take_flow("passkey_sign_in", &[1; 32])
            .await
            .unwrap(),
        None,
        "taken only as its own kind"
    );
    let takers = (0..8).map(|_| {
        let store = db.store.clone();
        async move { store.take_flow("oidc", &[1; 32]).await.unwrap() }
    });
    let taken: Vec<_> = futures_join(takers).await.into_iter().flatten().collect();
    assert_eq!(taken, vec![flow(1, "oidc")], "one taker gets it, whole");
    assert_eq!(db.store.take_flow("oidc", &[1; 32]).await.unwrap(), None);
    // Expired ceremonies go with the housekeeping.
    db.store.create_flow(&flow(2, "oidc")).await.unwrap();
    let cutoffs = |flows_before| Purge {
        sends_before: now() - Duration::days(1),
        attempts_before: now() - Duration::days(1),
        messages_before: now() - Duration::days(1),
        flows_before,
        tokens_before: now() - Duration::days(1),
    };
    assert_eq!(db.store.purge(&cutoffs(now())).await.unwrap(), 0);
    assert_eq!(
        db.store
            .purge(&cutoffs(now() + Duration::minutes(11)))
            .await
            .unwrap(),
        1
    );
}

fn identity(subject: &str) -> ProviderIdentity {
    ProviderIdentity {
        provider: "corp".into(),
        issuer: "https://id.example.com".into(),
        subject: subject.into(),
    }
}

/// A sign-in of `account` whose email the provider identity proved, through to its end;
/// with an SMS code or, not `with_code`, without (stored with no code hash).
async fn provider_sign_in(
    db: &TestDb,
    account: &Account,
    via: ProviderIdentity,
    seed: u8,
    with_code: bool,
) -> Result<(), StoreError> {
    let s = SignIn {
        via: Some(via.clone()),
        ..sign_in(
            Some(account.id),
            account.email.as_str(),
            "+46701234567",
            seed,
        )
    };
    db.store
        .create_confirmed_sign_in(
            &s,
            &confirmation(seed),
            with_code.then(|| message("+46701234567")).as_ref(),
        )
        .await
        .unwrap();
    let found = db
        .store
        .find_sign_in_by_session(&[seed; 32])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.via, Some(via));
    assert!(found.email_confirmed_at.is_some());
    assert_eq!(found.code_hash.is_some(), with_code);
    db.store
        .complete_sign_in(s.id, None, &device(account.id, seed), &[])
        .await
}

async fn a_provider_sign_in_links_its_identity_when_it_completes(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let (ada, _) = registered(&db, "ada@example.com", "+46701234567", 1).await;
    let (bob, _) = registered(&db, "bob@example.com", "+46701234568", 2).await;
    provider_sign_in(&db, &ada, identity("ada-1"), 3, true)
        .await
        .unwrap();
    let issuer = "https://id.example.com";
    assert_eq!(
        db.store.account_of_identity(issuer, "ada-1").await.unwrap(),
        Some(ada.id)
    );
    // Signing in again with it (with no code, this time) links nothing more.
    provider_sign_in(&db, &ada, identity("ada-1"), 4, false)
        .await
        .unwrap();
    let linked = db.store.list_identities(ada.id).await.unwrap();
    assert_eq!(linked.len(), 1);
    assert_eq!(linked[0].email, "ada@example.com");
    // Another identity at the same issuer is not Ada's, whatever its email says.
    let err = provider_sign_in(&db, &ada, identity("ada-2"), 5, true)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Conflict {
                code: "provider_linked",
                ..
            }
        ),
        "{err:?}"
    );
    // And Ada's identity cannot be linked to Bob.
    let audit = Audit {
        actor: lintel_domain::EventActor::Console,
        at: now(),
    };
    let to_bob = LinkedIdentity {
        id: uuid::Uuid::now_v7(),
        identity: identity("ada-1"),
        email: "bob@example.com".into(),
        created_at: now(),
    };
    let err = db
        .store
        .link_identity(bob.id, &to_bob, &audit)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Conflict {
                code: "identity_linked",
                ..
            }
        ),
        "{err:?}"
    );
    // Unlinked, it signs nobody in; only its account can unlink it.
    assert!(matches!(
        db.store.unlink_identity(bob.id, linked[0].id, &audit).await,
        Err(StoreError::NotFound)
    ));
    db.store
        .unlink_identity(ada.id, linked[0].id, &audit)
        .await
        .unwrap();
    assert_eq!(
        db.store.account_of_identity(issuer, "ada-1").await.unwrap(),
        None
    );
    let to_bob = LinkedIdentity {
        identity: identity("bob-1"),
        ..to_bob
    };
    db.store
        .link_identity(bob.id, &to_bob, &audit)
        .await
        .unwrap();
    assert_eq!(
        db.store.account_of_identity(issuer, "bob-1").await.unwrap(),
        Some(bob.id)
    );
}

fn passkey(account: AccountId, credential_id: u8) -> PasskeyRecord {
    PasskeyRecord {
        id: uuid::Uuid::now_v7(),
        account_id: account,
        name: "Ada's laptop".into(),
        credential_id: vec![credential_id; 16],
        credential: "{\"counter\":0}".into(),
        created_at: now(),
        last_used_at: None,
    }
}

async fn passkeys_belong_to_their_account_and_sign_it_in(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let (ada, _) = registered(&db, "ada@example.com", "+46701234567", 1).await;
    let (bob, _) = registered(&db, "bob@example.com", "+46701234568", 2).await;
    let audit = Audit {
        actor: lintel_domain::EventActor::Console,
        at: now(),
    };
    let key = passkey(ada.id, 9);
    db.store.add_passkey(&key, &audit).await.unwrap();
    let again = db
        .store
        .add_passkey(&passkey(bob.id, 9), &audit)
        .await
        .unwrap_err();
    assert!(
        matches!(
            again,
            StoreError::Conflict {
                code: "passkey_exists",
                ..
            }
        ),
        "{again:?}"
    );
    assert_eq!(
        db.store.list_passkeys(ada.id).await.unwrap(),
        vec![key.clone()]
    );
    assert!(db.store.list_passkeys(bob.id).await.unwrap().is_empty());
    assert_eq!(
        db.store.find_passkey(&[9; 16]).await.unwrap(),
        Some(key.clone())
    );

    // Signing in stores the new counter and registers the device.
    let laptop = device(ada.id, 30);
    db.store
        .passkey_sign_in(key.id, "{\"counter\":1}", &laptop)
        .await
        .unwrap();
    let found = db
        .store
        .find_device_by_auth(&[30; 32])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.account_id, ada.id);
    let used = db.store.find_passkey(&[9; 16]).await.unwrap().unwrap();
    assert_eq!(used.credential, "{\"counter\":1}");
    assert_eq!(used.last_used_at, Some(now()));
    // A passkey signs in only its own account.
    assert!(matches!(
        db.store
            .passkey_sign_in(key.id, "{}", &device(bob.id, 31))
            .await,
        Err(StoreError::NotFound)
    ));
    // Its user verification stands in for the device's PIN.
    let later = now() + Duration::hours(1);
    db.store
        .passkey_verified_device(key.id, "{\"counter\":2}", laptop.id, later)
        .await
        .unwrap();
    let found = db
        .store
        .find_device_by_auth(&[30; 32])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.device.pin_verified_at, later);

    // Removed only by its account; then it signs nobody in.
    assert!(matches!(
        db.store.remove_passkey(bob.id, key.id, &audit).await,
        Err(StoreError::NotFound)
    ));
    db.store
        .remove_passkey(ada.id, key.id, &audit)
        .await
        .unwrap();
    assert!(matches!(
        db.store
            .passkey_sign_in(key.id, "{}", &device(ada.id, 32))
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(db.store.list_passkeys(ada.id).await.unwrap().is_empty());
}
