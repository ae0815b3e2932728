//! Groups of members, which accesses and links name.

use axum::Router;
use axum::response::Response;
use lintel_domain::{Area, GroupId};
use uuid::Uuid;

use super::Section;
use super::kit::{Posted, ending, field, max_page, nav, object_routes, read_only, screen};
use crate::app::groups::CreateGroup;
use crate::app::{self, AppState, OrgCtx};
use crate::web::Session;
use crate::web::html::{confirm_form, escape, hidden, input, page_with_nav, save_button};

pub(super) const SECTION: Section = Section {
    path: "groups",
    label: "Groups",
    may_see: |ctx| ctx.require_admin().is_ok(),
};

screen!(Groups at "groups" by groups_html);
screen!(Group(id) at "groups" by group_html);

pub(super) fn routes() -> Router<AppState> {
    object_routes::<Groups, Group, _, _, _, _, _, _>(
        "groups",
        create_group,
        update_group,
        delete_group,
    )
}

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
                confirm_form(
                    &format!("/admin/{slug}/groups/{}/delete", g.id),
                    &session.csrf,
                    "Delete",
                    &format!(
                        "Delete the group {}? Its members lose the accesses given through it.",
                        g.name
                    ),
                )
            } else {
                String::new()
            }
        ));
    }
    let mut body = format!(
        "{top}<section><div class=\"scroll\" tabindex=\"0\"><table><thead><tr><th>Group</th><th>Description</th><th></th></tr>\
         </thead><tbody>{rows}</tbody></table></div>{}</section>",
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

pub async fn create_group(post: Posted) -> Response {
    let (state, form) = (&post.state, &post.form);
    post.act(Groups, |ctx| async move {
        let req = CreateGroup {
            name: field(form, "name").to_owned(),
            description: field(form, "description").to_owned(),
        };
        app::groups::create(state, &ctx, req).await.map(|_| ())
    })
    .await
}

ending!(delete_group: app::groups::delete, GroupId, back to Groups);

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
    let members = if (super::members::SECTION.may_see)(ctx) {
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

pub async fn update_group(post: Posted) -> Response {
    let (state, form, id) = (&post.state, &post.form, post.id);
    post.act(Group(id), |ctx| async move {
        let change = crate::app::groups::UpdateGroup {
            name: Some(field(form, "name").to_owned()),
            description: Some(field(form, "description").to_owned()),
        };
        app::groups::update(state, &ctx, GroupId(id), change)
            .await
            .map(|_| ())
    })
    .await
}
