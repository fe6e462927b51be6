//! A small axum application on `cookie-session`: log in, a flash message,
//! a counter that survives requests, log out, log out everywhere, sliding
//! refresh, and key rotation.
//!
//! ```text
//! cargo run --example app --features axum
//! ```
//!
//! Environment:
//!
//! - `COOKIE_SESSION_SECRET`: the secret the signing key is derived from,
//!   32 or more random characters (e.g. from `Key::generate_secret()` or
//!   `cargo run --features cli -- keygen`). Unset, the app generates a
//!   throw-away key and warns loudly: sessions then end when it restarts.
//! - `COOKIE_SESSION_FALLBACK_SECRETS`: former secrets, comma- or
//!   newline-separated, still accepted (cookies they signed are re-issued
//!   with the new key): key rotation across a restart.
//! - `APP_ADDR`: the address to listen on, `127.0.0.1:3000` by default.
//! - `COOKIE_SESSION_MAX_AGE`, `COOKIE_SESSION_REFRESH_AFTER`: the codec's
//!   `max_age` and `refresh_after` in seconds (14 days and half of it by
//!   default); short ones let a test watch a cookie being refreshed.
//!
//! `POST /logout-everywhere` ends every session of the logged-in user, in
//! every browser: the app keeps a per-user "valid after" time (in memory
//! here; in a real application, in its database with an in-memory copy),
//! and the codec's `revoked_when` refuses sessions created before it. A
//! plain logout deny-lists the old session's id the same way, so a copy of
//! the cookie taken before the logout is refused too.
//!
//! `POST /rotate` rotates keys without a restart: a new key signs from then
//! on, the previous one still verifies, and each browser's cookie is
//! re-issued with the new key on its next request.
//!
//! The cookie is `Secure`: browsers accept it from `http://localhost` and
//! `http://127.0.0.1`; anywhere else, serve the app over HTTPS.

mod common;

use axum::Router;
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use common::{App, Login, Reply};
use cookie_session::{SessionHandle, SessionLayer};

#[derive(Clone)]
struct AppState {
    app: App,
    layer: SessionLayer,
}

#[tokio::main]
async fn main() {
    let app = App::from_env();
    let layer = SessionLayer::new(app.codec());
    let state = AppState {
        app,
        layer: layer.clone(),
    };
    let router = Router::new()
        .route("/", get(home))
        .route("/login", get(login_form).post(login))
        .route("/count", post(count))
        .route("/logout", post(logout))
        .route("/logout-everywhere", post(logout_everywhere))
        .route("/rotate", post(rotate))
        .with_state(state)
        .layer(layer);

    let listener = common::listen(common::addr_from_env());
    listener.set_nonblocking(true).unwrap();
    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
    axum::serve(listener, router).await.unwrap();
}

/// A [`Reply`] as an axum response.
fn respond(reply: Reply) -> Response {
    match reply {
        Reply::Page(html) => Html(html).into_response(),
        Reply::Redirect(to) => Redirect::to(to).into_response(),
        Reply::Error(text) => (StatusCode::INTERNAL_SERVER_ERROR, text).into_response(),
    }
}

async fn home(State(s): State<AppState>, session: SessionHandle) -> Response {
    respond(s.app.home(&session, &s.layer.codec()))
}

async fn login_form(State(s): State<AppState>, session: SessionHandle) -> Response {
    respond(s.app.login_form(&session))
}

async fn login(
    State(s): State<AppState>,
    session: SessionHandle,
    Form(form): Form<Login>,
) -> Response {
    respond(s.app.login(&session, &form))
}

async fn count(State(s): State<AppState>, session: SessionHandle) -> Response {
    respond(s.app.count(&session))
}

async fn logout(State(s): State<AppState>, session: SessionHandle) -> Response {
    respond(s.app.logout(&session))
}

async fn logout_everywhere(State(s): State<AppState>, session: SessionHandle) -> Response {
    respond(s.app.logout_everywhere(&session))
}

async fn rotate(State(s): State<AppState>, session: SessionHandle) -> Response {
    respond(s.app.rotate(&session, |codec| s.layer.set_codec(codec)))
}
