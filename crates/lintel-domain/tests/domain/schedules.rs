//! Property tests of schedule arithmetic: the timetable against the plain interval reading of
//! the same windows, at random instants, in zones with and without daylight saving.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate, TimeZone as _, Utc, Weekday};
use lintel_domain::TimeZone;
use lintel_domain::schedule::{Exception, Span, Timetable, Window};
use proptest::prelude::*;

use crate::reference::PlainSchedule;

const ZONES: [&str; 5] = [
    "Europe/Stockholm",
    "America/New_York",
    "Australia/Sydney",
    "Asia/Kolkata",
    "UTC",
];

/// A dated exception as plain data: `None` closes the day, spans open it.
type PlainException = (NaiveDate, Option<Vec<(u16, u16)>>);

fn window() -> impl Strategy<Value = (Weekday, u16, u16)> {
    (0u8..7, 0u16..1440, 1u16..=1440)
        .prop_filter("a window has a length", |(_, s, e)| s != e)
        .prop_map(|(d, s, e)| (Weekday::try_from(d).unwrap(), s, e))
}

fn exception() -> impl Strategy<Value = PlainException> {
    // Days of 2026 around the daylight-saving changes of the zones above.
    let day = prop_oneof![
        Just(67u32),
        Just(87),
        Just(94),
        Just(276),
        Just(297),
        Just(304),
        0u32..365
    ];
    let spans = proptest::collection::vec(
        (0u16..1440, 1u16..=1440).prop_filter("length", |(s, e)| s != e),
        0..3,
    );
    (day, proptest::option::of(spans))
        .prop_map(|(d, kind)| (NaiveDate::from_yo_opt(2026, d + 1).unwrap(), kind))
}

fn both(
    zone: &str,
    windows: &[(Weekday, u16, u16)],
    exceptions: &[PlainException],
) -> (Timetable, PlainSchedule) {
    let exceptions: BTreeMap<_, _> = exceptions.iter().cloned().collect();
    let timetable = Timetable::new(
        TimeZone::parse("tz", zone).unwrap(),
        &windows
            .iter()
            .map(|&(day, s, e)| Window {
                day,
                span: Span::new("w", s, e).unwrap(),
            })
            .collect::<Vec<_>>(),
        exceptions
            .iter()
            .map(|(d, k)| {
                let k = match k {
                    None => Exception::Closed,
                    Some(spans) => Exception::Open(
                        spans
                            .iter()
                            .map(|&(s, e)| Span::new("x", s, e).unwrap())
                            .collect(),
                    ),
                };
                (*d, k)
            })
            .collect(),
    )
    .unwrap();
    let plain = PlainSchedule {
        zone: zone.parse().unwrap(),
        windows: windows.to_vec(),
        exceptions,
    };
    (timetable, plain)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn the_timetable_agrees_with_the_interval_reading(
        zone in proptest::sample::select(&ZONES[..]),
        windows in proptest::collection::vec(window(), 0..6),
        exceptions in proptest::collection::vec(exception(), 0..4),
        minutes in 0i64..(366 * 1440),
    ) {
        let (timetable, plain) = both(zone, &windows, &exceptions);
        let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        // A minute of the year, then the hour around it, minute by minute.
        for step in 0..60 {
            let at = start + Duration::minutes(minutes + step);
            prop_assert_eq!(timetable.is_open(at), plain.is_open(at), "at {}", at);
        }
    }

    #[test]
    fn a_window_is_open_for_exactly_its_length_on_an_ordinary_week(
        (day, start, end) in window(),
    ) {
        // A week of Stockholm winter time (no daylight-saving change, no exceptions).
        let (timetable, _) = both("Europe/Stockholm", &[(day, start, end)], &[]);
        let monday = Utc.with_ymd_and_hms(2026, 1, 11, 23, 0, 0).unwrap(); // 00:00 local, Mon 12 Jan
        let open = (0..(7 * 1440)).filter(|m| timetable.is_open(monday + Duration::minutes(*m))).count();
        let length = if end > start { end - start } else { end + 1440 - start };
        prop_assert_eq!(open, usize::from(length));
    }

    #[test]
    fn nothing_is_open_on_a_closed_day(
        zone in proptest::sample::select(&ZONES[..]),
        windows in proptest::collection::vec(window(), 0..6),
        day in 0u32..365,
        minute in 0i64..1440,
    ) {
        let date = NaiveDate::from_yo_opt(2026, day + 1).unwrap();
        let (timetable, _) = both(zone, &windows, &[(date, None)]);
        let tz: chrono_tz::Tz = zone.parse().unwrap();
        let local = date.and_hms_opt(0, 0, 0).unwrap() + Duration::minutes(minute);
        // Wall times that do not exist (spring forward) have no instant to test.
        if let Some(at) = tz.from_local_datetime(&local).earliest() {
            prop_assert!(!timetable.is_open(at.with_timezone(&Utc)));
        }
    }
}
