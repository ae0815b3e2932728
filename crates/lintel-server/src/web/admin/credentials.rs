//! Cards and PIN codes (`delegation`): give a member a card, issue a PIN code (shown once,
//! on the answer to the form), revoke either.

use axum::Router;
use axum::response::Response;
use axum::routing::{get, post};
use lintel_domain::{Area, CardId, CredentialStatus, PinId};
use uuid::Uuid;

use super::Section;
use super::kit::{
    Fields, Posted, credential_tabs, ending, field, list_page, listing, max_page, more_link, nav,
    optional, screen,
};
use crate::app::credentials::{CreateCard, CreatePin, CredentialQuery};
use crate::app::members::MemberQuery;
use crate::app::{self, AppState, OrgCtx};
use crate::web::Session;
use crate::web::html::{confirm_form, copy_button, escape, hidden, input, page_with_nav};

pub(super) const SECTION: Section = Section {
    path: "credentials",
    label: "Credentials",
    may_see: |ctx| ctx.require(Area::Delegation).is_ok(),
};

screen!(Credentials at "credentials" by first_page);

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/{slug}/credentials", get(credentials))
        .route("/admin/{slug}/cards", post(create_card))
        .route("/admin/{slug}/cards/{id}/revoke", post(revoke_card))
        .route("/admin/{slug}/pins", post(create_pin))
        .route("/admin/{slug}/pins/{id}/revoke", post(revoke_pin))
}

/// `<option>`s of `items`, in their order.
fn options(items: &[(Uuid, String)]) -> String {
    items
        .iter()
        .map(|(id, name)| format!("<option value=\"{id}\">{}</option>", escape(name)))
        .collect()
}

fn revoked_text(status: CredentialStatus, at: Option<chrono::DateTime<chrono::Utc>>) -> String {
    match (status, at) {
        (CredentialStatus::Revoked, Some(at)) => format!("revoked {}", at.format("%Y-%m-%d")),
        (status, _) => status.as_str().to_owned(),
    }
}

/// The page with both lists from their start, for the forms' answers.
async fn first_page(
    state: &AppState,
    ctx: &OrgCtx,
    session: &Session,
    top: &str,
) -> Result<String, app::Error> {
    credentials_html(state, ctx, session, &Fields::new(), top).await
}

// The page, each list from where the query (`asked`) says: `cards_after`, `pins_after`.
listing!(credentials by credentials_html);

async fn credentials_html(
    state: &AppState,
    ctx: &OrgCtx,
    session: &Session,
    asked: &Fields,
    top: &str,
) -> Result<String, app::Error> {
    let slug = ctx.org.slug.as_str();
    let query = CredentialQuery::default();
    let cards =
        app::credentials::list_cards(state, ctx, &query, &list_page(asked, "cards_after")).await?;
    let pins =
        app::credentials::list_pins(state, ctx, &query, &list_page(asked, "pins_after")).await?;
    let here = format!("/admin/{slug}/credentials");
    // The forms' member lists: the first 200 members, or those a search finds.
    let member_q = optional(asked, "member_q");
    let found = MemberQuery {
        q: member_q.clone(),
        ..MemberQuery::default()
    };
    let members = app::members::list(state, ctx, &found, &max_page()).await?;
    let sites = app::sites::list(state, ctx, &max_page()).await?;
    let mut people: Vec<(Uuid, String)> = members
        .items
        .iter()
        .map(|m| (m.id, m.display_name()))
        .collect();
    let choices = options(&people);
    // The rows' owners that the lists above leave out, each read once.
    for owner in cards
        .items
        .iter()
        .map(|c| c.member_id)
        .chain(pins.items.iter().map(|p| p.member_id))
    {
        if !people.iter().any(|(id, _)| *id == owner.0) {
            let member = app::members::get(state, ctx, owner).await?;
            people.push((owner.0, member.display_name()));
        }
    }
    let site_items: Vec<(Uuid, String)> = sites
        .items
        .iter()
        .map(|s| (s.id.0, s.name.clone()))
        .collect();
    let name_of = |items: &[(Uuid, String)], id: Uuid| {
        items
            .iter()
            .find(|(i, _)| *i == id)
            .map_or_else(|| id.to_string(), |(_, n)| n.clone())
    };
    let revoke = |kind: &str, id: Uuid, status: CredentialStatus| {
        if status == CredentialStatus::Active {
            confirm_form(
                &format!("/admin/{slug}/{kind}/{id}/revoke"),
                &session.csrf,
                "Revoke",
                "It stops opening doors at once. This cannot be undone.",
            )
        } else {
            String::new()
        }
    };
    let mut card_rows = String::new();
    for c in &cards.items {
        card_rows.push_str(&format!(
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             </tr>",
            escape(&name_of(&people, c.member_id.0)),
            escape(&c.number),
            c.facility_code.map(|fc| fc.to_string()).unwrap_or_default(),
            escape(&c.description),
            revoked_text(c.status, c.revoked_at),
            revoke("cards", c.id.0, c.status),
        ));
    }
    let mut pin_rows = String::new();
    for p in &pins.items {
        pin_rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{} digits</td><td>{}</td><td>{}</td></tr>",
            escape(&name_of(&people, p.member_id.0)),
            escape(&name_of(&site_items, p.site_id.0)),
            p.length,
            revoked_text(p.status, p.revoked_at),
            revoke("pins", p.id.0, p.status),
        ));
    }
    let empty = |none: bool, what: &str| {
        if none {
            format!("<p>No {what} yet.</p>")
        } else {
            String::new()
        }
    };
    let body = format!(
        "{top}<section><h2>Cards</h2><div class=\"scroll\" tabindex=\"0\"><table><thead><tr><th>Member</th><th>Number</th>\
         <th>Facility code</th><th>Note</th><th>State</th><th></th></tr></thead><tbody>{card_rows}\
         </tbody></table></div>{}</section>\
         <form class=\"filters\" method=\"get\" action=\"{here}\"><div class=\"grow\">\
         <label for=\"member_q\">Find a member for the forms below (name or email)</label>\
         <input id=\"member_q\" name=\"member_q\" type=\"search\" value=\"{}\"></div>\
         <button class=\"secondary\">Find</button></form>{}\
         <form class=\"card\" method=\"post\" action=\"/admin/{slug}/cards\"><h2>Give a card</h2>{}\
         <label for=\"card_member\">Member</label><select id=\"card_member\" name=\"member_id\" \
         required>{}</select>{}{}{}<button>Give card</button></form>\
         <section><h2>PIN codes</h2><p class=\"hint\">Nobody can read a PIN code here: it is shown \
         once to whoever issues it, and afterwards only to its owner, in their app.</p><div class=\"scroll\" tabindex=\"0\"><table>\
         <thead><tr><th>Member</th><th>Site</th><th>Code</th><th>State</th><th></th></tr></thead>\
         <tbody>{pin_rows}</tbody></table></div>{}</section>\
         <form class=\"card\" method=\"post\" action=\"/admin/{slug}/pins\"><h2>Issue a PIN code\
         </h2>{}<label for=\"pin_member\">Member</label><select id=\"pin_member\" name=\"member_id\" \
         required>{}</select><label for=\"pin_site\">Site</label><select id=\"pin_site\" \
         name=\"site_id\" required>{}</select>{}<p class=\"hint\">Leave the code blank to have a \
         random one made: six digits, or more when the site has many codes.</p>\
         <button>Issue code</button></form>",
        empty(cards.items.is_empty(), "cards")
            + &more_link(&here, asked, "cards_after", cards.next_cursor.as_deref()),
        escape(member_q.as_deref().unwrap_or_default()),
        match (
            &member_q,
            members.next_cursor.is_some(),
            members.items.is_empty()
        ) {
            (Some(_), _, true) => "<p class=\"hint\" role=\"status\">No member matches.</p>",
            (_, true, _) =>
                "<p class=\"hint\">The member lists hold the first 200 members: \
                             find the one you mean by name or email.</p>",
            _ => "",
        },
        hidden("csrf", &session.csrf),
        choices,
        input(
            "number",
            "Card number",
            "text",
            "",
            "required inputmode=\"numeric\" autocomplete=\"off\""
        ),
        input(
            "facility_code",
            "Facility code (blank: none)",
            "number",
            "",
            "min=\"0\" max=\"65535\""
        ),
        input("description", "Note", "text", "", ""),
        empty(pins.items.is_empty(), "PIN codes")
            + &more_link(&here, asked, "pins_after", pins.next_cursor.as_deref()),
        hidden("csrf", &session.csrf),
        choices,
        options(&site_items),
        input(
            "code",
            "Code (blank: make one)",
            "text",
            "",
            "inputmode=\"numeric\" autocomplete=\"off\""
        ),
    );
    Ok(page_with_nav(
        "Cards & PINs",
        &nav(ctx, "credentials"),
        &format!("{}{body}", credential_tabs(ctx, "credentials")),
    ))
}

fn parsed_id(form: &Fields, name: &str) -> Uuid {
    field(form, name).parse().unwrap_or_default()
}

pub async fn create_card(post: Posted) -> Response {
    let (state, form) = (&post.state, &post.form);
    post.act(Credentials, |ctx| async move {
        let facility_code = match optional(form, "facility_code") {
            None => None,
            Some(fc) => Some(fc.parse().map_err(|_| {
                lintel_domain::ValidationError::new(
                    "facility_code",
                    "invalid_facility_code",
                    "facility_code must be a number from 0 to 65535",
                )
            })?),
        };
        let req = CreateCard {
            member_id: parsed_id(form, "member_id"),
            number: field(form, "number").to_owned(),
            facility_code,
            description: optional(form, "description"),
        };
        app::credentials::create_card(state, &ctx, req)
            .await
            .map(|_| ())
    })
    .await
}

ending!(revoke_card: app::credentials::revoke_card, CardId, back to Credentials);

/// Issues a PIN code and shows it on the answer itself: nowhere else will an admin see it.
pub async fn create_pin(post: Posted) -> Response {
    let (state, form) = (&post.state, &post.form);
    post.show_once(Credentials, |ctx| async move {
        let req = CreatePin {
            member_id: parsed_id(form, "member_id"),
            site_id: parsed_id(form, "site_id"),
            code: optional(form, "code"),
            length: None,
        };
        let issued = app::credentials::create_pin(state, &ctx, req).await?;
        Ok(format!(
            "<section class=\"notice\" role=\"status\"><h2>Tell the member their code</h2>\
             <p><output id=\"pin_code\" aria-label=\"The new PIN code\"><code class=\"pin\">{}\
             </code></output> {}</p><p class=\"hint\">This page is the only place you will \
             see it; the member can read it in their app at any time.</p></section>",
            escape(&issued.code),
            copy_button("pin_code")
        ))
    })
    .await
}

ending!(revoke_pin: app::credentials::revoke_pin, PinId, back to Credentials);
