//! Several `lintel serve` nodes on one PostgreSQL database, as in production: phones unlock
//! through all three, a controller holds its stream on one, and that node is killed with
//! SIGKILL mid-load. Every unlock answered `granted` has its event, none is recorded twice,
//! the other nodes keep answering, and the controller is back on another node at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use lintel_testkit::TestDb;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::cli::{Log, lintel_out, serve_with};

/// What follows the last `marker` in any node's log (the outbox logs messages when no
/// provider is configured), as far as `part` holds: whichever node sent it.
fn from_logs(logs: &[Log], marker: &str, part: fn(char) -> bool) -> String {
    for _ in 0..200 {
        for log in logs {
            let found = log.lock().unwrap().iter().rev().find_map(|line| {
                let at = line.rfind(marker)? + marker.len();
                Some(
                    line[at..]
                        .chars()
                        .take_while(|c| part(*c))
                        .collect::<String>(),
                )
            });
            if let Some(found) = found {
                return found;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("no {marker} in the nodes' logs");
}

fn token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// POSTs `body`, with `bearer` unless empty; the answer must be a success.
async fn call(client: &reqwest::Client, bearer: &str, url: String, body: Value) -> Value {
    let mut req = client.post(url).json(&body);
    if !bearer.is_empty() {
        req = req.bearer_auth(bearer);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{status}: {body}");
    body
}

/// What the phones saw: unlocks answered granted, and requests that got no answer (sent to
/// the node as it died).
#[derive(Default)]
struct Tally {
    granted: AtomicU64,
    unanswered: AtomicU64,
    after_kill: AtomicU64,
}

#[tokio::test]
async fn three_nodes_lose_and_duplicate_no_decision_when_one_is_killed_mid_load() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let url = ["--database-url", db.url.as_str()];
    let mut nodes: Vec<_> = (0..3).map(|_| serve_with(dir.path(), &url, &[])).collect();
    let base: Vec<String> = nodes
        .iter()
        .map(|(_, a, _)| format!("http://{a}"))
        .collect();
    let logs: Vec<Log> = nodes.iter().map(|(_, _, l)| l.clone()).collect();
    let client = reqwest::Client::new();

    // Ada's organization, through the operator's commands and the API of different nodes.
    lintel_out(
        dir.path(),
        &[
            &url[..],
            &["admin", "create-org", "--slug", "acme", "--name", "Acme"],
        ]
        .concat(),
    );
    let key = lintel_out(
        dir.path(),
        &[
            &url[..],
            &["admin", "create-api-key", "--org", "acme", "--name", "t"],
        ]
        .concat(),
    )
    .trim()
    .to_owned();
    let api = |node: usize, path: &str| format!("{}/api/v1{path}", base[node]);
    let site = call(
        &client,
        &key,
        api(1, "/orgs/acme/sites"),
        json!({ "name": "HQ" }),
    )
    .await;
    let made = call(
        &client,
        &key,
        api(2, "/orgs/acme/controllers"),
        json!({ "site_id": site["id"], "name": "Cabinet" }),
    )
    .await;
    let door = |name: &str, controller: Value| {
        call(
            &client,
            &key,
            api(0, "/orgs/acme/doors"),
            json!({ "site_id": site["id"], "name": name, "controller_id": controller }),
        )
    };
    let front = door("Front", Value::Null).await["id"].clone();
    let back = door("Back", made["controller"]["id"].clone()).await["id"].clone();
    let ada = call(
        &client,
        &key,
        api(1, "/orgs/acme/invitations"),
        json!({ "email": "ada@example.com" }),
    )
    .await;
    call(
        &client,
        &key,
        api(2, "/orgs/acme/accesses"),
        json!({ "name": "Any time", "doors": [{ "door_id": front }, { "door_id": back }],
                "users": [ada["id"]] }),
    )
    .await;
    call(
        &client,
        "",
        api(0, "/auth/register"),
        json!({ "first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com",
                "phone": "+46701234567" }),
    )
    .await;
    let token = from_logs(&logs, "confirm?token=", token_char);
    let sign_in = call(
        &client,
        "",
        api(1, "/auth/email/verify"),
        json!({ "token": token }),
    )
    .await;
    let code = from_logs(&logs, "code is ", |c| c.is_ascii_digit());
    let signed_in = call(
        &client,
        "",
        api(2, "/auth/sms/verify"),
        json!({ "sign_in": sign_in["sign_in"], "code": code, "device_name": "phone", "pin": "2580" }),
    )
    .await;
    // Her invitation made her a member as she signed up.
    let auth = signed_in["auth_token"].as_str().unwrap().to_owned();

    // The controller knows all three nodes and starts on node 0, the one to be killed.
    let controller = lintel_controller::config::Config {
        server: base.join(","),
        data_dir: dir.path().join("controller"),
        listen: "127.0.0.1:0".parse().unwrap(),
        heartbeat_secs: 1,
        ..lintel_controller::config::Config::default()
    };
    let controller_token = made["token"].as_str().unwrap().to_owned();
    tokio::spawn(async move {
        let ended = lintel_controller::run(controller, controller_token).await;
        panic!("the controller stopped: {ended:?}");
    });
    let back_unlock = |node: usize| {
        api(
            node,
            &format!("/orgs/acme/doors/{}/unlock", back.as_str().unwrap()),
        )
    };
    let opened_through = |node: usize| {
        let (client, auth, url) = (client.clone(), auth.clone(), back_unlock(node));
        async move {
            let answer = call(&client, &auth, url, json!({})).await;
            answer["opened"] == true
        }
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while !opened_through(1).await {
        assert!(
            Instant::now() < deadline,
            "the controller never came online"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Four phones per node unlock the front door over and over.
    let tally = Arc::new(Tally::default());
    let killed = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let front_unlock = |node: usize| {
        api(
            node,
            &format!("/orgs/acme/doors/{}/unlock", front.as_str().unwrap()),
        )
    };
    let mut phones = Vec::new();
    for node in 0..3 {
        for _ in 0..4 {
            let (client, auth, url) = (client.clone(), auth.clone(), front_unlock(node));
            let (tally, killed, stop) = (tally.clone(), killed.clone(), stop.clone());
            phones.push(tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let sent = client.post(&url).bearer_auth(&auth).json(&json!({})).send();
                    let answer = match sent.await {
                        Ok(resp) if resp.status() == StatusCode::OK => resp.json::<Value>().await,
                        Ok(resp) => panic!("{}", resp.status()),
                        Err(err) => Err(err),
                    };
                    match answer {
                        Ok(answer) => {
                            assert_eq!(answer["granted"], true, "{answer}");
                            tally.granted.fetch_add(1, Ordering::Relaxed);
                            if killed.load(Ordering::Relaxed) {
                                tally.after_kill.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        // The node died under this request (or before it): no answer, and
                        // this phone stops, as its node is gone.
                        Err(_) => {
                            tally.unanswered.fetch_add(1, Ordering::Relaxed);
                            break;
                        }
                    }
                }
            }));
        }
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (mut victim, _, _) = nodes.remove(0);
    victim.kill().unwrap();
    killed.store(true, Ordering::Relaxed);
    let at = Instant::now();
    victim.wait().unwrap();
    // The controller was on node 0: it is back, on node 1 or 2, within 2 s.
    while !opened_through(2).await {
        assert!(
            at.elapsed() < Duration::from_secs(2),
            "the controller was not back on another node within 2 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let back_after = at.elapsed();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.store(true, Ordering::Relaxed);
    for phone in phones {
        phone.await.unwrap();
    }

    let granted = tally.granted.load(Ordering::Relaxed);
    let unanswered = tally.unanswered.load(Ordering::Relaxed);
    let recorded = db
        .count(&format!(
            "SELECT COUNT(*) FROM events WHERE kind = 'decision.granted' AND object_id = '{}'",
            front.as_str().unwrap()
        ))
        .await as u64;
    eprintln!(
        "{granted} unlocks answered granted ({} after the kill), {unanswered} unanswered, \
         {recorded} granted decisions on record; controller back after {back_after:?}",
        tally.after_kill.load(Ordering::Relaxed)
    );
    assert!(granted > 100, "the load ran: {granted}");
    assert!(
        tally.after_kill.load(Ordering::Relaxed) > 0,
        "the other nodes kept answering"
    );
    // Every answered grant is on record; at most the unanswered ones besides (they may
    // have been recorded just before the node died); nothing twice.
    assert!(
        recorded >= granted,
        "{recorded} on record < {granted} answered"
    );
    assert!(
        recorded <= granted + unanswered,
        "{recorded} on record > {granted} answered + {unanswered} unanswered"
    );
    let distinct = db
        .count("SELECT COUNT(*) FROM (SELECT DISTINCT id FROM events) AS ids")
        .await;
    assert_eq!(distinct, db.count("SELECT COUNT(*) FROM events").await);
    for (node, _, _) in nodes {
        crate::cli::terminate(node);
    }
}
