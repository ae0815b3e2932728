//! The `lintel` binary itself: the operator's commands, `serve` with no configuration, and
//! graceful shutdown on SIGTERM.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use lintel_testkit::{Backend, TestDb, on_both_backends};
use reqwest::StatusCode;

const LINTEL: &str = env!("CARGO_BIN_EXE_lintel");

on_both_backends!(
    the_operator_commands_make_an_organization_and_a_key_the_server_accepts,
    the_server_mails_sign_in_links_through_the_configured_smtp_server,
);

fn lintel(dir: &Path, args: &[&str]) -> Output {
    Command::new(LINTEL)
        .args(args)
        .current_dir(dir)
        .env_remove("LINTEL_DATABASE_URL")
        .output()
        .expect("run lintel")
}

/// Starts `lintel serve` and waits for the address it listens on, from its JSON log.
fn serve(dir: &Path, args: &[&str]) -> (Child, String) {
    let (child, addr, _) = serve_with(dir, args, &[]);
    (child, addr)
}

/// Every line a server has logged so far.
pub type Log = std::sync::Arc<std::sync::Mutex<Vec<String>>>;

/// `serve` with environment variables, keeping its log.
pub fn serve_with(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> (Child, String, Log) {
    let mut child = Command::new(LINTEL)
        .args(["--log-format", "json"])
        .args(args)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .current_dir(dir)
        .env_remove("LINTEL_DATABASE_URL")
        .envs(envs.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start lintel serve");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let log = Log::default();
    let kept = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            kept.lock().unwrap().push(line.clone());
            let log: serde_json::Value = match serde_json::from_str(&line) {
                Ok(v) => v,
                Err(_) => continue,
            };
            if let Some(addr) = log["fields"]["addr"].as_str() {
                let _ = tx.send(addr.to_owned());
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("lintel serve logs the address it listens on");
    (child, addr, log)
}

/// SIGTERM, then the exit status: graceful shutdown ends with success.
pub fn terminate(mut child: Child) {
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "lintel serve exited with {status}");
}

/// Runs `lintel` with `args`; what it printed, once it succeeded.
pub fn lintel_out(dir: &Path, args: &[&str]) -> String {
    stdout(&lintel(dir, args))
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "lintel failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

async fn the_operator_commands_make_an_organization_and_a_key_the_server_accepts(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let url = ["--database-url", db.url.as_str()];

    let made = stdout(&lintel(
        dir.path(),
        &[
            &url[..],
            &[
                "admin",
                "create-org",
                "--slug",
                "acme",
                "--name",
                "Acme",
                "--time-zone",
                "Europe/Stockholm",
            ],
        ]
        .concat(),
    ));
    assert!(made.contains("Created organization acme"), "{made}");
    let again = lintel(
        dir.path(),
        &[
            &url[..],
            &["admin", "create-org", "--slug", "acme", "--name", "Again"],
        ]
        .concat(),
    );
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    let key = stdout(&lintel(
        dir.path(),
        &[
            &url[..],
            &[
                "admin",
                "create-api-key",
                "--org",
                "acme",
                "--name",
                "cli",
                "--area",
                "doors",
                "--area",
                "members",
            ],
        ]
        .concat(),
    ));
    let key = key.trim();
    assert!(
        key.starts_with("lnt_") && !key.contains(char::is_whitespace),
        "only the secret goes to stdout: {key}"
    );
    let missing = lintel(
        dir.path(),
        &[
            &url[..],
            &["admin", "create-api-key", "--org", "nobody", "--name", "x"],
        ]
        .concat(),
    );
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no organization with slug"));
    let bad_area = lintel(
        dir.path(),
        &[
            &url[..],
            &[
                "admin",
                "create-api-key",
                "--org",
                "acme",
                "--name",
                "x",
                "--area",
                "root",
            ],
        ]
        .concat(),
    );
    assert!(String::from_utf8_lossy(&bad_area.stderr).contains("members, delegation"));

    // The operator sets an organization's link quotas.
    let quotas = |more: &[&str]| {
        stdout(&lintel(
            dir.path(),
            &[&url[..], &["admin", "link-quotas", "--org", "acme"], more].concat(),
        ))
    };
    assert!(quotas(&[]).contains("at most 1000 email links in use, 10 SMS links a month"));
    assert!(
        quotas(&["--sms-links-per-month", "50"])
            .contains("at most 1000 email links in use, 50 SMS links a month")
    );
    assert!(quotas(&[]).contains("50 SMS links a month"));

    // An organization with its first owner: the invitation's link is printed.
    let owned = lintel(
        dir.path(),
        &[
            &url[..],
            &[
                "admin",
                "create-org",
                "--slug",
                "beta",
                "--name",
                "Beta",
                "--owner-email",
                "Owner@Example.com",
            ],
        ]
        .concat(),
    );
    let told = String::from_utf8_lossy(&owned.stderr).into_owned();
    assert!(owned.status.success(), "{told}");
    assert!(
        told.contains("Invited owner@example.com as its owner"),
        "{told}"
    );
    let token = told
        .split("/invitations/")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the invitation link")
        .to_owned();

    let (server, addr) = serve(dir.path(), &url);
    let client = reqwest::Client::new();
    let invitation: serde_json::Value = client
        .get(format!("http://{addr}/api/v1/invitations/{token}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(invitation["org_slug"], "beta", "{invitation}");
    assert_eq!(invitation["address"], "owner@example.com");
    assert!(
        invitation["expires_at"].is_null(),
        "a first owner's invitation waits"
    );
    let resp = client
        .post(format!("http://{addr}/api/v1/orgs/acme/sites"))
        .bearer_auth(key)
        .json(&serde_json::json!({ "name": "HQ" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let org = client
        .patch(format!("http://{addr}/api/v1/orgs/acme"))
        .bearer_auth(key)
        .json(&serde_json::json!({ "name": "Mine" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        org.status(),
        StatusCode::FORBIDDEN,
        "the key holds only the areas asked for"
    );
    terminate(server);
}

#[tokio::test]
async fn with_no_configuration_data_goes_to_a_sqlite_file_under_lintel_data() {
    let dir = tempfile::tempdir().unwrap();
    let (server, addr) = serve(dir.path(), &[]);
    let health = reqwest::get(format!("http://{addr}/readyz")).await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    assert!(dir.path().join("lintel-data/lintel.db").is_file());
    terminate(server);

    // The server key was made beside the database, readable by its owner only, and the
    // database remembers it: the same data under another key refuses to start.
    let key_file = dir.path().join("lintel-data/secret.key");
    let key = std::fs::read_to_string(&key_file).unwrap();
    assert_eq!(key.trim().len(), 64, "{key}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{mode:o}");
    }
    let other = "ab".repeat(32);
    let refused = Command::new(LINTEL)
        .args(["admin", "create-org", "--slug", "acme", "--name", "Acme"])
        .current_dir(dir.path())
        .env_remove("LINTEL_DATABASE_URL")
        .env("LINTEL_SECRET_KEY", &other)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let why = String::from_utf8_lossy(&refused.stderr);
    assert!(why.contains("another server key"), "{why}");
    // Given as a setting, the same key is accepted, and never shown.
    let same = Command::new(LINTEL)
        .args(["config"])
        .current_dir(dir.path())
        .env("LINTEL_SECRET_KEY", key.trim())
        .output()
        .unwrap();
    let shown = stdout(&same);
    assert!(shown.contains("secret_key = \"***\""), "{shown}");
    assert!(!shown.contains(key.trim()), "{shown}");

    let shown = stdout(&lintel(dir.path(), &["config"]));
    assert!(shown.contains("listen = \"127.0.0.1:8080\""), "{shown}");
    assert!(shown.contains("data_dir = \"lintel-data\""), "{shown}");
    let help = stdout(&lintel(dir.path(), &["admin", "create-api-key", "--help"]));
    assert!(help.contains("--expires-in-days"), "{help}");
}

async fn the_server_mails_sign_in_links_through_the_configured_smtp_server(backend: Backend) {
    let Some(sink) = crate::delivery::SmtpSink::start() else {
        return;
    };
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("lintel.toml");
    std::fs::write(
        &config,
        format!(
            "database_url = {:?}\nsmtp_url = \"smtp://127.0.0.1:{}\"\n\
             email_from = \"Acme Access <access@acme.test>\"\n\
             public_url = \"https://access.acme.test/\"\n",
            db.url, sink.port
        ),
    )
    .unwrap();
    let (server, addr) = serve(dir.path(), &["--config", config.to_str().unwrap()]);
    let registered = reqwest::Client::new()
        .post(format!("http://{addr}/api/v1/auth/register"))
        .json(&serde_json::json!({
            "first_name": "Ada", "last_name": "Lovelace",
            "email": "ada@example.com", "phone": "+46701234567"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), StatusCode::ACCEPTED);
    // The delivery job runs in the background; give it a few of its one-second rounds.
    let mut mail = Vec::new();
    for _ in 0..100 {
        mail = sink.received();
        if !mail.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    terminate(server);
    assert_eq!(mail.len(), 1, "the sign-in email reached the SMTP server");
    assert!(
        mail[0].contains("From: \"Acme Access\" <access@acme.test>"),
        "{}",
        mail[0]
    );
    assert!(
        mail[0].contains("https://access.acme.test/auth/confirm?token="),
        "{}",
        mail[0]
    );
}

#[tokio::test]
async fn the_command_line_links_to_the_servers_public_url_and_the_log_keeps_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let public = "https://doors.example.com";
    let (server, addr, log) = serve_with(dir.path(), &[], &[("LINTEL_PUBLIC_URL", public)]);
    // A second shell without the server's settings: the invitation still points at the server.
    let out = lintel(
        dir.path(),
        &[
            "admin",
            "create-org",
            "--slug",
            "acme",
            "--name",
            "Acme",
            "--owner-email",
            "you@example.com",
        ],
    );
    stdout(&out);
    let made = String::from_utf8_lossy(&out.stderr);
    let link = made
        .split_whitespace()
        .find(|w| w.contains("/invitations/lni_"))
        .unwrap_or_else(|| panic!("{made}"));
    assert!(link.starts_with(public), "{made}");
    let token = link.rsplit('/').next().unwrap().to_owned();
    // The token in a request's path is not in the log, nor a link secret.
    let client = reqwest::Client::new();
    for path in [
        format!("/invitations/{token}"),
        format!("/api/v1/invitations/{token}"),
        "/l/lnk_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-abcdefg".to_owned(),
    ] {
        client
            .get(format!("http://{addr}{path}"))
            .send()
            .await
            .unwrap();
    }
    terminate(server);
    // The request lines (with no provider configured, the invitation email itself goes to
    // the log, as development wants: SECURITY.md says so).
    let lines = log
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains("\"path\""))
        .cloned()
        .collect::<Vec<_>>()
        .join("\n");
    assert!(lines.contains("{redacted}"), "{lines}");
    assert!(!lines.contains(&token[4..]), "{lines}");
    assert!(!lines.contains("lnk_AbCd"), "{lines}");
}

/// `lintel demo` on the embedded database: it prints how to reach its controller, the
/// controller holds the demo's doors and decides there, and the demo's walks move the front
/// door through its states. Run again on the same data, it finds its organization.
#[test]
fn the_demo_runs_a_controller_whose_front_door_moves_and_runs_again_on_the_same_data() {
    let dir = tempfile::tempdir().unwrap();
    // Two free ports, held together so that they differ (the server's own :0 could otherwise
    // be given the controller's).
    let free_ports = || {
        let held: Vec<_> = (0..2)
            .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
            .collect();
        let [server, controller] = [0, 1].map(|i| held[i].local_addr().unwrap().to_string());
        (server, controller)
    };
    let run = |server: &str, controller: &str| {
        let mut child = Command::new(LINTEL)
            .args(["--data-dir", "data", "demo", "--listen", server])
            .args(["--controller-listen", controller, "--walk-every", "1"])
            .current_dir(dir.path())
            .env_remove("LINTEL_DATABASE_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start lintel demo");
        let mut printed = String::new();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        while !printed.contains("The demo is ordinary data") {
            let line = lines
                .next()
                .expect("the demo prints its instructions")
                .unwrap();
            printed.push_str(&line);
            printed.push('\n');
        }
        (child, printed)
    };
    let say = |controller: &str, line: &str| -> serde_json::Value {
        use std::io::Write as _;
        let mut stream = std::net::TcpStream::connect(controller).unwrap();
        writeln!(stream, "{line}").unwrap();
        let mut answer = String::new();
        BufReader::new(stream).read_line(&mut answer).unwrap();
        serde_json::from_str(&answer).unwrap()
    };
    let front_of = |printed: &str| {
        let at = printed.find("say card ").unwrap() + "say card ".len();
        printed[at..at + 36].to_owned()
    };

    let (server, controller) = free_ports();
    let (mut child, printed) = run(&server, &controller);
    assert!(printed.contains("/admin/demo/board"), "{printed}");
    assert!(printed.contains("/l/lnk_"), "a guest link: {printed}");
    let front = front_of(&printed);
    // The controller holds the demo's doors, and decides there: a card nobody has is denied.
    let denied = say(&controller, &format!("card {front} 999 12"));
    assert_eq!(denied["reason"], "unknown_credential", "{denied}");
    // The walks: unlocked by the exit button, open, locked again when closed.
    let mut seen = std::collections::BTreeSet::new();
    let started = std::time::Instant::now();
    while seen.len() < 3 && started.elapsed() < Duration::from_secs(30) {
        let doors = say(&controller, "doors");
        let state = doors["doors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["door"] == front.as_str())
            .map(|d| d["state"].as_str().unwrap().to_owned());
        seen.extend(state);
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        ["locked", "open", "unlocked"]
    );
    child.kill().unwrap();
    child.wait().unwrap();

    // Again on the same data: the same organization and doors, a controller that syncs.
    let (server, controller) = free_ports();
    let (mut child, again) = run(&server, &controller);
    assert_eq!(front_of(&again), front);
    assert!(
        !again.contains("/l/lnk_"),
        "the guest link was shown once: {again}"
    );
    let denied = say(&controller, &format!("card {front} 999 12"));
    assert_eq!(denied["reason"], "unknown_credential", "{denied}");
    child.kill().unwrap();
    child.wait().unwrap();
}
