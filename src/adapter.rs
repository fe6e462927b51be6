//! What every framework adapter does, written once: read the session when
//! a request starts, and decide at its end which `Set-Cookie` and `Vary`
//! the response carries, logging through `tracing` (never a cookie).
//! The adapters (`middleware` for tower, `actix`) only move headers.

use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};

use time::OffsetDateTime;

use crate::cookie_codec::CookieCodec;
use crate::error::{DecodeError, EncodeError};
use crate::handle::SessionHandle;
use crate::session::Session;

/// What an adapter answers when a session cannot be saved. Either way the
/// response deletes the cookie, so the browser never keeps an older one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OnSaveError {
    /// Send the handler's response as it is (with the deleting
    /// `Set-Cookie`).
    KeepResponse,
    /// Send an empty response with this status code instead (the default
    /// is 500, with no detail of the error in the body).
    Status(u16),
}

/// The hook that chooses an [`OnSaveError`].
#[derive(Clone)]
pub(crate) struct SaveErrorHook(pub(crate) Arc<dyn Fn(&EncodeError) -> OnSaveError + Send + Sync>);

impl Default for SaveErrorHook {
    fn default() -> Self {
        SaveErrorHook(Arc::new(|_| OnSaveError::Status(500)))
    }
}

impl fmt::Debug for SaveErrorHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SaveErrorHook(..)")
    }
}

/// The codec a middleware and all its clones use, which `set_codec`
/// replaces for every one of them.
pub(crate) struct SharedCodec<C>(Arc<RwLock<Arc<C>>>);

impl<C> Clone for SharedCodec<C> {
    fn clone(&self) -> Self {
        SharedCodec(self.0.clone())
    }
}

impl<C> SharedCodec<C> {
    pub(crate) fn new(codec: C) -> SharedCodec<C> {
        SharedCodec(Arc::new(RwLock::new(Arc::new(codec))))
    }

    /// The codec in use.
    pub(crate) fn get(&self) -> Arc<C> {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the codec for the requests that start from now on.
    pub(crate) fn set(&self, codec: C) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(codec);
    }
}

impl<C: fmt::Debug> fmt::Debug for SharedCodec<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.get().fmt(f)
    }
}

/// A request's session, as the adapter holds it between the start and the
/// end of the request.
pub(crate) struct Started {
    pub(crate) handle: SessionHandle,
    codec: Arc<dyn CookieCodec>,
    /// The request carried a cookie of the session's name.
    had_cookie: bool,
    /// That cookie was refused: delete it, unless a new one replaces it.
    refused: bool,
}

/// Starts a request: the session `read` gave (a fresh one if none, or if
/// the cookie was refused, whose reason is logged at `info`).
pub(crate) fn start(
    codec: Arc<dyn CookieCodec>,
    read: Result<Option<Session>, DecodeError>,
) -> Started {
    start_with(codec, read, Session::new)
}

/// Like [`start`], with `fresh` making the session when there is none.
pub(crate) fn start_with(
    codec: Arc<dyn CookieCodec>,
    read: Result<Option<Session>, DecodeError>,
    fresh: impl FnOnce() -> Session,
) -> Started {
    let (session, had_cookie, refused) = match read {
        Ok(Some(session)) => (session, true, false),
        Ok(None) => (fresh(), false, false),
        Err(reason) => {
            tracing::info!(
                cookie = codec.cookie_name(),
                %reason,
                "session cookie refused; starting a new session"
            );
            (fresh(), true, true)
        }
    };
    Started {
        handle: SessionHandle::with_codec(session, codec.clone()),
        codec,
        had_cookie,
        refused,
    }
}

/// What the response must carry once the handler is done.
#[derive(Debug)]
pub(crate) struct Finish {
    /// Append this `Set-Cookie`.
    pub(crate) set_cookie: Option<String>,
    /// Add `Vary: Cookie`.
    pub(crate) vary: bool,
    /// Saving failed: answer as the hook says.
    pub(crate) on_error: Option<OnSaveError>,
}

impl Started {
    /// Ends the request. `handler_set_cookie`: the response already sets a
    /// cookie of the session's name (see [`sets_cookie_named`]); the
    /// handler's wins and a warning is logged.
    pub(crate) fn finish(
        self,
        handler_set_cookie: bool,
        hook: &SaveErrorHook,
        now: OffsetDateTime,
    ) -> Finish {
        let codec = &*self.codec;
        let state = self.handle.state();
        let mut on_error = None;
        let set_cookie = if handler_set_cookie {
            tracing::warn!(
                cookie = codec.cookie_name(),
                "the handler set the session cookie itself; no other Set-Cookie is added"
            );
            None
        } else if state.replaced && !state.session.is_dirty() {
            // Replaced by an empty, unchanged session: drop the cookie.
            Some(codec.removal_cookie())
        } else {
            match codec.write_cookie(&state.session, now) {
                Ok(Some(cookie)) => Some(cookie),
                // A refused cookie is deleted once, so the browser stops
                // sending it (and the log stops repeating it).
                Ok(None) => self.refused.then(|| codec.removal_cookie()),
                Err(error) => {
                    // Fail closed: the browser must not keep the old cookie,
                    // which may hold what the handler meant to take away.
                    tracing::error!(
                        cookie = codec.cookie_name(),
                        %error,
                        "session could not be saved; the cookie is deleted"
                    );
                    on_error = Some((hook.0)(&error));
                    Some(codec.removal_cookie())
                }
            }
        };
        Finish {
            vary: self.had_cookie || state.accessed || set_cookie.is_some(),
            set_cookie,
            on_error,
        }
    }

    /// The session cookie's name.
    pub(crate) fn cookie_name(&self) -> &str {
        self.codec.cookie_name()
    }
}

/// Whether one of the `Set-Cookie` values sets the cookie `name` (its name
/// compared byte for byte, trimmed of SP and HTAB only).
pub(crate) fn sets_cookie_named<I, V>(set_cookies: I, name: &str) -> bool
where
    I: IntoIterator<Item = V>,
    V: AsRef<[u8]>,
{
    let ows = |b: &u8| *b == b' ' || *b == b'\t';
    set_cookies.into_iter().any(|v| {
        let v = v.as_ref();
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
