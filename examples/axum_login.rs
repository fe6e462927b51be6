//! axum-login on top of cookie-session: log in, see a protected page, log
//! out. The users are a list in memory and their passwords fixed demo
//! strings: **a demo**, not a user store.
//!
//! ```text
//! cargo run --example axum_login --features tower-sessions
//! curl -i -c jar -b jar -d 'username=alice&password=alice-demo-password' http://127.0.0.1:3000/login
//! curl -i -c jar -b jar http://127.0.0.1:3000/protected
//! curl -i -c jar -b jar -X POST http://127.0.0.1:3000/logout
//! curl -i -c jar -b jar http://127.0.0.1:3000/protected   # 401
//! ```
//!
//! Environment:
//!
//! - `COOKIE_SESSION_SECRET`: the secret the signing key is derived from,
//!   32 or more random characters (e.g. from `cargo run --features cli --
//!   keygen`); without it a random key is used and every session ends when
//!   the process stops.
//! - `APP_ADDR`: the address to listen on, `127.0.0.1:3000` by default.
//!
//! axum-login keeps the user's id and `session_auth_hash` in the session,
//! so in the cookie, where the browser can read them (signed is not
//! encrypted): `session_auth_hash` must not be derived from the password.
//! Here it is a random token per user, made at start-up; a real
//! application keeps one per user and changes it when the password changes
//! (which logs that user out everywhere).

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum_login::{AuthManager, AuthSession, AuthUser, AuthnBackend, login_required};
use cookie_session::tower_sessions::TowerSessionsLayer;
use cookie_session::{Key, Keyring, SessionCodec};
use serde::Deserialize;

/// A user of the demo.
#[derive(Clone)]
pub struct User {
    id: u64,
    name: String,
    /// A fixed demo string.
    password: String,
    /// What axum-login puts in the session to check it is still valid: a
    /// random token, never anything derived from the password.
    session_token: Vec<u8>,
}

impl std::fmt::Debug for User {
    /// No password, no token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl AuthUser for User {
    type Id = u64;

    fn id(&self) -> u64 {
        self.id
    }

    fn session_auth_hash(&self) -> &[u8] {
        &self.session_token
    }
}

/// The login form.
#[derive(Clone, Deserialize)]
pub struct Credentials {
    username: String,
    password: String,
}

/// The users, in memory.
#[derive(Clone)]
pub struct Backend {
    users: Arc<HashMap<u64, User>>,
}

impl Backend {
    /// The demo users: alice and bob, passwords `alice-demo-password` and
    /// `bob-demo-password`.
    pub fn demo() -> Backend {
        let users = [(1, "alice"), (2, "bob")]
            .into_iter()
            .map(|(id, name)| {
                let user = User {
                    id,
                    name: name.to_owned(),
                    password: format!("{name}-demo-password"),
                    session_token: cookie_session::generate_id().into_bytes(),
                };
                (id, user)
            })
            .collect();
        Backend {
            users: Arc::new(users),
        }
    }
}

/// Compares in time that depends on the lengths only.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl AuthnBackend for Backend {
    type User = User;
    type Credentials = Credentials;
    type Error = Infallible;

    async fn authenticate(&self, creds: Credentials) -> Result<Option<User>, Infallible> {
        Ok(self
            .users
            .values()
            .find(|u| u.name == creds.username)
            .filter(|u| same_secret(u.password.as_bytes(), creds.password.as_bytes()))
            .cloned())
    }

    async fn get_user(&self, id: &u64) -> Result<Option<User>, Infallible> {
        Ok(self.users.get(id).cloned())
    }
}

type Auth = AuthSession<Backend>;

async fn home(auth: Auth) -> String {
    match auth.user {
        Some(user) => format!("hello {}", user.name),
        None => "hello stranger: POST username and password to /login".into(),
    }
}

async fn login(
    mut auth: Auth,
    axum::Form(creds): axum::Form<Credentials>,
) -> axum::response::Response {
    let user = match auth.authenticate(creds).await {
        Ok(Some(user)) => user,
        Ok(None) => return (StatusCode::UNAUTHORIZED, "invalid credentials").into_response(),
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    if auth.login(&user).await.is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    format!("logged in as {}", user.name).into_response()
}

async fn logout(mut auth: Auth) -> axum::response::Response {
    match auth.logout().await {
        Ok(_) => "logged out".into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

async fn protected(auth: Auth) -> String {
    let name = auth.user.map(|u| u.name).unwrap_or_default();
    format!("the protected page, for {name}")
}

/// The application: `/protected` needs a login (401 without one).
pub fn router(codec: SessionCodec, backend: Backend) -> Router {
    Router::new()
        .route("/protected", get(protected))
        .route_layer(login_required!(Backend))
        .route("/", get(home))
        .route("/login", post(login))
        .route("/logout", post(logout))
        .layer(tower::layer::layer_fn(move |inner| {
            AuthManager::new(inner, backend.clone(), "axum-login.data")
        }))
        .layer(TowerSessionsLayer::new(codec))
}

/// The session codec, with the key from `COOKIE_SESSION_SECRET` (a random
/// one, with a warning, if it is not set).
pub fn codec_from_env() -> SessionCodec {
    let key = match std::env::var("COOKIE_SESSION_SECRET") {
        Ok(secret) => Key::from_secret(secret.trim().as_bytes()).unwrap_or_else(|e| {
            eprintln!("COOKIE_SESSION_SECRET is not usable: {e}");
            std::process::exit(2);
        }),
        Err(_) => {
            eprintln!(
                "WARNING: COOKIE_SESSION_SECRET is not set; using a random development key \
                 (sessions end when this process stops). Never run like this in production."
            );
            Key::generate()
        }
    };
    SessionCodec::builder("session", Keyring::new(key))
        .build()
        .expect("a valid cookie configuration")
}

#[tokio::main]
async fn main() {
    let app = router(codec_from_env(), Backend::demo());
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
