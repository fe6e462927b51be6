//! What the two example applications (`app.rs` on axum, `actix_app.rs` on
//! actix-web) share: everything but the framework glue. Each handler here
//! takes the request's [`SessionHandle`] and returns a [`Reply`], which the
//! glue turns into its framework's response.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};

use cookie_session::{Key, KeyId, Keyring, Session, SessionCodec, SessionHandle, Verified};
use serde::Deserialize;
use time::{Duration, OffsetDateTime};

const COOKIE_NAME: &str = "app_session";
/// How many former keys `/rotate` keeps as fallbacks.
const KEPT_FALLBACKS: usize = 2;

/// What a handler answers.
pub enum Reply {
    /// `200 OK` with this HTML page.
    Page(String),
    /// `303 See Other` to this path.
    Redirect(&'static str),
    /// `500 Internal Server Error` with this text.
    Error(String),
}

/// The login form's fields.
#[derive(Deserialize)]
pub struct Login {
    username: String,
}

/// The application's state: the keys, and what the codec is built from.
#[derive(Clone)]
pub struct App {
    keys: Arc<Mutex<Keyring>>,
    config: Config,
}

/// What the codec is built from, besides the keys.
#[derive(Clone)]
struct Config {
    max_age: Duration,
    refresh_after: Option<Duration>,
    revocations: Revocations,
}

/// Sessions ended before they expire. The codec asks on every request, so
/// this is memory only: a real application keeps the same in its database
/// and refreshes this copy from it.
#[derive(Clone, Default)]
struct Revocations {
    /// User name -> sessions created at or before this Unix time are over.
    valid_after: Arc<RwLock<HashMap<String, u64>>>,
    /// Session id -> refused until this Unix time (when every cookie that
    /// carries it has expired anyway).
    denied_ids: Arc<RwLock<HashMap<String, u64>>>,
}

impl Revocations {
    fn revoked(&self, v: &Verified) -> bool {
        if self.denied_ids.read().unwrap().contains_key(v.session.id()) {
            return true;
        }
        let Some(user) = v.session.get_value("user").and_then(|u| u.as_str()) else {
            return false;
        };
        let valid_after = self.valid_after.read().unwrap();
        valid_after.get(user).is_some_and(|&t| v.created_at <= t)
    }

    fn log_out_everywhere(&self, user: &str) {
        let now = OffsetDateTime::now_utc().unix_timestamp() as u64;
        self.valid_after
            .write()
            .unwrap()
            .insert(user.to_owned(), now);
    }

    fn deny(&self, id: &str, max_age: Duration) {
        let now = OffsetDateTime::now_utc();
        let until = (now + max_age).unix_timestamp() as u64;
        let mut denied = self.denied_ids.write().unwrap();
        let now = now.unix_timestamp() as u64;
        denied.retain(|_, &mut t| t > now);
        denied.insert(id.to_owned(), until);
    }
}

impl App {
    /// The keys and settings from the environment (see the examples' docs).
    pub fn from_env() -> App {
        App {
            keys: Arc::new(Mutex::new(keyring_from_env())),
            config: config_from_env(),
        }
    }

    /// The codec for the current keys.
    pub fn codec(&self) -> SessionCodec {
        codec(&self.keys.lock().unwrap(), &self.config)
    }

    /// `GET /`. `codec`: the one in use, to show when the cookie is
    /// refreshed and when it expires.
    pub fn home(&self, session: &SessionHandle, codec: &SessionCodec) -> Reply {
        let mut s = session.lock();
        let user: Option<String> = s.get("user").ok().flatten();
        let count: u64 = s.get("count").ok().flatten().unwrap_or(0);
        let html = page("cookie-session demo", &s, &{
            let (primary, fallbacks) = key_ids(&self.keys.lock().unwrap());
            let fallbacks: Vec<String> = fallbacks.iter().map(ToString::to_string).collect();
            let who = match &user {
                Some(u) => format!(
                    r#"<p id="who">Logged in as <b id="user">{}</b>.</p>
                <form method="post" action="/logout"><button id="logout">Log out</button></form>
                <form method="post" action="/logout-everywhere">
                  <button id="logout-everywhere">Log out everywhere</button></form>"#,
                    escape(u)
                ),
                None => r#"<p id="who">Not logged in. <a id="login" href="/login">Log in</a></p>"#
                    .into(),
            };
            let times = cookie_times(codec, &s);
            format!(
                r#"{who}
            {times}
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
        Reply::Page(html)
    }

    /// `GET /login`.
    pub fn login_form(&self, session: &SessionHandle) -> Reply {
        Reply::Page(page(
            "Log in",
            &session.snapshot(),
            r#"<form method="post" action="/login">
             <label>User name <input id="username" name="username" autocomplete="username"></label>
             <button id="submit">Log in</button>
           </form>
           <p>Any user name of 1 to 40 characters logs in: this is a demo.</p>"#,
        ))
    }

    /// `POST /login`.
    pub fn login(&self, session: &SessionHandle, form: &Login) -> Reply {
        let name = form.username.trim();
        if name.is_empty() || name.chars().count() > 40 {
            session
                .flash("error", "User name must be 1 to 40 characters.")
                .ok();
            return Reply::Redirect("/login");
        }
        let mut s = session.lock();
        // A new id at login, so a session fixed before login is worth nothing.
        let result = s
            .regenerate_id(true)
            .and_then(|()| s.set("user", name))
            .and_then(|()| s.flash("notice", format!("Welcome, {name}! You are logged in.")));
        match result {
            Ok(()) => Reply::Redirect("/"),
            Err(e) => Reply::Error(e.to_string()),
        }
    }

    /// `POST /count`.
    pub fn count(&self, session: &SessionHandle) -> Reply {
        let n: u64 = session.get("count").ok().flatten().unwrap_or(0);
        session.set("count", n + 1).ok();
        Reply::Redirect("/")
    }

    /// `POST /logout`.
    pub fn logout(&self, session: &SessionHandle) -> Reply {
        // The browser's cookie is replaced by one that carries only the
        // goodbye message, and the next page deletes that. A copy of the old
        // cookie (taken before the logout) would still verify until it
        // expires, so its id is deny-listed until then.
        let old = session.replace(Session::new());
        self.config.revocations.deny(old.id(), self.config.max_age);
        session.flash("notice", "You have been logged out.").ok();
        Reply::Redirect("/")
    }

    /// `POST /logout-everywhere`.
    pub fn logout_everywhere(&self, session: &SessionHandle) -> Reply {
        let Some(user) = session.get::<String>("user").ok().flatten() else {
            session.flash("error", "Log in first.").ok();
            return Reply::Redirect("/");
        };
        // Every session of this user created until now is refused from now
        // on, in every browser, this one included.
        self.config.revocations.log_out_everywhere(&user);
        session.replace(Session::new());
        session
            .flash("notice", "You have been logged out everywhere.")
            .ok();
        Reply::Redirect("/")
    }

    /// `POST /rotate`: a new primary key; `set_codec` puts the codec built
    /// with it in use (the layer's or the middleware's `set_codec`).
    pub fn rotate(&self, session: &SessionHandle, set_codec: impl FnOnce(SessionCodec)) -> Reply {
        if !session.has("user") {
            session.flash("error", "Log in to rotate keys.").ok();
            return Reply::Redirect("/");
        }
        let (new_id, old_id) = {
            let mut keys = self.keys.lock().unwrap();
            let old = keys.primary().clone();
            let mut ring = Keyring::new(Key::generate())
                .with_fallback(old.clone())
                .expect("a new random key differs");
            for k in keys.fallbacks().take(KEPT_FALLBACKS - 1) {
                ring = ring.with_fallback(k.clone()).expect("distinct keys");
            }
            set_codec(codec(&ring, &self.config));
            *keys = ring;
            (keys.primary().id(), old.id())
        };
        session
            .flash(
                "notice",
                format!("Keys rotated: new cookies are signed with key {new_id}; key {old_id} is still accepted."),
            )
            .ok();
        Reply::Redirect("/")
    }
}

/// `APP_ADDR`, `127.0.0.1:3000` by default.
pub fn addr_from_env() -> SocketAddr {
    std::env::var("APP_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:3000".into())
        .parse()
        .unwrap_or_else(|e| {
            eprintln!("APP_ADDR is not an address like 127.0.0.1:3000: {e}");
            std::process::exit(2);
        })
}

/// Binds `addr` (exiting if it cannot) and prints the line scripts wait for.
pub fn listen(addr: SocketAddr) -> std::net::TcpListener {
    let listener = std::net::TcpListener::bind(addr).unwrap_or_else(|e| {
        eprintln!("cannot listen on {addr}: {e}");
        std::process::exit(1);
    });
    println!("listening on http://{}", listener.local_addr().unwrap());
    listener
}

fn codec(keys: &Keyring, config: &Config) -> SessionCodec {
    let revocations = config.revocations.clone();
    let mut builder = SessionCodec::builder(COOKIE_NAME, keys.clone())
        .context("cookie-session example app")
        .max_age(config.max_age)
        .revoked_when(move |v| revocations.revoked(v));
    if let Some(r) = config.refresh_after {
        builder = builder.refresh_after(r);
    }
    builder.build().unwrap_or_else(|e| {
        eprintln!("the session settings are not usable: {e}");
        std::process::exit(2);
    })
}

/// A duration in seconds from the environment variable `name`, if set.
fn seconds_from_env(name: &str) -> Option<Duration> {
    let text = std::env::var(name).ok()?;
    match text.trim().parse::<i64>() {
        Ok(s) if s >= 0 => Some(Duration::seconds(s)),
        _ => {
            eprintln!("{name} must be a whole number of seconds");
            std::process::exit(2);
        }
    }
}

fn config_from_env() -> Config {
    Config {
        max_age: seconds_from_env("COOKIE_SESSION_MAX_AGE")
            .unwrap_or(cookie_session::DEFAULT_MAX_AGE),
        refresh_after: seconds_from_env("COOKIE_SESSION_REFRESH_AFTER"),
        revocations: Revocations::default(),
    }
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

fn page(title: &str, session: &Session, body: &str) -> String {
    let flash = ["notice", "error"]
        .iter()
        .filter_map(|k| {
            let msg: Option<String> = session.get(k).ok().flatten();
            msg.map(|m| format!(r#"<p class="flash {k}" id="flash">{}</p>"#, escape(&m)))
        })
        .collect::<String>();
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><h1>{title}</h1>{flash}{body}</body></html>\n"
    )
}

/// When the cookie this request carried was issued, and when the codec
/// refreshes and ends it (each with its Unix time in `data-unix`).
fn cookie_times(codec: &SessionCodec, s: &Session) -> String {
    let Some(issued) = s.issued_at() else {
        return r#"<p id="cookie-times">No session cookie came with this request.</p>"#.into();
    };
    let show = |id: &str, unix: u64| {
        let t = OffsetDateTime::from_unix_timestamp(unix as i64)
            .map_or_else(|_| unix.to_string(), |t| t.to_string());
        format!(r#"<span id="{id}" data-unix="{unix}">{t}</span>"#)
    };
    let refresh = match codec.refresh_after() {
        Some(r) => format!(
            "; a request after {} gets a fresh one",
            show("refresh-at", issued + r.whole_seconds() as u64)
        ),
        None => String::new(),
    };
    format!(
        r#"<p id="cookie-times">Cookie issued {}{refresh}; without requests it expires {}.</p>"#,
        show("issued-at", issued),
        show(
            "expires-at",
            issued + codec.max_age().whole_seconds() as u64
        ),
    )
}

fn key_ids(keys: &Keyring) -> (KeyId, Vec<KeyId>) {
    (keys.primary().id(), keys.fallbacks().map(Key::id).collect())
}
