//! The [`Session`] model: values, request-scoped flash, dirty tracking,
//! destroy and id regeneration. No crypto, no I/O.

use std::fmt;
use std::sync::{Arc, OnceLock};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::cbor::Span;
use crate::error::SessionError;
use crate::value::{Shared, Value};

/// An insertion-ordered map from text keys to [`Value`]s.
///
/// Setting an existing key keeps its position; removing a key and setting it
/// again moves it to the end. Equality ignores order.
///
/// ```
/// use cookie_session::{Value, ValueMap};
///
/// let mut m = ValueMap::new();
/// m.insert("b", Value::from_serialize(&1)?);
/// m.insert("a", Value::from_serialize(&2)?);
/// m.insert("b", Value::from_serialize(&3)?);
/// assert_eq!(m.keys().collect::<Vec<_>>(), ["b", "a"]);
/// assert_eq!(m.get("b").unwrap().deserialize::<u8>()?, 3);
/// # Ok::<(), cookie_session::SessionError>(())
/// ```
#[derive(Clone, Default)]
pub struct ValueMap {
    repr: Repr,
}

/// A map is either as decoded from a cookie (a table of spans in one
/// shared buffer, values made on first access) or owned (built or changed
/// by the application). The first change turns a decoded map into an owned
/// one.
#[derive(Clone)]
enum Repr {
    Decoded {
        /// The cookie's body followed by the span tables of its maps.
        buf: Arc<[u8]>,
        /// Where this map's table starts in `buf`, and its length.
        table: u32,
        n: u32,
        /// The values, made all at once on first access.
        values: OnceLock<Vec<Value>>,
    },
    Owned(Vec<(Shared, Value)>),
}

impl Default for Repr {
    fn default() -> Self {
        Repr::Owned(Vec::new())
    }
}

/// Bytes of one entry of a span table.
pub(crate) const TABLE_ENTRY: usize = 8;

/// Writes the table entry for a key text and a value item at the start of
/// `out`: their starts and ends as `u16` little-endian.
#[inline]
pub(crate) fn put_entry(out: &mut [u8], key: Span, value: Span) {
    let packed = u64::from(key.0 as u16)
        | u64::from(key.1 as u16) << 16
        | u64::from(value.0 as u16) << 32
        | u64::from(value.1 as u16) << 48;
    if let Some(out) = out.first_chunk_mut::<TABLE_ENTRY>() {
        *out = packed.to_le_bytes();
    }
}

/// Entry `i` of the span table at `table` of `buf`: (key text, value item).
#[inline]
pub(crate) fn entry(buf: &[u8], table: usize, i: usize) -> (Span, Span) {
    let at = table + TABLE_ENTRY * i;
    let packed = buf
        .get(at..)
        .and_then(<[u8]>::first_chunk::<TABLE_ENTRY>)
        .map_or(0, |b| u64::from_le_bytes(*b));
    let u = |shift: u32| u32::from((packed >> shift) as u16);
    ((u(0), u(16)), (u(32), u(48)))
}

/// The bytes at `span` of `buf`.
#[inline]
fn at(buf: &[u8], (start, end): Span) -> &[u8] {
    buf.get(start as usize..end as usize).unwrap_or_default()
}

/// A key's text; the bytes are UTF-8 by construction (checked by the
/// decoder or copied from a `String`).
fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap_or_default()
}

/// The values of a decoded map.
fn make_values(buf: &Arc<[u8]>, table: u32, n: u32) -> Vec<Value> {
    (0..n as usize)
        .map(|i| Value(Shared::from_span(buf, entry(buf, table as usize, i).1)))
        .collect()
}

impl ValueMap {
    /// An empty map.
    pub fn new() -> Self {
        ValueMap::default()
    }

    /// A decoded map of `n` entries, whose span table starts at `table` in
    /// `buf`. The keys must be valid UTF-8 and unique, the values valid
    /// items.
    pub(crate) fn decoded(buf: Arc<[u8]>, table: usize, n: usize) -> Self {
        let repr = match (u32::try_from(table), u32::try_from(n)) {
            (Ok(table), Ok(n)) if n > 0 => Repr::Decoded {
                buf,
                table,
                n,
                values: OnceLock::new(),
            },
            _ => Repr::default(),
        };
        ValueMap { repr }
    }

    /// The entries, made owned.
    fn owned(&mut self) -> &mut Vec<(Shared, Value)> {
        if let Repr::Decoded {
            buf,
            table,
            n,
            values,
        } = &mut self.repr
        {
            let values = values
                .take()
                .unwrap_or_else(|| make_values(buf, *table, *n));
            let entries = values
                .into_iter()
                .enumerate()
                .map(|(i, v)| {
                    let key = entry(buf, *table as usize, i).0;
                    (Shared::from_span(buf, key), v)
                })
                .collect();
            self.repr = Repr::Owned(entries);
        }
        match &mut self.repr {
            Repr::Owned(entries) => entries,
            Repr::Decoded { .. } => unreachable!("made owned above"),
        }
    }

    fn position(&self, key: &str) -> Option<usize> {
        let key = key.as_bytes();
        match &self.repr {
            Repr::Decoded { buf, table, n, .. } => {
                (0..*n as usize).position(|i| at(buf, entry(buf, *table as usize, i).0) == key)
            }
            Repr::Owned(entries) => entries.iter().position(|(k, _)| k.as_bytes() == key),
        }
    }

    /// The decoded values, made on first call.
    fn decoded_values(&self) -> &[Value] {
        match &self.repr {
            Repr::Decoded {
                buf,
                table,
                n,
                values,
            } => values.get_or_init(|| make_values(buf, *table, *n)),
            Repr::Owned(_) => &[],
        }
    }

    /// The value of entry `i`.
    fn value(&self, i: usize) -> Option<&Value> {
        match &self.repr {
            Repr::Decoded { .. } => self.decoded_values().get(i),
            Repr::Owned(entries) => entries.get(i).map(|(_, v)| v),
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Decoded { n, .. } => *n as usize,
            Repr::Owned(entries) => entries.len(),
        }
    }

    /// Whether the map has no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value stored under `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.value(self.position(key)?)
    }

    /// Whether `key` is present (a stored `null` counts).
    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_some()
    }

    /// Stores `value` under `key`, returning the value it replaces.
    pub fn insert(&mut self, key: impl Into<String>, value: Value) -> Option<Value> {
        let key = key.into();
        let i = self.position(&key);
        let entries = self.owned();
        match i {
            Some(i) => Some(std::mem::replace(&mut entries[i].1, value)),
            None => {
                entries.push((Shared::from_vec(key.into_bytes()), value));
                None
            }
        }
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let i = self.position(key)?;
        Some(self.owned().remove(i).1)
    }

    /// The entries in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &Value)> + '_ {
        let values = self.decoded_values();
        (0..self.len()).map(move |i| match &self.repr {
            Repr::Decoded { .. } => (text(self.raw_entry(i).0), &values[i]),
            Repr::Owned(entries) => (text(entries[i].0.as_bytes()), &entries[i].1),
        })
    }

    /// The keys in order.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        (0..self.len()).map(move |i| text(self.raw_entry(i).0))
    }

    /// Entry `i` as encoded: the key's text (without its CBOR head) and
    /// the value's item, without making any [`Value`].
    fn raw_entry(&self, i: usize) -> (&[u8], &[u8]) {
        match &self.repr {
            Repr::Decoded { buf, table, .. } => {
                let (k, v) = entry(buf, *table as usize, i);
                (at(buf, k), at(buf, v))
            }
            Repr::Owned(entries) => (entries[i].0.as_bytes(), entries[i].1.as_cbor()),
        }
    }

    /// Calls `f` with each encoded entry (see [`raw_entry`](Self::raw_entry)),
    /// in order.
    #[inline]
    pub(crate) fn for_each_raw(&self, mut f: impl FnMut(&[u8], &[u8])) {
        match &self.repr {
            Repr::Decoded { buf, table, n, .. } => {
                for i in 0..*n as usize {
                    let (k, v) = entry(buf, *table as usize, i);
                    f(at(buf, k), at(buf, v));
                }
            }
            Repr::Owned(entries) => {
                for (k, v) in entries {
                    f(k.as_bytes(), v.as_cbor());
                }
            }
        }
    }
}

impl PartialEq for ValueMap {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|(k, v)| other.get(k) == Some(v))
    }
}

impl Eq for ValueMap {}

impl fmt::Debug for ValueMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K: Into<String>> FromIterator<(K, Value)> for ValueMap {
    fn from_iter<I: IntoIterator<Item = (K, Value)>>(iter: I) -> Self {
        let mut m = ValueMap::new();
        for (k, v) in iter {
            m.insert(k, v);
        }
        m
    }
}

impl<K: Into<String>> Extend<(K, Value)> for ValueMap {
    fn extend<I: IntoIterator<Item = (K, Value)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

/// What a session carries from one request to the next: its values and the
/// flash messages meant for the next request.
///
/// This is what [`Session::data`] returns and [`Session::from_data`] takes;
/// it is also what the cookie's payload holds, next to the id.
///
/// ```
/// use cookie_session::Session;
///
/// let mut s = Session::with_id("abc");
/// s.set("user", "alice")?;
/// s.flash("notice", "Welcome back")?;
/// let next = Session::from_data(s.id(), s.data());
/// assert_eq!(next.get::<String>("notice")?.as_deref(), Some("Welcome back"));
/// assert!(next.is_dirty()); // the flash must be dropped from the next cookie
/// # Ok::<(), cookie_session::SessionError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionData {
    /// Regular values.
    pub values: ValueMap,
    /// Flash values: in [`Session::data`], those set during this request for
    /// the next one; in [`Session::from_data`], those that arrived for this
    /// request.
    pub flash: ValueMap,
}

/// A web session: typed values, request-scoped flash messages, dirty
/// tracking, destroy and id regeneration.
///
/// The behaviour is that of the Remix 3 `Session` class:
///
/// - [`flash`](Session::flash) stores a value for the **next** request only:
///   it is invisible to [`get`](Session::get) now, readable all through the
///   next request, and gone from the cookie after that, read or not.
/// - Every change marks the session [dirty](Session::is_dirty); a session
///   that is not dirty needs no `Set-Cookie`.
/// - After [`destroy`](Session::destroy), reads see an empty session and
///   changes fail with [`SessionError::Destroyed`].
///
/// ```
/// use cookie_session::Session;
///
/// let mut s = Session::new();
/// assert!(!s.is_dirty());
/// s.set("count", 1)?;
/// s.flash("notice", "Saved")?;
/// assert_eq!(s.get::<u32>("count")?, Some(1));
/// assert_eq!(s.get::<String>("notice")?, None); // visible next request
/// assert!(s.is_dirty());
///
/// s.destroy();
/// assert_eq!(s.set("count", 2).unwrap_err().to_string(), "Session has been destroyed");
/// assert_eq!(s.get::<u32>("count")?, None);
/// # Ok::<(), cookie_session::SessionError>(())
/// ```
#[derive(Clone)]
pub struct Session {
    /// Inline when short (generated ids are 22 characters): a decoded
    /// session allocates nothing for it.
    id: Shared,
    /// The id given at construction, kept here once the id is regenerated.
    original_id: Option<String>,
    delete_id: Option<String>,
    values: ValueMap,
    /// Flash that arrived with this request; never changes.
    flash_in: ValueMap,
    /// Flash set during this request, for the next one.
    flash_out: ValueMap,
    dirty: bool,
    destroyed: bool,
    /// When the session was first issued (Unix seconds), carried forward by
    /// every re-issue; `None` for a session that has never been encoded.
    created_at: Option<u64>,
    /// When the cookie this session was read from was issued (Unix
    /// seconds); `None` for a session not read from a cookie.
    issued_at: Option<u64>,
}

impl Default for Session {
    /// Same as [`Session::new`].
    fn default() -> Self {
        Session::new()
    }
}

/// A new session id: 128 bits from the operating system's CSPRNG, as 22
/// characters of unpadded base64url.
///
/// ```
/// let id = cookie_session::generate_id();
/// assert_eq!(id.len(), 22);
/// assert_ne!(id, cookie_session::generate_id());
/// ```
///
/// # Panics
/// If the operating system's random number generator fails.
pub fn generate_id() -> String {
    use base64::Engine as _;
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the OS random number generator failed");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl Session {
    /// A new, empty, clean session with a fresh random id (see
    /// [`generate_id`]).
    pub fn new() -> Session {
        Session::with_id(generate_id())
    }

    /// A new, empty, clean session with the given id, kept verbatim.
    pub fn with_id(id: impl Into<String>) -> Session {
        Session::from_data(id, SessionData::default())
    }

    /// A session as a request sees it: `data.values` are its values and
    /// `data.flash` the flash that arrived for this request.
    ///
    /// The session starts dirty if and only if flash arrived, so that the
    /// next save drops it.
    pub fn from_data(id: impl Into<String>, data: SessionData) -> Session {
        Session {
            id: Shared::from_vec(id.into().into_bytes()),
            original_id: None,
            delete_id: None,
            dirty: !data.flash.is_empty(),
            values: data.values,
            flash_in: data.flash,
            flash_out: ValueMap::new(),
            destroyed: false,
            created_at: None,
            issued_at: None,
        }
    }

    /// A decoded session, read from a cookie issued at `issued_at` for a
    /// session created at `created_at`; `dirty` if it must be re-issued even
    /// if unchanged (it arrived with flash, or a re-issue is due).
    #[inline]
    pub(crate) fn decoded(
        id: &str,
        values: ValueMap,
        flash: ValueMap,
        (issued_at, created_at): (u64, u64),
        reissue: bool,
    ) -> Session {
        Session {
            id: Shared::from_slice(id.as_bytes()),
            original_id: None,
            delete_id: None,
            dirty: reissue || !flash.is_empty(),
            values,
            flash_in: flash,
            flash_out: ValueMap::new(),
            destroyed: false,
            created_at: Some(created_at),
            issued_at: Some(issued_at),
        }
    }

    /// When the session began, in Unix seconds, as its cookie says (every
    /// re-issue carries it forward; [`regenerate_id`](Session::regenerate_id)
    /// restarts it). `None` for a session not read from a cookie, or
    /// regenerated since.
    pub fn created_at(&self) -> Option<u64> {
        self.created_at
    }

    /// When the cookie this session was read from was issued, in Unix
    /// seconds; `None` for a session not read from a cookie.
    pub fn issued_at(&self) -> Option<u64> {
        self.issued_at
    }

    /// Asks for a new cookie on the next save without changing any value:
    /// the session becomes [dirty](Session::is_dirty). For applications with
    /// a refresh rule of their own (the codec's is
    /// [`refresh_after`](crate::SessionCodecBuilder::refresh_after)).
    ///
    /// ```
    /// use cookie_session::Session;
    ///
    /// let mut s = Session::new();
    /// assert!(!s.is_dirty());
    /// s.touch();
    /// assert!(s.is_dirty() && s.is_empty());
    /// ```
    pub fn touch(&mut self) {
        self.dirty = true;
    }

    /// Gives the session another id without any other change (for a
    /// session read from a format that has no id).
    #[cfg(feature = "remix")]
    pub(crate) fn replace_id(&mut self, id: String) {
        self.id = Shared::from_vec(id.into_bytes());
    }

    #[cfg(any(feature = "remix", feature = "tower", feature = "actix"))]
    pub(crate) fn mark_dirty(&mut self) {
        self.dirty = true;
    }

    pub(crate) fn outgoing(&self) -> (&ValueMap, &ValueMap) {
        (&self.values, &self.flash_out)
    }

    /// The session id.
    pub fn id(&self) -> &str {
        // UTF-8 by construction: copied from a `&str` or a `String`.
        std::str::from_utf8(self.id.as_bytes()).unwrap_or_default()
    }

    /// The values and the outgoing flash, as the next request will receive
    /// them; empty once destroyed. Flash that arrived with this request is
    /// not included.
    pub fn data(&self) -> SessionData {
        if self.destroyed {
            return SessionData::default();
        }
        SessionData {
            values: self.values.clone(),
            flash: self.flash_out.clone(),
        }
    }

    /// The flash that arrived with this request, readable through
    /// [`get`](Session::get) and dropped from the next cookie; empty once
    /// destroyed. (Flash set during this request is in
    /// [`data().flash`](Session::data).)
    ///
    /// ```
    /// use cookie_session::Session;
    ///
    /// let mut before = Session::with_id("s");
    /// before.flash("notice", "Saved")?;
    /// let now = Session::from_data("s", before.data());
    /// assert_eq!(now.incoming_flash().keys().collect::<Vec<_>>(), ["notice"]);
    /// # Ok::<(), cookie_session::SessionError>(())
    /// ```
    pub fn incoming_flash(&self) -> &ValueMap {
        static EMPTY: ValueMap = ValueMap {
            repr: Repr::Owned(Vec::new()),
        };
        if self.destroyed {
            &EMPTY
        } else {
            &self.flash_in
        }
    }

    /// The id of a session that has ended and whose old cookies should no
    /// longer be honoured: the id this session had when it was created (or
    /// read), once [`regenerate_id(true)`](Session::regenerate_id) or
    /// [`destroy`](Session::destroy) has been called; `None` before.
    ///
    /// A cookie cannot revoke the cookie it replaces: an old copy of the
    /// cookie still verifies until it expires. Put this id on a deny-list if
    /// your application needs the old session dead (see the README's
    /// security model).
    ///
    /// ```
    /// use cookie_session::Session;
    ///
    /// let mut s = Session::with_id("before-logout");
    /// assert_eq!(s.delete_id(), None);
    /// s.destroy(); // logout
    /// assert_eq!(s.delete_id(), Some("before-logout"));
    ///
    /// let mut s = Session::with_id("before-login");
    /// s.regenerate_id(false)?; // a new id, the old one not marked
    /// s.destroy();
    /// assert_eq!(s.delete_id(), Some("before-login"));
    /// # Ok::<(), cookie_session::SessionError>(())
    /// ```
    pub fn delete_id(&self) -> Option<&str> {
        self.delete_id.as_deref()
    }

    /// Whether [`destroy`](Session::destroy) was called.
    pub fn is_destroyed(&self) -> bool {
        self.destroyed
    }

    /// Whether the session changed since it was created or read (or arrived
    /// with flash, or was signed with a fallback key): whether it needs a
    /// new cookie.
    pub fn is_dirty(&self) -> bool {
        self.dirty
    }

    /// Number of values plus number of flash values that arrived with this
    /// request (a key in both counts twice); 0 once destroyed.
    pub fn len(&self) -> usize {
        if self.destroyed {
            0
        } else {
            self.values.len() + self.flash_in.len()
        }
    }

    /// Whether [`len`](Session::len) is 0.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Marks the session destroyed: saving it deletes the cookie. Idempotent;
    /// does not change [`is_dirty`](Session::is_dirty).
    ///
    /// [`delete_id`](Session::delete_id) becomes the id the session was
    /// created or read with (the one before any
    /// [`regenerate_id`](Session::regenerate_id)), so a logout can deny-list
    /// copies of the old cookie.
    pub fn destroy(&mut self) {
        if self.delete_id.is_none() {
            self.delete_id = Some(
                self.original_id
                    .clone()
                    .unwrap_or_else(|| self.id().to_owned()),
            );
        }
        self.destroyed = true;
    }

    fn check_live(&self) -> Result<(), SessionError> {
        if self.destroyed {
            Err(SessionError::Destroyed)
        } else {
            Ok(())
        }
    }

    /// Stores `value` for the next request only. Unlike
    /// [`set`](Session::set), a value that serializes to `null` is stored.
    pub fn flash<T: Serialize>(
        &mut self,
        key: impl Into<String>,
        value: T,
    ) -> Result<(), SessionError> {
        self.check_live()?;
        let value = Value::from_serialize(&value)?;
        self.flash_out.insert(key, value);
        self.dirty = true;
        Ok(())
    }

    /// The value under `key`, or else the flash of that name that arrived
    /// with this request. Reading flash does not consume it.
    ///
    /// `Ok(None)` when absent or destroyed; an error if the value does not
    /// have the shape of `T`.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, SessionError> {
        self.get_value(key).map(Value::deserialize).transpose()
    }

    /// The raw [`Value`] [`get`](Session::get) would deserialize.
    pub fn get_value(&self, key: &str) -> Option<&Value> {
        if self.destroyed {
            return None;
        }
        match self.values.get(key) {
            Some(v) if !v.is_null() => Some(v),
            _ => self.flash_in.get(key),
        }
    }

    /// Whether `key` is a value or a flash that arrived with this request.
    pub fn has(&self, key: &str) -> bool {
        !self.destroyed && (self.values.contains_key(key) || self.flash_in.contains_key(key))
    }

    /// Gives the session a fresh random id, keeping its data. With
    /// `delete_old`, [`delete_id`](Session::delete_id) becomes the id the
    /// session was created with (however often this is called).
    ///
    /// The absolute lifetime (`max_lifetime`) restarts: a new id is a new
    /// session, typically a login.
    pub fn regenerate_id(&mut self, delete_old: bool) -> Result<(), SessionError> {
        self.check_live()?;
        let new = Shared::from_vec(generate_id().into_bytes());
        let old = self.id().to_owned();
        self.id = new;
        if self.original_id.is_none() {
            self.original_id = Some(old);
        }
        if delete_old {
            self.delete_id.clone_from(&self.original_id);
        }
        self.created_at = None;
        self.dirty = true;
        Ok(())
    }

    /// Stores `value` under `key`; a value that serializes to `null` (`None`,
    /// `()`) removes the key instead. Does not touch flash.
    pub fn set<T: Serialize>(
        &mut self,
        key: impl Into<String>,
        value: T,
    ) -> Result<(), SessionError> {
        self.check_live()?;
        let value = Value::from_serialize(&value)?;
        if value.is_null() {
            self.values.remove(&key.into());
        } else {
            self.values.insert(key, value);
        }
        self.dirty = true;
        Ok(())
    }

    /// Removes the value under `key` (not a flash of that name).
    pub fn unset(&mut self, key: &str) -> Result<(), SessionError> {
        self.check_live()?;
        self.values.remove(key);
        self.dirty = true;
        Ok(())
    }
}

impl fmt::Debug for Session {
    /// Shows id, values and flash: none of it is secret, the client can read
    /// the cookie.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id())
            .field("values", &self.values)
            .field("flash_in", &self.flash_in)
            .field("flash_out", &self.flash_out)
            .field("dirty", &self.dirty)
            .field("destroyed", &self.destroyed)
            .field("delete_id", &self.delete_id)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_long_random_and_url_safe() {
        let a = generate_id();
        assert_eq!(a.len(), 22);
        assert!(
            a.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        let ids: std::collections::HashSet<_> = (0..10_000).map(|_| generate_id()).collect();
        assert_eq!(ids.len(), 10_000);
    }

    #[test]
    fn values_null_falls_through_to_flash() {
        let mut values = ValueMap::new();
        values.insert("k", Value::from_serialize(&()).unwrap());
        let mut flash = ValueMap::new();
        flash.insert("k", Value::from_serialize(&"f").unwrap());
        let s = Session::from_data("x", SessionData { values, flash });
        assert_eq!(s.get::<String>("k").unwrap().as_deref(), Some("f"));
        assert!(s.has("k"));
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn regenerate_keeps_the_original_delete_id() {
        let mut s = Session::with_id("orig");
        s.regenerate_id(false).unwrap();
        assert_eq!(s.delete_id(), None);
        s.regenerate_id(true).unwrap();
        assert_eq!(s.delete_id(), Some("orig"));
        s.regenerate_id(false).unwrap();
        assert_eq!(s.delete_id(), Some("orig"));
    }
}
