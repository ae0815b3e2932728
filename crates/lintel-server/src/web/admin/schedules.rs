//! Schedules: weekly windows written a line each, and exceptions.

use axum::Router;
use axum::response::Response;
use lintel_domain::schedule::{ExceptionText, SpanText, WindowText};
use lintel_domain::{Area, ScheduleId, ValidationError};
use uuid::Uuid;

use super::Section;
use super::kit::{
    Posted, ending, field, max_page, nav, object_routes, optional, read_only, screen,
};
use crate::app::schedules::{CreateSchedule, UpdateSchedule};
use crate::app::{self, AppState, OrgCtx};
use crate::web::Session;
use crate::web::html::{confirm_form, escape, hidden, input, page_with_nav, save_button};

pub(super) const SECTION: Section = Section {
    path: "schedules",
    label: "Schedules",
    may_see: |ctx| ctx.require_admin().is_ok(),
};

screen!(Schedules at "schedules" by schedules_html);
screen!(Schedule(id) at "schedules" by schedule_html);

pub(super) fn routes() -> Router<AppState> {
    object_routes::<Schedules, Schedule, _, _, _, _, _, _>(
        "schedules",
        create_schedule,
        update_schedule,
        delete_schedule,
    )
}

/// Weekly windows as lines: `monday 07:00-19:00`.
fn windows_text(windows: &[WindowText]) -> String {
    windows
        .iter()
        .map(|w| format!("{} {}-{}\n", w.day, w.start, w.end))
        .collect()
}

/// Exceptions as lines: `2026-12-24 closed` or `2026-12-24 10:00-14:00`.
fn exceptions_text(exceptions: &[ExceptionText]) -> String {
    exceptions
        .iter()
        .map(|e| {
            if e.closed {
                format!("{} closed\n", e.date)
            } else {
                let spans: Vec<String> = e
                    .windows
                    .iter()
                    .map(|s| format!("{}-{}", s.start, s.end))
                    .collect();
                format!("{} {}\n", e.date, spans.join(" "))
            }
        })
        .collect()
}

fn line_error(field: &str, line: usize, rule: &str) -> ValidationError {
    ValidationError::new(
        field,
        "invalid_line",
        format!("line {line} of {field} must look like {rule}"),
    )
}

fn span(text: &str) -> Option<SpanText> {
    let (start, end) = text.split_once('-')?;
    Some(SpanText {
        start: start.trim().to_owned(),
        end: end.trim().to_owned(),
    })
}

fn parse_windows(text: &str) -> Result<Vec<WindowText>, ValidationError> {
    let mut windows = Vec::new();
    for (i, line) in text.lines().map(str::trim).enumerate() {
        if line.is_empty() {
            continue;
        }
        let bad = || line_error("windows", i + 1, "\"monday 07:00-19:00\"");
        let (day, times) = line.split_once(' ').ok_or_else(bad)?;
        let s = span(times).ok_or_else(bad)?;
        windows.push(WindowText {
            day: day.trim().to_lowercase(),
            start: s.start,
            end: s.end,
        });
    }
    Ok(windows)
}

fn parse_exceptions(text: &str) -> Result<Vec<ExceptionText>, ValidationError> {
    let mut exceptions = Vec::new();
    for (i, line) in text.lines().map(str::trim).enumerate() {
        if line.is_empty() {
            continue;
        }
        let bad = || {
            line_error(
                "exceptions",
                i + 1,
                "\"2026-12-24 closed\" or \"2026-12-24 10:00-14:00\"",
            )
        };
        let mut words = line.split_whitespace();
        let date = words.next().and_then(|d| d.parse().ok()).ok_or_else(bad)?;
        let rest: Vec<&str> = words.collect();
        let exception = if rest == ["closed"] {
            ExceptionText {
                date,
                closed: true,
                windows: vec![],
            }
        } else {
            let windows = rest.iter().map(|w| span(w)).collect::<Option<Vec<_>>>();
            ExceptionText {
                date,
                closed: false,
                windows: windows.filter(|w| !w.is_empty()).ok_or_else(bad)?,
            }
        };
        exceptions.push(exception);
    }
    Ok(exceptions)
}

fn schedule_fields(name: &str, zone: &str, windows: &str, exceptions: &str, lock: &str) -> String {
    format!(
        "{}{}<label for=\"windows\">Weekly windows, one a line (a window ending before it \
         starts runs past midnight)</label><textarea id=\"windows\" name=\"windows\" rows=\"6\" \
         placeholder=\"monday 07:00-19:00\" {lock}>{}</textarea>\
         <label for=\"exceptions\">Exceptions, one a line</label><textarea id=\"exceptions\" \
         name=\"exceptions\" rows=\"3\" placeholder=\"2026-12-24 closed\" {lock}>{}</textarea>",
        input("name", "Name", "text", name, &format!("required {lock}")),
        input(
            "time_zone",
            "Time zone",
            "text",
            zone,
            &format!("required {lock}")
        ),
        escape(windows),
        escape(exceptions),
    )
}

pub(super) async fn schedules_html(
    state: &AppState,
    ctx: &OrgCtx,
    session: &Session,
    top: &str,
) -> Result<String, app::Error> {
    let slug = ctx.org.slug.as_str();
    let list = app::schedules::list(state, ctx, &max_page()).await?;
    let mut rows = String::new();
    for s in &list.items {
        rows.push_str(&format!(
            "<tr><td><a href=\"/admin/{slug}/schedules/{}\">{}</a></td><td>{}</td><td>{}</td>\
             <td>{}</td></tr>",
            s.id,
            escape(&s.name),
            s.time_zone.name(),
            escape(&windows_text(&s.windows)).replace('\n', "<br>"),
            s.exceptions.len()
        ));
    }
    let mut body = format!(
        "{top}<section><div class=\"scroll\" tabindex=\"0\"><table><thead><tr><th>Schedule</th><th>Zone</th><th>Windows</th>\
         <th>Exceptions</th></tr></thead><tbody>{rows}</tbody></table></div>{}</section>",
        if list.items.is_empty() {
            "<p>No schedules yet.</p>"
        } else {
            ""
        }
    );
    if ctx.require(Area::Doors).is_ok() {
        body.push_str(&format!(
            "<form class=\"card\" method=\"post\" action=\"/admin/{slug}/schedules\"><h2>Add a \
             schedule</h2>{}{}<button>Add schedule</button></form>",
            hidden("csrf", &session.csrf),
            schedule_fields("", ctx.org.time_zone.name(), "", "", ""),
        ));
    }
    Ok(page_with_nav("Schedules", &nav(ctx, "schedules"), &body))
}

pub(super) async fn schedule_html(
    state: &AppState,
    ctx: &OrgCtx,
    session: &Session,
    id: Uuid,
    top: &str,
) -> Result<String, app::Error> {
    let slug = ctx.org.slug.as_str();
    let s = app::schedules::get(state, ctx, ScheduleId(id)).await?;
    let lock = read_only(ctx, Area::Doors);
    let mut body = format!(
        "{top}<form class=\"card\" method=\"post\" action=\"/admin/{slug}/schedules/{id}\">{}{}{}\
         </form>",
        hidden("csrf", &session.csrf),
        schedule_fields(
            &s.name,
            s.time_zone.name(),
            &windows_text(&s.windows),
            &exceptions_text(&s.exceptions),
            lock
        ),
        save_button(lock),
    );
    if lock.is_empty() {
        body.push_str(&confirm_form(
            &format!("/admin/{slug}/schedules/{id}/delete"),
            &session.csrf,
            "Delete schedule",
            "Only a schedule no access uses can go.",
        ));
    }
    Ok(page_with_nav(&s.name, &nav(ctx, "schedules"), &body))
}

pub async fn create_schedule(post: Posted) -> Response {
    let (state, form) = (&post.state, &post.form);
    post.act(Schedules, |ctx| async move {
        let req = CreateSchedule {
            name: field(form, "name").to_owned(),
            time_zone: optional(form, "time_zone"),
            windows: parse_windows(field(form, "windows"))?,
            exceptions: parse_exceptions(field(form, "exceptions"))?,
        };
        app::schedules::create(state, &ctx, req).await.map(|_| ())
    })
    .await
}

pub async fn update_schedule(post: Posted) -> Response {
    let (state, form, id) = (&post.state, &post.form, post.id);
    post.act(Schedule(id), |ctx| async move {
        let req = UpdateSchedule {
            name: Some(field(form, "name").to_owned()),
            time_zone: Some(field(form, "time_zone").trim().to_owned()),
            windows: Some(parse_windows(field(form, "windows"))?),
            exceptions: Some(parse_exceptions(field(form, "exceptions"))?),
        };
        app::schedules::update(state, &ctx, ScheduleId(id), req)
            .await
            .map(|_| ())
    })
    .await
}

ending!(delete_schedule: app::schedules::delete, ScheduleId, back to Schedules);
