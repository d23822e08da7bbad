//! The PIN's rules: which PINs may be chosen, and how long wrong ones
//! make the worker wait.
//!
//! A PIN is six digits. Refused are those a finder tries first: one digit
//! six times (000000), a run up or down (123456, 987654, wrapping past 9
//! as 890123 does), two digits taking turns (121212), and the worker's
//! birth date in any six-digit form (yymmdd, ddmmyy, mmddyy, yyddmm).
//!
//! Waits grow with the wrong PINs in a row: the first two cost nothing
//! (a typo), from the third on the wait doubles from 15 s, up to 16 min
//! before the ninth. The tenth wrong PIN ([`MAX_FAILURES`]) destroys the
//! PIN's wrap of the data key (see the [vault](super) docs).

use zeroize::Zeroizing;

/// Digits in a PIN.
pub const PIN_LEN: usize = 6;

/// Wrong PINs in a row after which the PIN no longer opens the device.
pub const MAX_FAILURES: u32 = 10;

/// Wrong PINs in a row that cost no wait.
const FREE_FAILURES: u32 = 2;

/// The first wait, doubled with every further wrong PIN.
const FIRST_WAIT_MS: i64 = 15_000;

/// Why a PIN may not be chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PinRefused {
    #[error("a PIN is six digits")]
    NotSixDigits,
    #[error("a PIN of one digit repeated is guessed first")]
    SameDigit,
    #[error("a run of digits up or down is guessed first")]
    Run,
    #[error("two digits taking turns are guessed first")]
    Alternating,
    #[error("a birth date is guessed first")]
    BirthDate,
}

impl PinRefused {
    /// A stable code for the UI.
    pub fn code(&self) -> &'static str {
        match self {
            PinRefused::NotSixDigits => "pin_not_six_digits",
            PinRefused::SameDigit => "pin_same_digit",
            PinRefused::Run => "pin_run",
            PinRefused::Alternating => "pin_alternating",
            PinRefused::BirthDate => "pin_birth_date",
        }
    }
}

/// A PIN as typed, zeroized when dropped.
#[derive(Clone)]
pub struct Pin(Zeroizing<String>);

impl std::fmt::Debug for Pin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pin(..)")
    }
}

impl Pin {
    /// A typed PIN: six ASCII digits, or [`PinRefused::NotSixDigits`].
    pub fn parse(typed: &str) -> Result<Pin, PinRefused> {
        if typed.len() != PIN_LEN || !typed.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PinRefused::NotSixDigits);
        }
        Ok(Pin(Zeroizing::new(typed.to_string())))
    }

    /// A PIN the worker may choose: six digits, none of the guessed-first
    /// kinds, not `birth_date` (when known) in any six-digit form.
    pub fn choose(typed: &str, birth_date: Option<jiff::civil::Date>) -> Result<Pin, PinRefused> {
        let pin = Pin::parse(typed)?;
        let d: Vec<i8> = typed.bytes().map(|b| (b - b'0') as i8).collect();
        if d.iter().all(|&x| x == d[0]) {
            return Err(PinRefused::SameDigit);
        }
        for step in [1, 9] {
            if d.windows(2).all(|w| (w[1] - w[0]).rem_euclid(10) == step) {
                return Err(PinRefused::Run);
            }
        }
        if d.iter().enumerate().all(|(i, &x)| x == d[i % 2]) {
            return Err(PinRefused::Alternating);
        }
        if let Some(date) = birth_date
            && birth_date_forms(date).iter().any(|f| f == typed)
        {
            return Err(PinRefused::BirthDate);
        }
        Ok(pin)
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

fn birth_date_forms(date: jiff::civil::Date) -> [String; 4] {
    let yy = format!("{:02}", date.year().rem_euclid(100));
    let mm = format!("{:02}", date.month());
    let dd = format!("{:02}", date.day());
    [
        format!("{yy}{mm}{dd}"),
        format!("{dd}{mm}{yy}"),
        format!("{mm}{dd}{yy}"),
        format!("{yy}{dd}{mm}"),
    ]
}

/// Milliseconds to wait after `failures` wrong PINs in a row.
pub fn wait_after(failures: u32) -> i64 {
    if failures <= FREE_FAILURES {
        return 0;
    }
    FIRST_WAIT_MS << (failures - FREE_FAILURES - 1).min(16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trivial_pins_are_refused_and_others_chosen() {
        let born = Some(jiff::civil::date(1988, 3, 7));
        for (pin, why) in [
            ("12345", PinRefused::NotSixDigits),
            ("12345a", PinRefused::NotSixDigits),
            ("１２３４５６", PinRefused::NotSixDigits),
            ("000000", PinRefused::SameDigit),
            ("777777", PinRefused::SameDigit),
            ("123456", PinRefused::Run),
            ("456789", PinRefused::Run),
            ("890123", PinRefused::Run),
            ("987654", PinRefused::Run),
            ("210987", PinRefused::Run),
            ("121212", PinRefused::Alternating),
            ("880307", PinRefused::BirthDate),
            ("070388", PinRefused::BirthDate),
            ("030788", PinRefused::BirthDate),
            ("880703", PinRefused::BirthDate),
        ] {
            assert_eq!(Pin::choose(pin, born).unwrap_err(), why, "{pin}");
        }
        for pin in ["135792", "880308", "204816", "112358"] {
            Pin::choose(pin, born).unwrap();
        }
        // Without a birth date known, a date-like PIN is allowed.
        Pin::choose("880307", None).unwrap();
        assert_eq!(format!("{:?}", Pin::parse("135792").unwrap()), "Pin(..)");
    }

    #[test]
    fn waits_grow_with_every_wrong_pin() {
        assert_eq!(wait_after(0), 0);
        assert_eq!(wait_after(2), 0);
        assert_eq!(wait_after(3), 15_000);
        assert_eq!(wait_after(4), 30_000);
        assert_eq!(wait_after(9), 15_000 << 6);
        let waits: Vec<i64> = (2..MAX_FAILURES).map(wait_after).collect();
        assert!(waits.windows(2).all(|w| w[1] > w[0]), "{waits:?}");
    }
}
