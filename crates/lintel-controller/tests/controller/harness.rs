//! A server node in process and the controller binary beside it, for the tests and the
//! benchmarks (which include this file).
#![allow(dead_code)]

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use lintel_domain::{Area, Areas, SystemClock};
use lintel_server::app::server_key::ServerKey;
use lintel_server::app::{self, AppState, orgs::CreateOrganization, outbox};
use lintel_server::{HttpOptions, serve};
use lintel_store::Message;
use lintel_testkit::{Backend, TestDb};
use serde_json::{Value, json};

/// What `Server::acme` made: an owner key, the door, its controller and its token, Ada.
pub struct Acme {
    pub key: String,
    pub door: String,
    pub controller_id: String,
    pub token: String,
    pub ada: String,
    /// Ada's phone's auth token.
    pub ada_phone: String,
}

/// A server node in this process, on a port that stays the same across restarts. It runs on
/// a runtime of its own, so stopping it drops every connection and task at once, as a crash
/// would; the test's own `state` reaches the same database beside it (to make organizations
/// and deliver messages).
pub struct Server {
    pub addr: SocketAddr,
    pub state: AppState,
    pub db: TestDb,
    node: Option<Node>,
    client: reqwest::Client,
}

struct Node {
    stop: tokio::sync::oneshot::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Server {
    pub async fn start(backend: Backend) -> Option<Server> {
        let db = TestDb::new(backend).await?;
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let state = AppState {
            store: db.store.clone(),
            clock: Arc::new(SystemClock),
            public_url: format!("http://{addr}").into(),
            rules: Arc::default(),
            key: Arc::new(ServerKey::generate()),
            sms: Arc::default(),
            controllers: Arc::default(),
            oidc: Arc::default(),
            passkeys: Arc::default(),
        };
        let mut server = Server {
            addr,
            state,
            db,
            node: None,
            client: reqwest::Client::new(),
        };
        server.restart().await;
        Some(server)
    }

    /// Stops the node at once, as a crash would: every connection drops.
    pub async fn stop(&mut self) {
        if let Some(node) = self.node.take() {
            let _ = node.stop.send(());
            tokio::task::spawn_blocking(move || node.thread.join().unwrap())
                .await
                .unwrap();
        }
    }

    /// Starts a node on the same address, database and server key.
    pub async fn restart(&mut self) {
        self.node = Some(self.start_node(self.addr).await);
    }

    /// Another node on the same database and server key, on an address of its own (with
    /// PostgreSQL, as a production layout runs several). It stops when dropped.
    pub async fn another_node(&self) -> Peer {
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        Peer {
            addr,
            node: Some(self.start_node(addr).await),
        }
    }

    async fn start_node(&self, addr: SocketAddr) -> Node {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (ready, is_ready) = tokio::sync::oneshot::channel::<()>();
        let (url, key) = (self.db.url.clone(), self.state.key.clone());
        let public_url = self.state.public_url.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let state = AppState {
                    store: lintel_store::connect(&url).await.unwrap(),
                    clock: Arc::new(SystemClock),
                    public_url,
                    rules: Arc::default(),
                    key,
                    sms: Arc::default(),
                    controllers: Arc::default(),
                    oidc: Arc::default(),
                    passkeys: Arc::default(),
                };
                let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
                let _ = ready.send(());
                let options = HttpOptions {
                    max_body_bytes: 4 << 20,
                    client_ip_header: None,
                    timeouts: lintel_server::Timeouts::default(),
                };
                tokio::select! {
                    served = serve(listener, state, options, std::future::pending()) => {
                        served.unwrap();
                    }
                    _ = stopped => {}
                }
            });
            runtime.shutdown_background();
        });
        is_ready.await.unwrap();
        Node { stop, thread }
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        key: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        self.call_on(self.addr, method, key, path, body).await
    }

    /// `call` on the node at `node`.
    pub async fn call_on(
        &self,
        node: SocketAddr,
        method: reqwest::Method,
        key: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self.client.request(method, format!("http://{node}{path}"));
        if !key.is_empty() {
            req = req.bearer_auth(key);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn post(&self, key: &str, path: &str, body: Value) -> Value {
        let (status, answer) = self
            .call(reqwest::Method::POST, key, path, Some(body))
            .await;
        assert!((200..300).contains(&status), "{path}: {status} {answer}");
        answer
    }

    /// An organization made by the console, and an owner key of it.
    pub async fn org(&self, slug: &str) -> String {
        let org = app::orgs::create(
            &self.state,
            &app::Actor::Console,
            CreateOrganization {
                slug: slug.into(),
                name: format!("Org {slug}"),
                time_zone: Some("Europe/Stockholm".into()),
                settings: None,
                owner: None,
            },
        )
        .await
        .unwrap()
        .org;
        app::api_keys::issue(
            &self.state,
            Some(org.id),
            "test",
            Areas::new([Area::Owner]),
            None,
            None,
            None,
        )
        .await
        .unwrap()
        .secret
    }

    /// Acme with one door wired to a controller, and an access to it for Ada (signed up) by
    /// card, PIN or phone.
    pub async fn acme(&self) -> Acme {
        let key = self.org("acme").await;
        let site = self
            .post(&key, "/api/v1/orgs/acme/sites", json!({ "name": "HQ" }))
            .await;
        let made = self
            .post(
                &key,
                "/api/v1/orgs/acme/controllers",
                json!({ "site_id": site["id"], "name": "Cabinet" }),
            )
            .await;
        let controller_id = made["controller"]["id"].as_str().unwrap().to_owned();
        let door = self
            .post(
                &key,
                "/api/v1/orgs/acme/doors",
                json!({ "site_id": site["id"], "name": "Front", "controller_id": controller_id }),
            )
            .await;
        let ada = self
            .post(
                &key,
                "/api/v1/orgs/acme/invitations",
                json!({ "email": "ada@example.com" }),
            )
            .await;
        self.post(
            &key,
            "/api/v1/orgs/acme/accesses",
            json!({
                "name": "Staff",
                "doors": [{ "door_id": door["id"], "in_auth_types": ["card", "pin", "mobile"] }],
                "users": [ada["id"]]
            }),
        )
        .await;
        let ada_phone = self.sign_up("ada@example.com", "+46701234567").await;
        Acme {
            key,
            door: door["id"].as_str().unwrap().to_owned(),
            controller_id,
            token: made["token"].as_str().unwrap().to_owned(),
            ada: ada["id"].as_str().unwrap().to_owned(),
            ada_phone,
        }
    }

    /// Registers a person and signs them in (email link, then SMS code), as a phone does;
    /// returns the phone's auth token.
    pub async fn sign_up(&self, email: &str, phone: &str) -> String {
        self.post(
            "",
            "/api/v1/auth/register",
            json!({ "first_name": "Ada", "last_name": "Lovelace", "email": email, "phone": phone }),
        )
        .await;
        let sent = self.deliver().await;
        let mail = sent.iter().rev().find(|m| m.recipient == email).unwrap();
        let start = mail.body.find("token=").unwrap() + "token=".len();
        let token = mail.body[start..].split_whitespace().next().unwrap();
        let verified = self
            .post("", "/api/v1/auth/email/verify", json!({ "token": token }))
            .await;
        let sent = self.deliver().await;
        let sms = sent.iter().rev().find(|m| m.recipient == phone).unwrap();
        let code = sms
            .body
            .split_whitespace()
            .find(|w| w.len() == 7 && w[..6].bytes().all(|b| b.is_ascii_digit()))
            .unwrap();
        let device = self
            .post(
                "",
                "/api/v1/auth/sms/verify",
                json!({ "sign_in": verified["sign_in"], "code": &code[..6], "device_name": "phone", "pin": "2580" }),
            )
            .await;
        device["auth_token"].as_str().unwrap().to_owned()
    }

    /// The key of the OSDP reader at `address` on `door`'s bus, as its controller derives it.
    pub fn osdp_key(&self, door: &str, address: u8) -> [u8; 16] {
        let door = lintel_domain::DoorId(door.parse().unwrap());
        lintel_domain::reader::osdp_key(&self.state.key.reader_key(door), address)
    }

    async fn deliver(&self) -> Vec<Message> {
        let capture = Capture::default();
        let now = lintel_domain::Clock::now(&SystemClock);
        while outbox::deliver_due(&self.state, &capture, now)
            .await
            .unwrap()
            == outbox::Outcome::Worked
        {}
        capture.0.into_inner().unwrap()
    }
}

/// A second node of a `Server`, stopped when dropped.
pub struct Peer {
    pub addr: SocketAddr,
    node: Option<Node>,
}

impl Drop for Peer {
    fn drop(&mut self) {
        if let Some(node) = self.node.take() {
            let _ = node.stop.send(());
            let _ = node.thread.join();
        }
    }
}

#[derive(Default)]
struct Capture(std::sync::Mutex<Vec<Message>>);

#[async_trait::async_trait]
impl outbox::Transport for Capture {
    async fn send(&self, message: &Message) -> Result<(), String> {
        self.0.lock().unwrap().push(message.clone());
        Ok(())
    }
}

/// The `lintel-controller` binary, running.
pub struct Controller {
    child: Child,
    pub local: SocketAddr,
    pub data_dir: PathBuf,
    token_file: PathBuf,
    server: SocketAddr,
    config: Option<PathBuf>,
}

impl Controller {
    pub fn start(server: SocketAddr, token: &str, dir: &Path) -> Controller {
        Controller::start_configured(server, token, dir, None)
    }

    /// `start`, with a configuration file holding `config` (TOML) when given.
    pub fn start_configured(
        server: SocketAddr,
        token: &str,
        dir: &Path,
        config: Option<&str>,
    ) -> Controller {
        let token_file = dir.join("token");
        std::fs::write(&token_file, token).unwrap();
        let config = config.map(|text| {
            let file = dir.join("controller.toml");
            std::fs::write(&file, text).unwrap();
            file
        });
        Controller::start_with(server, &token_file, &dir.join("data"), config)
    }

    fn start_with(
        server: SocketAddr,
        token_file: &Path,
        data_dir: &Path,
        config: Option<PathBuf>,
    ) -> Controller {
        let mut command = Command::new(env!("CARGO_BIN_EXE_lintel-controller"));
        if let Some(config) = &config {
            command.arg("--config").arg(config);
        }
        let mut child = command
            .arg("--server")
            .arg(format!("http://{server}"))
            .arg("--token-file")
            .arg(token_file)
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--heartbeat-secs")
            .arg("1")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let local = line
            .split_whitespace()
            .find_map(|w| w.parse::<SocketAddr>().ok())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        Controller {
            child,
            local,
            data_dir: data_dir.to_owned(),
            token_file: token_file.to_owned(),
            server,
            config,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the process at once (SIGKILL) and starts it again on the same data.
    pub fn kill_and_restart(&mut self) {
        self.kill();
        self.restart();
    }

    /// Kills the process at once (SIGKILL).
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Starts it again on the same data.
    pub fn restart(&mut self) {
        *self = Controller::start_with(
            self.server,
            &self.token_file.clone(),
            &self.data_dir.clone(),
            self.config.clone(),
        );
    }

    /// How many times the first door (by id) was unlocked since the controller started.
    pub fn unlocks(&self) -> u64 {
        let doors = self.say("doors");
        doors["doors"][0]["unlocks"].as_u64().unwrap_or(0)
    }

    /// One line to the local interface, and its answer.
    pub fn say(&self, line: &str) -> Value {
        let mut stream = std::net::TcpStream::connect(self.local).unwrap();
        stream.write_all(format!("{line}\n").as_bytes()).unwrap();
        let mut answer = String::new();
        BufReader::new(stream).read_line(&mut answer).unwrap();
        serde_json::from_str(&answer).unwrap()
    }

    /// Waits (up to 20 seconds) until `status` satisfies `ok`; returns it.
    pub async fn until(&self, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
        self.until_said("status", what, ok).await
    }

    /// Waits (up to 20 seconds) until the answer to `line` satisfies `ok`; returns it.
    pub async fn until_said(&self, line: &str, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
        let started = Instant::now();
        loop {
            let status = self.say(line);
            if ok(&status) {
                return status;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "never {what}: {status}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Controller {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `WatchEvents` stream of Acme's events of `kind`, from now, on the node at `node`, as
/// the holder of `key`.
pub async fn watch_acme(
    node: SocketAddr,
    key: &str,
    kind: &str,
) -> tonic::Streaming<lintel_proto::v1::Event> {
    use lintel_proto::v1 as pb;
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{node}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = pb::doors_service_client::DoorsServiceClient::new(channel);
    let mut request = tonic::Request::new(pb::WatchEventsRequest {
        organization_slug: "acme".into(),
        kind: kind.into(),
        since: None,
    });
    let bearer = format!("Bearer {key}").parse().unwrap();
    request.metadata_mut().insert("authorization", bearer);
    client.watch_events(request).await.unwrap().into_inner()
}

/// PyPI's libosdp reader, running.
pub struct PyReader {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<Value>,
    pub port: String,
}

impl PyReader {
    /// A reader at `address` holding `key`, or only the default key (out of its box). `None`
    /// when Python's libosdp is missing and not required.
    pub fn start(address: u8, key: Option<[u8; 16]>) -> Option<PyReader> {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/controller/osdp_reader.py"
        );
        let has_osdp = Command::new("python3")
            .args(["-c", "import osdp"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !has_osdp {
            assert!(
                std::env::var_os("LINTEL_TEST_REQUIRE_OSDP").is_none(),
                "LINTEL_TEST_REQUIRE_OSDP is set but Python's libosdp is missing: \
                 python3 -m pip install 'libosdp>=3.2,<4'"
            );
            eprintln!("skipped: Python's libosdp is not installed");
            return None;
        }
        let mut command = Command::new("python3");
        command
            .arg(script)
            .arg("--address")
            .arg(address.to_string());
        if let Some(key) = key {
            command
                .arg("--key")
                .arg(lintel_domain::controller::hex(&key));
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (send, lines) = mpsc::channel::<Value>();
        std::thread::spawn(move || {
            for line in stdout.lines() {
                let Ok(line) = line else { return };
                if send.send(serde_json::from_str(&line).unwrap()).is_err() {
                    return;
                }
            }
        });
        let first = lines.recv_timeout(Duration::from_secs(20)).unwrap();
        let port = first["port"].as_str().unwrap().to_owned();
        let stdin = child.stdin.take().unwrap();
        Some(PyReader {
            child,
            stdin,
            lines,
            port,
        })
    }

    pub fn send(&mut self, request: Value) {
        writeln!(self.stdin, "{request}").unwrap();
        self.stdin.flush().unwrap();
    }

    /// The next line satisfying `ok` (within 20 seconds); the lines before it are dropped.
    pub fn until(&self, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if ok(&line) => return line,
                Ok(_) => {}
                Err(_) => panic!("the reader never saw {what}"),
            }
        }
    }

    /// Presents card `number` with facility code `fc` as 26-bit H10301.
    pub fn card(&mut self, fc: u32, number: u32) {
        self.send(json!({ "card": { "bits": 26, "hex": format!("{:x}", h10301(fc, number)) } }));
    }

    /// Waits for the LED command of a decision; its colour ("Green", "Red", "Amber").
    pub fn led(&self) -> String {
        let led = self.until("an LED command", |l| l["command"]["name"] == "LED");
        led["command"]["color"].as_str().unwrap().to_owned()
    }

    /// Waits for a buzzer command; how many beeps.
    pub fn beeps(&self) -> i64 {
        let buzzer = self.until("a buzzer command", |l| l["command"]["name"] == "Buzzer");
        buzzer["command"]["rep_count"].as_i64().unwrap()
    }
}

impl Drop for PyReader {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A 26-bit H10301 card, built from its definition: even parity over the first 13 bits, odd
/// over the last 13.
pub fn h10301(fc: u32, number: u32) -> u32 {
    let body = (fc << 16) | number;
    let even = (body >> 12).count_ones() % 2;
    let odd = 1 - (body & 0xFFF).count_ones() % 2;
    (even << 25) | (body << 1) | odd
}

/// A controller's configuration with one bus (at 115,200 baud) per reader: port, name,
/// address, door.
pub fn osdp_wiring(buses: &[(&str, &str, u8, &str)]) -> String {
    buses
        .iter()
        .map(|(port, name, address, door)| {
            format!(
                "[[osdp]]\nport = \"{port}\"\nbaud = 115200\n\n[[osdp.readers]]\n\
                 name = \"{name}\"\naddress = {address}\ndoor = \"{door}\"\n\n"
            )
        })
        .collect()
}
