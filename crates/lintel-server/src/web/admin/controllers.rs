//! Controllers: the boxes at a site that hold their doors' rules. Make one (its token shown
//! once), see each one's live state, rename it, rotate its token, delete it.

use axum::Router;
use axum::response::Response;
use axum::routing::post;
use lintel_domain::controller::ControllerLive;
use lintel_domain::{Area, Controller, ControllerId};
use uuid::Uuid;

use super::Section;
use super::kit::{
    Posted, button_form, ending, field, max_page, nav, object_routes, read_only, screen,
    secret_notice,
};
use crate::app::controllers::{ControllerWithToken, CreateController, UpdateController};
use crate::app::{self, AppState, OrgCtx};
use crate::web::Session;
use crate::web::html::{confirm_form, escape, hidden, input, page_with_nav, save_button};

pub(super) const SECTION: Section = Section {
    path: "controllers",
    label: "Controllers",
    may_see: |ctx| ctx.require_admin().is_ok(),
};

screen!(Controllers at "controllers" by controllers_html);
screen!(ControllerPage(id) at "controllers" by controller_html);

pub(super) fn routes() -> Router<AppState> {
    object_routes::<Controllers, ControllerPage, _, _, _, _, _, _>(
        "controllers",
        create_controller,
        update_controller,
        delete_controller,
    )
    .route(
        "/admin/{slug}/controllers/{id}/rotate-token",
        post(rotate_token),
    )
    .route(
        "/admin/{slug}/controllers/{id}/pairing-code",
        post(pairing_code),
    )
}

/// A time in the organization's time zone, to the minute.
fn shown(ctx: &OrgCtx, at: chrono::DateTime<chrono::Utc>) -> String {
    at.with_timezone(&ctx.org.time_zone.tz())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// How long its doors keep deciding without the server: until `rules_stale_at`.
pub(super) fn offline_text(ctx: &OrgCtx, live: &ControllerLive) -> String {
    match (live.rules_stale_at, live.online) {
        (None, _) => "no rules yet: its doors open nothing without Lintel".into(),
        (Some(at), true) => format!("works offline until {} if cut off now", shown(ctx, at)),
        (Some(at), false) if at > ctx.now => format!("deciding offline until {}", shown(ctx, at)),
        (Some(at), false) => format!(
            "rules stale since {}: its doors open nothing until it reconnects",
            shown(ctx, at)
        ),
    }
}

/// Online or not, and since when it was last heard from.
pub(super) fn state_text(ctx: &OrgCtx, live: &ControllerLive) -> String {
    match (live.online, live.last_seen_at) {
        (true, _) => "online".into(),
        (false, Some(at)) => format!("offline, last seen {}", shown(ctx, at)),
        (false, None) => "never connected".into(),
    }
}

fn rules_text(live: &ControllerLive) -> String {
    match (live.rules_version, live.rules_in_sync) {
        (None, _) => "none yet".into(),
        (Some(v), true) => format!("version {v}, current"),
        (Some(v), false) => format!("version {v}, behind"),
    }
}

async fn controllers_html(
    state: &AppState,
    ctx: &OrgCtx,
    session: &Session,
    top: &str,
) -> Result<String, app::Error> {
    let slug = ctx.org.slug.as_str();
    let controllers = app::controllers::list(state, ctx, None, &max_page()).await?;
    let sites = app::sites::list(state, ctx, &max_page()).await?;
    let site_name = |c: &Controller| {
        sites
            .items
            .iter()
            .find(|s| s.id == c.site_id)
            .map_or_else(String::new, |s| escape(&s.name))
    };
    let rows: String = controllers
        .items
        .iter()
        .map(|c| {
            format!(
                "<tr><td><a href=\"/admin/{slug}/controllers/{}\">{}</a></td><td>{}</td>\
                 <td>{}</td><td>{}</td><td>{}</td></tr>",
                c.id,
                escape(&c.name),
                site_name(c),
                state_text(ctx, &c.live),
                rules_text(&c.live),
                c.live.events_waiting.unwrap_or(0),
            )
        })
        .collect();
    let options: String = sites
        .items
        .iter()
        .map(|s| format!("<option value=\"{}\">{}</option>", s.id, escape(&s.name)))
        .collect();
    let create = if ctx.require(Area::Doors).is_ok() && !sites.items.is_empty() {
        format!(
            "<form class=\"card\" method=\"post\" action=\"/admin/{slug}/controllers\"><h2>Add a \
             controller</h2>{}{}<label for=\"site_id\">Site</label><select id=\"site_id\" \
             name=\"site_id\">{options}</select><button>Add controller</button></form>",
            hidden("csrf", &session.csrf),
            input("name", "Name", "text", "", "required"),
        )
    } else {
        String::new()
    };
    let body = format!(
        "{top}<section><div class=\"scroll\" tabindex=\"0\"><table><thead><tr><th>Name</th><th>Site</th><th>State</th><th>Rules</th>\
         <th>Events waiting</th></tr></thead><tbody>{rows}</tbody></table></div>{}</section>{create}",
        if controllers.items.is_empty() {
            "<p>No controllers yet. A controller keeps its doors' rules and opens them even \
             when it cannot reach Lintel.</p>"
        } else {
            ""
        },
    );
    Ok(page_with_nav(
        "Controllers",
        &nav(ctx, "controllers"),
        &body,
    ))
}

async fn controller_html(
    state: &AppState,
    ctx: &OrgCtx,
    session: &Session,
    id: Uuid,
    top: &str,
) -> Result<String, app::Error> {
    let slug = ctx.org.slug.as_str();
    let c = app::controllers::get(state, ctx, ControllerId(id)).await?;
    let lock = read_only(ctx, Area::Doors);
    let live = &c.live;
    let actions = if lock.is_empty() {
        format!(
            "<p>{} {} {}</p>",
            button_form(
                &format!("/admin/{slug}/controllers/{id}/pairing-code"),
                &session.csrf,
                "Pair on site",
                "small",
            ),
            confirm_form(
                &format!("/admin/{slug}/controllers/{id}/rotate-token"),
                &session.csrf,
                "Rotate token",
                "The controller's current token stops working at once: it stays cut off until \
                 it is given the new one.",
            ),
            confirm_form(
                &format!("/admin/{slug}/controllers/{id}/delete"),
                &session.csrf,
                "Delete",
                "Its doors stop getting rules from Lintel and its token stops working. This \
                 cannot be undone.",
            )
        )
    } else {
        String::new()
    };
    let body = format!(
        "{top}<section class=\"card\"><dl><dt>State</dt><dd>{}</dd><dt>Rules</dt><dd>{}</dd>\
         <dt>Without Lintel</dt><dd>{}</dd><dt>Events waiting</dt><dd>{}</dd><dt>Clock</dt><dd>{}</dd><dt>Software</dt><dd>{}</dd>\
         <dt>Token made</dt><dd>{}</dd></dl><p><a href=\"/admin/{slug}/places\">Wire doors</a> \
         to it from each door's page.</p>{actions}</section>\
         <form class=\"card\" method=\"post\" action=\"/admin/{slug}/controllers/{id}\">{}{}{}{}\
         </form>",
        state_text(ctx, live),
        rules_text(live),
        offline_text(ctx, live),
        live.events_waiting.unwrap_or(0),
        live.clock_skew_ms.map_or_else(
            || "not reported".to_owned(),
            |ms| format!("{:+.1} s from the server's", ms as f64 / 1000.0)
        ),
        live.software_version
            .as_deref()
            .map_or_else(|| "not reported".to_owned(), escape),
        shown(ctx, c.token_issued_at),
        hidden("csrf", &session.csrf),
        input("name", "Name", "text", &c.name, &format!("required {lock}")),
        input("description", "Description", "text", &c.description, lock),
        save_button(lock),
    );
    Ok(page_with_nav(&c.name, &nav(ctx, "controllers"), &body))
}

/// The token, on the answer itself: it exists nowhere else.
fn token_notice(made: &ControllerWithToken) -> String {
    secret_notice(
        "token",
        "The controller's token",
        &made.token,
        "Put it in a file only the controller's user can read and start \
         <code>lintel-controller --token-file FILE</code>.",
    )
}

pub async fn create_controller(post: Posted) -> Response {
    let (state, form) = (&post.state, &post.form);
    post.show_once(Controllers, |ctx| async move {
        let site_id = field(form, "site_id").parse().map_err(|_| {
            app::Error::from(lintel_domain::ValidationError::new(
                "site_id",
                "invalid",
                "choose a site",
            ))
        })?;
        let req = CreateController {
            site_id,
            name: field(form, "name").to_owned(),
            description: String::new(),
        };
        let made = app::controllers::create(state, &ctx, req).await?;
        Ok(token_notice(&made))
    })
    .await
}

pub async fn update_controller(post: Posted) -> Response {
    let (state, form, id) = (&post.state, &post.form, post.id);
    post.act(ControllerPage(id), |ctx| async move {
        let req = UpdateController {
            name: Some(field(form, "name").to_owned()),
            description: Some(field(form, "description").to_owned()),
        };
        app::controllers::update(state, &ctx, ControllerId(id), req)
            .await
            .map(|_| ())
    })
    .await
}

pub async fn rotate_token(post: Posted) -> Response {
    let (state, id) = (&post.state, post.id);
    post.show_once(ControllerPage(id), |ctx| async move {
        let made = app::controllers::rotate_token(state, &ctx, ControllerId(id)).await?;
        Ok(token_notice(&made))
    })
    .await
}

/// A pairing code for the controller, shown once: typed at the controller on site.
pub async fn pairing_code(post: Posted) -> Response {
    let (state, id) = (&post.state, post.id);
    post.show_once(ControllerPage(id), |ctx| async move {
        let made = app::controllers::pairing_code(state, &ctx, ControllerId(id)).await?;
        let until = made.expires_at.with_timezone(&ctx.org.time_zone.tz());
        Ok(secret_notice(
            "pairing code",
            "The pairing code",
            &made.code,
            &format!(
                "On the controller, before {}: <code>lintel-controller --server {} --token-file \
                 FILE pair {}</code>. It works once; the controller's old token then stops \
                 working.",
                until.format("%H:%M"),
                escape(&state.public_url),
                escape(&made.code)
            ),
        ))
    })
    .await
}

ending!(delete_controller: app::controllers::delete, ControllerId, back to Controllers);
