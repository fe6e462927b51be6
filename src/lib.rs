//! Stateless web sessions kept entirely in one signed cookie.
//!
//! - [`Session`]: typed values, request-scoped flash, dirty tracking,
//!   destroy and id regeneration, with the behaviour of the Remix 3
//!   `Session` class.
//! - [`SessionCodec`]: turns a session into a cookie value and back. The
//!   value is a CBOR payload with its id, values and flash, the times that
//!   bound its validity, and an HMAC-SHA256 tag over all of it and the cookie
//!   name, in unpadded base64url. It reads the `Cookie` header and writes the
//!   `Set-Cookie` header too, so it works with any framework that hands you
//!   the one and sends the other.
//! - [`Key`] and [`Keyring`]: keys derived from secrets with HKDF, each named
//!   in the cookie by a [`KeyId`], with rotation: the primary key signs,
//!   fallback keys still verify, and cookies they signed are re-issued.
//!
//! **Signed is not encrypted**: by default the client can read everything
//! in the session (it cannot change it). With the `encrypt` feature and
//! `SessionCodecBuilder::encrypt`, the payload is encrypted too (format
//! v2, XChaCha20-Poly1305): confidential and authenticated; the cookie's
//! size, its times and its key id stay visible.
//!
//! ```
//! use cookie_session::{Key, Keyring, SessionCodec};
//!
//! // A secret of 32+ random bytes, e.g. from `Key::generate_secret()`, kept
//! // in your secret store and handed to the process in the environment.
//! let secret = std::env::var("SESSION_SECRET")
//!     .unwrap_or_else(|_| "xG4Yt0oW3H1vD9nC6bR2aQ8zL5mK7jP0sE4uF1iT3yN".into());
//! let key = Key::from_secret(secret.as_bytes())?;
//! let codec = SessionCodec::builder("__Host-session", Keyring::new(key)).build()?;
//!
//! // In a request handler:
//! let cookie_header: Option<&str> = None; // from the request
//! let mut session = codec.read(cookie_header);
//! let visits: u32 = session.get("visits")?.unwrap_or(0);
//! session.set("visits", visits + 1)?;
//! if let Some(set_cookie) = codec.save(&session)? {
//!     // add `Set-Cookie: {set_cookie}` to the response
//!     assert!(set_cookie.starts_with("__Host-session="));
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The signed value is readable by anyone who has it:
//!
//! ```
//! use base64::Engine as _;
//! use cookie_session::{Key, Keyring, Session, SessionCodec};
//!
//! let codec = SessionCodec::builder("sid", Keyring::new(Key::generate())).build()?;
//! let mut session = Session::new();
//! session.set("email", "alice@example.com")?;
//! let value = codec.encode(&session)?;
//!
//! // No key needed to read it:
//! let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&value)?;
//! assert!(bytes.windows(17).any(|w| w == b"alice@example.com"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Optional features
//!
//! All off by default.
//!
//! - `http`: `SessionCodec::read_headers` and `SessionCodec::save_to_headers`
//!   work on an `http::HeaderMap` (all `Cookie` headers, HTTP/1 and HTTP/2
//!   style; other `Set-Cookie` headers left alone).
//! - `tower`: `SessionLayer`, a middleware that loads the session before the
//!   handler, hands it over as a `SessionHandle` and writes `Set-Cookie`
//!   only when the session changed. Implies `http`.
//! - `axum`: `SessionHandle` is an axum extractor. Implies `tower`.
//! - `actix`: the `actix` module: `SessionMiddleware`, the
//!   same middleware for actix-web 4, and `SessionHandle` as an actix-web
//!   extractor. Independent of `http` and `tower`.
//! - `cli`: the `cookie-session` command-line tool.
//! - `remix`: read and write the session cookies of Remix and React
//!   Router, and migrate them to this crate's format.
//! - `encrypt`: format v2, encrypted cookies
//!   (`SessionCodecBuilder::encrypt`); adds `chacha20poly1305`. Codecs
//!   built with it read both formats.
//! - `tower-sessions`: `tower_sessions::TowerSessionsLayer` gives handlers
//!   a `tower_sessions_core::Session` (0.14, what `axum-login` 0.18 and
//!   `axum-messages` use) kept in this crate's cookie. Implies `tower`.
//!
//! The wire format is specified in `docs/FORMAT.md`, with test vectors in
//! `tests/vectors/`.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(feature = "actix")]
pub mod actix;
#[cfg(any(feature = "tower", feature = "actix"))]
mod adapter;
mod cbor;
mod codec;
mod cookie;
mod cookie_codec;
mod error;
mod format;
#[cfg(any(feature = "tower", feature = "actix"))]
mod handle;
#[cfg(feature = "http")]
mod http;
mod key;
#[cfg(feature = "tower")]
mod middleware;
#[cfg(feature = "encrypt")]
mod sealed;
mod session;
mod value;

#[cfg(feature = "remix")]
pub mod remix;
#[cfg(feature = "tower-sessions")]
pub mod tower_sessions;

/// The `time` crate, whose `Duration` and `OffsetDateTime` this crate's API
/// takes: use it as `cookie_session::time` without a dependency of your own.
pub use time;

pub use cbor::MAX_NESTING;
pub use codec::{
    DEFAULT_MAX_AGE, MAX_CLOCK_SKEW, MAX_COOKIE_SIZE, Reissue, SessionCodec, SessionCodecBuilder,
    Verified,
};
pub use cookie::SameSite;
pub use cookie_codec::CookieCodec;
pub use error::{
    ConfigError, DecodeError, EncodeError, Expiry, KeyError, Malformed, PayloadError, SessionError,
};
pub use format::VERSION;
#[doc(hidden)]
pub use key::estimated_bits as __estimated_secret_bits;
pub use key::{Key, KeyId, Keyring, MIN_SECRET_LEN};
#[cfg(feature = "encrypt")]
pub use sealed::VERSION_ENCRYPTED;
pub use session::{Session, SessionData, ValueMap, generate_id};
pub use value::Value;

#[cfg(feature = "http")]
pub use self::http::vary_cookie;
#[cfg(feature = "actix")]
pub use actix::{MissingSessionMiddleware, SessionMiddleware, SessionMiddlewareService};
#[cfg(any(feature = "tower", feature = "actix"))]
pub use adapter::OnSaveError;
#[cfg(any(feature = "tower", feature = "actix"))]
pub use handle::SessionHandle;
#[cfg(feature = "axum")]
pub use middleware::MissingSessionLayer;
#[cfg(feature = "tower")]
pub use middleware::{SessionLayer, SessionService};
