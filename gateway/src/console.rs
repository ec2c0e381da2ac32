//! The web console (`web/`): static files served at `/` beside the API, on
//! the same origin (no CORS). Loaded once at start-up: the assets under
//! `assets/` get one fingerprint, a hash of all of them, and are served at
//! `/assets/<hash>/<name>`, cacheable for a year (`immutable`); a change to
//! any file changes every URL, and the ES modules' relative imports resolve
//! inside the same fingerprint without rewriting them. `index.html` (its
//! `/assets/` references rewritten at load) is `no-cache` and answers every
//! other `GET` outside `/api/`, so the console's own routes survive a reload.
//! Console responses carry a strict Content-Security-Policy: the console
//! has no inline script or style.

use std::{collections::HashMap, path::Path};

use actix_web::{
    http::{header, Method},
    web, HttpRequest, HttpResponse,
};
use anyhow::Context;
use bytes::Bytes;
use sha2::{Digest, Sha256};

/// Same-origin everything; WebSockets to the gateway itself; no framing.
pub const CSP: &str = "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; \
     style-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'; \
     base-uri 'none'; form-action 'self'";

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

struct Asset {
    body: Bytes,
    content_type: &'static str,
}

pub struct Console {
    index: Bytes,
    /// The fingerprint: the first 16 hex digits of the assets' hash.
    hash: String,
    assets: HashMap<String, Asset>,
}

impl Console {
    /// Reads `dir/index.html` and the files of `dir/assets/` (one level).
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        let index_path = dir.join("index.html");
        let index = std::fs::read_to_string(&index_path)
            .with_context(|| format!("console: cannot read {}", index_path.display()))?;
        let assets_dir = dir.join("assets");
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&assets_dir)
            .with_context(|| format!("console: cannot read {}", assets_dir.display()))?
        {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                if let Some(name) = entry.file_name().to_str() {
                    names.push(name.to_owned());
                }
            }
        }
        // Sorted, so that the same files always give the same fingerprint.
        names.sort();
        let mut digest = Sha256::new();
        let mut assets = HashMap::new();
        for name in names {
            let Some(content_type) = content_type(&name) else {
                continue;
            };
            let body = std::fs::read(assets_dir.join(&name))?;
            digest.update(name.as_bytes());
            digest.update((body.len() as u64).to_le_bytes());
            digest.update(&body);
            assets.insert(
                name,
                Asset {
                    body: body.into(),
                    content_type,
                },
            );
        }
        let hash: String = digest
            .finalize()
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect();
        let index = index.replace("\"/assets/", &format!("\"/assets/{hash}/"));
        Ok(Self {
            index: index.into(),
            hash,
            assets,
        })
    }

    fn index(&self, req: &HttpRequest) -> HttpResponse {
        let etag = format!("\"{}\"", self.hash);
        let fresh = req
            .headers()
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
        let mut res = if fresh {
            HttpResponse::NotModified()
        } else {
            HttpResponse::Ok()
        };
        res.insert_header((header::CONTENT_SECURITY_POLICY, CSP))
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .insert_header((header::ETAG, etag));
        if fresh {
            return res.finish();
        }
        res.content_type("text/html; charset=utf-8")
            .body(self.index.clone())
    }

    fn asset(&self, rest: &str) -> Option<HttpResponse> {
        let (hash, name) = rest.split_once('/')?;
        if hash != self.hash {
            return None;
        }
        let asset = self.assets.get(name)?;
        Some(
            HttpResponse::Ok()
                .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
                .insert_header((header::CACHE_CONTROL, IMMUTABLE))
                .content_type(asset.content_type)
                .body(asset.body.clone()),
        )
    }
}

fn content_type(name: &str) -> Option<&'static str> {
    Some(match name.rsplit_once('.')?.1 {
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "webmanifest" => "application/manifest+json",
        _ => return None,
    })
}

/// Everything no route took: the console's files and pages, or the API's
/// problem+json 404 (always under `/api/`, and everywhere without a console).
pub async fn fallback(req: HttpRequest, console: Option<web::Data<Console>>) -> HttpResponse {
    let path = req.path();
    let readable = req.method() == Method::GET || req.method() == Method::HEAD;
    let console = match console {
        Some(c) if readable && path != "/api" && !path.starts_with("/api/") => c,
        _ => return crate::routes::not_found().await,
    };
    if let Some(rest) = path.strip_prefix("/assets/") {
        return match console.asset(rest) {
            Some(res) => res,
            None => crate::routes::not_found().await,
        };
    }
    console.index(&req)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_follow_the_content_and_rewrite_the_index() {
        let dir = std::env::temp_dir().join(format!("console-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(dir.join("assets")).unwrap();
        std::fs::write(
            dir.join("index.html"),
            r#"<script type="module" src="/assets/app.js"></script>"#,
        )
        .unwrap();
        std::fs::write(dir.join("assets/app.js"), "export {}").unwrap();
        std::fs::write(dir.join("assets/notes.txt"), "not served").unwrap();
        let a = Console::load(&dir).unwrap();
        let index = String::from_utf8(a.index.to_vec()).unwrap();
        assert_eq!(
            index,
            format!(
                r#"<script type="module" src="/assets/{}/app.js"></script>"#,
                a.hash
            )
        );
        assert!(a.asset(&format!("{}/app.js", a.hash)).is_some());
        assert!(a.asset("0000000000000000/app.js").is_none());
        assert!(a.asset(&format!("{}/notes.txt", a.hash)).is_none());
        std::fs::write(dir.join("assets/app.js"), "export const x = 1").unwrap();
        let b = Console::load(&dir).unwrap();
        assert_ne!(a.hash, b.hash);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
