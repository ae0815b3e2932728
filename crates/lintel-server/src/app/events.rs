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
    use super::csv_field;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=cmd()"), "'=cmd()");
    }
}
