//! Schedules: weekly windows of wall-clock time in a time zone, and dated exceptions.
//! (Long because the time rules below and their tests of midnight and daylight-saving
//! changes belong side by side.)
//!
//! A window belongs to the local day it starts on and may cross midnight (22:00–06:00 runs
//! into the next day). Times are wall-clock times in the schedule's zone, so a window means
//! the same hours in summer and winter: on the night clocks spring forward the skipped hour
//! never happens, and on the night they fall back the repeated hour happens twice. A closed
//! exception closes its whole local day, including a window spilling into it from the day
//! before; an open exception adds windows to its day.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike, Utc, Weekday};
use serde::{Deserialize, Serialize};

use crate::{TimeZone, ValidationError};

/// Minutes in a day; a window may end at 24:00.
pub const DAY: u16 = 24 * 60;

/// Wall-clock minutes since local midnight, `start` inclusive and `end` exclusive. An `end`
/// at or before `start` means the window ends the next day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Span {
    pub start: u16,
    pub end: u16,
}

impl Span {
    /// Checks a span: `start` below 24:00, `end` up to 24:00, and not the same minute.
    pub fn new(field: &str, start: u16, end: u16) -> Result<Span, ValidationError> {
        if start >= DAY || end > DAY || end == 0 {
            return Err(ValidationError::new(
                field,
                "invalid_window",
                format!(
                    "{field} must start between 00:00 and 23:59 and end between 00:01 and 24:00"
                ),
            ));
        }
        if start == end {
            return Err(ValidationError::new(
                field,
                "empty_window",
                format!(
                    "{field} starts and ends at the same minute; for a whole day use 00:00–24:00"
                ),
            ));
        }
        Ok(Span { start, end })
    }

    /// Reads `"HH:MM"`, as the API writes times of day; `24:00` ends a day.
    pub fn parse_time(field: &str, text: &str) -> Result<u16, ValidationError> {
        let bad = || {
            ValidationError::new(
                field,
                "invalid_time",
                format!("{field} must be a time of day as HH:MM, 00:00 to 24:00; got {text:?}"),
            )
        };
        let (h, m) = text.split_once(':').ok_or_else(bad)?;
        if h.len() != 2 || m.len() != 2 {
            return Err(bad());
        }
        let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        if m >= 60 || h > 24 || (h == 24 && m != 0) {
            return Err(bad());
        }
        Ok(h * 60 + m)
    }

    /// Writes minutes as `"HH:MM"`.
    pub fn format_time(minutes: u16) -> String {
        format!("{:02}:{:02}", minutes / 60, minutes % 60)
    }

    pub fn crosses_midnight(self) -> bool {
        self.end <= self.start
    }
}

/// A weekly window: a span on a weekday.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub day: Weekday,
    pub span: Span,
}

/// What a dated exception does to its local day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exception {
    /// Nothing is open that day (a holiday).
    Closed,
    /// These spans are open that day, besides the weekly ones.
    Open(Vec<Span>),
}

/// Weekly windows in a time zone, with dated exceptions: the "when" of an access.
#[derive(Debug, Clone, PartialEq)]
pub struct Timetable {
    time_zone: TimeZone,
    /// Spans by weekday, Monday first.
    week: [Vec<Span>; 7],
    exceptions: BTreeMap<NaiveDate, Exception>,
}

/// At most this many windows and exceptions, to keep a decision's work bounded.
pub const MAX_WINDOWS: usize = 100;
pub const MAX_EXCEPTIONS: usize = 1000;

/// Refuses more windows or exceptions than a schedule may have.
fn check_counts(windows: usize, exceptions: usize) -> Result<(), ValidationError> {
    if windows > MAX_WINDOWS {
        return Err(ValidationError::new(
            "windows",
            "too_many_entries",
            format!("a schedule has at most {MAX_WINDOWS} windows"),
        ));
    }
    if exceptions > MAX_EXCEPTIONS {
        return Err(ValidationError::new(
            "exceptions",
            "too_many_entries",
            format!("a schedule has at most {MAX_EXCEPTIONS} exceptions"),
        ));
    }
    Ok(())
}

impl Timetable {
    pub fn new(
        time_zone: TimeZone,
        windows: &[Window],
        exceptions: BTreeMap<NaiveDate, Exception>,
    ) -> Result<Timetable, ValidationError> {
        check_counts(windows.len(), exceptions.len())?;
        let mut week: [Vec<Span>; 7] = Default::default();
        for w in windows {
            week[w.day.num_days_from_monday() as usize].push(w.span);
        }
        Ok(Timetable {
            time_zone,
            week,
            exceptions,
        })
    }

    pub fn time_zone(&self) -> &TimeZone {
        &self.time_zone
    }

    /// The wall-clock time at `at` in the schedule's zone.
    pub fn local(&self, at: DateTime<Utc>) -> NaiveDateTime {
        at.with_timezone(&self.time_zone.tz()).naive_local()
    }

    /// Whether the schedule is open at the instant `at`.
    pub fn is_open(&self, at: DateTime<Utc>) -> bool {
        self.is_open_local(self.local(at))
    }

    /// Whether the schedule is open at the wall-clock time `local`.
    pub fn is_open_local(&self, local: NaiveDateTime) -> bool {
        let today = local.date();
        let minute = (local.hour() * 60 + local.minute()) as u16;
        let today_exception = self.exceptions.get(&today);
        if today_exception == Some(&Exception::Closed) {
            return false;
        }
        // Windows starting today.
        let starts_today = self.spans_of(today, today_exception);
        if starts_today.into_iter().any(|s| {
            if s.crosses_midnight() {
                minute >= s.start
            } else {
                minute >= s.start && minute < s.end
            }
        }) {
            return true;
        }
        // Windows that started yesterday and run past midnight.
        let Some(yesterday) = today.pred_opt() else {
            return false;
        };
        let yesterday_exception = self.exceptions.get(&yesterday);
        if yesterday_exception == Some(&Exception::Closed) {
            return false;
        }
        self.spans_of(yesterday, yesterday_exception)
            .into_iter()
            .any(|s| s.crosses_midnight() && minute < s.end)
    }

    /// The spans starting on local day `day`: its weekday's and its open exception's.
    fn spans_of<'a>(
        &'a self,
        day: NaiveDate,
        exception: Option<&'a Exception>,
    ) -> impl IntoIterator<Item = Span> + 'a {
        let weekly = &self.week[day.weekday().num_days_from_monday() as usize];
        let extra: &[Span] = match exception {
            Some(Exception::Open(spans)) => spans,
            _ => &[],
        };
        weekly.iter().chain(extra).copied()
    }
}

/// Days of the week as the API names them.
pub fn parse_weekday(field: &str, text: &str) -> Result<Weekday, ValidationError> {
    let day = match text {
        "monday" => Weekday::Mon,
        "tuesday" => Weekday::Tue,
        "wednesday" => Weekday::Wed,
        "thursday" => Weekday::Thu,
        "friday" => Weekday::Fri,
        "saturday" => Weekday::Sat,
        "sunday" => Weekday::Sun,
        _ => {
            return Err(ValidationError::new(
                field,
                "invalid_day",
                format!(
                    "{field} must be a day of the week in English, lower case (monday); got {text:?}"
                ),
            ));
        }
    };
    Ok(day)
}

/// The days of the week as the API writes them, Monday first.
pub const DAY_NAMES: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

pub fn weekday_name(day: Weekday) -> &'static str {
    DAY_NAMES[day.num_days_from_monday() as usize]
}

/// A window as the API writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WindowText {
    #[cfg_attr(feature = "openapi", schema(example = "monday"))]
    pub day: String,
    #[cfg_attr(feature = "openapi", schema(example = "07:00"))]
    pub start: String,
    /// At or before `start`: the window ends the next day.
    #[cfg_attr(feature = "openapi", schema(example = "19:00"))]
    pub end: String,
}

impl WindowText {
    pub fn parse(&self, field: &str) -> Result<Window, ValidationError> {
        let day = parse_weekday(&format!("{field}.day"), &self.day)?;
        let start = Span::parse_time(&format!("{field}.start"), &self.start)?;
        let end = Span::parse_time(&format!("{field}.end"), &self.end)?;
        Ok(Window {
            day,
            span: Span::new(field, start, end)?,
        })
    }

    pub fn of(w: Window) -> WindowText {
        WindowText {
            day: weekday_name(w.day).into(),
            start: Span::format_time(w.span.start),
            end: Span::format_time(w.span.end),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone as _};

    fn tz(name: &str) -> TimeZone {
        TimeZone::parse("tz", name).unwrap()
    }

    fn window(day: Weekday, start: &str, end: &str) -> Window {
        let start = Span::parse_time("s", start).unwrap();
        let end = Span::parse_time("e", end).unwrap();
        Window {
            day,
            span: Span::new("w", start, end).unwrap(),
        }
    }

    fn local(date: &str, time: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(&format!("{date} {time}"), "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn office_hours_open_inside_and_close_at_the_end_minute() {
        let staff = Timetable::new(
            tz("Europe/Stockholm"),
            &[
                window(Weekday::Mon, "07:00", "19:00"),
                window(Weekday::Fri, "07:00", "19:00"),
            ],
            BTreeMap::new(),
        )
        .unwrap();
        // 2026-03-02 is a Monday.
        assert!(!staff.is_open_local(local("2026-03-02", "06:59")));
        assert!(staff.is_open_local(local("2026-03-02", "07:00")));
        assert!(staff.is_open_local(local("2026-03-02", "18:59")));
        assert!(!staff.is_open_local(local("2026-03-02", "19:00")));
        assert!(
            !staff.is_open_local(local("2026-03-03", "12:00")),
            "Tuesday"
        );
        assert!(staff.is_open_local(local("2026-03-06", "12:00")), "Friday");
    }

    #[test]
    fn a_night_window_runs_past_midnight_into_the_next_day() {
        let night = Timetable::new(
            tz("UTC"),
            &[window(Weekday::Sun, "22:00", "06:00")],
            BTreeMap::new(),
        )
        .unwrap();
        // 2026-03-01 is a Sunday.
        assert!(!night.is_open_local(local("2026-03-01", "21:59")));
        assert!(night.is_open_local(local("2026-03-01", "23:30")));
        assert!(
            night.is_open_local(local("2026-03-02", "05:59")),
            "Monday morning"
        );
        assert!(!night.is_open_local(local("2026-03-02", "06:00")));
        assert!(
            !night.is_open_local(local("2026-03-02", "23:00")),
            "not Monday night"
        );
    }

    #[test]
    fn a_closed_day_closes_everything_in_it_and_an_open_one_adds_windows() {
        let mut exceptions = BTreeMap::new();
        exceptions.insert(
            NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
            Exception::Closed,
        );
        exceptions.insert(
            NaiveDate::from_ymd_opt(2026, 3, 7).unwrap(),
            Exception::Open(vec![Span::new("x", 600, 720).unwrap()]),
        );
        let t = Timetable::new(
            tz("UTC"),
            &[
                window(Weekday::Sun, "22:00", "06:00"),
                window(Weekday::Mon, "07:00", "19:00"),
            ],
            exceptions,
        )
        .unwrap();
        assert!(
            t.is_open_local(local("2026-03-01", "23:00")),
            "Sunday night"
        );
        assert!(
            !t.is_open_local(local("2026-03-02", "01:00")),
            "spill into a closed day"
        );
        assert!(
            !t.is_open_local(local("2026-03-02", "08:00")),
            "closed Monday"
        );
        assert!(
            t.is_open_local(local("2026-03-07", "10:30")),
            "special Saturday"
        );
        assert!(!t.is_open_local(local("2026-03-07", "12:00")));
    }

    #[test]
    fn wall_clock_windows_keep_their_hours_across_daylight_saving() {
        let t = Timetable::new(
            tz("Europe/Stockholm"),
            &[
                window(Weekday::Sun, "02:00", "02:30"),
                window(Weekday::Mon, "07:00", "08:00"),
            ],
            BTreeMap::new(),
        )
        .unwrap();
        // Spring forward, 2026-03-29 (a Sunday): 02:00–03:00 does not exist there.
        let spring = chrono::Utc.with_ymd_and_hms(2026, 3, 29, 0, 59, 0).unwrap();
        assert!(!t.is_open(spring), "01:59 local");
        assert!(
            !t.is_open(spring + Duration::minutes(1)),
            "now 03:00 local: the window never ran"
        );
        // The Monday after: 07:00 local is 05:00 UTC in summer time.
        let monday = chrono::Utc.with_ymd_and_hms(2026, 3, 30, 5, 0, 0).unwrap();
        assert!(t.is_open(monday) && !t.is_open(monday - Duration::minutes(1)));
        // Fall back, 2026-10-25 (a Sunday): 02:00–03:00 local happens twice; both count.
        let first = chrono::Utc
            .with_ymd_and_hms(2026, 10, 25, 0, 10, 0)
            .unwrap();
        assert!(t.is_open(first), "02:10 summer time");
        assert!(t.is_open(first + Duration::hours(1)), "02:10 winter time");
    }

    #[test]
    fn bad_windows_name_the_field_and_the_rule() {
        assert_eq!(
            Span::parse_time("w.start", "25:00").unwrap_err().code,
            "invalid_time"
        );
        assert_eq!(
            Span::parse_time("w.start", "7:00").unwrap_err().code,
            "invalid_time"
        );
        assert_eq!(Span::parse_time("w.end", "24:00").unwrap(), DAY);
        assert_eq!(Span::new("w", 420, 420).unwrap_err().code, "empty_window");
        assert_eq!(Span::new("w", DAY, 60).unwrap_err().code, "invalid_window");
        let text = WindowText {
            day: "funday".into(),
            start: "07:00".into(),
            end: "08:00".into(),
        };
        let err = text.parse("windows[2]").unwrap_err();
        assert_eq!(
            (err.field.as_str(), err.code),
            ("windows[2].day", "invalid_day")
        );
    }

    #[test]
    fn exceptions_are_closed_or_open_and_dated_once() {
        let text = |date: &str, closed: bool, windows: Vec<SpanText>| ExceptionText {
            date: date.parse().unwrap(),
            closed,
            windows,
        };
        let span = || SpanText {
            start: "10:00".into(),
            end: "14:00".into(),
        };
        let err = Schedule::check(&[], &[text("2026-12-24", true, vec![span()])]).unwrap_err();
        assert_eq!(
            (err.field.as_str(), err.code),
            ("exceptions[0]", "invalid_exception")
        );
        let err = Schedule::check(&[], &[text("2026-12-24", false, vec![])]).unwrap_err();
        assert_eq!(err.code, "invalid_exception");
        let twice = [
            text("2026-12-24", true, vec![]),
            text("2026-12-24", false, vec![span()]),
        ];
        let err = Schedule::check(&[], &twice).unwrap_err();
        assert_eq!(
            (err.field.as_str(), err.code),
            ("exceptions[1].date", "duplicate_date")
        );
        let (_, sorted) = Schedule::check(
            &[],
            &[
                text("2026-12-31", true, vec![]),
                text("2026-12-24", false, vec![span()]),
            ],
        )
        .unwrap();
        assert_eq!(sorted[0].date, "2026-12-24".parse::<NaiveDate>().unwrap());
    }
}

/// A dated exception as the API writes it: `closed`, or extra `windows` that day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ExceptionText {
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "2026-12-24"))]
    pub date: NaiveDate,
    /// Nothing opens that day (a holiday).
    #[serde(default)]
    pub closed: bool,
    /// Opens these times that day, besides the weekly windows.
    #[serde(default)]
    pub windows: Vec<SpanText>,
}

/// Times of one day as the API writes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SpanText {
    #[cfg_attr(feature = "openapi", schema(example = "10:00"))]
    pub start: String,
    #[cfg_attr(feature = "openapi", schema(example = "14:00"))]
    pub end: String,
}

impl SpanText {
    fn parse(&self, field: &str) -> Result<Span, ValidationError> {
        let start = Span::parse_time(&format!("{field}.start"), &self.start)?;
        let end = Span::parse_time(&format!("{field}.end"), &self.end)?;
        Span::new(field, start, end)
    }
}

/// Named weekly windows in a time zone, with dated exceptions: the "when" of accesses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Schedule {
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub id: crate::ScheduleId,
    pub name: String,
    pub time_zone: TimeZone,
    pub windows: Vec<WindowText>,
    pub exceptions: Vec<ExceptionText>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Schedule {
    /// Checks windows and exceptions as given, normalises their text, and sorts exceptions
    /// by date: what is stored is what `timetable` reads.
    pub fn check(
        windows: &[WindowText],
        exceptions: &[ExceptionText],
    ) -> Result<(Vec<WindowText>, Vec<ExceptionText>), ValidationError> {
        check_counts(windows.len(), exceptions.len())?;
        let windows = windows
            .iter()
            .enumerate()
            .map(|(i, w)| w.parse(&format!("windows[{i}]")).map(WindowText::of))
            .collect::<Result<Vec<_>, _>>()?;
        let mut checked: Vec<ExceptionText> = Vec::with_capacity(exceptions.len());
        for (i, e) in exceptions.iter().enumerate() {
            let field = format!("exceptions[{i}]");
            if e.closed != e.windows.is_empty() {
                return Err(ValidationError::new(
                    field,
                    "invalid_exception",
                    "an exception is either closed or has windows, not both or neither",
                ));
            }
            if checked.iter().any(|c| c.date == e.date) {
                return Err(ValidationError::new(
                    format!("{field}.date"),
                    "duplicate_date",
                    format!("{} has another exception already", e.date),
                ));
            }
            let spans = e
                .windows
                .iter()
                .enumerate()
                .map(|(j, s)| s.parse(&format!("{field}.windows[{j}]")))
                .collect::<Result<Vec<_>, _>>()?;
            checked.push(ExceptionText {
                date: e.date,
                closed: e.closed,
                windows: spans
                    .into_iter()
                    .map(|s| SpanText {
                        start: Span::format_time(s.start),
                        end: Span::format_time(s.end),
                    })
                    .collect(),
            });
        }
        checked.sort_by_key(|e| e.date);
        Ok((windows, checked))
    }

    /// The schedule as decisions read it.
    pub fn timetable(&self) -> Result<Timetable, ValidationError> {
        let windows = self
            .windows
            .iter()
            .enumerate()
            .map(|(i, w)| w.parse(&format!("windows[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        let mut exceptions = BTreeMap::new();
        for (i, e) in self.exceptions.iter().enumerate() {
            let kind = if e.closed {
                Exception::Closed
            } else {
                Exception::Open(
                    e.windows
                        .iter()
                        .enumerate()
                        .map(|(j, s)| s.parse(&format!("exceptions[{i}].windows[{j}]")))
                        .collect::<Result<_, _>>()?,
                )
            };
            exceptions.insert(e.date, kind);
        }
        Timetable::new(self.time_zone, &windows, exceptions)
    }
}
