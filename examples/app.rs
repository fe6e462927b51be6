//! A small axum application on `cookie-session`: log in, a flash message,
//! a counter that survives requests, log out, and key rotation.
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
//!
//! `POST /rotate` rotates keys without a restart: a new key signs from then
//! on, the previous one still verifies, and each browser's cookie is
//! re-issued with the new key on its next request.
//!
//! The cookie is `Secure`: browsers accept it from `http://localhost` and
//! `http://127.0.0.1`; anywhere else, serve the app over HTTPS.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Form, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use cookie_session::{Key, KeyId, Keyring, Session, SessionCodec, SessionHandle, SessionLayer};
use serde::Deserialize;

const COOKIE_NAME: &str = "app_session";
/// How many former keys `/rotate` keeps as fallbacks.
const KEPT_FALLBACKS: usize = 2;

#[derive(Clone)]
struct AppState {
    layer: SessionLayer,
    keys: Arc<Mutex<Keyring>>,
}

fn codec(keys: &Keyring) -> SessionCodec {
    SessionCodec::builder(COOKIE_NAME, keys.clone())
        .context("cookie-session example app")
        .build()
        .expect("a valid configuration")
}

fn keyring_from_env() -> Keyring {
    let primary = match std::env::var("COOKIE_SESSION_SECRET") {
        Ok(secret) => Key::from_secret(secret.trim().as_bytes()).unwrap_or_else(|e| {
            eprintln!("COOKIE_SESSION_SECRET is not usable: {e}");
            std::process::exit(2);
        }),
        Err(_) => {
            eprintln!(
                "\n{stars}\n\
                 *  WARNING: COOKIE_SESSION_SECRET is not set.\n\
                 *  Using a random development key: every session ends when\n\
                 *  this process stops. Never run like this in production:\n\
                 *  set COOKIE_SESSION_SECRET to a secret of 32+ random\n\
                 *  characters, e.g. from `cargo run --features cli -- keygen`.\n\
                 {stars}\n",
                stars = "*".repeat(64)
            );
            Key::generate()
        }
    };
    let mut ring = Keyring::new(primary);
    if let Ok(old) = std::env::var("COOKIE_SESSION_FALLBACK_SECRETS") {
        for (i, secret) in old
            .split([',', '\n'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .enumerate()
        {
            let key = Key::from_secret(secret.as_bytes()).unwrap_or_else(|e| {
                eprintln!(
                    "COOKIE_SESSION_FALLBACK_SECRETS entry {} is not usable: {e}",
                    i + 1
                );
                std::process::exit(2);
            });
            ring = ring.with_fallback(key).unwrap_or_else(|e| {
                eprintln!(
                    "COOKIE_SESSION_FALLBACK_SECRETS entry {} is not usable: {e}",
                    i + 1
                );
                std::process::exit(2);
            });
        }
    }
    ring
}

#[tokio::main]
async fn main() {
    let keys = keyring_from_env();
    let layer = SessionLayer::new(codec(&keys));
    let state = AppState {
        layer: layer.clone(),
        keys: Arc::new(Mutex::new(keys)),
    };
    let app = Router::new()
        .route("/", get(home))
        .route("/login", get(login_form).post(login))
        .route("/count", post(count))
        .route("/logout", post(logout))
        .route("/rotate", post(rotate))
        .with_state(state)
        .layer(layer);

    let addr: SocketAddr = std::env::var("APP_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:3000".into())
        .parse()
        .unwrap_or_else(|e| {
            eprintln!("APP_ADDR is not an address like 127.0.0.1:3000: {e}");
            std::process::exit(2);
        });
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .unwrap_or_else(|e| {
            eprintln!("cannot listen on {addr}: {e}");
            std::process::exit(1);
        });
    println!("listening on http://{}", listener.local_addr().unwrap());
    axum::serve(listener, app).await.unwrap();
}

fn escape(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '&' => "&amp;".into(),
            '<' => "&lt;".into(),
            '>' => "&gt;".into(),
            '"' => "&quot;".into(),
            '\'' => "&#39;".into(),
            c => c.to_string(),
        })
        .collect()
}

fn page(title: &str, session: &Session, body: &str) -> Html<String> {
    let flash = ["notice", "error"]
        .iter()
        .filter_map(|k| {
            let msg: Option<String> = session.get(k).ok().flatten();
            msg.map(|m| format!(r#"<p class="flash {k}" id="flash">{}</p>"#, escape(&m)))
        })
        .collect::<String>();
    Html(format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><h1>{title}</h1>{flash}{body}</body></html>\n"
    ))
}

fn key_ids(keys: &Keyring) -> (KeyId, Vec<KeyId>) {
    (keys.primary().id(), keys.fallbacks().map(Key::id).collect())
}

async fn home(State(state): State<AppState>, session: SessionHandle) -> Html<String> {
    let mut s = session.lock();
    let user: Option<String> = s.get("user").ok().flatten();
    let count: u64 = s.get("count").ok().flatten().unwrap_or(0);
    let html = page("cookie-session demo", &s, &{
        let (primary, fallbacks) = key_ids(&state.keys.lock().unwrap());
        let fallbacks: Vec<String> = fallbacks.iter().map(ToString::to_string).collect();
        let who = match &user {
            Some(u) => format!(
                r#"<p id="who">Logged in as <b id="user">{}</b>.</p>
                <form method="post" action="/logout"><button id="logout">Log out</button></form>"#,
                escape(u)
            ),
            None => {
                r#"<p id="who">Not logged in. <a id="login" href="/login">Log in</a></p>"#.into()
            }
        };
        format!(
            r#"{who}
            <p>Counter: <span id="count">{count}</span></p>
            <form method="post" action="/count"><button id="increment">+1</button></form>
            <h2>Keys</h2>
            <p>Signing key: <code id="primary-key">{primary}</code>;
               still accepted: <code id="fallback-keys">{}</code></p>
            <form method="post" action="/rotate"><button id="rotate">Rotate keys</button></form>"#,
            if fallbacks.is_empty() {
                "none".into()
            } else {
                fallbacks.join(", ")
            }
        )
    });
    // A session that only carried a flash message (after logout) has
    // nothing left to keep: delete the cookie instead of re-issuing it.
    if s.is_dirty() && s.data().values.is_empty() && s.data().flash.is_empty() {
        s.destroy();
    }
    html
}

async fn login_form(session: SessionHandle) -> Html<String> {
    page(
        "Log in",
        &session.snapshot(),
        r#"<form method="post" action="/login">
             <label>User name <input id="username" name="username" autocomplete="username"></label>
             <button id="submit">Log in</button>
           </form>
           <p>Any user name of 1 to 40 characters logs in: this is a demo.</p>"#,
    )
}

#[derive(Deserialize)]
struct Login {
    username: String,
}

async fn login(session: SessionHandle, Form(form): Form<Login>) -> Response {
    let name = form.username.trim();
    if name.is_empty() || name.chars().count() > 40 {
        session
            .flash("error", "User name must be 1 to 40 characters.")
            .ok();
        return Redirect::to("/login").into_response();
    }
    let mut s = session.lock();
    // A new id at login, so a session fixed before login is worth nothing.
    let result = s
        .regenerate_id(true)
        .and_then(|()| s.set("user", name))
        .and_then(|()| s.flash("notice", format!("Welcome, {name}! You are logged in.")));
    drop(s);
    match result {
        Ok(()) => Redirect::to("/").into_response(),
        Err(e) => (axum::http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

async fn count(session: SessionHandle) -> Redirect {
    let n: u64 = session.get("count").ok().flatten().unwrap_or(0);
    session.set("count", n + 1).ok();
    Redirect::to("/")
}

async fn logout(session: SessionHandle) -> Redirect {
    // The old session is gone for good: its cookie is replaced by one that
    // carries only the goodbye message, and the next page deletes that.
    session.replace(Session::new());
    session.flash("notice", "You have been logged out.").ok();
    Redirect::to("/")
}

async fn rotate(State(state): State<AppState>, session: SessionHandle) -> Redirect {
    if !session.has("user") {
        session.flash("error", "Log in to rotate keys.").ok();
        return Redirect::to("/");
    }
    let (new_id, old_id) = {
        let mut keys = state.keys.lock().unwrap();
        let old = keys.primary().clone();
        let mut ring = Keyring::new(Key::generate())
            .with_fallback(old.clone())
            .expect("a new random key differs");
        for k in keys.fallbacks().take(KEPT_FALLBACKS - 1) {
            ring = ring.with_fallback(k.clone()).expect("distinct keys");
        }
        state.layer.set_codec(codec(&ring));
        *keys = ring;
        (keys.primary().id(), old.id())
    };
    session
        .flash(
            "notice",
            format!("Keys rotated: new cookies are signed with key {new_id}; key {old_id} is still accepted."),
        )
        .ok();
    Redirect::to("/")
}
