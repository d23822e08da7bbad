//! Personal names (姓名): one full-name field.

use super::{Code, ValidationError};

/// The most characters a name may have.
pub const NAME_MAX_CHARS: usize = 50;

/// Checks a full name (姓名) on `field`.
///
/// Surrounding whitespace is ignored. The name must be non-empty
/// ([`Code::Required`]) and at most [`NAME_MAX_CHARS`] characters
/// ([`Code::TooLong`]). It may hold Han characters, including rare ones in
/// the CJK extension planes (e.g. `𠮷`); the middle dot `·` of transliterated
/// names (`买买提·艾力`); and, for foreign residents, Latin letters (with
/// accents), spaces, hyphens and apostrophes. Any other character, such as a
/// digit, most punctuation or a look-alike of `·` such as `•`, is
/// [`Code::NameInvalid`] with that character as detail. A name made only of
/// separators is [`Code::InvalidFormat`].
pub fn check_name(field: &str, value: &str) -> Result<(), ValidationError> {
    let name = value.trim();
    if name.is_empty() {
        return Err(ValidationError::new(field, Code::Required));
    }
    if name.chars().count() > NAME_MAX_CHARS {
        return Err(ValidationError::with_detail(
            field,
            Code::TooLong,
            NAME_MAX_CHARS.to_string(),
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|&c| !(is_letter(c) || matches!(c, '·' | ' ' | '-' | '\'')))
    {
        return Err(ValidationError::with_detail(
            field,
            Code::NameInvalid,
            bad.to_string(),
        ));
    }
    if !name.chars().any(is_letter) {
        return Err(ValidationError::with_detail(
            field,
            Code::InvalidFormat,
            name,
        ));
    }
    Ok(())
}

/// A character a name is made of, as opposed to a separator.
fn is_letter(c: char) -> bool {
    is_han(c) || is_latin_letter(c)
}

/// Han ideographs, by block rather than by the Unicode version the compiler
/// knows, so characters added in recent extensions are accepted too.
fn is_han(c: char) -> bool {
    matches!(
        u32::from(c),
        0x3007                // 〇
        | 0x3400..=0x4DBF     // Extension A
        | 0x4E00..=0x9FFF     // Unified Ideographs
        | 0xF900..=0xFAFF     // Compatibility Ideographs
        | 0x20000..=0x323AF // Extensions B–I and Compatibility Supplement
    )
}

/// Latin letters, with the accents of European and Vietnamese names.
fn is_latin_letter(c: char) -> bool {
    c.is_ascii_alphabetic()
        || (matches!(u32::from(c), 0xC0..=0x24F | 0x1E00..=0x1EFF) && c.is_alphabetic())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::problem::{Param, params};

    #[test]
    fn accepts_chinese_rare_and_foreign_names() {
        for name in [
            "张三",
            "欧阳娜娜",
            "买买提·艾力",
            "迪丽热巴·迪力木拉提",
            "𠮷田",        // Extension B
            "王㐂",        // Extension A
            "李\u{30000}", // Extension G
            "林〇",
            "John Smith",
            "Zoë Müller",
            "Jean-Pierre O'Brien",
            "Nguyễn Văn An",
            " 张三 ",
        ] {
            assert_eq!(check_name("name", name), Ok(()), "{name:?}");
        }
        assert!(check_name("name", &"张".repeat(NAME_MAX_CHARS)).is_ok());
    }

    #[test]
    fn rejects_digits_and_punctuation_naming_the_character() {
        for (name, bad) in [
            ("张3", "3"),
            ("张三!", "!"),
            ("张三，", "，"),
            ("Tom@home", "@"),
            ("张•三", "•"),
            ("张．三", "．"),
            ("张\u{3000}三", "\u{3000}"),
            ("张三😀", "😀"),
        ] {
            let e = check_name("name", name).expect_err(name);
            assert_eq!(e.code, Code::NameInvalid, "{name:?}");
            assert_eq!(e.detail.as_deref(), Some(bad), "{name:?}");
            assert_eq!(e.params(), params([("character", bad.into())]));
        }
    }

    #[test]
    fn empty_long_and_separator_only_names() {
        let e = check_name("owner_name", " ").unwrap_err();
        assert_eq!(e, ValidationError::new("owner_name", Code::Required));
        assert!(e.params().is_empty());

        let e = check_name("name", &"张".repeat(NAME_MAX_CHARS + 1)).unwrap_err();
        assert_eq!(e.code, Code::TooLong);
        assert_eq!(e.params(), params([("max", Param::Number(50.0))]));

        assert_eq!(
            check_name("name", "·").unwrap_err().code,
            Code::InvalidFormat
        );
        assert_eq!(
            check_name("name", "- '").unwrap_err().code,
            Code::InvalidFormat
        );
    }
}
