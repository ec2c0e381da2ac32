//! The parts of an e-mail, parsed where they enter the service.

use std::fmt;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InvalidEmail {
    #[error("e-mail address must be local@domain, at most 254 characters")]
    Address,
    #[error("subject must be 1 to 200 characters on one line")]
    Subject,
    #[error("body must be 1 to 20000 characters")]
    Body,
}

/// A mailbox address. Its `Debug` and `Display` are masked, so it cannot
/// leak into a log by accident.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<Self, InvalidEmail> {
        let raw = raw.trim();
        // lettre's own parser is the one that must accept it at send time.
        let ok = raw.len() <= 254
            && raw.parse::<lettre::Address>().is_ok()
            && !raw.chars().any(|c| c.is_control() || c.is_whitespace());
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidEmail::Address)
        }
    }

    /// The full address: for the SMTP envelope only.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `a***@example.org`: the first character and the domain.
    pub fn masked(&self) -> String {
        mask(&self.0)
    }
}

/// Masks an address as [`EmailAddress::masked`] does (for stored values
/// that are shown to an operator).
pub fn mask(raw: &str) -> String {
    match raw.rsplit_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_owned(),
    }
}

impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = InvalidEmail;
    fn try_from(s: String) -> Result<Self, InvalidEmail> {
        Self::parse(&s)
    }
}

impl From<EmailAddress> for String {
    fn from(a: EmailAddress) -> String {
        a.0
    }
}

/// One plain-text e-mail to one recipient, as a job carries it.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EmailMessage {
    pub to: EmailAddress,
    pub subject: String,
    pub text: String,
}

impl fmt::Debug for EmailMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmailMessage")
            .field("to", &self.to)
            .field("subject_chars", &self.subject.chars().count())
            .field("text_chars", &self.text.chars().count())
            .finish()
    }
}

impl EmailMessage {
    pub fn new(to: EmailAddress, subject: &str, text: &str) -> Result<Self, InvalidEmail> {
        let subject = subject.trim();
        let n = subject.chars().count();
        if !(1..=200).contains(&n) || subject.chars().any(char::is_control) {
            return Err(InvalidEmail::Subject);
        }
        let n = text.chars().count();
        if !(1..=20_000).contains(&n) {
            return Err(InvalidEmail::Body);
        }
        Ok(Self {
            to,
            subject: subject.to_owned(),
            text: text.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_parsed_and_masked() {
        let a = EmailAddress::parse(" ada@home.test ").unwrap();
        assert_eq!(a.as_str(), "ada@home.test");
        assert_eq!(format!("{a} {a:?}"), "a***@home.test a***@home.test");
        for bad in ["", "ada", "ada@", "@x.test", "a b@x.test", "a\n@x.test"] {
            assert_eq!(
                EmailAddress::parse(bad),
                Err(InvalidEmail::Address),
                "{bad:?}"
            );
        }
        assert_eq!(mask("nobody"), "***");
    }

    #[test]
    fn subjects_and_bodies_are_bounded() {
        let to = EmailAddress::parse("a@x.test").unwrap();
        assert!(EmailMessage::new(to.clone(), "Hi", "Body").is_ok());
        assert_eq!(
            EmailMessage::new(to.clone(), "a\nb", "Body"),
            Err(InvalidEmail::Subject)
        );
        assert_eq!(
            EmailMessage::new(to.clone(), "Hi", ""),
            Err(InvalidEmail::Body)
        );
        let m = EmailMessage::new(to, "Hi", "Body").unwrap();
        assert!(!format!("{m:?}").contains("a@x.test"));
    }
}
