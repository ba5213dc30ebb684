//! The dashboard: `GET /` answers a browser (`Accept: text/html`) with the page and
//! every other client with the reference back-end's JSON, so its contract holds.
//!
//! The page is plain HTML, CSS and JavaScript (assets/), compiled into the binary with
//! `include_str!`: no build step, no framework, nothing fetched from outside the
//! orchestrator. It reads the REST API and follows `GET /events`, so it never needs a
//! reload; it shows a banner while the orchestrator cannot be reached and reconnects
//! by itself (the browser's EventSource retries).

use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{Html, IntoResponse, Response};

use crate::api;

const PAGE: &str = include_str!("../assets/dashboard.html");
const SCRIPT: &str = include_str!("../assets/dashboard.js");
const STYLE: &str = include_str!("../assets/dashboard.css");

/// GET /: the dashboard for a browser, `{message}` for everyone else.
pub async fn root(headers: HeaderMap) -> Response {
    if wants_html(&headers) {
        Html(PAGE).into_response()
    } else {
        api::root().await.into_response()
    }
}

/// Whether the client prefers HTML: `text/html` among its accepted types, ahead of
/// `application/json` if both are there.
fn wants_html(headers: &HeaderMap) -> bool {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let html = accept.find("text/html");
    let json = accept.find("application/json");
    match (html, json) {
        (Some(h), Some(j)) => h < j,
        (Some(_), None) => true,
        _ => false,
    }
}

/// GET /dashboard.js.
pub async fn script() -> Response {
    asset(SCRIPT, "text/javascript; charset=utf-8")
}

/// GET /dashboard.css.
pub async fn style() -> Response {
    asset(STYLE, "text/css; charset=utf-8")
}

fn asset(body: &'static str, kind: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(kind)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT,
            HeaderValue::from_str(value).expect("header"),
        );
        h
    }

    #[test]
    fn browsers_get_the_page_and_api_clients_json() {
        let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        assert!(wants_html(&accept(browser)));
        assert!(!wants_html(&accept("application/json")));
        assert!(!wants_html(&accept("*/*")));
        assert!(!wants_html(&HeaderMap::new()));
        assert!(!wants_html(&accept("application/json, text/html")));
    }

    #[test]
    fn the_page_fetches_nothing_from_elsewhere() {
        for asset in [PAGE, SCRIPT, STYLE] {
            assert!(!asset.contains("http://") || asset.contains("http://www.w3.org/2000/svg"));
            assert!(!asset.contains("https://"));
            assert!(!asset.contains("//cdn"));
        }
    }
}
