//! [`SessionHandle`]: the request's session, shared between a handler and
//! the framework adapter that loads and saves it (features `tower`,
//! `actix`).

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use crate::cookie_codec::CookieCodec;
use crate::error::SessionError;
use crate::session::Session;

pub(crate) struct State {
    pub(crate) session: Session,
    pub(crate) replaced: bool,
    /// Whether the handler used the session: the response may depend on
    /// it, so it varies with the `Cookie` header.
    pub(crate) accessed: bool,
}

/// The request's session, shared between the handler and the middleware
/// that loads and saves it (the tower `SessionLayer` or the actix-web
/// `SessionMiddleware`).
///
/// Cloning is cheap and every clone is the same session. Each method locks
/// it for the duration of the call; [`lock`](SessionHandle::lock) gives the
/// [`Session`] itself for several steps at once (do not hold the guard
/// across an `.await`).
///
/// With the `axum` or the `actix` feature, `SessionHandle` is an
/// extractor; without the middleware, extracting it fails with
/// `500 Internal Server Error` (`Option<SessionHandle>` gives `None`).
#[derive(Clone)]
pub struct SessionHandle {
    inner: Arc<Mutex<State>>,
    /// The codec that will save the session, for [`fits`](Self::fits).
    codec: Option<Arc<dyn CookieCodec>>,
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
            codec: None,
        }
    }

    /// A handle on `session` that `codec` will save.
    pub(crate) fn with_codec(session: Session, codec: Arc<dyn CookieCodec>) -> SessionHandle {
        SessionHandle {
            codec: Some(codec),
            ..SessionHandle::new(session)
        }
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
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
    ///
    /// The guard holds a `std::sync::Mutex`: drop it before any `.await`
    /// (a guard kept across an `.await` makes the future `!Send`, which
    /// axum and tokio refuse at compile time, and would block the other
    /// clones of the handle). Scope it in a block, or copy what you need
    /// out with [`snapshot`](Self::snapshot) or [`get`](Self::get):
    ///
    /// ```
    /// use cookie_session::{Session, SessionHandle};
    ///
    /// # async fn save_profile(_: &str) {}
    /// async fn handler(session: SessionHandle) -> Result<(), cookie_session::SessionError> {
    ///     let user = {
    ///         let mut s = session.lock();
    ///         let visits = s.get::<u32>("visits")?.unwrap_or(0) + 1;
    ///         s.set("visits", visits)?;
    ///         s.get::<String>("user")?
    ///     }; // the guard is dropped here
    ///     if let Some(user) = user {
    ///         save_profile(&user).await;
    ///     }
    ///     Ok(())
    /// }
    /// # let _ = handler(SessionHandle::new(Session::new()));
    /// ```
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

    /// Whether the session can be saved as it is now: `false` when the
    /// cookie would be too large (or a value has no form in the codec's
    /// format). Check it before building a response that relies on the
    /// session being saved; a session that cannot be saved is not, the
    /// adapter deletes the cookie and (by default) answers
    /// `500 Internal Server Error`. Always `true` for a handle made with
    /// [`new`](Self::new), which no codec saves.
    ///
    /// ```
    /// use cookie_session::{Session, SessionHandle};
    ///
    /// let handle = SessionHandle::new(Session::new());
    /// handle.set("note", "short")?;
    /// assert!(handle.fits());
    /// # Ok::<(), cookie_session::SessionError>(())
    /// ```
    pub fn fits(&self) -> bool {
        let Some(codec) = &self.codec else {
            return true;
        };
        let state = self.access();
        codec
            .write_cookie(&state.session, OffsetDateTime::now_utc())
            .is_ok()
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
