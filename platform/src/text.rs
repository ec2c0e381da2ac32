//! Strict parsing of the plain values clients send (ids, dates, free text),
//! shared by the gateway and the services so that both refuse the same
//! input with the same words.

use chrono::NaiveDate;
use uuid::Uuid;

/// A UUID in its one canonical text form, `8-4-4-4-12` hex digits. The
/// `uuid` crate also reads braced, URN and unhyphenated forms; accepting
/// those would give one record several spellings (in URLs, cache keys,
/// logs), so they are refused.
pub fn parse_uuid(raw: &str) -> Option<Uuid> {
    if raw.len() != 36 {
        return None;
    }
    Uuid::try_parse(raw).ok()
}

/// A calendar date written `YYYY-MM-DD` with every digit (RFC 3339
/// `full-date`); chrono's `%Y-%m-%d` alone also reads `2012-1-5` and `+2012-01-05`.
pub fn parse_date(raw: &str) -> Option<NaiveDate> {
    let b = raw.as_bytes();
    let shaped = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        });
    if !shaped {
        return None;
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok()
}

/// A school term: `YYYY-Tn` with a year 2000-2100 and n in 1-6. Courses
/// belong to one (students-svc) and a report card covers one (notify-svc):
/// both refuse the same input with the same words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Term(String);

impl Term {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim();
        let b = s.as_bytes();
        let ok = b.len() == 7
            && b[..4].iter().all(u8::is_ascii_digit)
            && &b[4..6] == b"-T"
            && (b'1'..=b'6').contains(&b[6])
            && s[..4]
                .parse::<u16>()
                .is_ok_and(|y| (2000..=2100).contains(&y));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err("term must look like 2026-T1 (year 2000-2100, T1-T6)".into())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Unicode's bidirectional embedding, override and isolate controls, and the
/// directional marks. In a name they can make text display as something else
/// than it is (U+202E reverses what follows), so names refuse them.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Characters that take no visible space: zero-width spaces and joiners, the
/// word joiner and invisible operators, the byte-order mark, the soft hyphen,
/// the Hangul fillers and the Mongolian vowel separator. Joiners are needed
/// inside some scripts and emoji, so they are allowed within text, but text
/// made only of them (and spaces) is empty.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200D}'
            | '\u{2060}'..='\u{2064}'
            | '\u{3164}'
            | '\u{FEFF}'
            | '\u{FFA0}'
    )
}

/// Why a piece of display text (a name, a title) is refused, if it is: it
/// must have something visible, and no control or bidirectional control
/// character. `what` names it in the message. The text is trimmed of
/// spaces and invisible characters at both ends.
pub fn display_text<'a>(raw: &'a str, what: &str) -> Result<&'a str, String> {
    let s = raw.trim_matches(|c: char| c.is_whitespace() || is_invisible(c));
    if s.is_empty() {
        return Err(format!("{what} is required"));
    }
    if s.chars().any(char::is_control) {
        return Err(format!("{what} must not contain control characters"));
    }
    if s.chars().any(is_bidi_control) {
        return Err(format!(
            "{what} must not contain bidirectional control characters"
        ));
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_only_in_canonical_form() {
        let id = "0192c1b4-7f3e-7a3c-9f00-5e1b2c3d4e5f";
        assert!(parse_uuid(id).is_some());
        assert!(parse_uuid(&id.to_uppercase()).is_some());
        for bad in [
            "{0192c1b4-7f3e-7a3c-9f00-5e1b2c3d4e5f}",
            "urn:uuid:0192c1b4-7f3e-7a3c-9f00-5e1b2c3d4e5f",
            "0192c1b47f3e7a3c9f005e1b2c3d4e5f",
            "0192c1b4-7f3e-7a3c-9f00-5e1b2c3d4e5",
            "",
        ] {
            assert!(parse_uuid(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn dates_only_with_every_digit() {
        assert_eq!(
            parse_date("2012-01-05"),
            NaiveDate::from_ymd_opt(2012, 1, 5)
        );
        for bad in [
            "2012-1-5",
            "2012-01-5",
            "+2012-01-05",
            "2012-02-30",
            "2012/01/05",
            " 2012-01-05",
            "20120105",
        ] {
            assert!(parse_date(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn display_text_needs_something_visible_and_no_direction_tricks() {
        assert_eq!(display_text("  Zoë \u{200B}", "name"), Ok("Zoë"));
        // A joiner inside text is part of it (emoji sequences, Indic scripts).
        assert!(display_text("क्\u{200D}ष", "name").is_ok());
        assert_eq!(
            display_text("\u{200D}\u{200D}", "name"),
            Err("name is required".into())
        );
        assert_eq!(
            display_text(" \u{FEFF}\u{3164} ", "name"),
            Err("name is required".into())
        );
        assert!(display_text("Ann\u{202E}nnA", "name")
            .unwrap_err()
            .contains("bidirectional"));
        assert!(display_text("Ann\u{2067}x", "name").is_err());
        assert!(display_text("A\u{0007}", "name")
            .unwrap_err()
            .contains("control"));
    }
}
