//! The store conformance suite: every test runs on SQLite and on PostgreSQL.

mod accesses;
mod accounts;
mod api_keys;
mod controllers;
mod credentials;
mod links;
mod members;
mod migrations;
mod orgs;
mod places;

use chrono::{DateTime, Utc};
use lintel_domain::{
    Door, DoorId, DoorKind, EventActor, Group, GroupId, OrgId, OrgSettings, Organization, Site,
    SiteId, Slug, TimeZone,
};
use lintel_store::{Audit, PageRequest};
use lintel_testkit::{Backend, FakeClock, TestDb};

pub async fn db(backend: Backend) -> Option<TestDb> {
    TestDb::new(backend).await
}

/// Runs the futures at once on this runtime and collects their results in order.
pub async fn futures_join<F, T>(futures: impl Iterator<Item = F>) -> Vec<T>
where
    F: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

pub fn now() -> DateTime<Utc> {
    FakeClock::START
}

pub fn org(slug: &str) -> Organization {
    Organization {
        id: OrgId::new(now()),
        slug: Slug::parse("slug", slug).unwrap(),
        name: format!("Org {slug}"),
        time_zone: TimeZone::parse("time_zone", "Europe/Stockholm").unwrap(),
        settings: OrgSettings::default(),
        created_at: now(),
        updated_at: now(),
    }
}

pub fn site(name: &str) -> Site {
    Site {
        offline_rules_max_days: Site::DEFAULT_OFFLINE_RULES_MAX_DAYS,
        id: SiteId::new(now()),
        name: name.into(),
        address: "Storgatan 1, Stockholm".into(),
        time_zone: TimeZone::UTC,
        geofence: None,
        created_at: now(),
        updated_at: now(),
    }
}

pub fn door(site: SiteId, name: &str) -> Door {
    Door {
        id: DoorId::new(now()),
        site_id: site,
        name: name.into(),
        kind: DoorKind::Door,
        geofence_required: false,
        reader_required: false,
        unlock_duration_secs: 5,
        description: String::new(),
        preferences: Default::default(),
        controller_id: None,
        created_at: now(),
        updated_at: now(),
    }
}

pub fn group(name: &str) -> Group {
    Group {
        id: GroupId::new(now()),
        name: name.into(),
        description: String::new(),
        created_at: now(),
        updated_at: now(),
    }
}

/// The organization "acme" with its site "HQ" and that site's door "Front", stored.
pub async fn acme_with_front(db: &TestDb) -> (Organization, Site, Door) {
    let acme = org("acme");
    db.store.create_org(&acme, None, &audit()).await.unwrap();
    let hq = site("HQ");
    db.store.create_site(acme.id, &hq, &audit()).await.unwrap();
    let front = door(hq.id, "Front");
    db.store
        .create_door(acme.id, &front, &audit())
        .await
        .unwrap();
    (acme, hq, front)
}

/// Changes made by Lintel itself, for the event log.
pub fn audit() -> Audit {
    Audit {
        actor: EventActor::System,
        at: now(),
    }
}

pub fn first(limit: u32) -> PageRequest {
    PageRequest { limit, after: None }
}
