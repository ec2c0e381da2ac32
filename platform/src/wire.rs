//! Wire-format conversions the services share: times and dates as the proto
//! messages carry them. Kept apart from every resource module so that a
//! model, a repository and the outbox can all use them without importing
//! each other.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use proto::common::v1 as common;

pub fn timestamp(t: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: i32::try_from(t.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

pub fn date(d: NaiveDate) -> common::Date {
    common::Date {
        year: d.year(),
        month: d.month(),
        day: d.day(),
    }
}
