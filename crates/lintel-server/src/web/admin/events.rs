//! The event log: filtered, paged, and as CSV.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use lintel_domain::Area;
use uuid::Uuid;

use super::Section;
use super::kit::{Fields, error_page, more_link, nav, optional, url_encode};
use crate::app::events::EventQuery;
use crate::app::{self, AppState, ListRequest, enter_org};
use crate::web::Session;
use crate::web::html::{escape, input, page_with_nav};

pub(super) const SECTION: Section = Section {
    path: "events",
    label: "Events",
    may_see: |ctx| ctx.require(Area::Audit).is_ok(),
};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/{slug}/events", get(events))
        .route("/admin/{slug}/events.csv", get(events_csv))
}

fn event_query(params: &Fields) -> EventQuery {
    EventQuery {
        kind: optional(params, "kind"),
        ..EventQuery::default()
    }
}

pub async fn events(
    State(state): State<AppState>,
    session: Session,
    Path(slug): Path<String>,
    Query(params): Query<Fields>,
) -> Response {
    let ctx = match enter_org(&state, session.actor.clone(), &slug).await {
        Ok(ctx) => ctx,
        Err(err) => return error_page(err),
    };
    let query = event_query(&params);
    let page = ListRequest {
        limit: Some(50),
        cursor: optional(&params, "cursor"),
    };
    let listed = match app::events::list(&state, &ctx, &query, &page).await {
        Ok(listed) => listed,
        Err(err) => return error_page(err),
    };
    let mut rows = String::new();
    for e in &listed.items {
        let summary = summary_text(&e.summary);
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"summary\">{}</td></tr>",
            e.at.format("%Y-%m-%d %H:%M:%S"),
            escape(&e.kind),
            escape(e.actor.name()),
            object_text(e.object_kind.as_deref(), e.object_id),
            escape(&summary),
        ));
    }
    let kind = query.kind.clone().unwrap_or_default();
    let kind_param: String = url_encode(&kind);
    let next = more_link(
        &format!("/admin/{slug}/events"),
        &params,
        "cursor",
        listed.next_cursor.as_deref(),
    );
    let body = format!(
        "<form class=\"card filters\" method=\"get\" action=\"/admin/{slug}/events\">\
         <div class=\"grow\">{}</div><button class=\"secondary\">Filter</button> <a \
         href=\"/admin/{slug}/events.csv?kind={kind_param}\">Download CSV</a></form><section><div class=\"scroll\" tabindex=\"0\"><table><thead><tr><th>When (UTC)</th>\
         <th>What</th><th>Who</th><th>Object</th><th>Details</th></tr></thead><tbody>{rows}\
         </tbody></table></div>{next}</section>",
        input(
            "kind",
            "Kind (e.g. door, member.invited)",
            "search",
            &kind,
            ""
        ),
    );
    Html(page_with_nav("Events", &nav(&ctx, "events"), &body)).into_response()
}

/// An event's object: its kind and the start of its id, the whole id on hover.
fn object_text(kind: Option<&str>, id: Option<Uuid>) -> String {
    match (kind, id) {
        (Some(kind), Some(id)) => {
            let id = id.to_string();
            format!("{} <span title=\"{id}\">{}…</span>", escape(kind), &id[..8])
        }
        (Some(kind), None) => escape(kind),
        _ => String::new(),
    }
}

/// What an event's summary says, in a line: the changed fields, or the name of what was
/// created or deleted.
fn summary_text(summary: &serde_json::Value) -> String {
    let value = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if let Some(changes) = summary.get("changes").and_then(|c| c.as_object()) {
        return changes
            .iter()
            .map(|(field, c)| format!("{field}: {} → {}", value(&c["before"]), value(&c["after"])))
            .collect::<Vec<_>>()
            .join("; ");
    }
    for (key, verb) in [("after", "created"), ("before", "deleted")] {
        if let Some(object) = summary.get(key) {
            return match object.get("name") {
                Some(name) => format!("{verb} {}", value(name)),
                None => verb.to_owned(),
            };
        }
    }
    match summary.as_object() {
        Some(map) if map.is_empty() => String::new(),
        _ => summary.to_string(),
    }
}

pub async fn events_csv(
    State(state): State<AppState>,
    session: Session,
    Path(slug): Path<String>,
    Query(params): Query<Fields>,
) -> Response {
    let ctx = match enter_org(&state, session.actor.clone(), &slug).await {
        Ok(ctx) => ctx,
        Err(err) => return error_page(err),
    };
    match app::events::export_csv(&state, &ctx, &event_query(&params)).await {
        Ok(csv) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{slug}-events.csv\""),
                ),
            ],
            csv,
        )
            .into_response(),
        Err(err) => error_page(err),
    }
}
