//! Commands to door controllers. The server decides a phone's, a guest link's or a remote
//! open; the session of the controller driving the door's lock carries it out, and the answer
//! says whether the lock was released. The session may be on this node or, with PostgreSQL,
//! on another: then the command and its answer travel as signals (`Signal::Open`,
//! `Signal::Opened`) and each node's `route` hands them over. A door whose controller is not
//! connected, or does not answer within `ANSWER_WITHIN`, is offline.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use lintel_domain::controller::ControllerRules;
use lintel_domain::{ControllerId, DoorId, OrgId};
use lintel_store::{Signal, Store};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

/// How long the answer to a command may take: a connected controller answers in
/// milliseconds, and a person at the door should not wait longer than this to hear no.
pub const ANSWER_WITHIN: Duration = Duration::from_secs(2);
/// How long a command to another node's controller waits before it is said again.
const ASK_AGAIN: Duration = Duration::from_millis(200);

/// Release this door's lock, and say whether it was.
pub struct Command {
    pub door: DoorId,
    pub answer: oneshot::Sender<bool>,
}

/// The controllers' sessions on this node, by controller, and the commands this node handed
/// to other nodes' sessions.
#[derive(Default)]
pub struct Hub {
    sessions: Mutex<HashMap<ControllerId, (u64, mpsc::Sender<Command>)>>,
    next: AtomicU64,
    /// Commands sent to another node and not yet answered, by request.
    asked: Mutex<HashMap<Uuid, oneshot::Sender<bool>>>,
    /// The rules each controller held when its last session on this node ended, and when:
    /// reconnecting here, it is sent only what changed since.
    held: Mutex<HashMap<ControllerId, (DateTime<Utc>, Held)>>,
}

/// A controller's rules and their hash.
pub struct Held {
    pub hash: String,
    pub rules: ControllerRules,
}

/// Rules held for a controller that has not come back for this long are forgotten.
const HELD_FOR: chrono::TimeDelta = chrono::TimeDelta::days(1);

/// A session's place in the hub, given up when dropped (unless a newer session of the same
/// controller has taken it meanwhile).
pub struct Attached {
    hub: Arc<Hub>,
    controller: ControllerId,
    ticket: u64,
}

impl Drop for Attached {
    fn drop(&mut self) {
        let mut sessions = lock(&self.hub.sessions);
        if sessions
            .get(&self.controller)
            .is_some_and(|(ticket, _)| *ticket == self.ticket)
        {
            sessions.remove(&self.controller);
        }
    }
}

impl Hub {
    /// Makes this session the one that carries out `controller`'s commands.
    pub fn attach(
        self: &Arc<Self>,
        controller: ControllerId,
    ) -> (Attached, mpsc::Receiver<Command>) {
        let (tx, rx) = mpsc::channel(64);
        let ticket = self.next.fetch_add(1, Ordering::Relaxed);
        lock(&self.sessions).insert(controller, (ticket, tx));
        let attached = Attached {
            hub: self.clone(),
            controller,
            ticket,
        };
        (attached, rx)
    }

    /// Remembers the rules `controller` holds as its session ends (and forgets those of
    /// controllers gone for longer than `HELD_FOR`).
    pub fn keep_rules(&self, controller: ControllerId, rules: Held, now: DateTime<Utc>) {
        let mut held = lock(&self.held);
        held.retain(|_, (at, _)| now - *at < HELD_FOR);
        held.insert(controller, (now, rules));
    }

    /// The rules `controller` held when its last session here ended, taken over by its new
    /// session.
    pub fn take_rules(&self, controller: ControllerId) -> Option<Held> {
        lock(&self.held).remove(&controller).map(|(_, rules)| rules)
    }

    /// Has `controller` release `door`'s lock: true once it says it did, false when it is not
    /// connected to any node, refuses, or does not answer within `ANSWER_WITHIN`.
    pub async fn open(
        &self,
        store: &dyn Store,
        org: OrgId,
        controller: ControllerId,
        door: DoorId,
        now: DateTime<Utc>,
    ) -> bool {
        let asked = async {
            if let Some(session) = self.session(controller) {
                return ask(session, door).await;
            }
            // Another node may hold its stream, if it is on record as connected (and was
            // heard from lately: a node that died with the stream open leaves it set).
            let connected = store.shared()
                && store
                    .get_controller(org, controller)
                    .await
                    .is_ok_and(|c| c.live.as_of(now).online);
            if !connected {
                return None;
            }
            let request = Uuid::now_v7();
            let (answer, mut answered) = oneshot::channel();
            lock(&self.asked).insert(request, answer);
            let _forget = Forget(self, request);
            // Said again until answered: the node holding the stream may have just died, and
            // the controller be back on another within the wait. Whichever node holds it
            // carries a request out once (`route`).
            loop {
                store
                    .signal(Signal::Open {
                        request,
                        controller,
                        door,
                    })
                    .await
                    .ok()?;
                if let Ok(answer) = tokio::time::timeout(ASK_AGAIN, &mut answered).await {
                    return answer.ok();
                }
            }
        };
        matches!(
            tokio::time::timeout(ANSWER_WITHIN, asked).await,
            Ok(Some(true))
        )
    }

    fn session(&self, controller: ControllerId) -> Option<mpsc::Sender<Command>> {
        lock(&self.sessions)
            .get(&controller)
            .map(|(_, tx)| tx.clone())
    }
}

/// Forgets a command sent to another node once its asker stops waiting.
struct Forget<'a>(&'a Hub, Uuid);

impl Drop for Forget<'_> {
    fn drop(&mut self) {
        lock(&self.0.asked).remove(&self.1);
    }
}

/// Hands `door` to a session of this node; its answer.
async fn ask(session: mpsc::Sender<Command>, door: DoorId) -> Option<bool> {
    let (answer, answered) = oneshot::channel();
    session.send(Command { door, answer }).await.ok()?;
    answered.await.ok()
}

/// Carries out other nodes' commands to the controllers whose sessions are here, and hands
/// the answers other nodes send to whoever asked here. Runs as long as the node serves.
pub async fn route(hub: Arc<Hub>, store: Arc<dyn Store>) {
    let mut signals = store.signals();
    // Requests carried out lately, so that one said again is not carried out twice.
    let mut carried_out: HashMap<Uuid, Instant> = HashMap::new();
    loop {
        match signals.next().await {
            Signal::Open {
                request,
                controller,
                door,
            } => {
                let Some(session) = hub.session(controller) else {
                    continue;
                };
                let now = Instant::now();
                carried_out.retain(|_, at| now.duration_since(*at) < 2 * ANSWER_WITHIN);
                if carried_out.insert(request, now).is_some() {
                    continue;
                }
                let store = store.clone();
                tokio::spawn(async move {
                    let answered = tokio::time::timeout(ANSWER_WITHIN, ask(session, door)).await;
                    let opened = matches!(answered, Ok(Some(true)));
                    if let Err(err) = store.signal(Signal::Opened { request, opened }).await {
                        tracing::warn!(error = %err, "could not answer another node's command");
                    }
                });
            }
            Signal::Opened { request, opened } => {
                if let Some(answer) = lock(&hub.asked).remove(&request) {
                    let _ = answer.send(opened);
                }
            }
            Signal::Rules(_) | Signal::Events(_) | Signal::Missed => {}
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
