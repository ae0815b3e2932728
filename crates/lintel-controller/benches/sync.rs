//! How fast and how big the controller's sync is, measured in one run (figures in the
//! README's "Door controllers"):
//!
//! 1. revocation → enforced: a card revoked through the HTTP API until the controller's rules
//!    no longer hold it, p50/p99 over `LINTEL_BENCH_TRIALS` (200) trials on loopback;
//! 2. a controller with `LINTEL_BENCH_CREDENTIALS` (250,000) cards: the rules' size as JSON
//!    and gzipped (as they travel), the server's time to build them, a fresh controller's time
//!    to full resync, and its resident memory; then revocation → enforced among that many
//!    (each sent as a change);
//! 3. a card presented → relay released, in process, with the same rules: p50/p99, with the
//!    journal on the data directory's disk (fsynced) and on tmpfs (the decision alone).
//!
//! On PostgreSQL also, with two nodes: revocation through one node with the controller's
//! stream on the other, and an event recorded through one node until a `WatchEvents` stream
//! on the other delivers it.
//!
//! `cargo bench -p lintel-controller --bench sync`; `LINTEL_BENCH_BACKEND=postgres` runs the
//! server on PostgreSQL (`LINTEL_TEST_POSTGRES_URL`) instead of SQLite.

#[path = "../tests/controller/harness.rs"]
mod harness;

use std::io::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use harness::{Acme, Controller, Server};
use lintel_controller::disk::Disk;
use lintel_controller::door::{Doors, Presented};
use lintel_controller::io::SimulatedRelays;
use lintel_domain::credential::{CredentialStatus, card_key};
use lintel_domain::decision::CredentialRule;
use lintel_domain::{
    Card, CardId, Clock as _, ControllerId, EventActor, MembershipId, SystemClock,
};
use lintel_store::Audit;
use lintel_testkit::Backend;
use serde_json::Value;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn quantile(sorted: &[Duration], q: f64) -> Duration {
    let at = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[at]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn rss_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Acme as the tests make it, with its controller as the store holds it.
async fn acme(server: &Server) -> (Acme, lintel_domain::Controller) {
    let acme = server.acme().await;
    let org = server.state.store.get_org_by_slug("acme").await.unwrap();
    let id = ControllerId(acme.controller_id.parse().unwrap());
    let controller = server.state.store.get_controller(org.id, id).await.unwrap();
    (acme, controller)
}

/// Cards for Ada straight through the store (the API would take as long per card, and the
/// point here is what the controller then gets), with the node stopped meanwhile: two SQLite
/// pools writing at once get in each other's way.
async fn cards(server: &mut Server, ada: MembershipId, from: usize, count: usize) -> Vec<CardId> {
    server.stop().await;
    let org = server.state.store.get_org_by_slug("acme").await.unwrap();
    let audit = Audit {
        actor: EventActor::System,
        at: SystemClock.now(),
    };
    let mut ids = Vec::with_capacity(count);
    for n in from..from + count {
        let card = Card {
            id: CardId::new(SystemClock.now()),
            member_id: ada,
            number: format!("{}", 100_000 + n),
            facility_code: Some(12),
            description: String::new(),
            status: CredentialStatus::Active,
            created_at: SystemClock.now(),
            revoked_at: None,
        };
        server
            .state
            .store
            .create_card(org.id, &card, &audit)
            .await
            .unwrap();
        ids.push(card.id);
        if (n - from + 1).is_multiple_of(25_000) {
            eprintln!("  {} cards made", n - from + 1);
        }
    }
    server.restart().await;
    ids
}

async fn until(controller: &Controller, ok: impl Fn(&Value) -> bool) -> Value {
    loop {
        let status = controller.say("status");
        if ok(&status) {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(sync_benches());
    card_to_relay();
}

async fn sync_benches() {
    let backend = match std::env::var("LINTEL_BENCH_BACKEND").as_deref() {
        Ok("postgres") => Backend::Postgres,
        _ => Backend::Sqlite,
    };
    let trials = env_number("LINTEL_BENCH_TRIALS", 200);
    let total = env_number("LINTEL_BENCH_CREDENTIALS", 250_000);
    let mut server = Server::start(backend).await.expect("a database");
    let (p, stored) = acme(&server).await;
    // On PostgreSQL, as many again to revoke across two nodes.
    let two_nodes = backend == Backend::Postgres;
    let count = if two_nodes { 2 * trials } else { trials };
    let revocable = cards(&mut server, MembershipId(p.ada.parse().unwrap()), 0, count).await;
    let dir = tempfile::tempdir().unwrap();
    let controller = Controller::start(server.addr, &p.token, dir.path());
    until(&controller, |s| s["credentials"] == count).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    println!(
        "controller idle, {count} credentials: VmRSS {} KiB (peak {} KiB)",
        rss_kib(controller.pid(), "VmRSS"),
        rss_kib(controller.pid(), "VmHWM")
    );

    // 1. Revocation → enforced, on one node; then through one node with the controller's
    // stream on another.
    let took = revoke_each(&server, server.addr, &p, &controller, &revocable[..trials]).await;
    report(&format!("one node, {backend:?}"), took);
    let answer = controller.say(&format!("card {} {} 12", p.door, 100_000));
    assert_eq!(answer["reason"], "credential_revoked", "{answer}");
    drop(controller);
    if two_nodes {
        let second = server.another_node().await;
        let controller = Controller::start(second.addr, &p.token, dir.path());
        until(&controller, |s| s["connected"] == true).await;
        let took = revoke_each(&server, server.addr, &p, &controller, &revocable[trials..]).await;
        report("across two PostgreSQL nodes", took);
        let took = watch_across(&server, second.addr, &p, trials).await;
        println!(
            "event recorded through one node → delivered by WatchEvents on the other ({} trials): p50 {} p99 {} max {}",
            took.len(),
            ms(quantile(&took, 0.5)),
            ms(quantile(&took, 0.99)),
            ms(*took.last().unwrap())
        );
    }

    // 2. A controller with `total` credentials.
    let started = Instant::now();
    let many = cards(
        &mut server,
        MembershipId(p.ada.parse().unwrap()),
        count,
        total - count,
    )
    .await;
    eprintln!("  made in {:.0} s", started.elapsed().as_secs_f64());
    let org = server.state.store.get_org_by_slug("acme").await.unwrap();
    let started = Instant::now();
    let rules = lintel_server::app::controllers::rules_for(&server.state, org.id, &stored)
        .await
        .unwrap();
    let built = started.elapsed();
    let json = serde_json::to_vec(&rules).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&json).unwrap();
    let gzipped = gz.finish().unwrap().len();
    println!(
        "{} credentials: rules {:.1} MB as JSON, {:.1} MB gzipped; built by the server in {}",
        rules.credentials.len(),
        json.len() as f64 / 1e6,
        gzipped as f64 / 1e6,
        ms(built)
    );
    let fresh = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let controller = Controller::start(server.addr, &p.token, fresh.path());
    let expected = rules.credentials.len();
    until(&controller, |s| s["credentials"] == expected).await;
    let resync = started.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await;
    println!(
        "full resync of a fresh controller: {} (start to rules applied); VmRSS {} KiB (peak {} KiB)",
        ms(resync),
        rss_kib(controller.pid(), "VmRSS"),
        rss_kib(controller.pid(), "VmHWM")
    );
    // Revocations among that many: each travels as a change, applied in place.
    let took = revoke_each(&server, server.addr, &p, &controller, &many[..20]).await;
    report(&format!("{expected} credentials, {backend:?}"), took);
    println!(
        "after those changes: VmRSS {} KiB (peak {} KiB); rules received {}",
        rss_kib(controller.pid(), "VmRSS"),
        rss_kib(controller.pid(), "VmHWM"),
        controller.say("status")["rules_received"]
    );
    drop(controller);
    server.stop().await;
}

/// Revokes each card through the node at `node` and times it until `controller` holds rules
/// without it.
async fn revoke_each(
    server: &Server,
    node: std::net::SocketAddr,
    p: &Acme,
    controller: &Controller,
    ids: &[CardId],
) -> Vec<Duration> {
    let mut took = Vec::with_capacity(ids.len());
    for (n, id) in ids.iter().enumerate() {
        // Changes come at any moment, not in step with anything: wait a spread-out while
        // first (0 to 59 ms).
        tokio::time::sleep(Duration::from_millis((n as u64 * 37) % 60)).await;
        let before = controller.say("status")["rules_hash"].clone();
        let started = Instant::now();
        let path = format!("/api/v1/orgs/acme/cards/{}", id.0);
        let (status, _) = server
            .call_on(node, reqwest::Method::DELETE, &p.key, &path, None)
            .await;
        assert_eq!(status, 200);
        until(controller, |s| s["rules_hash"] != before).await;
        took.push(started.elapsed());
    }
    took.sort();
    took
}

/// Renames the door through the first node `trials` times, and times each until a
/// `WatchEvents` stream on the node at `other` delivers its event.
async fn watch_across(
    server: &Server,
    other: std::net::SocketAddr,
    p: &Acme,
    trials: usize,
) -> Vec<Duration> {
    let mut watch = harness::watch_acme(other, &p.key, "door.updated").await;
    let path = format!("/api/v1/orgs/acme/doors/{}", p.door);
    let mut took = Vec::with_capacity(trials);
    for n in 0..trials {
        tokio::time::sleep(Duration::from_millis((n as u64 * 37) % 60)).await;
        let name = format!("Front {n}");
        let started = Instant::now();
        let body = serde_json::json!({ "name": name });
        let (status, _) = server
            .call(reqwest::Method::PATCH, &p.key, &path, Some(body))
            .await;
        assert_eq!(status, 200);
        while !watch
            .message()
            .await
            .unwrap()
            .unwrap()
            .summary_json
            .contains(&name)
        {}
        took.push(started.elapsed());
    }
    took.sort();
    took
}

fn report(layout: &str, took: Vec<Duration>) {
    println!(
        "revocation → enforced at the controller ({layout}, {} trials): p50 {} p99 {} max {}",
        took.len(),
        ms(quantile(&took, 0.5)),
        ms(quantile(&took, 0.99)),
        ms(*took.last().unwrap())
    );
}

/// 3. In process: a card presented until its relay is released, with the journal fsynced.
fn card_to_relay() {
    let total = env_number("LINTEL_BENCH_CREDENTIALS", 250_000);
    let now = SystemClock.now();
    let door = lintel_domain::DoorId::new(now);
    let ada = MembershipId::new(now);
    let rules = lintel_domain::controller::ControllerRules {
        version: 1,
        controller_id: ControllerId::new(now),
        site_id: lintel_domain::SiteId::new(now),
        pin_site_key: lintel_domain::controller::hex(&[7; 32]),
        offline_max_age_secs: i64::from(lintel_domain::Site::DEFAULT_OFFLINE_RULES_MAX_DAYS)
            * 24
            * 3600,
        doors: vec![lintel_domain::controller::ControllerDoor {
            id: door,
            name: "Front".into(),
            unlock_duration_secs: 5,
            reader_key: lintel_domain::controller::hex(&[3; 32]),
        }],
        schedules: vec![],
        members: vec![lintel_domain::decision::MemberRule {
            id: ada,
            active: true,
            groups: vec![],
        }],
        accesses: vec![lintel_domain::decision::AccessRule {
            id: lintel_domain::AccessId::new(now),
            valid_from: None,
            valid_to: None,
            schedule: None,
            doors: vec![lintel_domain::decision::DoorRule {
                door,
                in_types: lintel_domain::decision::AuthTypes::ANY,
                out_types: lintel_domain::decision::AuthTypes::ANY,
                held_open: false,
            }],
            members: vec![ada],
            groups: vec![],
        }],
        credentials: (0..total)
            .map(|n| {
                (
                    card_key(Some(12), &format!("{}", 100_000 + n)),
                    CredentialRule {
                        member: ada,
                        revoked: false,
                    },
                )
            })
            .collect(),
    };
    for (place, dir) in [
        ("disk", tempfile::tempdir().unwrap()),
        ("tmpfs", tempfile::tempdir_in("/dev/shm").unwrap()),
    ] {
        let doors = Doors::open(
            Disk::open(dir.path()).unwrap(),
            Arc::new(SimulatedRelays::default()),
        )
        .unwrap();
        let json = serde_json::to_vec(&rules).unwrap();
        doors.replace_rules(&json, &rules.hash()).unwrap();
        let mut took = Vec::with_capacity(5000);
        for n in 0..5000 {
            let card = Presented::Card {
                facility_code: Some(12),
                number: format!("{}", 100_000 + (n * 7919) % total),
            };
            let started = Instant::now();
            let answer = doors.present(door, &card).unwrap();
            took.push(started.elapsed());
            assert!(answer.granted);
        }
        took.sort();
        println!(
            "card presented → relay released, in process, {total} credentials, journal on {place}: p50 {} p99 {}",
            ms(quantile(&took, 0.5)),
            ms(quantile(&took, 0.99))
        );
    }
}
