//! Dates and times as the demo needs them: Asia/Shanghai (UTC+8 all year
//! since 1991), Unix milliseconds.

use jiff::civil::Date;
use jiff::tz::Offset;
use jiff::{Span, Timestamp};

pub(super) const MINUTE_MS: i64 = 60_000;
pub(super) const HOUR_MS: i64 = 60 * MINUTE_MS;
pub(super) const DAY_MS: i64 = 24 * HOUR_MS;

const SHANGHAI: Offset = Offset::constant(8);

/// The Asia/Shanghai date at `ms`.
pub(super) fn shanghai_date(ms: i64) -> Date {
    let ts = Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH);
    gridwork_core::calendar::shanghai_date(ts)
}

/// Unix milliseconds of `date` at `hour:minute` in Asia/Shanghai.
pub(super) fn at(date: Date, hour: i8, minute: i8) -> i64 {
    SHANGHAI
        .to_timestamp(date.at(hour, minute, 0, 0))
        .map(|ts| ts.as_millisecond())
        .unwrap_or(0)
}

/// `days` days before `date` (saturating at the earliest date).
pub(super) fn days_before(date: Date, days: i64) -> Date {
    date.checked_sub(Span::new().days(days))
        .unwrap_or(Date::MIN)
}

/// `days` days after `date` (saturating at the latest date).
pub(super) fn days_after(date: Date, days: i64) -> Date {
    date.checked_add(Span::new().days(days))
        .unwrap_or(Date::MAX)
}

/// Full years between `birth` and `today`.
pub(super) fn age_on(birth: Date, today: Date) -> i32 {
    let mut age = i32::from(today.year()) - i32::from(birth.year());
    if (today.month(), today.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}
