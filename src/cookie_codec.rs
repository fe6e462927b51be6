//! [`CookieCodec`]: what every codec of the crate does, so that the
//! framework adapters work with any of them.

use time::{Duration, OffsetDateTime};

use crate::codec::SessionCodec;
use crate::error::{DecodeError, EncodeError};
use crate::session::Session;

/// A session codec as the framework adapters use it: it reads a session
/// from a `Cookie` header, says why it refused one, and writes the
/// `Set-Cookie` that saves or deletes it.
///
/// Implemented by [`SessionCodec`] and, with the `remix` feature, by
/// `RemixCodec` and `MigratingCodec`, so `SessionLayer::new(codec)` (and the
/// actix-web middleware) take any of them. Implement it for a codec of your
/// own to put it behind the same adapters.
///
/// ```
/// use cookie_session::{CookieCodec, Key, Keyring, SessionCodec};
/// use time::OffsetDateTime;
///
/// fn visits(codec: &dyn CookieCodec, cookie_header: Option<&str>) -> Option<String> {
///     let now = OffsetDateTime::now_utc();
///     let mut session = match codec.read_cookie(cookie_header, now) {
///         Ok(Some(session)) => session,
///         Ok(None) => cookie_session::Session::new(),
///         Err(reason) => {
///             eprintln!("refused {}: {reason}", codec.cookie_name());
///             cookie_session::Session::new()
///         }
///     };
///     let n: u32 = session.get("n").ok().flatten().unwrap_or(0);
///     session.set("n", n + 1).ok()?;
///     codec.write_cookie(&session, now).ok().flatten()
/// }
///
/// let codec = SessionCodec::builder("sid", Keyring::new(Key::generate())).build()?;
/// let set_cookie = visits(&codec, None).unwrap();
/// let pair = set_cookie.split(';').next().unwrap();
/// assert!(visits(&codec, Some(pair)).is_some());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait CookieCodec: Send + Sync {
    /// The cookie's name.
    fn cookie_name(&self) -> &str;

    /// The session from a `Cookie` header as of `now`: `Ok(None)` when the
    /// header holds no cookie of the name, `Err` with the reason when it
    /// holds one but none is valid.
    fn read_cookie(
        &self,
        cookie_header: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Option<Session>, DecodeError>;

    /// The `Set-Cookie` value that saves `session` after a request issued
    /// at `now`: a deletion if it is destroyed, a new cookie if it is dirty,
    /// `None` if there is nothing to send.
    fn write_cookie(
        &self,
        session: &Session,
        now: OffsetDateTime,
    ) -> Result<Option<String>, EncodeError>;

    /// The `Set-Cookie` value that deletes the cookie.
    fn removal_cookie(&self) -> String;

    /// How long a cookie this codec writes stays valid after it is issued,
    /// if its format carries a signed expiry; `None` (the default) if not.
    /// The tower-sessions layer reports it as the session's expiry.
    fn cookie_max_age(&self) -> Option<Duration> {
        None
    }

    /// The absolute limit on a session's life, counted from its
    /// `created_at`, if the codec enforces one; `None` (the default) if not.
    fn cookie_max_lifetime(&self) -> Option<Duration> {
        None
    }

    /// Like [`read_cookie`](Self::read_cookie), from the `Cookie` fields of
    /// a request, as `&str` or raw bytes, from any HTTP stack: HTTP/2 and
    /// HTTP/3 may split the cookies over several fields, which are read as
    /// if joined with `"; "` (RFC 9113, section 8.2.3); fields in which the
    /// cookie's name does not occur byte for byte are skipped. Bytes that are not
    /// UTF-8 are replaced first, so another cookie's odd value never hides
    /// the session cookie.
    ///
    /// ```
    /// use cookie_session::{CookieCodec, Key, Keyring, Session, SessionCodec};
    /// use time::OffsetDateTime;
    ///
    /// let codec = SessionCodec::builder("sid", Keyring::new(Key::generate())).build()?;
    /// let mut s = Session::new();
    /// s.set("user", "alice")?;
    /// let pair = format!("sid={}", codec.encode(&s)?);
    /// let fields: [&[u8]; 2] = [b"theme=dark; odd=\xff", pair.as_bytes()];
    /// let read = codec.read_cookie_fields(fields, OffsetDateTime::now_utc())?.unwrap();
    /// assert_eq!(read.get::<String>("user")?.as_deref(), Some("alice"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn read_cookie_fields<I, V>(
        &self,
        fields: I,
        now: OffsetDateTime,
    ) -> Result<Option<Session>, DecodeError>
    where
        Self: Sized,
        I: IntoIterator<Item = V>,
        V: AsRef<[u8]>,
    {
        read_fields(self, fields, now)
    }
}

/// [`CookieCodec::read_cookie_fields`] for any codec, trait objects too.
pub(crate) fn read_fields<C, I, V>(
    codec: &C,
    fields: I,
    now: OffsetDateTime,
) -> Result<Option<Session>, DecodeError>
where
    C: CookieCodec + ?Sized,
    I: IntoIterator<Item = V>,
    V: AsRef<[u8]>,
{
    // A field without the name's bytes holds no cookie of that name:
    // skipping it changes nothing but the work (no joined copy of the
    // other cookies when only one field has the session's).
    let name = codec.cookie_name().as_bytes();
    let mut fields = fields
        .into_iter()
        .filter(|f| name.is_empty() || contains(f.as_ref(), name));
    let Some(first) = fields.next() else {
        return Ok(None);
    };
    let first = text(first.as_ref());
    let Some(second) = fields.next() else {
        return codec.read_cookie(Some(&first), now);
    };
    let mut joined = first.into_owned();
    for field in std::iter::once(second).chain(fields) {
        joined.push_str("; ");
        joined.push_str(&text(field.as_ref()));
    }
    codec.read_cookie(Some(&joined), now)
}

/// A field as text, bytes that are not UTF-8 replaced (checked with the
/// fast validator first: fields are nearly always ASCII).
fn text(field: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(field) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(field),
    }
}

/// Whether `needle` (not empty) occurs in `haystack`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    let (&first, rest) = needle.split_first().expect("a cookie name is not empty");
    let mut from = 0;
    while let Some(i) = haystack[from..].iter().position(|&b| b == first) {
        let at = from + i + 1;
        if haystack[at..].starts_with(rest) {
            return true;
        }
        from = at;
    }
    false
}

impl CookieCodec for SessionCodec {
    fn cookie_name(&self) -> &str {
        self.name()
    }

    fn read_cookie(
        &self,
        cookie_header: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Option<Session>, DecodeError> {
        self.try_read_at(cookie_header, now)
    }

    fn write_cookie(
        &self,
        session: &Session,
        now: OffsetDateTime,
    ) -> Result<Option<String>, EncodeError> {
        self.save_at(session, now)
    }

    fn removal_cookie(&self) -> String {
        self.removal()
    }

    fn cookie_max_age(&self) -> Option<Duration> {
        Some(self.max_age())
    }

    fn cookie_max_lifetime(&self) -> Option<Duration> {
        self.max_lifetime()
    }
}
