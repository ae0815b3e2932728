//! The live part of an organization's first page: whether its doors and controllers are
//! online, how many people got in today, today's decisions hour by hour as a chart (one per
//! site, drawn here as SVG), and the latest denials with their reasons. Each part is shown
//! only to the areas that may read what it summarizes.
//!
//! The page stays current through `/admin/{slug}/live`, a stream of server-sent events that
//! says only "changed" when the organization's log grows (on any node); the page's script
//! then loads the page again and swaps this part. Without the script the page is simply
//! as of its loading.

use std::collections::HashMap;
use std::convert::Infallible;
use std::time::Duration as StdDuration;

use axum::extract::{Path, State};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use lintel_domain::decision::DenyReason;
use lintel_domain::{Area, Door, Site};
use lintel_store::DoorFilter;
use tokio_stream::wrappers::ReceiverStream;

use super::kit::{error_page, max_page};
use crate::app::events::{EventQuery, Today};
use crate::app::{self, AppState, ListRequest, OrgCtx, enter_org};
use crate::web::Session;
use crate::web::html::escape;

/// The page's script: follows `/admin/{slug}/live` and swaps in the fresh part, at most
/// every few seconds; also every half minute, for controllers that fall silent (which
/// records nothing). Allowed by the Content-Security-Policy by its hash.
pub(crate) const LIVE_SCRIPT: &str = "
var live = document.querySelector('[data-live]');
if (live && window.EventSource && window.fetch) {
  var due = null;
  var reload = function () {
    due = null;
    fetch(location.href, { headers: { accept: 'text/html' } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var fresh = new DOMParser().parseFromString(html, 'text/html').querySelector('[data-live]');
        if (fresh) { live.innerHTML = fresh.innerHTML; }
      })
      .catch(function () {});
  };
  var soon = function () { if (!due) { due = setTimeout(reload, 2000); } };
  new EventSource(live.dataset.live).addEventListener('changed', soon);
  setInterval(soon, 30000);
}
";

/// How long one stream lasts: the browser opens another (with the session's cookie, checked
/// again), so a session that ended stops hearing of changes within this.
const STREAM_FOR: StdDuration = StdDuration::from_secs(300);

/// The live part, in a `data-live` element the script refreshes.
pub(super) async fn live_html(state: &AppState, ctx: &OrgCtx) -> Result<String, app::Error> {
    let slug = ctx.org.slug.as_str();
    let doors = app::doors::list(state, ctx, DoorFilter::default(), &max_page()).await?;
    let sites = app::sites::list(state, ctx, &max_page()).await?;
    let controllers = app::controllers::list(state, ctx, None, &max_page()).await?;
    let states = app::controllers::door_states(state, ctx).await?;
    let now = ctx.now;

    let mut tiles = String::new();
    // Doors: online when their controller is.
    let online: HashMap<_, _> = controllers
        .items
        .iter()
        .map(|c| (c.id, c.live.clone().as_of(now).online))
        .collect();
    let door_online = |d: &Door| d.controller_id.and_then(|c| online.get(&c).copied());
    let up = doors
        .items
        .iter()
        .filter(|d| door_online(d) == Some(true))
        .count();
    let down: Vec<&str> = doors
        .items
        .iter()
        .filter(|d| door_online(d) == Some(false))
        .map(|d| d.name.as_str())
        .collect();
    let bare = doors
        .items
        .iter()
        .filter(|d| d.controller_id.is_none())
        .count();
    let mut door_notes = Vec::new();
    if !down.is_empty() {
        door_notes.push(format!("offline: {}", escape(&names(&down))));
    }
    if bare > 0 {
        door_notes.push(format!("{bare} without a controller"));
    }
    tiles.push_str(&tile(
        health(down.len(), up, doors.items.len()),
        &format!("{up}"),
        &format!(
            "of {} online",
            counted(doors.items.len(), &doors.next_cursor, "door", "doors")
        ),
        &door_notes.join("; "),
        &format!("/admin/{slug}/board"),
    ));
    // Controllers: online, and how long the silent ones have been.
    let silent: Vec<String> = controllers
        .items
        .iter()
        .map(|c| (c, c.live.clone().as_of(now)))
        .filter(|(_, live)| !live.online)
        .map(|(c, live)| {
            let heard = live.last_seen_at.map_or_else(
                || "never heard from".to_owned(),
                |at| format!("last heard {}", ago(now, at)),
            );
            let offline = super::controllers::offline_text(ctx, &live);
            format!("{} ({heard}; {offline})", escape(&c.name))
        })
        .collect();
    tiles.push_str(&tile(
        health(
            silent.len(),
            controllers.items.len() - silent.len(),
            controllers.items.len(),
        ),
        &format!("{}", controllers.items.len() - silent.len()),
        &format!(
            "of {} online",
            counted(
                controllers.items.len(),
                &controllers.next_cursor,
                "controller",
                "controllers"
            )
        ),
        &silent.join("; "),
        &format!("/admin/{slug}/controllers"),
    ));
    let alarms: Vec<&str> = states
        .iter()
        .filter(|s| matches!(s.state.as_str(), "held_open" | "forced_open"))
        .filter_map(|s| doors.items.iter().find(|d| d.id == s.door_id))
        .map(|d| d.name.as_str())
        .collect();
    if !alarms.is_empty() {
        tiles.push_str(&tile(
            "bad",
            &format!("{}", alarms.len()),
            "held or forced open",
            &escape(&names(&alarms)),
            &format!("/admin/{slug}/board"),
        ));
    }

    let mut parts = String::new();
    if ctx.require(Area::Audit).is_ok() {
        let today = app::events::today(state, ctx).await?;
        let (granted, denied) = today
            .counts
            .iter()
            .fold((0, 0), |(g, d), c| (g + c.granted, d + c.denied));
        tiles.push_str(&tile(
            "",
            &format!("{}", today.members_granted),
            if today.members_granted == 1 {
                "person got in today"
            } else {
                "people got in today"
            },
            &format!("{granted} entries granted, {denied} denied"),
            &format!("/admin/{slug}/events?kind=decision"),
        ));
        parts.push_str(&charts(ctx, &today, &doors.items, &sites.items));
        parts.push_str(&denials(state, ctx, &doors.items).await?);
    }
    Ok(format!(
        "<div data-live=\"/admin/{slug}/live\"><div class=\"tiles\">{tiles}</div>{parts}</div>"
    ))
}

/// One figure and what it counts, linking to where it comes from.
fn tile(class: &str, figure: &str, label: &str, note: &str, href: &str) -> String {
    let note = if note.is_empty() {
        String::new()
    } else {
        format!("<span class=\"hint\">{note}</span>")
    };
    format!(
        "<a class=\"tile {class}\" href=\"{href}\"><span class=\"figure\">{figure}</span> \
         <span>{label}</span>{note}</a>"
    )
}

/// How many there are, or that these are only the first (a page's worth).
fn counted(n: usize, more: &Option<String>, one: &str, many: &str) -> String {
    match (more, n) {
        (None, 1) => format!("1 {one}"),
        (None, _) => format!("{n} {many}"),
        (Some(_), _) => format!("the first {n} {many}"),
    }
}

/// A tile's colour: red when any is offline, green when all of some are online, plain
/// otherwise (none yet, or none wired to a controller).
fn health(offline: usize, online: usize, all: usize) -> &'static str {
    match (offline, online) {
        (1.., _) => "bad",
        (0, 1..) if online == all => "ok",
        _ => "",
    }
}

/// A few names, and how many more.
fn names(all: &[&str]) -> String {
    const SHOWN: usize = 3;
    let mut out = all
        .iter()
        .take(SHOWN)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if all.len() > SHOWN {
        out.push_str(&format!(" and {} more", all.len() - SHOWN));
    }
    out
}

/// How long ago `at` was, roughly.
fn ago(now: DateTime<Utc>, at: DateTime<Utc>) -> String {
    let secs = (now - at).num_seconds().max(0);
    match secs {
        0..60 => "under a minute ago".to_owned(),
        60..7200 => format!("{} min ago", secs / 60),
        7200..172_800 => format!("{} h ago", secs / 3600),
        _ => format!("{} days ago", secs / 86_400),
    }
}

/// Today's decisions per hour, one chart per site that had any.
fn charts(ctx: &OrgCtx, today: &Today, doors: &[Door], sites: &[Site]) -> String {
    let hours = today.edges.len().saturating_sub(1);
    let site_of: HashMap<_, _> = doors.iter().map(|d| (d.id.0, d.site_id)).collect();
    let tz = ctx.org.time_zone.tz();
    let labels: Vec<String> = today.edges[..hours]
        .iter()
        .map(|e| e.with_timezone(&tz).format("%H:%M").to_string())
        .collect();
    let mut out = String::from("<section><h2>Today, hour by hour</h2>");
    let mut any = false;
    for site in sites {
        let mut granted = vec![0u64; hours];
        let mut denied = vec![0u64; hours];
        for c in &today.counts {
            if site_of.get(&c.door_id) == Some(&site.id) && c.period < hours {
                granted[c.period] += c.granted;
                denied[c.period] += c.denied;
            }
        }
        if granted.iter().chain(&denied).all(|n| *n == 0) {
            continue;
        }
        any = true;
        out.push_str(&format!(
            "<h3>{}</h3>{}",
            escape(&site.name),
            hour_chart(&site.name, &labels, &granted, &denied)
        ));
    }
    if any {
        out.push_str(
            "<p class=\"hint\"><span class=\"key granted\"></span> granted \
             <span class=\"key denied\"></span> denied</p>",
        );
    } else {
        out.push_str("<p>No one has used a door today.</p>");
    }
    out.push_str("</section>");
    out
}

/// Stacked bars, granted under denied, one per hour; each bar says its figures on hover
/// and to screen readers, and the whole chart sums itself up in its label.
fn hour_chart(name: &str, labels: &[String], granted: &[u64], denied: &[u64]) -> String {
    const WIDTH: f64 = 480.0;
    const HEIGHT: f64 = 150.0;
    const LEFT: f64 = 28.0;
    const TOP: f64 = 8.0;
    const BOTTOM: f64 = 20.0;
    let plot = HEIGHT - TOP - BOTTOM;
    let top = granted
        .iter()
        .zip(denied)
        .map(|(g, d)| g + d)
        .max()
        .unwrap_or(0)
        .max(1);
    let step = (WIDTH - LEFT) / labels.len().max(1) as f64;
    let scale = |n: u64| n as f64 / top as f64 * plot;
    let mut bars = String::new();
    for (i, label) in labels.iter().enumerate() {
        let (g, d) = (granted[i], denied[i]);
        let x = LEFT + step * i as f64 + step * 0.15;
        let w = step * 0.7;
        let (hg, hd) = (scale(g), scale(d));
        let base = TOP + plot;
        bars.push_str(&format!(
            "<g><title>{label}: {g} granted, {d} denied</title>\
             <rect class=\"granted\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{hg:.1}\"/>\
             <rect class=\"denied\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{hd:.1}\"/></g>",
            base - hg,
            base - hg - hd,
        ));
        if i % 3 == 0 {
            bars.push_str(&format!(
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                x + w / 2.0,
                HEIGHT - 5.0,
                &label[..2]
            ));
        }
    }
    let (total_g, total_d): (u64, u64) = (granted.iter().sum(), denied.iter().sum());
    let busiest = granted
        .iter()
        .zip(denied)
        .enumerate()
        .max_by_key(|(i, (g, d))| (**g + **d, std::cmp::Reverse(*i)))
        .map_or("", |(i, _)| labels[i].as_str());
    format!(
        "<svg class=\"chart\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" \
         aria-label=\"{}: {total_g} granted and {total_d} denied today; busiest hour from {busiest}\">\
         <line x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{WIDTH}\" y2=\"{TOP}\"/>\
         <line x1=\"{LEFT}\" y1=\"{base}\" x2=\"{WIDTH}\" y2=\"{base}\"/>\
         <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{top}</text>\
         <text x=\"{:.1}\" y=\"{base}\" text-anchor=\"end\">0</text>{bars}</svg>",
        escape(name),
        LEFT - 4.0,
        TOP + 4.0,
        LEFT - 4.0,
        base = TOP + plot,
    )
}

/// A denial's reason, as an administrator reads it.
fn denial_text(reason: DenyReason) -> &'static str {
    match reason {
        DenyReason::UnknownCredential => "unknown card, code or phone",
        DenyReason::CredentialRevoked => "credential revoked",
        DenyReason::MembershipSuspended => "membership suspended",
        DenyReason::NoAccess => "no access to this door",
        DenyReason::Expired => "access expired",
        DenyReason::NotYetValid => "access not valid yet",
        DenyReason::OutsideSchedule => "outside the access's schedule",
        DenyReason::AuthTypeNotAllowed => "this way in is not allowed here",
        DenyReason::PinRequired => "a PIN is required too",
        DenyReason::OutsideGeofence => "too far from the door",
        DenyReason::ReaderRequired => "must be used at the reader",
        DenyReason::DoorOffline => "door offline",
        DenyReason::TooManyAttempts => "too many wrong codes",
        DenyReason::RulesStale => "controller cut off for too long",
    }
}

/// The latest denials: when, where, how and why.
async fn denials(state: &AppState, ctx: &OrgCtx, doors: &[Door]) -> Result<String, app::Error> {
    const SHOWN: u32 = 5;
    let slug = ctx.org.slug.as_str();
    let query = EventQuery {
        kind: Some("decision.denied".into()),
        ..EventQuery::default()
    };
    let page = ListRequest {
        limit: Some(SHOWN),
        cursor: None,
    };
    let listed = app::events::list(state, ctx, &query, &page).await?;
    let tz = ctx.org.time_zone.tz();
    let today = ctx.now.with_timezone(&tz).date_naive();
    let mut rows = String::new();
    for e in &listed.items {
        let local = e.at.with_timezone(&tz);
        let when = if local.date_naive() == today {
            local.format("%H:%M").to_string()
        } else {
            local.format("%Y-%m-%d %H:%M").to_string()
        };
        let door = e
            .object_id
            .and_then(|id| doors.iter().find(|d| d.id.0 == id))
            .map_or_else(
                || "a removed door".to_owned(),
                |d| {
                    format!(
                        "<a href=\"/admin/{slug}/doors/{}\">{}</a>",
                        d.id,
                        escape(&d.name)
                    )
                },
            );
        let why = serde_json::from_value::<DenyReason>(e.summary["reason"].clone())
            .map_or("refused", denial_text);
        let how = e.summary["credential"].as_str().unwrap_or("");
        rows.push_str(&format!(
            "<li><strong>{when}</strong> {door}: {why} <span class=\"hint\">{}</span></li>",
            escape(how)
        ));
    }
    let body = if rows.is_empty() {
        "<p>No one has been refused.</p>".to_owned()
    } else {
        format!(
            "<ul class=\"rows\">{rows}</ul><p><a href=\"/admin/{slug}/events?kind=decision.denied\">\
             Every denial</a></p>"
        )
    };
    Ok(format!("<section><h2>Latest denials</h2>{body}</section>"))
}

/// Says "changed" whenever the organization's log grows, for `STREAM_FOR`; to admins of
/// the organization only, and nothing else (the page it prompts checks again who may see
/// what).
pub async fn live(
    State(state): State<AppState>,
    session: Session,
    Path(slug): Path<String>,
) -> Response {
    let ctx = match enter_org(&state, session.actor.clone(), &slug).await {
        Ok(ctx) => ctx,
        Err(err) => return error_page(err),
    };
    if let Err(err) = ctx.require_admin() {
        return error_page(err);
    }
    let org = ctx.org_id();
    let mut signals = state.store.signals();
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<SseEvent, Infallible>>(4);
    tokio::spawn(async move {
        let end = tokio::time::sleep(STREAM_FOR);
        tokio::pin!(end);
        loop {
            tokio::select! {
                () = signals.events_of(org) => {}
                () = &mut end => return,
                () = tx.closed() => return,
            }
            // With data: browsers drop an event whose data is empty.
            if tx
                .send(Ok(SseEvent::default().event("changed").data("log")))
                .await
                .is_err()
            {
                return;
            }
        }
    });
    Sse::new(ReceiverStream::new(rx))
        .keep_alive(KeepAlive::default())
        .into_response()
}
