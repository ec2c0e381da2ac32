//! Notice kinds, their built-in English wording, and rendering with
//! minijinja under strict undefined behaviour: a variable a template names
//! but the notice does not provide is an error, at save time (rendered with
//! a sample) as at send time.

use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

/// The notices whose wording comes from a template.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NoticeKind {
    GradesPublished,
    InvoiceIssued,
    InvoiceOverdue,
    PaymentReceipt,
}

impl NoticeKind {
    pub const ALL: [NoticeKind; 4] = [
        Self::GradesPublished,
        Self::InvoiceIssued,
        Self::InvoiceOverdue,
        Self::PaymentReceipt,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::GradesPublished => "grades_published",
            Self::InvoiceIssued => "invoice_issued",
            Self::InvoiceOverdue => "invoice_overdue",
            Self::PaymentReceipt => "payment_receipt",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The built-in English template (subject, body).
    pub fn default_template(self) -> Template {
        let (subject, body) = match self {
            Self::GradesPublished => (
                "New grade for {{ student_name }}: {{ assessment }}",
                "Dear {{ guardian_name }},\n\n{{ student_name }} scored {{ score }} out of \
                 {{ max_score }} in {{ assessment }}.\n\n{{ school_name }}",
            ),
            Self::InvoiceIssued => (
                "Invoice for {{ student_name }}: {{ amount_due }} {{ currency }} due {{ due_on }}",
                "Dear {{ guardian_name }},\n\nAn invoice of {{ total }} {{ currency }} for \
                 {{ student_name }} has been issued. {{ amount_due }} {{ currency }} is due by \
                 {{ due_on }}.\n\n{{ school_name }}",
            ),
            Self::InvoiceOverdue => (
                "Overdue: {{ amount_due }} {{ currency }} for {{ student_name }}",
                "Dear {{ guardian_name }},\n\nThe invoice for {{ student_name }} was due on \
                 {{ due_on }} and is {{ days_overdue }} days overdue. {{ amount_due }} \
                 {{ currency }} is still to pay.\n\n{{ school_name }}",
            ),
            Self::PaymentReceipt => (
                "Receipt: {{ amount }} {{ currency }} received for {{ student_name }}",
                "Dear {{ guardian_name }},\n\nWe received {{ amount }} {{ currency }} by \
                 {{ method }} (reference {{ reference }}) for {{ student_name }}. Balance left: \
                 {{ balance }} {{ currency }}.\n\n{{ school_name }}",
            ),
        };
        Template {
            subject: subject.to_owned(),
            body: body.to_owned(),
        }
    }

    /// A context with every variable the kind provides, for validation.
    pub fn sample(self) -> serde_json::Value {
        let common = serde_json::json!({
            "school_name": "Springfield Elementary",
            "guardian_name": "Marge Simpson",
            "student_name": "Lisa Simpson",
        });
        let extra = match self {
            Self::GradesPublished => serde_json::json!({
                "assessment": "Fractions quiz", "score": "18.5", "max_score": "20",
            }),
            Self::InvoiceIssued => serde_json::json!({
                "total": "150.00", "amount_due": "150.00", "currency": "EUR",
                "due_on": "2027-01-31",
            }),
            Self::InvoiceOverdue => serde_json::json!({
                "total": "150.00", "amount_due": "50.00", "currency": "EUR",
                "due_on": "2027-01-31", "days_overdue": 7,
            }),
            Self::PaymentReceipt => serde_json::json!({
                "amount": "100.00", "currency": "EUR", "method": "card",
                "reference": "R-1042", "balance": "50.00",
            }),
        };
        let mut out = common;
        if let (Some(o), serde_json::Value::Object(e)) = (out.as_object_mut(), extra) {
            o.extend(e);
        }
        out
    }
}

/// A language code: two lowercase ASCII letters (ISO 639-1).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Lang(String);

/// The language every school has a built-in set in, and the school's
/// language (schools carry none of their own yet): what a guardian without a
/// preferred language, or one the school has no template in, is written to
/// in.
pub const DEFAULT_LANG: &str = "en";

impl Lang {
    pub fn parse(raw: &str) -> Option<Self> {
        (raw.len() == 2 && raw.bytes().all(|b| b.is_ascii_lowercase())).then(|| Self(raw.into()))
    }

    pub fn default_lang() -> Self {
        Self(DEFAULT_LANG.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A subject and body template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    pub subject: String,
    pub body: String,
}

/// A rendered notice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub body: String,
}

/// Why a template does not render: the text names the part and the error
/// (it is shown to the admin who saved the template).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct TemplateError(pub String);

/// Longest rendered subject and body.
const MAX_SUBJECT: usize = 200;
const MAX_BODY: usize = 10_000;
/// Instructions one render may run: plenty for a notice, not for a loop
/// over `range(100000)`.
const FUEL: u64 = 20_000;

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // Bounds the work one render may do (a template is admin input).
    env.set_fuel(Some(FUEL));
    env
}

fn describe(part: &str, e: &minijinja::Error) -> TemplateError {
    let mut text = format!("{part}: {}", e.kind());
    if let Some(d) = e.detail() {
        text.push_str(": ");
        text.push_str(d);
    }
    if let Some(line) = e.line() {
        text.push_str(&format!(" (line {line})"));
    }
    TemplateError(text)
}

impl Template {
    pub fn render<C: Serialize>(&self, ctx: &C) -> Result<Rendered, TemplateError> {
        let env = environment();
        let ctx = minijinja::Value::from(minijinja::value::Serde(ctx));
        let subject = env
            .render_str(&self.subject, ctx.clone())
            .map_err(|e| describe("subject", &e))?;
        let subject = subject.trim().to_owned();
        if subject.is_empty() || subject.chars().count() > MAX_SUBJECT {
            return Err(TemplateError(format!(
                "subject: renders to {} characters (1 to {MAX_SUBJECT} allowed)",
                subject.chars().count()
            )));
        }
        if subject.chars().any(char::is_control) {
            return Err(TemplateError(
                "subject: renders to more than one line".into(),
            ));
        }
        let body = env
            .render_str(&self.body, ctx)
            .map_err(|e| describe("body", &e))?;
        if body.trim().is_empty() || body.chars().count() > MAX_BODY {
            return Err(TemplateError(format!(
                "body: renders to {} characters (1 to {MAX_BODY} allowed)",
                body.chars().count()
            )));
        }
        Ok(Rendered { subject, body })
    }

    /// Renders with the kind's sample: `Ok` when it would render for every
    /// notice of that kind.
    pub fn validate(&self, kind: NoticeKind) -> Result<Rendered, TemplateError> {
        self.render(&kind.sample())
    }
}

/// `12345` minor units of `currency` → `"123.45"` (the currency's own
/// number of decimals; 2 when unknown).
pub fn money(minor: i64, currency: &str) -> String {
    let exp = iso_currency::Currency::from_code(currency)
        .and_then(|c| c.exponent())
        .unwrap_or(2);
    if exp == 0 {
        return minor.to_string();
    }
    let scale = 10i64.pow(u32::from(exp));
    let sign = if minor < 0 { "-" } else { "" };
    let m = minor.unsigned_abs();
    let s = scale.unsigned_abs();
    format!(
        "{sign}{}.{:0width$}",
        m / s,
        m % s,
        width = usize::from(exp)
    )
}

/// A score in hundredths of a point → `"18.5"`, `"20"`.
pub fn points(hundredths: i64) -> String {
    let whole = hundredths / 100;
    let frac = (hundredths % 100).abs();
    match frac {
        0 => whole.to_string(),
        f if f % 10 == 0 => format!("{whole}.{}", f / 10),
        f => format!("{whole}.{f:02}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_renders_its_sample() {
        for k in NoticeKind::ALL {
            let r = k.default_template().validate(k).unwrap();
            assert!(r.body.contains("Lisa Simpson"), "{k:?}: {r:?}");
            assert_eq!(NoticeKind::parse(k.as_str()), Some(k));
        }
    }

    #[test]
    fn unknown_variables_and_syntax_errors_are_named() {
        let t = Template {
            subject: "Hi {{ nope }}".into(),
            body: "x".into(),
        };
        let e = t.validate(NoticeKind::PaymentReceipt).unwrap_err();
        assert!(e.0.starts_with("subject: undefined value"), "{e}");
        let t = Template {
            subject: "Hi".into(),
            body: "{% if %}".into(),
        };
        let e = t.validate(NoticeKind::PaymentReceipt).unwrap_err();
        assert!(e.0.starts_with("body: syntax error"), "{e}");
    }

    #[test]
    fn amounts_and_points_are_formatted() {
        assert_eq!(money(12345, "EUR"), "123.45");
        assert_eq!(money(5, "USD"), "0.05");
        assert_eq!(money(500, "JPY"), "500");
        assert_eq!(money(-150, "GBP"), "-1.50");
        assert_eq!(points(1850), "18.5");
        assert_eq!(points(2000), "20");
        assert_eq!(points(1875), "18.75");
        assert_eq!(Lang::parse("en").unwrap().as_str(), "en");
        assert!(Lang::parse("EN").is_none() && Lang::parse("eng").is_none());
    }
}
