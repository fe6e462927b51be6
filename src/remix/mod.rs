//! Reading and writing the session cookies of Remix and React Router, and
//! moving them to this crate's format (feature `remix`).
//!
//! Two cookie formats are supported, both signed the same way:
//!
//! - [`RemixFormat::Remix3`]: `@remix-run/session` cookie storage with
//!   `@remix-run/cookie` (Remix 3). The value is
//!   `base64(JSON) + "." + signature`, the JSON being
//!   `{"i": id, "d": [values, flash]}`.
//! - [`RemixFormat::ReactRouter`]: `createCookieSessionStorage` of React
//!   Router v7 and Remix v2. The JSON is one flat object whose flash
//!   entries are named `__flash_<name>__`, and the value is percent-encoded
//!   in the `Set-Cookie` header.
//!
//! The signature is the unpadded standard base64 of HMAC-SHA256 over the
//! base64 text, keyed with the UTF-8 bytes of a secret string; the first
//! secret signs, every secret is tried in order to verify.
//!
//! A [`RemixCodec`] reads such a cookie into a [`Session`] and saves a
//! [`Session`] as such a cookie, so handlers are written once against
//! [`Session`] whichever format the cookie uses. A [`MigratingCodec`] reads
//! both a legacy cookie and this crate's own cookie, and writes the one you
//! choose: use it to share one cookie between a Node application and a Rust
//! one, to move to this crate's format, and to roll back.
//!
//! # This is a compatibility path
//!
//! These formats are weaker than this crate's own, and stay so here, since
//! the other side must read what is written:
//!
//! - **No expiry in the cookie.** A signed Remix cookie verifies forever
//!   (its `Max-Age` is only a request to the browser): an old copy stays
//!   valid until the secret is rotated out.
//! - **Secrets are plain strings, not [`Key`](crate::Key)s.** They are used
//!   as given, with no derivation and no length or entropy check, because
//!   the Node application uses them that way. Do not reuse them as
//!   [`Key`](crate::Key) secrets.
//! - **No key id, no context:** a cookie signed with any of the secrets, for
//!   any cookie name, verifies.
//! - **Signed is not encrypted**: the JSON is readable by the client.
//!
//! Where the reference implementations are unsafe or undefined, this module
//! decides:
//!
//! - Unsigned cookies are not supported: building a codec with no secret, or
//!   with an empty secret (which WebCrypto refuses at every use), fails with
//!   [`ConfigError::InvalidSecret`].
//!   More than [`MAX_SECRETS`] secrets fail with
//!   [`ConfigError::TooManySecrets`].
//! - Cookie names must match **exactly**. Both parsers split the header on
//!   `;` and trim names of SP and HTAB only, then compare bytes.
//!   `@remix-run/headers` trims all of JavaScript's `\s` from names, so
//!   there a cookie named `\u{2000}__Host-sid`, which any subdomain or
//!   plain-`http` page may set, reads as `__Host-sid`; here it is another
//!   cookie. Values keep each package's rules (for Remix 3 a quoted value
//!   ends at the pair's `;`, as the browser splits it).
//! - A `Cookie` header longer than 64 KiB is not parsed: it holds no
//!   cookie, and the session is fresh. Parsing is linear and allocates only
//!   the value found.
//! - Signatures must be spelled as both packages write them: 43 characters
//!   of unpadded standard base64 with zero trailing bits. The packages
//!   verify with `atob`, which also accepts a trailing `=`, ASCII white
//!   space inside and non-zero trailing bits; such respellings of a valid
//!   cookie are refused here (no package writes them). `-`/`_`, `==` and
//!   truncation are refused by both.
//! - When a `Cookie` header holds the session cookie's name more than once,
//!   the **first** occurrence is used, as in React Router, in Remix 3 after
//!   alpha.6 and in this crate's own codec (Remix 3 alpha.6 used the last).
//!   If it does not verify, the session is fresh; later ones are not tried.
//! - A value longer than 4096 bytes (with its name) is never read, and one
//!   that would be longer is never written ([`EncodeError::TooLarge`]).
//!   React Router counts the whole `Set-Cookie` header against 4096, and so
//!   does [`RemixFormat::ReactRouter`] here.
//! - Deleting a Remix 3 cookie sends `Expires` at the epoch and
//!   `Max-Age=0`, so the browser drops it (Remix 3 itself only empties it);
//!   both sides then see a fresh session.
//! - A verified payload of an unexpected shape gives a fresh session: for
//!   Remix 3 the id `i` must be a string (or absent: a new id), `d` an
//!   array (or absent) and each half an object (or `null`/absent); for
//!   React Router the payload must be an object. JSON objects with repeated
//!   keys keep the last value, as `JSON.parse` does. Values nested deeper
//!   than [`MAX_NESTING`](crate::MAX_NESTING) are refused.
//! - Any failure on read (absent, malformed, bad signature, bad JSON) is a
//!   fresh session, never a panic or an error.
//!
//! Session semantics are this crate's ([`Session`], those of Remix 3) for
//! both formats. For React Router cookies that means: a flash that arrived
//! is readable all through the request and dropped by the next save,
//! whether it was read or not (React Router removes it when read, and keeps
//! it until then); `set(key, None)` removes the key (React Router stores
//! `null`); a session that did not change sends no `Set-Cookie`.
//!
//! ```
//! use cookie_session::remix::{RemixCodec, RemixFormat};
//!
//! let codec = RemixCodec::builder("__session", RemixFormat::Remix3)
//!     .secrets(["new secret", "old secret"])
//!     .build()?;
//!
//! // A cookie written by a Remix 3 application with the old secret:
//! let header = "__session=eyJpIjoiY3VzdG9tLWlkIiwiZCI6W3siY291bnQiOjF9LHt9XX0=\
//!               .WDnuRm5q4OHFVatuLa9A8VaQpIbsV0In9xjmL8nD3b0";
//! let mut session = codec.read(Some(header));
//! assert_eq!(session.id(), "custom-id");
//! assert_eq!(session.get::<u32>("count")?, Some(1));
//!
//! session.set("count", 2)?;
//! let set_cookie = codec.save(&session)?.expect("changed, so saved");
//! assert!(set_cookie.starts_with("__session=eyJpIjoiY3VzdG9tLWlkIiwiZCI6W3siY291bnQiOjJ9LHt9XX0=."));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::sync::Arc;

use time::Duration;

use crate::cookie::{Attributes, SameSite};
use crate::cookie_codec::CookieCodec;
use crate::error::{ConfigError, DecodeError, EncodeError, Malformed};
use crate::session::{Session, SessionData, ValueMap};

mod json;
mod migrate;
mod wire;

pub use migrate::{MigratingCodec, Source, Write};

use json::Piece;
use wire::Secrets;

/// The most secrets a [`RemixCodec`] accepts: 16. A cookie that does not
/// verify costs one HMAC per secret, so the list is kept short; rotation
/// needs two or three.
pub const MAX_SECRETS: usize = 16;

/// The largest cookie either format writes or reads: 4096 bytes.
const MAX_SIZE: usize = crate::MAX_COOKIE_SIZE;

/// `Expires` of a deleted cookie.
const EPOCH: &str = "Thu, 01 Jan 1970 00:00:00 GMT";

/// Which session cookie format a [`RemixCodec`] reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RemixFormat {
    /// Remix 3: `@remix-run/session` cookie storage (0.4) signed by
    /// `@remix-run/cookie` (0.5). Payload `{"i": id, "d": [values, flash]}`.
    Remix3,
    /// React Router v7 (`createCookieSessionStorage`) and Remix v2: one flat
    /// object, flash under `__flash_<name>__`, value percent-encoded. The
    /// session id is always empty.
    ReactRouter,
}

/// Reads and writes Remix or React Router session cookies as [`Session`]s.
///
/// Made by [`RemixCodec::builder`]. Cheap to clone, `Send + Sync`; `Debug`
/// shows no secret. See the [module documentation](self) for what this
/// compatibility path does and does not check.
///
/// ```
/// use cookie_session::remix::{RemixCodec, RemixFormat};
///
/// let codec = RemixCodec::builder("__session", RemixFormat::ReactRouter)
///     .secrets(["s3cr3t"])
///     .build()?;
///
/// let mut session = codec.read(None); // no cookie yet
/// session.set("user", "ada")?;
/// session.flash("notice", "Welcome")?;
/// let set_cookie = codec.save(&session)?.unwrap();
///
/// // The browser sends it back:
/// let cookie = set_cookie.split(';').next().unwrap();
/// let next = codec.read(Some(cookie));
/// assert_eq!(next.get::<String>("user")?.as_deref(), Some("ada"));
/// assert_eq!(next.get::<String>("notice")?.as_deref(), Some("Welcome"));
///
/// let mut next = next;
/// next.destroy();
/// assert_eq!(
///     codec.save(&next)?.unwrap(),
///     "__session=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax",
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct RemixCodec {
    inner: Arc<Inner>,
}

struct Inner {
    format: RemixFormat,
    attrs: Attributes,
    max_age: Option<i64>,
    secrets: Secrets,
}

/// Configures a [`RemixCodec`]; made by [`RemixCodec::builder`].
///
/// Defaults: `Path=/; SameSite=Lax`, plus `HttpOnly` and `Secure` (Remix 3's
/// session middleware adds `HttpOnly` too; turn either off to match an
/// application that does not set it), no `Domain`, no `Max-Age` (a cookie
/// that lasts until the browser closes). At least one secret is required.
///
/// Mirror the Node cookie's options so both sides write the same cookie:
///
/// ```
/// use cookie_session::remix::{RemixCodec, RemixFormat};
/// use cookie_session::{ConfigError, SameSite};
///
/// // createCookieSessionStorage({ cookie: { name: "__session", secrets,
/// //   httpOnly: true, secure: true, sameSite: "lax", path: "/", maxAge: 3600 } })
/// let codec = RemixCodec::builder("__session", RemixFormat::ReactRouter)
///     .secrets(["newest", "older"])
///     .same_site(SameSite::Lax)
///     .path("/")
///     .max_age(time::Duration::hours(1))
///     .build()?;
/// assert_eq!(codec.name(), "__session");
///
/// // No secret: refused (unsigned session cookies are not supported).
/// let err = RemixCodec::builder("__session", RemixFormat::Remix3).build().unwrap_err();
/// assert_eq!(err, ConfigError::InvalidSecret);
/// # Ok::<(), ConfigError>(())
/// ```
#[must_use]
pub struct RemixCodecBuilder {
    format: RemixFormat,
    attrs: Attributes,
    max_age: Option<Duration>,
    secrets: Result<Secrets, ConfigError>,
}

impl fmt::Debug for RemixCodecBuilder {
    /// Shows the configuration and the number of secrets, never a secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemixCodecBuilder")
            .field("format", &self.format)
            .field("attributes", &self.attrs)
            .field("max_age", &self.max_age)
            .field("secrets", &self.secrets.as_ref().map_or(0, Secrets::len))
            .finish()
    }
}

impl RemixCodecBuilder {
    /// The secrets, newest first, exactly as the Node application lists
    /// them (`secrets: [...]`): the first signs, all verify. Replaces any
    /// secrets given before.
    ///
    /// They are used as the reference implementations use them: their
    /// UTF-8 bytes are the HMAC key. They are **not**
    /// [`Key`](crate::Key)s, and are not checked for length or entropy.
    ///
    /// At most [`MAX_SECRETS`]; give each cookie its own secrets (see
    /// [`RemixCodec::serialize_str`]).
    pub fn secrets<I, S>(mut self, secrets: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.secrets = Secrets::new(secrets);
        self
    }

    crate::cookie::attribute_setters!();

    /// The `Max-Age` attribute of saved cookies (the `maxAge` option of the
    /// Node cookie), in whole seconds; none by default.
    ///
    /// It only asks the browser to drop the cookie: the cookie carries no
    /// expiry, and a copy kept past it still verifies.
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = Some(max_age);
        self
    }

    /// Checks the configuration.
    ///
    /// Fails with [`ConfigError::InvalidSecret`] without a secret or with an
    /// empty one, with [`ConfigError::TooManySecrets`] with more than
    /// [`MAX_SECRETS`], and like
    /// [`SessionCodecBuilder::build`](crate::SessionCodecBuilder::build) for
    /// the name and attributes.
    pub fn build(self) -> Result<RemixCodec, ConfigError> {
        self.attrs.validate()?;
        let secrets = self.secrets?;
        let max_age = match self.max_age {
            None => None,
            Some(d) if d.whole_seconds() >= 0 => Some(d.whole_seconds()),
            Some(_) => return Err(ConfigError::InvalidDuration("max_age")),
        };
        Ok(RemixCodec {
            inner: Arc::new(Inner {
                format: self.format,
                attrs: self.attrs,
                max_age,
                secrets,
            }),
        })
    }
}

impl RemixCodec {
    /// Starts configuring a codec for the cookie `name` in `format`.
    /// React Router's default name is `__session`; Remix 3 has none.
    pub fn builder(name: impl Into<String>, format: RemixFormat) -> RemixCodecBuilder {
        RemixCodecBuilder {
            format,
            attrs: Attributes {
                name: name.into(),
                persistent: false,
                ..Attributes::default()
            },
            max_age: None,
            secrets: Err(ConfigError::InvalidSecret),
        }
    }

    /// The cookie name.
    pub fn name(&self) -> &str {
        &self.inner.attrs.name
    }

    /// The format read and written.
    pub fn format(&self) -> RemixFormat {
        self.inner.format
    }

    pub(crate) fn attributes(&self) -> &Attributes {
        &self.inner.attrs
    }

    /// The session from a `Cookie` header, or a fresh one (not dirty) if
    /// the header holds no valid cookie of this codec's name. A fresh
    /// session has a new random id in the Remix 3 format and the empty id
    /// in the React Router format.
    pub fn read(&self, cookie_header: Option<&str>) -> Session {
        self.try_read(cookie_header).unwrap_or_else(|| self.fresh())
    }

    /// The session from a `Cookie` header; `None` if there is no cookie of
    /// this codec's name, if it is empty, or if it does not verify or
    /// decode.
    ///
    /// The first cookie of the name is used (see the [module
    /// documentation](self)). A session that arrived with flash is
    /// [dirty](Session::is_dirty), so that saving it drops the flash.
    pub fn try_read(&self, cookie_header: Option<&str>) -> Option<Session> {
        self.read_reason(cookie_header).ok().flatten()
    }

    /// [`try_read`](Self::try_read) with the reason a cookie was refused:
    /// `Ok(None)` when there is no cookie of the name (or it is empty).
    fn read_reason(&self, cookie_header: Option<&str>) -> Result<Option<Session>, DecodeError> {
        let Some(header) = cookie_header.filter(|h| !h.is_empty()) else {
            return Ok(None);
        };
        let value = match self.inner.format {
            RemixFormat::Remix3 => wire::remix_cookie_value(header, self.name()),
            RemixFormat::ReactRouter => wire::npm_cookie_value(header, self.name()),
        };
        match value {
            Some(v) if !v.is_empty() => self.decode_reason(&v).map(Some),
            _ => Ok(None),
        }
    }

    /// A session from a cookie value as this format's `Cookie` header parser
    /// returns it (for React Router: already percent-decoded); `None` if it
    /// is empty or does not verify or decode.
    ///
    /// ```
    /// use cookie_session::remix::{RemixCodec, RemixFormat};
    ///
    /// let codec = RemixCodec::builder("s", RemixFormat::Remix3).secrets(["secret1"]).build()?;
    /// let value = "eyJpIjoiY3VzdG9tLWlkIiwiZCI6W3siY291bnQiOjF9LHt9XX0=\
    ///              .2/YilfoYllIzbSSww3E6ps2mktV8pSxLim4Xg/8UNyA";
    /// assert_eq!(codec.decode(value).unwrap().get::<u8>("count")?, Some(1));
    /// assert!(codec.decode(&value.replace("2/Y", "2/Z")).is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn decode(&self, value: &str) -> Option<Session> {
        self.decode_reason(value).ok()
    }

    /// [`decode`](Self::decode) with the reason a value was refused.
    fn decode_reason(&self, value: &str) -> Result<Session, DecodeError> {
        let size = self.name().len() + 1 + value.len();
        if size > MAX_SIZE {
            return Err(DecodeError::TooLarge {
                size,
                limit: MAX_SIZE,
            });
        }
        if value.is_empty() {
            return Err(DecodeError::Malformed(Malformed::TooShort));
        }
        let encoded = self
            .inner
            .secrets
            .unsign(value)
            .ok_or(DecodeError::BadSignature)?;
        let tree = payload_tree(encoded);
        let session = match self.inner.format {
            RemixFormat::Remix3 => tree.and_then(remix3_session),
            RemixFormat::ReactRouter => tree.and_then(react_router_session),
        };
        session.ok_or(DecodeError::Malformed(Malformed::Json))
    }

    /// The signed cookie value for `session`'s data, as it is before the
    /// `Set-Cookie` header is written (for React Router: before
    /// percent-encoding).
    ///
    /// Fails with [`EncodeError::Destroyed`] for a destroyed session and
    /// [`EncodeError::NotJson`] if a value has no JSON form.
    pub fn encode(&self, session: &Session) -> Result<String, EncodeError> {
        if session.is_destroyed() {
            return Err(EncodeError::Destroyed);
        }
        let SessionData { values, flash } = session.data();
        let mut text = String::new();
        match self.inner.format {
            RemixFormat::Remix3 => {
                text.push_str("{\"i\":");
                json::write_string(&mut text, session.id());
                text.push_str(",\"d\":[");
                json::write_map(&mut text, &values)?;
                text.push(',');
                json::write_map(&mut text, &flash)?;
                text.push_str("]}");
            }
            RemixFormat::ReactRouter => {
                let flash_keys: Vec<String> =
                    flash.keys().map(|k| format!("__flash_{k}__")).collect();
                let entries = values
                    .iter()
                    .map(|(k, v)| (k.into(), Piece::Stored(v)))
                    .chain(
                        flash_keys
                            .iter()
                            .zip(flash.iter())
                            .map(|(k, (_, v))| (k.as_str().into(), Piece::Stored(v))),
                    );
                json::write_object(&mut text, entries)?;
            }
        }
        Ok(self.inner.secrets.sign(&wire::btoa(text.as_bytes())))
    }

    /// The `Set-Cookie` header value for `session` after a request:
    ///
    /// - destroyed: [`removal`](Self::removal);
    /// - [dirty](Session::is_dirty): the new cookie;
    /// - otherwise `None`: send no header.
    ///
    /// Fails with [`EncodeError::TooLarge`] when the cookie would exceed
    /// 4096 bytes (`name=value` for Remix 3, the whole header for React
    /// Router, as React Router counts it), and as [`encode`](Self::encode)
    /// does.
    pub fn save(&self, session: &Session) -> Result<Option<String>, EncodeError> {
        if session.is_destroyed() {
            return Ok(Some(self.removal()));
        }
        if !session.is_dirty() {
            return Ok(None);
        }
        let signed = self.encode(session)?;
        let (header, size) = match self.inner.format {
            RemixFormat::Remix3 => {
                let size = self.name().len() + 1 + signed.len();
                (self.remix3_header(&signed, self.inner.max_age, false), size)
            }
            RemixFormat::ReactRouter => {
                let h = self.react_router_header(&wire::encode_signed_value(&signed), false);
                let size = h.len();
                (h, size)
            }
        };
        if size > MAX_SIZE {
            return Err(EncodeError::TooLarge {
                size,
                limit: MAX_SIZE,
            });
        }
        Ok(Some(header))
    }

    /// The `Set-Cookie` header value that deletes the cookie: empty value,
    /// `Expires` at the Unix epoch (and `Max-Age=0` for Remix 3), the
    /// configured `Path` and `Domain`.
    pub fn removal(&self) -> String {
        match self.inner.format {
            RemixFormat::Remix3 => self.remix3_header("", Some(0), true),
            RemixFormat::ReactRouter => self.react_router_header("", true),
        }
    }

    /// The `Set-Cookie` header value carrying a plain string, as the Node
    /// cookie's `serialize(value)` writes it: Remix 3 signs the base64 of its
    /// UTF-8, React Router the base64 of its JSON form; `""` is written
    /// empty and unsigned. For cookies other than the session; no size
    /// check.
    ///
    /// **Every cookie needs its own secrets.** The signature binds neither
    /// the cookie name nor the purpose, so a string signed here verifies
    /// wherever the same secrets do: signing `{"i":"x","d":[{"admin":true}]}`
    /// with the session's secrets would make a Remix 3 session cookie, and a
    /// [`MigratingCodec`] would upgrade it to a genuine v1 cookie. This
    /// method therefore fails with [`EncodeError::ReadsAsSession`], and signs
    /// nothing, when the signed payload would decode as a session of
    /// **either** format (a JSON object of the Remix 3 session shape, or any
    /// JSON object, which is a React Router session), whatever this codec's
    /// format. That check covers this crate's readers only: a Node reader
    /// may differ (React Router reads any signed payload that is not JSON
    /// as an empty session). Build this codec with secrets that no session
    /// codec uses.
    ///
    /// ```
    /// use cookie_session::remix::{RemixCodec, RemixFormat};
    ///
    /// let c = RemixCodec::builder("my-cookie", RemixFormat::Remix3)
    ///     .secrets(["secret1"])
    ///     .http_only(false)
    ///     .secure(false)
    ///     .build()?;
    /// let set_cookie = c.serialize_str("hello michael")?;
    /// assert_eq!(
    ///     set_cookie,
    ///     "my-cookie=aGVsbG8gbWljaGFlbA==.l0AO5zb2EYpis03IWkyVTe1yo8hsSc7crMvLqdOsfg0; Path=/; SameSite=Lax",
    /// );
    /// let header = set_cookie.split(';').next().unwrap();
    /// assert_eq!(c.parse_str(Some(header)).as_deref(), Some("hello michael"));
    ///
    /// // A string that would read as a session is refused:
    /// assert_eq!(
    ///     c.serialize_str(r#"{"i":"x","d":[{"admin":true},{}]}"#),
    ///     Err(cookie_session::EncodeError::ReadsAsSession),
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn serialize_str(&self, value: &str) -> Result<String, EncodeError> {
        if value.is_empty() {
            return Ok(match self.inner.format {
                RemixFormat::Remix3 => self.remix3_header("", self.inner.max_age, false),
                RemixFormat::ReactRouter => self.react_router_header("", false),
            });
        }
        let encoded = match self.inner.format {
            RemixFormat::Remix3 => wire::btoa(value.as_bytes()),
            RemixFormat::ReactRouter => {
                let mut text = String::new();
                json::write_string(&mut text, value);
                wire::btoa(text.as_bytes())
            }
        };
        if reads_as_session(&encoded) {
            return Err(EncodeError::ReadsAsSession);
        }
        let signed = self.inner.secrets.sign(&encoded);
        Ok(match self.inner.format {
            RemixFormat::Remix3 => self.remix3_header(&signed, self.inner.max_age, false),
            RemixFormat::ReactRouter => {
                self.react_router_header(&wire::encode_signed_value(&signed), false)
            }
        })
    }

    /// The plain string in this codec's cookie in a `Cookie` header, as the
    /// Node cookie's `parse` returns it: `None` if the cookie is absent or
    /// does not verify or decode (or, for React Router, holds JSON other
    /// than a string), `Some("")` for an empty value.
    pub fn parse_str(&self, cookie_header: Option<&str>) -> Option<String> {
        let header = cookie_header.filter(|h| !h.is_empty())?;
        let value = match self.inner.format {
            RemixFormat::Remix3 => wire::remix_cookie_value(header, self.name())?,
            RemixFormat::ReactRouter => wire::npm_cookie_value(header, self.name())?,
        };
        if value.is_empty() {
            return Some(String::new());
        }
        let encoded = self.inner.secrets.unsign(&value)?;
        let text = String::from_utf8(wire::atob(encoded)?).ok()?;
        match self.inner.format {
            RemixFormat::Remix3 => Some(text),
            RemixFormat::ReactRouter => match json::parse(&text)? {
                ciborium::Value::Text(s) => Some(s),
                _ => None,
            },
        }
    }

    /// A session as the Node side creates it when there is no cookie.
    pub(crate) fn fresh(&self) -> Session {
        match self.inner.format {
            RemixFormat::Remix3 => Session::new(),
            RemixFormat::ReactRouter => Session::with_id(""),
        }
    }

    /// `SetCookie.toString()` of `@remix-run/headers`: Domain, Expires,
    /// HttpOnly, Max-Age, Partitioned, Path, SameSite, Secure.
    fn remix3_header(&self, value: &str, max_age: Option<i64>, expired: bool) -> String {
        let a = &self.inner.attrs;
        let mut s = format!("{}={}", a.name, value);
        if let Some(d) = &a.domain {
            s.push_str("; Domain=");
            s.push_str(d);
        }
        if expired {
            s.push_str("; Expires=");
            s.push_str(EPOCH);
        }
        if a.http_only {
            s.push_str("; HttpOnly");
        }
        if let Some(m) = max_age {
            s.push_str(&format!("; Max-Age={m}"));
        }
        if a.partitioned {
            s.push_str("; Partitioned");
        }
        s.push_str("; Path=");
        s.push_str(&a.path);
        if let Some(ss) = a.same_site {
            s.push_str("; SameSite=");
            s.push_str(same_site_str(ss));
        }
        if a.secure {
            s.push_str("; Secure");
        }
        s
    }

    /// `serialize` of the npm `cookie` package: Max-Age, Domain, Path,
    /// Expires, HttpOnly, Secure, Partitioned, SameSite.
    fn react_router_header(&self, value: &str, expired: bool) -> String {
        let a = &self.inner.attrs;
        let mut s = format!("{}={}", a.name, value);
        if let (Some(m), false) = (self.inner.max_age, expired) {
            s.push_str(&format!("; Max-Age={m}"));
        }
        if let Some(d) = &a.domain {
            s.push_str("; Domain=");
            s.push_str(d);
        }
        s.push_str("; Path=");
        s.push_str(&a.path);
        if expired {
            s.push_str("; Expires=");
            s.push_str(EPOCH);
        }
        if a.http_only {
            s.push_str("; HttpOnly");
        }
        if a.secure {
            s.push_str("; Secure");
        }
        if a.partitioned {
            s.push_str("; Partitioned");
        }
        if let Some(ss) = a.same_site {
            s.push_str("; SameSite=");
            s.push_str(same_site_str(ss));
        }
        s
    }
}

fn same_site_str(s: SameSite) -> &'static str {
    match s {
        SameSite::Strict => "Strict",
        SameSite::Lax => "Lax",
        SameSite::None => "None",
    }
}

impl fmt::Debug for RemixCodec {
    /// Shows the configuration and the number of secrets, never a secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemixCodec")
            .field("format", &self.inner.format)
            .field("attributes", &self.inner.attrs)
            .field("max_age", &self.inner.max_age)
            .field("secrets", &self.inner.secrets.len())
            .finish()
    }
}

/// The JSON tree of a verified payload: `atob`, UTF-8, `JSON.parse`.
fn payload_tree(encoded: &str) -> Option<ciborium::Value> {
    let text = String::from_utf8(wire::atob(encoded)?).ok()?;
    json::parse(&text)
}

/// Whether a payload, once signed, would decode (as [`RemixCodec::decode`]
/// does after the signature) into a session of either format.
fn reads_as_session(encoded: &str) -> bool {
    let Some(tree) = payload_tree(encoded) else {
        return false;
    };
    // Only objects are sessions, in both formats (cheap test first: no
    // clone, no id drawn, for the strings `serialize_str` is meant for).
    if !matches!(tree, ciborium::Value::Map(_)) {
        return false;
    }
    remix3_session(tree.clone()).is_some() || react_router_session(tree).is_some()
}

/// A half of `d`: an object, or `null`/absent for an empty map.
fn half(tree: Option<ciborium::Value>) -> Option<ValueMap> {
    match tree {
        None | Some(ciborium::Value::Null) => Some(ValueMap::new()),
        Some(t) => json::to_map(t),
    }
}

/// `{"i": id, "d": [values, flash]}` as a session.
fn remix3_session(tree: ciborium::Value) -> Option<Session> {
    let ciborium::Value::Map(entries) = tree else {
        return None;
    };
    let (mut id, mut d) = (None, None);
    // Repeated keys: the last wins, as in `JSON.parse`.
    for (k, v) in entries {
        match k {
            ciborium::Value::Text(k) if k == "i" => id = Some(v),
            ciborium::Value::Text(k) if k == "d" => d = Some(v),
            _ => {}
        }
    }
    let id = match id {
        None => crate::session::generate_id(),
        Some(ciborium::Value::Text(id)) => id,
        Some(_) => return None,
    };
    let (values, flash) = match d {
        None | Some(ciborium::Value::Null) => (ValueMap::new(), ValueMap::new()),
        Some(ciborium::Value::Array(halves)) => {
            let mut halves = halves.into_iter();
            (half(halves.next())?, half(halves.next())?)
        }
        Some(_) => return None,
    };
    Some(Session::from_data(id, SessionData { values, flash }))
}

/// A flat React Router object as a session: `__flash_<name>__` entries are
/// the flash that arrived, the others are values.
fn react_router_session(tree: ciborium::Value) -> Option<Session> {
    let all = json::to_map(tree)?;
    let mut data = SessionData::default();
    for (k, v) in all.iter() {
        match k
            .strip_prefix("__flash_")
            .and_then(|rest| rest.strip_suffix("__"))
        {
            Some(name) if k.len() >= 10 => data.flash.insert(name, v.clone()),
            _ => data.values.insert(k, v.clone()),
        };
    }
    Some(Session::from_data("", data))
}

/// The codec interface of the framework adapters: `SessionLayer::new(remix_codec)`.
///
/// `read_cookie` refuses a cookie that does not verify with
/// [`DecodeError::BadSignature`], one whose signed data is not a session
/// with [`Malformed::Json`](crate::Malformed::Json), and one over 4096
/// bytes with [`DecodeError::TooLarge`]; these formats carry no expiry, so
/// `now` is not used.
impl CookieCodec for RemixCodec {
    fn cookie_name(&self) -> &str {
        self.name()
    }

    fn read_cookie(
        &self,
        cookie_header: Option<&str>,
        _now: time::OffsetDateTime,
    ) -> Result<Option<Session>, DecodeError> {
        self.read_reason(cookie_header)
    }

    fn write_cookie(
        &self,
        session: &Session,
        _now: time::OffsetDateTime,
    ) -> Result<Option<String>, EncodeError> {
        self.save(session)
    }

    fn removal_cookie(&self) -> String {
        self.removal()
    }
}
