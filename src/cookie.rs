//! Reading the `Cookie` header and writing `Set-Cookie`, through the
//! `cookie` crate.

use std::borrow::Cow;

use cookie::Cookie;
use time::{Duration, OffsetDateTime};

use crate::error::ConfigError;

/// The `SameSite` attribute of the session cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameSite {
    /// `SameSite=Strict`: never sent on cross-site requests.
    Strict,
    /// `SameSite=Lax` (the default): sent on top-level cross-site
    /// navigations, not on cross-site subresource requests.
    Lax,
    /// `SameSite=None`: sent everywhere; requires `Secure`.
    None,
}

/// The attributes of the `Set-Cookie` header, checked once at build time.
#[derive(Debug, Clone)]
pub(crate) struct Attributes {
    pub name: String,
    pub domain: Option<String>,
    pub path: String,
    pub same_site: Option<SameSite>,
    pub secure: bool,
    pub http_only: bool,
    pub partitioned: bool,
    /// Send `Max-Age`; otherwise the cookie lasts until the browser closes.
    pub persistent: bool,
}

impl Default for Attributes {
    fn default() -> Self {
        Attributes {
            name: String::new(),
            domain: None,
            path: "/".into(),
            same_site: Some(SameSite::Lax),
            secure: true,
            http_only: true,
            partitioned: false,
            persistent: true,
        }
    }
}

/// The builder methods that set [`Attributes`], shared by every codec
/// builder (each has an `attrs: Attributes` field).
macro_rules! attribute_setters {
    () => {
        /// The `Domain` attribute; none by default (host-only cookie).
        pub fn domain(mut self, domain: impl Into<String>) -> Self {
            self.attrs.domain = Some(domain.into());
            self
        }

        /// The `Path` attribute; `/` by default.
        pub fn path(mut self, path: impl Into<String>) -> Self {
            self.attrs.path = path.into();
            self
        }

        /// The `SameSite` attribute; `Some(SameSite::Lax)` by default, `None`
        /// omits it.
        pub fn same_site(mut self, same_site: impl Into<Option<$crate::SameSite>>) -> Self {
            self.attrs.same_site = same_site.into();
            self
        }

        /// The `Secure` attribute; on by default. Browsers accept `Secure`
        /// cookies from `http://localhost` too.
        pub fn secure(mut self, secure: bool) -> Self {
            self.attrs.secure = secure;
            self
        }

        /// The `HttpOnly` attribute; on by default.
        pub fn http_only(mut self, http_only: bool) -> Self {
            self.attrs.http_only = http_only;
            self
        }

        /// The `Partitioned` attribute (CHIPS); off by default. Needs `Secure`.
        pub fn partitioned(mut self, partitioned: bool) -> Self {
            self.attrs.partitioned = partitioned;
            self
        }
    };
}
pub(crate) use attribute_setters;

/// RFC 6265 `token`: visible ASCII except separators.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|b| {
            b.is_ascii_graphic()
                && !matches!(
                    b,
                    b'(' | b')'
                        | b'<'
                        | b'>'
                        | b'@'
                        | b','
                        | b';'
                        | b':'
                        | b'\\'
                        | b'"'
                        | b'/'
                        | b'['
                        | b']'
                        | b'?'
                        | b'='
                        | b'{'
                        | b'}'
                )
        })
}

/// An attribute value: visible ASCII or space, no `;`.
fn is_attr_value(s: &str) -> bool {
    s.bytes()
        .all(|b| (b.is_ascii_graphic() || b == b' ') && b != b';')
}

impl Attributes {
    /// Checks the name, the attribute values and the browser rules:
    /// `SameSite=None` and `Partitioned` need `Secure`; the `__Secure-`
    /// prefix needs `Secure`; `__Host-` needs `Secure`, `Path=/` and no
    /// `Domain`.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if !is_token(&self.name) {
            return Err(ConfigError::InvalidName);
        }
        if self
            .domain
            .as_deref()
            .is_some_and(|d| d.is_empty() || !is_attr_value(d))
        {
            return Err(ConfigError::InvalidAttribute("Domain"));
        }
        if !self.path.starts_with('/') || !is_attr_value(&self.path) {
            return Err(ConfigError::InvalidAttribute("Path"));
        }
        if self.same_site == Some(SameSite::None) && !self.secure {
            return Err(ConfigError::Incompatible("SameSite=None requires Secure"));
        }
        if self.partitioned && !self.secure {
            return Err(ConfigError::Incompatible("Partitioned requires Secure"));
        }
        let lower = self.name.to_ascii_lowercase();
        if lower.starts_with("__secure-") && !self.secure {
            return Err(ConfigError::Incompatible(
                "the __Secure- prefix requires Secure",
            ));
        }
        if lower.starts_with("__host-")
            && (!self.secure || self.path != "/" || self.domain.is_some())
        {
            return Err(ConfigError::Incompatible(
                "the __Host- prefix requires Secure, Path=/ and no Domain",
            ));
        }
        Ok(())
    }

    fn cookie<'a>(&'a self, value: &'a str) -> Cookie<'a> {
        let mut c = Cookie::new(Cow::Borrowed(self.name.as_str()), Cow::Borrowed(value));
        c.set_path(Cow::Borrowed(self.path.as_str()));
        if let Some(d) = &self.domain {
            c.set_domain(Cow::Borrowed(d.as_str()));
        }
        c.set_same_site(self.same_site.map(|s| match s {
            SameSite::Strict => cookie::SameSite::Strict,
            SameSite::Lax => cookie::SameSite::Lax,
            SameSite::None => cookie::SameSite::None,
        }));
        c.set_secure(self.secure.then_some(true));
        c.set_http_only(self.http_only.then_some(true));
        c.set_partitioned(self.partitioned.then_some(true));
        c
    }

    /// `Set-Cookie` value carrying `value`, valid for `max_age` if the
    /// cookie is persistent.
    pub(crate) fn set_cookie(&self, value: &str, max_age: Duration) -> String {
        let mut c = self.cookie(value);
        if self.persistent {
            c.set_max_age(max_age.max(Duration::ZERO));
        }
        c.to_string()
    }

    /// `Set-Cookie` value that deletes the cookie: empty value, `Max-Age=0`
    /// and an `Expires` at the Unix epoch, with the same `Path` and `Domain`
    /// so the browser matches it.
    pub(crate) fn removal(&self) -> String {
        let mut c = self.cookie("");
        c.set_max_age(Duration::ZERO);
        c.set_expires(OffsetDateTime::UNIX_EPOCH);
        c.to_string()
    }
}

/// How many cookies of the session's name one `Cookie` header may offer
/// before the rest are ignored. Each costs at most one HMAC.
pub(crate) const MAX_CANDIDATES: usize = 16;

/// RFC 6265's optional white space: SP and HTAB, nothing else.
const OWS: [char; 2] = [' ', '\t'];

/// The values of the cookies named `name` in a `Cookie` header, in order,
/// at most [`MAX_CANDIDATES`]. The value is taken as sent: no quote
/// stripping, no percent-decoding.
///
/// The header is parsed as an attacker writes it: split on `;`, only SP and
/// HTAB trimmed around each name and value (RFC 6265 OWS), and the name
/// compared byte for byte. The `cookie` crate's parser trims Unicode white
/// space (`str::trim`), which would let a cookie named `"\u{2000}__Host-sid"`,
/// one that any sibling subdomain or plain-http page may set, pass for the
/// `__Host-sid` cookie that only this host can set.
pub(crate) fn values_named<'h>(header: &'h str, name: &'h str) -> impl Iterator<Item = &'h str> {
    header
        .split(';')
        .filter_map(move |pair| {
            let (n, v) = pair.split_once('=')?;
            (n.trim_matches(OWS) == name).then(|| v.trim_matches(OWS))
        })
        .take(MAX_CANDIDATES)
}

/// Whether a `Vary` header value already lists `Cookie` (or `*`).
#[cfg(any(feature = "http", feature = "actix"))]
pub(crate) fn varies_on_cookie(vary: &[u8]) -> bool {
    vary.split(|&b| b == b',').any(|t| {
        let t = t.trim_ascii();
        t == b"*" || t.eq_ignore_ascii_case(b"cookie")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(name: &str) -> Attributes {
        Attributes {
            name: name.into(),
            ..Attributes::default()
        }
    }

    #[test]
    fn defaults_render_path_httponly_samesite_secure() {
        let s = attrs("sid").set_cookie("v", Duration::seconds(60));
        assert_eq!(
            s,
            "sid=v; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=60"
        );
    }

    #[test]
    fn removal_really_deletes() {
        let s = attrs("sid").removal();
        assert!(s.starts_with("sid=;"), "{s}");
        assert!(s.contains("Max-Age=0"), "{s}");
        assert!(s.contains("Expires=Thu, 01 Jan 1970 00:00:00 GMT"), "{s}");
        assert!(s.contains("Path=/"), "{s}");
    }

    #[test]
    fn prefixes_and_browser_rules_are_checked() {
        assert!(attrs("__Host-s").validate().is_ok());
        let mut a = attrs("__Host-s");
        a.path = "/app".into();
        assert!(a.validate().is_err());
        let mut a = attrs("__Secure-s");
        a.secure = false;
        assert!(a.validate().is_err());
        let mut a = attrs("s");
        a.secure = false;
        a.same_site = Some(SameSite::None);
        assert!(a.validate().is_err());
        for bad in ["", "a b", "a;b", "a=b", "é"] {
            assert_eq!(
                attrs(bad).validate(),
                Err(ConfigError::InvalidName),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn names_and_values_are_trimmed_of_sp_and_htab_only() {
        let cases: [(&str, &[&str]); 7] = [
            ("sid=1", &["1"]),
            (" sid=1 ; sid = 2;sid\t=3;\tsid=4\t", &["1", "2", "3", "4"]),
            ("sidx=1; xsid=2; sid=3; sid", &["3"]),
            ("sid; sid=; =sid; sid==x; sid=\"q\"", &["", "=x", "\"q\""]),
            ("a=1;;; ;sid=\u{e9}; sid=a b", &["\u{e9}", "a b"]),
            ("SID=1; sid=2", &["2"]),
            (
                "\u{2000}sid=1; sid\u{a0}=2; \u{feff}sid=3; sid\n=4; sid=5\u{3000}",
                &["5\u{3000}"],
            ),
        ];
        for (h, want) in cases {
            let got: Vec<&str> = values_named(h, "sid").collect();
            assert_eq!(got, want, "{h:?}");
        }
    }

    #[test]
    fn finds_every_cookie_of_the_name_in_order() {
        let h = "a=1; sid=first; b=2;sid=second; sid=\"q\"";
        let v: Vec<_> = values_named(h, "sid").collect();
        assert_eq!(v, ["first", "second", "\"q\""]);
        assert_eq!(values_named(h, "SID").count(), 0);
        let many = "sid=x; ".repeat(100);
        assert_eq!(values_named(&many, "sid").count(), MAX_CANDIDATES);
    }
}
