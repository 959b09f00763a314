//! The character-level steps shared by every field (normalization.md, "Every field"), plus the
//! small character classes the per-field rules are written in.
//!
//! Owning them in one place keeps every field on exactly the same reading of Unicode: general
//! categories come from `unicode-properties`, NFC from `unicode-normalization`, white space is
//! Unicode `White_Space` (`char::is_whitespace`) and lower-casing is the full Unicode mapping
//! (`str::to_lowercase`, which also applies the final-sigma rule). Printable-ASCII input, the
//! common case on the ingest hot path, takes a fast path that allocates once and never consults
//! a Unicode table.

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};
use unicode_properties::{GeneralCategory, GeneralCategoryGroup, UnicodeGeneralCategory};

/// Steps 1 and 2 of every field: drop format characters (Cf), turn other control characters (Cc)
/// into a space, NFC, trim Unicode white space, full lower-case.
///
/// An empty result means the field is omitted (step 3); the caller decides.
pub(super) fn prepare(raw: &str) -> String {
    // Printable ASCII holds no Cf/Cc character, is already NFC, and its only white space is ' '.
    if raw.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        let mut out = raw.trim_matches(' ').to_owned();
        out.make_ascii_lowercase();
        return out;
    }

    let mut cleaned = String::with_capacity(raw.len());
    for c in raw.chars() {
        if c.is_control() {
            // Cc: a tab or newline must never join two parts into one new value.
            cleaned.push(' ');
        } else if c.general_category() != GeneralCategory::Format {
            cleaned.push(c);
        }
    }
    if is_nfc_quick(cleaned.chars()) == IsNormalized::Yes {
        cleaned.trim().to_lowercase()
    } else {
        let nfc: String = cleaned.nfc().collect();
        nfc.trim().to_lowercase()
    }
}

/// Step 4: exactly 64 lower-case hex characters, taken as an already hashed value.
pub(super) fn is_sha256_hex(value: &str) -> bool {
    value.len() == 64
        && value
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A letter (general category L*).
pub(super) fn is_letter(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphabetic();
    }
    c.general_category_group() == GeneralCategoryGroup::Letter
}

/// A letter or a combining mark (general category L* or M*): what names and cities keep.
pub(super) fn is_letter_or_mark(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphabetic();
    }
    matches!(
        c.general_category_group(),
        GeneralCategoryGroup::Letter | GeneralCategoryGroup::Mark
    )
}

/// Keeps only letters and combining marks, in place (the `fn`, `ln`, `ct`, `st` rule).
pub(super) fn retain_letters_and_marks(value: &mut String) {
    value.retain(is_letter_or_mark);
}

/// The comparison key for a name table: letters only, accents ignored (NFD, then combining marks
/// removed). Used only to *compare*; the value sent keeps its accents.
pub(super) fn fold_accents(letters_and_marks: &str) -> String {
    if letters_and_marks.is_ascii() {
        return letters_and_marks.to_owned();
    }
    letters_and_marks
        .nfd()
        .filter(|&c| is_letter(c))
        .collect::<String>()
}

/// The value (0–9) of a Unicode decimal digit (general category Nd), e.g. `４` or `٤`.
///
/// Unicode guarantees (stability policy) that Nd characters come in contiguous runs of ten,
/// ascending from 0, so a digit's value is its distance from the start of its block of Nd
/// characters, modulo 10 (blocks such as the mathematical digits hold several runs back to back).
/// This avoids a digit table.
pub(super) fn decimal_digit_value(c: char) -> Option<u8> {
    if c.is_ascii_digit() {
        return Some(c as u8 - b'0');
    }
    if c.is_ascii() || c.general_category() != GeneralCategory::DecimalNumber {
        return None;
    }
    let mut start = u32::from(c);
    while let Some(prev) = start.checked_sub(1).and_then(char::from_u32) {
        if prev.general_category() != GeneralCategory::DecimalNumber {
            break;
        }
        start -= 1;
    }
    u8::try_from((u32::from(c) - start) % 10).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_ascii_is_trimmed_and_lower_cased() {
        assert_eq!(
            prepare("  Jane.Doe+Shop@Example.COM "),
            "jane.doe+shop@example.com"
        );
    }

    #[test]
    fn format_characters_are_removed_and_controls_become_spaces() {
        assert_eq!(prepare("Jo\u{200b}hn\u{00ad}"), "john");
        assert_eq!(prepare("\u{feff}a\tb\n"), "a b");
        assert_eq!(prepare("\u{1f}x"), "x");
    }

    #[test]
    fn nfd_input_is_composed_and_unicode_white_space_trimmed() {
        assert_eq!(prepare("\u{a0}Jose\u{301}\u{2003}"), "jos\u{e9}");
    }

    #[test]
    fn lower_casing_is_the_full_mapping() {
        assert_eq!(prepare("İsmail"), "i\u{307}smail");
        assert_eq!(prepare("ΟΔΥΣΣΕΥΣ"), "οδυσσευς");
    }

    #[test]
    fn sha256_hex_needs_exactly_64_lower_case_hex_characters() {
        assert!(is_sha256_hex(&"a".repeat(64)));
        assert!(!is_sha256_hex(&"a".repeat(63)));
        assert!(!is_sha256_hex(&"A".repeat(64)));
        assert!(!is_sha256_hex(&"g".repeat(64)));
    }

    #[test]
    fn accents_are_folded_for_comparison() {
        assert_eq!(fold_accents("québec"), "quebec");
        assert_eq!(fold_accents("îleduprinceédouard"), "ileduprinceedouard");
    }

    #[test]
    fn decimal_digits_of_any_script_have_their_value() {
        assert_eq!(decimal_digit_value('7'), Some(7));
        assert_eq!(decimal_digit_value('\u{ff14}'), Some(4)); // full-width 4
        assert_eq!(decimal_digit_value('\u{0669}'), Some(9)); // Arabic-Indic 9
        assert_eq!(decimal_digit_value('\u{0966}'), Some(0)); // Devanagari 0
        assert_eq!(decimal_digit_value('\u{1d7d9}'), Some(1)); // mathematical double-struck 1
        assert_eq!(decimal_digit_value('\u{1d7ff}'), Some(9)); // last mathematical digit
        assert_eq!(decimal_digit_value('a'), None);
        assert_eq!(decimal_digit_value('\u{b2}'), None); // superscript two is No, not Nd
    }
}
