//! The parts of a text message, parsed where they enter the service.

use std::fmt;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InvalidMessage {
    #[error("phone number must be in E.164 form: '+' and 8 to 15 digits")]
    PhoneNumber,
    #[error(
        "message text must be 1 to 1600 characters without control characters other than newlines"
    )]
    Text,
}

/// An E.164 number (`+` and 8–15 digits, no leading zero). Its `Debug` and
/// `Display` are masked, so it cannot leak into a log by accident.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub fn parse(raw: &str) -> Result<Self, InvalidMessage> {
        let digits = raw.strip_prefix('+').ok_or(InvalidMessage::PhoneNumber)?;
        let ok = (8..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidMessage::PhoneNumber)
        }
    }

    /// The full number: for the provider request only.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `+44********23`: the first two digits (about the country) and the
    /// last two, enough to tell messages apart in an incident.
    pub fn masked(&self) -> String {
        let digits = &self.0[1..];
        let (head, rest) = digits.split_at(2);
        let tail = &rest[rest.len() - 2..];
        format!("+{head}{}{tail}", "*".repeat(rest.len() - 2))
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl TryFrom<String> for PhoneNumber {
    type Error = InvalidMessage;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<PhoneNumber> for String {
    fn from(p: PhoneNumber) -> Self {
        p.0
    }
}

/// The text of one message: 1–1600 characters (ten concatenated segments).
/// Its `Debug` shows only its length: message texts name pupils.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SmsText(String);

impl SmsText {
    pub const MAX_CHARS: usize = 1600;

    pub fn parse(raw: &str) -> Result<Self, InvalidMessage> {
        let n = raw.chars().count();
        let ok = (1..=Self::MAX_CHARS).contains(&n)
            && !raw.trim().is_empty()
            && raw.chars().all(|c| c == '\n' || !c.is_control());
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidMessage::Text)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SmsText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SmsText({} chars)", self.0.chars().count())
    }
}

impl TryFrom<String> for SmsText {
    type Error = InvalidMessage;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<SmsText> for String {
    fn from(t: SmsText) -> Self {
        t.0
    }
}

/// One text message to one number.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SmsMessage {
    pub to: PhoneNumber,
    pub text: SmsText,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_are_e164() {
        for ok in ["+447700900123", "+12025550123", "+3361234567"] {
            assert!(PhoneNumber::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "+",
            "447700900123",
            "+44 7700 900123",
            "+0447700900123",
            "+1234567",
            "+1234567890123456",
            "+44770090012a",
        ] {
            assert_eq!(
                PhoneNumber::parse(bad),
                Err(InvalidMessage::PhoneNumber),
                "{bad}"
            );
        }
    }

    #[test]
    fn masking_hides_all_but_four_digits() {
        let p = PhoneNumber::parse("+447700900123").unwrap();
        assert_eq!(p.masked(), "+44********23");
        assert_eq!(format!("{p}"), "+44********23");
        assert_eq!(format!("{p:?}"), "+44********23");
        let shortest = PhoneNumber::parse("+33612345").unwrap();
        assert_eq!(shortest.masked(), "+33****45");
        let msg = SmsMessage {
            to: p,
            text: SmsText::parse("Ada was absent today").unwrap(),
        };
        let debug = format!("{msg:?}");
        assert!(!debug.contains("7700900"), "{debug}");
        assert!(!debug.contains("Ada"), "{debug}");
    }

    #[test]
    fn texts_are_bounded() {
        assert!(SmsText::parse("Hello\nthere").is_ok());
        assert!(SmsText::parse(&"é".repeat(1600)).is_ok());
        for bad in [
            String::new(),
            "   ".into(),
            "a\u{0}b".into(),
            "x".repeat(1601),
        ] {
            assert_eq!(SmsText::parse(&bad), Err(InvalidMessage::Text));
        }
    }

    #[test]
    fn stored_payloads_are_validated_when_read() {
        let bad = serde_json::json!({"to": "12345", "text": "hi"});
        assert!(serde_json::from_value::<SmsMessage>(bad).is_err());
        let good = serde_json::json!({"to": "+447700900123", "text": "hi"});
        assert!(serde_json::from_value::<SmsMessage>(good).is_ok());
    }
}
