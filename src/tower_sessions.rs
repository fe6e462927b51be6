//! [`TowerSessionsLayer`]: a [`tower_sessions_core::Session`], the session
//! type of `tower-sessions`, `axum-login` and `axum-messages`, kept in this
//! crate's cookie (feature `tower-sessions`).
//!
//! The layer reads the cookie with any [`CookieCodec`], hands the handler a
//! `tower_sessions_core::Session` holding the session's values, and after
//! the handler writes the cookie with the rules of
//! [`SessionLayer`]: `Set-Cookie` only when the
//! session was modified, is due for a refresh (or was signed with a
//! fallback key), or was deleted; `Vary: Cookie`; a session that cannot be
//! saved deletes the cookie (500 by default, see
//! [`on_save_error`](TowerSessionsLayer::on_save_error)); a refused cookie
//! gives an empty session, its reason logged through `tracing` and the
//! cookie deleted once. Key rotation, signed expiry, sliding refresh,
//! revocation and Remix migration all apply, as they do behind
//! `SessionLayer`.
//!
//! The version of `tower-sessions-core` is 0.14, the one `axum-login` 0.18
//! and `tower-sessions` 0.14 use: a `Session` of another 0.x release is
//! another type to them.
//!
//! # How tower-sessions operations map onto the cookie
//!
//! | tower-sessions | cookie-session |
//! | --- | --- |
//! | `get`, `get_value` | [`Session::get`]: values, then flash that arrived with the request |
//! | `insert`, `insert_value`, `remove`, `remove_value`, `clear` | [`Session::set`] / [`Session::unset`] of the keys that changed, once the handler is done |
//! | `cycle_id` | [`Session::regenerate_id(true)`](Session::regenerate_id): a new id, the old one in [`delete_id`](Session::delete_id), `max_lifetime` restarts |
//! | `flush`, or `delete` with no change after it | [`Session::destroy`]: the cookie is deleted |
//! | `flush` or `delete`, then `insert` | a new session: new id, only the values inserted since |
//! | `id` | the session's id when it is 22 base64url characters (ids this crate generates are); otherwise an id made up for the request |
//! | `expiry`, `expiry_date`, `expiry_age` | the codec's `max_age` ([`Expiry::OnInactivity`]), or `max_lifetime` ([`Expiry::AtDateTime`]) once it ends sooner; `None` for a codec with no signed expiry |
//! | `save`, `load` | work on the request's copy; the cookie is written once the handler is done |
//!
//! No counterpart:
//!
//! - `set_expiry`: a cookie's expiry is the codec's (`max_age`,
//!   `max_lifetime`, `refresh_after`), signed into the cookie; a value set
//!   by the handler is ignored, and `expiry_date` is not stored anywhere
//!   but in the cookie's signed times.
//! - Server-side state: there is no store to expire, list or purge
//!   sessions, and `delete` cannot reach a copy of the cookie kept
//!   elsewhere; put [`Session::delete_id`]s on a deny-list read by the
//!   codec's `revoked_when` for that.
//! - Values with no JSON form (CBOR byte strings, maps with non-text keys,
//!   integers beyond 64 bits), written by a [`SessionLayer`] handler sharing
//!   the cookie: tower-sessions cannot see them; they are kept as they are
//!   unless the session is cycled, flushed or deleted. A JSON `null` stored
//!   with `insert` removes the key (as [`Session::set`] does).
//! - Flash: tower-sessions has none; flash that arrived with the request
//!   reads as a value and is dropped from the next cookie unless the
//!   handler changes it.
//! - 5xx responses: tower-sessions' own layer does not save on them; this
//!   one saves like `SessionLayer` does, whatever the status.
//!
//! [`SessionLayer`]: crate::SessionLayer
//!
//! # Example
//!
//! ```
//! use cookie_session::tower_sessions::TowerSessionsLayer;
//! use cookie_session::{Key, Keyring, SessionCodec};
//! use http::{Request, Response, header::{COOKIE, SET_COOKIE}};
//! use tower::{ServiceBuilder, ServiceExt, service_fn};
//! use tower_sessions_core::Session;
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let codec = SessionCodec::builder("sid", Keyring::new(Key::generate())).build()?;
//! let app = ServiceBuilder::new()
//!     .layer(TowerSessionsLayer::new(codec))
//!     .service(service_fn(|req: Request<String>| async move {
//!         let session = req.extensions().get::<Session>().unwrap();
//!         let visits = session.get::<u32>("visits").await?.unwrap_or(0) + 1;
//!         session.insert("visits", visits).await?;
//!         Ok::<_, tower_sessions_core::session::Error>(Response::new(format!("visit {visits}")))
//!     }));
//!
//! let response = app.clone().oneshot(Request::new(String::new())).await?;
//! let set_cookie = response.headers()[SET_COOKIE].to_str()?;
//! assert_eq!(response.body(), "visit 1");
//!
//! let cookie = set_cookie.split(';').next().unwrap();
//! let request = Request::builder().header(COOKIE, cookie).body(String::new())?;
//! let response = app.oneshot(request).await?;
//! assert_eq!(response.body(), "visit 2");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! `examples/axum_login.rs` puts `axum-login` on top of it.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use async_trait::async_trait;
use http::header::COOKIE;
use http::{Request, Response};
use time::OffsetDateTime;
use tower_layer::Layer;
use tower_service::Service;
use tower_sessions_core::session::{Id, Record};
use tower_sessions_core::{Expiry, SessionStore, session_store};

use crate::adapter::{self, OnSaveError};
use crate::codec::SessionCodec;
use crate::cookie_codec::CookieCodec;
use crate::error::EncodeError;
use crate::handle::SessionHandle;
use crate::middleware::{SessionLayer, finish_response};
use crate::session::Session;

type Data = HashMap<String, serde_json::Value>;

/// A tower [`Layer`] that gives every request a
/// [`tower_sessions_core::Session`] kept in this crate's session cookie.
///
/// See [the module](self) for what it does and how tower-sessions'
/// operations map onto the cookie. `axum-login` runs inside it:
///
/// ```
/// use axum::Router;
/// use axum_login::{AuthManager, AuthnBackend};
/// use cookie_session::SessionCodec;
/// use cookie_session::tower_sessions::TowerSessionsLayer;
///
/// /// `routes` use `axum_login::AuthSession<B>` and `login_required!`.
/// fn app<B: AuthnBackend + 'static>(routes: Router, backend: B, codec: SessionCodec) -> Router {
///     routes
///         .layer(tower::layer::layer_fn(move |inner| {
///             AuthManager::new(inner, backend.clone(), "axum-login.data")
///         }))
///         .layer(TowerSessionsLayer::new(codec))
/// }
/// ```
pub struct TowerSessionsLayer<C = SessionCodec> {
    inner: SessionLayer<C>,
}

impl<C> Clone for TowerSessionsLayer<C> {
    fn clone(&self) -> Self {
        TowerSessionsLayer {
            inner: self.inner.clone(),
        }
    }
}

impl<C: fmt::Debug> fmt::Debug for TowerSessionsLayer<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TowerSessionsLayer")
            .field(&self.inner)
            .finish()
    }
}

impl<C: CookieCodec + 'static> TowerSessionsLayer<C> {
    /// A layer reading and writing sessions with `codec`: a
    /// [`SessionCodec`] or any other [`CookieCodec`].
    pub fn new(codec: C) -> TowerSessionsLayer<C> {
        TowerSessionsLayer {
            inner: SessionLayer::new(codec),
        }
    }

    /// What to answer when a session cannot be saved, as
    /// [`SessionLayer::on_save_error`]: the cookie is deleted whatever
    /// `hook` returns; the default answers `500` with an empty body.
    pub fn on_save_error(
        self,
        hook: impl Fn(&EncodeError) -> OnSaveError + Send + Sync + 'static,
    ) -> TowerSessionsLayer<C> {
        TowerSessionsLayer {
            inner: self.inner.on_save_error(hook),
        }
    }

    /// The codec in use.
    pub fn codec(&self) -> Arc<C> {
        self.inner.codec()
    }

    /// Replaces the codec for the requests that start from now on, on
    /// every clone of the layer (to rotate keys, as
    /// [`SessionLayer::set_codec`]).
    pub fn set_codec(&self, codec: C) {
        self.inner.set_codec(codec);
    }
}

impl<S, C> Layer<S> for TowerSessionsLayer<C> {
    type Service = TowerSessionsService<S, C>;

    fn layer(&self, inner: S) -> TowerSessionsService<S, C> {
        TowerSessionsService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service made by [`TowerSessionsLayer`].
pub struct TowerSessionsService<S, C = SessionCodec> {
    inner: S,
    layer: TowerSessionsLayer<C>,
}

impl<S: Clone, C> Clone for TowerSessionsService<S, C> {
    fn clone(&self) -> Self {
        TowerSessionsService {
            inner: self.inner.clone(),
            layer: self.layer.clone(),
        }
    }
}

impl<S: fmt::Debug, C: fmt::Debug> fmt::Debug for TowerSessionsService<S, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TowerSessionsService")
            .field("inner", &self.inner)
            .field("layer", &self.layer)
            .finish()
    }
}

impl<S, C, ReqBody, ResBody> Service<Request<ReqBody>> for TowerSessionsService<S, C>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: 'static,
    C: CookieCodec + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<ResBody>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        let codec: Arc<dyn CookieCodec> = self.layer.inner.codec();
        let now = OffsetDateTime::now_utc();
        let read = crate::cookie_codec::read_fields(&*codec, req.headers().get_all(COOKIE), now);
        // A new session's id comes from tower-sessions' own generator (a
        // user-space CSPRNG seeded by the OS, as tower-sessions makes its
        // ids): no system call for a request that may never save it.
        let mut fresh_id = None;
        let started = adapter::start_with(codec.clone(), read, || {
            let id = Id::default();
            fresh_id = Some(id);
            Session::with_id(id.to_string())
        });
        let bridge = Bridge::new(&started.handle, &*codec, now, fresh_id);
        req.extensions_mut().insert(bridge.session.clone());
        let hook = self.layer.inner.on_save_error.clone();
        let future = self.inner.call(req);
        Box::pin(async move {
            let response = future.await?;
            bridge.write_back(&started.handle).await;
            Ok(finish_response(started, &hook, response))
        })
    }
}

/// A request's `tower_sessions_core::Session` and its store.
struct Bridge {
    session: tower_sessions_core::Session,
    store: Arc<RequestStore>,
}

impl Bridge {
    /// The tower-sessions view of the session in `handle`. Its values are
    /// converted when the handler first touches them.
    fn new(
        handle: &SessionHandle,
        codec: &dyn CookieCodec,
        now: OffsetDateTime,
        id: Option<Id>,
    ) -> Bridge {
        let (id, expiry) = {
            let state = handle.state();
            let ours = &state.session;
            let id = id.unwrap_or_else(|| tower_id(ours.id()));
            (id, expiry(codec, ours, now))
        };
        let expiry_date = match expiry {
            Some(Expiry::OnInactivity(d)) => now.saturating_add(d),
            Some(Expiry::AtDateTime(t)) => t,
            _ => now,
        };
        let store = Arc::new(RequestStore {
            handle: handle.clone(),
            id,
            expiry_date,
            state: Mutex::new(StoreState::default()),
        });
        let session = tower_sessions_core::Session::new(Some(id), store.clone(), expiry);
        Bridge { session, store }
    }

    /// Puts what the handler did to the tower-sessions session into
    /// `handle`'s session. Fails closed: if that cannot be done, the session
    /// is destroyed (the cookie deleted) and the error logged.
    async fn write_back(&self, handle: &SessionHandle) {
        if let Err(error) = self.try_write_back(handle).await {
            tracing::error!(
                %error,
                "tower-sessions session could not be carried over; the cookie is deleted"
            );
            handle.state().session.destroy();
        }
    }

    async fn try_write_back(
        &self,
        handle: &SessionHandle,
    ) -> Result<(), Box<dyn std::error::Error>> {
        let modified = self.session.is_modified();
        let touched = {
            let st = self.store.state();
            st.loaded || st.deleted
        };
        if !modified && !touched {
            // Untouched (or only its id or expiry read).
            return Ok(());
        }
        // `flush`: no id and no data left.
        let empty = self.session.is_empty().await;
        if !empty && modified {
            // Hands the record to the request's store (`create` after
            // `cycle_id` or `flush`, `save` otherwise).
            self.session.save().await?;
        }
        let (deleted, written, original) = {
            let mut st = self.store.state();
            let written = st.written.take();
            // For a new session: which keys were flash.
            let original = matches!(written, Some(Written::New(..)))
                .then(|| self.store.original(&mut st).clone());
            (st.deleted, written, original)
        };
        // The response may depend on the session: `Vary: Cookie`.
        drop(handle.lock());
        let mut state = handle.state();
        let ours = &mut state.session;
        if ours.is_destroyed() {
            return Ok(());
        }
        if empty || (deleted && written.is_none()) {
            ours.destroy();
            return Ok(());
        }
        match written {
            None => {}
            Some(Written::Changes(_, changes)) => {
                // The same session: the keys that changed.
                for (key, value) in changes {
                    match value {
                        Some(value) => ours.set(key, value)?,
                        None => ours.unset(&key)?,
                    }
                }
            }
            Some(Written::New(_, new)) => {
                // A new session: new id, exactly the record's values.
                ours.regenerate_id(true)?;
                let keys: Vec<String> = ours.outgoing().0.keys().map(str::to_owned).collect();
                for key in keys {
                    if !new.contains_key(&key) {
                        ours.unset(&key)?;
                    }
                }
                let flash = original.as_deref();
                for (key, value) in new {
                    let unchanged_flash = flash.is_some_and(|o| {
                        o.from_flash.contains(&key) && o.data.get(&key) == Some(&value)
                    });
                    if !unchanged_flash {
                        ours.set(key, value)?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// What the handler saved, as the store recorded it.
enum Written {
    /// The same session: the keys whose value changed (`None`: removed).
    Changes(Id, Vec<(String, Option<serde_json::Value>)>),
    /// A new session (after `cycle_id`, `flush` or `delete`): all its data.
    New(Id, Data),
}

impl Written {
    fn id(&self) -> Id {
        match self {
            Written::Changes(id, _) | Written::New(id, _) => *id,
        }
    }
}

/// The tower-sessions id of a session whose id is `ours`: the same when
/// `ours` is an id's 22 base64url characters, a new one otherwise.
fn tower_id(ours: &str) -> Id {
    /// Holds one id's text.
    struct Text([u8; 24], usize);
    impl fmt::Write for Text {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            let end = self.1 + s.len();
            self.0
                .get_mut(self.1..end)
                .ok_or(fmt::Error)?
                .copy_from_slice(s.as_bytes());
            self.1 = end;
            Ok(())
        }
    }
    match ours.parse::<Id>() {
        Ok(id) => {
            let mut text = Text([0; 24], 0);
            if fmt::Write::write_fmt(&mut text, format_args!("{id}")).is_ok()
                && &text.0[..text.1] == ours.as_bytes()
            {
                id
            } else {
                Id::default()
            }
        }
        Err(_) => Id::default(),
    }
}

/// The session's data as tower-sessions sees it.
struct Converted {
    /// The values as JSON, then the flash that arrived with the request
    /// under the keys that hold no value (as [`Session::get`] reads them);
    /// values with no JSON form are left out.
    data: Data,
    /// The keys of `data` that are flash.
    from_flash: HashSet<String>,
}

impl Converted {
    fn of(session: &Session) -> Converted {
        let mut data = Data::new();
        let mut from_flash = HashSet::new();
        let values = session.outgoing().0;
        for (key, value) in values.iter() {
            match json_of(value.as_cbor()) {
                Some(json) => {
                    data.insert(key.to_owned(), json);
                }
                None => {
                    tracing::debug!(
                        key,
                        "session value has no JSON form; hidden from tower-sessions"
                    )
                }
            }
        }
        for (key, value) in session.incoming_flash().iter() {
            if data.contains_key(key) {
                continue;
            }
            if let Some(json) = json_of(value.as_cbor()) {
                data.insert(key.to_owned(), json);
                from_flash.insert(key.to_owned());
            }
        }
        Converted { data, from_flash }
    }
}

/// The JSON form of one CBOR item, as checked by the codec (definite
/// lengths, no tags); `None` for what JSON cannot hold: byte strings, maps
/// with keys other than text, integers below `i64::MIN`, `undefined`.
/// Non-finite floats become `null`, as `serde_json` makes them.
fn json_of(cbor: &[u8]) -> Option<serde_json::Value> {
    let mut pos = 0;
    let value = json_item(cbor, &mut pos, crate::MAX_NESTING + 1)?;
    (pos == cbor.len()).then_some(value)
}

fn json_item(buf: &[u8], pos: &mut usize, depth: usize) -> Option<serde_json::Value> {
    use serde_json::Value as J;
    let depth = depth.checked_sub(1)?;
    let first = *buf.get(*pos)?;
    *pos += 1;
    let (major, info) = (first >> 5, first & 0x1f);
    let mut take = |n: usize| -> Option<u64> {
        let bytes = buf.get(*pos..*pos + n)?;
        *pos += n;
        Some(bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
    };
    let arg = match info {
        0..=23 => u64::from(info),
        24 => take(1)?,
        25 => take(2)?,
        26 => take(4)?,
        27 => take(8)?,
        _ => return None,
    };
    let len = |arg: u64| usize::try_from(arg).ok();
    Some(match major {
        0 => J::from(arg),
        1 => J::from(-1 - i64::try_from(arg).ok()?),
        3 => {
            let end = pos.checked_add(len(arg)?)?;
            let text = std::str::from_utf8(buf.get(*pos..end)?).ok()?;
            *pos = end;
            J::String(text.to_owned())
        }
        4 => {
            let n = len(arg)?;
            let mut items = Vec::with_capacity(n.min(buf.len()));
            for _ in 0..n {
                items.push(json_item(buf, pos, depth)?);
            }
            J::Array(items)
        }
        5 => {
            let mut map = serde_json::Map::new();
            for _ in 0..len(arg)? {
                let J::String(key) = json_item(buf, pos, depth)? else {
                    return None;
                };
                let value = json_item(buf, pos, depth)?;
                map.insert(key, value);
            }
            J::Object(map)
        }
        7 => match info {
            20 => J::Bool(false),
            21 => J::Bool(true),
            22 => J::Null,
            25 => float(f16_to_f64(arg as u16)),
            26 => float(f64::from(f32::from_bits(arg as u32))),
            27 => float(f64::from_bits(arg)),
            _ => return None,
        },
        // Byte strings, tags.
        _ => return None,
    })
}

fn float(f: f64) -> serde_json::Value {
    serde_json::Number::from_f64(f).map_or(serde_json::Value::Null, serde_json::Value::Number)
}

/// An IEEE 754 half-precision float, widened.
fn f16_to_f64(h: u16) -> f64 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = i32::from((h >> 10) & 0x1f);
    let mant = f64::from(h & 0x3ff);
    sign * match exp {
        0 => mant * 2f64.powi(-24),
        31 if mant == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        _ => (1.0 + mant / 1024.0) * 2f64.powi(exp - 15),
    }
}

/// The tower-sessions expiry of `session` as of `now`: the codec's
/// `max_age`, or the end of its `max_lifetime` if that comes sooner.
fn expiry(codec: &dyn CookieCodec, session: &Session, now: OffsetDateTime) -> Option<Expiry> {
    let max_age = codec.cookie_max_age()?;
    let lifetime_end = codec.cookie_max_lifetime().and_then(|lifetime| {
        let created = session.created_at()?;
        let created = OffsetDateTime::from_unix_timestamp(i64::try_from(created).ok()?).ok()?;
        created.checked_add(lifetime)
    });
    Some(match lifetime_end {
        Some(end) if end < now.saturating_add(max_age) => Expiry::AtDateTime(end),
        _ => Expiry::OnInactivity(max_age),
    })
}

/// The store behind one request's `tower_sessions_core::Session`: it
/// serves the record of the request's session and records what the
/// session does with it. Nothing outlives the request.
struct RequestStore {
    handle: SessionHandle,
    /// The id the session was handed with.
    id: Id,
    expiry_date: OffsetDateTime,
    state: Mutex<StoreState>,
}

#[derive(Default)]
struct StoreState {
    /// The session's data, once converted.
    original: Option<Arc<Converted>>,
    /// The handler touched the session's data.
    loaded: bool,
    /// The record was deleted (`cycle_id`, `delete`, `flush`).
    deleted: bool,
    /// The last record saved or created since.
    written: Option<Written>,
}

impl RequestStore {
    fn state(&self) -> std::sync::MutexGuard<'_, StoreState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records `record`, saved or created by the session.
    fn write(&self, record: &Record) {
        let mut st = self.state();
        let written = if st.deleted || record.id != self.id {
            Written::New(record.id, record.data.clone())
        } else {
            let original = self.original(&mut st).clone();
            let mut changes = Vec::new();
            for key in original.data.keys() {
                if !record.data.contains_key(key) && !original.from_flash.contains(key) {
                    changes.push((key.clone(), None));
                }
            }
            for (key, value) in &record.data {
                if original.data.get(key) != Some(value) {
                    changes.push((key.clone(), Some(value.clone())));
                }
            }
            Written::Changes(record.id, changes)
        };
        st.written = Some(written);
    }

    /// The session's data as handed over, converted on first use.
    fn original<'a>(&self, st: &'a mut StoreState) -> &'a Arc<Converted> {
        st.original
            .get_or_insert_with(|| Arc::new(Converted::of(&self.handle.state().session)))
    }
}

impl fmt::Debug for RequestStore {
    /// No values: they may be personal.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.state();
        f.debug_struct("RequestStore")
            .field("loaded", &st.loaded)
            .field("deleted", &st.deleted)
            .field("written", &st.written.is_some())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl SessionStore for RequestStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.write(record);
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.write(record);
        Ok(())
    }

    async fn load(&self, session_id: &Id) -> session_store::Result<Option<Record>> {
        let mut st = self.state();
        st.loaded = true;
        if *session_id != self.id || st.deleted {
            return Ok(None);
        }
        let data = self.original(&mut st).data.clone();
        Ok(Some(Record {
            id: self.id,
            data,
            expiry_date: self.expiry_date,
        }))
    }

    async fn delete(&self, session_id: &Id) -> session_store::Result<()> {
        let mut st = self.state();
        if *session_id == self.id {
            st.deleted = true;
        }
        if st.written.as_ref().is_some_and(|w| w.id() == *session_id) {
            st.written = None;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Key, Keyring};

    fn block_on<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    /// The request's session after `handler` ran on the tower-sessions view
    /// of `session`, read from its cookie.
    fn after<F, Fut>(session: &Session, handler: F) -> Session
    where
        F: FnOnce(tower_sessions_core::Session) -> Fut,
        Fut: Future<Output = ()>,
    {
        let codec: Arc<dyn CookieCodec> = Arc::new(
            SessionCodec::builder("sid", Keyring::new(Key::generate()))
                .build()
                .unwrap(),
        );
        let now = OffsetDateTime::now_utc();
        let mut issued = session.clone();
        issued.touch();
        let set_cookie = codec.write_cookie(&issued, now).unwrap().unwrap();
        let header = set_cookie.split(';').next().unwrap();
        let started = adapter::start(codec.clone(), codec.read_cookie(Some(header), now));
        let bridge = Bridge::new(&started.handle, &*codec, now, None);
        block_on(async {
            handler(bridge.session.clone()).await;
            bridge.write_back(&started.handle).await;
        });
        started.handle.snapshot()
    }

    #[test]
    fn cycle_id_puts_the_old_id_in_delete_id() {
        let mut s = Session::new();
        s.set("cart", 2).unwrap();
        let next = after(&s, |ts| async move { ts.cycle_id().await.unwrap() });
        assert_ne!(next.id(), s.id());
        assert_eq!(next.delete_id(), Some(s.id()));
        assert!(!next.is_destroyed());
        assert_eq!(next.get::<u32>("cart").unwrap(), Some(2));
    }

    #[test]
    fn flush_and_delete_destroy_with_the_old_id_in_delete_id() {
        let s = Session::new();
        let next = after(&s, |ts| async move { ts.flush().await.unwrap() });
        assert!(next.is_destroyed());
        assert_eq!(next.delete_id(), Some(s.id()));
        let next = after(&s, |ts| async move { ts.delete().await.unwrap() });
        assert!(next.is_destroyed());
        assert_eq!(next.delete_id(), Some(s.id()));
    }

    #[test]
    fn an_id_of_another_shape_is_mapped_for_the_request() {
        let s = Session::with_id("not-a-tower-sessions-id");
        let mut seen = None;
        let next = after(&s, |ts| {
            seen = ts.id();
            async {}
        });
        assert!(seen.is_some());
        assert_eq!(next.id(), "not-a-tower-sessions-id");
        assert!(!next.is_dirty());
    }

    #[test]
    fn json_of_agrees_with_serde() {
        let values = [
            serde_json::json!(0),
            serde_json::json!(23),
            serde_json::json!(24),
            serde_json::json!(u64::MAX),
            serde_json::json!(-1),
            serde_json::json!(i64::MIN),
            serde_json::json!(0.5),
            serde_json::json!(-1.5),
            serde_json::json!(65504.0),
            serde_json::json!(1e-7),
            serde_json::json!(std::f64::consts::PI),
            serde_json::json!(1e300),
            serde_json::json!("text, and ünïcode"),
            serde_json::json!(true),
            serde_json::json!(null),
            serde_json::json!({"a": [1, {"b": false}], "c": "d", "e": []}),
        ];
        for v in values {
            let cbor = crate::Value::from_serialize(&v).unwrap();
            assert_eq!(json_of(cbor.as_cbor()), Some(v.clone()), "{v}");
            assert_eq!(cbor.deserialize::<serde_json::Value>().unwrap(), v, "{v}");
        }
        for f in [0.1f32, -3.5f32, f32::MAX] {
            let cbor = crate::Value::from_serialize(&f).unwrap();
            assert_eq!(
                json_of(cbor.as_cbor()),
                Some(serde_json::json!(f64::from(f)))
            );
        }
        let nan = crate::Value::from_serialize(&f64::NAN).unwrap();
        assert_eq!(json_of(nan.as_cbor()), Some(serde_json::Value::Null));
        // No JSON form: bytes, a map with an integer key.
        assert_eq!(json_of(&[0x42, 1, 2]), None);
        assert_eq!(json_of(&[0xa1, 0x01, 0x02]), None);
        // Truncated or trailing bytes.
        assert_eq!(json_of(&[0x62, b'a']), None);
        assert_eq!(json_of(&[0x01, 0x01]), None);
    }
}
