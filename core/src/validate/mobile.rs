//! Mainland mobile numbers: parsing (masking is [`crate::privacy`]'s).

use super::{Code, ValidationError};

/// The field key errors from [`parse_mobile`] carry.
const FIELD: &str = "phone";

/// Parses a mainland mobile number into its 11 digits.
///
/// Forgives what people type: surrounding and inner whitespace, dashes and a
/// `+86` prefix are dropped. The rest must match `^1[3-9]\d{9}$`, otherwise
/// the error is [`Code::MobileInvalid`] on field `"phone"` (rename it with
/// [`ValidationError::for_field`]), with the cleaned input as its detail.
pub fn parse_mobile(input: &str) -> Result<String, ValidationError> {
    let cleaned: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    let digits = cleaned.strip_prefix("+86").unwrap_or(&cleaned);
    let b = digits.as_bytes();
    let valid = b.len() == 11
        && b.iter().all(u8::is_ascii_digit)
        && b[0] == b'1'
        && (b'3'..=b'9').contains(&b[1]);
    if valid {
        Ok(digits.to_string())
    } else {
        Err(ValidationError::with_detail(
            FIELD,
            Code::MobileInvalid,
            cleaned,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_usual_ways_of_writing_a_number() {
        for input in [
            "13812345678",
            " 13812345678 ",
            "138 1234 5678",
            "138-1234-5678",
            "+8613812345678",
            "+86 138 1234 5678",
            "+86-138-1234-5678",
            "138\u{3000}1234\u{3000}5678",
        ] {
            assert_eq!(
                parse_mobile(input).as_deref(),
                Ok("13812345678"),
                "{input:?}"
            );
        }
        for prefix in 3..=9 {
            assert!(parse_mobile(&format!("1{prefix}012345678")).is_ok());
        }
    }

    #[test]
    fn rejects_what_is_not_a_mainland_mobile() {
        for input in [
            "",
            "1381234567",      // 10 digits
            "138123456789",    // 12 digits
            "12812345678",     // second digit 2
            "10812345678",     // second digit 0
            "23812345678",     // does not start with 1
            "010-12345678",    // a landline
            "1381234567a",     // a letter
            "８13812345678",   // full-width digit
            "8613812345678",   // country code without +
            "+85213812345678", // Hong Kong prefix
            "(138)12345678",
        ] {
            let e = parse_mobile(input).expect_err(input);
            assert_eq!(e.field, "phone");
            assert_eq!(e.code, Code::MobileInvalid);
        }
    }

    #[test]
    fn error_shows_the_cleaned_input() {
        let e = parse_mobile("138-1234-567").unwrap_err();
        assert_eq!(e.detail.as_deref(), Some("1381234567"));
        assert_eq!(
            e.params(),
            crate::problem::params([("value", "1381234567".into())])
        );
    }
}
