//! Node to node on PostgreSQL: an event recorded through one node's store, seen by another's.
//! Two stores on one database stand for two `lintel serve` nodes: each has its own pool and
//! its own listening connection. Timed from before the record (its group commit included)
//! to the other node having heard `Events(org)` and read the event from the table, which is
//! how `WatchEvents` and the door board follow another node's events.
//!
//! `cargo bench -p lintel-store --bench nodes` (needs PostgreSQL: `LINTEL_TEST_POSTGRES_URL`,
//! or the default `postgres://postgres@127.0.0.1:5432/postgres`).

use std::time::{Duration, Instant};

use lintel_domain::{EventActor, EventKind, Organization, Slug, TimeZone};
use lintel_store::{Audit, EventFilter, PageRequest, Signal};
use lintel_testkit::TestDb;
use uuid::Uuid;

const EVENTS: usize = 2_000;

#[tokio::main]
async fn main() {
    let Some(db) = TestDb::postgres().await else {
        eprintln!("needs PostgreSQL");
        return;
    };
    let here = lintel_store::connect(&db.url).await.unwrap();
    let there = lintel_store::connect(&db.url).await.unwrap();
    let now = lintel_domain::Clock::now(&lintel_domain::SystemClock);
    let org = Organization {
        id: lintel_domain::OrgId::new(now),
        slug: Slug::parse("slug", "acme").unwrap(),
        name: "Acme".into(),
        time_zone: TimeZone::parse("tz", "Europe/Stockholm").unwrap(),
        settings: Default::default(),
        created_at: now,
        updated_at: now,
    };
    let audit = |at| Audit {
        actor: EventActor::System,
        at,
    };
    here.create_org(&org, None, &audit(now)).await.unwrap();
    let mut heard = there.signals();
    // The listener says `Missed` once it listens: from then on nothing is lost.
    while heard.next().await != Signal::Missed {}

    let mut took = Vec::with_capacity(EVENTS);
    for i in 0..EVENTS {
        let at = lintel_domain::Clock::now(&lintel_domain::SystemClock);
        let id = Uuid::from_u128(i as u128);
        let start = Instant::now();
        here.record_event(
            org.id,
            &audit(at),
            EventKind::DecisionGranted,
            Some(("door", id)),
            serde_json::json!({}),
        )
        .await
        .unwrap();
        loop {
            if heard.next().await == Signal::Events(org.id) {
                let newest = PageRequest {
                    limit: 1,
                    after: None,
                };
                let seen = there
                    .list_events(org.id, &EventFilter::default(), newest)
                    .await
                    .unwrap();
                if seen.items.iter().any(|e| e.object_id == Some(id)) {
                    break;
                }
            }
        }
        took.push(start.elapsed());
    }
    took.sort();
    let pick = |q: f64| took[((took.len() as f64 * q) as usize).min(took.len() - 1)];
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "{EVENTS} events, node to node: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        ms(pick(0.50)),
        ms(pick(0.99)),
        ms(took[took.len() - 1])
    );
}
