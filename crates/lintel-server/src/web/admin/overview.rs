//! The organization switcher, and an organization's overview and settings.

use axum::Router;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use lintel_domain::Area;
use uuid::Uuid;

use super::kit::{Posted, Screen, areas_text, error_page, field, get_page, nav};
use crate::app::accesses::AccessQuery;
use crate::app::members::MemberQuery;
use crate::app::orgs::{UpdateOrganization, UpdateSettings};
use crate::app::{self, AppState, ListRequest, OrgCtx};
use crate::web::Session;
use crate::web::html::{Lang, Tab, app_page, escape, hidden, input, page_with_nav};
use lintel_store::DoorFilter;

/// The organization's first page: the viewer's areas, and its settings for owners.
pub(crate) struct Overview;

impl Screen for Overview {
    fn at(_: Option<Uuid>) -> Option<Self> {
        Some(Overview)
    }

    fn path(&self, slug: &str) -> String {
        format!("/admin/{slug}")
    }

    async fn render(
        &self,
        state: &AppState,
        ctx: &OrgCtx,
        session: &Session,
        top: &str,
    ) -> Result<String, app::Error> {
        overview_html(state, ctx, session, top).await
    }
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(switcher))
        .route("/admin/{slug}", get(get_page::<Overview>).post(update_org))
        .route("/admin/{slug}/live", get(super::activity::live))
}

pub async fn switcher(State(state): State<AppState>, session: Session) -> Response {
    let mine = match app::members::mine(&state, &session.actor).await {
        Ok(mine) => mine,
        Err(err) => return error_page(err),
    };
    let mut list = String::new();
    for m in &mine {
        list.push_str(&format!(
            "<li><a href=\"/admin/{}\">{}</a> <span class=\"hint\">{} · areas: {}</span></li>",
            escape(&m.org_slug),
            escape(&m.org_name),
            m.status.as_str(),
            areas_text(&m.areas)
        ));
    }
    let body = if list.is_empty() {
        "<section><p>You are not a member of any organization yet. An administrator can \
         invite you; the invitation attaches itself when you sign in with the address it \
         was sent to.</p></section>"
            .to_owned()
    } else {
        format!("<section><ul class=\"rows\">{list}</ul></section>")
    };
    Html(app_page(
        Lang::En,
        "Your organizations",
        Tab::Dashboard,
        &body,
    ))
    .into_response()
}

async fn overview_html(
    state: &AppState,
    ctx: &OrgCtx,
    session: &Session,
    top: &str,
) -> Result<String, app::Error> {
    let org = &ctx.org;
    let mut body = top.to_owned();
    if ctx.require(Area::Owner).is_ok() {
        body.push_str(&checklist(state, ctx).await?);
    }
    if ctx.require_admin().is_ok() {
        body.push_str(&super::activity::live_html(state, ctx).await?);
    }
    body.push_str(&format!(
        "<section><p>Your admin areas here: <strong>{}</strong>.</p>",
        areas_text(&ctx.areas)
    ));
    if ctx.areas.is_empty() {
        body.push_str(
            "<p>You hold no admin area. Ask one of the organization's administrators \
             (see your profile) if you need one.</p>",
        );
    }
    body.push_str("</section>");
    if ctx.require(Area::Owner).is_ok() {
        let s = &org.settings;
        let tick = |on: bool| if on { " checked" } else { "" };
        body.push_str(&format!(
            "<form class=\"card\" method=\"post\" action=\"/admin/{}\"><h2>Settings</h2>{}{}{}{}\
             <label class=\"check\"><input type=\"checkbox\" name=\"show_admin_email\"{}> Show \
             admins' emails to members who need access</label>\
             <label class=\"check\"><input type=\"checkbox\" name=\"show_admin_phone\"{}> Show \
             admins' phones to them</label>\
             <label class=\"check\"><input type=\"checkbox\" name=\"guest_links_by_members\"{}> \
             Members may send access links to their guests</label>\
             <label class=\"check\"><input type=\"checkbox\" \
             name=\"provider_sign_in_without_code\"{}> Signing in with Google, Apple or \
             another provider needs no text-message code (only for people whose every \
             organization allows it)</label>\
             <button>Save settings</button></form>",
            org.slug,
            hidden("csrf", &session.csrf),
            input("name", "Name", "text", &org.name, "required"),
            input(
                "time_zone",
                "Time zone",
                "text",
                org.time_zone.name(),
                "required"
            ),
            input(
                "app_pin_max_age_hours",
                "Ask for the app PIN again after (hours)",
                "number",
                &s.app_pin_max_age_hours.to_string(),
                "min=\"1\" max=\"8760\" required"
            ),
            tick(s.show_admin_email),
            tick(s.show_admin_phone),
            tick(s.guest_links_by_members),
            tick(s.provider_sign_in_without_code),
        ));
    }
    if ctx.require_admin().is_ok() {
        body.push_str(&format!(
            "<script>{}</script>",
            super::activity::LIVE_SCRIPT
        ));
    }
    Ok(page_with_nav(&org.name, &nav(ctx, ""), &body))
}

/// The first steps of a new organization, until they are all taken (owners only: they can
/// take every one).
async fn checklist(state: &AppState, ctx: &OrgCtx) -> Result<String, app::Error> {
    let one = ListRequest {
        limit: Some(2),
        cursor: None,
    };
    let slug = ctx.org.slug.as_str();
    let sites = !app::sites::list(state, ctx, &one).await?.items.is_empty();
    let doors = !app::doors::list(state, ctx, DoorFilter::default(), &one)
        .await?
        .items
        .is_empty();
    let controllers = !app::controllers::list(state, ctx, None, &one)
        .await?
        .items
        .is_empty();
    let people = app::members::list(state, ctx, &MemberQuery::default(), &one)
        .await?
        .items
        .len()
        > 1;
    let accesses = !app::accesses::list(state, ctx, &AccessQuery::default(), &one)
        .await?
        .items
        .is_empty();
    let steps = [
        (sites, "Add a site", "places"),
        (doors, "Add a door to it", "places"),
        (controllers, "Connect a door controller", "controllers"),
        (people, "Invite someone", "members"),
        (accesses, "Give an access to a door", "accesses"),
    ];
    if steps.iter().all(|(done, _, _)| *done) {
        return Ok(String::new());
    }
    let items: String = steps
        .iter()
        .map(|(done, what, path)| {
            if *done {
                format!("<li class=\"done\"><span aria-hidden=\"true\">✓</span> {what} <span class=\"hint\">(done)</span></li>")
            } else {
                format!("<li><span aria-hidden=\"true\">○</span> <a href=\"/admin/{slug}/{path}\">{what}</a></li>")
            }
        })
        .collect();
    let left = steps.iter().filter(|(done, _, _)| !done).count();
    Ok(format!(
        "<section><h2>Getting started</h2><p>{left} of {} steps left before people open doors \
         here.</p><ol class=\"steps\">{items}</ol></section>",
        steps.len()
    ))
}

pub async fn update_org(post: Posted) -> Response {
    let (state, form) = (&post.state, &post.form);
    post.act(Overview, |ctx| async move {
        let hours = field(form, "app_pin_max_age_hours")
            .trim()
            .parse()
            .map_err(|_| {
                lintel_domain::ValidationError::new(
                    "app_pin_max_age_hours",
                    "not_a_number",
                    "the PIN age is a whole number of hours",
                )
            })?;
        let change = UpdateOrganization {
            name: Some(field(form, "name").to_owned()),
            time_zone: Some(field(form, "time_zone").trim().to_owned()),
            settings: Some(UpdateSettings {
                guest_links_by_members: Some(form.contains_key("guest_links_by_members")),
                app_pin_max_age_hours: Some(hours),
                show_admin_email: Some(form.contains_key("show_admin_email")),
                show_admin_phone: Some(form.contains_key("show_admin_phone")),
                provider_sign_in_without_code: Some(
                    form.contains_key("provider_sign_in_without_code"),
                ),
            }),
        };
        app::orgs::update(state, &ctx, change).await.map(|_| ())
    })
    .await
}
