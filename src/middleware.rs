//! [`SessionLayer`]: a tower middleware that loads the session before the
//! handler and saves it after (feature `tower`).
//!
//! See [`SessionLayer`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::task::{Context, Poll};

use http::{Request, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;
use tower_layer::Layer;
use tower_service::Service;

use crate::codec::SessionCodec;
use crate::error::SessionError;
use crate::http::vary_cookie;
use crate::session::Session;

/// A tower [`Layer`] that gives every request a [`SessionHandle`] and
/// saves the session into the response.
///
/// For every request the layer
///
/// 1. reads the session from the `Cookie` headers (a fresh one if there is
///    none, or if the cookie is refused: the reason is logged through
///    `tracing` at `info` level, never the cookie);
/// 2. puts a [`SessionHandle`] into the request's extensions (with the
///    `axum` feature, the handle is an extractor);
/// 3. after the handler, appends a `Set-Cookie` only if the session is
///    dirty or destroyed (none if the handler set a cookie of the session's
///    name itself: the handler's wins, and a warning is logged), and
///    `Vary: Cookie` whenever the request carried a session cookie, the
///    handler used the session (even just to read it) or the response sets
///    the cookie.
///
/// ```
/// use cookie_session::{Key, Keyring, SessionCodec, SessionHandle, SessionLayer};
/// use http::{Request, Response, header::SET_COOKIE};
/// use tower::{ServiceBuilder, ServiceExt, service_fn};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let codec = SessionCodec::builder("sid", Keyring::new(Key::generate())).build()?;
/// let app = ServiceBuilder::new()
///     .layer(SessionLayer::new(codec))
///     .service(service_fn(|req: Request<String>| async move {
///         let session = req.extensions().get::<SessionHandle>().unwrap();
///         let visits = session.get::<u32>("visits")?.unwrap_or(0) + 1;
///         session.set("visits", visits)?;
///         Ok::<_, cookie_session::SessionError>(Response::new(format!("visit {visits}")))
///     }));
///
/// let response = app.oneshot(Request::new(String::new())).await?;
/// assert!(response.headers()[SET_COOKIE].to_str()?.starts_with("sid="));
/// assert_eq!(response.body(), "visit 1");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
///
/// Clones share the codec: [`set_codec`](SessionLayer::set_codec) on any
/// clone changes it for every service the layer made, e.g. to rotate keys
/// without a restart.
///
/// Concurrent requests of one browser each get their own copy of the
/// session, as its cookie was when they were sent; the browser keeps the
/// `Set-Cookie` of whichever response arrives last. This is inherent to
/// sessions kept in a cookie: keep what concurrent requests change out of
/// it.
///
/// Saving fails closed: a session that cannot be saved (too large for a
/// cookie, say) is logged at `error` level (never its contents) and the
/// response deletes the cookie, so the browser never keeps an older cookie
/// that the handler meant to change, e.g. one that still holds a privilege
/// it took away. Check sizes in the handler with [`SessionCodec::encode`]
/// if that matters.
///
/// With the `axum` feature, take the handle as an extractor (see
/// `examples/app.rs` for a whole application).
#[cfg_attr(
    feature = "axum",
    doc = r#"
```no_run
use axum::{Router, routing::get};
use cookie_session::{Key, Keyring, SessionCodec, SessionHandle, SessionLayer};

async fn count(session: SessionHandle) -> String {
    let n = session.get::<u64>("n").ok().flatten().unwrap_or(0) + 1;
    session.set("n", n).expect("a number is a valid value");
    format!("request {n} of this session")
}

# async fn run() -> Result<(), Box<dyn std::error::Error>> {
let key = Key::from_secret(std::env::var("SESSION_SECRET")?.as_bytes())?;
let codec = SessionCodec::builder("session", Keyring::new(key)).build()?;
let app = Router::new().route("/", get(count)).layer(SessionLayer::new(codec));
let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
axum::serve(listener, app).await?;
# Ok(())
# }
```
"#
)]
#[derive(Clone)]
pub struct SessionLayer {
    codec: Arc<RwLock<SessionCodec>>,
}

impl SessionLayer {
    /// A layer reading and writing sessions with `codec`.
    pub fn new(codec: SessionCodec) -> SessionLayer {
        SessionLayer {
            codec: Arc::new(RwLock::new(codec)),
        }
    }

    /// The codec in use.
    pub fn codec(&self) -> SessionCodec {
        self.codec
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the codec for the requests that start from now on (requests
    /// in flight finish with the codec they started with). To rotate keys,
    /// build a codec whose keyring has the new key as primary and the old
    /// one as a fallback: cookies the old key signed are still accepted and
    /// re-issued with the new one.
    pub fn set_codec(&self, codec: SessionCodec) {
        *self.codec.write().unwrap_or_else(PoisonError::into_inner) = codec;
    }
}

impl fmt::Debug for SessionLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionLayer")
            .field("codec", &self.codec())
            .finish()
    }
}

impl<S> Layer<S> for SessionLayer {
    type Service = SessionService<S>;

    fn layer(&self, inner: S) -> SessionService<S> {
        SessionService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service made by [`SessionLayer`].
#[derive(Clone, Debug)]
pub struct SessionService<S> {
    inner: S,
    layer: SessionLayer,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for SessionService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: 'static,
    ResBody: 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<ResBody>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        let codec = self.layer.codec();
        let (session, had_cookie) =
            match codec.try_read_headers_at(req.headers(), OffsetDateTime::now_utc()) {
                Ok(Some(session)) => (session, true),
                Ok(None) => (Session::new(), false),
                Err(reason) => {
                    tracing::info!(
                        cookie = codec.name(),
                        %reason,
                        "session cookie refused; starting a new session"
                    );
                    (Session::new(), true)
                }
            };
        let handle = SessionHandle::new(session);
        req.extensions_mut().insert(handle.clone());
        let future = self.inner.call(req);
        Box::pin(async move {
            let mut response = future.await?;
            let state = handle.state();
            let headers = response.headers_mut();
            let wrote = if sets_cookie_named(headers, codec.name()) {
                tracing::warn!(
                    cookie = codec.name(),
                    "the handler set the session cookie itself; the layer adds no Set-Cookie"
                );
                false
            } else {
                let result = if state.replaced && !state.session.is_dirty() {
                    // Replaced by an empty, unchanged session: drop the cookie.
                    codec.remove_from_headers(headers);
                    Ok(true)
                } else {
                    codec.save_to_headers(&state.session, headers)
                };
                result.unwrap_or_else(|error| {
                    // Fail closed: the browser must not keep the old cookie,
                    // which may carry what the handler meant to take away.
                    tracing::error!(
                        cookie = codec.name(),
                        %error,
                        "session could not be saved; the cookie is deleted"
                    );
                    codec.remove_from_headers(headers);
                    true
                })
            };
            if had_cookie || state.accessed || wrote {
                vary_cookie(headers);
            }
            Ok(response)
        })
    }
}

/// Whether `headers` already hold a `Set-Cookie` for the cookie `name`
/// (its name compared byte for byte, trimmed of SP and HTAB only).
fn sets_cookie_named(headers: &http::HeaderMap, name: &str) -> bool {
    let ows = |b: &u8| *b == b' ' || *b == b'\t';
    headers.get_all(http::header::SET_COOKIE).iter().any(|v| {
        let v = v.as_bytes();
        let Some(eq) = v.iter().position(|&b| b == b'=') else {
            return false;
        };
        let mut n = &v[..eq];
        while let [first, rest @ ..] = n {
            if !ows(first) {
                break;
            }
            n = rest;
        }
        while let [rest @ .., last] = n {
            if !ows(last) {
                break;
            }
            n = rest;
        }
        n == name.as_bytes()
    })
}

struct State {
    session: Session,
    replaced: bool,
    /// Whether the handler used the session: the response may depend on
    /// it, so it varies with the `Cookie` header.
    accessed: bool,
}

/// The request's session, shared between the handler and [`SessionLayer`].
///
/// Cloning is cheap and every clone is the same session. Each method locks
/// it for the duration of the call; [`lock`](SessionHandle::lock) gives the
/// [`Session`] itself for several steps at once (do not hold the guard
/// across an `.await`).
///
/// With the `axum` feature, `SessionHandle` is an extractor; without the
/// layer, extracting it fails with `500 Internal Server Error`.
#[derive(Clone)]
pub struct SessionHandle {
    inner: Arc<Mutex<State>>,
}

impl SessionHandle {
    /// A handle on `session`, as the layer makes for each request. Useful
    /// in tests of handlers.
    pub fn new(session: Session) -> SessionHandle {
        SessionHandle {
            inner: Arc::new(Mutex::new(State {
                session,
                replaced: false,
                accessed: false,
            })),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic in another holder cannot leave a Session half-updated in a
        // way that matters here: every Session method keeps it consistent.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The state, recording that the handler used the session.
    fn access(&self) -> MutexGuard<'_, State> {
        let mut state = self.state();
        state.accessed = true;
        state
    }

    /// Locks the session for several operations at once.
    pub fn lock(&self) -> impl std::ops::DerefMut<Target = Session> + '_ {
        SessionGuard(self.access())
    }

    /// A copy of the session as it is now.
    pub fn snapshot(&self) -> Session {
        self.access().session.clone()
    }

    /// See [`Session::id`].
    pub fn id(&self) -> String {
        self.access().session.id().to_owned()
    }

    /// See [`Session::get`].
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, SessionError> {
        self.access().session.get(key)
    }

    /// See [`Session::has`].
    pub fn has(&self, key: &str) -> bool {
        self.access().session.has(key)
    }

    /// See [`Session::set`].
    pub fn set<T: Serialize>(&self, key: impl Into<String>, value: T) -> Result<(), SessionError> {
        self.access().session.set(key, value)
    }

    /// See [`Session::unset`].
    pub fn unset(&self, key: &str) -> Result<(), SessionError> {
        self.access().session.unset(key)
    }

    /// See [`Session::flash`].
    pub fn flash<T: Serialize>(
        &self,
        key: impl Into<String>,
        value: T,
    ) -> Result<(), SessionError> {
        self.access().session.flash(key, value)
    }

    /// See [`Session::regenerate_id`].
    pub fn regenerate_id(&self, delete_old: bool) -> Result<(), SessionError> {
        self.access().session.regenerate_id(delete_old)
    }

    /// See [`Session::destroy`]: the response deletes the cookie.
    pub fn destroy(&self) {
        self.access().session.destroy();
    }

    /// See [`Session::touch`]: the response carries a new cookie.
    pub fn touch(&self) {
        self.access().session.touch();
    }

    /// See [`Session::is_dirty`].
    pub fn is_dirty(&self) -> bool {
        self.access().session.is_dirty()
    }

    /// See [`Session::is_destroyed`].
    pub fn is_destroyed(&self) -> bool {
        self.access().session.is_destroyed()
    }

    /// Puts `session` in place of the current one and returns the latter.
    ///
    /// The response carries `session`'s cookie, or deletes the cookie if
    /// `session` is empty and unchanged: the replaced session never comes
    /// back. For
    /// example, a logout that still shows a flash message:
    ///
    /// ```
    /// use cookie_session::{Session, SessionHandle};
    ///
    /// let handle = SessionHandle::new(Session::new());
    /// handle.set("user", "alice")?;
    /// let old = handle.replace(Session::new());
    /// handle.flash("notice", "Logged out")?;
    /// assert_eq!(old.get::<String>("user")?.as_deref(), Some("alice"));
    /// assert_eq!(handle.get::<String>("user")?, None);
    /// # Ok::<(), cookie_session::SessionError>(())
    /// ```
    pub fn replace(&self, mut session: Session) -> Session {
        if !session.is_empty() {
            // Its data must reach the cookie even if it is unchanged.
            session.mark_dirty();
        }
        let mut state = self.access();
        state.replaced = true;
        std::mem::replace(&mut state.session, session)
    }
}

impl fmt::Debug for SessionHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SessionHandle")
            .field(&self.state().session)
            .finish()
    }
}

struct SessionGuard<'a>(MutexGuard<'a, State>);

impl std::ops::Deref for SessionGuard<'_> {
    type Target = Session;
    fn deref(&self) -> &Session {
        &self.0.session
    }
}

impl std::ops::DerefMut for SessionGuard<'_> {
    fn deref_mut(&mut self) -> &mut Session {
        &mut self.0.session
    }
}

#[cfg(feature = "axum")]
mod axum_impl {
    use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
    use axum_core::response::{IntoResponse, Response};
    use http::StatusCode;
    use http::request::Parts;

    use super::SessionHandle;

    /// The rejection when a handler asks for a [`SessionHandle`] but no
    /// [`SessionLayer`](super::SessionLayer) runs in front of it: a
    /// configuration error, answered with `500 Internal Server Error`.
    #[derive(Debug, Clone, Copy)]
    pub struct MissingSessionLayer;

    impl std::fmt::Display for MissingSessionLayer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("no SessionLayer in front of this handler")
        }
    }

    impl std::error::Error for MissingSessionLayer {}

    impl IntoResponse for MissingSessionLayer {
        fn into_response(self) -> Response {
            (StatusCode::INTERNAL_SERVER_ERROR, self.to_string()).into_response()
        }
    }

    /// `Option<SessionHandle>`: `None` when no layer runs in front of the
    /// handler.
    impl<S: Send + Sync> OptionalFromRequestParts<S> for SessionHandle {
        type Rejection = std::convert::Infallible;

        async fn from_request_parts(
            parts: &mut Parts,
            _: &S,
        ) -> Result<Option<Self>, Self::Rejection> {
            Ok(parts.extensions.get::<SessionHandle>().cloned())
        }
    }

    impl<S: Send + Sync> FromRequestParts<S> for SessionHandle {
        type Rejection = MissingSessionLayer;

        async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
            parts
                .extensions
                .get::<SessionHandle>()
                .cloned()
                .ok_or(MissingSessionLayer)
        }
    }
}

#[cfg(feature = "axum")]
pub use axum_impl::MissingSessionLayer;
