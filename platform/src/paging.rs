//! Keyset paging, the one way every list pages: a request's `limit`, the
//! opaque cursor that names the last row of a page, and the cut of a page
//! fetched with one row too many. Cursors are tagged per list so that a
//! cursor of one list is refused by another instead of silently paging from
//! an unrelated key.

use base64::Engine;
use serde::{de::DeserializeOwned, Serialize};

use crate::limits;
use crate::service::Violations;

/// Rows per page when the request names none.
pub const DEFAULT_LIMIT: u32 = 25;

/// The message of every cursor that this server did not issue for this list.
pub const BAD_CURSOR: &str = "cursor is not one this server issued";

/// A cursor longer than this is refused before it is decoded.
const MAX_CURSOR_LEN: usize = 2048;

/// A request's page size: 0 means the default, otherwise `1..=PAGE_MAX`.
pub fn limit(raw: u32) -> Result<u32, String> {
    match raw {
        0 => Ok(DEFAULT_LIMIT),
        1..=limits::PAGE_MAX => Ok(raw),
        _ => Err(format!("limit must be between 1 and {}", limits::PAGE_MAX)),
    }
}

/// A list request's page: its size and the cursor to continue after, each
/// error recorded under the field the client sent (`limit`, `cursor`).
pub fn request<C: Keyset>(v: &mut Violations, limit: u32, cursor: &str) -> (u32, Option<C>) {
    let limit = v.take("limit", self::limit(limit)).unwrap_or(DEFAULT_LIMIT);
    let after = v.take("cursor", C::decode_opt(cursor)).flatten();
    (limit, after)
}

/// How many rows to fetch for a page of `limit`: one more, so that a next
/// page is known to exist without a count.
pub fn fetch(limit: u32) -> i64 {
    i64::from(limit) + 1
}

/// A list's position after the last row of a page: its sort key, with the
/// list's tag. The encoding is base64url JSON of `[tag, key]`.
pub trait Keyset: Serialize + DeserializeOwned {
    /// Which list issued the cursor; unique among the lists of a service.
    const TAG: &'static str;

    fn encode(&self) -> String {
        let json = serde_json::to_vec(&(Self::TAG, self)).unwrap_or_default();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    }

    fn decode(raw: &str) -> Result<Self, String> {
        if raw.len() > MAX_CURSOR_LEN {
            return Err(BAD_CURSOR.into());
        }
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(raw)
            .map_err(|_| BAD_CURSOR.to_owned())?;
        match serde_json::from_slice::<(String, Self)>(&bytes) {
            Ok((tag, key)) if tag == Self::TAG => Ok(key),
            _ => Err(BAD_CURSOR.into()),
        }
    }

    /// An optional cursor field: empty means the first page.
    fn decode_opt(raw: &str) -> Result<Option<Self>, String> {
        if raw.is_empty() {
            Ok(None)
        } else {
            Self::decode(raw).map(Some)
        }
    }
}

/// One page of rows and the cursor of the next page, if there is one.
#[derive(Debug)]
pub struct Page<T, C> {
    pub rows: Vec<T>,
    pub next: Option<C>,
}

impl<T, C> Page<T, C> {
    /// Cuts rows fetched with [`fetch`]`(limit)` to `limit` and, when a row
    /// was cut, builds the next page's cursor from the last row kept.
    pub fn cut(mut rows: Vec<T>, limit: u32, key: impl FnOnce(&T) -> C) -> Self {
        let limit = limit as usize;
        let next = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(key)
        } else {
            None
        };
        Self { rows, next }
    }

    /// The rows, mapped; the cursor kept.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U, C> {
        Page {
            rows: self.rows.into_iter().map(f).collect(),
            next: self.next,
        }
    }
}

impl<T, C: Keyset> Page<T, C> {
    /// The rows and the next page's cursor as the wire carries it (empty on
    /// the last page).
    pub fn into_parts(self) -> (Vec<T>, String) {
        let next = self.next.as_ref().map(Keyset::encode).unwrap_or_default();
        (self.rows, next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct ByName(String, u32);
    impl Keyset for ByName {
        const TAG: &'static str = "n";
    }

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Other(String, u32);
    impl Keyset for Other {
        const TAG: &'static str = "o";
    }

    #[test]
    fn cursors_round_trip_and_are_refused_by_other_lists() {
        let c = ByName("Ng".into(), 7);
        assert_eq!(ByName::decode(&c.encode()).unwrap(), c);
        assert_eq!(Other::decode(&c.encode()).unwrap_err(), BAD_CURSOR);
        assert!(ByName::decode("not base64!").is_err());
        assert!(ByName::decode(&"A".repeat(MAX_CURSOR_LEN + 1)).is_err());
        assert_eq!(ByName::decode_opt("").unwrap(), None);
    }

    #[test]
    fn a_page_is_cut_to_its_limit_with_the_cursor_of_its_last_row() {
        let p = Page::cut(vec![1, 2, 3], 2, |r| *r);
        assert_eq!((p.rows, p.next), (vec![1, 2], Some(2)));
        let p = Page::cut(vec![1, 2], 2, |r| *r);
        assert_eq!((p.rows, p.next), (vec![1, 2], None));
        assert_eq!(fetch(2), 3);
    }

    #[test]
    fn limits_default_and_are_bounded() {
        assert_eq!(limit(0), Ok(DEFAULT_LIMIT));
        assert_eq!(limit(limits::PAGE_MAX), Ok(limits::PAGE_MAX));
        assert!(limit(limits::PAGE_MAX + 1).is_err());
    }
}
