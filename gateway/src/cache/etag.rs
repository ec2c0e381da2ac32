//! Strong ETags from content hashes, and `If-None-Match` evaluation
//! (RFC 9110 §13.1.2: weak comparison). A malformed header is ignored, so it
//! can only cost a full answer, never a wrong 304.

use actix_web::http::header::HeaderValue;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use sha2::{Digest, Sha256};

pub fn of(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    format!("\"{}\"", URL_SAFE_NO_PAD.encode(&digest[..16]))
}

fn opaque(tag: &str) -> Option<&str> {
    let tag = tag.strip_prefix("W/").unwrap_or(tag);
    let inner = tag.strip_prefix('"')?.strip_suffix('"')?;
    // etagc = %x21 / %x23-7E / obs-text; no quotes inside.
    inner
        .bytes()
        .all(|b| b == 0x21 || (0x23..=0x7e).contains(&b) || b >= 0x80)
        .then_some(inner)
}

/// True when `If-None-Match` names `etag` (or is `*`).
pub fn matches(if_none_match: Option<&HeaderValue>, etag: &str) -> bool {
    let Some(Ok(header)) = if_none_match.map(HeaderValue::to_str) else {
        return false;
    };
    let Some(ours) = opaque(etag) else {
        return false;
    };
    let header = header.trim();
    if header == "*" {
        return true;
    }
    let mut any = false;
    for tag in header.split(',').map(str::trim) {
        match opaque(tag) {
            Some(t) => any |= t == ours,
            // One malformed member makes the whole header unusable.
            None => return false,
        }
    }
    any
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evaluates_if_none_match() {
        let etag = of(b"{\"a\":1}");
        assert_eq!(etag, of(b"{\"a\":1}"));
        assert_ne!(etag, of(b"{\"a\":2}"));
        let h = |s: &str| HeaderValue::from_str(s).unwrap();
        assert!(matches(Some(&h(&etag)), &etag));
        assert!(matches(Some(&h(&format!("W/{etag}"))), &etag));
        assert!(matches(Some(&h(&format!("\"x\", {etag}"))), &etag));
        assert!(matches(Some(&h("*")), &etag));
        assert!(!matches(None, &etag));
        assert!(!matches(Some(&h("\"other\"")), &etag));
        for bad in [
            "",
            "garbage",
            "\"unterminated",
            &format!("{etag}, bad"),
            ",,,",
            "W/",
        ] {
            assert!(!matches(Some(&h(bad)), &etag), "{bad:?}");
        }
        let binary = HeaderValue::from_bytes(b"\"\xff\xfe\"").unwrap();
        assert!(!matches(Some(&binary), &etag));
    }
}
