//! Group commit for the event log: every `record_event` waiting when the writer comes round
//! is written in one statement (or one transaction), and each caller is answered only once
//! that write has committed. Decisions arrive many at a time and change nothing but the
//! log, so a hundred unlocks cost one write instead of a hundred, and nothing answered is
//! lost: the answer waits for the commit.

use std::future::Future;

use lintel_domain::{EventKind, OrgId};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::{Audit, StoreError};

/// The most events one write takes (one multi-row statement: 10 values a row stays well
/// under both backends' limits on bound values).
pub(crate) const MAX_GROUP: usize = 500;

/// How many events may wait for the writer before callers wait to hand theirs over.
const QUEUE: usize = 4 * MAX_GROUP;

/// One event to append, owned so that it can wait in the queue.
#[derive(Debug)]
pub(crate) struct NewEvent {
    pub org: OrgId,
    pub audit: Audit,
    pub kind: EventKind,
    pub object: Option<(String, Uuid)>,
    pub summary: serde_json::Value,
}

/// Writes a group of events all or nothing. Each backend's SQL implements it.
pub(crate) trait WriteEvents: Send + Sync + 'static {
    fn write(&self, events: &[NewEvent]) -> impl Future<Output = Result<(), StoreError>> + Send;
}

type Waiting = (NewEvent, oneshot::Sender<Result<(), StoreError>>);

/// The queue in front of the writer task; dropping the last handle ends the task once it has
/// written what was handed over.
pub(crate) struct GroupCommit {
    queue: mpsc::Sender<Waiting>,
}

impl GroupCommit {
    /// Starts the writer task on the current Tokio runtime.
    pub(crate) fn start(writer: impl WriteEvents) -> Self {
        let (queue, waiting) = mpsc::channel(QUEUE);
        tokio::spawn(run(writer, waiting));
        Self { queue }
    }

    /// Appends `event` and returns once it is committed (or could not be).
    pub(crate) async fn record(&self, event: NewEvent) -> Result<(), StoreError> {
        let (done, answer) = oneshot::channel();
        let gone = || StoreError::Config("the event writer has stopped".to_owned());
        self.queue.send((event, done)).await.map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

/// Takes everything waiting (up to `MAX_GROUP`), writes it in one go and answers each caller.
/// When a group fails, its events are written again one by one, so that one bad event (of an
/// organization deleted meanwhile, say) fails alone, with its own error.
async fn run(writer: impl WriteEvents, mut waiting: mpsc::Receiver<Waiting>) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while waiting.recv_many(&mut group, MAX_GROUP).await > 0 {
        let (events, answers): (Vec<_>, Vec<_>) = group.drain(..).unzip();
        match writer.write(&events).await {
            Ok(()) => {
                for answer in answers {
                    let _ = answer.send(Ok(()));
                }
            }
            Err(err) if events.len() == 1 => {
                if let Some(answer) = answers.into_iter().next() {
                    let _ = answer.send(Err(err));
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, events = events.len(), "a group of events failed; writing them one by one");
                for (event, answer) in events.iter().zip(answers) {
                    let _ = answer.send(writer.write(std::slice::from_ref(event)).await);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use lintel_domain::EventActor;
    use tokio::sync::Semaphore;

    use super::*;

    /// Notes the size of every write asked of it; refuses any holding an event of `bad`.
    /// Each write waits for a permit of `go`.
    struct Recorder {
        writes: Arc<Mutex<Vec<usize>>>,
        bad: OrgId,
        go: Arc<Semaphore>,
    }

    impl WriteEvents for Recorder {
        async fn write(&self, events: &[NewEvent]) -> Result<(), StoreError> {
            self.writes.lock().unwrap().push(events.len());
            self.go.acquire().await.unwrap().forget();
            if events.iter().any(|e| e.org == self.bad) {
                return Err(StoreError::NotFound);
            }
            Ok(())
        }
    }

    fn event(org: OrgId) -> NewEvent {
        NewEvent {
            org,
            audit: Audit {
                actor: EventActor::System,
                at: chrono::DateTime::UNIX_EPOCH,
            },
            kind: EventKind::DecisionGranted,
            object: None,
            summary: serde_json::Value::Null,
        }
    }

    #[tokio::test]
    async fn callers_waiting_together_share_a_write_and_a_bad_event_fails_alone() {
        let writes = Arc::new(Mutex::new(Vec::new()));
        let (good, bad) = (OrgId(Uuid::from_u128(1)), OrgId(Uuid::from_u128(2)));
        let go = Arc::new(Semaphore::new(0));
        let commit = Arc::new(GroupCommit::start(Recorder {
            writes: writes.clone(),
            bad,
            go: go.clone(),
        }));
        let call = |i: usize| {
            let commit = commit.clone();
            tokio::spawn(async move {
                let org = if i == 50 { bad } else { good };
                commit.record(event(org)).await
            })
        };
        // The first event is being written when the other 99 arrive.
        let mut calls = vec![call(0)];
        while writes.lock().unwrap().is_empty() {
            tokio::task::yield_now().await;
        }
        calls.extend((1..100).map(call));
        while commit.queue.capacity() > QUEUE - 99 {
            tokio::task::yield_now().await;
        }
        go.add_permits(1_000);
        let mut failed = Vec::new();
        for (i, call) in calls.into_iter().enumerate() {
            if call.await.unwrap().is_err() {
                failed.push(i);
            }
        }
        assert_eq!(failed, vec![50], "only the bad event fails");
        // The first alone; the 99 that waited together, refused for the bad one among them;
        // then each of those again on its own.
        let writes = writes.lock().unwrap();
        assert_eq!(writes[..2], [1, 99]);
        assert_eq!(writes[2..], [1; 99]);
    }
}
