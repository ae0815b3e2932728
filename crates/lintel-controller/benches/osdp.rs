//! A card through an OSDP reader, measured in one run (figures in the README's "OSDP
//! readers"): PyPI's libosdp reader (`tests/controller/osdp_reader.py`) on a pseudo-terminal,
//! the controller binary on the other end at 115,200 baud on its secure channel, the server
//! in process on SQLite.
//!
//! 1. A card read, from the moment the reader hands it to its LibOSDP until the LED command
//!    of the grant reaches the reader, over `LINTEL_BENCH_TRIALS` (200) cards, p50/p99. The
//!    controller sends the relay its command before it queues the LED's, in the same step,
//!    so this bounds card → relay from above by one exchange on the bus; it includes the wait
//!    for the reader's next poll, the decision and its fsynced journal line.
//! 2. The bytes of one poll and its reply on the secure channel, idle, counted at the reader:
//!    with them, how long one exchange keeps the bus busy at 9,600 and 115,200 baud (ten bits
//!    a byte), and so how many readers one bus polls within OSDP's 200 ms reply deadline.
//!
//! `cargo bench -p lintel-controller --bench osdp` (needs `python3 -m pip install libosdp`).

#[path = "../tests/controller/harness.rs"]
mod harness;

use std::time::Duration;

use harness::{Controller, PyReader, Server, osdp_wiring};
use lintel_testkit::Backend;
use serde_json::json;

fn main() {
    let trials: usize = std::env::var("LINTEL_BENCH_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(run(trials));
}

async fn run(trials: usize) {
    let server = Server::start(Backend::Sqlite).await.unwrap();
    let p = server.acme().await;
    server
        .post(
            &p.key,
            "/api/v1/orgs/acme/cards",
            json!({ "member_id": p.ada, "number": "1001", "facility_code": 12 }),
        )
        .await;
    let mut reader = PyReader::start(1, Some(server.osdp_key(&p.door, 1)))
        .expect("Python's libosdp: python3 -m pip install libosdp");
    let dir = tempfile::tempdir().unwrap();
    let wiring = osdp_wiring(&[(&reader.port, "front-in", 1, &p.door)]);
    let controller = Controller::start_configured(server.addr, &p.token, dir.path(), Some(&wiring));
    controller
        .until_said("readers", "the reader online", |r| {
            r["readers"][0]["state"] == "online"
        })
        .await;

    // 2. Idle polling on the secure channel, counted at the reader.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let state = |reader: &mut PyReader| {
        reader.send(json!({ "state": true }));
        reader.until("its state", |l| l.get("replies").is_some())
    };
    let before = state(&mut reader);
    tokio::time::sleep(Duration::from_secs(5)).await;
    let after = state(&mut reader);
    let count = |key: &str| after[key].as_f64().unwrap() - before[key].as_f64().unwrap();
    let (polls, bytes) = (count("replies"), count("bytes_in") + count("bytes_out"));
    let per_exchange = bytes / polls;
    let seconds = after["t"].as_f64().unwrap() - before["t"].as_f64().unwrap();
    println!(
        "idle: {polls} polls in {seconds:.1} s ({:.0} a second), {per_exchange:.1} bytes a poll and its reply",
        polls / seconds
    );
    for baud in [9_600.0, 115_200.0] {
        let wire_ms = per_exchange * 10.0 / baud * 1000.0;
        println!(
            "  at {baud} baud: {wire_ms:.2} ms on the wire an exchange: {} readers within 200 ms \
             by wire time alone, {} with a reader's typical 3 ms turnaround",
            (200.0 / wire_ms).floor(),
            (200.0 / (wire_ms + 3.0)).floor()
        );
    }

    // 1. Card read → the grant's LED command at the reader.
    let mut times = Vec::with_capacity(trials);
    for _ in 0..trials {
        reader.card(12, 1001);
        let submitted = reader.until("the card handed over", |l| l["submitted"] == "card");
        let led = reader.until("the LED command", |l| l["command"]["name"] == "LED");
        assert_eq!(led["command"]["color"], "Green", "{led}");
        let secs = led["t"].as_f64().unwrap() - submitted["at"].as_f64().unwrap();
        times.push(Duration::from_secs_f64(secs));
        // Cards a person presents come apart; and the next poll is then not in step.
        tokio::time::sleep(Duration::from_millis(37)).await;
    }
    times.sort();
    let at = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "card read → LED command of the grant at the reader, {trials} cards: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        at(0.5).as_secs_f64() * 1000.0,
        at(0.99).as_secs_f64() * 1000.0,
        at(1.0).as_secs_f64() * 1000.0
    );
    assert_eq!(controller.unlocks(), trials as u64);
}
