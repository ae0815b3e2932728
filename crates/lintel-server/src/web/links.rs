//! Access links on the web: the guest's page `/l/{secret}` (no account: the link is the
//! credential), the dashboard's Access links (send, list, revoke, the copy-once dialog), and
//! the member app's My guests.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Utc};
use lintel_domain::decision::DenyReason;
use lintel_domain::{Delivery, DoorId, LinkId, LinkState};
use uuid::Uuid;

use super::admin::{
    Fields, Page, act, button_form, credential_tabs, error_page, field, max_page, nav, optional,
    show, show_once,
};
use super::doors::reason_text;
use super::html::{error_box, escape, hidden, input, page, page_with_nav};
use super::rules::local_time;
use super::{SameOrigin, Session, explain};
use crate::app::decisions::Unlock;
use crate::app::links::{CreateLink, LinkQuery, LinkView};
use crate::app::{self, AppState, OrgCtx, enter_org};
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

fn state_sentence(state: LinkState) -> &'static str {
    match state {
        LinkState::Active => "",
        LinkState::Scheduled => "This link is not valid yet.",
        LinkState::Expired => "This link has expired.",
        LinkState::Revoked => "This link has been revoked.",
    }
}

async fn guest_html(
    state: &AppState,
    secret: &str,
    source: std::net::IpAddr,
    result: Option<(DoorId, &Unlock)>,
) -> Result<String, app::Error> {
    let view = app::links::guest_view(state, secret, source).await?;
    let mut body = format!(
        "<section><p>Hello {}. This link is from <strong>{}</strong>{}</p>",
        escape(&view.recipient_name),
        escape(&view.org_name),
        if view.state == LinkState::Active {
            " and opens these doors."
        } else {
            "."
        }
    );
    // In the organization's time zone, as the sender chose the times.
    let zone = lintel_domain::TimeZone::parse("time_zone", &view.time_zone)
        .unwrap_or(lintel_domain::TimeZone::UTC);
    let when = |t: Option<DateTime<Utc>>| {
        t.map(|t| {
            format!(
                "{} ({})",
                t.with_timezone(&zone.tz()).format("%Y-%m-%d %H:%M"),
                zone.name()
            )
        })
    };
    match (when(view.valid_from), when(view.valid_until)) {
        (Some(f), Some(u)) => {
            body.push_str(&format!("<p class=\"hint\">Valid from {f} until {u}.</p>"))
        }
        (Some(f), None) => body.push_str(&format!("<p class=\"hint\">Valid from {f}.</p>")),
        (None, Some(u)) => body.push_str(&format!("<p class=\"hint\">Valid until {u}.</p>")),
        (None, None) => {}
    }
    body.push_str("</section>");
    if view.state != LinkState::Active {
        body.push_str(&error_box(Some(state_sentence(view.state))));
    }
    // A refusal for the link's state is said above already.
    if let Some((_, answer)) = result.filter(|_| view.state == LinkState::Active) {
        body.push_str(&if answer.granted {
            "<p class=\"notice\" role=\"status\">Unlocked.</p>".to_owned()
        } else {
            error_box(answer.reason.map(guest_reason_text))
        });
    }
    if view.state == LinkState::Active {
        body.push_str("<section><ul class=\"rows\">");
        for door in &view.doors {
            body.push_str(&format!(
                "<li><strong>{}</strong><form method=\"post\" action=\"/l/{}/doors/{}/unlock\">\
                 <button>Unlock</button></form></li>",
                escape(&door.name),
                escape(secret),
                door.id
            ));
        }
        if view.doors.is_empty() {
            body.push_str("<li>This link opens no door at the moment.</li>");
        }
        body.push_str("</ul></section>");
    }
    Ok(page(&view.org_name, &body))
}

/// What to tell a guest whose unlock was refused.
fn guest_reason_text(reason: DenyReason) -> &'static str {
    match reason {
        DenyReason::NoAccess => "This link does not open this door.",
        DenyReason::OutsideSchedule => "This door is not open to guests at this time.",
        DenyReason::AuthTypeNotAllowed => "This door does not open with a link.",
        other => reason_text(other),
    }
}

fn guest_error(err: app::Error) -> Response {
    let (status, message) = explain(err);
    secret_page(status, page("Access link", &error_box(Some(&message))))
}

pub async fn guest_page(
    State(state): State<AppState>,
    Source(source): Source,
    Path(secret): Path<String>,
) -> Response {
    match guest_html(&state, &secret, source, None).await {
        Ok(html) => secret_page(StatusCode::OK, html),
        Err(err) => guest_error(err),
    }
}

/// The Unlock button of the guest's page. Only the same-origin check guards it: the secret
/// in the path is the credential.
pub async fn guest_unlock(
    State(state): State<AppState>,
    _: SameOrigin,
    Source(source): Source,
    Path((secret, door)): Path<(String, Uuid)>,
) -> Response {
    let door = DoorId(door);
    let answer = match app::links::unlock(&state, &secret, door, source).await {
        Ok(answer) => answer,
        Err(err) => return guest_error(err),
    };
    match guest_html(&state, &secret, source, Some((door, &answer))).await {
        Ok(html) => secret_page(StatusCode::OK, html),
        Err(err) => guest_error(err),
    }
}

/// The send form and the list, for the dashboard (every link) and for My guests (one's own).
async fn links_body(
    state: &AppState,
    ctx: &OrgCtx,
    session: &Session,
    action: &str,
    query: &LinkQuery,
    top: &str,
) -> Result<String, app::Error> {
    let links = app::links::list(state, ctx, query, &max_page()).await?;
    // Administrators choose among all groups; a member sending to their own guests among
    // their own groups (whose doors they can open, which sending checks).
    let groups: Vec<(Uuid, String)> = match (ctx.require_admin(), &ctx.member) {
        (Ok(()), _) => app::groups::list(state, ctx, &max_page())
            .await?
            .items
            .into_iter()
            .map(|g| (g.id.0, g.name))
            .collect(),
        (Err(_), Some(me)) => {
            let mut mine = Vec::new();
            for id in &me.membership.groups {
                if let Ok(g) = state.store.get_group(ctx.org_id(), *id).await {
                    mine.push((g.id.0, g.name));
                }
            }
            mine
        }
        (Err(err), None) => return Err(err),
    };
    let name_of = |id: Uuid| {
        groups
            .iter()
            .find(|(g, _)| *g == id)
            .map_or_else(|| "a group".to_owned(), |(_, n)| n.clone())
    };
    let mut rows = String::new();
    for LinkView { link, state: s } in &links.items {
        let revoke = if *s == LinkState::Revoked {
            String::new()
        } else {
            button_form(
                &format!("{action}/{}/revoke", link.id),
                &session.csrf,
                "Revoke",
                "danger small",
            )
        };
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             </tr>",
            escape(&link.recipient_name),
            escape(&name_of(link.group_id.0)),
            link.delivery.as_str(),
            link.address
                .as_deref()
                .map(|a| format!(" · {}", escape(a)))
                .unwrap_or_default(),
            s.as_str(),
            link.valid_until
                .map(|u| u.format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_else(|| "for ever".into()),
            link.last_used_at
                .map(|u| u.format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_else(|| "never".into()),
            revoke,
        ));
    }
    let options: String = groups
        .iter()
        .map(|(id, name)| format!("<option value=\"{id}\">{}</option>", escape(name)))
        .collect();
    let choice = |(value, label): &(&str, &str), current: Option<&str>| {
        let on = current == Some(*value) || (current.is_none() && value.is_empty());
        format!(
            "<option value=\"{value}\"{}>{label}</option>",
            if on { " selected" } else { "" }
        )
    };
    let states: String = [
        ("", "any state"),
        ("active", "active"),
        ("scheduled", "scheduled"),
        ("expired", "expired"),
        ("revoked", "revoked"),
    ]
    .iter()
    .map(|c| choice(c, query.state.as_deref()))
    .collect();
    let sorts: String = [
        ("", "newest last"),
        ("name", "name"),
        ("last_used", "last used"),
        ("valid_until", "ending soonest"),
    ]
    .iter()
    .map(|c| choice(c, query.sort.as_deref()))
    .collect();
    let filters = format!(
        "<form class=\"inline\" method=\"get\" action=\"{action}\"><label class=\"check\" \
         for=\"state\">Show</label><select id=\"state\" name=\"state\">{states}</select> \
         <label class=\"check\" for=\"sort\">sorted by</label><select id=\"sort\" \
         name=\"sort\">{sorts}</select> <button class=\"small secondary\">List</button></form>"
    );
    Ok(format!(
        "{top}<section>{filters}<table><thead><tr><th>Recipient</th><th>Group</th><th>Sent</th>\
         <th>State</th><th>Until</th><th>Last used</th><th></th></tr></thead><tbody>{rows}\
         </tbody></table>{}</section>\
         <form class=\"card\" method=\"post\" action=\"{action}\"><h2>Send an access link</h2>{}\
         {}<label for=\"group_id\">Doors of group</label><select id=\"group_id\" name=\"group_id\" \
         required>{options}</select><label for=\"delivery\">Send by</label>\
         <select id=\"delivery\" name=\"delivery\"><option value=\"manual\">a link I hand over\
         </option><option value=\"email\">email</option><option value=\"sms\">SMS (United \
         States, Canada, Puerto Rico)</option></select>{}{}{}<button>Send link</button></form>",
        match (links.items.is_empty(), query.state.is_some()) {
            (false, _) => "",
            (true, false) => "<p>No links yet.</p>",
            (true, true) => "<p>No links in this state.</p>",
        },
        hidden("csrf", &session.csrf),
        input("recipient_name", "Recipient's name", "text", "", "required"),
        input(
            "address",
            "Email or phone (not for a link you hand over)",
            "text",
            "",
            ""
        ),
        input(
            "valid_from",
            &format!("Valid from ({}, blank: now)", ctx.org.time_zone.name()),
            "datetime-local",
            "",
            ""
        ),
        input(
            "valid_until",
            "Valid until (blank: for ever)",
            "datetime-local",
            "",
            ""
        ),
    ))
}

/// The dashboard's navigation, on the Credentials section's Access links tab.
fn links_nav(ctx: &OrgCtx) -> String {
    format!(
        "{}{}",
        nav(ctx, "credentials"),
        credential_tabs(ctx, "links")
    )
}

pub(super) async fn links_html(
    state: &AppState,
    ctx: &OrgCtx,
    session: &Session,
    top: &str,
) -> Result<String, app::Error> {
    listed_links_html(state, ctx, session, &LinkQuery::default(), top).await
}

/// The dashboard's Access links page, its list as `query` asks.
async fn listed_links_html(
    state: &AppState,
    ctx: &OrgCtx,
    session: &Session,
    query: &LinkQuery,
    top: &str,
) -> Result<String, app::Error> {
    let action = format!("/admin/{}/links", ctx.org.slug.as_str());
    let body = links_body(state, ctx, session, &action, query, top).await?;
    Ok(page_with_nav("Access links", &links_nav(ctx), &body))
}

fn create_request(ctx: &OrgCtx, form: &Fields) -> Result<CreateLink, app::Error> {
    let delivery = Delivery::parse(field(form, "delivery")).ok_or_else(|| {
        lintel_domain::ValidationError::new(
            "delivery",
            "invalid_value",
            "delivery must be email, sms or manual",
        )
    })?;
    Ok(CreateLink {
        group_id: field(form, "group_id").parse().unwrap_or_default(),
        recipient_name: field(form, "recipient_name").to_owned(),
        delivery,
        address: optional(form, "address").filter(|_| delivery != Delivery::Manual),
        valid_from: local_time(ctx, form, "valid_from")?,
        valid_until: local_time(ctx, form, "valid_until")?,
    })
}

/// The dialog shown once: the manual link's URL, or where the link went.
fn sent_box(created: &app::links::CreatedLink) -> String {
    match &created.url {
        Some(url) => format!(
            "<section class=\"notice\" role=\"status\"><h2>Copy the link now</h2><p>This is the \
             only time it is shown; Lintel keeps only a hash of it. Whoever has it can open the \
             doors.</p><p><input id=\"link_url\" readonly name=\"link_url\" value=\"{}\" aria-label=\"The new \
             link\"></p></section>",
            escape(url)
        ),
        None => format!(
            "<p class=\"notice\" role=\"status\">The link is on its way to {}.</p>",
            escape(created.link.address.as_deref().unwrap_or_default())
        ),
    }
}

/// Sends a link and shows the answer on this page: a manual link's URL exists nowhere else.
async fn send(
    state: &AppState,
    session: &Session,
    slug: &str,
    form: &Fields,
    page: Page,
) -> Response {
    show_once(state, session, slug, form, page, |ctx| async move {
        let req = create_request(&ctx, form)?;
        Ok(sent_box(&app::links::create(state, &ctx, req).await?))
    })
    .await
}

/// The dashboard's list, filtered and sorted as the form above it asks.
pub async fn links(
    State(state): State<AppState>,
    session: Session,
    Path(slug): Path<String>,
    Query(params): Query<Fields>,
) -> Response {
    let ctx = match enter_org(&state, session.actor.clone(), &slug).await {
        Ok(ctx) => ctx,
        Err(err) => return error_page(err),
    };
    let query = LinkQuery {
        group: None,
        state: optional(&params, "state"),
        sort: optional(&params, "sort"),
    };
    match listed_links_html(&state, &ctx, &session, &query, "").await {
        Ok(html) => Html(html).into_response(),
        Err(err) => error_page(err),
    }
}

pub async fn create_link(
    State(state): State<AppState>,
    _: SameOrigin,
    session: Session,
    Path(slug): Path<String>,
    Form(form): Form<Fields>,
) -> Response {
    send(&state, &session, &slug, &form, Page::Links).await
}

/// Revokes a link and goes back to `page`.
async fn revoke(
    state: &AppState,
    session: &Session,
    slug: &str,
    id: Uuid,
    form: &Fields,
    page: Page,
) -> Response {
    act(state, session, slug, form, page, |ctx| async move {
        app::links::revoke(state, &ctx, LinkId(id))
            .await
            .map(|_| ())
    })
    .await
}

pub async fn revoke_link(
    State(state): State<AppState>,
    _: SameOrigin,
    session: Session,
    Path((slug, id)): Path<(String, Uuid)>,
    Form(form): Form<Fields>,
) -> Response {
    revoke(&state, &session, &slug, id, &form, Page::Links).await
}

pub(super) async fn guests_html(
    state: &AppState,
    ctx: &OrgCtx,
    session: &Session,
    top: &str,
) -> Result<String, app::Error> {
    let action = format!("/guests/{}", ctx.org.slug.as_str());
    let body = links_body(state, ctx, session, &action, &LinkQuery::default(), top).await?;
    Ok(page(&format!("My guests at {}", ctx.org.name), &body))
}

pub async fn guests(
    State(state): State<AppState>,
    session: Session,
    Path(slug): Path<String>,
) -> Response {
    show(&state, &session, &slug, Page::Guests, StatusCode::OK, "").await
}

pub async fn create_guest_link(
    State(state): State<AppState>,
    _: SameOrigin,
    session: Session,
    Path(slug): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    send(&state, &session, &slug, &form, Page::Guests).await
}

pub async fn revoke_guest_link(
    State(state): State<AppState>,
    _: SameOrigin,
    session: Session,
    Path((slug, id)): Path<(String, Uuid)>,
    Form(form): Form<Fields>,
) -> Response {
    revoke(&state, &session, &slug, id, &form, Page::Guests).await
}
