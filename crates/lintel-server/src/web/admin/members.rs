//! Members and invitations: invite, change areas and groups, suspend, remove.

use axum::Router;
use axum::response::Response;
use axum::routing::{get, post};
use lintel_domain::{Area, Areas, MembershipId, MembershipStatus};
use uuid::Uuid;

use super::Section;
use super::kit::{
    Fields, Posted, Screen, area_boxes, areas_text, button_form, checked_areas, ending, field,
    get_page, list_page, listing, max_page, more_link, nav, optional, screen,
};
use crate::app::members::{Invite, MemberQuery, UpdateMember};
use crate::app::{self, AppState, OrgCtx};
use crate::web::Session;
use crate::web::html::{confirm_form, escape, hidden, input, page_with_nav};

pub(super) const SECTION: Section = Section {
    path: "members",
    label: "Members",
    may_see: |ctx| ctx.require_any(&[Area::Members, Area::Delegation]).is_ok(),
};

/// The members list, unfiltered (a form's page to return to; `members` shows it filtered).
pub(crate) struct Members;

impl Screen for Members {
    fn at(_: Option<Uuid>) -> Option<Self> {
        Some(Members)
    }

    fn path(&self, slug: &str) -> String {
        format!("/admin/{slug}/members")
    }

    async fn render(
        &self,
        state: &AppState,
        ctx: &OrgCtx,
        session: &Session,
        top: &str,
    ) -> Result<String, app::Error> {
        members_html(state, ctx, session, &Fields::new(), top).await
    }
}

screen!(Member(id) at "members" by member_html);

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/{slug}/members", get(members))
        .route("/admin/{slug}/invitations", post(invite))
        .route(
            "/admin/{slug}/members/{id}",
            get(get_page::<Member>).post(update_member),
        )
        .route("/admin/{slug}/members/{id}/status", post(member_status))
        .route("/admin/{slug}/members/{id}/remove", post(remove_member))
        .route("/admin/{slug}/invitations/{id}/resend", post(resend))
}

fn checked_groups(form: &Fields) -> Vec<Uuid> {
    form.keys()
        .filter_map(|k| k.strip_prefix("group_"))
        .filter_map(|id| id.parse().ok())
        .collect()
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

async fn members_html(
    state: &AppState,
    ctx: &OrgCtx,
    session: &Session,
    asked: &Fields,
    top: &str,
) -> Result<String, app::Error> {
    let slug = ctx.org.slug.as_str();
    let query = MemberQuery {
        status: optional(asked, "status"),
        q: optional(asked, "q"),
        group: optional(asked, "group").and_then(|g| g.parse().ok()),
        ..MemberQuery::default()
    };
    let list = app::members::list(state, ctx, &query, &list_page(asked, "after")).await?;
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
        "{top}<form class=\"card filters\" method=\"get\" action=\"/admin/{slug}/members\">\
         <div class=\"grow\">{}</div><div><label for=\"status\">Status</label><select \
         id=\"status\" name=\"status\">{}{}{}{}</select></div><button class=\"secondary\">\
         Search</button></form>\
         <section><div class=\"scroll\" tabindex=\"0\"><table><thead><tr><th>Name</th><th>Contact</th><th>Status</th>\
         <th>Admin areas</th></tr></thead><tbody>{rows}</tbody></table></div>{}{}</section>",
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
        more_link(
            &format!("/admin/{slug}/members"),
            asked,
            "after",
            list.next_cursor.as_deref()
        ),
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

listing!(members by members_html);

pub async fn invite(post: Posted) -> Response {
    let (state, form) = (&post.state, &post.form);
    post.act(Members, |ctx| async move {
        let req = Invite {
            email: optional(form, "email"),
            phone: optional(form, "phone"),
            areas: checked_areas(form),
            groups: checked_groups(form),
        };
        app::members::invite(state, &ctx, req).await.map(|_| ())
    })
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
        let (remove, warning) = if m.status == MembershipStatus::Invited {
            (
                "Revoke invitation",
                "The invitation's link stops working.".to_owned(),
            )
        } else {
            (
                "Remove from organization",
                format!(
                    "{} can no longer open doors here: their cards, PIN codes and links stop \
                     working.",
                    m.display_name()
                ),
            )
        };
        actions.push_str(&confirm_form(
            &format!("/admin/{slug}/members/{id}/remove"),
            csrf,
            remove,
            &warning,
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

pub async fn update_member(post: Posted) -> Response {
    let (state, form, id) = (&post.state, &post.form, post.id);
    post.act(Member(id), |ctx| async move {
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
    })
    .await
}

pub async fn member_status(post: Posted) -> Response {
    let (state, form, id) = (&post.state, &post.form, post.id);
    post.act(Member(id), |ctx| async move {
        let change = UpdateMember {
            status: Some(field(form, "status").to_owned()),
            ..UpdateMember::default()
        };
        app::members::update(state, &ctx, MembershipId(id), change)
            .await
            .map(|_| ())
    })
    .await
}

ending!(remove_member: app::members::remove, MembershipId, back to Members);

pub async fn resend(post: Posted) -> Response {
    let (state, id) = (&post.state, post.id);
    post.act(Member(id), |ctx| async move {
        app::members::resend(state, &ctx, MembershipId(id))
            .await
            .map(|_| ())
    })
    .await
}
