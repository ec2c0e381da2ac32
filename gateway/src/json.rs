//! Strict request parsing: bodies must be JSON of a known shape (unknown
//! fields rejected) and errors name the field that is wrong.

use std::{borrow::Cow, future::Future, pin::Pin};

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;

use crate::problem::{ApiError, FieldError};

/// A JSON body parsed into `T`; `T` should use `deny_unknown_fields`.
pub struct JsonBody<T>(pub T);

/// The body limit, from config; stored as app data.
#[derive(Clone, Copy)]
pub struct BodyLimit(pub usize);

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req.app_data::<BodyLimit>().map_or(64 * 1024, |l| l.0);
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !is_json {
                return Err(ApiError::UnsupportedMediaType("application/json"));
            }
            let body = bytes.await.map_err(|e| {
                if e.as_response_error().status_code().as_u16() == 413 {
                    ApiError::PayloadTooLarge(limit)
                } else {
                    ApiError::MalformedBody("the request body could not be read".into())
                }
            })?;
            parse(&body).map(JsonBody)
        })
    }
}

/// Parses JSON, turning serde's error into a field error where it can.
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let body = integral_numbers(body);
    let mut de = serde_json::Deserializer::from_slice(&body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            ApiError::MalformedBody(format!("the request body is not valid JSON: {inner}"))
        } else {
            let message = strip_position(&inner.to_string());
            let parent = if path == "." { String::new() } else { path };
            ApiError::Validation(vec![FieldError {
                field: field_of(&parent, &message),
                message,
            }])
        }
    })?;
    de.end()
        .map_err(|_| ApiError::MalformedBody("trailing data after the JSON body".into()))?;
    Ok(value)
}

/// The body with numbers written with a zero fraction (`5.0`, `-12.00`)
/// written as integers (`5`): they are integers (JSON Schema's `integer`
/// includes them, and the OpenAPI document says `integer`), which serde's
/// integer types would refuse. Strings are left as they are.
fn integral_numbers(body: &[u8]) -> Cow<'_, [u8]> {
    // Scanned in place; a copy is made only once a number needs rewriting,
    // so the usual body (no `5.0`) costs no allocation.
    let mut out: Option<Vec<u8>> = None;
    let (mut copied, mut i, mut in_string) = (0, 0, false);
    while i < body.len() {
        let c = body[i];
        if in_string {
            match c {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        if !(c == b'-' || c.is_ascii_digit()) {
            in_string = c == b'"';
            i += 1;
            continue;
        }
        let start = i;
        while i < body.len() && matches!(body[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') {
            i += 1;
        }
        let token = &body[start..i];
        let integral = token.iter().position(|&b| b == b'.').filter(|&dot| {
            let fraction = &token[dot + 1..];
            dot > 0
                && token[dot - 1].is_ascii_digit()
                && !fraction.is_empty()
                && fraction.iter().all(|&b| b == b'0')
        });
        if let Some(dot) = integral {
            let out = out.get_or_insert_with(|| Vec::with_capacity(body.len()));
            out.extend_from_slice(&body[copied..start + dot]);
            copied = i;
        }
    }
    match out {
        Some(mut out) => {
            out.extend_from_slice(&body[copied..]);
            Cow::Owned(out)
        }
        None => Cow::Borrowed(body),
    }
}

/// The field an error is about. serde's path ends at the object for a
/// field that is missing or given twice; its message names the field.
fn field_of(parent: &str, message: &str) -> String {
    let named = ["missing field `", "duplicate field `"]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix)?.split('`').next());
    match named {
        Some(name) if parent.is_empty() => name.to_owned(),
        Some(name) => format!("{parent}.{name}"),
        None => parent.to_owned(),
    }
}

fn strip_position(msg: &str) -> String {
    match msg.find(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg.to_owned(),
    }
}

/// Parses a query string strictly into `T` (unknown parameters rejected).
pub fn query<T: DeserializeOwned>(req: &HttpRequest) -> Result<T, ApiError> {
    web::Query::<T>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .map_err(|e| {
            let message = strip_position(&e.to_string());
            match field_of("", &message) {
                named if !named.is_empty() => ApiError::field(&named, message),
                _ => ApiError::field("query", message),
            }
        })
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        email: String,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        admission_no: String,
        login: Option<Inner>,
    }

    fn fields(body: &str) -> Vec<(String, String)> {
        match parse::<Outer>(body.as_bytes()) {
            Err(ApiError::Validation(f)) => f.into_iter().map(|e| (e.field, e.message)).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn integral_numbers_are_integers() {
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Counts {
            a: i32,
            b: i64,
            c: f64,
            s: String,
        }
        let c: Counts = parse(br#"{"a": 5.0, "b": -12.00, "c": 1.50, "s": "7.0 \" 3.0"}"#).unwrap();
        assert_eq!((c.a, c.b, c.c, c.s.as_str()), (5, -12, 1.5, "7.0 \" 3.0"));
        // Nothing to rewrite (a dot in a string, a real fraction): no copy.
        assert!(matches!(
            integral_numbers(br#"{"e": "a.b@c.d", "c": 1.5}"#),
            Cow::Borrowed(_)
        ));
        assert!(matches!(
            parse::<Counts>(br#"{"a": 5.5, "b": 1, "c": 1, "s": ""}"#),
            Err(ApiError::Validation(_))
        ));
    }

    #[test]
    fn missing_and_duplicated_fields_are_named() {
        assert_eq!(
            fields("{}"),
            [("admission_no".into(), "missing field `admission_no`".into())]
        );
        assert_eq!(
            fields(r#"{"admission_no": "A", "login": {}}"#),
            [("login.email".into(), "missing field `email`".into())]
        );
        assert_eq!(
            fields(r#"{"admission_no": "A", "admission_no": "B"}"#)[0].0,
            "admission_no"
        );
        assert_eq!(fields(r#"{"admission_no": 5}"#)[0].0, "admission_no");
    }
}
