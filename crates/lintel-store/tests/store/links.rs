//! Access links on both backends: quotas held under the organization's lock, states and
//! sorts in lists with keyset pages, finding a link by its secret's hash, and links revoked
//! with the member who made them.

use chrono::Duration;
use lintel_domain::{AccessLink, Delivery, LinkId, LinkQuotas, LinkState, MembershipId};
use lintel_store::{LinkFilter, LinkSort, NewLink, PageRequest, StoreError};
use lintel_testkit::{Backend, on_both_backends};

use crate::{audit, db, futures_join, group, now, org};

on_both_backends!(
    quotas_hold_under_concurrent_sends,
    lists_filter_by_state_and_sort_in_pages,
    a_proof_is_spent_once,
);

fn link(group: lintel_domain::GroupId, name: &str, delivery: Delivery) -> AccessLink {
    AccessLink {
        id: LinkId::new(now()),
        group_id: group,
        recipient_name: name.into(),
        delivery,
        address: (delivery != Delivery::Manual).then(|| format!("{name}@example.com")),
        valid_from: None,
        valid_until: None,
        created_by: None,
        created_by_name: "Owner".into(),
        created_at: now(),
        revoked_at: None,
        last_used_at: None,
    }
}

fn new(link: AccessLink, quotas: LinkQuotas) -> NewLink {
    NewLink {
        secret_hash: link.id.0.as_bytes().to_vec(),
        message: None,
        quotas,
        month_start: now() - Duration::days(1),
        link,
    }
}

async fn quotas_hold_under_concurrent_sends(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let acme = org("acme");
    db.store.create_org(&acme, None, &audit()).await.unwrap();
    let visitors = group("Visitors");
    db.store
        .create_group(acme.id, &visitors, &audit())
        .await
        .unwrap();
    let quotas = LinkQuotas {
        email_links: 3,
        sms_links_per_month: 0,
    };
    // Ten at once for three places: exactly three get one.
    let sends = (0..10).map(|i| {
        let store = db.store.clone();
        let l = link(visitors.id, &format!("g{i}"), Delivery::Email);
        async move { store.create_link(acme.id, &new(l, quotas), &audit()).await }
    });
    let results = futures_join(sends).await;
    let made = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(made, 3, "{results:?}");
    assert!(results.iter().all(|r| matches!(
        r,
        Ok(())
            | Err(StoreError::Conflict {
                code: "email_link_quota",
                ..
            })
    )));
    assert!(matches!(
        db.store
            .create_link(
                acme.id,
                &new(link(visitors.id, "s", Delivery::Sms), quotas),
                &audit()
            )
            .await,
        Err(StoreError::Conflict {
            code: "sms_link_quota",
            ..
        })
    ));
    // Manual links are not counted; the quotas read back as set.
    db.store
        .create_link(
            acme.id,
            &new(link(visitors.id, "m", Delivery::Manual), quotas),
            &audit(),
        )
        .await
        .unwrap();
    assert_eq!(
        db.store.link_quotas(acme.id).await.unwrap(),
        LinkQuotas::default()
    );
    db.store
        .set_link_quotas(acme.id, &quotas, &audit())
        .await
        .unwrap();
    assert_eq!(db.store.link_quotas(acme.id).await.unwrap(), quotas);
}

async fn lists_filter_by_state_and_sort_in_pages(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    let acme = org("acme");
    db.store.create_org(&acme, None, &audit()).await.unwrap();
    let visitors = group("Visitors");
    db.store
        .create_group(acme.id, &visitors, &audit())
        .await
        .unwrap();
    let quotas = LinkQuotas::default();
    let t = |h: i64| now() + Duration::hours(h);
    let mut made = Vec::new();
    for (name, from, until, used) in [
        ("Cecil", None, Some(t(5)), Some(t(-1))),
        ("Alma", Some(t(2)), None, None),
        ("Bea", None, Some(t(1)), Some(t(-3))),
        ("Dag", None, None, Some(t(-2))),
    ] {
        let mut l = link(visitors.id, name, Delivery::Manual);
        l.valid_from = from;
        l.valid_until = until;
        l.last_used_at = used;
        db.store
            .create_link(acme.id, &new(l.clone(), quotas), &audit())
            .await
            .unwrap();
        made.push(l);
    }
    let hash = made[0].id.0.as_bytes().to_vec();
    let (found_org, found) = db.store.find_link(&hash).await.unwrap().unwrap();
    assert_eq!((found_org.id, found.id), (acme.id, made[0].id));
    assert!(db.store.find_link(b"nothing").await.unwrap().is_none());
    db.store
        .revoke_link(acme.id, made[3].id, &audit())
        .await
        .unwrap();

    let names = |filter: LinkFilter| {
        let store = db.store.clone();
        async move {
            // Pages of one, following the cursor, to exercise the keyset.
            let mut names = Vec::new();
            let mut after = None;
            loop {
                let page = store
                    .list_links(acme.id, filter, PageRequest { limit: 1, after })
                    .await
                    .unwrap();
                names.extend(page.items.iter().map(|l| l.recipient_name.clone()));
                match page.next_after {
                    Some(next) => after = Some(next),
                    None => return names,
                }
            }
        }
    };
    let filter = |state, sort| LinkFilter {
        group: None,
        state,
        created_by: None,
        sort,
        now: now(),
    };
    assert_eq!(
        names(filter(None, LinkSort::Name)).await,
        ["Alma", "Bea", "Cecil", "Dag"]
    );
    assert_eq!(
        names(filter(None, LinkSort::LastUsed)).await,
        ["Cecil", "Dag", "Bea", "Alma"],
        "most recent first, never last"
    );
    assert_eq!(
        names(filter(None, LinkSort::ValidUntil)).await,
        ["Bea", "Cecil", "Alma", "Dag"],
        "soonest first, for ever last"
    );
    assert_eq!(
        names(filter(Some(LinkState::Active), LinkSort::Created)).await,
        ["Cecil", "Bea"]
    );
    assert_eq!(
        names(filter(Some(LinkState::Scheduled), LinkSort::Created)).await,
        ["Alma"]
    );
    assert_eq!(
        names(filter(Some(LinkState::Revoked), LinkSort::Created)).await,
        ["Dag"]
    );
    let later = LinkFilter {
        now: t(3),
        ..filter(Some(LinkState::Expired), LinkSort::Created)
    };
    assert_eq!(names(later).await, ["Bea"]);
    let mine = LinkFilter {
        created_by: Some(MembershipId::new(now())),
        ..filter(None, LinkSort::Created)
    };
    assert!(names(mine).await.is_empty());
}

async fn a_proof_is_spent_once(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    // Twenty spends of one proof at once: exactly one succeeds.
    let spends = (0..20).map(|_| {
        let store = db.store.clone();
        async move { store.spend_proof("reader:abc", now()).await.unwrap() }
    });
    let results = futures_join(spends).await;
    assert_eq!(results.iter().filter(|ok| **ok).count(), 1);
    assert!(db.store.spend_proof("reader:other", now()).await.unwrap());
    // Forgotten after the purge's cut-off, as send records are.
    let cutoffs = lintel_store::Purge {
        sends_before: now() + Duration::seconds(1),
        attempts_before: now() - Duration::days(1),
        messages_before: now() - Duration::days(1),
        flows_before: now() - Duration::days(1),
        tokens_before: now() - Duration::days(1),
    };
    assert_eq!(db.store.purge(&cutoffs).await.unwrap(), 2);
    assert!(db.store.spend_proof("reader:abc", now()).await.unwrap());
}
