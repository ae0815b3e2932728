//! The event log: read with `audit`, filtered, paged newest first, or exported as CSV.

use chrono::{DateTime, Utc};
use lintel_domain::{Area, Event};
use lintel_store::{EventFilter, PageRequest};
use uuid::Uuid;

use super::{AppState, Error, ListRequest, Listed, OrgCtx};

/// The most rows one CSV export holds; narrow the time range for more.
pub const MAX_EXPORT_ROWS: usize = 100_000;

/// How the log is filtered, as callers give it.
#[derive(Debug, Default, Clone)]
pub struct EventQuery {
    /// An exact kind (`door.created`) or an object (`door`).
    pub kind: Option<String>,
    pub actor_id: Option<Uuid>,
    pub object_id: Option<Uuid>,
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

impl EventQuery {
    fn filter(&self) -> Result<EventFilter, Error> {
        let kind = self
            .kind
            .as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty());
        if let Some(kind) = kind
            && (kind.len() > 64
                || !kind
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_' || c == '.'))
        {
            return Err(lintel_domain::ValidationError::new(
                "kind",
                "invalid_kind",
                "kind is an event kind such as door.created, or its object such as door",
            )
            .into());
        }
        lintel_domain::validate::instant("from", self.from)?;
        lintel_domain::validate::instant("until", self.until)?;
        if let (Some(from), Some(until)) = (self.from, self.until)
            && from >= until
        {
            return Err(lintel_domain::ValidationError::new(
                "until",
                "empty_range",
                "until must be later than from",
            )
            .into());
        }
        Ok(EventFilter {
            kind: kind.map(str::to_owned),
            actor_id: self.actor_id,
            object_id: self.object_id,
            from: self.from,
            until: self.until,
        })
    }
}

pub async fn list(
    state: &AppState,
    ctx: &OrgCtx,
    query: &EventQuery,
    req: &ListRequest,
) -> Result<Listed<Event>, Error> {
    ctx.require(Area::Audit)?;
    let filter = query.filter()?;
    Ok(state
        .store
        .list_events(ctx.org_id(), &filter, req.page()?)
        .await?
        .into())
}

/// The matching events as CSV, newest first, at most `MAX_EXPORT_ROWS`.
pub async fn export_csv(
    state: &AppState,
    ctx: &OrgCtx,
    query: &EventQuery,
) -> Result<String, Error> {
    ctx.require(Area::Audit)?;
    let filter = query.filter()?;
    let mut out =
        String::from("id,at,kind,actor_kind,actor_id,actor_name,object_kind,object_id,summary\r\n");
    let mut page = PageRequest {
        limit: ListRequest::MAX_LIMIT,
        after: None,
    };
    let mut rows = 0;
    loop {
        let batch = state.store.list_events(ctx.org_id(), &filter, page).await?;
        for e in &batch.items {
            let fields = [
                e.id.to_string(),
                e.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                e.kind.clone(),
                e.actor.kind().to_owned(),
                e.actor.id().map(|id| id.to_string()).unwrap_or_default(),
                e.actor.name().to_owned(),
                e.object_kind.clone().unwrap_or_default(),
                e.object_id.map(|id| id.to_string()).unwrap_or_default(),
                e.summary.to_string(),
            ];
            let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
            out.push_str(&line.join(","));
            out.push_str("\r\n");
        }
        rows += batch.items.len();
        match batch.next_after {
            Some(after) if rows < MAX_EXPORT_ROWS => page.after = Some(after),
            _ => break,
        }
    }
    Ok(out)
}

/// How far back each look of a watch reads again: an event is stamped when its change
/// begins and becomes visible when the change commits, so one stamped a little earlier than
/// the last seen can still arrive.
const WATCH_LAG: chrono::Duration = chrono::Duration::seconds(30);
/// The most events one look reads.
const WATCH_BATCH: u32 = 500;

/// A follower of an organization's events as they are recorded, oldest first, each once.
#[derive(Debug)]
pub struct Watch {
    org: lintel_domain::OrgId,
    kind: Option<String>,
    /// Nothing older is delivered: `since`, or when the watch started.
    start: DateTime<Utc>,
    /// The newest time delivered (or the start).
    floor: DateTime<Utc>,
    /// Events delivered within `WATCH_LAG` of `floor`, to tell repeats apart.
    seen: std::collections::HashMap<Uuid, DateTime<Utc>>,
}

impl Watch {
    /// Starts following the events of `kind` (as in `EventQuery`) from `since`, or from now
    /// (what is on record already is not delivered). Needs `audit`.
    pub async fn start(
        state: &AppState,
        ctx: &OrgCtx,
        kind: Option<String>,
        since: Option<DateTime<Utc>>,
    ) -> Result<Watch, Error> {
        ctx.require(Area::Audit)?;
        let filter = EventQuery {
            kind,
            ..EventQuery::default()
        }
        .filter()?;
        let start = since.unwrap_or(ctx.now);
        let mut watch = Watch {
            org: ctx.org_id(),
            kind: filter.kind,
            start,
            floor: start,
            seen: std::collections::HashMap::new(),
        };
        if since.is_none() {
            // Recorded at this very instant, before the call: taken as seen.
            watch.next(state).await?;
        }
        Ok(watch)
    }

    /// The events recorded since the last look, oldest first (empty when there are none).
    pub async fn next(&mut self, state: &AppState) -> Result<Vec<Event>, Error> {
        // From a lag before the newest delivered, never before the start.
        let from = self.start.max(self.floor - WATCH_LAG);
        let mut out = Vec::new();
        let mut cursor = first_id_at(from);
        loop {
            let batch = state
                .store
                .events_from(self.org, self.kind.as_deref(), cursor, WATCH_BATCH)
                .await?;
            let full = batch.len() == WATCH_BATCH as usize;
            let last = batch.last().map(|e| e.id.0);
            for e in batch {
                if e.at >= from && !self.seen.contains_key(&e.id.0) {
                    self.seen.insert(e.id.0, e.at);
                    self.floor = self.floor.max(e.at);
                    out.push(e);
                }
            }
            match last {
                Some(last) if full => cursor = next_id(last),
                _ => break,
            }
        }
        let keep = self.floor - WATCH_LAG;
        self.seen.retain(|_, at| *at >= keep);
        Ok(out)
    }
}

/// Today's door decisions in the organization's time zone, hour by hour.
#[derive(Debug, Clone)]
pub struct Today {
    /// The hours' bounds: local midnight, every hour, the next local midnight (23 or 25
    /// hours on the days clocks change).
    pub edges: Vec<DateTime<Utc>>,
    /// Per door and hour (an index into `edges`), the hours with a decision only.
    pub counts: Vec<lintel_store::DecisionCount>,
    /// Different members granted entry today.
    pub members_granted: u64,
}

/// Today's door decisions, hour by hour (needs `audit`: they are the log's).
pub async fn today(state: &AppState, ctx: &OrgCtx) -> Result<Today, Error> {
    ctx.require(Area::Audit)?;
    let edges = hours_of_day(ctx.now, ctx.org.time_zone.tz());
    let activity = state.store.decision_activity(ctx.org_id(), &edges).await?;
    Ok(Today {
        edges,
        counts: activity.counts,
        members_granted: activity.members_granted,
    })
}

/// The hours of `now`'s day in `tz`, as their bounds.
fn hours_of_day(now: DateTime<Utc>, tz: chrono_tz::Tz) -> Vec<DateTime<Utc>> {
    use chrono::TimeZone as _;
    let day = now.with_timezone(&tz).date_naive();
    // The day's first instant: midnight, or, where clocks skip midnight, the hour after.
    let start_of = |date: chrono::NaiveDate| {
        (0..3)
            .find_map(|h| {
                let time = chrono::NaiveTime::from_hms_opt(h, 0, 0)?;
                tz.from_local_datetime(&date.and_time(time)).earliest()
            })
            .map_or(now, |t| t.with_timezone(&Utc))
    };
    let (start, end) = (start_of(day), start_of(day.succ_opt().unwrap_or(day)));
    let mut edges = vec![start];
    let mut at = start;
    while at < end && edges.len() < 30 {
        at = (at + chrono::Duration::hours(1)).min(end);
        edges.push(at);
    }
    edges
}

/// The least event id made at `at` (ids are UUIDv7: their first 48 bits are the time in
/// milliseconds).
fn first_id_at(at: DateTime<Utc>) -> Uuid {
    let millis = u64::try_from(at.timestamp_millis()).unwrap_or(0);
    let mut bytes = [0u8; 16];
    bytes[..6].copy_from_slice(&millis.to_be_bytes()[2..]);
    bytes[6] = 0x70;
    bytes[8] = 0x80;
    Uuid::from_bytes(bytes)
}

/// The id right after `id`.
fn next_id(id: Uuid) -> Uuid {
    Uuid::from_u128(id.as_u128().saturating_add(1))
}

/// One CSV field (RFC 4180), with cells that a spreadsheet would run as a formula defused.
fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_has_its_local_hours_also_when_clocks_change() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let stockholm = chrono_tz::Europe::Stockholm;
        let day = hours_of_day(at("2026-06-10T12:00:00Z"), stockholm);
        assert_eq!(day.len(), 25);
        assert_eq!(day[0], at("2026-06-09T22:00:00Z"));
        assert_eq!(day[24], at("2026-06-10T22:00:00Z"));
        // Clocks go forward on 29 March 2026 (23 hours) and back on 25 October (25).
        assert_eq!(
            hours_of_day(at("2026-03-29T12:00:00Z"), stockholm).len(),
            24
        );
        assert_eq!(
            hours_of_day(at("2026-10-25T12:00:00Z"), stockholm).len(),
            26
        );
        // Just before local midnight is still the day before.
        let late = hours_of_day(at("2026-06-10T21:59:00Z"), stockholm);
        assert_eq!(late[0], at("2026-06-09T22:00:00Z"));
    }

    #[test]
    fn the_first_id_at_a_time_sorts_before_every_id_made_then() {
        let at = DateTime::from_timestamp(1_772_442_000, 123_000_000).unwrap();
        let floor = first_id_at(at);
        for _ in 0..100 {
            let id = lintel_domain::EventId::new(at).0;
            assert!(floor <= id, "{floor} > {id}");
            assert!(first_id_at(at + chrono::Duration::milliseconds(1)) > id);
        }
    }

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=cmd()"), "'=cmd()");
    }
}
