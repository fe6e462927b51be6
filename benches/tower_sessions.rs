//! The `middleware` group, tower-sessions part: one request through axum
//! with a `tower_sessions_core::Session`, over this crate's
//! `TowerSessionsLayer` and over `tower-sessions-cookie-store` (signed
//! cookies), side by side. The same handlers and the same session data
//! (a user name, a user id, a counter) for both:
//!
//! - `no_cookie`: no cookie; the handler reads the counter (none).
//! - `read_only`: the session's cookie; the handler reads the counter.
//! - `write`: the session's cookie; the handler increments the counter, so
//!   the response sets a new cookie.
//!
//! Each request runs with `tower::ServiceExt::oneshot` on a current-thread
//! tokio runtime. Run: `cargo bench --bench tower_sessions --features
//! tower-sessions`.

use std::hint::black_box;

use axum::Router;
use axum::body::Body;
use axum::extract::Extension;
use axum::routing::get;
use cookie_session::tower_sessions::TowerSessionsLayer;
use cookie_session::{Key, Keyring, SessionCodec};
use criterion::{BenchmarkId, Criterion, criterion_group};
use http::header::{COOKIE, SET_COOKIE};
use http::{Request, StatusCode};
use tower::ServiceExt;
use tower_sessions_cookie_store::CookieSessionManagerLayer;
use tower_sessions_core::Session;

async fn setup(Extension(session): Extension<Session>) -> &'static str {
    session.insert("user", "alice").await.unwrap();
    session.insert("user_id", 1_048_576u64).await.unwrap();
    session.insert("n", 5u64).await.unwrap();
    "ok"
}

async fn read(Extension(session): Extension<Session>) -> String {
    let n: Option<u64> = session.get("n").await.unwrap();
    format!("{n:?}")
}

async fn write(Extension(session): Extension<Session>) -> String {
    let n: u64 = session.get("n").await.unwrap().unwrap_or(0) + 1;
    session.insert("n", n).await.unwrap();
    n.to_string()
}

fn routes() -> Router {
    Router::new()
        .route("/setup", get(setup))
        .route("/read", get(read))
        .route("/write", get(write))
}

fn request(path: &str, cookie: Option<&str>) -> Request<Body> {
    let mut req = Request::get(path).header(COOKIE, "theme=dark; lang=en");
    if let Some(c) = cookie {
        req = req.header(COOKIE, c);
    }
    req.body(Body::empty()).unwrap()
}

/// Sends one request; the response's `Set-Cookie` `name=value`, if any.
fn send(rt: &tokio::runtime::Runtime, app: &Router, req: Request<Body>) -> Option<String> {
    let res = rt.block_on(app.clone().oneshot(req)).unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.headers()
        .get(SET_COOKIE)
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
}

fn middleware(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let ours = routes().layer(TowerSessionsLayer::new(
        SessionCodec::builder(
            "session",
            Keyring::new(Key::from_secret(b"the secret of the middleware bench").unwrap()),
        )
        .build()
        .unwrap(),
    ));
    let theirs = routes().layer(CookieSessionManagerLayer::signed(
        tower_sessions_cookie_store::Key::generate(),
    ));
    let stacks = [("ours", ours), ("cookie_store", theirs)];
    let cookies: Vec<String> = stacks
        .iter()
        .map(|(name, app)| {
            let cookie = send(&rt, app, request("/setup", None))
                .unwrap_or_else(|| panic!("{name}: setup sets a cookie"));
            // Both read what they wrote, and only a write sets a cookie.
            assert_eq!(send(&rt, app, request("/read", Some(&cookie))), None);
            assert!(send(&rt, app, request("/write", Some(&cookie))).is_some());
            assert_eq!(send(&rt, app, request("/read", None)), None);
            cookie
        })
        .collect();

    let mut g = c.benchmark_group("middleware");
    for (scenario, path, with_cookie) in [
        ("no_cookie", "/read", false),
        ("read_only", "/read", true),
        ("write", "/write", true),
    ] {
        for ((name, app), cookie) in stacks.iter().zip(&cookies) {
            let cookie = with_cookie.then_some(cookie.as_str());
            g.bench_function(
                BenchmarkId::new(format!("tower_sessions/{name}"), scenario),
                |b| {
                    b.iter_batched(
                        || request(path, cookie),
                        |req| black_box(rt.block_on(app.clone().oneshot(req)).unwrap()),
                        criterion::BatchSize::SmallInput,
                    )
                },
            );
        }
    }
    g.finish();
}

criterion_group!(benches, middleware);

fn main() {
    benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
}
