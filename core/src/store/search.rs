//! Chinese full-text search: what goes into the two FTS5 tables and how a
//! person's query becomes FTS5 queries.
//!
//! Chinese has no spaces between words, so word tokenizers do not work. The
//! trigram tokenizer matches any substring of three characters or more, in
//! any script, but cannot match a shorter one, and the words people type
//! most are two characters long (漏水, 噪音, 3栋). A second table therefore
//! indexes every pair of adjacent letters or digits as one token (`漏水`,
//! `3栋`), plus the last character of each run alone: a two-character term
//! is then one exact token, and a one-character term a prefix query (every
//! character is the first of some token). Both tables see the same
//! normalized text (lowercase, full-width forms folded), and every term is
//! quoted, so nothing a person types is read as FTS5 syntax.

/// At most this many terms of a query are used; the rest are ignored.
const MAX_TERMS: usize = 16;

/// Lowercases and folds full-width ASCII forms (３栋, ＡＢＣ) and the
/// ideographic space, so the index and the query agree. Control characters
/// become spaces.
pub(crate) fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let c = match c {
            '\u{3000}' => ' ',
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            c if c.is_control() => ' ',
            c => c,
        };
        out.extend(c.to_lowercase());
    }
    out
}

/// The text indexed by the trigram table.
pub(crate) fn trigram_text(title: &str, search_text: &str) -> String {
    normalize(&format!("{title} {search_text}"))
}

/// The tokens indexed by the bigram table, space-separated: for each run
/// of letters and digits, every adjacent pair, then its last character.
pub(crate) fn bigram_text(normalized: &str) -> String {
    let mut out = String::with_capacity(normalized.len() * 2);
    for run in runs(normalized) {
        let chars: Vec<char> = run.chars().collect();
        for pair in chars.windows(2) {
            out.extend(pair);
            out.push(' ');
        }
        if let Some(last) = chars.last() {
            out.push(*last);
            out.push(' ');
        }
    }
    out.pop();
    out
}

/// Maximal runs of letters and digits. Only these reach the bigram table;
/// its `ascii` tokenizer keeps every non-ASCII character inside a token and
/// splits only on ASCII punctuation and spaces, which runs never contain.
fn runs(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|run| !run.is_empty())
}

/// The FTS5 queries for a person's search text: every space-separated term
/// must match. `None` when the text has no usable term.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FtsQuery {
    /// For the trigram table: terms of three characters or more.
    pub trigram: Option<String>,
    /// For the bigram table: terms of one or two characters.
    pub bigram: Option<String>,
}

impl FtsQuery {
    pub fn parse(input: &str) -> Option<FtsQuery> {
        let normalized = normalize(input);
        let (mut long, mut short) = (Vec::new(), Vec::new());
        for term in normalized.split_whitespace().take(MAX_TERMS) {
            if term.chars().count() >= 3 {
                long.push(quote(term));
                continue;
            }
            // A short term may hold punctuation (3-): match its letters and
            // digits, which is what the bigram table has.
            for run in runs(term) {
                if run.chars().count() == 2 {
                    short.push(quote(run));
                } else {
                    short.push(format!("{}*", quote(run)));
                }
            }
        }
        let join = |terms: Vec<String>| (!terms.is_empty()).then(|| terms.join(" AND "));
        let query = FtsQuery {
            trigram: join(long),
            bigram: join(short),
        };
        (query.trigram.is_some() || query.bigram.is_some()).then_some(query)
    }
}

/// An FTS5 string: double quotes around, inner double quotes doubled.
/// Inside one, operators and column filters are plain text.
fn quote(term: &str) -> String {
    format!("\"{}\"", term.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_folds_case_and_full_width() {
        assert_eq!(normalize("ＡＢ３栋\u{3000}Room"), "ab3栋 room");
    }

    #[test]
    fn bigrams_cover_every_pair_and_each_runs_last_character() {
        assert_eq!(bigram_text("漏水了"), "漏水 水了 了");
        assert_eq!(bigram_text("3栋, a"), "3栋 栋 a");
        assert_eq!(bigram_text("——"), "");
    }

    #[test]
    fn terms_go_to_the_table_that_can_match_them() {
        let q = FtsQuery::parse("漏水 阳光花园 3栋 水").unwrap();
        assert_eq!(q.trigram.as_deref(), Some("\"阳光花园\""));
        assert_eq!(
            q.bigram.as_deref(),
            Some("\"漏水\" AND \"3栋\" AND \"水\"*")
        );
    }

    #[test]
    fn quotes_and_operators_stay_text() {
        let q = FtsQuery::parse("a\"b OR NOT* x").unwrap();
        assert_eq!(q.trigram.as_deref(), Some(r#""a""b" AND "not*""#));
        assert_eq!(q.bigram.as_deref(), Some(r#""or" AND "x"*"#));
        assert_eq!(FtsQuery::parse("  、 \"\" "), None);
    }
}
