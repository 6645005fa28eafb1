//! Serving the web app: its static files, `index.html` for browser navigations and for
//! client-side routes (so a reload keeps the page), and JSON 404s for everything else.

use std::path::{Path, PathBuf};

use actix_files::NamedFile;
use actix_web::http::Method;
use actix_web::http::header::{self, AcceptEncoding, ContentEncoding, Encoding, HeaderValue};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};

use crate::error::ApiError;

/// Content-Security-Policy of the app: its own files and API only. Wasm compilation
/// needs `'wasm-unsafe-eval'`; nothing else is relaxed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Where the built web app lives, if it is served at all.
#[derive(Debug, Clone)]
pub struct WebRoot(pub Option<PathBuf>);

impl WebRoot {
    fn dir(request: &HttpRequest) -> Option<PathBuf> {
        request
            .app_data::<web::Data<WebRoot>>()
            .and_then(|root| root.0.clone())
    }
}

/// `index.html` for a browser navigation (`Accept: text/html`) when the app is served.
pub(crate) fn index_for_navigation(request: &HttpRequest) -> Option<HttpResponse> {
    let accepts_html = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if !accepts_html {
        return None;
    }
    let dir = WebRoot::dir(request)?;
    index(request, &dir).ok()
}

fn index(request: &HttpRequest, dir: &Path) -> Result<HttpResponse, ApiError> {
    let file = NamedFile::open(dir.join("index.html")).map_err(|_| ApiError::not_found())?;
    let mut response = file
        .use_etag(true)
        .use_last_modified(false)
        .into_response(request);
    let headers = response.headers_mut();
    // Always revalidate the entry point, so a new release is picked up at once.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    Ok(response)
}

/// The file under `dir` that `path` names, refusing anything that could leave `dir`.
fn asset_path(dir: &Path, path: &str) -> Option<PathBuf> {
    let mut resolved = dir.to_path_buf();
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        if segment.starts_with('.') || segment.contains(['\\', '\0', ':']) {
            return None;
        }
        resolved.push(segment);
    }
    resolved.is_file().then_some(resolved)
}

/// The forms `scripts/build-web.sh` stores an asset in besides itself, best first.
const PRECOMPRESSED: [(Encoding, &str, ContentEncoding); 2] = [
    (Encoding::brotli(), "br", ContentEncoding::Brotli),
    (Encoding::gzip(), "gz", ContentEncoding::Gzip),
];

/// `file` in the best stored form the request's `Accept-Encoding` takes (its `FILE.br` or
/// `FILE.gz`), with the original's type; as it is for a client that names no encoding,
/// or refuses the ones stored.
fn asset(request: &HttpRequest, file: &Path) -> Result<HttpResponse, ApiError> {
    let stored = |suffix: &str| {
        let mut name = file.as_os_str().to_owned();
        name.push(".");
        name.push(suffix);
        PathBuf::from(name)
    };
    // The client's best form is opened first; only a missing one costs another try.
    let mut untried = PRECOMPRESSED.to_vec();
    let mut named = None;
    if let Some(accepted) = request.get_header::<AcceptEncoding>() {
        while named.is_none() {
            let offered = untried
                .iter()
                .map(|(encoding, _, _)| encoding.clone())
                .chain([Encoding::identity()])
                .collect::<Vec<_>>();
            let Some(best) = accepted.negotiate(offered.iter()) else {
                break;
            };
            let Some(at) = untried
                .iter()
                .position(|(encoding, _, _)| *encoding == best)
            else {
                break;
            };
            let (_, suffix, encoding) = untried.remove(at);
            named = NamedFile::open(stored(suffix))
                .ok()
                .map(|named| named.set_content_encoding(encoding));
        }
    }
    let named = match named {
        Some(named) => named.set_content_type(actix_files::file_extension_to_mime(
            file.extension().and_then(|ext| ext.to_str()).unwrap_or(""),
        )),
        None => NamedFile::open(file).map_err(|_| ApiError::not_found())?,
    };
    Ok(named.disable_content_disposition().into_response(request))
}

/// Everything no route matched: an asset of the app, the app's `index.html` for a
/// client-side route, or a JSON 404.
pub(crate) async fn fallback(request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let path = request.path();
    let is_read = request.method() == Method::GET || request.method() == Method::HEAD;
    let Some(dir) = WebRoot::dir(&request).filter(|_| is_read && !path.starts_with("/api/")) else {
        return Err(ApiError::not_found());
    };
    if let Some(file) = asset_path(&dir, path) {
        if file.file_name().is_some_and(|name| name == "index.html") {
            return index(&request, &dir);
        }
        let mut response = asset(&request, &file)?;
        // Asset names carry a content hash, so they can be cached for good.
        let headers = response.headers_mut();
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        );
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        return Ok(response);
    }
    // A path with a file extension is a missing asset, not a page of the app.
    let last = path.rsplit('/').next().unwrap_or("");
    if last.contains('.') {
        return Err(ApiError::not_found());
    }
    index(&request, &dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asset_paths_never_leave_the_root() {
        let dir = std::env::temp_dir().join(format!("tessera-spa-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("assets")).unwrap();
        std::fs::write(dir.join("assets/app.js"), "x").unwrap();
        assert_eq!(
            asset_path(&dir, "/assets/app.js"),
            Some(dir.join("assets/app.js"))
        );
        for hostile in [
            "/../etc/passwd",
            "/assets/../../x",
            "/.env",
            "/a\\..\\b",
            "/assets/",
        ] {
            assert_eq!(asset_path(&dir, hostile), None, "{hostile}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
