//! STUB until the validate branch lands.
#[derive(Debug, Clone, Default)]
pub struct WorkCalendar;
impl WorkCalendar {
    pub fn bundled() -> Self {
        WorkCalendar
    }
    pub fn add_working_days(&self, start: jiff::civil::Date, n: u32) -> jiff::civil::Date {
        start.checked_add(jiff::Span::new().days(n as i64)).unwrap()
    }
}
pub fn shanghai_date(ts: jiff::Timestamp) -> jiff::civil::Date {
    ts.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
        .date()
}
