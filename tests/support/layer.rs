//! Runs one request through a `SessionLayer` and captures what `tracing`
//! logged, for the tests of the layer.

use std::convert::Infallible;

#[path = "capture.rs"]
mod capture;

use cookie_session::{CookieCodec, SessionHandle, SessionLayer};
use http::header::{COOKIE, SET_COOKIE, VARY};
use http::{HeaderValue, Request, Response};
use tower::{Layer, ServiceExt, service_fn};

pub type Handler = fn(&SessionHandle, &mut Response<String>);

/// Runs one request through the layer with `handler`, sending `cookies`
/// as separate `Cookie` headers.
pub fn run<C: CookieCodec + 'static>(
    layer: &SessionLayer<C>,
    cookies: &[&str],
    handler: Handler,
) -> Response<String> {
    let svc = layer.layer(service_fn(move |req: Request<()>| async move {
        let handle = req.extensions().get::<SessionHandle>().unwrap().clone();
        let mut res = Response::new(String::new());
        handler(&handle, &mut res);
        Ok::<_, Infallible>(res)
    }));
    let mut req = Request::new(());
    for c in cookies {
        req.headers_mut()
            .append(COOKIE, HeaderValue::from_str(c).unwrap());
    }
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(svc.oneshot(req))
        .unwrap()
}

/// Like [`run`], returning the events logged meanwhile too.
pub fn run_logged<C: CookieCodec + 'static>(
    layer: &SessionLayer<C>,
    cookies: &[&str],
    handler: Handler,
) -> (Response<String>, Vec<String>) {
    capture::logged(|| run(layer, cookies, handler))
}

pub fn set_cookies(res: &Response<String>) -> Vec<String> {
    res.headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

/// The `name=value` of the response's `sid` cookie.
pub fn session_pair(res: &Response<String>) -> String {
    let all = set_cookies(res);
    let c = all
        .iter()
        .find(|c| c.starts_with("sid="))
        .expect("a session cookie");
    c.split(';').next().unwrap().to_owned()
}

pub fn varies(res: &Response<String>) -> bool {
    res.headers().get_all(VARY).iter().any(|v| v == "Cookie")
}
