//! [`MigratingCodec`]: one cookie, two formats, one chosen for writing.

use std::fmt;

use time::OffsetDateTime;

use crate::codec::SessionCodec;
use crate::cookie_codec::CookieCodec;
use crate::error::{ConfigError, DecodeError, EncodeError, Malformed};
use crate::session::{Session, generate_id};

use super::RemixCodec;

/// Which format a [`MigratingCodec`] writes. It reads both.
///
/// Switching is a configuration change: deploy with [`Write::Remix`] while
/// Node code reads the cookie, then with [`Write::CookieSession`].
///
/// ```
/// use cookie_session::remix::Write;
///
/// let write = match std::env::var("SESSION_FORMAT").as_deref() {
///     Ok("v1") => Write::CookieSession,
///     _ => Write::Remix,
/// };
/// # let _ = write;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Write {
    /// Write the legacy format of the [`RemixCodec`]: while Node routes
    /// still read the cookie, and to roll back after a move.
    Remix,
    /// Write this crate's own format (v1) with the [`SessionCodec`]: once
    /// no Node code reads the cookie any more.
    CookieSession,
}

/// Reads a session cookie in this crate's format or in a Remix / React
/// Router format, and writes it in the one chosen at construction.
///
/// Both codecs must name the same cookie with the same `Path` and `Domain`,
/// so that each `Set-Cookie` replaces the browser's one copy whatever
/// format that copy had: [`MigratingCodec::new`] refuses anything else.
/// A session read from the format not being written is
/// [dirty](Session::is_dirty), so the next save rewrites it: cookies move
/// over one request at a time, each on its first visit.
///
/// Typical use, one route at a time:
///
/// 1. While Node still serves some routes, Rust routes use
///    [`Write::Remix`]: Node reads everything Rust writes.
/// 2. Once every route is in Rust, switch to [`Write::CookieSession`]:
///    each legacy cookie is read once, then replaced by a v1 cookie that
///    expires, names its key and is bound to the cookie name.
/// 3. To roll back, switch to [`Write::Remix`] again: v1 cookies issued in
///    the meantime are read and rewritten for Node.
/// 4. When no legacy cookie can remain (or you accept losing those
///    sessions), use the [`SessionCodec`] alone and drop the old secrets.
///
/// Legacy cookies carry no expiry: whatever their age, they are accepted
/// while their secret is configured. v1 cookies are checked as
/// [`SessionCodec`] checks them.
///
/// ```
/// use cookie_session::remix::{MigratingCodec, RemixCodec, RemixFormat, Write};
/// use cookie_session::{Key, Keyring, SessionCodec};
///
/// let remix = RemixCodec::builder("__session", RemixFormat::Remix3)
///     .secrets(["secret1"])
///     .build()?;
/// let v1 = SessionCodec::builder("__session", Keyring::new(Key::generate())).build()?;
/// let codec = MigratingCodec::new(v1.clone(), remix, Write::CookieSession)?;
///
/// // A cookie written by the Remix 3 application:
/// let header = "__session=eyJpIjoiY3VzdG9tLWlkIiwiZCI6W3siY291bnQiOjF9LHt9XX0=\
///               .2/YilfoYllIzbSSww3E6ps2mktV8pSxLim4Xg/8UNyA";
/// let session = codec.read(Some(header));
/// assert_eq!(session.get::<u32>("count")?, Some(1));
/// assert!(session.is_dirty()); // read from the legacy format: rewrite it
///
/// let set_cookie = codec.save(&session)?.unwrap();
/// let cookie = set_cookie.split(';').next().unwrap();
/// // Now a v1 cookie, readable by the plain SessionCodec too:
/// assert_eq!(v1.read(Some(cookie)).get::<u32>("count")?, Some(1));
/// assert_eq!(v1.read(Some(cookie)).id(), "custom-id");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct MigratingCodec {
    current: SessionCodec,
    legacy: RemixCodec,
    write: Write,
}

/// Which format a cookie was read in, as
/// [`MigratingCodec::try_read_at`] reports it (to count how many legacy
/// cookies are still seen, for instance).
///
/// ```
/// use cookie_session::remix::{MigratingCodec, RemixCodec, RemixFormat, Source, Write};
/// use cookie_session::{Key, Keyring, SessionCodec};
///
/// let legacy = RemixCodec::builder("sid", RemixFormat::Remix3).secrets(["s"]).build()?;
/// let v1 = SessionCodec::builder("sid", Keyring::new(Key::generate())).build()?;
/// let codec = MigratingCodec::new(v1.clone(), legacy.clone(), Write::CookieSession)?;
///
/// let mut s = v1.read(None);
/// s.set("a", 1)?;
/// let cookie = v1.save(&s)?.unwrap();
/// let cookie = cookie.split(';').next().unwrap();
/// let now = time::OffsetDateTime::now_utc();
/// let (_, source) = codec.try_read_at(Some(cookie), now).unwrap();
/// assert_eq!(source, Source::CookieSession);
///
/// let cookie = legacy.save(&s)?.unwrap();
/// let (_, source) = codec.try_read_at(Some(cookie.split(';').next().unwrap()), now).unwrap();
/// assert_eq!(source, Source::Remix);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// This crate's v1 format.
    CookieSession,
    /// The [`RemixCodec`]'s format.
    Remix,
}

impl MigratingCodec {
    /// A codec that reads with both codecs and writes with the one `write`
    /// names.
    ///
    /// Fails with [`ConfigError::Incompatible`] if the two codecs differ in
    /// cookie name, `Path` or `Domain`.
    pub fn new(
        current: SessionCodec,
        legacy: RemixCodec,
        write: Write,
    ) -> Result<MigratingCodec, ConfigError> {
        let (a, b) = (current.attributes(), legacy.attributes());
        if a.name != b.name {
            return Err(ConfigError::Incompatible(
                "both codecs must use the same cookie name",
            ));
        }
        if a.path != b.path || a.domain != b.domain {
            return Err(ConfigError::Incompatible(
                "both codecs must use the same Path and Domain",
            ));
        }
        Ok(MigratingCodec {
            current,
            legacy,
            write,
        })
    }

    /// The format written.
    pub fn write(&self) -> Write {
        self.write
    }

    /// The cookie name.
    pub fn name(&self) -> &str {
        self.current.name()
    }

    /// The session from a `Cookie` header, now; see [`read_at`](Self::read_at).
    pub fn read(&self, cookie_header: Option<&str>) -> Session {
        self.read_at(cookie_header, OffsetDateTime::now_utc())
    }

    /// The session from a `Cookie` header as of `now` (for the v1 expiry
    /// checks), or a fresh one if no cookie of the name is valid in either
    /// format.
    pub fn read_at(&self, cookie_header: Option<&str>, now: OffsetDateTime) -> Session {
        match self.try_read_at(cookie_header, now) {
            Some((s, _)) => s,
            None => match self.write {
                Write::Remix => self.legacy.fresh(),
                Write::CookieSession => Session::new(),
            },
        }
    }

    /// The session from a `Cookie` header as of `now` and the format it was
    /// read in; `None` if no cookie of the name is valid in either format.
    ///
    /// A v1 cookie is looked for first, then a legacy one. A session read
    /// in the format not being written is [dirty](Session::is_dirty). A
    /// React Router session (which has no id) gets a fresh id when v1 is
    /// written.
    pub fn try_read_at(
        &self,
        cookie_header: Option<&str>,
        now: OffsetDateTime,
    ) -> Option<(Session, Source)> {
        self.read_reason(cookie_header, now).ok().flatten()
    }

    /// [`try_read_at`](Self::try_read_at) with the reason a cookie was
    /// refused: the v1 codec's, unless the value looks like a Remix one
    /// (v1 values are unpadded base64url and never hold a `.`), then the
    /// Remix codec's.
    fn read_reason(
        &self,
        cookie_header: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Option<(Session, Source)>, DecodeError> {
        let v1_error = match self.current.try_read_at(cookie_header, now) {
            Ok(Some(mut s)) => {
                if self.write == Write::Remix {
                    s.mark_dirty();
                }
                return Ok(Some((s, Source::CookieSession)));
            }
            Ok(None) => None,
            Err(e) => Some(e),
        };
        let legacy = match CookieCodec::read_cookie(&self.legacy, cookie_header, now) {
            Ok(Some(s)) => s,
            Ok(None) => return v1_error.map_or(Ok(None), Err),
            Err(e) => {
                return Err(match v1_error {
                    Some(v1) if v1 != DecodeError::Malformed(Malformed::Base64) => v1,
                    _ => e,
                });
            }
        };
        let mut s = legacy;
        if self.write == Write::CookieSession {
            if s.id().is_empty() {
                s.replace_id(generate_id());
            }
            s.mark_dirty();
        }
        Ok(Some((s, Source::Remix)))
    }

    /// The `Set-Cookie` header value for `session` in the format written,
    /// now; see [`save_at`](Self::save_at).
    pub fn save(&self, session: &Session) -> Result<Option<String>, EncodeError> {
        self.save_at(session, OffsetDateTime::now_utc())
    }

    /// The `Set-Cookie` header value for `session` in the format written:
    /// a deletion if it is destroyed, the new cookie if it is dirty, `None`
    /// otherwise. `now` is the issue time of a v1 cookie.
    pub fn save_at(
        &self,
        session: &Session,
        now: OffsetDateTime,
    ) -> Result<Option<String>, EncodeError> {
        match self.write {
            Write::Remix => self.legacy.save(session),
            Write::CookieSession => self.current.save_at(session, now),
        }
    }

    /// The `Set-Cookie` header value that deletes the cookie (whichever
    /// format it has).
    pub fn removal(&self) -> String {
        match self.write {
            Write::Remix => self.legacy.removal(),
            Write::CookieSession => self.current.removal(),
        }
    }
}

impl fmt::Debug for MigratingCodec {
    /// Shows both codecs (no key material, no secret) and the format written.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MigratingCodec")
            .field("current", &self.current)
            .field("legacy", &self.legacy)
            .field("write", &self.write)
            .finish()
    }
}

/// The codec interface of the framework adapters:
/// `SessionLayer::new(migrating_codec)` reads both formats and writes the
/// one chosen, so a Remix cookie comes out as a v1 one on its first request.
impl CookieCodec for MigratingCodec {
    fn cookie_name(&self) -> &str {
        self.name()
    }

    fn read_cookie(
        &self,
        cookie_header: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Option<Session>, DecodeError> {
        Ok(self.read_reason(cookie_header, now)?.map(|(s, _)| s))
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

    fn cookie_max_age(&self) -> Option<time::Duration> {
        matches!(self.write, Write::CookieSession).then(|| self.current.max_age())
    }

    fn cookie_max_lifetime(&self) -> Option<time::Duration> {
        match self.write {
            Write::CookieSession => self.current.max_lifetime(),
            _ => None,
        }
    }
}
