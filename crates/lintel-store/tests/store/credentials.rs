//! Cards and PIN codes, on both backends: uniqueness among active ones, revocation that
//! keeps the record, the thousand-to-one rule under the site's lock, what the decision
//! engine reads (whole, and the log of changes nodes catch up from), and the server key's
//! fingerprint.

use lintel_domain::credential::{card_key, pin_key};
use lintel_domain::{
    Card, CardId, CredentialStatus, Invitation, InviteChannel, Membership, MembershipId,
    MembershipStatus, OrgId, Pin, PinId, SiteId,
};
use lintel_store::{CredentialFilter, NewMember, NewPin, Store, StoreError};
use lintel_testkit::{Backend, on_both_backends};

use crate::{acme_with_front, audit, db, first, now, org, site};

on_both_backends!(
    active_cards_are_unique_and_revoked_ones_stay,
    pin_codes_are_unique_per_site_and_rationed_per_length,
    the_engine_reads_every_credential_revoked_first,
    the_first_server_key_is_remembered,
    each_rules_change_is_noted_under_its_version,
);

pub async fn member(store: &dyn Store, org: OrgId) -> MembershipId {
    // Invited: credentials may be assigned before the invitee has an account.
    let id = MembershipId::new(now());
    let membership = Membership {
        id,
        account_id: None,
        status: MembershipStatus::Invited,
        areas: Default::default(),
        groups: vec![],
        invitation: Some(Invitation {
            channel: InviteChannel::Email,
            address: format!("{id}@example.com"),
            expires_at: None,
        }),
        created_at: now(),
        updated_at: now(),
    };
    store
        .create_membership(
            org,
            &NewMember {
                membership,
                link: None,
                message: None,
            },
            &audit(),
        )
        .await
        .unwrap();
    id
}

fn card(member: MembershipId, number: &str, fc: Option<u32>) -> Card {
    Card {
        id: CardId::new(now()),
        member_id: member,
        number: number.into(),
        facility_code: fc,
        description: String::new(),
        status: CredentialStatus::Active,
        created_at: now(),
        revoked_at: None,
    }
}

fn pin(member: MembershipId, site: SiteId, digest: &[u8], length: u8) -> NewPin {
    NewPin {
        pin: Pin {
            id: PinId::new(now()),
            member_id: member,
            site_id: site,
            length,
            status: CredentialStatus::Active,
            created_at: now(),
            revoked_at: None,
        },
        digest: digest.to_vec(),
        sealed: b"sealed".to_vec(),
    }
}

fn conflict_code<T: std::fmt::Debug>(result: Result<T, StoreError>) -> &'static str {
    match result {
        Err(StoreError::Conflict { code, .. }) => code,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

async fn active_cards_are_unique_and_revoked_ones_stay(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let (acme, other) = (org("acme"), org("other"));
    db.store.create_org(&acme, None, &audit()).await.unwrap();
    db.store.create_org(&other, None, &audit()).await.unwrap();
    let ada = member(&*db.store, acme.id).await;
    let first_card = card(ada, "4711", Some(12));
    db.store
        .create_card(acme.id, &first_card, &audit())
        .await
        .unwrap();
    // No facility code is not facility code 12; the same pair is taken.
    db.store
        .create_card(acme.id, &card(ada, "4711", None), &audit())
        .await
        .unwrap();
    assert_eq!(
        conflict_code(
            db.store
                .create_card(acme.id, &card(ada, "4711", Some(12)), &audit())
                .await
        ),
        "card_taken"
    );
    // Another organization may have the same card; a member of another is no member here.
    let bob = member(&*db.store, other.id).await;
    db.store
        .create_card(other.id, &card(bob, "4711", Some(12)), &audit())
        .await
        .unwrap();
    assert!(matches!(
        db.store
            .create_card(acme.id, &card(bob, "1", None), &audit())
            .await,
        Err(StoreError::MissingReference { field: "member_id" })
    ));
    assert!(matches!(
        db.store.get_card(other.id, first_card.id).await,
        Err(StoreError::NotFound)
    ));

    let revoked = db
        .store
        .revoke_card(acme.id, first_card.id, &audit())
        .await
        .unwrap();
    assert_eq!(revoked.status, CredentialStatus::Revoked);
    assert_eq!(revoked.revoked_at, Some(now()));
    // Revoking again changes nothing.
    assert_eq!(
        db.store
            .revoke_card(acme.id, first_card.id, &audit())
            .await
            .unwrap(),
        revoked
    );
    db.store
        .create_card(acme.id, &card(ada, "4711", Some(12)), &audit())
        .await
        .unwrap();
    let filter = |status| CredentialFilter {
        member: Some(ada),
        status: Some(status),
        site: None,
    };
    let active = db
        .store
        .list_cards(acme.id, filter(CredentialStatus::Active), first(10))
        .await
        .unwrap();
    assert_eq!(active.items.len(), 2);
    let gone = db
        .store
        .list_cards(acme.id, filter(CredentialStatus::Revoked), first(10))
        .await
        .unwrap();
    assert_eq!(gone.items, vec![revoked]);
}

async fn pin_codes_are_unique_per_site_and_rationed_per_length(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let acme = org("acme");
    db.store.create_org(&acme, None, &audit()).await.unwrap();
    let (hq, annex) = (site("HQ"), site("Annex"));
    db.store.create_site(acme.id, &hq, &audit()).await.unwrap();
    db.store
        .create_site(acme.id, &annex, &audit())
        .await
        .unwrap();
    let mut members = Vec::new();
    for _ in 0..12 {
        members.push(member(&*db.store, acme.id).await);
    }
    let new = pin(members[0], hq.id, b"digest-0", 6);
    db.store.create_pin(acme.id, &new, &audit()).await.unwrap();
    // The same digest at the site is taken; at another site it is another code.
    assert_eq!(
        conflict_code(
            db.store
                .create_pin(acme.id, &pin(members[1], hq.id, b"digest-0", 6), &audit())
                .await
        ),
        "pin_taken"
    );
    db.store
        .create_pin(
            acme.id,
            &pin(members[1], annex.id, b"digest-0", 6),
            &audit(),
        )
        .await
        .unwrap();
    // One active code per member and site.
    assert_eq!(
        conflict_code(
            db.store
                .create_pin(acme.id, &pin(members[0], hq.id, b"digest-x", 6), &audit())
                .await
        ),
        "member_has_pin"
    );
    // Ten four-digit codes at most, counted per length.
    for (i, m) in members[1..11].iter().enumerate() {
        let digest = format!("four-{i}");
        db.store
            .create_pin(acme.id, &pin(*m, hq.id, digest.as_bytes(), 4), &audit())
            .await
            .unwrap();
    }
    assert_eq!(
        conflict_code(
            db.store
                .create_pin(acme.id, &pin(members[11], hq.id, b"four-10", 4), &audit())
                .await
        ),
        "pin_space_exhausted"
    );
    assert_eq!(
        db.store.pin_counts(acme.id, hq.id).await.unwrap(),
        vec![(4, 10), (6, 1)]
    );
    // Revoking frees the code and the room, and forgets nothing else.
    db.store
        .revoke_pin(acme.id, new.pin.id, &audit())
        .await
        .unwrap();
    assert_eq!(
        db.store.pin_counts(acme.id, hq.id).await.unwrap(),
        vec![(4, 10)]
    );
    db.store
        .create_pin(acme.id, &pin(members[11], hq.id, b"digest-0", 6), &audit())
        .await
        .unwrap();
    let listed = db
        .store
        .list_pins(
            acme.id,
            CredentialFilter {
                site: Some(annex.id),
                ..Default::default()
            },
            first(50),
        )
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 1);
    assert!(matches!(
        db.store.pin_counts(acme.id, SiteId::new(now())).await,
        Err(StoreError::NotFound)
    ));
}

async fn the_engine_reads_every_credential_revoked_first(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let acme = org("acme");
    db.store.create_org(&acme, None, &audit()).await.unwrap();
    let hq = site("HQ");
    db.store.create_site(acme.id, &hq, &audit()).await.unwrap();
    let (ada, bob) = (
        member(&*db.store, acme.id).await,
        member(&*db.store, acme.id).await,
    );
    let old = card(ada, "4711", None);
    db.store.create_card(acme.id, &old, &audit()).await.unwrap();
    let before = db.store.rules_version(acme.id).await.unwrap();
    db.store
        .revoke_card(acme.id, old.id, &audit())
        .await
        .unwrap();
    db.store
        .create_card(acme.id, &card(bob, "4711", None), &audit())
        .await
        .unwrap();
    db.store
        .create_pin(acme.id, &pin(ada, hq.id, b"d", 6), &audit())
        .await
        .unwrap();
    let after = db.store.rules_version(acme.id).await.unwrap();
    assert_eq!(after, before + 3, "every credential change moves the rules");

    let rules = db.store.load_rules(acme.id).await.unwrap().credentials;
    assert_eq!(rules.len(), 3);
    let key = card_key(None, "4711");
    let of_key: Vec<_> = rules.iter().filter(|(k, _)| *k == key).collect();
    assert!(of_key[0].1.revoked && of_key[0].1.member == ada);
    assert!(!of_key[1].1.revoked && of_key[1].1.member == bob);
    assert!(
        rules
            .iter()
            .any(|(k, r)| *k == pin_key(hq.id, b"d") && r.member == ada && !r.revoked)
    );
}

async fn the_first_server_key_is_remembered(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    assert_eq!(
        db.store
            .server_key_fingerprint("aaaa", now())
            .await
            .unwrap(),
        "aaaa"
    );
    assert_eq!(
        db.store
            .server_key_fingerprint("bbbb", now())
            .await
            .unwrap(),
        "aaaa"
    );
}

async fn each_rules_change_is_noted_under_its_version(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let (acme, _, front) = acme_with_front(&db).await;
    let ada = member(&*db.store, acme.id).await;
    let fob = card(ada, "1", None);
    db.store.create_card(acme.id, &fob, &audit()).await.unwrap();
    let version = db.store.rules_version(acme.id).await.unwrap();
    let all = db.store.rule_changes(acme.id, 0, 100).await.unwrap();
    assert_eq!(all.len() as i64, version, "one change a version");
    assert!(all.iter().zip(1..).all(|(c, v)| c.version == v));
    let named: Vec<(&str, Option<uuid::Uuid>)> = all
        .iter()
        .map(|c| (c.kind.map_or("?", |k| k.as_str()), c.object))
        .collect();
    assert!(
        named.contains(&("door.created", Some(front.id.0))),
        "{named:?}"
    );
    assert!(
        named.contains(&("member.invited", Some(ada.0))),
        "{named:?}"
    );
    assert_eq!(named.last(), Some(&("card.created", Some(fob.id.0))));
    // Pages after a version; another organization's changes are not here.
    let later = db.store.rule_changes(acme.id, 1, 1).await.unwrap();
    assert_eq!(later.len(), 1);
    assert_eq!(later[0].version, 2);
    assert!(
        db.store
            .rule_changes(OrgId::new(now()), 0, 100)
            .await
            .unwrap()
            .is_empty()
    );
    // Pruned changes are gone; the version stays.
    assert_eq!(
        db.store.prune_rule_changes(now()).await.unwrap(),
        0,
        "nothing older than now"
    );
    let pruned = db
        .store
        .prune_rule_changes(now() + chrono::Duration::seconds(1))
        .await
        .unwrap();
    assert_eq!(pruned as i64, version);
    assert!(
        db.store
            .rule_changes(acme.id, 0, 100)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(db.store.rules_version(acme.id).await.unwrap(), version);
}
