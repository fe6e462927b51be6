//! [`SessionLayer`]: a tower middleware that loads the session before the
//! handler and saves it after (feature `tower`).
//!
//! See [`SessionLayer`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::{COOKIE, SET_COOKIE};
use http::{HeaderValue, Request, Response, StatusCode};
use time::OffsetDateTime;
use tower_layer::Layer;
use tower_service::Service;

use crate::adapter::{self, OnSaveError, SaveErrorHook, SharedCodec};
use crate::codec::SessionCodec;
use crate::cookie_codec::CookieCodec;
use crate::error::EncodeError;
#[cfg(doc)]
use crate::handle::SessionHandle;
use crate::http::vary_cookie;

/// A tower [`Layer`] that gives every request a [`SessionHandle`](crate::SessionHandle) and
/// saves the session into the response.
///
/// For every request the layer
///
/// 1. reads the session from the `Cookie` headers (a fresh one if there is
///    none, or if the cookie is refused: the reason is logged through
///    `tracing` at `info` level, never the cookie);
/// 2. puts a [`SessionHandle`](crate::SessionHandle) into the request's extensions (with the
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
/// Sliding refresh and revocation are the codec's
/// ([`refresh_after`](crate::SessionCodecBuilder::refresh_after),
/// [`revoked_when`](crate::SessionCodecBuilder::revoked_when)), so they work
/// here unchanged: a cookie due for refresh is re-issued even by a handler
/// that only reads, and a revoked one gives a fresh session, its reason
/// (`session revoked`) logged and the cookie deleted.
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
pub struct SessionLayer<C = SessionCodec> {
    codec: SharedCodec<C>,
    pub(crate) on_save_error: SaveErrorHook,
}

impl<C> Clone for SessionLayer<C> {
    fn clone(&self) -> Self {
        SessionLayer {
            codec: self.codec.clone(),
            on_save_error: self.on_save_error.clone(),
        }
    }
}

impl<C: CookieCodec + 'static> SessionLayer<C> {
    /// A layer reading and writing sessions with `codec`: a
    /// [`SessionCodec`], or any other [`CookieCodec`] (with the `remix`
    /// feature, a `MigratingCodec` moves Remix cookies to this crate's
    /// format as they come in).
    pub fn new(codec: C) -> SessionLayer<C> {
        SessionLayer {
            codec: SharedCodec::new(codec),
            on_save_error: SaveErrorHook::default(),
        }
    }

    /// What to answer when a session cannot be saved (too large for a
    /// cookie, say). The cookie is deleted whatever `hook` returns; the
    /// default answers `500 Internal Server Error` with an empty body.
    ///
    /// ```
    /// use cookie_session::{Key, Keyring, OnSaveError, SessionCodec, SessionLayer};
    ///
    /// let codec = SessionCodec::builder("sid", Keyring::new(Key::generate())).build()?;
    /// // Keep the handler's response, as if the session had been saved.
    /// let layer = SessionLayer::new(codec).on_save_error(|_error| OnSaveError::KeepResponse);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn on_save_error(
        mut self,
        hook: impl Fn(&EncodeError) -> OnSaveError + Send + Sync + 'static,
    ) -> SessionLayer<C> {
        self.on_save_error = SaveErrorHook(Arc::new(hook));
        self
    }

    /// The codec in use.
    pub fn codec(&self) -> Arc<C> {
        self.codec.get()
    }

    /// Replaces the codec for the requests that start from now on (requests
    /// in flight finish with the codec they started with). To rotate keys,
    /// build a codec whose keyring has the new key as primary and the old
    /// one as a fallback: cookies the old key signed are still accepted and
    /// re-issued with the new one.
    pub fn set_codec(&self, codec: C) {
        self.codec.set(codec);
    }
}

impl<C: fmt::Debug> fmt::Debug for SessionLayer<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionLayer")
            .field("codec", &self.codec)
            .finish()
    }
}

impl<S, C> Layer<S> for SessionLayer<C> {
    type Service = SessionService<S, C>;

    fn layer(&self, inner: S) -> SessionService<S, C> {
        SessionService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service made by [`SessionLayer`].
pub struct SessionService<S, C = SessionCodec> {
    inner: S,
    layer: SessionLayer<C>,
}

impl<S: Clone, C> Clone for SessionService<S, C> {
    fn clone(&self) -> Self {
        SessionService {
            inner: self.inner.clone(),
            layer: self.layer.clone(),
        }
    }
}

impl<S: fmt::Debug, C: fmt::Debug> fmt::Debug for SessionService<S, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionService")
            .field("inner", &self.inner)
            .field("layer", &self.layer)
            .finish()
    }
}

impl<S, C, ReqBody, ResBody> Service<Request<ReqBody>> for SessionService<S, C>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: 'static,
    C: CookieCodec + 'static,
    ResBody: Default + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<ResBody>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        let codec: Arc<dyn CookieCodec> = self.layer.codec();
        let now = OffsetDateTime::now_utc();
        let read = crate::cookie_codec::read_fields(&*codec, req.headers().get_all(COOKIE), now);
        let started = adapter::start(codec, read);
        req.extensions_mut().insert(started.handle.clone());
        let hook = self.layer.on_save_error.clone();
        let future = self.inner.call(req);
        Box::pin(async move {
            let response = future.await?;
            Ok(finish_response(started, &hook, response))
        })
    }
}

/// Ends a request whose handler answered `response`: decides with
/// [`Started::finish`](adapter::Started::finish) and writes `Set-Cookie`
/// and `Vary` (or replaces the response if saving failed and the hook says
/// so). Shared by every tower layer of the crate.
pub(crate) fn finish_response<B: Default>(
    started: adapter::Started,
    hook: &SaveErrorHook,
    mut response: Response<B>,
) -> Response<B> {
    let own = adapter::sets_cookie_named(
        response.headers().get_all(SET_COOKIE),
        started.cookie_name(),
    );
    let finish = started.finish(own, hook, OffsetDateTime::now_utc());
    if let Some(OnSaveError::Status(code)) = finish.on_error {
        let mut empty = Response::new(B::default());
        *empty.status_mut() =
            StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        response = empty;
    }
    let headers = response.headers_mut();
    if let Some(cookie) = finish.set_cookie {
        // The name and attributes were validated when the codec was
        // built and the value is base64url or base64: always a
        // valid header value.
        if let Ok(value) = HeaderValue::try_from(cookie) {
            headers.append(SET_COOKIE, value);
        }
    }
    if finish.vary {
        vary_cookie(headers);
    }
    response
}

#[cfg(feature = "axum")]
mod axum_impl {
    use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
    use axum_core::response::{IntoResponse, Response};
    use http::StatusCode;
    use http::request::Parts;

    use crate::error::SessionError;
    use crate::handle::SessionHandle;

    /// The rejection when a handler asks for a [`SessionHandle`](crate::SessionHandle) but no
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

    /// With the `axum` feature, handlers can use `?` on session calls: an
    /// error answers `500 Internal Server Error` with no detail in the body
    /// (it is logged at `error` level).
    ///
    /// ```
    /// use cookie_session::{SessionError, SessionHandle};
    ///
    /// async fn visit(session: SessionHandle) -> Result<String, SessionError> {
    ///     let n: u32 = session.get("n")?.unwrap_or(0) + 1;
    ///     session.set("n", n)?;
    ///     Ok(format!("visit {n}"))
    /// }
    /// ```
    impl IntoResponse for SessionError {
        fn into_response(self) -> Response {
            tracing::error!(error = %self, "session error in a handler");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
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
