//! Schedules: named weekly windows with dated exceptions, in a time zone. Changing them needs
//! the `doors` area; any admin reads them.

use lintel_domain::schedule::{ExceptionText, WindowText};
use lintel_domain::{Area, Schedule, ScheduleId, TimeZone, validate};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{AppState, Error, Found, ListRequest, Listed, OrgCtx};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSchedule {
    /// Unique within the organization.
    #[schema(example = "Office hours")]
    pub name: String,
    /// IANA time zone; the organization's when left out.
    pub time_zone: Option<String>,
    /// Weekly windows; a window ending at or before its start runs into the next day.
    #[serde(default)]
    pub windows: Vec<WindowText>,
    /// Dated exceptions: closed days, or days with extra windows.
    #[serde(default)]
    pub exceptions: Vec<ExceptionText>,
}

/// What to change; `windows` and `exceptions` replace the lists when given.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSchedule {
    pub name: Option<String>,
    pub time_zone: Option<String>,
    pub windows: Option<Vec<WindowText>>,
    pub exceptions: Option<Vec<ExceptionText>>,
}

pub async fn create(
    state: &AppState,
    ctx: &OrgCtx,
    req: CreateSchedule,
) -> Result<Schedule, Error> {
    ctx.require(Area::Doors)?;
    let name = validate::name(&req.name)?;
    let time_zone = match &req.time_zone {
        Some(tz) => TimeZone::parse("time_zone", tz)?,
        None => ctx.org.time_zone,
    };
    let (windows, exceptions) = Schedule::check(&req.windows, &req.exceptions)?;
    let schedule = Schedule {
        id: ScheduleId::new(ctx.now),
        name,
        time_zone,
        windows,
        exceptions,
        created_at: ctx.now,
        updated_at: ctx.now,
    };
    state
        .store
        .create_schedule(ctx.org_id(), &schedule, &ctx.audit())
        .await?;
    Ok(schedule)
}

pub async fn get(state: &AppState, ctx: &OrgCtx, id: ScheduleId) -> Result<Schedule, Error> {
    ctx.require_admin()?;
    state
        .store
        .get_schedule(ctx.org_id(), id)
        .await
        .found("schedule")
}

pub async fn list(
    state: &AppState,
    ctx: &OrgCtx,
    req: &ListRequest,
) -> Result<Listed<Schedule>, Error> {
    ctx.require_admin()?;
    Ok(state
        .store
        .list_schedules(ctx.org_id(), req.page()?)
        .await?
        .into())
}

pub async fn update(
    state: &AppState,
    ctx: &OrgCtx,
    id: ScheduleId,
    req: UpdateSchedule,
) -> Result<Schedule, Error> {
    ctx.require(Area::Doors)?;
    let name = req.name.as_deref().map(validate::name).transpose()?;
    let time_zone = req
        .time_zone
        .as_deref()
        .map(|tz| TimeZone::parse("time_zone", tz))
        .transpose()?;
    let now = ctx.now;
    state
        .store
        .update_schedule(
            ctx.org_id(),
            id,
            &|s| {
                if let Some(name) = &name {
                    s.name.clone_from(name);
                }
                if let Some(tz) = time_zone {
                    s.time_zone = tz;
                }
                let windows = req.windows.as_deref().unwrap_or(&s.windows);
                let exceptions = req.exceptions.as_deref().unwrap_or(&s.exceptions);
                let (windows, exceptions) = Schedule::check(windows, exceptions)?;
                s.windows = windows;
                s.exceptions = exceptions;
                s.updated_at = now;
                Ok(())
            },
            &ctx.audit(),
        )
        .await
        .found("schedule")
}

pub async fn delete(state: &AppState, ctx: &OrgCtx, id: ScheduleId) -> Result<(), Error> {
    ctx.require(Area::Doors)?;
    state
        .store
        .delete_schedule(ctx.org_id(), id, &ctx.audit())
        .await
        .found("schedule")
}
