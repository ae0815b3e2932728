//! The door board: every door's state as its controller last reported it (locked,
//! unlocked, open, held open, forced open), why and since when, its readers (online,
//! offline, refused, tamper), and whether that controller is online; the page loads itself
//! again every few seconds.

use std::collections::HashMap;

use axum::Router;
use axum::routing::get;
use lintel_store::DoorFilter;

use super::Section;
use super::kit::{get_page, max_page, nav, screen};
use crate::app::{self, AppState, OrgCtx};
use crate::web::Session;
use crate::web::html::{escape, page_with_nav_refreshing};

pub(super) const SECTION: Section = Section {
    path: "board",
    label: "Door board",
    may_see: |ctx| ctx.require_admin().is_ok(),
};

/// How often the board loads itself again.
const REFRESH_SECS: u32 = 3;

screen!(Board at "board" by board_html);

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/admin/{slug}/board", get(get_page::<Board>))
}

/// How a state reads on the board.
fn state_label(state: &str) -> &'static str {
    match state {
        "locked" => "Locked",
        "unlocked" => "Unlocked",
        "open" => "Open",
        "held_open" => "Held open",
        "forced_open" => "Forced open",
        _ => "Unknown",
    }
}

/// Why it changed, as the board says it.
fn cause_text(cause: &str) -> &'static str {
    match cause {
        "granted" => "access granted",
        "schedule" => "schedule",
        "exit" => "exit button",
        "opened" => "door opened",
        "closed" => "door closed",
        "timeout" => "unlock time over",
        "held_too_long" => "open too long",
        _ => "",
    }
}

/// A reader's state, as the board says it.
fn reader_text(state: &str) -> &'static str {
    match state {
        "online" => "online",
        "offline" => "offline",
        "refused" => "refused (not on its key)",
        "install_mode" => "in install mode",
        _ => "unknown",
    }
}

async fn board_html(
    state: &AppState,
    ctx: &OrgCtx,
    _session: &Session,
    top: &str,
) -> Result<String, app::Error> {
    let slug = ctx.org.slug.as_str();
    let doors = app::doors::list(state, ctx, DoorFilter::default(), &max_page()).await?;
    let sites = app::sites::list(state, ctx, &max_page()).await?;
    let controllers = app::controllers::list(state, ctx, None, &max_page()).await?;
    let states: HashMap<_, _> = app::controllers::door_states(state, ctx)
        .await?
        .into_iter()
        .map(|s| (s.door_id, s))
        .collect();
    let readers = app::controllers::reader_states(state, ctx).await?;
    let tz = ctx.org.time_zone.tz();
    let rows: String = doors
        .items
        .iter()
        .map(|door| {
            let site = sites
                .items
                .iter()
                .find(|s| s.id == door.site_id)
                .map_or_else(String::new, |s| escape(&s.name));
            let controller = door
                .controller_id
                .and_then(|id| controllers.items.iter().find(|c| c.id == id));
            let (badge, since) = match (controller, states.get(&door.id)) {
                (None, _) => (
                    "<span class=\"hint\">no controller</span>".to_owned(),
                    String::new(),
                ),
                (Some(_), None) => (
                    "<span class=\"hint\">not reported yet</span>".to_owned(),
                    String::new(),
                ),
                (Some(_), Some(s)) => (
                    format!(
                        "<span class=\"state {}\">{}</span>",
                        escape(&s.state),
                        state_label(&s.state)
                    ),
                    format!(
                        "{} <span class=\"hint\">{}</span>",
                        s.at.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S"),
                        cause_text(&s.cause)
                    ),
                ),
            };
            let link = controller.map_or_else(String::new, |c| {
                format!(
                    "<a href=\"/admin/{slug}/controllers/{}\">{}</a> <span class=\"hint\">{}</span>",
                    c.id,
                    escape(&c.name),
                    super::controllers::state_text(ctx, &c.live)
                )
            });
            let readers: Vec<String> = readers
                .iter()
                .filter(|r| r.door_id == door.id)
                .map(|r| {
                    let tamper = if r.tamper { ", tamper" } else { "" };
                    format!("{} {}{tamper}", escape(&r.reader), reader_text(&r.state))
                })
                .collect();
            let readers = if readers.is_empty() {
                String::new()
            } else {
                format!("<br><span class=\"hint\">readers: {}</span>", readers.join("; "))
            };
            format!(
                "<tr><td><a href=\"/admin/{slug}/doors/{}\">{}</a></td><td>{site}</td>\
                 <td>{badge}{readers}</td><td>{since}</td><td>{link}</td></tr>",
                door.id,
                escape(&door.name)
            )
        })
        .collect();
    let alarms = states
        .values()
        .filter(|s| matches!(s.state.as_str(), "held_open" | "forced_open"))
        .count();
    let summary = if alarms == 0 {
        "<p>No door is held or forced open.</p>".to_owned()
    } else {
        format!("<p class=\"error\">{alarms} door(s) held or forced open.</p>")
    };
    let body = format!(
        "{top}<section>{summary}<div class=\"scroll\" tabindex=\"0\"><table><thead><tr><th>Door</th><th>Site</th><th>State</th>\
         <th>Since</th><th>Controller</th></tr></thead><tbody>{rows}</tbody></table></div>\
         <p class=\"hint\">As each door's controller reported it; this page loads again every \
         {REFRESH_SECS} seconds.</p></section>"
    );
    Ok(page_with_nav_refreshing(
        "Door board",
        &nav(ctx, "board"),
        &body,
        REFRESH_SECS,
    ))
}
