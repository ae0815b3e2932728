//! Access links on the web: the guest's page `/l/{secret}` (no account: the link is the
//! credential) and the member app's My guests, which shares the dashboard's list and forms
//! (`admin/links.rs`).

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Utc};
use lintel_domain::decision::DenyReason;
use lintel_domain::{DoorId, LinkState};
use uuid::Uuid;

use super::admin::kit::{Fields, Screen, show};
use super::admin::links::{links_body, revoke, send};
use super::doors::reason_text;
use super::html::{Lang, Tab, app_page, error_box, escape, page_in};
use super::{SameOrigin, Session, explain};
use crate::app::decisions::Unlock;
use crate::app::{self, AppState, OrgCtx};
use crate::http::extract::Source;

/// The answer no cache keeps, whose URL (it holds the secret) no other site sees as a
/// referrer. (`no-referrer` would also strip the Origin of the page's own forms.)
fn secret_page(status: StatusCode, html: String) -> Response {
    (
        status,
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::REFERRER_POLICY, "same-origin"),
        ],
        Html(html),
    )
        .into_response()
}

/// The message id saying why a link opens nothing now, if it does not.
fn state_sentence(state: LinkState) -> Option<&'static str> {
    match state {
        LinkState::Active => None,
        LinkState::Scheduled => Some("link-not-yet-valid"),
        LinkState::Expired => Some("link-expired"),
        LinkState::Revoked => Some("link-revoked"),
    }
}

async fn guest_html(
    state: &AppState,
    secret: &str,
    source: std::net::IpAddr,
    lang: Lang,
    result: Option<(DoorId, &Unlock)>,
) -> Result<String, app::Error> {
    let view = app::links::guest_view(state, secret, source).await?;
    let hello = if view.state == LinkState::Active {
        "link-hello-doors"
    } else {
        "link-hello"
    };
    let mut body = format!(
        "<section><p>{}</p>",
        escape(&lang.text(
            hello,
            &[("name", &view.recipient_name), ("org", &view.org_name)]
        ))
    );
    // In the organization's time zone, as the sender chose the times.
    let zone = lintel_domain::TimeZone::parse("time_zone", &view.time_zone)
        .unwrap_or(lintel_domain::TimeZone::UTC);
    let when = |t: Option<DateTime<Utc>>| {
        t.map(|t| {
            format!(
                "{} ({})",
                lang.date_time(t.with_timezone(&zone.tz()).naive_local()),
                zone.name()
            )
        })
    };
    let validity = match (when(view.valid_from), when(view.valid_until)) {
        (Some(from), Some(until)) => Some(lang.text(
            "link-valid-from-until",
            &[("from", &from), ("until", &until)],
        )),
        (Some(from), None) => Some(lang.text("link-valid-from", &[("from", &from)])),
        (None, Some(until)) => Some(lang.text("link-valid-until", &[("until", &until)])),
        (None, None) => None,
    };
    if let Some(validity) = validity {
        body.push_str(&format!("<p class=\"hint\">{}</p>", escape(&validity)));
    }
    body.push_str("</section>");
    if let Some(why) = state_sentence(view.state) {
        body.push_str(&error_box(Some(&lang.word(why))));
    }
    // A refusal for the link's state is said above already.
    if let Some((_, answer)) = result.filter(|_| view.state == LinkState::Active) {
        body.push_str(&if answer.granted {
            format!(
                "<p class=\"notice\" role=\"status\">{}</p>",
                escape(&lang.word("doors-unlocked"))
            )
        } else {
            error_box(
                answer
                    .reason
                    .map(|r| guest_reason_text(lang, r, &view.sent_by))
                    .as_deref(),
            )
        });
    }
    if view.state == LinkState::Active {
        body.push_str("<section><ul class=\"rows\">");
        for door in &view.doors {
            body.push_str(&format!(
                "<li><strong>{}</strong><form method=\"post\" action=\"/l/{}/doors/{}/unlock\">\
                 <button>{}</button></form></li>",
                escape(&door.name),
                escape(secret),
                door.id,
                escape(&lang.word("doors-unlock"))
            ));
        }
        if view.doors.is_empty() {
            body.push_str(&format!("<li>{}</li>", escape(&lang.word("link-no-door"))));
        }
        body.push_str("</ul></section>");
    }
    Ok(page_in(lang, &view.org_name, &body))
}

/// What to tell a guest whose unlock was refused: whom to ask is whoever sent the link.
fn guest_reason_text(lang: Lang, reason: DenyReason, sent_by: &str) -> String {
    let own = match reason {
        DenyReason::NoAccess => Some("guest-deny-no-access"),
        DenyReason::OutsideSchedule => Some("guest-deny-outside-schedule"),
        DenyReason::AuthTypeNotAllowed => Some("guest-deny-auth-type-not-allowed"),
        _ => None,
    };
    match own {
        Some(id) => lang.text(id, &[("sender", sent_by)]),
        None => reason_text(lang, reason, &lang.text("ask-sender", &[("name", sent_by)])),
    }
}

fn guest_error(lang: Lang, err: app::Error) -> Response {
    let (status, message) = explain(lang, err);
    secret_page(
        status,
        page_in(lang, &lang.word("link-title"), &error_box(Some(&message))),
    )
}

pub async fn guest_page(
    State(state): State<AppState>,
    Source(source): Source,
    lang: Lang,
    Path(secret): Path<String>,
) -> Response {
    match guest_html(&state, &secret, source, lang, None).await {
        Ok(html) => secret_page(StatusCode::OK, html),
        Err(err) => guest_error(lang, err),
    }
}

/// The Unlock button of the guest's page. Only the same-origin check guards it: the secret
/// in the path is the credential.
pub async fn guest_unlock(
    State(state): State<AppState>,
    _: SameOrigin,
    Source(source): Source,
    lang: Lang,
    Path((secret, door)): Path<(String, Uuid)>,
) -> Response {
    let door = DoorId(door);
    let answer = match app::links::unlock(&state, &secret, door, source).await {
        Ok(answer) => answer,
        Err(err) => return guest_error(lang, err),
    };
    match guest_html(&state, &secret, source, lang, Some((door, &answer))).await {
        Ok(html) => secret_page(StatusCode::OK, html),
        Err(err) => guest_error(lang, err),
    }
}

/// A member's own guests' links, in the member app.
pub(crate) struct Guests;

impl Screen for Guests {
    fn at(_: Option<Uuid>) -> Option<Self> {
        Some(Guests)
    }

    fn path(&self, slug: &str) -> String {
        format!("/guests/{slug}")
    }

    async fn render(
        &self,
        state: &AppState,
        ctx: &OrgCtx,
        session: &Session,
        top: &str,
    ) -> Result<String, app::Error> {
        guests_html(state, ctx, session, top).await
    }
}

async fn guests_html(
    state: &AppState,
    ctx: &OrgCtx,
    session: &Session,
    top: &str,
) -> Result<String, app::Error> {
    let action = format!("/guests/{}", ctx.org.slug.as_str());
    let body = links_body(state, ctx, session, &action, &Fields::new(), top).await?;
    Ok(app_page(
        Lang::En,
        &format!("My guests at {}", ctx.org.name),
        Tab::Doors,
        &body,
    ))
}

pub async fn guests(
    State(state): State<AppState>,
    session: Session,
    Path(slug): Path<String>,
) -> Response {
    show(&state, &session, &slug, Guests, StatusCode::OK, "").await
}

pub async fn create_guest_link(
    State(state): State<AppState>,
    _: SameOrigin,
    session: Session,
    Path(slug): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    send(&state, &session, &slug, &form, Guests).await
}

pub async fn revoke_guest_link(
    State(state): State<AppState>,
    _: SameOrigin,
    session: Session,
    Path((slug, id)): Path<(String, Uuid)>,
    Form(form): Form<Fields>,
) -> Response {
    revoke(&state, &session, &slug, id, &form, Guests).await
}
