//! The `openidconnect` crate's HTTP calls, made with the project's own
//! reqwest (one HTTP stack in the binary). Redirects are not followed: an
//! OpenID provider's endpoints answer directly (RFC 6749 §3.1, and
//! following one could leak a token to another host).

use openidconnect::{HttpRequest, HttpResponse};

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpError(String);

pub fn client() -> reqwest::Client {
    // reqwest is built without a bundled crypto provider; ring is the
    // project's (as in `client`). Installing twice keeps the first.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(5))
        // A fresh connection per request: the device grant polls every 5 s,
        // the keep-alive timeout of common servers (Node's included), and
        // a reused connection closing under a poll stalls it.
        .pool_max_idle_per_host(0)
        .user_agent(concat!("countersign/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .expect("a client without custom TLS builds")
}

/// A closure `openidconnect` calls for each request.
pub fn call(
    client: &reqwest::Client,
) -> impl Fn(
    HttpRequest,
) -> std::pin::Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send>>
+ '_ {
    move |request: HttpRequest| {
        let client = client.clone();
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let response = client
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers)
                .body(body)
                .send()
                .await
                .map_err(|e| HttpError(describe(&e)))?;
            let mut built = openidconnect::http::Response::builder().status(response.status());
            for (name, value) in response.headers() {
                built = built.header(name, value);
            }
            let bytes = response
                .bytes()
                .await
                .map_err(|e| HttpError(e.to_string()))?;
            built
                .body(bytes.to_vec())
                .map_err(|e| HttpError(e.to_string()))
        })
    }
}

/// An error and its causes on one line (the crate's errors wrap the HTTP
/// error and the provider's answer).
pub fn describe(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}
