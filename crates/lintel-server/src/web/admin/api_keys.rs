//! The organization's API keys: make one (its secret shown once), revoke.

use axum::Router;
use axum::response::Response;
use axum::routing::{get, post};
use lintel_domain::{ApiKeyId, Area, Areas};

use super::Section;
use super::kit::{
    Posted, area_boxes, areas_text, checked_areas, ending, field, get_page, max_page, nav,
    optional, screen, secret_notice,
};
use crate::app::api_keys::CreateApiKey;
use crate::app::{self, AppState, OrgCtx};
use crate::web::Session;
use crate::web::html::{confirm_form, escape, hidden, input, page_with_nav};

pub(super) const SECTION: Section = Section {
    path: "api-keys",
    label: "API keys",
    may_see: |ctx| ctx.require(Area::Api).is_ok(),
};

screen!(ApiKeys at "api-keys" by keys_html);

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/{slug}/api-keys",
            get(get_page::<ApiKeys>).post(create_key),
        )
        .route("/admin/{slug}/api-keys/{id}/revoke", post(revoke_key))
}

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
            confirm_form(
                &format!("/admin/{slug}/api-keys/{}/revoke", k.id),
                &session.csrf,
                "Revoke",
                "Programs using this key are refused at once. This cannot be undone.",
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
        "{top}<section><div class=\"scroll\" tabindex=\"0\"><table><thead><tr><th>Name</th><th>Key</th><th>Areas</th><th>State</th>\
         <th>Last used</th><th></th></tr></thead><tbody>{rows}</tbody></table></div>{}</section>\
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
pub async fn create_key(post: Posted) -> Response {
    let (state, form) = (&post.state, &post.form);
    post.show_once(ApiKeys, |ctx| async move {
        let expires_at = match optional(form, "expires_in_days").map(|d| d.parse::<u16>()) {
            None => None,
            Some(Ok(days)) if days > 0 => Some(ctx.now + chrono::Duration::days(i64::from(days))),
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
        Ok(secret_notice(
            "key",
            "The new key",
            &created.secret,
            "Use it as <code>Authorization: Bearer …</code>.",
        ))
    })
    .await
}

ending!(revoke_key: app::api_keys::revoke, ApiKeyId, back to ApiKeys);
