//! Resident ID numbers (居民身份证号码, GB 11643): parsing and the check
//! character (masking is [`crate::privacy`]'s).

use std::fmt;

use jiff::civil::Date;

use super::{Code, ValidationError};

/// The field key errors from [`parse_id_number`] carry.
const FIELD: &str = "id_number";

/// Weights of the first 17 digits: 2^(17-i) mod 11. None is 0 mod 11, so
/// changing any single digit changes the check character.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/// The check character for each value of the weighted sum mod 11.
const CHECK_CHARACTERS: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// A valid resident ID number and what it says about its holder.
///
/// `Debug` shows the number masked and leaves the birth date out (the
/// masked digits *are* the birth date), so it cannot leak into logs by
/// accident; read the fields explicitly where they are needed.
#[derive(Clone, PartialEq, Eq)]
pub struct IdNumber {
    /// The 18 characters, surrounding whitespace removed and a lowercase `x`
    /// made uppercase.
    pub normalized: String,
    /// The six-digit region code the number was issued under. It may be a
    /// district code that no longer exists.
    pub region: String,
    /// The birth date encoded in the number.
    pub birth_date: Date,
    /// Whether the sequence number is odd, which marks a man.
    pub male: bool,
}

impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdNumber")
            .field(
                "normalized",
                &crate::privacy::mask_id_number(&self.normalized, true),
            )
            .field("region", &self.region)
            .field("male", &self.male)
            .finish_non_exhaustive()
    }
}

/// Parses a resident ID number, as of `today` (the date in Asia/Shanghai).
///
/// Surrounding whitespace is ignored and a lowercase `x` accepted. The checks
/// run in this order and the first failure is returned, on field
/// `"id_number"` (rename it with [`ValidationError::for_field`]):
/// 18 characters ([`Code::IdLength`]); 17 digits then a digit or `X`
/// ([`Code::IdCharacters`]); a province-level region code in the first two
/// digits ([`Code::IdRegion`]); a birth date that exists
/// ([`Code::IdBirthDateImpossible`]), is not before 1900
/// ([`Code::IdBirthDateTooEarly`]) and not after `today`
/// ([`Code::IdBirthDateFuture`]); the check character
/// ([`Code::IdCheckCharacter`]). The full six-digit region code is not checked
/// against today's list, since older numbers keep abolished district codes.
pub fn parse_id_number(input: &str, today: Date) -> Result<IdNumber, ValidationError> {
    let trimmed = input.trim();

    let length = trimmed.chars().count();
    if length != 18 {
        return Err(ValidationError::with_detail(
            FIELD,
            Code::IdLength,
            length.to_string(),
        ));
    }

    for (i, c) in trimmed.chars().enumerate() {
        let allowed = c.is_ascii_digit() || (i == 17 && matches!(c, 'X' | 'x'));
        if !allowed {
            return Err(ValidationError::with_detail(
                FIELD,
                Code::IdCharacters,
                format!("{}:{c}", i + 1),
            ));
        }
    }

    // From here on every character is ASCII, so byte offsets are positions.
    let normalized = trimmed.to_ascii_uppercase();
    let digits = normalized.as_bytes();

    let province = number(&digits[0..2]);
    if !is_province_code(province) {
        return Err(ValidationError::with_detail(
            FIELD,
            Code::IdRegion,
            &normalized[0..2],
        ));
    }

    let written = format!(
        "{}-{}-{}",
        &normalized[6..10],
        &normalized[10..12],
        &normalized[12..14]
    );
    // The values fit: at most 9999, 99 and 99.
    let (year, month, day) = (
        number(&digits[6..10]) as i16,
        number(&digits[10..12]) as i8,
        number(&digits[12..14]) as i8,
    );
    let Ok(birth_date) = Date::new(year, month, day) else {
        return Err(ValidationError::with_detail(
            FIELD,
            Code::IdBirthDateImpossible,
            written,
        ));
    };
    if year < 1900 {
        return Err(ValidationError::with_detail(
            FIELD,
            Code::IdBirthDateTooEarly,
            written,
        ));
    }
    if birth_date > today {
        return Err(ValidationError::with_detail(
            FIELD,
            Code::IdBirthDateFuture,
            written,
        ));
    }

    let expected = check_character(&digits[..17]);
    let found = char::from(digits[17]);
    if found != expected {
        return Err(ValidationError::with_detail(
            FIELD,
            Code::IdCheckCharacter,
            format!("{expected}:{found}"),
        ));
    }

    Ok(IdNumber {
        region: normalized[0..6].to_string(),
        birth_date,
        male: (digits[16] - b'0') % 2 == 1,
        normalized,
    })
}

/// The check character (`0`–`9` or `X`) for the first 17 digits of an ID
/// number, e.g. to make valid demo numbers.
///
/// # Panics
///
/// If `first17` is not exactly 17 ASCII digits: that is a bug in the caller,
/// not bad user input (use [`parse_id_number`] for that).
pub fn id_check_character(first17: &str) -> char {
    let digits = first17.as_bytes();
    assert!(
        digits.len() == 17 && digits.iter().all(u8::is_ascii_digit),
        "id_check_character needs exactly 17 ASCII digits"
    );
    check_character(digits)
}

fn check_character(first17: &[u8]) -> char {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK_CHARACTERS[(sum % 11) as usize]
}

/// The value of a run of ASCII digits.
fn number(digits: &[u8]) -> u32 {
    digits.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0'))
}

/// Province-level codes: mainland provinces, regions and municipalities,
/// Taiwan (71), Hong Kong (81), Macao (82), and 83 on residence permits for
/// Taiwan residents.
fn is_province_code(code: u32) -> bool {
    matches!(
        code,
        11..=15 | 21..=23 | 31..=37 | 41..=46 | 50..=54 | 61..=65 | 71 | 81 | 82 | 83
    )
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;
    use proptest::prelude::*;

    use super::*;
    use crate::problem::{Param, params};

    const TODAY: Date = date(2025, 6, 1);

    /// A complete number from its first 17 digits.
    fn with_check(first17: &str) -> String {
        format!("{first17}{}", id_check_character(first17))
    }

    fn error(input: &str) -> ValidationError {
        parse_id_number(input, TODAY).expect_err(input)
    }

    #[test]
    fn public_example_parses() {
        let id = parse_id_number("11010519491231002X", TODAY).unwrap();
        assert_eq!(id.normalized, "11010519491231002X");
        assert_eq!(id.region, "110105");
        assert_eq!(id.birth_date, date(1949, 12, 31));
        assert!(!id.male);
        assert_eq!(id_check_character("11010519491231002"), 'X');
    }

    #[test]
    fn computed_numbers_parse_with_gender_from_the_sequence() {
        let man = with_check("44030419900307123");
        let id = parse_id_number(&man, TODAY).unwrap();
        assert_eq!(id.region, "440304");
        assert_eq!(id.birth_date, date(1990, 3, 7));
        assert!(id.male);

        let woman = with_check("51010720000229046");
        let id = parse_id_number(&woman, TODAY).unwrap();
        assert_eq!(id.birth_date, date(2000, 2, 29));
        assert!(!id.male);

        // Taiwan residents' residence permits start with 83.
        assert!(parse_id_number(&with_check("83000019850101001"), TODAY).is_ok());
    }

    #[test]
    fn lowercase_x_and_surrounding_whitespace_are_accepted() {
        let id = parse_id_number(" \u{3000}11010519491231002x\t\n", TODAY).unwrap();
        assert_eq!(id.normalized, "11010519491231002X");
    }

    #[test]
    fn wrong_check_character_says_what_was_expected() {
        let e = error("110105194912310025");
        assert_eq!(e.field, "id_number");
        assert_eq!(e.code, Code::IdCheckCharacter);
        assert_eq!(e.detail.as_deref(), Some("X:5"));
        assert_eq!(
            e.params(),
            params([("expected", "X".into()), ("found", "5".into())])
        );
    }

    #[test]
    fn impossible_birth_date_is_named() {
        let e = error(&with_check("11010119990230123"));
        assert_eq!(e.code, Code::IdBirthDateImpossible);
        assert_eq!(e.detail.as_deref(), Some("1999-02-30"));
        assert_eq!(e.params(), params([("date", "1999-02-30".into())]));

        for first17 in [
            "11010120010229123", // not a leap year
            "11010119991301123", // month 13
            "11010119990001123", // month 0
            "11010119990100123", // day 0
            "11010119990431123", // April has 30 days
        ] {
            assert_eq!(
                error(&with_check(first17)).code,
                Code::IdBirthDateImpossible
            );
        }
    }

    #[test]
    fn future_birth_date_is_rejected_but_today_is_fine() {
        let e = error(&with_check("11010120250602123"));
        assert_eq!(e.code, Code::IdBirthDateFuture);
        assert_eq!(e.detail.as_deref(), Some("2025-06-02"));
        assert_eq!(e.params(), params([("date", "2025-06-02".into())]));
        assert!(parse_id_number(&with_check("11010120250601123"), TODAY).is_ok());
    }

    #[test]
    fn birth_date_before_1900_is_rejected() {
        let e = error(&with_check("11010118991231123"));
        assert_eq!(e.code, Code::IdBirthDateTooEarly);
        assert_eq!(e.detail.as_deref(), Some("1899-12-31"));
        assert!(parse_id_number(&with_check("11010119000101123"), TODAY).is_ok());
    }

    #[test]
    fn region_must_be_province_level() {
        for first17 in [
            "99010119900101123",
            "00010119900101123",
            "16010119900101123",
            "72010119900101123",
            "84010119900101123",
        ] {
            let e = error(&with_check(first17));
            assert_eq!(e.code, Code::IdRegion, "{first17}");
            assert_eq!(e.detail.as_deref(), Some(&first17[..2]));
            assert_eq!(e.params(), params([("region", first17[..2].into())]));
        }
        for province in [
            11, 15, 21, 23, 31, 37, 41, 46, 50, 54, 61, 65, 71, 81, 82, 83,
        ] {
            let number = with_check(&format!("{province}010119900101123"));
            assert!(parse_id_number(&number, TODAY).is_ok(), "{number}");
        }
    }

    #[test]
    fn wrong_length_is_reported_with_the_length_found() {
        for (input, length) in [
            ("", "0"),
            ("   ", "0"),
            ("11010519491231002", "17"),
            ("11010519491231002XX", "19"),
            ("110105491231002", "15"), // old 15-digit numbers are not accepted
            ("110105 19491231 002X", "20"),
        ] {
            let e = error(input);
            assert_eq!(e.code, Code::IdLength, "{input:?}");
            assert_eq!(e.detail.as_deref(), Some(length), "{input:?}");
        }
        assert_eq!(
            error("1101051949123100").params(),
            params([("length", Param::Number(16.0))])
        );
    }

    #[test]
    fn bad_characters_are_located() {
        let e = error("11010519491231002Y");
        assert_eq!(e.code, Code::IdCharacters);
        assert_eq!(e.detail.as_deref(), Some("18:Y"));
        let e = error("110105194X1231002X");
        assert_eq!(e.detail.as_deref(), Some("10:X"));
        assert_eq!(
            e.params(),
            params([("position", "10".into()), ("character", "X".into())])
        );
        // Full-width digits from a Chinese input method are 18 characters but
        // not ASCII digits.
        let e = error("１1010519491231002X");
        assert_eq!(e.detail.as_deref(), Some("1:１"));
    }

    #[test]
    fn checks_run_in_order() {
        // Bad region and bad check character: region first.
        assert_eq!(error("990105194912310025").code, Code::IdRegion);
        // Impossible date and bad check character: date first.
        assert_eq!(
            error("110105199902300000").code,
            Code::IdBirthDateImpossible
        );
        // Bad character and wrong length: length first.
        assert_eq!(error("A101051949123100").code, Code::IdLength);
    }

    #[test]
    fn debug_does_not_show_the_full_number() {
        let id = parse_id_number("11010519491231002X", TODAY).unwrap();
        let debug = format!("{id:?}");
        assert!(!debug.contains("11010519491231002X"), "{debug}");
        assert!(debug.contains("110105********002X"), "{debug}");
        assert!(!debug.contains("1949"), "no birth date beside it: {debug}");
    }

    #[test]
    #[should_panic(expected = "17 ASCII digits")]
    fn check_character_of_a_short_prefix_is_a_bug() {
        id_check_character("1101051949");
    }

    const PROVINCES: [u32; 34] = [
        11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51,
        52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82,
    ];

    /// The first 17 digits of a valid number born between 1900-01-01 and TODAY.
    fn valid_first17() -> impl Strategy<Value = String> {
        let days = TODAY.since(date(1900, 1, 1)).unwrap().get_days();
        (
            prop::sample::select(PROVINCES.to_vec()),
            0u32..10_000,
            0..=days,
            0u32..1000,
        )
            .prop_map(|(province, rest, day, sequence)| {
                let birth = date(1900, 1, 1)
                    .checked_add(jiff::Span::new().days(day))
                    .unwrap();
                format!(
                    "{province:02}{rest:04}{}{sequence:03}",
                    birth.strftime("%Y%m%d")
                )
            })
    }

    proptest! {
        #[test]
        fn valid_numbers_parse_and_any_one_digit_changed_fails(first17 in valid_first17()) {
            let number = with_check(&first17);
            let id = parse_id_number(&number, TODAY).unwrap();
            prop_assert_eq!(&id.normalized, &number);
            prop_assert_eq!(id.normalized.chars().last(), Some(id_check_character(&first17)));
            prop_assert_eq!(id.birth_date.strftime("%Y%m%d").to_string(), &first17[6..14]);
            prop_assert_eq!(id.male, (first17.as_bytes()[16] - b'0') % 2 == 1);

            for i in 0..17 {
                for delta in 1..10u8 {
                    let mut changed = number.clone().into_bytes();
                    changed[i] = b'0' + (changed[i] - b'0' + delta) % 10;
                    let changed = String::from_utf8(changed).unwrap();
                    prop_assert!(
                        parse_id_number(&changed, TODAY).is_err(),
                        "{} accepted", changed
                    );
                }
            }
        }

        #[test]
        fn any_input_is_parsed_or_rejected_without_panicking(input in "\\PC{0,24}") {
            if let Ok(id) = parse_id_number(&input, TODAY) {
                prop_assert_eq!(id.normalized.len(), 18);
            }
        }
    }
}
