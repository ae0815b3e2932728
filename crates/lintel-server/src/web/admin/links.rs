//! Access links in the dashboard (a tab of Credentials): send, list, revoke, and the
//! copy-once dialog. The member app's My guests shows the same list (`web/links.rs`).

use axum::Form;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use lintel_domain::{Delivery, LinkId, LinkState};
use uuid::Uuid;

use super::kit::{
    Fields, Screen, act, credential_tabs, field, list_page, listing, local_time, max_page,
    more_link, nav, optional, screen, show_once,
};
use crate::app::links::{CreateLink, LinkQuery, LinkView};
use crate::app::{self, AppState, OrgCtx};
use crate::web::html::{confirm_form, copy_button, escape, hidden, input, page_with_nav};
use crate::web::{SameOrigin, Session};

screen!(Links at "links" by links_html);

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/{slug}/links", get(links).post(create_link))
        .route("/admin/{slug}/links/{id}/revoke", post(revoke_link))
}

/// The send form and the list, for the dashboard (every link) and for My guests (one's own).
pub(crate) async fn links_body(
    state: &AppState,
    ctx: &OrgCtx,
    session: &Session,
    action: &str,
    asked: &Fields,
    top: &str,
) -> Result<String, app::Error> {
    let query = LinkQuery {
        group: None,
        state: optional(asked, "state"),
        sort: optional(asked, "sort"),
    };
    let links = app::links::list(state, ctx, &query, &list_page(asked, "after")).await?;
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
            confirm_form(
                &format!("{action}/{}/revoke", link.id),
                &session.csrf,
                "Revoke",
                "The link stops opening doors at once. This cannot be undone.",
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
        "<form class=\"filters\" method=\"get\" action=\"{action}\"><div><label for=\"state\">\
         Show</label><select id=\"state\" name=\"state\">{states}</select></div><div><label \
         for=\"sort\">Sorted by</label><select id=\"sort\" name=\"sort\">{sorts}</select></div>\
         <button class=\"secondary\">Show</button></form>"
    );
    Ok(format!(
        "{top}<section>{filters}<div class=\"scroll\" tabindex=\"0\"><table><thead><tr><th>Recipient</th><th>Group</th><th>Sent</th>\
         <th>State</th><th>Until</th><th>Last used</th><th></th></tr></thead><tbody>{rows}\
         </tbody></table></div>{}{}</section>\
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
        more_link(action, asked, "after", links.next_cursor.as_deref()),
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
pub(crate) async fn links_html(
    state: &AppState,
    ctx: &OrgCtx,
    session: &Session,
    top: &str,
) -> Result<String, app::Error> {
    listed_links_html(state, ctx, session, &Fields::new(), top).await
}

/// The dashboard's Access links page, its list as the page's query (`asked`) says.
async fn listed_links_html(
    state: &AppState,
    ctx: &OrgCtx,
    session: &Session,
    asked: &Fields,
    top: &str,
) -> Result<String, app::Error> {
    let action = format!("/admin/{}/links", ctx.org.slug.as_str());
    let body = links_body(state, ctx, session, &action, asked, top).await?;
    Ok(page_with_nav(
        "Access links",
        &nav(ctx, "credentials"),
        &format!("{}{body}", credential_tabs(ctx, "links")),
    ))
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
             link\"> {}</p></section>",
            escape(url),
            copy_button("link_url")
        ),
        None => format!(
            "<p class=\"notice\" role=\"status\">The link is on its way to {}.</p>",
            escape(created.link.address.as_deref().unwrap_or_default())
        ),
    }
}

/// Sends a link and shows the answer on this page: a manual link's URL exists nowhere else.
pub(crate) async fn send<S: Screen>(
    state: &AppState,
    session: &Session,
    slug: &str,
    form: &Fields,
    page: S,
) -> Response {
    // The form posts to the page's own address.
    let action = page.path(slug);
    show_once(
        state,
        session,
        slug,
        (form, &action),
        page,
        |ctx| async move {
            let req = create_request(&ctx, form)?;
            Ok(sent_box(&app::links::create(state, &ctx, req).await?))
        },
    )
    .await
}

// The dashboard's list, filtered and sorted as the form above it asks.
listing!(links by listed_links_html);

pub async fn create_link(
    State(state): State<AppState>,
    _: SameOrigin,
    session: Session,
    Path(slug): Path<String>,
    Form(form): Form<Fields>,
) -> Response {
    send(&state, &session, &slug, &form, Links).await
}

/// Revokes a link and goes back to `page`.
pub(crate) async fn revoke<S: Screen>(
    state: &AppState,
    session: &Session,
    slug: &str,
    id: Uuid,
    form: &Fields,
    page: S,
) -> Response {
    act(
        state,
        session,
        slug,
        (form, "/revoke"),
        page,
        |ctx| async move {
            app::links::revoke(state, &ctx, LinkId(id))
                .await
                .map(|_| ())
        },
    )
    .await
}

pub async fn revoke_link(
    State(state): State<AppState>,
    _: SameOrigin,
    session: Session,
    Path((slug, id)): Path<(String, Uuid)>,
    Form(form): Form<Fields>,
) -> Response {
    revoke(&state, &session, &slug, id, &form, Links).await
}
