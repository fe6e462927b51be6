//! Error types.
//!
//! Every error here is safe to log: none of them carries key material, and
//! none of the decode errors echoes the cookie it was given.

use std::fmt;

/// An error from an operation on a [`Session`](crate::Session) or a
/// [`Value`](crate::Value).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionError {
    /// The session was destroyed; it can no longer be changed.
    ///
    /// Its `Display` is exactly `Session has been destroyed`.
    Destroyed,
    /// The value could not be serialized to CBOR (the serializer's message).
    Serialize(String),
    /// The stored value does not have the shape of the requested type (the
    /// deserializer's message).
    Deserialize(String),
    /// The serialized value breaks a rule of the wire format (nested too
    /// deeply, a CBOR tag such as a 128-bit bignum, a duplicate map key, ...).
    InvalidValue(PayloadError),
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionError::Destroyed => f.write_str("Session has been destroyed"),
            SessionError::Serialize(msg) => write!(f, "value could not be serialized: {msg}"),
            SessionError::Deserialize(msg) => {
                write!(f, "value does not have the requested type: {msg}")
            }
            SessionError::InvalidValue(e) => write!(f, "value not allowed in a session: {e}"),
        }
    }
}

impl std::error::Error for SessionError {}

/// Why a CBOR item was refused, by the strict decoder that reads payloads
/// after their tag has been verified, and by [`Value`](crate::Value)
/// construction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PayloadError {
    /// The input ended inside an item.
    Truncated,
    /// Bytes follow the end of the item.
    TrailingBytes,
    /// Arrays and maps are nested deeper than the limit
    /// ([`MAX_NESTING`](crate::MAX_NESTING) inside a value).
    TooDeep,
    /// A CBOR tag (major type 6): not allowed anywhere.
    Tag,
    /// An indefinite-length string, array or map: not allowed.
    IndefiniteLength,
    /// A map holds the same key twice.
    DuplicateKey,
    /// A text string is not valid UTF-8.
    InvalidUtf8,
    /// An integer or length is not written in its shortest form.
    NonCanonicalHead,
    /// A simple value other than `false`, `true` and `null`, or a reserved
    /// additional-information value.
    UnsupportedSimple,
    /// A map key that is not an integer, a byte string or a text string
    /// (or, at the top level of the session, not a text string).
    BadKeyType,
    /// A length or count larger than the bytes that remain.
    LengthOverflow,
    /// The payload is not `[id, values, flash]` with a text id and two maps.
    Shape,
}

impl fmt::Display for PayloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PayloadError::Truncated => "CBOR item truncated",
            PayloadError::TrailingBytes => "trailing bytes after CBOR item",
            PayloadError::TooDeep => "CBOR nested too deeply",
            PayloadError::Tag => "CBOR tags are not allowed",
            PayloadError::IndefiniteLength => "CBOR indefinite lengths are not allowed",
            PayloadError::DuplicateKey => "duplicate CBOR map key",
            PayloadError::InvalidUtf8 => "CBOR text is not valid UTF-8",
            PayloadError::NonCanonicalHead => "CBOR integer or length not in shortest form",
            PayloadError::UnsupportedSimple => "unsupported CBOR simple value",
            PayloadError::BadKeyType => "unsupported CBOR map key type",
            PayloadError::LengthOverflow => "CBOR length exceeds the input",
            PayloadError::Shape => "payload is not [id, values, flash]",
        })
    }
}

impl std::error::Error for PayloadError {}

/// Why a cookie value did not decode into a session.
///
/// Meant for logs and metrics. A server should answer every one of them the
/// same way (a fresh session, as [`SessionCodec::read`](crate::SessionCodec::read)
/// does). No variant echoes the cookie or reveals a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// `name=value` is longer than the codec's size limit; refused before any
    /// base64 decoding.
    TooLarge {
        /// Length of `name=value` in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// Not a well-formed cookie value.
    Malformed(Malformed),
    /// The version byte is not one this build understands, or is the
    /// format the codec does not write while
    /// [`accept_other_version`](crate::SessionCodecBuilder) is off (the
    /// byte).
    UnsupportedVersion(u8),
    /// The key id is not in the keyring: no MAC was computed.
    UnknownKey,
    /// The tag does not verify (the HMAC of format v1, the AEAD tag of
    /// format v2).
    BadSignature,
    /// The tag verified, but the cookie is outside its validity window.
    Expired(Expiry),
    /// The tag verified, but the CBOR payload breaks the format's rules.
    Payload(PayloadError),
    /// The cookie is valid, but the codec's
    /// [revocation predicate](crate::SessionCodecBuilder::revoked_when)
    /// refused it (logged out everywhere, deny-listed id, ...).
    Revoked,
}

/// Which structural rule a malformed cookie value broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Malformed {
    /// Not strict, canonical, unpadded base64url.
    Base64,
    /// Shorter than the smallest possible value of its version.
    TooShort,
    /// The signed times are inconsistent (created after issued).
    Times,
    /// A Remix or React Router cookie (`remix` feature) whose signed data
    /// is not the JSON of a session.
    Json,
}

/// Which time check rejected a verified cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Expiry {
    /// `now >= expires_at` (the expiry signed into the cookie).
    ExpiresAt,
    /// `now >= issued_at + max_age` with the codec's current `max_age`.
    MaxAge,
    /// `now >= created_at + max_lifetime` with the codec's current
    /// `max_lifetime`.
    MaxLifetime,
    /// `issued_at` is more than the allowed clock skew in the future.
    IssuedInFuture,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::TooLarge { size, limit } => {
                write!(f, "session cookie too large: {size} bytes, limit {limit}")
            }
            DecodeError::Malformed(m) => write!(f, "malformed session cookie: {m}"),
            DecodeError::UnsupportedVersion(v) => {
                write!(f, "unsupported session cookie version {v}")
            }
            DecodeError::UnknownKey => f.write_str("session cookie signed with an unknown key"),
            DecodeError::BadSignature => f.write_str("session cookie signature does not verify"),
            DecodeError::Expired(e) => write!(f, "session cookie expired: {e}"),
            DecodeError::Payload(e) => write!(f, "invalid session payload: {e}"),
            DecodeError::Revoked => f.write_str("session revoked"),
        }
    }
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Malformed::Base64 => "not canonical unpadded base64url",
            Malformed::TooShort => "too short",
            Malformed::Times => "inconsistent times",
            Malformed::Json => "signed data is not a session's JSON",
        })
    }
}

impl fmt::Display for Expiry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Expiry::ExpiresAt => "past its signed expiry",
            Expiry::MaxAge => "older than max_age",
            Expiry::MaxLifetime => "session older than max_lifetime",
            Expiry::IssuedInFuture => "issued in the future",
        })
    }
}

impl std::error::Error for DecodeError {}

impl From<PayloadError> for DecodeError {
    fn from(e: PayloadError) -> Self {
        DecodeError::Payload(e)
    }
}

/// Why a session could not be encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncodeError {
    /// `name=value` would be longer than the limit; nothing was produced.
    TooLarge {
        /// Length `name=value` would have, in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// The session was destroyed: there is nothing to encode (use
    /// [`SessionCodec::save`](crate::SessionCodec::save) to delete the cookie).
    Destroyed,
    /// The clock reads before 1970-01-01T00:00:00Z.
    ClockBeforeEpoch,
    /// The operating system's random number generator failed to give the
    /// nonce of an encrypted cookie (feature `encrypt`).
    Random,
    /// A value has no JSON form, so it cannot be written in a Remix or
    /// React Router cookie: a byte string, or a map key that is neither
    /// text nor an integer. Only the `remix` feature's codecs return it.
    NotJson,
    /// The string given to the `remix` feature's `RemixCodec::serialize_str`
    /// would, once signed, read as a session cookie of a Remix or React
    /// Router session codec using the same secrets; nothing was signed.
    /// Give every cookie its own secrets.
    ReadsAsSession,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::TooLarge { size, limit } => {
                write!(f, "session cookie too large: {size} bytes, limit {limit}")
            }
            EncodeError::Destroyed => f.write_str("Session has been destroyed"),
            EncodeError::ClockBeforeEpoch => f.write_str("clock reads before the Unix epoch"),
            EncodeError::Random => f.write_str("the OS random number generator failed"),
            EncodeError::NotJson => f.write_str("session value has no JSON form"),
            EncodeError::ReadsAsSession => f.write_str(
                "refusing to sign a string that would read as a session cookie; \
                 give each cookie its own secrets",
            ),
        }
    }
}

impl std::error::Error for EncodeError {}

/// Why a key or keyring was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// The secret is shorter than 32 bytes.
    TooShort {
        /// Length given.
        len: usize,
        /// Minimum length.
        min: usize,
    },
    /// The secret uses fewer than 8 distinct byte values, too few to be
    /// random.
    LowEntropy,
    /// The secret is a shorter string repeated, at least twice in full (the
    /// last repetition may be cut short), such as
    /// `changeme-changeme-changeme-changeme`.
    Periodic {
        /// Length of the repeated string, in bytes.
        period: usize,
    },
    /// The secret's estimated entropy is too low for a random key: it is
    /// made of too few symbols, or of runs such as `abcdefgh...`. See
    /// [`Key::from_secret`](crate::Key::from_secret) for the estimate.
    LowEstimatedEntropy {
        /// The estimate, in bits, rounded down.
        bits: u32,
        /// The minimum, in bits.
        min: u32,
    },
    /// Two keys of a keyring have the same key id (most likely the same key
    /// added twice).
    DuplicateKeyId,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::TooShort { len, min } => {
                write!(f, "secret too short: {len} bytes, need at least {min}")
            }
            KeyError::LowEntropy => {
                f.write_str("secret has too few distinct bytes to be a random key")
            }
            KeyError::Periodic { period } => write!(
                f,
                "secret is a {period}-byte string repeated, not a random key"
            ),
            KeyError::LowEstimatedEntropy { bits, min } => write!(
                f,
                "secret looks too predictable to be a random key: about {bits} bits of \
                 estimated entropy, need {min}"
            ),
            KeyError::DuplicateKeyId => f.write_str("keyring already holds a key with this id"),
        }
    }
}

impl std::error::Error for KeyError {}

/// Why a [`SessionCodecBuilder`](crate::SessionCodecBuilder) configuration
/// was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// The cookie name is empty or not an RFC 6265 token.
    InvalidName,
    /// An attribute value holds a character not allowed there (`;`, control
    /// characters, ...). The attribute's name.
    InvalidAttribute(&'static str),
    /// The combination breaks a browser rule (the rule).
    Incompatible(&'static str),
    /// A duration is zero or negative (the setting's name).
    InvalidDuration(&'static str),
    /// The size limit is outside `1..=4096` or too small for the name.
    InvalidSizeLimit,
    /// A codec of the `remix` feature was given no secret, or an empty one
    /// (unsigned session cookies are not supported).
    InvalidSecret,
    /// A codec of the `remix` feature was given more secrets than the limit
    /// (each one costs an HMAC for every cookie that does not verify).
    TooManySecrets {
        /// The most secrets a codec accepts.
        max: usize,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::InvalidName => f.write_str("cookie name is empty or not a token"),
            ConfigError::InvalidAttribute(a) => write!(f, "invalid {a} attribute"),
            ConfigError::Incompatible(rule) => write!(f, "invalid cookie configuration: {rule}"),
            ConfigError::InvalidDuration(d) => write!(f, "{d} must be positive"),
            ConfigError::InvalidSizeLimit => f.write_str("size limit must be in 1..=4096"),
            ConfigError::InvalidSecret => {
                f.write_str("at least one secret is required, and none may be empty")
            }
            ConfigError::TooManySecrets { max } => {
                write!(f, "too many secrets: at most {max} are accepted")
            }
        }
    }
}

impl std::error::Error for ConfigError {}
