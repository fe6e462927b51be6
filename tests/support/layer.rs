//! Runs one request through a `SessionLayer` and captures what `tracing`
//! logged, for the tests of the layer.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

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
    let logs = Arc::new(Mutex::new(Vec::new()));
    let res =
        tracing::subscriber::with_default(Capture(logs.clone()), || run(layer, cookies, handler));
    let logs = logs.lock().unwrap().clone();
    (res, logs)
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

/// Collects the events logged through `tracing`, one line each: the level,
/// then `field=value` pairs.
struct Capture(Arc<Mutex<Vec<String>>>);

struct Fields<'a>(&'a mut String);

impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        use std::fmt::Write;
        let _ = write!(self.0, "{}={:?} ", field.name(), value);
    }
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut line = format!("{} ", event.metadata().level());
        event.record(&mut Fields(&mut line));
        self.0.lock().unwrap().push(line);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}
