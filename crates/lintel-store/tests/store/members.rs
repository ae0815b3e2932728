//! Memberships, invitations and the event log, on both backends.

use chrono::Duration;
use lintel_domain::{
    Area, Areas, EventKind, Invitation, InviteChannel, Membership, MembershipId, MembershipStatus,
    OrgId,
};
use lintel_store::{EventFilter, InviteLink, MemberFilter, NewMember, StoreError};
use lintel_testkit::{Backend, on_both_backends};

use crate::{audit, db, first, group, now, org};

on_both_backends!(
    invitations_are_found_by_their_link_and_unique_per_address,
    an_invited_owner_is_not_held_to_the_last_owner_rule,
    groups_of_another_organization_are_refused,
    every_change_lands_in_the_log_in_its_transaction,
    events_are_followed_oldest_first_by_kind_within_the_organization,
    decisions_are_counted_per_door_and_period_within_the_organization,
);

fn invitation(address: &str, areas: &[Area], hash: &[u8]) -> NewMember {
    NewMember {
        membership: Membership {
            id: MembershipId::new(now()),
            account_id: None,
            status: MembershipStatus::Invited,
            areas: Areas::new(areas.iter().copied()),
            groups: vec![],
            invitation: Some(Invitation {
                channel: InviteChannel::Email,
                address: address.into(),
                expires_at: Some(now() + Duration::days(7)),
            }),
            created_at: now(),
            updated_at: now(),
        },
        link: Some(InviteLink {
            token_hash: hash.to_vec(),
            expires_at: Some(now() + Duration::days(7)),
        }),
        message: None,
    }
}

async fn invitations_are_found_by_their_link_and_unique_per_address(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let acme = org("acme");
    db.store.create_org(&acme, None, &audit()).await.unwrap();
    let new = invitation("ada@example.com", &[Area::Doors], b"hash-1");
    db.store
        .create_membership(acme.id, &new, &audit())
        .await
        .unwrap();
    let again = invitation("ada@example.com", &[], b"hash-2");
    assert!(matches!(
        db.store.create_membership(acme.id, &again, &audit()).await,
        Err(StoreError::Conflict {
            code: "already_invited",
            ..
        })
    ));

    let (found_org, record) = db.store.find_invitation(b"hash-1").await.unwrap().unwrap();
    assert_eq!(found_org.id, acme.id);
    assert_eq!(record.membership, new.membership);
    assert!(db.store.find_invitation(b"other").await.unwrap().is_none());

    let filter = MemberFilter {
        status: Some(MembershipStatus::Invited),
        ..MemberFilter::default()
    };
    let page = db
        .store
        .list_members(acme.id, &filter, first(10))
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    let filter = MemberFilter {
        query: Some("ADA@".into()),
        ..MemberFilter::default()
    };
    assert_eq!(
        db.store
            .list_members(acme.id, &filter, first(10))
            .await
            .unwrap()
            .items
            .len(),
        1
    );
}

async fn an_invited_owner_is_not_held_to_the_last_owner_rule(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let acme = org("acme");
    let owner = invitation("owner@example.com", &[Area::Owner], b"h");
    db.store
        .create_org(&acme, Some(&owner), &audit())
        .await
        .unwrap();
    // An invited owner is not an active owner: the rule concerns active ones only.
    let id = owner.membership.id;
    db.store
        .update_membership(
            acme.id,
            id,
            &|m| {
                m.areas = Areas::new([Area::Members]);
                Ok(())
            },
            &audit(),
        )
        .await
        .unwrap();
    db.store
        .delete_membership(acme.id, id, &audit(), EventKind::MemberRemoved)
        .await
        .unwrap();
    assert!(matches!(
        db.store.get_member(acme.id, id).await,
        Err(StoreError::NotFound)
    ));
}

async fn groups_of_another_organization_are_refused(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let (a, b) = (org("org-a"), org("org-b"));
    db.store.create_org(&a, None, &audit()).await.unwrap();
    db.store.create_org(&b, None, &audit()).await.unwrap();
    let theirs = group("Theirs");
    db.store
        .create_group(b.id, &theirs, &audit())
        .await
        .unwrap();
    let mut new = invitation("ada@example.com", &[], b"h");
    new.membership.groups = vec![theirs.id];
    assert!(matches!(
        db.store.create_membership(a.id, &new, &audit()).await,
        Err(StoreError::MissingReference { field: "groups" })
    ));
    assert!(
        db.store
            .list_members(a.id, &MemberFilter::default(), first(10))
            .await
            .unwrap()
            .items
            .is_empty()
    );

    let ours = group("Ours");
    db.store.create_group(a.id, &ours, &audit()).await.unwrap();
    new.membership.groups = vec![ours.id];
    db.store
        .create_membership(a.id, &new, &audit())
        .await
        .unwrap();
    let filter = MemberFilter {
        group: Some(ours.id),
        ..MemberFilter::default()
    };
    let page = db
        .store
        .list_members(a.id, &filter, first(10))
        .await
        .unwrap();
    assert_eq!(page.items[0].membership.groups, vec![ours.id]);
    // Deleting the group takes it off its members.
    db.store
        .delete_group(a.id, ours.id, &audit())
        .await
        .unwrap();
    let member = db.store.get_member(a.id, new.membership.id).await.unwrap();
    assert!(member.membership.groups.is_empty());
}

async fn every_change_lands_in_the_log_in_its_transaction(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let acme = org("acme");
    db.store.create_org(&acme, None, &audit()).await.unwrap();
    let staff = group("Staff");
    db.store
        .create_group(acme.id, &staff, &audit())
        .await
        .unwrap();
    // A refused change records nothing.
    assert!(
        db.store
            .create_group(acme.id, &group("Staff"), &audit())
            .await
            .is_err()
    );
    db.store
        .update_group(
            acme.id,
            staff.id,
            &|g| {
                g.description = "Everyone".into();
                Ok(())
            },
            &audit(),
        )
        .await
        .unwrap();
    let log = db
        .store
        .list_events(acme.id, &EventFilter::default(), first(10))
        .await
        .unwrap();
    let kinds: Vec<_> = log.items.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["group.updated", "group.created", "organization.created"]
    );
    assert_eq!(
        log.items[0].summary["changes"]["description"],
        serde_json::json!({ "before": "", "after": "Everyone" })
    );
    let groups_only = EventFilter {
        kind: Some("group".into()),
        ..EventFilter::default()
    };
    let page = db
        .store
        .list_events(acme.id, &groups_only, first(1))
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    let rest = db
        .store
        .list_events(
            acme.id,
            &groups_only,
            lintel_store::PageRequest {
                limit: 10,
                after: page.next_after,
            },
        )
        .await
        .unwrap();
    assert_eq!(rest.items[0].kind, "group.created");
    assert!(rest.next_after.is_none());
}

async fn events_are_followed_oldest_first_by_kind_within_the_organization(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let (acme, globex) = (org("acme"), org("globex"));
    for o in [&acme, &globex] {
        db.store.create_org(o, None, &audit()).await.unwrap();
    }
    let at = |secs: i64| lintel_store::Audit {
        at: now() + Duration::seconds(secs),
        ..audit()
    };
    for (secs, kind) in [
        (1, EventKind::DoorCreated),
        (2, EventKind::DecisionGranted),
        (3, EventKind::DoorUpdated),
    ] {
        let summary = serde_json::json!({});
        db.store
            .record_event(acme.id, &at(secs), kind, None, summary.clone())
            .await
            .unwrap();
        db.store
            .record_event(globex.id, &at(secs), kind, None, summary)
            .await
            .unwrap();
    }
    let kinds = |events: Vec<lintel_domain::Event>| -> Vec<String> {
        events.into_iter().map(|e| e.kind).collect()
    };
    let all = db
        .store
        .events_from(acme.id, None, uuid::Uuid::nil(), 100)
        .await
        .unwrap();
    let ids: Vec<_> = all.iter().map(|e| e.id.0).collect();
    assert_eq!(
        kinds(all),
        [
            "organization.created",
            "door.created",
            "decision.granted",
            "door.updated"
        ]
    );
    // From an id on, that id included; a limit; a kind's object.
    let from = db
        .store
        .events_from(acme.id, None, ids[2], 1)
        .await
        .unwrap();
    assert_eq!(kinds(from), ["decision.granted"]);
    let doors = db
        .store
        .events_from(acme.id, Some("door"), uuid::Uuid::nil(), 100)
        .await
        .unwrap();
    assert_eq!(kinds(doors), ["door.created", "door.updated"]);
    let exact = db
        .store
        .events_from(acme.id, Some("door.updated"), ids[1], 100)
        .await
        .unwrap();
    assert_eq!(kinds(exact), ["door.updated"]);
}

async fn decisions_are_counted_per_door_and_period_within_the_organization(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let (acme, globex) = (org("acme"), org("globex"));
    for o in [&acme, &globex] {
        db.store.create_org(o, None, &audit()).await.unwrap();
    }
    let (front, back) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    let (ada, bob) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    let hour = |h: i64| now() + Duration::hours(h);
    let decide = |org: OrgId, at_minutes: i64, kind: EventKind, door: uuid::Uuid, member| {
        let db = &db;
        async move {
            let audit = lintel_store::Audit {
                at: now() + Duration::minutes(at_minutes),
                ..audit()
            };
            let summary = serde_json::json!({ "reason": null, "member_id": member });
            db.store
                .record_event(org, &audit, kind, Some(("door", door)), summary)
                .await
                .unwrap();
        }
    };
    use EventKind::{DecisionDenied as Denied, DecisionGranted as Granted};
    // Before the periods, in each of two hours, at an edge, after them; another
    // organization's; and a change that is no decision.
    decide(acme.id, -1, Granted, front, Some(ada)).await;
    decide(acme.id, 0, Granted, front, Some(ada)).await;
    decide(acme.id, 10, Granted, front, Some(bob)).await;
    decide(acme.id, 20, Denied, front, None).await;
    decide(acme.id, 59, Granted, back, Some(ada)).await;
    decide(acme.id, 60, Denied, front, Some(bob)).await;
    decide(acme.id, 61, Granted, front, None).await;
    decide(acme.id, 120, Granted, front, Some(bob)).await;
    decide(globex.id, 5, Granted, front, Some(ada)).await;
    db.store
        .record_event(
            acme.id,
            &audit(),
            EventKind::DoorUpdated,
            Some(("door", front)),
            serde_json::json!({}),
        )
        .await
        .unwrap();

    let activity = db
        .store
        .decision_activity(acme.id, &[hour(0), hour(1), hour(2)])
        .await
        .unwrap();
    let mut counts: Vec<_> = activity
        .counts
        .iter()
        .map(|c| (c.door_id == front, c.period, c.granted, c.denied))
        .collect();
    counts.sort();
    assert_eq!(
        counts,
        [(false, 0, 1, 0), (true, 0, 2, 1), (true, 1, 1, 1)],
        "{activity:?}"
    );
    // Ada and Bob, each granted at least once; a decision that names no member is no one.
    assert_eq!(activity.members_granted, 2);
    // One period; none at all; edges out of order.
    let one = db
        .store
        .decision_activity(acme.id, &[hour(1), hour(2)])
        .await
        .unwrap();
    assert_eq!(one.members_granted, 0);
    assert_eq!(one.counts.len(), 1);
    assert_eq!(
        db.store.decision_activity(acme.id, &[]).await.unwrap(),
        lintel_store::DecisionActivity::default()
    );
    assert!(
        db.store
            .decision_activity(acme.id, &[hour(1), hour(0)])
            .await
            .is_err()
    );
}
