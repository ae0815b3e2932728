//! The admin dashboard: an organization's places, groups, members, API keys and event log,
//! for the admin areas the viewer holds. Sections and forms the viewer's areas do not allow
//! are not shown; the use cases refuse them anyway.
//!
//! Every form posts to its own route and, on success, redirects back to its page (so reloading
//! does not repeat it); on failure the page is shown again with the error.

use std::collections::HashMap;

use axum::Form;
use axum::Router;
use axum::extract::{MatchedPath, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use lintel_domain::{
    ApiKeyId, Area, Areas, DoorId, GroupId, MembershipId, MembershipStatus, SiteId,
};
use uuid::Uuid;

use super::html::{error_box, escape, hidden, input, page_with_nav, save_button};
use super::{SameOrigin, Session, explain, forbidden};
use crate::app::api_keys::CreateApiKey;
use crate::app::doors::CreateDoor;
use crate::app::events::EventQuery;
use crate::app::groups::CreateGroup;
use crate::app::members::{Invite, MemberQuery, UpdateMember};
use crate::app::orgs::{UpdateOrganization, UpdateSettings};
use crate::app::sites::CreateSite;
use crate::app::{self, AppState, ListRequest, OrgCtx, enter_org};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(switcher))
        .route("/admin/{slug}", get(page).post(update_org))
        .route("/admin/{slug}/places", get(page))
        .route("/admin/{slug}/sites", post(create_site))
        .route("/admin/{slug}/sites/{id}", get(page).post(update_site))
        .route("/admin/{slug}/doors/{id}", get(page).post(update_door))
        .route("/admin/{slug}/groups/{id}", get(page).post(update_group))
        .route("/admin/{slug}/sites/{id}/delete", post(delete_site))
        .route("/admin/{slug}/doors", post(create_door))
        .route("/admin/{slug}/doors/{id}/delete", post(delete_door))
        .route(
            "/admin/{slug}/doors/{id}/remote-unlock",
            post(remote_unlock),
        )
        .route("/admin/{slug}/groups", get(page).post(create_group))
        .route("/admin/{slug}/groups/{id}/delete", post(delete_group))
        .route("/admin/{slug}/members", get(members))
        .route("/admin/{slug}/invitations", post(invite))
        .route("/admin/{slug}/members/{id}", get(page).post(update_member))
        .route("/admin/{slug}/members/{id}/status", post(member_status))
        .route("/admin/{slug}/members/{id}/remove", post(remove_member))
        .route("/admin/{slug}/invitations/{id}/resend", post(resend))
        .route("/admin/{slug}/api-keys", get(page).post(create_key))
        .route("/admin/{slug}/api-keys/{id}/revoke", post(revoke_key))
        .route("/admin/{slug}/events", get(events))
        .route(
            "/admin/{slug}/schedules",
            get(page).post(super::rules::create_schedule),
        )
        .route(
            "/admin/{slug}/schedules/{id}",
            get(page).post(super::rules::update_schedule),
        )
        .route(
            "/admin/{slug}/schedules/{id}/delete",
            post(super::rules::delete_schedule),
        )
        .route(
            "/admin/{slug}/accesses",
            get(page).post(super::rules::create_access),
        )
        .route(
            "/admin/{slug}/accesses/{id}",
            get(page).post(super::rules::update_access),
        )
        .route(
            "/admin/{slug}/accesses/{id}/delete",
            post(super::rules::delete_access),
        )
        .route("/admin/{slug}/credentials", get(page))
        .route(
            "/admin/{slug}/links",
            get(super::links::links).post(super::links::create_link),
        )
        .route(
            "/admin/{slug}/links/{id}/revoke",
            post(super::links::revoke_link),
        )
        .route("/admin/{slug}/cards", post(super::credentials::create_card))
        .route(
            "/admin/{slug}/cards/{id}/revoke",
            post(super::credentials::revoke_card),
        )
        .route("/admin/{slug}/pins", post(super::credentials::create_pin))
        .route(
            "/admin/{slug}/pins/{id}/revoke",
            post(super::credentials::revoke_pin),
        )
        .route("/admin/{slug}/events.csv", get(events_csv))
}

/// A submitted form: fields by name. Checkboxes are named `area_<name>` and `group_<id>`.
pub(super) type Fields = HashMap<String, String>;

pub(super) fn field<'a>(form: &'a Fields, name: &str) -> &'a str {
    form.get(name).map_or("", String::as_str)
}

pub(super) fn optional(form: &Fields, name: &str) -> Option<String> {
    Some(field(form, name).trim())
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

fn checked_areas(form: &Fields) -> Vec<String> {
    Area::ALL
        .iter()
        .filter(|a| form.contains_key(&format!("area_{a}")))
        .map(|a| a.as_str().to_owned())
        .collect()
}

fn checked_groups(form: &Fields) -> Vec<Uuid> {
    form.keys()
        .filter_map(|k| k.strip_prefix("group_"))
        .filter_map(|id| id.parse().ok())
        .collect()
}

/// The sections of the dashboard, each shown to the areas that may read it.
const SECTIONS: [(&str, &str); 8] = [
    ("places", "Sites & doors"),
    ("groups", "Groups"),
    ("schedules", "Schedules"),
    ("accesses", "Accesses"),
    ("credentials", "Credentials"),
    ("members", "Members"),
    ("api-keys", "API keys"),
    ("events", "Events"),
];

fn may_see(ctx: &OrgCtx, section: &str) -> bool {
    match section {
        "places" | "groups" | "schedules" | "accesses" => ctx.require_admin().is_ok(),
        "members" => ctx.require_any(&[Area::Members, Area::Delegation]).is_ok(),
        "api-keys" => ctx.require(Area::Api).is_ok(),
        "credentials" => ctx.require(Area::Delegation).is_ok(),
        "events" => ctx.require(Area::Audit).is_ok(),
        _ => false,
    }
}

/// The tabs of the Credentials section: cards and PIN codes, and access links.
pub(super) fn credential_tabs(ctx: &OrgCtx, current: &str) -> String {
    let slug = ctx.org.slug.as_str();
    let tab = |path: &str, label: &str| {
        let here = if path == current {
            " aria-current=\"page\""
        } else {
            ""
        };
        format!("<a href=\"/admin/{slug}/{path}\"{here}>{label}</a>")
    };
    format!(
        "<nav class=\"tabs\">{} · {}</nav>",
        tab("credentials", "Cards &amp; PINs"),
        tab("links", "Access links")
    )
}

pub(super) fn nav(ctx: &OrgCtx, current: &str) -> String {
    let slug = ctx.org.slug.as_str();
    let mut out = format!(
        "<nav><a href=\"/admin\">Organizations</a> › <a href=\"/admin/{slug}\"{}>{}</a>",
        if current.is_empty() {
            " aria-current=\"page\""
        } else {
            ""
        },
        escape(&ctx.org.name)
    );
    for (section, label) in SECTIONS {
        if may_see(ctx, section) {
            let here = if section == current {
                " aria-current=\"page\""
            } else {
                ""
            };
            out.push_str(&format!(
                " · <a href=\"/admin/{slug}/{section}\"{here}>{label}</a>"
            ));
        }
    }
    out.push_str(" · <a href=\"/me\">My profile</a></nav>");
    out
}

fn areas_text(areas: &Areas) -> String {
    let names: Vec<_> = areas.iter().map(Area::as_str).collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

/// Checkboxes for the areas the viewer may grant, with `held` ticked.
fn area_boxes(ctx: &OrgCtx, held: &Areas) -> String {
    let mut out = String::from("<fieldset><legend>Admin areas</legend>");
    for area in Area::ALL {
        if ctx.areas.allows(area) {
            let on = if held.iter().any(|a| a == area) {
                " checked"
            } else {
                ""
            };
            out.push_str(&format!(
                "<label class=\"check\"><input type=\"checkbox\" name=\"area_{area}\"{on}> \
                 {area}</label>"
            ));
        }
    }
    out.push_str("</fieldset>");
    out
}

async fn group_boxes(state: &AppState, ctx: &OrgCtx, held: &[Uuid]) -> Result<String, app::Error> {
    let all = app::groups::list(state, ctx, &max_page()).await?;
    if all.items.is_empty() {
        return Ok(String::new());
    }
    let mut out = String::from("<fieldset><legend>Groups</legend>");
    for g in &all.items {
        let on = if held.contains(&g.id.0) {
            " checked"
        } else {
            ""
        };
        out.push_str(&format!(
            "<label class=\"check\"><input type=\"checkbox\" name=\"group_{}\"{on}> {}</label>",
            g.id,
            escape(&g.name)
        ));
    }
    out.push_str("</fieldset>");
    Ok(out)
}

pub(super) fn max_page() -> ListRequest {
    ListRequest {
        limit: Some(ListRequest::MAX_LIMIT),
        cursor: None,
    }
}

/// A small form of one button, with the session's token.
pub(super) fn button_form(action: &str, csrf: &str, label: &str, class: &str) -> String {
    format!(
        "<form class=\"inline\" method=\"post\" action=\"{action}\">{}\
         <button class=\"{class}\">{label}</button></form>",
        hidden("csrf", csrf)
    )
}

pub(super) fn error_page(err: app::Error) -> Response {
    let (status, message) = explain(err);
    (
        status,
        Html(page_with_nav(
            "Something went wrong",
            "",
            &error_box(Some(&message)),
        )),
    )
        .into_response()
}

/// Which page a form returns to.
#[derive(Debug, Clone, Copy)]
pub(super) enum Page {
    Overview,
    Places,
    Groups,
    Members,
    Member(Uuid),
    Schedules,
    Schedule(Uuid),
    Accesses,
    Access(Uuid),
    Credentials,
    Links,
    /// A member's own guests' links (the member app, not the dashboard).
    Guests,
    Site(Uuid),
    Door(Uuid),
    Group(Uuid),
    ApiKeys,
}

impl Page {
    fn path(self, slug: &str) -> String {
        match self {
            Page::Overview => format!("/admin/{slug}"),
            Page::Places => format!("/admin/{slug}/places"),
            Page::Groups => format!("/admin/{slug}/groups"),
            Page::Members => format!("/admin/{slug}/members"),
            Page::Member(id) => format!("/admin/{slug}/members/{id}"),
            Page::Schedules => format!("/admin/{slug}/schedules"),
            Page::Schedule(id) => format!("/admin/{slug}/schedules/{id}"),
            Page::Accesses => format!("/admin/{slug}/accesses"),
            Page::Access(id) => format!("/admin/{slug}/accesses/{id}"),
            Page::Credentials => format!("/admin/{slug}/credentials"),
            Page::Links => format!("/admin/{slug}/links"),
            Page::Guests => format!("/guests/{slug}"),
            Page::Site(id) => format!("/admin/{slug}/sites/{id}"),
            Page::Door(id) => format!("/admin/{slug}/doors/{id}"),
            Page::Group(id) => format!("/admin/{slug}/groups/{id}"),
            Page::ApiKeys => format!("/admin/{slug}/api-keys"),
        }
    }

    async fn render(
        self,
        state: &AppState,
        ctx: &OrgCtx,
        session: &Session,
        top: &str,
    ) -> Result<String, app::Error> {
        match self {
            Page::Overview => overview_html(ctx, session, top),
            Page::Places => places_html(state, ctx, session, top).await,
            Page::Groups => groups_html(state, ctx, session, top).await,
            Page::Members => members_html(state, ctx, session, &MemberQuery::default(), top).await,
            Page::Member(id) => member_html(state, ctx, session, id, top).await,
            Page::Schedules => super::rules::schedules_html(state, ctx, session, top).await,
            Page::Schedule(id) => super::rules::schedule_html(state, ctx, session, id, top).await,
            Page::Accesses => super::rules::accesses_html(state, ctx, session, top).await,
            Page::Access(id) => super::rules::access_html(state, ctx, session, id, top).await,
            Page::Credentials => {
                super::credentials::credentials_html(state, ctx, session, top).await
            }
            Page::Links => super::links::links_html(state, ctx, session, top).await,
            Page::Guests => super::links::guests_html(state, ctx, session, top).await,
            Page::Site(id) => site_html(state, ctx, session, id, top).await,
            Page::Door(id) => door_html(state, ctx, session, id, top).await,
            Page::Group(id) => group_html(state, ctx, session, id, top).await,
            Page::ApiKeys => keys_html(state, ctx, session, top).await,
        }
    }
}

impl Page {
    /// The page a dashboard route shows, by the route it matched and its `id`.
    fn of_route(route: &str, id: Option<Uuid>) -> Option<Page> {
        let section = route.strip_prefix("/admin/{slug}").unwrap_or(route);
        Some(match (section, id) {
            ("", _) => Page::Overview,
            ("/places", _) => Page::Places,
            ("/groups", _) => Page::Groups,
            ("/api-keys", _) => Page::ApiKeys,
            ("/schedules", _) => Page::Schedules,
            ("/schedules/{id}", Some(id)) => Page::Schedule(id),
            ("/accesses", _) => Page::Accesses,
            ("/accesses/{id}", Some(id)) => Page::Access(id),
            ("/credentials", _) => Page::Credentials,
            ("/sites/{id}", Some(id)) => Page::Site(id),
            ("/doors/{id}", Some(id)) => Page::Door(id),
            ("/groups/{id}", Some(id)) => Page::Group(id),
            ("/members/{id}", Some(id)) => Page::Member(id),
            _ => return None,
        })
    }
}

/// The GET of a dashboard page without a query: which one, the route says.
pub async fn page(
    State(state): State<AppState>,
    session: Session,
    route: MatchedPath,
    Path(params): Path<HashMap<String, String>>,
) -> Response {
    let slug = params.get("slug").map_or("", String::as_str);
    let id = params.get("id").and_then(|id| id.parse().ok());
    match Page::of_route(route.as_str(), id) {
        Some(page) => show(&state, &session, slug, page, StatusCode::OK, "").await,
        None => error_page(app::Error::NotFound { what: "page" }),
    }
}

/// Shows a page, or the error that kept it from showing.
pub(super) async fn show(
    state: &AppState,
    session: &Session,
    slug: &str,
    page: Page,
    status: StatusCode,
    top: &str,
) -> Response {
    let ctx = match enter_org(state, session.actor.clone(), slug).await {
        Ok(ctx) => ctx,
        Err(err) => return error_page(err),
    };
    match page.render(state, &ctx, session, top).await {
        Ok(html) => (status, Html(html)).into_response(),
        Err(err) => error_page(err),
    }
}

/// Runs a form's action in the organization and answers: back to `page` when it worked, the
/// page again with the error when it did not.
pub(super) async fn act<F, Fut>(
    state: &AppState,
    session: &Session,
    slug: &str,
    form: &Fields,
    page: Page,
    action: F,
) -> Response
where
    F: FnOnce(OrgCtx) -> Fut,
    Fut: Future<Output = Result<(), app::Error>>,
{
    if !session.sent(field(form, "csrf")) {
        return forbidden();
    }
    let ctx = match enter_org(state, session.actor.clone(), slug).await {
        Ok(ctx) => ctx,
        Err(err) => return error_page(err),
    };
    match action(ctx).await {
        Ok(()) => Redirect::to(&page.path(slug)).into_response(),
        Err(err) => {
            let (status, message) = explain(err);
            show(
                state,
                session,
                slug,
                page,
                status,
                &error_box(Some(&message)),
            )
            .await
        }
    }
}

/// Runs a form's action that makes a secret and answers with the page itself, `top` being
/// the action's notice (the secret, shown this once) or the error: never a redirect, and
/// never cached, so the secret lingers nowhere.
pub(super) async fn show_once<F, Fut>(
    state: &AppState,
    session: &Session,
    slug: &str,
    form: &Fields,
    page: Page,
    action: F,
) -> Response
where
    F: FnOnce(OrgCtx) -> Fut,
    Fut: Future<Output = Result<String, app::Error>>,
{
    if !session.sent(field(form, "csrf")) {
        return forbidden();
    }
    let ctx = match enter_org(state, session.actor.clone(), slug).await {
        Ok(ctx) => ctx,
        Err(err) => return error_page(err),
    };
    let (status, top) = match action(ctx).await {
        Ok(notice) => (StatusCode::CREATED, notice),
        Err(err) => {
            let (status, message) = explain(err);
            (status, error_box(Some(&message)))
        }
    };
    let mut response = show(state, session, slug, page, status, &top).await;
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}

// The organization switcher and overview

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
    Html(page_with_nav(
        "Your organizations",
        "<nav><a href=\"/me\">My profile</a></nav>",
        &body,
    ))
    .into_response()
}

fn overview_html(ctx: &OrgCtx, session: &Session, top: &str) -> Result<String, app::Error> {
    let org = &ctx.org;
    let mut body = format!(
        "{top}<section><p>Your admin areas here: <strong>{}</strong>.</p>",
        areas_text(&ctx.areas)
    );
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
        ));
    }
    Ok(page_with_nav(&org.name, &nav(ctx, ""), &body))
}

pub async fn update_org(
    State(state): State<AppState>,
    _: SameOrigin,
    session: Session,
    Path(slug): Path<String>,
    Form(form): Form<Fields>,
) -> Response {
    let (state, form) = (&state, &form);
    act(
        state,
        &session,
        &slug,
        form,
        Page::Overview,
        |ctx| async move {
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
                }),
            };
            app::orgs::update(state, &ctx, change).await.map(|_| ())
        },
    )
    .await
}

// Sites and doors

async fn places_html(
    state: &AppState,
    ctx: &OrgCtx,
    session: &Session,
    top: &str,
) -> Result<String, app::Error> {
    let slug = ctx.org.slug.as_str();
    let csrf = &session.csrf;
    let editable = ctx.require(Area::Doors).is_ok();
    let sites = app::sites::list(state, ctx, &max_page()).await?;
    let doors = app::doors::list(state, ctx, None, &max_page()).await?;
    let mut body = String::from(top);
    for site in &sites.items {
        body.push_str(&format!(
            "<section><h2><a href=\"/admin/{slug}/sites/{}\">{}</a></h2><p class=\"hint\">{} · {}\
             </p><table><thead><tr><th>Door</th><th>Kind</th><th>Restrictions</th><th></th></tr>\
             </thead><tbody>",
            site.id,
            escape(&site.name),
            escape(&site.address),
            site.time_zone.name()
        ));
        for door in doors.items.iter().filter(|d| d.site_id == site.id) {
            let mut rules = Vec::new();
            if door.geofence_required {
                rules.push("geofence");
            }
            if door.reader_required {
                rules.push("reader");
            }
            body.push_str(&format!(
                "<tr><td><a href=\"/admin/{slug}/doors/{}\">{}</a></td><td>{}</td><td>{}</td>\
                 <td>{}</td></tr>",
                door.id,
                escape(&door.name),
                door.kind.as_str(),
                if rules.is_empty() {
                    "none".into()
                } else {
                    rules.join(", ")
                },
                if editable {
                    button_form(
                        &format!("/admin/{slug}/doors/{}/delete", door.id),
                        csrf,
                        "Delete",
                        "danger small",
                    )
                } else {
                    String::new()
                }
            ));
        }
        body.push_str("</tbody></table>");
        if editable {
            body.push_str(&button_form(
                &format!("/admin/{slug}/sites/{}/delete", site.id),
                csrf,
                "Delete site",
                "danger small",
            ));
        }
        body.push_str("</section>");
    }
    if sites.items.is_empty() {
        body.push_str("<section><p>No sites yet.</p></section>");
    }
    if editable {
        body.push_str(&format!(
            "<form class=\"card\" method=\"post\" action=\"/admin/{slug}/sites\"><h2>Add a site\
             </h2>{}{}{}{}<button>Add site</button></form>",
            hidden("csrf", csrf),
            input("name", "Name", "text", "", "required"),
            input("address", "Address", "text", "", ""),
            input(
                "time_zone",
                "Time zone (IANA, e.g. Europe/Stockholm)",
                "text",
                ctx.org.time_zone.name(),
                ""
            ),
        ));
        if !sites.items.is_empty() {
            let options: String = sites
                .items
                .iter()
                .map(|s| format!("<option value=\"{}\">{}</option>", s.id, escape(&s.name)))
                .collect();
            body.push_str(&format!(
                "<form class=\"card\" method=\"post\" action=\"/admin/{slug}/doors\"><h2>Add a \
                 door</h2>{}<label for=\"site_id\">Site</label><select id=\"site_id\" \
                 name=\"site_id\">{options}</select>{}<label for=\"kind\">Kind</label>\
                 <select id=\"kind\" name=\"kind\"><option>door</option><option>gate</option>\
                 <option>locker</option><option value=\"storage_unit\">storage unit</option>\
                 <option>relay</option></select>\
                 <label class=\"check\"><input type=\"checkbox\" name=\"geofence_required\"> \
                 Phones must be inside the site's geofence</label>\
                 <label class=\"check\"><input type=\"checkbox\" name=\"reader_required\"> \
                 Phones must be at the door's reader</label><button>Add door</button></form>",
                hidden("csrf", csrf),
                input("name", "Name", "text", "", "required"),
            ));
        }
    }
    Ok(page_with_nav("Sites & doors", &nav(ctx, "places"), &body))
}

pub async fn create_site(
    State(state): State<AppState>,
    _: SameOrigin,
    session: Session,
    Path(slug): Path<String>,
    Form(form): Form<Fields>,
) -> Response {
    let (state, form) = (&state, &form);
    act(
        state,
        &session,
        &slug,
        form,
        Page::Places,
        |ctx| async move {
            let req = CreateSite {
                name: field(form, "name").to_owned(),
                address: field(form, "address").to_owned(),
                time_zone: optional(form, "time_zone"),
                geofence: None,
            };
            app::sites::create(state, &ctx, req).await.map(|_| ())
        },
    )
    .await
}

pub async fn delete_site(
    State(state): State<AppState>,
    _: SameOrigin,
    session: Session,
    Path((slug, id)): Path<(String, Uuid)>,
    Form(form): Form<Fields>,
) -> Response {
    let (state, form) = (&state, &form);
    act(
        state,
        &session,
        &slug,
        form,
        Page::Places,
        |ctx| async move { app::sites::delete(state, &ctx, SiteId(id)).await },
    )
    .await
}

pub async fn create_door(
    State(state): State<AppState>,
    _: SameOrigin,
    session: Session,
    Path(slug): Path<String>,
    Form(form): Form<Fields>,
) -> Response {
    let (state, form) = (&state, &form);
    act(
        state,
        &session,
        &slug,
        form,
        Page::Places,
        |ctx| async move {
            let invalid = |field: &'static str, what: &str| {
                app::Error::from(lintel_domain::ValidationError::new(
                    field,
                    "invalid",
                    format!("choose a {what}"),
                ))
            };
            let site_id = field(form, "site_id")
                .parse()
                .map_err(|_| invalid("site_id", "site"))?;
            let kind = serde_json::from_value(serde_json::json!(field(form, "kind")))
                .map_err(|_| invalid("kind", "kind of door"))?;
            let req = CreateDoor {
                site_id,
                name: field(form, "name").to_owned(),
                kind: Some(kind),
                geofence_required: form.contains_key("geofence_required"),
                reader_required: form.contains_key("reader_required"),
                unlock_duration_secs: None,
                description: String::new(),
                preferences: Default::default(),
            };
            app::doors::create(state, &ctx, req).await.map(|_| ())
        },
    )
    .await
}

pub async fn delete_door(
    State(state): State<AppState>,
    _: SameOrigin,
    session: Session,
    Path((slug, id)): Path<(String, Uuid)>,
    Form(form): Form<Fields>,
) -> Response {
    let (state, form) = (&state, &form);
    act(
        state,
        &session,
        &slug,
        form,
        Page::Places,
        |ctx| async move { app::doors::delete(state, &ctx, DoorId(id)).await },
    )
    .await
}

/// A number from a form, or a validation error naming the field.
fn number<T: std::str::FromStr>(
    form: &Fields,
    name: &'static str,
) -> Result<Option<T>, app::Error> {
    match optional(form, name) {
        None => Ok(None),
        Some(text) => text.parse().map(Some).map_err(|_| {
            app::Error::from(lintel_domain::ValidationError::new(
                name,
                "not_a_number",
                format!("{name} must be a number"),
            ))
        }),
    }
}

pub(super) fn read_only(ctx: &OrgCtx, area: Area) -> &'static str {
    if ctx.require(area).is_ok() {
        ""
    } else {
        "disabled"
    }
}

async fn site_html(
    state: &AppState,
    ctx: &OrgCtx,
    session: &Session,
    id: Uuid,
    top: &str,
) -> Result<String, app::Error> {
    let slug = ctx.org.slug.as_str();
    let site = app::sites::get(state, ctx, SiteId(id)).await?;
    let lock = read_only(ctx, Area::Doors);
    let fence = site.geofence;
    let coordinate = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    let body = format!(
        "{top}<form class=\"card\" method=\"post\" action=\"/admin/{slug}/sites/{id}\">{}{}{}{}\
         <fieldset><legend>Geofence (phones must be inside it where a door requires)</legend>{}{}{}\
         <p class=\"hint\">Leave all three blank for none.</p></fieldset>{}</form>",
        hidden("csrf", &session.csrf),
        input(
            "name",
            "Name",
            "text",
            &site.name,
            &format!("required {lock}")
        ),
        input("address", "Address", "text", &site.address, lock),
        input(
            "time_zone",
            "Time zone",
            "text",
            site.time_zone.name(),
            &format!("required {lock}")
        ),
        input(
            "latitude",
            "Latitude",
            "text",
            &coordinate(fence.map(|f| f.latitude)),
            lock
        ),
        input(
            "longitude",
            "Longitude",
            "text",
            &coordinate(fence.map(|f| f.longitude)),
            lock
        ),
        input(
            "radius_m",
            "Radius (metres)",
            "text",
            &coordinate(fence.map(|f| f.radius_m)),
            lock
        ),
        save_button(lock),
    );
    Ok(page_with_nav(&site.name, &nav(ctx, "places"), &body))
}

pub async fn update_site(
    State(state): State<AppState>,
    _: SameOrigin,
    session: Session,
    Path((slug, id)): Path<(String, Uuid)>,
    Form(form): Form<Fields>,
) -> Response {
    let (state, form) = (&state, &form);
    act(
        state,
        &session,
        &slug,
        form,
        Page::Site(id),
        |ctx| async move {
            let fence = match (
                number(form, "latitude")?,
                number(form, "longitude")?,
                number(form, "radius_m")?,
            ) {
                (None, None, None) => None,
                (Some(latitude), Some(longitude), Some(radius_m)) => {
                    Some(lintel_domain::Geofence {
                        latitude,
                        longitude,
                        radius_m,
                    })
                }
                _ => {
                    return Err(lintel_domain::ValidationError::new(
                        "geofence",
                        "incomplete_geofence",
                        "give latitude, longitude and radius together, or none of them",
                    )
                    .into());
                }
            };
            let change = crate::app::sites::UpdateSite {
                name: Some(field(form, "name").to_owned()),
                address: Some(field(form, "address").to_owned()),
                time_zone: Some(field(form, "time_zone").trim().to_owned()),
                geofence: Some(fence),
            };
            app::sites::update(state, &ctx, SiteId(id), change)
                .await
                .map(|_| ())
        },
    )
    .await
}

async fn door_html(
    state: &AppState,
    ctx: &OrgCtx,
    session: &Session,
    id: Uuid,
    top: &str,
) -> Result<String, app::Error> {
    let slug = ctx.org.slug.as_str();
    let door = app::doors::get(state, ctx, DoorId(id)).await?;
    let sites = app::sites::list(state, ctx, &max_page()).await?;
    let lock = read_only(ctx, Area::Doors);
    let options: String = sites
        .items
        .iter()
        .map(|s| {
            let on = if s.id == door.site_id {
                " selected"
            } else {
                ""
            };
            format!(
                "<option value=\"{}\"{on}>{}</option>",
                s.id,
                escape(&s.name)
            )
        })
        .collect();
    let kinds: String = ["door", "gate", "locker", "storage_unit", "relay"]
        .iter()
        .map(|k| {
            let on = if *k == door.kind.as_str() {
                " selected"
            } else {
                ""
            };
            format!("<option value=\"{k}\"{on}>{}</option>", k.replace('_', " "))
        })
        .collect();
    let tick = |on: bool| if on { " checked" } else { "" };
    let body = format!(
        "{top}<form class=\"card\" method=\"post\" action=\"/admin/{slug}/doors/{id}\">{}{}\
         <label for=\"site_id\">Site</label><select id=\"site_id\" name=\"site_id\" {lock}>\
         {options}</select><label for=\"kind\">Kind</label><select id=\"kind\" name=\"kind\" \
         {lock}>{kinds}</select>{}{}\
         <label class=\"check\"><input type=\"checkbox\" name=\"geofence_required\"{} {lock}> \
         Phones must be inside the site's geofence</label>\
         <label class=\"check\"><input type=\"checkbox\" name=\"reader_required\"{} {lock}> \
         Phones must be at the door's reader</label>{}</form>",
        hidden("csrf", &session.csrf),
        input(
            "name",
            "Name",
            "text",
            &door.name,
            &format!("required {lock}")
        ),
        input(
            "unlock_duration_secs",
            "Unlocked for (seconds)",
            "number",
            &door.unlock_duration_secs.to_string(),
            &format!("min=\"1\" max=\"600\" {lock}")
        ),
        input(
            "description",
            "Description",
            "text",
            &door.description,
            lock
        ),
        tick(door.geofence_required),
        tick(door.reader_required),
        save_button(lock),
    );
    let mut body = body;
    // Who can open it now, for those who may ask.
    if let Ok(openers) = app::decisions::who_can_open(state, ctx, DoorId(id)).await {
        let names: Vec<String> = openers.iter().map(|o| escape(&o.name)).collect();
        body.push_str(&format!(
            "<section><h2>Who can open it now</h2><p>{}</p></section>",
            if names.is_empty() {
                "Nobody.".to_owned()
            } else {
                names.join(", ")
            }
        ));
    }
    if ctx.require(Area::Doors).is_ok() {
        body.push_str(&format!(
            "<section><h2>Open it from here</h2><p class=\"hint\">Opens the door now, without \
             an access; recorded as a remote unlock by you.</p>{}</section>",
            button_form(
                &format!("/admin/{slug}/doors/{id}/remote-unlock"),
                &session.csrf,
                "Unlock now",
                "secondary",
            )
        ));
    }
    Ok(page_with_nav(&door.name, &nav(ctx, "places"), &body))
}

pub async fn remote_unlock(
    State(state): State<AppState>,
    _: SameOrigin,
    session: Session,
    Path((slug, id)): Path<(String, Uuid)>,
    Form(form): Form<Fields>,
) -> Response {
    let (state, form) = (&state, &form);
    act(
        state,
        &session,
        &slug,
        form,
        Page::Door(id),
        |ctx| async move {
            app::decisions::remote_unlock(state, &ctx, DoorId(id))
                .await
                .map(|_| ())
        },
    )
    .await
}

pub async fn update_door(
    State(state): State<AppState>,
    _: SameOrigin,
    session: Session,
    Path((slug, id)): Path<(String, Uuid)>,
    Form(form): Form<Fields>,
) -> Response {
    let (state, form) = (&state, &form);
    act(
        state,
        &session,
        &slug,
        form,
        Page::Door(id),
        |ctx| async move {
            let kind =
                serde_json::from_value(serde_json::json!(field(form, "kind"))).map_err(|_| {
                    lintel_domain::ValidationError::new("kind", "invalid", "choose a kind of door")
                })?;
            let change = crate::app::doors::UpdateDoor {
                site_id: number(form, "site_id")?,
                name: Some(field(form, "name").to_owned()),
                kind: Some(kind),
                geofence_required: Some(form.contains_key("geofence_required")),
                reader_required: Some(form.contains_key("reader_required")),
                unlock_duration_secs: number(form, "unlock_duration_secs")?,
                description: Some(field(form, "description").to_owned()),
                preferences: None,
            };
            app::doors::update(state, &ctx, DoorId(id), change)
                .await
                .map(|_| ())
        },
    )
    .await
}

async fn group_html(
    state: &AppState,
    ctx: &OrgCtx,
    session: &Session,
    id: Uuid,
    top: &str,
) -> Result<String, app::Error> {
    let slug = ctx.org.slug.as_str();
    let group = app::groups::get(state, ctx, GroupId(id)).await?;
    let lock = read_only(ctx, Area::Members);
    let members = if may_see(ctx, "members") {
        format!("<p><a href=\"/admin/{slug}/members?group={id}\">Members of this group</a></p>")
    } else {
        String::new()
    };
    let body = format!(
        "{top}<form class=\"card\" method=\"post\" action=\"/admin/{slug}/groups/{id}\">{}{}{}{}\
         </form>{members}",
        hidden("csrf", &session.csrf),
        input(
            "name",
            "Name",
            "text",
            &group.name,
            &format!("required {lock}")
        ),
        input(
            "description",
            "Description",
            "text",
            &group.description,
            lock
        ),
        save_button(lock),
    );
    Ok(page_with_nav(&group.name, &nav(ctx, "groups"), &body))
}

pub async fn update_group(
    State(state): State<AppState>,
    _: SameOrigin,
    session: Session,
    Path((slug, id)): Path<(String, Uuid)>,
    Form(form): Form<Fields>,
) -> Response {
    let (state, form) = (&state, &form);
    act(
        state,
        &session,
        &slug,
        form,
        Page::Group(id),
        |ctx| async move {
            let change = crate::app::groups::UpdateGroup {
                name: Some(field(form, "name").to_owned()),
                description: Some(field(form, "description").to_owned()),
            };
            app::groups::update(state, &ctx, GroupId(id), change)
                .await
                .map(|_| ())
        },
    )
    .await
}

// Groups

async fn groups_html(
    state: &AppState,
    ctx: &OrgCtx,
    session: &Session,
    top: &str,
) -> Result<String, app::Error> {
    let slug = ctx.org.slug.as_str();
    let editable = ctx.require(Area::Members).is_ok();
    let groups = app::groups::list(state, ctx, &max_page()).await?;
    let mut rows = String::new();
    for g in &groups.items {
        rows.push_str(&format!(
            "<tr><td><a href=\"/admin/{slug}/groups/{}\">{}</a></td><td>{}</td><td>{}</td></tr>",
            g.id,
            escape(&g.name),
            escape(&g.description),
            if editable {
                button_form(
                    &format!("/admin/{slug}/groups/{}/delete", g.id),
                    &session.csrf,
                    "Delete",
                    "danger small",
                )
            } else {
                String::new()
            }
        ));
    }
    let mut body = format!(
        "{top}<section><table><thead><tr><th>Group</th><th>Description</th><th></th></tr>\
         </thead><tbody>{rows}</tbody></table>{}</section>",
        if groups.items.is_empty() {
            "<p>No groups yet.</p>"
        } else {
            ""
        }
    );
    if editable {
        body.push_str(&format!(
            "<form class=\"card\" method=\"post\" action=\"/admin/{slug}/groups\"><h2>Add a \
             group</h2>{}{}{}<button>Add group</button></form>",
            hidden("csrf", &session.csrf),
            input("name", "Name", "text", "", "required"),
            input("description", "Description", "text", "", ""),
        ));
    }
    Ok(page_with_nav("Groups", &nav(ctx, "groups"), &body))
}

pub async fn create_group(
    State(state): State<AppState>,
    _: SameOrigin,
    session: Session,
    Path(slug): Path<String>,
    Form(form): Form<Fields>,
) -> Response {
    let (state, form) = (&state, &form);
    act(
        state,
        &session,
        &slug,
        form,
        Page::Groups,
        |ctx| async move {
            let req = CreateGroup {
                name: field(form, "name").to_owned(),
                description: field(form, "description").to_owned(),
            };
            app::groups::create(state, &ctx, req).await.map(|_| ())
        },
    )
    .await
}

pub async fn delete_group(
    State(state): State<AppState>,
    _: SameOrigin,
    session: Session,
    Path((slug, id)): Path<(String, Uuid)>,
    Form(form): Form<Fields>,
) -> Response {
    let (state, form) = (&state, &form);
    act(
        state,
        &session,
        &slug,
        form,
        Page::Groups,
        |ctx| async move { app::groups::delete(state, &ctx, GroupId(id)).await },
    )
    .await
}

// Members

async fn members_html(
    state: &AppState,
    ctx: &OrgCtx,
    session: &Session,
    query: &MemberQuery,
    top: &str,
) -> Result<String, app::Error> {
    let slug = ctx.org.slug.as_str();
    let list = app::members::list(state, ctx, query, &max_page()).await?;
    let mut rows = String::new();
    for m in &list.items {
        let contact = match (&m.person, &m.invitation) {
            (Some(p), _) => p.email.clone(),
            (None, Some(i)) => format!("invited by {}", i.channel.as_str()),
            _ => String::new(),
        };
        rows.push_str(&format!(
            "<tr><td><a href=\"/admin/{slug}/members/{}\">{}</a></td><td>{}</td><td>{}</td>\
             <td>{}</td></tr>",
            m.id,
            escape(&m.display_name()),
            escape(&contact),
            m.status.as_str(),
            areas_text(&m.areas),
        ));
    }
    let status_option = |value: &str| {
        let on = if query.status.as_deref() == Some(value) {
            " selected"
        } else {
            ""
        };
        format!(
            "<option value=\"{value}\"{on}>{}</option>",
            if value.is_empty() {
                "any status"
            } else {
                value
            }
        )
    };
    let mut body = format!(
        "{top}<form class=\"card search\" method=\"get\" action=\"/admin/{slug}/members\">\
         {}<label for=\"status\">Status</label><select id=\"status\" name=\"status\">{}{}{}{}\
         </select><button class=\"secondary\">Search</button></form>\
         <section><table><thead><tr><th>Name</th><th>Contact</th><th>Status</th>\
         <th>Admin areas</th></tr></thead><tbody>{rows}</tbody></table>{}</section>",
        input(
            "q",
            "Name, email or phone",
            "search",
            query.q.as_deref().unwrap_or(""),
            ""
        ),
        status_option(""),
        status_option("invited"),
        status_option("active"),
        status_option("suspended"),
        if list.items.is_empty() {
            "<p>Nobody matches.</p>"
        } else {
            ""
        },
    );
    if ctx.require(Area::Members).is_ok() {
        body.push_str(&format!(
            "<form class=\"card\" method=\"post\" action=\"/admin/{slug}/invitations\"><h2>Invite \
             someone</h2><p class=\"hint\">Give an email or a mobile phone. The invitation \
             works for 7 days.</p>{}{}{}{}{}<button>Send invitation</button></form>",
            hidden("csrf", &session.csrf),
            input("email", "Email", "email", "", "autocomplete=\"off\""),
            input(
                "phone",
                "or mobile phone",
                "tel",
                "",
                "autocomplete=\"off\""
            ),
            area_boxes(ctx, &Areas::default()),
            group_boxes(state, ctx, &[]).await?,
        ));
    }
    Ok(page_with_nav("Members", &nav(ctx, "members"), &body))
}

pub async fn members(
    State(state): State<AppState>,
    session: Session,
    Path(slug): Path<String>,
    Query(query): Query<Fields>,
) -> Response {
    let ctx = match enter_org(&state, session.actor.clone(), &slug).await {
        Ok(ctx) => ctx,
        Err(err) => return error_page(err),
    };
    let query = MemberQuery {
        status: optional(&query, "status"),
        q: optional(&query, "q"),
        group: optional(&query, "group").and_then(|g| g.parse().ok()),
        ..MemberQuery::default()
    };
    match members_html(&state, &ctx, &session, &query, "").await {
        Ok(html) => Html(html).into_response(),
        Err(err) => error_page(err),
    }
}

pub async fn invite(
    State(state): State<AppState>,
    _: SameOrigin,
    session: Session,
    Path(slug): Path<String>,
    Form(form): Form<Fields>,
) -> Response {
    let (state, form) = (&state, &form);
    act(
        state,
        &session,
        &slug,
        form,
        Page::Members,
        |ctx| async move {
            let req = Invite {
                email: optional(form, "email"),
                phone: optional(form, "phone"),
                areas: checked_areas(form),
                groups: checked_groups(form),
            };
            app::members::invite(state, &ctx, req).await.map(|_| ())
        },
    )
    .await
}

async fn member_html(
    state: &AppState,
    ctx: &OrgCtx,
    session: &Session,
    id: Uuid,
    top: &str,
) -> Result<String, app::Error> {
    let slug = ctx.org.slug.as_str();
    let csrf = &session.csrf;
    let m = app::members::get(state, ctx, MembershipId(id)).await?;
    let mut body = format!("{top}<section><dl>");
    if let Some(p) = &m.person {
        body.push_str(&format!(
            "<dt>Email</dt><dd>{}</dd><dt>Phone</dt><dd>{}</dd>",
            escape(&p.email),
            escape(p.phone.as_deref().unwrap_or("none"))
        ));
    }
    if let Some(i) = &m.invitation {
        body.push_str(&format!(
            "<dt>Invited</dt><dd>by {} to {}{}</dd>",
            i.channel.as_str(),
            escape(&i.address),
            i.expires_at
                .map(|at| format!(", until {}", at.format("%Y-%m-%d %H:%M UTC")))
                .unwrap_or_default()
        ));
    }
    body.push_str(&format!(
        "<dt>Status</dt><dd>{}</dd><dt>Admin areas</dt><dd>{}</dd><dt>Member since</dt><dd>{}</dd>\
         </dl></section>",
        m.status.as_str(),
        areas_text(&m.areas),
        m.created_at.format("%Y-%m-%d")
    ));
    let outranked = m.areas.iter().any(|a| !ctx.areas.allows(a));
    if ctx.require(Area::Members).is_ok() && !outranked {
        body.push_str(&format!(
            "<form class=\"card\" method=\"post\" action=\"/admin/{slug}/members/{id}\">\
             <h2>Areas and groups</h2>{}{}{}<button>Save</button></form>",
            hidden("csrf", csrf),
            area_boxes(ctx, &m.areas),
            group_boxes(state, ctx, &m.groups).await?,
        ));
        let mut actions = String::new();
        match m.status {
            MembershipStatus::Invited => actions.push_str(&button_form(
                &format!("/admin/{slug}/invitations/{id}/resend"),
                csrf,
                "Resend invitation",
                "secondary",
            )),
            MembershipStatus::Active => {
                actions.push_str(&status_form(slug, id, csrf, "suspended", "Suspend"))
            }
            MembershipStatus::Suspended => {
                actions.push_str(&status_form(slug, id, csrf, "active", "Reinstate"))
            }
        }
        let remove = if m.status == MembershipStatus::Invited {
            "Revoke invitation"
        } else {
            "Remove from organization"
        };
        actions.push_str(&button_form(
            &format!("/admin/{slug}/members/{id}/remove"),
            csrf,
            remove,
            "danger",
        ));
        body.push_str(&format!("<section><h2>Actions</h2>{actions}</section>"));
    } else if outranked {
        body.push_str(
            "<p class=\"hint\">This member holds an area you do not; only someone holding it \
             can change them.</p>",
        );
    }
    Ok(page_with_nav(
        &m.display_name(),
        &nav(ctx, "members"),
        &body,
    ))
}

fn status_form(slug: &str, id: Uuid, csrf: &str, status: &str, label: &str) -> String {
    format!(
        "<form class=\"inline\" method=\"post\" action=\"/admin/{slug}/members/{id}/status\">{}{}\
         <button class=\"secondary\">{label}</button></form>",
        hidden("csrf", csrf),
        hidden("status", status)
    )
}

pub async fn update_member(
    State(state): State<AppState>,
    _: SameOrigin,
    session: Session,
    Path((slug, id)): Path<(String, Uuid)>,
    Form(form): Form<Fields>,
) -> Response {
    let (state, form) = (&state, &form);
    act(
        state,
        &session,
        &slug,
        form,
        Page::Member(id),
        |ctx| async move {
            // The form shows only the areas the viewer holds: keep the others as they are.
            let current = app::members::get(state, &ctx, MembershipId(id)).await?;
            let mut areas = checked_areas(form);
            areas.extend(
                current
                    .areas
                    .iter()
                    .filter(|a| !ctx.areas.allows(*a))
                    .map(|a| a.as_str().to_owned()),
            );
            let change = UpdateMember {
                areas: Some(areas),
                groups: Some(checked_groups(form)),
                status: None,
            };
            app::members::update(state, &ctx, MembershipId(id), change)
                .await
                .map(|_| ())
        },
    )
    .await
}

pub async fn member_status(
    State(state): State<AppState>,
    _: SameOrigin,
    session: Session,
    Path((slug, id)): Path<(String, Uuid)>,
    Form(form): Form<Fields>,
) -> Response {
    let (state, form) = (&state, &form);
    act(
        state,
        &session,
        &slug,
        form,
        Page::Member(id),
        |ctx| async move {
            let change = UpdateMember {
                status: Some(field(form, "status").to_owned()),
                ..UpdateMember::default()
            };
            app::members::update(state, &ctx, MembershipId(id), change)
                .await
                .map(|_| ())
        },
    )
    .await
}

pub async fn remove_member(
    State(state): State<AppState>,
    _: SameOrigin,
    session: Session,
    Path((slug, id)): Path<(String, Uuid)>,
    Form(form): Form<Fields>,
) -> Response {
    let (state, form) = (&state, &form);
    act(
        state,
        &session,
        &slug,
        form,
        Page::Members,
        |ctx| async move { app::members::remove(state, &ctx, MembershipId(id)).await },
    )
    .await
}

pub async fn resend(
    State(state): State<AppState>,
    _: SameOrigin,
    session: Session,
    Path((slug, id)): Path<(String, Uuid)>,
    Form(form): Form<Fields>,
) -> Response {
    let (state, form) = (&state, &form);
    act(
        state,
        &session,
        &slug,
        form,
        Page::Member(id),
        |ctx| async move {
            app::members::resend(state, &ctx, MembershipId(id))
                .await
                .map(|_| ())
        },
    )
    .await
}

// API keys

async fn keys_html(
    state: &AppState,
    ctx: &OrgCtx,
    session: &Session,
    top: &str,
) -> Result<String, app::Error> {
    let slug = ctx.org.slug.as_str();
    let keys = app::api_keys::list(state, ctx, &max_page()).await?;
    let mut rows = String::new();
    for k in &keys.items {
        let state_text = match (k.revoked_at, k.expires_at) {
            (Some(at), _) => format!("revoked {}", at.format("%Y-%m-%d")),
            (None, Some(at)) if at <= ctx.now => format!("expired {}", at.format("%Y-%m-%d")),
            (None, Some(at)) => format!("until {}", at.format("%Y-%m-%d")),
            (None, None) => "active".into(),
        };
        let revoke = if k.revoked_at.is_none() && k.areas.iter().all(|a| ctx.areas.allows(a)) {
            button_form(
                &format!("/admin/{slug}/api-keys/{}/revoke", k.id),
                &session.csrf,
                "Revoke",
                "danger small",
            )
        } else {
            String::new()
        };
        rows.push_str(&format!(
            "<tr><td>{}</td><td><code>{}…</code></td><td>{}</td><td>{}</td><td>{}</td><td>{revoke}\
             </td></tr>",
            escape(&k.name),
            escape(&k.prefix),
            areas_text(&k.areas),
            state_text,
            k.last_used_at
                .map(|at| at.format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_else(|| "never".into()),
        ));
    }
    let body = format!(
        "{top}<section><table><thead><tr><th>Name</th><th>Key</th><th>Areas</th><th>State</th>\
         <th>Last used</th><th></th></tr></thead><tbody>{rows}</tbody></table>{}</section>\
         <form class=\"card\" method=\"post\" action=\"/admin/{slug}/api-keys\"><h2>Create a key\
         </h2>{}{}{}{}<button>Create key</button></form>",
        if keys.items.is_empty() {
            "<p>No keys yet.</p>"
        } else {
            ""
        },
        hidden("csrf", &session.csrf),
        input("name", "Name", "text", "", "required"),
        area_boxes(ctx, &Areas::default()),
        input(
            "expires_in_days",
            "Expires after (days, blank: never)",
            "number",
            "",
            "min=\"1\""
        ),
    );
    Ok(page_with_nav("API keys", &nav(ctx, "api-keys"), &body))
}

/// Creates a key and shows its secret on the answer itself: it exists nowhere else.
pub async fn create_key(
    State(state): State<AppState>,
    _: SameOrigin,
    session: Session,
    Path(slug): Path<String>,
    Form(form): Form<Fields>,
) -> Response {
    let (state, form) = (&state, &form);
    show_once(
        state,
        &session,
        &slug,
        form,
        Page::ApiKeys,
        |ctx| async move {
            let expires_at = match optional(form, "expires_in_days").map(|d| d.parse::<u16>()) {
                None => None,
                Some(Ok(days)) if days > 0 => {
                    Some(ctx.now + chrono::Duration::days(i64::from(days)))
                }
                Some(_) => {
                    return Err(lintel_domain::ValidationError::new(
                        "expires_in_days",
                        "out_of_range",
                        "Expiry is a number of days from 1 to 65535.",
                    )
                    .into());
                }
            };
            let req = CreateApiKey {
                name: field(form, "name").to_owned(),
                areas: checked_areas(form),
                expires_at,
            };
            let created = app::api_keys::create(state, &ctx, req).await?;
            Ok(format!(
                "<section class=\"notice\" role=\"status\"><h2>Copy the key now</h2><p>This is \
             the only time it is shown; Lintel keeps only a hash of it.</p>\
             <p><input id=\"secret\" readonly value=\"{}\" aria-label=\"The new key\"></p>\
             <p class=\"hint\">Use it as <code>Authorization: Bearer …</code>.</p></section>",
                escape(&created.secret)
            ))
        },
    )
    .await
}

pub async fn revoke_key(
    State(state): State<AppState>,
    _: SameOrigin,
    session: Session,
    Path((slug, id)): Path<(String, Uuid)>,
    Form(form): Form<Fields>,
) -> Response {
    let (state, form) = (&state, &form);
    act(
        state,
        &session,
        &slug,
        form,
        Page::ApiKeys,
        |ctx| async move {
            app::api_keys::revoke(state, &ctx, ApiKeyId(id))
                .await
                .map(|_| ())
        },
    )
    .await
}

// Events

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
    let next = listed
        .next_cursor
        .map(|c| {
            format!(
                "<p><a href=\"/admin/{slug}/events?kind={kind_param}&amp;cursor={c}\">Older \
                 events</a></p>"
            )
        })
        .unwrap_or_default();
    let body = format!(
        "<form class=\"card search\" method=\"get\" action=\"/admin/{slug}/events\">{}\
         <button class=\"secondary\">Filter</button> <a href=\"/admin/{slug}/events.csv?kind=\
         {kind_param}\">Download CSV</a></form><section><table><thead><tr><th>When (UTC)</th>\
         <th>What</th><th>Who</th><th>Object</th><th>Details</th></tr></thead><tbody>{rows}\
         </tbody></table>{next}</section>",
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

fn url_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
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
