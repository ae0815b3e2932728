//! Signals between server nodes: that an organization's rules changed or its log grew, and
//! the commands to door controllers with their answers.
//!
//! PostgreSQL carries them to every node sharing the database: a rules change sends
//! `NOTIFY` inside its own transaction (so it is heard only once committed), and each node
//! keeps one listening connection. SQLite serves one node, so its signals stay in the
//! process: the writer connection notes which organizations' rules a transaction changed
//! and signals them once the connection is back in its pool, committed.
//!
//! A signal is a wake-up, never the truth: whoever hears `Rules` reads the version from
//! the database. `Missed` says signals may have been lost (the listener reconnected, or a
//! receiver fell behind): anything may have changed, so look again.

use lintel_domain::{ControllerId, DoorId, OrgId};
use tokio::sync::broadcast;
use uuid::Uuid;

/// The one PostgreSQL channel every node listens on.
pub(crate) const CHANNEL: &str = "lintel";

/// How many signals a slow receiver may fall behind before it hears `Missed`.
const BACKLOG: usize = 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// The organization's rules changed (a new rules version was committed).
    Rules(OrgId),
    /// Events were added to the organization's log (committed).
    Events(OrgId),
    /// Whichever node holds `controller`'s stream: have it release `door`'s lock, and answer
    /// `request`.
    Open {
        request: Uuid,
        controller: ControllerId,
        door: DoorId,
    },
    /// The answer to an `Open`: whether the lock was released.
    Opened { request: Uuid, opened: bool },
    /// Signals may have been lost: look again at whatever you wait for.
    Missed,
}

impl Signal {
    /// The signal as a `NOTIFY` payload: a letter and ids, far under its 8,000-byte limit.
    pub(crate) fn encode(&self) -> String {
        match self {
            Signal::Rules(org) => format!("r:{}", org.0),
            Signal::Events(org) => format!("e:{}", org.0),
            Signal::Open {
                request,
                controller,
                door,
            } => format!("o:{request}:{}:{}", controller.0, door.0),
            Signal::Opened { request, opened } => format!("a:{request}:{}", u8::from(*opened)),
            Signal::Missed => "m".to_owned(),
        }
    }

    /// A payload read back; `None` for one this version does not know (a newer node's).
    pub(crate) fn decode(payload: &str) -> Option<Signal> {
        let mut parts = payload.split(':');
        let kind = parts.next()?;
        let mut uuid = || parts.next().and_then(|p| Uuid::parse_str(p).ok());
        let signal = match kind {
            "r" => Signal::Rules(OrgId(uuid()?)),
            "e" => Signal::Events(OrgId(uuid()?)),
            "o" => Signal::Open {
                request: uuid()?,
                controller: ControllerId(uuid()?),
                door: DoorId(uuid()?),
            },
            "a" => {
                let request = uuid()?;
                let opened = match parts.next()? {
                    "1" => true,
                    "0" => false,
                    _ => return None,
                };
                Signal::Opened { request, opened }
            }
            "m" => Signal::Missed,
            _ => return None,
        };
        parts.next().is_none().then_some(signal)
    }
}

/// The signals a node hears, handed to each of its receivers.
pub(crate) struct Signals(broadcast::Sender<Signal>);

impl Default for Signals {
    fn default() -> Self {
        Self(broadcast::channel(BACKLOG).0)
    }
}

impl Signals {
    pub(crate) fn subscribe(&self) -> Receiver {
        Receiver(self.0.subscribe())
    }

    pub(crate) fn sender(&self) -> broadcast::Sender<Signal> {
        self.0.clone()
    }

    pub(crate) fn send(&self, signal: Signal) {
        // Nobody listening is fine: nobody waits.
        let _ = self.0.send(signal);
    }
}

/// One receiver of a node's signals.
pub struct Receiver(broadcast::Receiver<Signal>);

impl Receiver {
    /// The next signal; `Missed` when this receiver fell behind. Waits forever once the
    /// store is gone (nothing will be signalled again).
    pub async fn next(&mut self) -> Signal {
        match self.0.recv().await {
            Ok(signal) => signal,
            Err(broadcast::error::RecvError::Lagged(_)) => Signal::Missed,
            Err(broadcast::error::RecvError::Closed) => std::future::pending().await,
        }
    }

    /// Waits until `org`'s log may have grown: its `Events`, or `Missed` (which may have
    /// been one).
    pub async fn events_of(&mut self, org: OrgId) {
        loop {
            match self.next().await {
                Signal::Events(o) if o == org => return,
                Signal::Missed => return,
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_signal_reads_back_as_itself() {
        let (a, b, c) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        for signal in [
            Signal::Rules(OrgId(a)),
            Signal::Events(OrgId(b)),
            Signal::Open {
                request: a,
                controller: ControllerId(b),
                door: DoorId(c),
            },
            Signal::Opened {
                request: a,
                opened: true,
            },
            Signal::Opened {
                request: a,
                opened: false,
            },
            Signal::Missed,
        ] {
            assert_eq!(Signal::decode(&signal.encode()), Some(signal));
        }
        for unknown in ["", "x:1", "r:not-a-uuid", "a:{a}:2", "r:{a}:extra", "m:1"] {
            let payload = unknown.replace("{a}", &a.to_string());
            assert_eq!(Signal::decode(&payload), None, "{payload}");
        }
    }
}
