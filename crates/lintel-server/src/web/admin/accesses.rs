//! Accesses: doors, how they open each way, who, and when.

use axum::Router;
use axum::response::Response;
use chrono::Utc;
use lintel_domain::decision::AuthType;
use lintel_domain::{Access, AccessDoor, AccessId, AccessKind, Area, ValidationError};
use uuid::Uuid;

use super::Section;
use super::kit::{
    Fields, Posted, ending, field, local_time, max_page, nav, object_routes, optional, screen,
};
use crate::app::accesses::{AccessBody, UpdateAccess};
use crate::app::members::MemberQuery;
use crate::app::{self, AppState, OrgCtx};
use crate::web::Session;
use crate::web::html::{confirm_form, escape, hidden, input, page_with_nav};
use lintel_store::DoorFilter;

pub(super) const SECTION: Section = Section {
    path: "accesses",
    label: "Accesses",
    may_see: |ctx| ctx.require_admin().is_ok(),
};

screen!(Accesses at "accesses" by accesses_html);
screen!(AccessPage(id) at "accesses" by access_html);

pub(super) fn routes() -> Router<AppState> {
    object_routes::<Accesses, AccessPage, _, _, _, _, _, _>(
        "accesses",
        create_access,
        update_access,
        delete_access,
    )
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
    let doors = app::doors::list(state, ctx, DoorFilter::default(), &max_page()).await?;
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
                confirm_form(
                    &format!("/admin/{slug}/accesses/{}/delete", a.id),
                    &session.csrf,
                    "Delete",
                    &format!(
                        "Delete the access {}? The people and groups it covers can no longer \
                         open its doors through it.",
                        a.name
                    ),
                )
            } else {
                String::new()
            }
        ));
    }
    let mut body = format!(
        "{top}<section><div class=\"scroll\" tabindex=\"0\"><table><thead><tr><th>Access</th><th>Kind</th><th>Doors</th>\
         <th>When</th><th>Who</th><th></th></tr></thead><tbody>{rows}</tbody></table></div>{}</section>",
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
    let doors = app::doors::list(state, ctx, DoorFilter::default(), &max_page()).await?;
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
    // The controllers it waits for, by name, each linked to its page.
    let mut waiting = Vec::new();
    for id in &access.waiting_for {
        let name = match app::controllers::get(state, ctx, *id).await {
            Ok(c) => escape(&c.name),
            Err(_) => id.to_string(),
        };
        waiting.push(format!(
            "<a href=\"/admin/{slug}/controllers/{id}\">{name}</a>"
        ));
    }
    let waiting = if waiting.is_empty() {
        String::new()
    } else {
        format!(
            "<dt>Waiting for</dt><dd>{} (until each holds this change)</dd>",
            waiting.join(", ")
        )
    };
    let mut body = format!(
        "{top}<section><dl><dt>Status</dt><dd>{} · {}</dd>{waiting}<dt>Created</dt><dd>{}</dd></dl>\
         </section>",
        access.kind.as_str(),
        access.status.as_str(),
        access.created_at.format("%Y-%m-%d %H:%M UTC"),
    );
    if ctx.require(Area::Delegation).is_ok() && access.status.grants() {
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

pub async fn create_access(post: Posted) -> Response {
    let (state, form) = (&post.state, &post.form);
    post.act(Accesses, |ctx| async move {
        let body = access_body(&ctx, form, None)?;
        app::accesses::create(state, &ctx, body).await.map(|_| ())
    })
    .await
}

/// Saves the edit form: everything the form shows replaces what the access had.
pub async fn update_access(post: Posted) -> Response {
    let (state, form, id) = (&post.state, &post.form, post.id);
    post.act(AccessPage(id), |ctx| async move {
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
    })
    .await
}

ending!(delete_access: app::accesses::delete, AccessId, back to Accesses);
