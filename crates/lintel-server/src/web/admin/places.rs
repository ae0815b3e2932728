//! Sites and their doors: create, change, delete, remote unlock.

use axum::Router;
use axum::response::Response;
use axum::routing::{get, post};
use lintel_domain::{Area, DoorId, SiteId};
use uuid::Uuid;

use super::Section;
use super::kit::{
    Posted, button_form, ending, field, get_page, max_page, nav, number, optional, read_only,
    screen,
};
use crate::app::doors::CreateDoor;
use crate::app::sites::CreateSite;
use crate::app::{self, AppState, OrgCtx};
use crate::web::Session;
use crate::web::html::{confirm_form, escape, hidden, input, input_as, page_with_nav, save_button};
use lintel_store::DoorFilter;

pub(super) const SECTION: Section = Section {
    path: "places",
    label: "Sites & doors",
    may_see: |ctx| ctx.require_admin().is_ok(),
};

screen!(Places at "places" by places_html);
screen!(Site(id) at "sites" by site_html);
screen!(Door(id) at "doors" by door_html);

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/{slug}/places", get(get_page::<Places>))
        .route("/admin/{slug}/sites", post(create_site))
        .route(
            "/admin/{slug}/sites/{id}",
            get(get_page::<Site>).post(update_site),
        )
        .route("/admin/{slug}/sites/{id}/delete", post(delete_site))
        .route("/admin/{slug}/doors", post(create_door))
        .route(
            "/admin/{slug}/doors/{id}",
            get(get_page::<Door>).post(update_door),
        )
        .route("/admin/{slug}/doors/{id}/delete", post(delete_door))
        .route(
            "/admin/{slug}/doors/{id}/remote-unlock",
            post(remote_unlock),
        )
}

async fn places_html(
    state: &AppState,
    ctx: &OrgCtx,
    session: &Session,
    top: &str,
) -> Result<String, app::Error> {
    let slug = ctx.org.slug.as_str();
    let csrf = &session.csrf;
    let editable = ctx.require(Area::Doors).is_ok();
    let sites = app::sites::list(state, ctx, &max_page()).await?;
    let doors = app::doors::list(state, ctx, DoorFilter::default(), &max_page()).await?;
    let mut body = String::from(top);
    for site in &sites.items {
        body.push_str(&format!(
            "<section><h2><a href=\"/admin/{slug}/sites/{}\">{}</a></h2><p class=\"hint\">{} · {}\
             </p><div class=\"scroll\" tabindex=\"0\"><table><thead><tr><th>Door</th><th>Kind</th><th>Restrictions</th><th></th></tr>\
             </thead><tbody>",
            site.id,
            escape(&site.name),
            escape(&site.address),
            site.time_zone.name()
        ));
        for door in doors.items.iter().filter(|d| d.site_id == site.id) {
            let mut rules = Vec::new();
            if door.geofence_required {
                rules.push("geofence");
            }
            if door.reader_required {
                rules.push("reader");
            }
            body.push_str(&format!(
                "<tr><td><a href=\"/admin/{slug}/doors/{}\">{}</a></td><td>{}</td><td>{}</td>\
                 <td>{}</td></tr>",
                door.id,
                escape(&door.name),
                door.kind.as_str(),
                if rules.is_empty() {
                    "none".into()
                } else {
                    rules.join(", ")
                },
                if editable {
                    confirm_form(
                        &format!("/admin/{slug}/doors/{}/delete", door.id),
                        csrf,
                        "Delete",
                        &format!(
                            "Delete the door {}? No access opens it any more; its history stays \
                             in the log.",
                            door.name
                        ),
                    )
                } else {
                    String::new()
                }
            ));
        }
        body.push_str("</tbody></table></div>");
        if editable {
            body.push_str(&confirm_form(
                &format!("/admin/{slug}/sites/{}/delete", site.id),
                csrf,
                "Delete site",
                &format!(
                    "Delete the site {}? Only a site without doors or controllers can go.",
                    site.name
                ),
            ));
        }
        body.push_str("</section>");
    }
    if sites.items.is_empty() {
        body.push_str("<section><p>No sites yet.</p></section>");
    }
    if editable {
        body.push_str(&format!(
            "<form class=\"card\" method=\"post\" action=\"/admin/{slug}/sites\"><h2>Add a site\
             </h2>{}{}{}{}<button>Add site</button></form>",
            hidden("csrf", csrf),
            input("name", "Name", "text", "", "required"),
            input("address", "Address", "text", "", ""),
            input(
                "time_zone",
                "Time zone (IANA, e.g. Europe/Stockholm)",
                "text",
                ctx.org.time_zone.name(),
                ""
            ),
        ));
        if !sites.items.is_empty() {
            let options: String = sites
                .items
                .iter()
                .map(|s| format!("<option value=\"{}\">{}</option>", s.id, escape(&s.name)))
                .collect();
            body.push_str(&format!(
                "<form class=\"card\" method=\"post\" action=\"/admin/{slug}/doors\"><h2>Add a \
                 door</h2>{}<label for=\"site_id\">Site</label><select id=\"site_id\" \
                 name=\"site_id\">{options}</select>{}<label for=\"kind\">Kind</label>\
                 <select id=\"kind\" name=\"kind\"><option>door</option><option>gate</option>\
                 <option>locker</option><option value=\"storage_unit\">storage unit</option>\
                 <option>relay</option></select>\
                 <label class=\"check\"><input type=\"checkbox\" name=\"geofence_required\"> \
                 Phones must be inside the site's geofence</label>\
                 <label class=\"check\"><input type=\"checkbox\" name=\"reader_required\"> \
                 Phones must be at the door's reader</label><button>Add door</button></form>",
                hidden("csrf", csrf),
                input_as("door_name", "name", "Name", "text", "", "required"),
            ));
        }
    }
    Ok(page_with_nav("Sites & doors", &nav(ctx, "places"), &body))
}

pub async fn create_site(post: Posted) -> Response {
    let (state, form) = (&post.state, &post.form);
    post.act(Places, |ctx| async move {
        let req = CreateSite {
            name: field(form, "name").to_owned(),
            address: field(form, "address").to_owned(),
            time_zone: optional(form, "time_zone"),
            geofence: None,
            offline_rules_max_days: None,
        };
        app::sites::create(state, &ctx, req).await.map(|_| ())
    })
    .await
}

ending!(delete_site: app::sites::delete, SiteId, back to Places);

pub async fn create_door(post: Posted) -> Response {
    let (state, form) = (&post.state, &post.form);
    post.act(Places, |ctx| async move {
        let invalid = |field: &'static str, what: &str| {
            app::Error::from(lintel_domain::ValidationError::new(
                field,
                "invalid",
                format!("choose a {what}"),
            ))
        };
        let site_id = field(form, "site_id")
            .parse()
            .map_err(|_| invalid("site_id", "site"))?;
        let kind = serde_json::from_value(serde_json::json!(field(form, "kind")))
            .map_err(|_| invalid("kind", "kind of door"))?;
        let req = CreateDoor {
            site_id,
            name: field(form, "name").to_owned(),
            kind: Some(kind),
            geofence_required: form.contains_key("geofence_required"),
            reader_required: form.contains_key("reader_required"),
            unlock_duration_secs: None,
            description: String::new(),
            preferences: Default::default(),
            controller_id: None,
        };
        app::doors::create(state, &ctx, req).await.map(|_| ())
    })
    .await
}

ending!(delete_door: app::doors::delete, DoorId, back to Places);

async fn site_html(
    state: &AppState,
    ctx: &OrgCtx,
    session: &Session,
    id: Uuid,
    top: &str,
) -> Result<String, app::Error> {
    let slug = ctx.org.slug.as_str();
    let site = app::sites::get(state, ctx, SiteId(id)).await?;
    let lock = read_only(ctx, Area::Doors);
    let fence = site.geofence;
    let coordinate = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    let body = format!(
        "{top}<form class=\"card\" method=\"post\" action=\"/admin/{slug}/sites/{id}\">{}{}{}{}\
         <fieldset><legend>Geofence (phones must be inside it where a door requires)</legend>{}{}{}\
         <p class=\"hint\">Leave all three blank for none.</p></fieldset>{}<p class=\"hint\">\
         Its controllers keep deciding this many days without hearing from Lintel; then they \
         open nothing until they reconnect, since what was revoked meanwhile is unknown to \
         them.</p>{}</form>",
        hidden("csrf", &session.csrf),
        input(
            "name",
            "Name",
            "text",
            &site.name,
            &format!("required {lock}")
        ),
        input("address", "Address", "text", &site.address, lock),
        input(
            "time_zone",
            "Time zone",
            "text",
            site.time_zone.name(),
            &format!("required {lock}")
        ),
        input(
            "latitude",
            "Latitude",
            "text",
            &coordinate(fence.map(|f| f.latitude)),
            lock
        ),
        input(
            "longitude",
            "Longitude",
            "text",
            &coordinate(fence.map(|f| f.longitude)),
            lock
        ),
        input(
            "radius_m",
            "Radius (metres)",
            "text",
            &coordinate(fence.map(|f| f.radius_m)),
            lock
        ),
        input(
            "offline_rules_max_days",
            "Days controllers work offline (1 to 365)",
            "number",
            &site.offline_rules_max_days.to_string(),
            &format!("min=\"1\" max=\"365\" {lock}")
        ),
        save_button(lock),
    );
    Ok(page_with_nav(&site.name, &nav(ctx, "places"), &body))
}

pub async fn update_site(post: Posted) -> Response {
    let (state, form, id) = (&post.state, &post.form, post.id);
    post.act(Site(id), |ctx| async move {
        let fence = match (
            number(form, "latitude")?,
            number(form, "longitude")?,
            number(form, "radius_m")?,
        ) {
            (None, None, None) => None,
            (Some(latitude), Some(longitude), Some(radius_m)) => Some(lintel_domain::Geofence {
                latitude,
                longitude,
                radius_m,
            }),
            _ => {
                return Err(lintel_domain::ValidationError::new(
                    "geofence",
                    "incomplete_geofence",
                    "give latitude, longitude and radius together, or none of them",
                )
                .into());
            }
        };
        let change = crate::app::sites::UpdateSite {
            name: Some(field(form, "name").to_owned()),
            address: Some(field(form, "address").to_owned()),
            time_zone: Some(field(form, "time_zone").trim().to_owned()),
            geofence: Some(fence),
            offline_rules_max_days: number(form, "offline_rules_max_days")?,
        };
        app::sites::update(state, &ctx, SiteId(id), change)
            .await
            .map(|_| ())
    })
    .await
}

async fn door_html(
    state: &AppState,
    ctx: &OrgCtx,
    session: &Session,
    id: Uuid,
    top: &str,
) -> Result<String, app::Error> {
    let slug = ctx.org.slug.as_str();
    let door = app::doors::get(state, ctx, DoorId(id)).await?;
    let sites = app::sites::list(state, ctx, &max_page()).await?;
    let lock = read_only(ctx, Area::Doors);
    let options: String = sites
        .items
        .iter()
        .map(|s| {
            let on = if s.id == door.site_id {
                " selected"
            } else {
                ""
            };
            format!(
                "<option value=\"{}\"{on}>{}</option>",
                s.id,
                escape(&s.name)
            )
        })
        .collect();
    let kinds: String = ["door", "gate", "locker", "storage_unit", "relay"]
        .iter()
        .map(|k| {
            let on = if *k == door.kind.as_str() {
                " selected"
            } else {
                ""
            };
            format!("<option value=\"{k}\"{on}>{}</option>", k.replace('_', " "))
        })
        .collect();
    let site_controllers =
        app::controllers::list(state, ctx, Some(door.site_id), &max_page()).await?;
    let controllers: String = site_controllers
        .items
        .iter()
        .map(|c| {
            let on = if Some(c.id) == door.controller_id {
                " selected"
            } else {
                ""
            };
            format!(
                "<option value=\"{}\"{on}>{}</option>",
                c.id,
                escape(&c.name)
            )
        })
        .collect();
    // What its controller holds now, and how long it can go on without Lintel.
    let wired = site_controllers
        .items
        .iter()
        .find(|c| Some(c.id) == door.controller_id)
        .map_or_else(String::new, |c| {
            format!(
                "<p>Its controller <a href=\"/admin/{slug}/controllers/{}\">{}</a>: {}; {}.</p>",
                c.id,
                escape(&c.name),
                super::controllers::state_text(ctx, &c.live),
                super::controllers::offline_text(ctx, &c.live),
            )
        });
    let tick = |on: bool| if on { " checked" } else { "" };
    let body = format!(
        "{top}{wired}<form class=\"card\" method=\"post\" action=\"/admin/{slug}/doors/{id}\">{}{}\
         <label for=\"site_id\">Site</label><select id=\"site_id\" name=\"site_id\" {lock}>\
         {options}</select><label for=\"kind\">Kind</label><select id=\"kind\" name=\"kind\" \
         {lock}>{kinds}</select>\
         <label for=\"controller_id\">Controller</label><select id=\"controller_id\" \
         name=\"controller_id\" {lock}><option value=\"\">none</option>{controllers}</select>{}{}\
         <label class=\"check\"><input type=\"checkbox\" name=\"geofence_required\"{} {lock}> \
         Phones must be inside the site's geofence</label>\
         <label class=\"check\"><input type=\"checkbox\" name=\"reader_required\"{} {lock}> \
         Phones must be at the door's reader</label>{}</form>",
        hidden("csrf", &session.csrf),
        input(
            "name",
            "Name",
            "text",
            &door.name,
            &format!("required {lock}")
        ),
        input(
            "unlock_duration_secs",
            "Unlocked for (seconds)",
            "number",
            &door.unlock_duration_secs.to_string(),
            &format!("min=\"1\" max=\"600\" {lock}")
        ),
        input(
            "description",
            "Description",
            "text",
            &door.description,
            lock
        ),
        tick(door.geofence_required),
        tick(door.reader_required),
        save_button(lock),
    );
    let mut body = body;
    // Who can open it now, for those who may ask.
    if let Ok(openers) = app::decisions::who_can_open(state, ctx, DoorId(id)).await {
        let names: Vec<String> = openers.iter().map(|o| escape(&o.name)).collect();
        body.push_str(&format!(
            "<section><h2>Who can open it now</h2><p>{}</p></section>",
            if names.is_empty() {
                "Nobody.".to_owned()
            } else {
                names.join(", ")
            }
        ));
    }
    if ctx.require(Area::Doors).is_ok() {
        body.push_str(&format!(
            "<section><h2>Open it from here</h2><p class=\"hint\">Opens the door now, without \
             an access; recorded as a remote unlock by you.</p>{}</section>",
            button_form(
                &format!("/admin/{slug}/doors/{id}/remote-unlock"),
                &session.csrf,
                "Unlock now",
                "secondary",
            )
        ));
    }
    Ok(page_with_nav(&door.name, &nav(ctx, "places"), &body))
}

pub async fn remote_unlock(post: Posted) -> Response {
    let (state, id) = (&post.state, post.id);
    post.act(Door(id), |ctx| async move {
        app::decisions::remote_unlock(state, &ctx, DoorId(id))
            .await
            .map(|_| ())
    })
    .await
}

pub async fn update_door(post: Posted) -> Response {
    let (state, form, id) = (&post.state, &post.form, post.id);
    post.act(Door(id), |ctx| async move {
        let kind =
            serde_json::from_value(serde_json::json!(field(form, "kind"))).map_err(|_| {
                lintel_domain::ValidationError::new("kind", "invalid", "choose a kind of door")
            })?;
        let change = crate::app::doors::UpdateDoor {
            site_id: number(form, "site_id")?,
            name: Some(field(form, "name").to_owned()),
            kind: Some(kind),
            geofence_required: Some(form.contains_key("geofence_required")),
            reader_required: Some(form.contains_key("reader_required")),
            unlock_duration_secs: number(form, "unlock_duration_secs")?,
            description: Some(field(form, "description").to_owned()),
            preferences: None,
            controller_id: Some(number(form, "controller_id")?),
        };
        app::doors::update(state, &ctx, DoorId(id), change)
            .await
            .map(|_| ())
    })
    .await
}
