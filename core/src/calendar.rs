//! Working days and deadlines on the Chinese official calendar.
//!
//! This module owns the rule for which days count when a deadline is given in
//! working days: public holidays are off, make-up working days (调休) are on
//! even at weekends, and otherwise Monday to Friday work. The holidays are
//! data, not code: a [`WorkCalendar`] is loaded from JSON in the format of
//! `core/data/cn-holidays.json` (bundled, and replaceable by the server when
//! the State Council announces a new year). For years the data does not list,
//! plain Monday–Friday is used and [`WorkCalendar::covers`] lets callers say
//! so. Dates are civil dates in Asia/Shanghai; [`shanghai_date`] gives the date
//! of an instant.
//!
//! ```
//! use gridwork_core::calendar::WorkCalendar;
//! use jiff::civil::date;
//!
//! let calendar = WorkCalendar::bundled();
//! // Reported the day before National Day 2025, due in 5 working days.
//! assert_eq!(calendar.add_working_days(date(2025, 9, 30), 5), date(2025, 10, 14));
//! ```

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use jiff::civil::{Date, Weekday};
use jiff::tz::Offset;
use serde::Deserialize;

/// The holiday data compiled into the crate.
const BUNDLED_JSON: &str = include_str!("../data/cn-holidays.json");

/// Which days are working days, from official holiday data.
///
/// [`Default`] is a calendar with no data: plain Monday–Friday everywhere.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkCalendar {
    years: BTreeSet<i16>,
    holidays: BTreeSet<Date>,
    workdays: BTreeSet<Date>,
}

/// Why holiday data could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum CalendarError {
    /// Not JSON, or not the expected shape (e.g. no `years` object).
    #[error("calendar data is not valid: {0}")]
    Json(#[from] serde_json::Error),
    /// A key of `years` is not a four-digit year.
    #[error("calendar data has the year key {key:?}, which is not a four-digit year")]
    BadYear {
        /// The key as written.
        key: String,
    },
    /// A date is not written `YYYY-MM-DD` or does not exist.
    #[error(
        "calendar data for {year} has {value:?} in {list}, which is not an existing date written YYYY-MM-DD"
    )]
    BadDate {
        /// The year whose lists hold the date.
        year: i16,
        /// `"holidays"` or `"workdays"`.
        list: &'static str,
        /// The date as written.
        value: String,
    },
    /// The same date is listed as a holiday and as a make-up working day.
    #[error("calendar data lists {date} both as a holiday and as a working day")]
    Conflict {
        /// The date listed twice.
        date: Date,
    },
}

/// The JSON format: `{"years": {"2024": {"holidays": [{"date": "2024-01-01",
/// "name": "…"}], "workdays": […]}}}`. Other keys (`about`, `name`) are
/// ignored so the format can grow.
#[derive(Deserialize)]
struct RawCalendar {
    years: BTreeMap<String, RawYear>,
}

#[derive(Deserialize)]
struct RawYear {
    #[serde(default)]
    holidays: Vec<RawDay>,
    #[serde(default)]
    workdays: Vec<RawDay>,
}

#[derive(Deserialize)]
struct RawDay {
    date: String,
}

impl WorkCalendar {
    /// Loads holiday data in the format of `core/data/cn-holidays.json`.
    ///
    /// Each key of `years` must be a four-digit year and each `date` an
    /// existing date written `YYYY-MM-DD`; no date may be both a holiday and
    /// a working day.
    pub fn from_json(s: &str) -> Result<Self, CalendarError> {
        let raw: RawCalendar = serde_json::from_str(s)?;
        let mut calendar = WorkCalendar::default();
        for (key, year_data) in raw.years {
            let year = parse_year(&key).ok_or(CalendarError::BadYear { key })?;
            calendar.years.insert(year);
            for (list, days, set) in [
                ("holidays", year_data.holidays, &mut calendar.holidays),
                ("workdays", year_data.workdays, &mut calendar.workdays),
            ] {
                for day in days {
                    let date = parse_date(&day.date).ok_or(CalendarError::BadDate {
                        year,
                        list,
                        value: day.date,
                    })?;
                    set.insert(date);
                }
            }
        }
        if let Some(&date) = calendar.holidays.intersection(&calendar.workdays).next() {
            return Err(CalendarError::Conflict { date });
        }
        Ok(calendar)
    }

    /// The holiday data compiled into this build (currently 2024–2026).
    ///
    /// # Panics
    ///
    /// Never in practice: the data is compiled in and a test loads it.
    pub fn bundled() -> Self {
        Self::from_json(BUNDLED_JSON).expect("the bundled holiday data is valid")
    }

    /// Whether `d` is a working day: not a public holiday, and either a
    /// make-up working day or Monday to Friday.
    pub fn is_working_day(&self, d: Date) -> bool {
        if self.holidays.contains(&d) {
            false
        } else if self.workdays.contains(&d) {
            true
        } else {
            !matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday)
        }
    }

    /// Whether the data lists `d`'s year. If not, [`is_working_day`] is plain
    /// Monday–Friday for it, and a deadline in that year should say it may
    /// move once the year's holidays are announced.
    ///
    /// [`is_working_day`]: Self::is_working_day
    pub fn covers(&self, d: Date) -> bool {
        self.years.contains(&d.year())
    }

    /// The years the data lists, in order.
    pub fn years(&self) -> impl Iterator<Item = i16> + '_ {
        self.years.iter().copied()
    }

    /// The deadline `n` working days after `start`: the `n`-th working day
    /// after it, `start` itself not counted. `n = 0` gives `start`, whatever
    /// day it is.
    ///
    /// Saturates at [`Date::MAX`] rather than failing.
    pub fn add_working_days(&self, start: Date, n: u32) -> Date {
        let mut day = start;
        let mut left = n;
        while left > 0 {
            let Ok(next) = day.tomorrow() else {
                return day;
            };
            day = next;
            if self.is_working_day(day) {
                left -= 1;
            }
        }
        day
    }

    /// How many working days fall after `from` up to and including `to`;
    /// negative (the same count, negated) if `to` is before `from`.
    ///
    /// For a deadline `d = add_working_days(s, n)` this gives back `n`, and
    /// `working_days_between(d, today)` is how many working days it is overdue.
    pub fn working_days_between(&self, from: Date, to: Date) -> i64 {
        if to < from {
            return -self.working_days_between(to, from);
        }
        let mut count = 0;
        let mut day = from;
        while day < to {
            // `day < to` so a next day exists.
            let Ok(next) = day.tomorrow() else {
                break;
            };
            day = next;
            if self.is_working_day(day) {
                count += 1;
            }
        }
        count
    }
}

/// The date in Asia/Shanghai at instant `ts`.
///
/// China has used UTC+8 all year round since 1991, so a fixed offset is always
/// right for Gridwork's dates and needs no time zone database on the device.
pub fn shanghai_date(ts: Timestamp) -> Date {
    Offset::constant(8).to_datetime(ts).date()
}

/// A four-digit year key such as `"2024"`.
fn parse_year(key: &str) -> Option<i16> {
    if key.len() != 4 || !key.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    key.parse().ok()
}

/// A date written exactly `YYYY-MM-DD`, which must exist.
fn parse_date(s: &str) -> Option<Date> {
    let b = s.as_bytes();
    let shape = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        });
    if !shape {
        return None;
    }
    Date::new(
        s[0..4].parse().ok()?,
        s[5..7].parse().ok()?,
        s[8..10].parse().ok()?,
    )
    .ok()
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;
    use proptest::prelude::*;

    use super::*;

    fn cal() -> WorkCalendar {
        WorkCalendar::bundled()
    }

    #[test]
    fn bundled_data_loads_2024_to_2026() {
        assert_eq!(cal().years().collect::<Vec<_>>(), [2024, 2025, 2026]);
        assert!(cal().covers(date(2024, 1, 1)));
        assert!(cal().covers(date(2026, 12, 31)));
        assert!(!cal().covers(date(2023, 12, 31)));
        assert!(!cal().covers(date(2027, 1, 1)));
    }

    #[test]
    fn bundled_make_up_days_are_weekend_days_in_their_year() {
        let c = cal();
        assert!(!c.workdays.is_empty());
        for d in &c.workdays {
            assert!(
                matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday),
                "{d} is a make-up working day but not at a weekend"
            );
            assert!(c.covers(*d), "{d}");
        }
        for d in &c.holidays {
            assert!(c.covers(*d), "{d}");
        }
    }

    #[test]
    fn national_day_2024_is_off_and_its_make_up_days_are_on() {
        let c = cal();
        for day in 1..=7 {
            assert!(!c.is_working_day(date(2024, 10, day)), "2024-10-{day:02}");
        }
        assert!(c.is_working_day(date(2024, 10, 8)));

        assert_eq!(date(2024, 9, 29).weekday(), Weekday::Sunday);
        assert!(c.is_working_day(date(2024, 9, 29)));
        assert_eq!(date(2024, 10, 12).weekday(), Weekday::Saturday);
        assert!(c.is_working_day(date(2024, 10, 12)));

        // Ordinary weekend days stay off.
        assert!(!c.is_working_day(date(2024, 10, 13)));
        assert!(!c.is_working_day(date(2024, 9, 28)));
    }

    #[test]
    fn deadline_across_national_day_2025() {
        // Tuesday 30 September; 1–8 October off; Saturday 11 October a make-up day.
        let c = cal();
        let start = date(2025, 9, 30);
        let days: Vec<Date> = (1..=5).map(|n| c.add_working_days(start, n)).collect();
        assert_eq!(
            days,
            [
                date(2025, 10, 9),
                date(2025, 10, 10),
                date(2025, 10, 11),
                date(2025, 10, 13),
                date(2025, 10, 14),
            ]
        );
        assert_eq!(c.working_days_between(start, date(2025, 10, 14)), 5);
    }

    #[test]
    fn deadline_across_spring_festival_2026() {
        // Saturday 14 February a make-up day; 15–23 February off.
        let c = cal();
        assert_eq!(c.add_working_days(date(2026, 2, 12), 5), date(2026, 2, 26));
        assert_eq!(c.add_working_days(date(2026, 2, 13), 5), date(2026, 2, 27));
        // Reported on the first day of the holiday.
        assert_eq!(c.add_working_days(date(2026, 2, 15), 1), date(2026, 2, 24));
    }

    #[test]
    fn zero_days_is_the_start_even_on_a_holiday() {
        let c = cal();
        assert_eq!(c.add_working_days(date(2024, 10, 3), 0), date(2024, 10, 3));
        assert_eq!(c.add_working_days(date(2024, 10, 3), 1), date(2024, 10, 8));
    }

    #[test]
    fn working_days_between_counts_after_from_up_to_to() {
        let c = cal();
        assert_eq!(
            c.working_days_between(date(2024, 9, 30), date(2024, 10, 8)),
            1
        );
        assert_eq!(
            c.working_days_between(date(2024, 10, 8), date(2024, 9, 30)),
            -1
        );
        assert_eq!(
            c.working_days_between(date(2024, 10, 7), date(2024, 10, 12)),
            5
        );
        assert_eq!(
            c.working_days_between(date(2024, 10, 8), date(2024, 10, 8)),
            0
        );
        // A whole ordinary week.
        assert_eq!(
            c.working_days_between(date(2024, 11, 3), date(2024, 11, 10)),
            5
        );
    }

    #[test]
    fn outside_the_data_plain_monday_to_friday_is_used() {
        let c = cal();
        // 2030-01-01 is a Tuesday; its holidays are not in the data.
        assert!(!c.covers(date(2030, 1, 1)));
        assert!(c.is_working_day(date(2030, 1, 1)));
        assert!(!c.is_working_day(date(2030, 1, 5)));
        assert_eq!(c.add_working_days(date(2030, 1, 4), 1), date(2030, 1, 7));
        assert_eq!(c.add_working_days(date(2030, 1, 4), 5), date(2030, 1, 11));
        // National Day 2023 is before the data starts.
        assert!(c.is_working_day(date(2023, 10, 2)));
        // An empty calendar is the same rule everywhere.
        let empty = WorkCalendar::default();
        assert!(empty.is_working_day(date(2024, 10, 1)));
        assert_eq!(empty.years().count(), 0);
    }

    #[test]
    fn deadline_near_the_end_of_time_saturates() {
        let c = cal();
        assert_eq!(c.add_working_days(date(9999, 12, 29), 10), Date::MAX);
    }

    #[test]
    fn custom_data_replaces_the_bundled_data() {
        let c = WorkCalendar::from_json(
            r#"{"years": {"2030": {
                "holidays": [{"date": "2030-01-01", "name": "New Year's Day"}],
                "workdays": [{"date": "2030-01-05"}]
            }, "2031": {}}}"#,
        )
        .unwrap();
        assert_eq!(c.years().collect::<Vec<_>>(), [2030, 2031]);
        assert!(!c.is_working_day(date(2030, 1, 1)));
        assert!(c.is_working_day(date(2030, 1, 5)));
        // 2024 is not in this data.
        assert!(c.is_working_day(date(2024, 10, 1)));
    }

    #[test]
    fn bad_data_is_an_error_not_a_panic() {
        let cases = [
            ("", "not valid"),
            ("{", "not valid"),
            ("[]", "not valid"),
            (r#"{"about": "no years"}"#, "years"),
            (
                r#"{"years": {"2024": {"holidays": "2024-01-01"}}}"#,
                "not valid",
            ),
            (r#"{"years": {"24": {}}}"#, "\"24\""),
            (r#"{"years": {"+024": {}}}"#, "\"+024\""),
            (
                r#"{"years": {"2024": {"holidays": [{"date": "2024-02-30"}]}}}"#,
                "\"2024-02-30\" in holidays",
            ),
            (
                r#"{"years": {"2024": {"workdays": [{"date": "2024/09/29"}]}}}"#,
                "\"2024/09/29\" in workdays",
            ),
            (
                r#"{"years": {"2024": {"holidays": [{"date": "2024-10-1"}]}}}"#,
                "\"2024-10-1\"",
            ),
            (
                r#"{"years": {"2024": {"holidays": [{"name": "no date"}]}}}"#,
                "date",
            ),
            (
                r#"{"years": {"2024": {"holidays": [{"date": "2024-10-01"}],
                                       "workdays": [{"date": "2024-10-01"}]}}}"#,
                "2024-10-01 both",
            ),
        ];
        for (json, needle) in cases {
            let error = WorkCalendar::from_json(json).expect_err(json);
            let message = error.to_string();
            assert!(message.contains(needle), "{json}: {message}");
        }
    }

    #[test]
    fn shanghai_date_is_utc_plus_8() {
        let at = |s: &str| shanghai_date(s.parse::<Timestamp>().unwrap());
        assert_eq!(at("2024-09-30T15:59:59Z"), date(2024, 9, 30));
        assert_eq!(at("2024-09-30T16:00:00Z"), date(2024, 10, 1));
        assert_eq!(at("2026-01-01T00:00:00+08:00"), date(2026, 1, 1));
        // No daylight saving time in summer.
        assert_eq!(at("2025-07-01T15:59:59Z"), date(2025, 7, 1));
        assert_eq!(at("2025-07-01T16:00:00Z"), date(2025, 7, 2));
    }

    fn day_in_2023_to_2027() -> impl Strategy<Value = Date> {
        (0i64..365 * 5).prop_map(|n| {
            date(2023, 1, 1)
                .checked_add(jiff::Span::new().days(n))
                .unwrap()
        })
    }

    proptest! {
        #[test]
        fn adding_then_counting_gives_back_n(start in day_in_2023_to_2027(), n in 0u32..60) {
            let c = cal();
            let deadline = c.add_working_days(start, n);
            prop_assert_eq!(c.working_days_between(start, deadline), i64::from(n));
            prop_assert_eq!(c.working_days_between(deadline, start), -i64::from(n));
            if n > 0 {
                prop_assert!(c.is_working_day(deadline));
                // The deadline is the earliest such day.
                prop_assert!(c.add_working_days(start, n - 1) < deadline);
                prop_assert_eq!(
                    c.working_days_between(start, deadline.yesterday().unwrap()),
                    i64::from(n - 1)
                );
            }
        }

        #[test]
        fn counting_is_additive(
            a in day_in_2023_to_2027(),
            b in day_in_2023_to_2027(),
            m in day_in_2023_to_2027(),
        ) {
            let c = cal();
            prop_assert_eq!(
                c.working_days_between(a, b),
                c.working_days_between(a, m) + c.working_days_between(m, b)
            );
        }
    }
}
