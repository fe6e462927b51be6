//! [`SessionCodec`]: the encode/decode pipeline and the expiry policy.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use time::{Duration, OffsetDateTime};

use crate::cookie::{Attributes, values_named};
use crate::error::{ConfigError, DecodeError, EncodeError, Expiry, Malformed};
use crate::format::{self, Frame, HEADER_LEN, MAX_LEN, Signer, TAG_LEN, Times};
use crate::key::{KeyId, Keyring};
#[cfg(feature = "encrypt")]
use crate::sealed::{self, Sealer, VERSION_ENCRYPTED};
use crate::session::Session;

/// Default `max_age`: 14 days after the cookie was last issued.
pub const DEFAULT_MAX_AGE: Duration = Duration::days(14);

/// How far in the future a cookie's `issued_at` may be (servers' clocks
/// differ): 60 seconds.
pub const MAX_CLOCK_SKEW: Duration = Duration::seconds(60);

/// The largest `name=value` a browser is required to store, and the default
/// size limit: 4096 bytes.
pub const MAX_COOKIE_SIZE: usize = 4096;

/// Turns [`Session`]s into signed cookie values and back, and reads and
/// writes the `Cookie` and `Set-Cookie` headers.
///
/// Build one per application with [`SessionCodec::builder`] and share it:
/// it is `Send + Sync`, and cloning it is a reference-count increment.
///
/// ```
/// use cookie_session::{Key, Keyring, Session, SessionCodec};
///
/// let codec = SessionCodec::builder("__session", Keyring::new(Key::generate()))
///     .max_age(time::Duration::days(14))
///     .build()?;
///
/// // Request 1: no cookie yet.
/// let mut session = codec.read(None);
/// session.set("user_id", 42)?;
/// let set_cookie = codec.save(&session)?.expect("dirty sessions are saved");
/// assert!(set_cookie.starts_with("__session="));
///
/// // Request 2: the browser sends the cookie back.
/// let cookie = set_cookie.split(';').next().unwrap();
/// let session = codec.read(Some(cookie));
/// assert_eq!(session.get::<u64>("user_id")?, Some(42));
/// assert_eq!(codec.save(&session)?, None); // unchanged: no Set-Cookie
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct SessionCodec {
    inner: Arc<Inner>,
}

struct Inner {
    attrs: Attributes,
    max_age: u64,
    max_lifetime: Option<u64>,
    /// `None`: refreshing is off.
    refresh_after: Option<u64>,
    revoked: Option<Revocation>,
    max_size: usize,
    /// `signers[0]` belongs to the primary key.
    signers: Vec<(KeyId, Signer)>,
    /// The v2 ciphers, in the order of `signers`.
    #[cfg(feature = "encrypt")]
    sealers: Vec<Sealer>,
    /// Writes format v2.
    #[cfg(feature = "encrypt")]
    encrypt: bool,
    /// Reads the version it does not write.
    #[cfg(feature = "encrypt")]
    accept_other_version: bool,
    by_id: IdTable,
}

/// Signer indices by key id: open addressing on the id's low bits, at most
/// half full. Key ids are HMAC outputs, uniformly distributed and chosen by
/// no one, so the id itself is a good hash; attackers choose only the ids
/// they look up, which cannot degrade the table. Lookups cost the same for
/// any number of keys.
struct IdTable {
    /// `index + 1` of the signer, 0 for an empty slot.
    slots: Box<[u32]>,
}

impl IdTable {
    fn new(ids: &[(KeyId, Signer)]) -> IdTable {
        let len = (ids.len() * 2).next_power_of_two().max(2);
        let mut slots = vec![0u32; len].into_boxed_slice();
        for (i, (id, _)) in ids.iter().enumerate() {
            let mut h = u32::from_be_bytes(id.0) as usize & (len - 1);
            while slots[h] != 0 {
                h = (h + 1) & (len - 1);
            }
            slots[h] = u32::try_from(i + 1).unwrap_or(u32::MAX);
        }
        IdTable { slots }
    }

    #[inline]
    fn get(&self, signers: &[(KeyId, Signer)], id: KeyId) -> Option<usize> {
        let mask = self.slots.len() - 1;
        let mut h = u32::from_be_bytes(id.0) as usize & mask;
        loop {
            let i = (*self.slots.get(h)? as usize).checked_sub(1)?;
            if signers.get(i)?.0 == id {
                return Some(i);
            }
            h = (h + 1) & mask;
        }
    }
}

/// The stack buffer for decoding cookies of up to 1 KB.
const SMALL_LEN: usize = 768;

/// The predicate given to [`SessionCodecBuilder::revoked_when`].
#[derive(Clone)]
struct Revocation(Arc<dyn Fn(&Verified) -> bool + Send + Sync>);

impl fmt::Debug for Revocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Revocation(..)")
    }
}

/// Configures a [`SessionCodec`]; made by [`SessionCodec::builder`].
///
/// Defaults: `max_age` 14 days ([`DEFAULT_MAX_AGE`]), refreshed once half
/// of it has passed, no `max_lifetime`, no revocation, size limit 4096, and
/// the cookie attributes `Path=/; HttpOnly; SameSite=Lax; Secure` with
/// `Max-Age` set to the time left until the signed expiry.
#[derive(Debug, Clone)]
#[must_use]
pub struct SessionCodecBuilder {
    attrs: Attributes,
    keyring: Keyring,
    max_age: Duration,
    max_lifetime: Option<Duration>,
    /// `None`: half of `max_age`.
    refresh_after: Option<Duration>,
    revoked: Option<Revocation>,
    max_size: usize,
    context: Vec<u8>,
    #[cfg(feature = "encrypt")]
    encrypt: bool,
    #[cfg(feature = "encrypt")]
    accept_other_version: bool,
}

impl SessionCodecBuilder {
    /// How long a cookie stays valid after it was last issued. Must be at
    /// least one second.
    ///
    /// Every save re-issues the cookie, and so does reading one older than
    /// [`refresh_after`](Self::refresh_after) (half of `max_age` by
    /// default), so `max_age` is an idle timeout: a session ends once no
    /// request came for `max_age - refresh_after` (7 days with the defaults)
    /// and certainly once none came for `max_age`.
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// Sliding expiry: a cookie issued at least this long ago decodes as a
    /// [dirty](Session::is_dirty) session, so the next save re-issues it
    /// (same id, same values, same `created_at`, a new `issued_at` and
    /// expiry) although the handler changed nothing. Default: half of
    /// `max_age`; a value of `max_age` or more turns refreshing off.
    ///
    /// A session that is only read is thus written at most once per
    /// `refresh_after`, and stays alive while requests come less than
    /// `max_age - refresh_after` apart. `max_lifetime` still caps it: a
    /// refresh never extends a session past it (and is skipped when it
    /// would not move the expiry).
    ///
    /// ```
    /// use cookie_session::{Key, Keyring, Session, SessionCodec};
    /// use time::{Duration, OffsetDateTime};
    ///
    /// let codec = SessionCodec::builder("sid", Keyring::new(Key::generate()))
    ///     .max_age(Duration::hours(1))
    ///     .refresh_after(Duration::minutes(30))
    ///     .build()?;
    /// let t0 = OffsetDateTime::now_utc();
    /// let value = codec.encode_at(&Session::new(), t0)?;
    ///
    /// let early = codec.decode_at(&value, t0 + Duration::minutes(29))?;
    /// assert!(!early.is_dirty());
    /// let late = codec.verify_at(&value, t0 + Duration::minutes(30))?;
    /// assert!(late.session.is_dirty() && late.reissue.refresh);
    /// // Saving it gives a cookie valid for another hour.
    /// assert!(codec.save_at(&late.session, t0 + Duration::minutes(30))?.is_some());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn refresh_after(mut self, refresh_after: Duration) -> Self {
        self.refresh_after = Some(refresh_after);
        self
    }

    /// Revocation: `revoked` is asked about every cookie whose tag, times
    /// and payload have been checked; `true` refuses it with
    /// [`DecodeError::Revoked`] (so [`read`](SessionCodec::read) gives a
    /// fresh session and [`try_read_at`](SessionCodec::try_read_at) says
    /// why). None by default.
    ///
    /// It runs on every request that carries a valid cookie, so it must be
    /// cheap: look in memory (a map refreshed from your database in the
    /// background), never query the database from it. Two patterns it is
    /// made for:
    ///
    /// - **Log out everywhere**: keep a per-user "valid after" time and
    ///   refuse sessions whose [`created_at`](Verified::created_at) is
    ///   earlier.
    /// - **Deny-list**: keep the ids [`Session::delete_id`] hands over at
    ///   logout and [`regenerate_id(true)`](Session::regenerate_id) until the
    ///   cookies that carry them could have expired (`max_age` after they
    ///   were last issued), and refuse those ids.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use std::sync::{Arc, RwLock};
    /// use cookie_session::{DecodeError, Key, Keyring, Session, SessionCodec};
    /// use time::{Duration, OffsetDateTime};
    ///
    /// // user -> sessions created before this Unix time are refused;
    /// // refreshed from the application's database.
    /// let valid_after: Arc<RwLock<HashMap<String, u64>>> = Default::default();
    /// let map = valid_after.clone();
    /// let codec = SessionCodec::builder("sid", Keyring::new(Key::generate()))
    ///     .revoked_when(move |v| {
    ///         let Some(user) = v.session.get_value("user").and_then(|u| u.as_str()) else {
    ///             return false;
    ///         };
    ///         map.read().unwrap().get(user).is_some_and(|&after| v.created_at <= after)
    ///     })
    ///     .build()?;
    ///
    /// let t0 = OffsetDateTime::now_utc();
    /// let mut s = Session::new();
    /// s.set("user", "alice")?;
    /// let value = codec.encode_at(&s, t0)?;
    /// assert!(codec.decode_at(&value, t0).is_ok());
    ///
    /// // "Log out everywhere", a minute later:
    /// let later = t0 + Duration::minutes(1);
    /// valid_after.write().unwrap().insert("alice".into(), later.unix_timestamp() as u64);
    /// assert_eq!(codec.decode_at(&value, later).unwrap_err(), DecodeError::Revoked);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn revoked_when(
        mut self,
        revoked: impl Fn(&Verified) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.revoked = Some(Revocation(Arc::new(revoked)));
        self
    }

    /// An absolute limit counted from the session's creation, which every
    /// re-issue carries forward: however often the session is saved, it
    /// ends this long after it began (or after its last
    /// [`regenerate_id`](Session::regenerate_id)). Off by default.
    pub fn max_lifetime(mut self, max_lifetime: Duration) -> Self {
        self.max_lifetime = Some(max_lifetime);
        self
    }

    /// An application label signed into every cookie but not sent, so
    /// cookies of two applications that share a key and a cookie name never
    /// verify in each other. Empty by default.
    pub fn context(mut self, context: impl AsRef<[u8]>) -> Self {
        self.context = context.as_ref().to_vec();
        self
    }

    crate::cookie::attribute_setters!();

    /// Whether the `Set-Cookie` carries `Max-Age` (the time left until the
    /// signed expiry). On by default; off makes a browser-session cookie,
    /// dropped when the browser closes, which the server still refuses after
    /// `max_age`.
    pub fn persistent(mut self, persistent: bool) -> Self {
        self.attrs.persistent = persistent;
        self
    }

    /// The largest `name=value` the codec writes or reads, in bytes; at most
    /// (and by default) 4096, the size browsers are required to store.
    pub fn max_size(mut self, max_size: usize) -> Self {
        self.max_size = max_size;
        self
    }

    /// Whether to encrypt (feature `encrypt`): `true` writes format v2,
    /// whose payload is encrypted and authenticated with XChaCha20-Poly1305
    /// under a key derived from the same secret, so the client can neither
    /// read nor change the session. Off by default (format v1: signed,
    /// readable).
    ///
    /// The header stays readable in both formats: the key id and the three
    /// times. Encryption does not hide the cookie's size either.
    ///
    /// Either codec reads both formats with its keys and writes its own: a
    /// cookie of the other format comes back [dirty](Session::is_dirty)
    /// (with [`Reissue::other_version`]), so the next save rewrites it, and
    /// turning encryption on or off logs no one out. See
    /// [`accept_other_version`](Self::accept_other_version) to refuse it.
    ///
    /// ```
    /// use cookie_session::{Key, Keyring, Session, SessionCodec};
    /// use time::OffsetDateTime;
    ///
    /// let key = Key::generate();
    /// let signed = SessionCodec::builder("sid", Keyring::new(key.clone())).build()?;
    /// let sealed = SessionCodec::builder("sid", Keyring::new(key)).encrypt(true).build()?;
    ///
    /// let now = OffsetDateTime::now_utc();
    /// let mut s = Session::new();
    /// s.set("email", "alice@example.com")?;
    /// let value = sealed.encode_at(&s, now)?;
    /// assert_eq!(sealed.decode_at(&value, now)?.get::<String>("email")?.unwrap(), "alice@example.com");
    ///
    /// // A signed cookie, read by the encrypting codec: dirty, so the next
    /// // save writes it encrypted.
    /// let old = signed.encode_at(&s, now)?;
    /// let v = sealed.verify_at(&old, now)?;
    /// assert!(v.reissue.other_version && v.session.is_dirty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "encrypt")]
    pub fn encrypt(mut self, encrypt: bool) -> Self {
        self.encrypt = encrypt;
        self
    }

    /// Whether a cookie of the format the codec does not write (v1 for an
    /// [encrypting](Self::encrypt) codec, v2 for a signing one) is read, as
    /// a dirty session; `true` by default. `false` refuses it with
    /// [`DecodeError::UnsupportedVersion`] before any key is looked up.
    ///
    /// ```
    /// use cookie_session::{DecodeError, Key, Keyring, Session, SessionCodec};
    ///
    /// let key = Key::generate();
    /// let signed = SessionCodec::builder("sid", Keyring::new(key.clone())).build()?;
    /// let strict = SessionCodec::builder("sid", Keyring::new(key))
    ///     .encrypt(true)
    ///     .accept_other_version(false)
    ///     .build()?;
    /// let value = signed.encode(&Session::new())?;
    /// assert_eq!(strict.decode(&value).unwrap_err(), DecodeError::UnsupportedVersion(1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "encrypt")]
    pub fn accept_other_version(mut self, accept: bool) -> Self {
        self.accept_other_version = accept;
        self
    }

    /// Checks the configuration and prepares the keys.
    pub fn build(self) -> Result<SessionCodec, ConfigError> {
        self.attrs.validate()?;
        let secs = |d: Duration, what| match d.whole_seconds() {
            s if s >= 1 => Ok(s as u64),
            _ => Err(ConfigError::InvalidDuration(what)),
        };
        let max_age = secs(self.max_age, "max_age")?;
        let max_lifetime = self
            .max_lifetime
            .map(|d| secs(d, "max_lifetime"))
            .transpose()?;
        let refresh_after = match self.refresh_after {
            None => Some(max_age / 2),
            Some(d) if d.is_negative() => {
                return Err(ConfigError::InvalidDuration("refresh_after"));
            }
            Some(d) => u64::try_from(d.whole_seconds())
                .ok()
                .filter(|&r| r < max_age),
        };
        if self.max_size > MAX_COOKIE_SIZE || self.max_size <= self.attrs.name.len() + 1 {
            return Err(ConfigError::InvalidSizeLimit);
        }
        let signers: Vec<_> = self
            .keyring
            .keys()
            .map(|k| {
                (
                    k.id(),
                    Signer::new(k, self.attrs.name.as_bytes(), &self.context),
                )
            })
            .collect();
        #[cfg(feature = "encrypt")]
        let sealers = self
            .keyring
            .keys()
            .map(|k| Sealer::new(k, self.attrs.name.as_bytes(), &self.context))
            .collect();
        let by_id = IdTable::new(&signers);
        Ok(SessionCodec {
            inner: Arc::new(Inner {
                attrs: self.attrs,
                max_age,
                max_lifetime,
                refresh_after,
                revoked: self.revoked,
                max_size: self.max_size,
                signers,
                #[cfg(feature = "encrypt")]
                sealers,
                #[cfg(feature = "encrypt")]
                encrypt: self.encrypt,
                #[cfg(feature = "encrypt")]
                accept_other_version: self.accept_other_version,
                by_id,
            }),
        })
    }
}

/// A verified cookie: the session and what the cookie said about itself.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Verified {
    /// The session; [dirty](Session::is_dirty) if it arrived with flash or
    /// a re-issue is due.
    pub session: Session,
    /// The key that signed the cookie.
    pub key_id: KeyId,
    /// Whether saving the session will write a cookie even if nothing
    /// changes: a re-issue is due (see [`reissue`](Self::reissue)), or flash
    /// arrived, which the next cookie must drop.
    pub needs_reissue: bool,
    /// Why a re-issue is due, if it is.
    pub reissue: Reissue,
    /// When the cookie was issued, in Unix seconds.
    pub issued_at: u64,
    /// When the cookie expires, in Unix seconds (as signed; the codec's
    /// current `max_age` and `max_lifetime` may end it sooner).
    pub expires_at: u64,
    /// When the session was created, in Unix seconds.
    pub created_at: u64,
}

/// Why a verified cookie is re-issued on the next save even if the handler
/// changes nothing. `Display` gives a short text for logs.
///
/// ```
/// use cookie_session::Reissue;
///
/// let r = Reissue { fallback_key: true, refresh: true, other_version: false };
/// assert!(r.is_due());
/// assert_eq!(r.to_string(), "signed with a fallback key, refresh due");
/// let r = Reissue { other_version: true, ..Reissue::default() };
/// assert_eq!(r.to_string(), "other format version");
/// assert_eq!(Reissue::default().to_string(), "none due");
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Reissue {
    /// Signed by a fallback key: the primary key signs the new cookie.
    pub fallback_key: bool,
    /// Issued [`refresh_after`](SessionCodecBuilder::refresh_after) or
    /// longer ago: the new cookie has a later expiry.
    pub refresh: bool,
    /// Written in the format version the codec does not write (signed for
    /// an encrypting codec, encrypted for a signing one; feature
    /// `encrypt`): the new cookie is in the codec's own format.
    pub other_version: bool,
}

impl Reissue {
    /// Whether any reason holds.
    pub fn is_due(self) -> bool {
        self.fallback_key || self.refresh || self.other_version
    }
}

impl fmt::Display for Reissue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let reasons = [
            (self.fallback_key, "signed with a fallback key"),
            (self.refresh, "refresh due"),
            (self.other_version, "other format version"),
        ];
        let mut any = false;
        for (_, text) in reasons.iter().filter(|(due, _)| *due) {
            if any {
                f.write_str(", ")?;
            }
            f.write_str(text)?;
            any = true;
        }
        if !any {
            f.write_str("none due")?;
        }
        Ok(())
    }
}

impl SessionCodec {
    /// Starts configuring a codec for the cookie `name`, signing with the
    /// keyring's primary key and verifying with all of its keys.
    pub fn builder(name: impl Into<String>, keyring: Keyring) -> SessionCodecBuilder {
        SessionCodecBuilder {
            attrs: Attributes {
                name: name.into(),
                ..Attributes::default()
            },
            keyring,
            max_age: DEFAULT_MAX_AGE,
            max_lifetime: None,
            refresh_after: None,
            revoked: None,
            max_size: MAX_COOKIE_SIZE,
            context: Vec::new(),
            #[cfg(feature = "encrypt")]
            encrypt: false,
            #[cfg(feature = "encrypt")]
            accept_other_version: true,
        }
    }

    /// The cookie name.
    pub fn name(&self) -> &str {
        &self.inner.attrs.name
    }

    #[cfg(feature = "remix")]
    pub(crate) fn attributes(&self) -> &Attributes {
        &self.inner.attrs
    }

    /// How long a cookie stays valid after it was issued.
    pub fn max_age(&self) -> Duration {
        Duration::seconds(i64::try_from(self.inner.max_age).unwrap_or(i64::MAX))
    }

    /// How old a cookie must be to be re-issued on the next save; `None`
    /// when refreshing is off. See
    /// [`SessionCodecBuilder::refresh_after`].
    pub fn refresh_after(&self) -> Option<Duration> {
        let r = self.inner.refresh_after?;
        Some(Duration::seconds(i64::try_from(r).unwrap_or(i64::MAX)))
    }

    /// The absolute limit on a session's life, if any.
    pub fn max_lifetime(&self) -> Option<Duration> {
        let l = self.inner.max_lifetime?;
        Some(Duration::seconds(i64::try_from(l).unwrap_or(i64::MAX)))
    }

    /// The id of the key that signs.
    pub fn primary_key_id(&self) -> KeyId {
        self.inner.signers[0].0
    }

    /// The format version the codec writes: [`VERSION`](crate::VERSION)
    /// (1, signed), or 2 (encrypted) if it was built with
    /// `encrypt(true)` (feature `encrypt`).
    pub fn version(&self) -> u8 {
        #[cfg(feature = "encrypt")]
        if self.inner.encrypt {
            return VERSION_ENCRYPTED;
        }
        format::VERSION
    }

    /// Encodes `session` as a cookie value, now.
    pub fn encode(&self, session: &Session) -> Result<String, EncodeError> {
        self.encode_at(session, OffsetDateTime::now_utc())
    }

    /// Encodes `session` as a cookie value issued at `now`.
    ///
    /// Fails with [`EncodeError::TooLarge`] if `name=value` would exceed the
    /// size limit, [`EncodeError::Destroyed`] for a destroyed session, and
    /// [`EncodeError::ClockBeforeEpoch`] if `now` is before 1970.
    pub fn encode_at(&self, session: &Session, now: OffsetDateTime) -> Result<String, EncodeError> {
        let mut out = String::new();
        self.encode_into_at(session, now, &mut out)?;
        Ok(out)
    }

    /// Like [`encode_at`](Self::encode_at), appending the value to `out`
    /// instead of allocating: with a reused buffer, encoding allocates
    /// nothing. Returns the signed expiry (Unix seconds).
    ///
    /// ```
    /// use cookie_session::{Key, Keyring, Session, SessionCodec};
    /// use time::{Duration, OffsetDateTime};
    ///
    /// let codec = SessionCodec::builder("sid", Keyring::new(Key::generate()))
    ///     .max_age(Duration::hours(1))
    ///     .build()?;
    /// let now = OffsetDateTime::now_utc();
    /// let mut buf = String::with_capacity(4096);
    /// let expires = codec.encode_into_at(&Session::new(), now, &mut buf)?;
    /// assert_eq!(expires, now.unix_timestamp() as u64 + 3600);
    /// assert!(codec.decode_at(&buf, now).is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn encode_into_at(
        &self,
        session: &Session,
        now: OffsetDateTime,
        out: &mut String,
    ) -> Result<u64, EncodeError> {
        self.encode_with(session, now, out, None)
    }

    /// Encodes as format v2 with the given nonce, whatever the codec's
    /// format: for test vectors and fuzz seeds only. A nonce must never be
    /// used twice with one key; not part of the stable API.
    #[cfg(feature = "encrypt")]
    #[doc(hidden)]
    pub fn encode_v2_with_nonce_at(
        &self,
        session: &Session,
        now: OffsetDateTime,
        nonce: [u8; 24],
    ) -> Result<String, EncodeError> {
        let mut out = String::new();
        self.encode_with(session, now, &mut out, Some(nonce))?;
        Ok(out)
    }

    /// The encoder: format v2 if the codec encrypts or `nonce` is given (a
    /// fixed nonce, for vectors), else v1.
    fn encode_with(
        &self,
        session: &Session,
        now: OffsetDateTime,
        out: &mut String,
        nonce: Option<[u8; 24]>,
    ) -> Result<u64, EncodeError> {
        let inner = &*self.inner;
        #[cfg(feature = "encrypt")]
        let encrypt = inner.encrypt || nonce.is_some();
        #[cfg(not(feature = "encrypt"))]
        let (encrypt, _) = (false, nonce);
        if session.is_destroyed() {
            return Err(EncodeError::Destroyed);
        }
        let issued_at =
            u64::try_from(now.unix_timestamp()).map_err(|_| EncodeError::ClockBeforeEpoch)?;
        let created_at = session.created_at().map_or(issued_at, |c| c.min(issued_at));
        let mut expires_at = issued_at.saturating_add(inner.max_age);
        if let Some(l) = inner.max_lifetime {
            expires_at = expires_at.min(created_at.saturating_add(l));
        }
        let (values, flash) = session.outgoing();
        let id = session.id();
        let payload_len = format::payload_len(id, values, flash);
        #[cfg(feature = "encrypt")]
        let overhead = if encrypt {
            sealed::OVERHEAD
        } else {
            HEADER_LEN + TAG_LEN
        };
        #[cfg(not(feature = "encrypt"))]
        let overhead = HEADER_LEN + TAG_LEN;
        let bin_len = payload_len + overhead;
        let text_len = (bin_len * 4).div_ceil(3);
        let size = inner.attrs.name.len() + 1 + text_len;
        if size > inner.max_size {
            return Err(EncodeError::TooLarge {
                size,
                limit: inner.max_size,
            });
        }
        // A small stack buffer for the common small cookie, so as not to
        // zero 3 KB each time.
        let mut small = [0u8; SMALL_LEN];
        let mut large;
        let buf: &mut [u8] = if bin_len <= SMALL_LEN {
            &mut small
        } else {
            large = [0u8; MAX_LEN];
            &mut large
        };
        let (key_id, signer) = &inner.signers[0];
        let times = Times {
            issued_at,
            expires_at,
            created_at,
        };
        if encrypt {
            #[cfg(feature = "encrypt")]
            {
                let nonce = match nonce {
                    Some(n) => n,
                    None => sealed::random_nonce().map_err(|_| EncodeError::Random)?,
                };
                let at = sealed::CIPHERTEXT_AT;
                format::write_header(buf, VERSION_ENCRYPTED, *key_id, times);
                buf[HEADER_LEN..at].copy_from_slice(&nonce);
                format::write_payload(&mut buf[at..], id, values, flash);
                // Encrypted in place: no copy of the plaintext remains.
                inner.sealers[0].seal(&mut buf[..bin_len]);
            }
        } else {
            format::write_header(buf, format::VERSION, *key_id, times);
            format::write_payload(&mut buf[HEADER_LEN..], id, values, flash);
            let body_len = HEADER_LEN + payload_len;
            let tag = signer.tag(&buf[..body_len]);
            buf[body_len..bin_len].copy_from_slice(&tag);
        }
        out.reserve(text_len);
        URL_SAFE_NO_PAD.encode_string(&buf[..bin_len], out);
        Ok(expires_at)
    }

    /// Decodes a cookie value, now.
    pub fn decode(&self, value: &str) -> Result<Session, DecodeError> {
        self.decode_at(value, OffsetDateTime::now_utc())
    }

    /// Decodes a cookie value as of `now`.
    ///
    /// Checks, in this order: size, base64, version, key id, tag, times,
    /// payload, then the [revocation](SessionCodecBuilder::revoked_when)
    /// predicate. Nothing but lengths, the version and the key id is read
    /// before the tag has verified. In format v2 (feature `encrypt`) the
    /// tag is the AEAD's: the payload is decrypted only once it verified,
    /// and the buffer that held the plaintext is zeroed before returning.
    pub fn decode_at(&self, value: &str, now: OffsetDateTime) -> Result<Session, DecodeError> {
        self.verify_at(value, now).map(|v| v.session)
    }

    /// Like [`decode_at`](Self::decode_at), returning what the cookie said
    /// about itself too: key id, times and why a re-issue is due.
    ///
    /// ```
    /// use cookie_session::{Key, Keyring, Session, SessionCodec};
    /// use time::OffsetDateTime;
    ///
    /// let (old, new) = (Key::generate(), Key::generate());
    /// let before = SessionCodec::builder("sid", Keyring::new(old.clone())).build()?;
    /// let after = SessionCodec::builder("sid", Keyring::new(new).with_fallback(old.clone())?).build()?;
    ///
    /// let now = OffsetDateTime::now_utc();
    /// let value = before.encode_at(&Session::new(), now)?;
    /// let v = after.verify_at(&value, now)?;
    /// assert_eq!(v.key_id, old.id());
    /// assert!(v.reissue.fallback_key && !v.reissue.refresh);
    /// assert!(v.needs_reissue && v.session.is_dirty());
    /// assert_eq!(v.issued_at, now.unix_timestamp() as u64);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn verify_at(&self, value: &str, now: OffsetDateTime) -> Result<Verified, DecodeError> {
        let inner = &*self.inner;
        let size = inner.attrs.name.len() + 1 + value.len();
        if size > inner.max_size {
            return Err(DecodeError::TooLarge {
                size,
                limit: inner.max_size,
            });
        }
        // Decoded on the stack (a small buffer for the common small cookie,
        // so as not to zero 3 KB each time): nothing is allocated before
        // the tag has verified.
        let mut small = [0u8; SMALL_LEN];
        let mut large;
        let buf: &mut [u8] = if value.len() <= SMALL_LEN / 3 * 4 {
            &mut small
        } else {
            large = [0u8; MAX_LEN];
            &mut large
        };
        let n = URL_SAFE_NO_PAD
            .decode_slice(value, buf)
            .map_err(|_| DecodeError::Malformed(Malformed::Base64))?;
        #[cfg(feature = "encrypt")]
        if buf[..n].first() == Some(&VERSION_ENCRYPTED) {
            let verified = self.verify_bin(buf, n, now);
            // The buffer may hold the plaintext (decrypted in place, then
            // moved, and the payload's tables): zero all of it.
            zeroize::Zeroize::zeroize(buf);
            return verified;
        }
        self.verify_bin(buf, n, now)
    }

    /// [`verify_at`](Self::verify_at) after the base64 decoding of the
    /// value into `buf[..n]`; `buf[n..]` is scratch space.
    #[inline]
    fn verify_bin(
        &self,
        buf: &mut [u8],
        n: usize,
        now: OffsetDateTime,
    ) -> Result<Verified, DecodeError> {
        let inner = &*self.inner;
        let version = *buf[..n]
            .first()
            .ok_or(DecodeError::Malformed(Malformed::TooShort))?;
        let other_version = match version {
            #[cfg(feature = "encrypt")]
            format::VERSION => inner.encrypt,
            #[cfg(not(feature = "encrypt"))]
            format::VERSION => false,
            #[cfg(feature = "encrypt")]
            VERSION_ENCRYPTED => !inner.encrypt,
            v => return Err(DecodeError::UnsupportedVersion(v)),
        };
        #[cfg(feature = "encrypt")]
        if other_version && !inner.accept_other_version {
            return Err(DecodeError::UnsupportedVersion(version));
        }
        let (index, body_len) = if version == format::VERSION {
            let frame = Frame::split(&buf[..n])?;
            let index = self.key_index(frame.key_id)?;
            if !inner.signers[index].1.verify(frame.body, frame.tag) {
                return Err(DecodeError::BadSignature);
            }
            (index, frame.body.len())
        } else {
            #[cfg(feature = "encrypt")]
            {
                let index = self.key_index(sealed::split(&buf[..n])?)?;
                if !inner.sealers[index].open(&mut buf[..n]) {
                    return Err(DecodeError::BadSignature);
                }
                (index, sealed::unwrap(buf, n))
            }
            #[cfg(not(feature = "encrypt"))]
            return Err(DecodeError::UnsupportedVersion(version));
        };
        let key_id = &inner.signers[index].0;
        let t = format::read_times(buf);
        self.check_times(t, now)?;
        let p = format::parse_payload(buf, body_len)?;
        let reissue = Reissue {
            fallback_key: index != 0,
            refresh: self.refresh_due(t, now),
            other_version,
        };
        let session = Session::decoded(
            p.id,
            p.values,
            p.flash,
            (t.issued_at, t.created_at),
            reissue.is_due(),
        );
        let verified = Verified {
            needs_reissue: session.is_dirty(),
            session,
            key_id: *key_id,
            reissue,
            issued_at: t.issued_at,
            expires_at: t.expires_at,
            created_at: t.created_at,
        };
        if inner.revoked.as_ref().is_some_and(|r| (r.0)(&verified)) {
            return Err(DecodeError::Revoked);
        }
        Ok(verified)
    }

    /// The index of the key `id` in `signers` (and `sealers`).
    #[inline]
    fn key_index(&self, id: KeyId) -> Result<usize, DecodeError> {
        let inner = &*self.inner;
        // Most cookies are signed by the primary key: no lookup for them.
        if inner.signers[0].0 == id {
            return Ok(0);
        }
        inner
            .by_id
            .get(&inner.signers, id)
            .ok_or(DecodeError::UnknownKey)
    }

    /// Whether a cookie with times `t`, which `check_times` accepted at
    /// `now`, is due for a refresh: issued `refresh_after` or longer ago,
    /// and a new cookie would expire later than this one.
    fn refresh_due(&self, t: Times, now: OffsetDateTime) -> bool {
        let inner = &*self.inner;
        let Some(refresh_after) = inner.refresh_after else {
            return false;
        };
        let now = i128::from(now.unix_timestamp());
        let (iat, created) = (i128::from(t.issued_at), i128::from(t.created_at));
        if now < iat + i128::from(refresh_after) {
            return false;
        }
        // When this cookie ends, and when a new one would.
        let lifetime_end = inner.max_lifetime.map(|l| created + i128::from(l));
        let max_age = i128::from(inner.max_age);
        let end = (iat + max_age).min(i128::from(t.expires_at));
        let (end, new_end) = match lifetime_end {
            Some(l) => (end.min(l), (now + max_age).min(l)),
            None => (end, now + max_age),
        };
        new_end > end
    }

    #[inline]
    fn check_times(&self, t: Times, now: OffsetDateTime) -> Result<(), DecodeError> {
        let inner = &*self.inner;
        // i128 holds every sum below without overflow.
        let now = i128::from(now.unix_timestamp());
        let (iat, exp, created) = (
            i128::from(t.issued_at),
            i128::from(t.expires_at),
            i128::from(t.created_at),
        );
        if created > iat {
            return Err(DecodeError::Malformed(Malformed::Times));
        }
        if iat > now + i128::from(MAX_CLOCK_SKEW.whole_seconds()) {
            return Err(DecodeError::Expired(Expiry::IssuedInFuture));
        }
        if now >= exp {
            return Err(DecodeError::Expired(Expiry::ExpiresAt));
        }
        if now >= iat + i128::from(inner.max_age) {
            return Err(DecodeError::Expired(Expiry::MaxAge));
        }
        if let Some(l) = inner.max_lifetime {
            if now >= created + i128::from(l) {
                return Err(DecodeError::Expired(Expiry::MaxLifetime));
            }
        }
        Ok(())
    }

    /// The session from a `Cookie` header, now; see [`read_at`](Self::read_at).
    pub fn read(&self, cookie_header: Option<&str>) -> Session {
        self.read_at(cookie_header, OffsetDateTime::now_utc())
    }

    /// The session from a `Cookie` header as of `now`: the first cookie of
    /// the codec's name that decodes, or a fresh session (not dirty) if none
    /// does. Use [`try_read_at`](Self::try_read_at) to learn why a cookie
    /// was refused.
    pub fn read_at(&self, cookie_header: Option<&str>, now: OffsetDateTime) -> Session {
        match self.try_read_at(cookie_header, now) {
            Ok(Some(s)) => s,
            _ => Session::new(),
        }
    }

    /// Like [`read_at`](Self::read_at), but says what happened:
    /// `Ok(None)` when the header holds no cookie of the codec's name,
    /// `Err` with the first cookie's error when none of them decodes.
    ///
    /// At most 16 cookies of the name are tried (each costs one HMAC); the
    /// first that decodes wins.
    ///
    /// ```
    /// use cookie_session::{DecodeError, Key, Keyring, SessionCodec};
    /// use time::OffsetDateTime;
    ///
    /// let codec = SessionCodec::builder("sid", Keyring::new(Key::generate())).build()?;
    /// let now = OffsetDateTime::now_utc();
    /// assert!(codec.try_read_at(Some("theme=dark"), now)?.is_none());
    /// let err = codec.try_read_at(Some("theme=dark; sid=forged"), now).unwrap_err();
    /// assert!(matches!(err, DecodeError::Malformed(_)));
    /// // Log `err` (it never contains the cookie) and carry on with a fresh session.
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn try_read_at(
        &self,
        cookie_header: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Option<Session>, DecodeError> {
        let Some(header) = cookie_header else {
            return Ok(None);
        };
        let mut first_error = None;
        for value in self.cookie_values(header) {
            match self.decode_at(value, now) {
                Ok(s) => return Ok(Some(s)),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        first_error.map_or(Ok(None), Err)
    }

    /// The values of the cookies of the codec's name in a `Cookie` header,
    /// in order, as sent (no quote stripping, no percent-decoding): the
    /// candidates [`try_read_at`](Self::try_read_at) tries, at most 16.
    ///
    /// Names are compared byte for byte after trimming only SP and HTAB
    /// (RFC 6265), so `"\u{2000}__Host-sid"`, a cookie anyone may set, is
    /// never taken for `__Host-sid`.
    ///
    /// ```
    /// use cookie_session::{Key, Keyring, SessionCodec};
    ///
    /// let codec = SessionCodec::builder("sid", Keyring::new(Key::generate())).build()?;
    /// let values: Vec<_> = codec.cookie_values("a=1; sid=x; sidx=2;\tsid=y").collect();
    /// assert_eq!(values, ["x", "y"]);
    /// assert_eq!(codec.cookie_values("\u{2000}sid=x; sid\u{a0}=y").count(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn cookie_values<'h>(
        &'h self,
        cookie_header: &'h str,
    ) -> impl Iterator<Item = &'h str> + 'h {
        values_named(cookie_header, self.name())
    }

    /// The `Set-Cookie` header value for `session` after a request, now; see
    /// [`save_at`](Self::save_at).
    pub fn save(&self, session: &Session) -> Result<Option<String>, EncodeError> {
        self.save_at(session, OffsetDateTime::now_utc())
    }

    /// The `Set-Cookie` header value for `session` after a request:
    ///
    /// - destroyed: a header that deletes the cookie (empty value,
    ///   `Max-Age=0`, `Expires` at the Unix epoch);
    /// - dirty: the new cookie, issued at `now`;
    /// - otherwise `None`: send no header.
    ///
    /// ```
    /// use cookie_session::{Key, Keyring, Session, SessionCodec};
    /// use time::OffsetDateTime;
    ///
    /// let codec = SessionCodec::builder("sid", Keyring::new(Key::generate())).build()?;
    /// let now = OffsetDateTime::now_utc();
    /// let mut s = Session::new();
    /// assert_eq!(codec.save_at(&s, now)?, None);
    /// s.set("a", 1)?;
    /// assert!(codec.save_at(&s, now)?.unwrap().starts_with("sid="));
    /// s.destroy();
    /// let gone = codec.save_at(&s, now)?.unwrap();
    /// assert!(gone.starts_with("sid=;") && gone.contains("Max-Age=0"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// A cookie cannot revoke an older copy of itself: if
    /// [`session.delete_id()`](Session::delete_id) is set, that id's
    /// cookies still verify until they expire. Deny-list it with
    /// [`revoked_when`](SessionCodecBuilder::revoked_when) if that matters
    /// to you.
    pub fn save_at(
        &self,
        session: &Session,
        now: OffsetDateTime,
    ) -> Result<Option<String>, EncodeError> {
        if session.is_destroyed() {
            return Ok(Some(self.inner.attrs.removal()));
        }
        if !session.is_dirty() {
            return Ok(None);
        }
        let mut value = String::new();
        let expires_at = self.encode_into_at(session, now, &mut value)?;
        let left = i128::from(expires_at) - i128::from(now.unix_timestamp());
        let left = Duration::seconds(i64::try_from(left).unwrap_or(i64::MAX));
        Ok(Some(self.inner.attrs.set_cookie(&value, left)))
    }

    /// Signs arbitrary bytes as if they were a v1 payload, with the primary
    /// key: for fuzzing and for test vectors of what happens behind the
    /// tag. Not part of the stable API; a payload that breaks the format
    /// makes a cookie that fails to decode with [`DecodeError::Payload`].
    #[doc(hidden)]
    pub fn sign_raw_payload(
        &self,
        payload: &[u8],
        issued_at: u64,
        expires_at: u64,
        created_at: u64,
    ) -> String {
        let mut bin = vec![0u8; HEADER_LEN];
        let (key_id, signer) = &self.inner.signers[0];
        let times = Times {
            issued_at,
            expires_at,
            created_at,
        };
        format::write_header(&mut bin, format::VERSION, *key_id, times);
        bin.extend_from_slice(payload);
        let tag = signer.tag(&bin);
        bin.extend_from_slice(&tag);
        URL_SAFE_NO_PAD.encode(&bin)
    }

    /// Encrypts arbitrary bytes as if they were a v2 payload, with the
    /// primary key and the given nonce: the v2 counterpart of
    /// [`sign_raw_payload`](Self::sign_raw_payload), for fuzzing and test
    /// vectors. Not part of the stable API.
    #[cfg(feature = "encrypt")]
    #[doc(hidden)]
    pub fn seal_raw_payload(
        &self,
        payload: &[u8],
        issued_at: u64,
        expires_at: u64,
        created_at: u64,
        nonce: [u8; 24],
    ) -> String {
        let mut bin = vec![0u8; sealed::CIPHERTEXT_AT];
        let times = Times {
            issued_at,
            expires_at,
            created_at,
        };
        format::write_header(&mut bin, VERSION_ENCRYPTED, self.inner.signers[0].0, times);
        bin[HEADER_LEN..].copy_from_slice(&nonce);
        bin.extend_from_slice(payload);
        bin.extend_from_slice(&[0u8; sealed::TAG_LEN]);
        self.inner.sealers[0].seal(&mut bin);
        URL_SAFE_NO_PAD.encode(&bin)
    }

    /// The `Set-Cookie` header value that deletes the session cookie.
    pub fn removal(&self) -> String {
        self.inner.attrs.removal()
    }
}

impl fmt::Debug for SessionCodec {
    /// Shows the configuration and the key ids, never key material.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.inner;
        f.debug_struct("SessionCodec")
            .field("attributes", &inner.attrs)
            .field("max_age", &inner.max_age)
            .field("max_lifetime", &inner.max_lifetime)
            .field("refresh_after", &inner.refresh_after)
            .field("revoked_when", &inner.revoked)
            .field("max_size", &inner.max_size)
            .field("version", &self.version())
            .field(
                "key_ids",
                &inner.signers.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::Key;

    #[test]
    fn every_key_of_a_large_ring_is_found_and_unknown_keys_are_not() {
        let keys: Vec<Key> = (0..64).map(|_| Key::generate()).collect();
        let mut ring = Keyring::new(keys[0].clone());
        for k in &keys[1..] {
            ring = ring.with_fallback(k.clone()).unwrap();
        }
        let codec = SessionCodec::builder("sid", ring).build().unwrap();
        let now = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        for (i, k) in keys.iter().enumerate() {
            let one = SessionCodec::builder("sid", Keyring::new(k.clone()))
                .build()
                .unwrap();
            let value = one.encode_at(&Session::with_id("x"), now).unwrap();
            let v = codec.verify_at(&value, now).unwrap();
            assert_eq!(v.key_id, k.id());
            assert_eq!(v.needs_reissue, i != 0);
            assert_eq!(v.session.is_dirty(), i != 0);
        }
        let stranger = SessionCodec::builder("sid", Keyring::new(Key::generate()))
            .build()
            .unwrap();
        let value = stranger.encode_at(&Session::with_id("x"), now).unwrap();
        assert_eq!(
            codec.decode_at(&value, now).unwrap_err(),
            DecodeError::UnknownKey
        );
    }
}
