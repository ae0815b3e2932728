//! Commands to the controllers connected to this node. The server decides a phone's, a guest
//! link's or a remote open; the session of the controller driving the door's lock carries it
//! out, and the answer says whether the lock was released. A door whose controller is not
//! connected here, or does not answer within `ANSWER_WITHIN`, is offline.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use lintel_domain::{ControllerId, DoorId};
use tokio::sync::{mpsc, oneshot};

/// How long the answer to a command may take: a connected controller answers in
/// milliseconds, and a person at the door should not wait longer than this to hear no.
pub const ANSWER_WITHIN: Duration = Duration::from_secs(2);

/// Release this door's lock, and say whether it was.
pub struct Command {
    pub door: DoorId,
    pub answer: oneshot::Sender<bool>,
}

/// The controllers' sessions on this node, by controller.
#[derive(Default)]
pub struct Hub {
    sessions: Mutex<HashMap<ControllerId, (u64, mpsc::Sender<Command>)>>,
    next: AtomicU64,
}

/// A session's place in the hub, given up when dropped (unless a newer session of the same
/// controller has taken it meanwhile).
pub struct Attached {
    hub: Arc<Hub>,
    controller: ControllerId,
    ticket: u64,
}

impl Drop for Attached {
    fn drop(&mut self) {
        let mut sessions = self
            .hub
            .sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
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
        self.sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(controller, (ticket, tx));
        let attached = Attached {
            hub: self.clone(),
            controller,
            ticket,
        };
        (attached, rx)
    }

    /// Has `controller` release `door`'s lock: true once it says it did, false when it is not
    /// connected to this node, refuses, or does not answer within `ANSWER_WITHIN`.
    pub async fn open(&self, controller: ControllerId, door: DoorId) -> bool {
        let session = self
            .sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&controller)
            .map(|(_, tx)| tx.clone());
        let Some(session) = session else {
            return false;
        };
        let (answer, answered) = oneshot::channel();
        let asked = async {
            session.send(Command { door, answer }).await.ok()?;
            answered.await.ok()
        };
        matches!(
            tokio::time::timeout(ANSWER_WITHIN, asked).await,
            Ok(Some(true))
        )
    }
}
