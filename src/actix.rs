//! [`SessionMiddleware`]: an actix-web 4 middleware that loads the session
//! before the handler and saves it after, and a [`SessionHandle`]
//! extractor (feature `actix`).
//!
//! The middleware behaves as the tower `SessionLayer` does (the two share
//! the code that decides what to write): it reads the session from the
//! `Cookie` headers, hands it to the handler as a [`SessionHandle`], and
//! after the handler appends a `Set-Cookie` only if the session is dirty,
//! due for refresh or destroyed, and `Vary: Cookie` whenever the request
//! carried a session cookie, the handler used the session or the response
//! sets the cookie. A refused cookie is logged through `tracing` (the
//! reason, never the cookie) and deleted once; a session that cannot be
//! saved deletes the cookie and, by default, answers an empty `500`.
//!
//! ```no_run
//! use actix_web::{App, HttpServer, web};
//! use cookie_session::actix::SessionMiddleware;
//! use cookie_session::{Key, Keyring, SessionCodec, SessionError, SessionHandle};
//!
//! async fn count(session: SessionHandle) -> Result<String, SessionError> {
//!     let n = session.get::<u64>("n")?.unwrap_or(0) + 1;
//!     session.set("n", n)?;
//!     Ok(format!("request {n} of this session"))
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let key = Key::from_secret(std::env::var("SESSION_SECRET")?.as_bytes())?;
//! let sessions = SessionMiddleware::new(SessionCodec::builder("session", Keyring::new(key)).build()?);
//! actix_web::rt::System::new().block_on(
//!     HttpServer::new(move || {
//!         App::new()
//!             .wrap(sessions.clone())
//!             .route("/", web::get().to(count))
//!     })
//!     .bind("127.0.0.1:3000")?
//!     .run(),
//! )?;
//! # Ok(())
//! # }
//! ```
//!
//! See `examples/actix_app.rs` for a whole application.

use std::fmt;
use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::StatusCode;
use actix_web::http::header::{COOKIE, HeaderValue, SET_COOKIE, VARY};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use time::OffsetDateTime;

use crate::adapter::{self, OnSaveError, SaveErrorHook, SharedCodec};
use crate::codec::SessionCodec;
use crate::cookie_codec::CookieCodec;
use crate::error::{EncodeError, SessionError};
use crate::handle::SessionHandle;

/// An actix-web middleware (a [`Transform`]) that gives every request a
/// [`SessionHandle`] and saves the session into the response: the
/// counterpart of the tower `SessionLayer`, with the same behaviour (see
/// the [module docs](self)).
///
/// ```
/// use actix_web::{App, test, web};
/// use cookie_session::actix::SessionMiddleware;
/// use cookie_session::{Key, Keyring, SessionCodec, SessionHandle};
///
/// # actix_web::rt::System::new().block_on(async {
/// let codec = SessionCodec::builder("sid", Keyring::new(Key::generate())).build()?;
/// let app = test::init_service(
///     App::new().wrap(SessionMiddleware::new(codec)).route(
///         "/",
///         web::get().to(|session: SessionHandle| async move {
///             let visits = session.get::<u32>("visits")?.unwrap_or(0) + 1;
///             session.set("visits", visits)?;
///             Ok::<_, cookie_session::SessionError>(format!("visit {visits}"))
///         }),
///     ),
/// )
/// .await;
/// let res = test::call_service(&app, test::TestRequest::get().to_request()).await;
/// let set_cookie = res.headers().get("set-cookie").unwrap().to_str()?;
/// assert!(set_cookie.starts_with("sid="));
/// assert_eq!(test::read_body(res).await, "visit 1");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
///
/// Clones share the codec: [`set_codec`](SessionMiddleware::set_codec) on
/// any clone changes it for every worker, e.g. to rotate keys without a
/// restart.
pub struct SessionMiddleware<C = SessionCodec> {
    codec: SharedCodec<C>,
    on_save_error: SaveErrorHook,
}

impl<C> Clone for SessionMiddleware<C> {
    fn clone(&self) -> Self {
        SessionMiddleware {
            codec: self.codec.clone(),
            on_save_error: self.on_save_error.clone(),
        }
    }
}

impl<C: CookieCodec + 'static> SessionMiddleware<C> {
    /// A middleware reading and writing sessions with `codec`: a
    /// [`SessionCodec`], or any other [`CookieCodec`] (with the `remix`
    /// feature, a `MigratingCodec` moves Remix cookies to this crate's
    /// format as they come in).
    pub fn new(codec: C) -> SessionMiddleware<C> {
        SessionMiddleware {
            codec: SharedCodec::new(codec),
            on_save_error: SaveErrorHook::default(),
        }
    }

    /// What to answer when a session cannot be saved (too large for a
    /// cookie, say). The cookie is deleted whatever `hook` returns; the
    /// default answers `500 Internal Server Error` with an empty body.
    ///
    /// ```
    /// use cookie_session::actix::SessionMiddleware;
    /// use cookie_session::{Key, Keyring, OnSaveError, SessionCodec};
    ///
    /// let codec = SessionCodec::builder("sid", Keyring::new(Key::generate())).build()?;
    /// // Keep the handler's response, as if the session had been saved.
    /// let sessions = SessionMiddleware::new(codec).on_save_error(|_error| OnSaveError::KeepResponse);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn on_save_error(
        mut self,
        hook: impl Fn(&EncodeError) -> OnSaveError + Send + Sync + 'static,
    ) -> SessionMiddleware<C> {
        self.on_save_error = SaveErrorHook(Arc::new(hook));
        self
    }

    /// The codec in use.
    pub fn codec(&self) -> Arc<C> {
        self.codec.get()
    }

    /// Replaces the codec for the requests that start from now on (requests
    /// in flight finish with the codec they started with), in every clone
    /// of this middleware. To rotate keys, build a codec whose keyring has
    /// the new key as primary and the old one as a fallback: cookies the old
    /// key signed are still accepted and re-issued with the new one.
    pub fn set_codec(&self, codec: C) {
        self.codec.set(codec);
    }
}

impl<C: fmt::Debug> fmt::Debug for SessionMiddleware<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionMiddleware")
            .field("codec", &self.codec)
            .finish()
    }
}

impl<S, B, C> Transform<S, ServiceRequest> for SessionMiddleware<C>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
    C: CookieCodec + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = SessionMiddlewareService<S, C>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(SessionMiddlewareService {
            inner: Rc::new(service),
            middleware: self.clone(),
        }))
    }
}

/// The service made by [`SessionMiddleware`].
pub struct SessionMiddlewareService<S, C = SessionCodec> {
    inner: Rc<S>,
    middleware: SessionMiddleware<C>,
}

impl<S, C: fmt::Debug> fmt::Debug for SessionMiddlewareService<S, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionMiddlewareService")
            .field("middleware", &self.middleware)
            .finish_non_exhaustive()
    }
}

impl<S, B, C> Service<ServiceRequest> for SessionMiddlewareService<S, C>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
    C: CookieCodec + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>>>>;

    forward_ready!(inner);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let codec: Arc<dyn CookieCodec> = self.middleware.codec();
        let now = OffsetDateTime::now_utc();
        let fields = req.headers().get_all(COOKIE).map(HeaderValue::as_bytes);
        let read = crate::cookie_codec::read_fields(&*codec, fields, now);
        let started = adapter::start(codec, read);
        req.extensions_mut().insert(started.handle.clone());
        let hook = self.middleware.on_save_error.clone();
        let inner = self.inner.clone();
        Box::pin(async move {
            let response = inner.call(req).await?;
            let own = adapter::sets_cookie_named(
                response
                    .headers()
                    .get_all(SET_COOKIE)
                    .map(HeaderValue::as_bytes),
                started.cookie_name(),
            );
            let finish = started.finish(own, &hook, OffsetDateTime::now_utc());
            let mut response = match finish.on_error {
                Some(OnSaveError::Status(code)) => {
                    let status =
                        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                    response
                        .into_response(HttpResponse::new(status))
                        .map_into_right_body()
                }
                _ => response.map_into_left_body(),
            };
            let headers = response.headers_mut();
            if let Some(cookie) = finish.set_cookie {
                // Always a valid header value (see the tower layer).
                if let Ok(value) = HeaderValue::try_from(cookie) {
                    headers.append(SET_COOKIE, value);
                }
            }
            if finish.vary
                && !headers
                    .get_all(VARY)
                    .any(|v| crate::cookie::varies_on_cookie(v.as_bytes()))
            {
                headers.append(VARY, HeaderValue::from_static("Cookie"));
            }
            Ok(response)
        })
    }
}

/// The error when a handler asks for a [`SessionHandle`] but no
/// [`SessionMiddleware`] wraps it: a configuration error, answered with
/// `500 Internal Server Error`.
#[derive(Debug, Clone, Copy)]
pub struct MissingSessionMiddleware;

impl fmt::Display for MissingSessionMiddleware {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no SessionMiddleware wraps this handler")
    }
}

impl std::error::Error for MissingSessionMiddleware {}

impl ResponseError for MissingSessionMiddleware {
    fn status_code(&self) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }
}

/// The session of the request, from the [`SessionMiddleware`] that wraps
/// the handler (`Option<SessionHandle>`: `None` without one).
impl FromRequest for SessionHandle {
    type Error = MissingSessionMiddleware;
    type Future = Ready<Result<SessionHandle, MissingSessionMiddleware>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            req.extensions()
                .get::<SessionHandle>()
                .cloned()
                .ok_or(MissingSessionMiddleware),
        )
    }
}

/// With the `actix` feature, handlers can use `?` on session calls: an
/// error answers `500 Internal Server Error` with no detail in the body
/// (it is logged at `error` level).
impl ResponseError for SessionError {
    fn status_code(&self) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }

    fn error_response(&self) -> HttpResponse {
        tracing::error!(error = %self, "session error in a handler");
        HttpResponse::new(StatusCode::INTERNAL_SERVER_ERROR)
    }
}
