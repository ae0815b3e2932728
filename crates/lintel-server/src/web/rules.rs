//! The dashboard's access rules: schedules (weekly windows written a line each) and accesses
//! (doors, how they open each way, who, when).

use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use chrono::{NaiveDateTime, TimeZone as _, Utc};
use lintel_domain::decision::AuthType;
use lintel_domain::schedule::{ExceptionText, SpanText, WindowText};
use lintel_domain::{
    Access, AccessDoor, AccessId, AccessKind, AccessStatus, Area, ScheduleId, ValidationError,
};
use uuid::Uuid;

use super::admin::{Fields, Page, act, button_form, field, max_page, nav, optional, read_only};
use super::html::{escape, hidden, input, page_with_nav, save_button};
use super::{SameOrigin, Session};
use crate::app::accesses::{AccessBody, UpdateAccess};
use crate::app::members::MemberQuery;
use crate::app::schedules::{CreateSchedule, UpdateSchedule};
use crate::app::{self, AppState, OrgCtx};

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
        "{top}<section><table><thead><tr><th>Schedule</th><th>Zone</th><th>Windows</th>\
         <th>Exceptions</th></tr></thead><tbody>{rows}</tbody></table>{}</section>",
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
        body.push_str(&button_form(
            &format!("/admin/{slug}/schedules/{id}/delete"),
            &session.csrf,
            "Delete schedule",
            "danger",
        ));
    }
    Ok(page_with_nav(&s.name, &nav(ctx, "schedules"), &body))
}

pub async fn create_schedule(
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
        Page::Schedules,
        |ctx| async move {
            let req = CreateSchedule {
                name: field(form, "name").to_owned(),
                time_zone: optional(form, "time_zone"),
                windows: parse_windows(field(form, "windows"))?,
                exceptions: parse_exceptions(field(form, "exceptions"))?,
            };
            app::schedules::create(state, &ctx, req).await.map(|_| ())
        },
    )
    .await
}

pub async fn update_schedule(
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
        Page::Schedule(id),
        |ctx| async move {
            let req = UpdateSchedule {
                name: Some(field(form, "name").to_owned()),
                time_zone: Some(field(form, "time_zone").trim().to_owned()),
                windows: Some(parse_windows(field(form, "windows"))?),
                exceptions: Some(parse_exceptions(field(form, "exceptions"))?),
            };
            app::schedules::update(state, &ctx, ScheduleId(id), req)
                .await
                .map(|_| ())
        },
    )
    .await
}

pub async fn delete_schedule(
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
        Page::Schedules,
        |ctx| async move { app::schedules::delete(state, &ctx, ScheduleId(id)).await },
    )
    .await
}

fn tick(on: bool) -> &'static str {
    if on { " checked" } else { "" }
}

fn boxes(prefix: &str, items: &[(Uuid, String)], ticked: &[Uuid]) -> String {
    items
        .iter()
        .map(|(id, name)| {
            format!(
                "<label class=\"check\"><input type=\"checkbox\" name=\"{prefix}_{id}\"{}> {}\
                 </label>",
                tick(ticked.contains(id)),
                escape(name)
            )
        })
        .collect()
}

fn type_boxes(prefix: &str, ticked: &[AuthType]) -> String {
    AuthType::ALL
        .iter()
        .map(|t| {
            format!(
                "<label class=\"check\"><input type=\"checkbox\" name=\"{prefix}_{}\"{}> {}\
                 </label>",
                t.as_str(),
                tick(ticked.contains(t)),
                t.as_str().replace('_', " ")
            )
        })
        .collect()
}

fn checked(form: &Fields, prefix: &str) -> Vec<Uuid> {
    form.keys()
        .filter_map(|k| k.strip_prefix(prefix)?.strip_prefix('_')?.parse().ok())
        .collect()
}

fn checked_types(form: &Fields, prefix: &str) -> Vec<AuthType> {
    AuthType::ALL
        .into_iter()
        .filter(|t| form.contains_key(&format!("{prefix}_{}", t.as_str())))
        .collect()
}

pub(super) async fn accesses_html(
    state: &AppState,
    ctx: &OrgCtx,
    session: &Session,
    top: &str,
) -> Result<String, app::Error> {
    let slug = ctx.org.slug.as_str();
    let accesses = app::accesses::list(state, ctx, &Default::default(), &max_page()).await?;
    let doors = app::doors::list(state, ctx, None, &max_page()).await?;
    let schedules = app::schedules::list(state, ctx, &max_page()).await?;
    let door_name = |id: Uuid| {
        doors
            .items
            .iter()
            .find(|d| d.id.0 == id)
            .map_or_else(|| id.to_string(), |d| d.name.clone())
    };
    let editable = ctx.require(Area::Delegation).is_ok();
    let mut rows = String::new();
    for a in &accesses.items {
        let schedule = a
            .schedule_id
            .and_then(|s| schedules.items.iter().find(|x| x.id == s))
            .map_or("any time".to_owned(), |s| s.name.clone());
        let opens: Vec<String> = a
            .doors
            .iter()
            .map(|d| {
                let types = |t: &[AuthType]| {
                    if t.is_empty() {
                        "any".to_owned()
                    } else {
                        t.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ")
                    }
                };
                format!(
                    "{} (in: {}; out: {})",
                    door_name(d.door_id.0),
                    types(&d.in_auth_types),
                    types(&d.out_auth_types)
                )
            })
            .collect();
        rows.push_str(&format!(
            "<tr><td><a href=\"/admin/{slug}/accesses/{}\">{}</a></td><td>{} · {}</td><td>{}</td>\
             <td>{}</td><td>{} people, {} groups</td><td>{}</td></tr>",
            a.id,
            escape(&a.name),
            a.kind.as_str(),
            a.status.as_str(),
            escape(&opens.join("; ")),
            escape(&schedule),
            a.users.len(),
            a.groups.len(),
            if editable {
                button_form(
                    &format!("/admin/{slug}/accesses/{}/delete", a.id),
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
        "{top}<section><table><thead><tr><th>Access</th><th>Kind</th><th>Doors</th>\
         <th>When</th><th>Who</th><th></th></tr></thead><tbody>{rows}</tbody></table>{}</section>",
        if accesses.items.is_empty() {
            "<p>No accesses yet.</p>"
        } else {
            ""
        }
    );
    if editable {
        let action = format!("/admin/{slug}/accesses");
        body.push_str(&access_form(state, ctx, session, &action, None).await?);
    }
    Ok(page_with_nav("Accesses", &nav(ctx, "accesses"), &body))
}

/// The form that grants an access, or edits `access`. Every ticked door takes the same
/// authentication types each way; an edited door keeps its `lock_unlock_enabled`.
async fn access_form(
    state: &AppState,
    ctx: &OrgCtx,
    session: &Session,
    action: &str,
    access: Option<&Access>,
) -> Result<String, app::Error> {
    let doors = app::doors::list(state, ctx, None, &max_page()).await?;
    let schedules = app::schedules::list(state, ctx, &max_page()).await?;
    let groups = app::groups::list(state, ctx, &max_page()).await?;
    let members = app::members::list(
        state,
        ctx,
        &MemberQuery {
            status: Some("active".into()),
            ..MemberQuery::default()
        },
        &max_page(),
    )
    .await?;
    let people: Vec<(Uuid, String)> = members
        .items
        .iter()
        .map(|m| (m.id, m.display_name()))
        .collect();
    let door_items: Vec<(Uuid, String)> = doors
        .items
        .iter()
        .map(|d| (d.id.0, d.name.clone()))
        .collect();
    let group_items: Vec<(Uuid, String)> = groups
        .items
        .iter()
        .map(|g| (g.id.0, g.name.clone()))
        .collect();
    let schedule = access.and_then(|a| a.schedule_id);
    let options: String = schedules
        .items
        .iter()
        .map(|s| {
            format!(
                "<option value=\"{}\"{}>{}</option>",
                s.id,
                if Some(s.id) == schedule {
                    " selected"
                } else {
                    ""
                },
                escape(&s.name)
            )
        })
        .collect();
    let first_door = access.and_then(|a| a.doors.first());
    let (in_types, out_types) = first_door.map_or((&[][..], &[][..]), |d| {
        (&d.in_auth_types[..], &d.out_auth_types[..])
    });
    let mixed = access.is_some_and(|a| {
        a.doors
            .iter()
            .any(|d| d.in_auth_types != in_types || d.out_auth_types != out_types)
    });
    let local = |at: Option<chrono::DateTime<Utc>>| {
        at.map(|at| {
            at.with_timezone(&ctx.org.time_zone.tz())
                .format("%Y-%m-%dT%H:%M")
                .to_string()
        })
        .unwrap_or_default()
    };
    let kind = access.map_or(AccessKind::Permanent, |a| a.kind);
    let user_ids: Vec<Uuid> = access.map_or(vec![], |a| a.users.iter().map(|m| m.0).collect());
    let group_ids: Vec<Uuid> = access.map_or(vec![], |a| a.groups.iter().map(|g| g.0).collect());
    let door_ids: Vec<Uuid> =
        access.map_or(vec![], |a| a.doors.iter().map(|d| d.door_id.0).collect());
    Ok(format!(
        "<form class=\"card\" method=\"post\" action=\"{action}\"><h2>{}</h2>{}{}\
         <label for=\"kind\">Kind</label><select id=\"kind\" name=\"kind\">\
         <option{}>permanent</option><option{}>temporary</option></select>\
         <label for=\"schedule_id\">When</label><select id=\"schedule_id\" name=\"schedule_id\">\
         <option value=\"\">any time</option>{options}</select>{}{}\
         <fieldset><legend>Doors</legend>{}</fieldset>{}\
         <fieldset><legend>In by (none ticked: any)</legend>{}</fieldset>\
         <fieldset><legend>Out by (none ticked: any)</legend>{}</fieldset>\
         <fieldset><legend>People</legend>{}</fieldset>\
         <fieldset><legend>Groups</legend>{}</fieldset>\
         <label class=\"check\"><input type=\"checkbox\" name=\"welcome_email_required\"{}> \
         Email each new person the doors</label><button>{}</button></form>",
        if access.is_some() {
            "Change the access"
        } else {
            "Grant access"
        },
        hidden("csrf", &session.csrf),
        input(
            "name",
            "Name",
            "text",
            access.map_or("", |a| a.name.as_str()),
            "required"
        ),
        if kind == AccessKind::Permanent {
            " selected"
        } else {
            ""
        },
        if kind == AccessKind::Temporary {
            " selected"
        } else {
            ""
        },
        input(
            "valid_from",
            &format!("From ({}, blank: now)", ctx.org.time_zone.name()),
            "datetime-local",
            &local(access.and_then(|a| a.valid_from)),
            ""
        ),
        input(
            "valid_to",
            "Until (required for temporary)",
            "datetime-local",
            &local(access.and_then(|a| a.valid_to)),
            ""
        ),
        boxes("door", &door_items, &door_ids),
        if mixed {
            "<p class=\"hint\">The doors of this access differ in how they open; saving gives \
             every ticked door the types below. The API sets them door by door.</p>"
        } else {
            ""
        },
        type_boxes("in", in_types),
        type_boxes("out", out_types),
        boxes("user", &people, &user_ids),
        boxes("group", &group_items, &group_ids),
        tick(access.is_some_and(|a| a.welcome_email_required)),
        if access.is_some() { "Save" } else { "Grant" },
    ))
}

/// One access, to change.
pub(super) async fn access_html(
    state: &AppState,
    ctx: &OrgCtx,
    session: &Session,
    id: Uuid,
    top: &str,
) -> Result<String, app::Error> {
    let slug = ctx.org.slug.as_str();
    let access = app::accesses::get(state, ctx, AccessId(id)).await?;
    let mut body = format!(
        "{top}<section><dl><dt>Status</dt><dd>{} · {}</dd><dt>Created</dt><dd>{}</dd></dl>\
         </section>",
        access.kind.as_str(),
        access.status.as_str(),
        access.created_at.format("%Y-%m-%d %H:%M UTC"),
    );
    if ctx.require(Area::Delegation).is_ok() && access.status != AccessStatus::Deleted {
        let action = format!("/admin/{slug}/accesses/{id}");
        body.push_str(&access_form(state, ctx, session, &action, Some(&access)).await?);
    }
    Ok(page_with_nav(&access.name, &nav(ctx, "accesses"), &body))
}

/// What the access form says, for creating and for changing.
fn access_body(
    ctx: &OrgCtx,
    form: &Fields,
    before: Option<&Access>,
) -> Result<AccessBody, ValidationError> {
    let in_types = checked_types(form, "in");
    let out_types = checked_types(form, "out");
    let kept = |door: Uuid| {
        before
            .and_then(|a| a.doors.iter().find(|d| d.door_id.0 == door))
            .is_some_and(|d| d.lock_unlock_enabled)
    };
    Ok(AccessBody {
        id: None,
        name: field(form, "name").to_owned(),
        kind: AccessKind::parse(field(form, "kind")),
        valid_from: local_time(ctx, form, "valid_from")?,
        valid_to: local_time(ctx, form, "valid_to")?,
        schedule_id: optional(form, "schedule_id").and_then(|s| s.parse().ok()),
        doors: checked(form, "door")
            .into_iter()
            .map(|door| AccessDoor {
                door_id: door.into(),
                lock_unlock_enabled: kept(door),
                in_auth_types: in_types.clone(),
                out_auth_types: out_types.clone(),
            })
            .collect(),
        users: checked(form, "user"),
        groups: checked(form, "group"),
        preferences: before.map(|a| a.preferences.clone()).unwrap_or_default(),
        description: before.map(|a| a.description.clone()).unwrap_or_default(),
        welcome_email_required: form.contains_key("welcome_email_required"),
    })
}

/// A `datetime-local` value, read in the organization's time zone.
pub(super) fn local_time(
    ctx: &OrgCtx,
    form: &Fields,
    name: &'static str,
) -> Result<Option<chrono::DateTime<Utc>>, ValidationError> {
    let Some(text) = optional(form, name) else {
        return Ok(None);
    };
    let bad = || {
        ValidationError::new(
            name,
            "invalid_time",
            format!("{name} must be a date and time"),
        )
    };
    let naive = NaiveDateTime::parse_from_str(&text, "%Y-%m-%dT%H:%M").map_err(|_| bad())?;
    let at = ctx
        .org
        .time_zone
        .tz()
        .from_local_datetime(&naive)
        .earliest()
        .ok_or_else(bad)?;
    Ok(Some(at.with_timezone(&Utc)))
}

pub async fn create_access(
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
        Page::Accesses,
        |ctx| async move {
            let body = access_body(&ctx, form, None)?;
            app::accesses::create(state, &ctx, body).await.map(|_| ())
        },
    )
    .await
}

/// Saves the edit form: everything the form shows replaces what the access had.
pub async fn update_access(
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
        Page::Access(id),
        |ctx| async move {
            let before = app::accesses::get(state, &ctx, AccessId(id)).await?;
            let body = access_body(&ctx, form, Some(&before))?;
            let req = UpdateAccess {
                name: Some(body.name),
                kind: body.kind,
                valid_from: Some(body.valid_from),
                valid_to: Some(body.valid_to),
                schedule_id: Some(body.schedule_id),
                doors: Some(body.doors),
                users: Some(body.users),
                groups: Some(body.groups),
                preferences: None,
                description: None,
                welcome_email_required: Some(body.welcome_email_required),
            };
            app::accesses::update(state, &ctx, AccessId(id), req)
                .await
                .map(|_| ())
        },
    )
    .await
}

pub async fn delete_access(
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
        Page::Accesses,
        |ctx| async move {
            app::accesses::delete(state, &ctx, AccessId(id))
                .await
                .map(|_| ())
        },
    )
    .await
}
