//! Domain values more than one resource shares (names, e-mail addresses,
//! passwords, school slugs, phone numbers, logins). Each parses raw text
//! into a value that is valid by construction; a resource's own values live
//! in its `domain.rs`.

use chrono::NaiveDate;
use platform::limits;
use proto::common::v1 as common;
use uuid::Uuid;

/// A UUID field, as a violation message when it is not one.
pub(crate) fn uuid(raw: &str) -> Result<Uuid, String> {
    platform::text::parse_uuid(raw).ok_or_else(|| "must be a UUID".to_owned())
}

/// Display text (names, titles, rooms): something visible, at most
/// `max_chars`, no control or bidirectional control characters.
pub(crate) fn bounded_text(raw: &str, what: &str, max_chars: usize) -> Result<String, String> {
    let s = platform::text::display_text(raw, what)?;
    if s.chars().count() > max_chars {
        return Err(format!("{what} must be at most {max_chars} characters"));
    }
    Ok(s.to_owned())
}

/// A person's given or family name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    pub fn parse(raw: &str) -> Result<Self, String> {
        bounded_text(raw, "name", limits::PERSON_NAME_MAX).map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// URL-safe school handle used at login: 3–40 of `a-z 0-9 -`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slug(String);

impl Slug {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim().to_ascii_lowercase();
        let ok_len = (limits::SLUG_MIN..=limits::SLUG_MAX).contains(&s.len());
        let ok_chars = s
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !ok_len || !ok_chars || s.starts_with('-') || s.ends_with('-') {
            return Err("slug must be 3-40 characters of a-z, 0-9 and inner hyphens".into());
        }
        Ok(Self(s))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Lower-cased e-mail address with one `@`, a dotted domain and no spaces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim().to_lowercase();
        let valid = s.len() <= limits::EMAIL_MAX
            && !s.chars().any(|c| c.is_whitespace() || c.is_control())
            && match s.split_once('@') {
                Some((local, domain)) => {
                    !local.is_empty()
                        && local.len() <= limits::EMAIL_LOCAL_MAX
                        && !domain.contains('@')
                        && domain.contains('.')
                        && !domain.starts_with('.')
                        && !domain.ends_with('.')
                }
                None => false,
            };
        if valid {
            Ok(Self(s))
        } else {
            Err("must be a valid e-mail address".into())
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password: 10–128 characters. Never logged, never stored in clear.
pub struct NewPassword(String);

impl NewPassword {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let n = raw.chars().count();
        if !(limits::PASSWORD_MIN..=limits::PASSWORD_MAX).contains(&n) {
            return Err("password must be 10-128 characters".into());
        }
        Ok(Self(raw.to_owned()))
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

pub struct NewLogin {
    pub email: Email,
    pub password: NewPassword,
}

/// A phone number in E.164: `+`, then 8-15 digits, the first not zero.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim();
        let ok = s.strip_prefix('+').is_some_and(|digits| {
            (8..=15).contains(&digits.len())
                && digits.bytes().all(|b| b.is_ascii_digit())
                && !digits.starts_with('0')
        });
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err("phone must be in E.164 format: '+' then 8-15 digits, the first not 0".into())
        }
    }

    /// An empty value means "none".
    pub fn parse_optional(raw: &str) -> Result<Option<Self>, String> {
        if raw.trim().is_empty() {
            Ok(None)
        } else {
            Self::parse(raw).map(Some)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An optional e-mail: empty means none.
pub fn optional_email(raw: &str) -> Result<Option<Email>, String> {
    if raw.trim().is_empty() {
        Ok(None)
    } else {
        Email::parse(raw).map(Some)
    }
}

/// A calendar date (2000-01-01 to 2100-12-31: attendance is never older or
/// further ahead).
pub fn school_date(d: Option<&common::Date>) -> Result<NaiveDate, String> {
    let d = d.ok_or("date is required")?;
    let date = u32::try_from(d.year)
        .ok()
        .and_then(|_| NaiveDate::from_ymd_opt(d.year, d.month, d.day))
        .ok_or("date is not a valid calendar date")?;
    let (lo, hi) = (
        NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or(NaiveDate::MIN),
        NaiveDate::from_ymd_opt(2100, 12, 31).unwrap_or(NaiveDate::MAX),
    );
    if date < lo || date > hi {
        return Err("date must be between 2000-01-01 and 2100-12-31".into());
    }
    Ok(date)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(PersonName::parse("  Ada ").unwrap().as_str(), "Ada");
        assert!(PersonName::parse("   ").is_err());
        assert!(PersonName::parse(&"x".repeat(101)).is_err());
        assert!(PersonName::parse("a\u{0}b").is_err());
        assert!(PersonName::parse("Zoë O'Brien-Ngā").is_ok());
    }

    #[test]
    fn slugs_and_emails() {
        assert_eq!(Slug::parse("North-High").unwrap().as_str(), "north-high");
        for bad in ["ab", "-abc", "abc-", "a b c", "école"] {
            assert!(Slug::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Email::parse(" A@B.org ").unwrap().as_str(), "a@b.org");
        for bad in ["a", "a@b", "@b.org", "a@@b.org", "a b@c.org", "a@.org"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }
}
