//! JSON shapes of the HTTP API and their conversions from and to proto, one
//! file per resource. This file holds only what several resources share:
//! the wire-format helpers (instants, dates, ids), the field-error collector,
//! and paging (one [`PageParams`] for `limit`/`cursor`, one [`Page`] for the
//! answer). Request bodies reject unknown fields; dates are `YYYY-MM-DD`,
//! instants RFC 3339.

use std::borrow::Cow;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use proto::common::v1 as common;
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};
use uuid::Uuid;

use crate::problem::{ApiError, FieldError};

pub mod accounts;
pub mod analytics;
pub mod announcements;
pub mod courses;
pub mod deliveries;
pub mod fees;
pub mod grades;
pub mod guardians;
pub mod import;
pub mod notification_templates;
pub mod notifications;
pub mod report_cards;
pub mod schools;
pub mod staff;
pub mod students;

/// A proto timestamp as an instant (`None` when unset or out of range).
pub(crate) fn instant(t: Option<prost_types::Timestamp>) -> Option<DateTime<Utc>> {
    t.and_then(|t| DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).unwrap_or(0)))
}

/// A proto date as a calendar date (`None` when unset or not a real day).
pub(crate) fn date_of(d: Option<common::Date>) -> Option<NaiveDate> {
    d.and_then(|d| NaiveDate::from_ymd_opt(d.year, d.month, d.day))
}

/// A UUID a service sent; the nil UUID if it sent none.
pub(crate) fn uuid_or_nil(s: &str) -> Uuid {
    platform::text::parse_uuid(s).unwrap_or_default()
}

/// An optional UUID a service sent (empty is none).
pub(crate) fn opt_uuid(s: &str) -> Option<Uuid> {
    platform::text::parse_uuid(s)
}

/// Optional text a service sent (proto has no null: empty is none).
pub(crate) fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

/// Parses `YYYY-MM-DD` into the proto date.
pub fn parse_date(field: &str, s: &str) -> Result<common::Date, ApiError> {
    platform::text::parse_date(s)
        .map(|d| common::Date {
            year: d.year(),
            month: d.month(),
            day: d.day(),
        })
        .ok_or_else(|| ApiError::field(field, DATE))
}

const DATE: &str = "must be a calendar date formatted YYYY-MM-DD";

pub const DEFAULT_LIMIT: u32 = 25;
pub const MAX_LIMIT: u32 = 100;

/// Collects the field errors found at the edge (query parameters, values
/// the gateway converts), each naming its field, so one request reports
/// them all at once.
#[derive(Default)]
pub(crate) struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.to_owned(),
            message: message.into(),
        });
    }

    /// A `YYYY-MM-DD` date, or none (and an error) if it is not one.
    pub fn date(&mut self, field: &str, raw: &str) -> Option<common::Date> {
        let date = parse_date(field, raw).ok();
        if date.is_none() {
            self.add(field, DATE);
        }
        date
    }

    /// An optional UUID filter as proto has it: empty for none, and for a
    /// value that is no UUID (with an error).
    pub fn uuid_filter(&mut self, field: &str, raw: Option<&str>) -> String {
        let Some(raw) = raw else {
            return String::new();
        };
        match platform::text::parse_uuid(raw) {
            Some(id) => id.to_string(),
            None => {
                self.add(field, "must be a UUID");
                String::new()
            }
        }
    }

    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.0))
        }
    }
}

/// The paging parameters of every list, as sent: `limit` 1-100 (default
/// 25) and the `cursor` a previous page returned. A list with filters
/// embeds it with `#[serde(flatten)]`; a list without takes it alone.
///
/// (serde's message for an unknown parameter of a flattening struct names
/// the parameter but not the expected ones; the field is `query` either way.)
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageParams {
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

impl PageParams {
    /// The proto page; a bad `limit` is a field error in `e`. Parsed first
    /// in every list, so `limit` leads the errors.
    pub(crate) fn parse(self, e: &mut FieldErrors) -> common::PageRequest {
        let limit = match self.limit.as_deref() {
            None => DEFAULT_LIMIT,
            Some(s) => match s.parse::<u32>() {
                Ok(n @ 1..=MAX_LIMIT) => n,
                _ => {
                    e.add(
                        "limit",
                        format!("must be an integer between 1 and {MAX_LIMIT}"),
                    );
                    0
                }
            },
        };
        common::PageRequest {
            limit,
            cursor: self.cursor.unwrap_or_default(),
        }
    }

    /// The page of a list that takes no other parameter.
    pub fn into_proto(self) -> Result<common::PageRequest, ApiError> {
        let mut e = FieldErrors::default();
        let page = self.parse(&mut e);
        e.finish()?;
        Ok(page)
    }
}

/// A service's items as the API's.
pub(crate) fn items<P: Into<T>, T>(items: Vec<P>) -> Vec<T> {
    items.into_iter().map(Into::into).collect()
}

/// The cursor of the next page; none on the last page (proto: empty).
pub(crate) fn next_cursor(page: Option<common::PageInfo>) -> Option<String> {
    page.map(|p| p.next_cursor).filter(|c| !c.is_empty())
}

/// One page of a keyset-paginated list: `{items, next_cursor}`.
///
/// Each item type names its page's schema ([`Paged::PAGE`]), so the
/// document keeps one named schema per list (`StudentPage`, ...). Handlers
/// document the page through an alias (`body = StudentPage`, with
/// `type StudentPage = Page<Student>`): utoipa names a generic written out
/// in `body = Page<Student>` itself, as `Page_Student`.
#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// An item of a paginated list.
pub trait Paged: ToSchema {
    /// The name of its page's schema.
    const PAGE: &'static str;
}

impl<T> Page<T> {
    /// A page from a service's items and page.
    pub fn new<P: Into<T>>(items: Vec<P>, page: Option<common::PageInfo>) -> Self {
        Self {
            items: self::items(items),
            next_cursor: next_cursor(page),
        }
    }
}

const NEXT_CURSOR: &str = "Pass as `cursor` to get the next page; null on the last page.";

impl<T: Paged> PartialSchema for Page<T> {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .property(
                "items",
                ArrayBuilder::new().items(Ref::from_schema_name(T::name())),
            )
            .required("items")
            .property(
                "next_cursor",
                ObjectBuilder::new()
                    .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
                    .description(Some(NEXT_CURSOR)),
            )
            .into()
    }
}

impl<T: Paged> ToSchema for Page<T> {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed(T::PAGE)
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((T::name().into_owned(), T::schema()));
        T::schemas(schemas);
    }
}
