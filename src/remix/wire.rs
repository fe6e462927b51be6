//! Byte-level pieces shared by the Remix 3 and React Router formats: the
//! `Cookie` header parsers of each, WHATWG forgiving base64 (`atob`),
//! `decodeURIComponent`, and `value.signature` signing with raw-string
//! secrets.

use base64::Engine as _;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::{DecodePaddingMode, general_purpose};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::error::ConfigError;

/// Standard alphabet, no padding accepted, non-zero trailing bits ignored:
/// the decoding half of `atob` once padding and whitespace are gone.
const FORGIVING: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(true),
);

/// ASCII whitespace as the WHATWG forgiving-base64 algorithm strips it.
fn is_ascii_ws(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | b'\x0c' | b'\r' | b' ')
}

/// `atob`: WHATWG forgiving-base64 decode. Strips ASCII whitespace, accepts
/// missing padding, refuses a length of 1 mod 4 and any character outside
/// the standard alphabet, ignores non-zero trailing bits.
pub(crate) fn atob(input: &str) -> Option<Vec<u8>> {
    let mut s: Vec<u8> = input.bytes().filter(|&b| !is_ascii_ws(b)).collect();
    if s.len() % 4 == 0 {
        if s.ends_with(b"==") {
            s.truncate(s.len() - 2);
        } else if s.ends_with(b"=") {
            s.truncate(s.len() - 1);
        }
    }
    if s.len() % 4 == 1 {
        return None;
    }
    if !s
        .iter()
        .all(|&b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
    {
        return None;
    }
    FORGIVING.decode(&s).ok()
}

/// `btoa` of UTF-8 bytes: padded standard base64.
pub(crate) fn btoa(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// `decodeURIComponent`: every `%` must start a `%XX` escape, and the
/// decoded bytes must be UTF-8 (no overlongs, no surrogates).
pub(crate) fn decode_uri_component(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = |c: u8| (c as char).to_digit(16);
            let hi = b.get(i + 1).copied().and_then(hex)?;
            let lo = b.get(i + 2).copied().and_then(hex)?;
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// `encodeURIComponent` of a signed base64 value: only `+`, `/` and `=` of
/// its alphabet are escaped.
pub(crate) fn encode_signed_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '+' => out.push_str("%2B"),
            '/' => out.push_str("%2F"),
            '=' => out.push_str("%3D"),
            c => out.push(c),
        }
    }
    out
}

/// Length of a signature: unpadded base64 of 32 bytes.
const SIGNATURE_LEN: usize = 43;

/// The keyed HMAC-SHA256 states of the secrets, newest (signing) first.
///
/// The key is the secret's UTF-8 bytes, used as is (WebCrypto `raw`
/// import), as Remix and React Router do.
#[derive(Clone)]
pub(crate) struct Secrets(Vec<Hmac<Sha256>>);

impl Secrets {
    /// The secrets, or why they are refused: none, an empty one, or more
    /// than [`MAX_SECRETS`](super::MAX_SECRETS).
    pub(crate) fn new<I, S>(secrets: I) -> Result<Secrets, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut macs = Vec::new();
        for s in secrets {
            if macs.len() == super::MAX_SECRETS {
                return Err(ConfigError::TooManySecrets {
                    max: super::MAX_SECRETS,
                });
            }
            let s = s.as_ref().as_bytes();
            if s.is_empty() {
                return Err(ConfigError::InvalidSecret);
            }
            macs.push(
                <Hmac<Sha256> as KeyInit>::new_from_slice(s)
                    .expect("HMAC accepts keys of any length"),
            );
        }
        if macs.is_empty() {
            return Err(ConfigError::InvalidSecret);
        }
        Ok(Secrets(macs))
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// `value + "." + unpadded base64(HMAC(first secret, value))`.
    pub(crate) fn sign(&self, value: &str) -> String {
        let mut mac = self.0[0].clone();
        mac.update(value.as_bytes());
        let tag = mac.finalize().into_bytes();
        let mut out = String::with_capacity(value.len() + 1 + SIGNATURE_LEN);
        out.push_str(value);
        out.push('.');
        general_purpose::STANDARD_NO_PAD.encode_string(tag, &mut out);
        out
    }

    /// The signed part of `cookie` if the signature after its last `.`
    /// verifies with any secret, tried in order (constant-time compare).
    ///
    /// The signature must be spelled exactly as [`sign`](Self::sign) (and
    /// the npm packages) write it: 43 characters of standard base64, no
    /// padding, no white space, zero trailing bits. The npm packages decode
    /// it with `atob`, which also accepts a trailing `=`, ASCII white space
    /// anywhere and non-zero trailing bits; those respellings are refused
    /// here. `-` and `_` are refused by both.
    pub(crate) fn unsign<'c>(&self, cookie: &'c str) -> Option<&'c str> {
        let dot = cookie.rfind('.')?;
        let (value, hash) = (&cookie[..dot], &cookie[dot + 1..]);
        if hash.len() != SIGNATURE_LEN {
            return None;
        }
        // Strict: no padding, no white space, canonical trailing bits.
        let tag = general_purpose::STANDARD_NO_PAD.decode(hash).ok()?;
        self.0
            .iter()
            .any(|m| {
                let mut m = m.clone();
                m.update(value.as_bytes());
                m.verify_slice(&tag).is_ok()
            })
            .then_some(value)
    }
}

/// JavaScript's `\s` and `String.prototype.trim` set.
fn js_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202f}'
                | '\u{205f}'
                | '\u{3000}'
                | '\u{feff}'
    )
}

/// Line terminators: what `.` in a JavaScript regex does not match.
fn line_terminator(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}')
}

fn skip_js_space(s: &str, mut i: usize) -> usize {
    while let Some(c) = s[i..].chars().next() {
        if !js_space(c) {
            break;
        }
        i += c.len_utf8();
    }
    i
}

/// The longest `Cookie` header either parser reads: 64 KiB. A longer one
/// is not looked at (no cookie is found in it), so the work and memory of
/// a parse stay bounded whatever a client sends. Browsers send far less,
/// and servers usually refuse headers this long before any handler runs.
pub(crate) const MAX_HEADER_LEN: usize = 64 * 1024;

/// RFC 6265 optional white space: SP and HTAB only. Names are trimmed of
/// nothing else, so a name padded with any other (Unicode) white space,
/// which a browser keeps as a different cookie, never matches.
fn trim_ows(s: &str) -> &str {
    s.trim_matches([' ', '\t'])
}

/// Where the quoted value whose content is `s` ends
/// (`(?:[^"\\]|\\.)*"`): the offset of its closing quote, if any. A
/// backslash escapes the next character unless that is a line terminator
/// (which `.` does not match), and a backslash at the end closes nothing.
fn closing_quote(s: &str) -> Option<usize> {
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some(i),
            '\\' => match chars.next() {
                Some((_, n)) if !line_terminator(n) => {}
                _ => return None,
            },
            _ => {}
        }
    }
    None
}

/// A value as `parseParams` (`@remix-run/headers`) reads it after the `=`:
/// leading `\s` skipped, then `"quoted"` (closed within this pair) or raw,
/// `\x` unescaped and trimmed.
fn remix_value(raw: &str) -> String {
    let v = &raw[skip_js_space(raw, 0)..];
    if let Some(content) = v.strip_prefix('"') {
        if let Some(close) = closing_quote(content) {
            return unescape_trim(&content[..close]);
        }
    }
    unescape_trim(v)
}

/// `.replace(/\\(.)/g, '$1').trim()`.
fn unescape_trim(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(&n) = chars.peek() {
                if !line_terminator(n) {
                    out.push(n);
                    chars.next();
                    continue;
                }
            }
        }
        out.push(c);
    }
    // `trim` in place: one copy of the value at most.
    out.truncate(out.trim_end_matches(js_space).len());
    let start = out.len() - out.trim_start_matches(js_space).len();
    out.drain(..start);
    out
}

/// The value of the **first** cookie named exactly `name` in a `Cookie`
/// header, with the value rules of the `Cookie` class of
/// `@remix-run/headers`: quoted values unquoted, `\x` unescaped, trimmed,
/// no percent-decoding; a name without `=` has the value `''`.
///
/// Pairs are split on every `;`, as a browser sends them. The name is the
/// text before the pair's first `=`, trimmed of SP and HTAB only, and must
/// equal `name` byte for byte. `@remix-run/headers` trims names of all of
/// JavaScript's `\s`: there `\u{2000}__Host-sid` reads as `__Host-sid`,
/// though a browser holds it as an ordinary cookie that any subdomain may
/// set. Here it is another name. Headers longer than [`MAX_HEADER_LEN`]
/// hold no cookie. Linear time; allocates only the value returned.
pub(crate) fn remix_cookie_value(header: &str, name: &str) -> Option<String> {
    if header.len() > MAX_HEADER_LEN {
        return None;
    }
    for pair in header.split(';') {
        let (pair_name, value) = match pair.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (pair, None),
        };
        if trim_ows(pair_name) == name {
            return Some(value.map_or_else(String::new, remix_value));
        }
    }
    None
}

/// The value of the first cookie named `name` in a `Cookie` header, as
/// `parse` of the npm `cookie` package (1.x, used by React Router) finds
/// it: pairs without `=` are skipped, names and values trimmed of spaces and
/// tabs, values percent-decoded when they hold a `%` and decode (kept as
/// sent otherwise), no unquoting. The trimmed name must equal `name` byte
/// for byte (`valueSlice` trims SP and HTAB only, as [`trim_ows`] does).
/// Headers longer than [`MAX_HEADER_LEN`] hold no cookie.
pub(crate) fn npm_cookie_value(header: &str, name: &str) -> Option<String> {
    let len = header.len();
    if !(2..=MAX_HEADER_LEN).contains(&len) {
        return None;
    }
    let mut index = 0;
    while index < len {
        let eq = index + header[index..].find('=')?;
        let end = header[index..].find(';').map_or(len, |p| index + p);
        if eq > end {
            // Back up to the pair that holds this `=`.
            index = header[..eq].rfind(';').map_or(0, |p| p + 1);
            continue;
        }
        if trim_ows(&header[index..eq]) == name {
            let raw = trim_ows(&header[eq + 1..end]);
            if raw.contains('%') {
                if let Some(decoded) = decode_uri_component(raw) {
                    return Some(decoded);
                }
            }
            return Some(raw.to_owned());
        }
        index = end + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atob_is_forgiving_like_whatwg() {
        assert_eq!(atob("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(atob("aGVsbG8").unwrap(), b"hello");
        assert_eq!(atob(" aGV\nsbG8= ").unwrap(), b"hello");
        assert_eq!(atob("aGVsbG9=").unwrap(), b"hello"); // trailing bits
        assert!(atob("aGVsbG8==").is_none()); // too much padding
        assert!(atob("aGVsb").is_none()); // length 1 mod 4
        assert!(atob("aGV-bG8").is_none()); // URL-safe alphabet
        assert!(atob("aG=Vs").is_none());
        assert_eq!(atob("").unwrap(), b"");
    }

    #[test]
    fn decode_uri_component_is_strict() {
        assert_eq!(decode_uri_component("a%3Db%2F").unwrap(), "a=b/");
        assert_eq!(decode_uri_component("%E6%97%A5").unwrap(), "日");
        assert!(decode_uri_component("%E6%97").is_none());
        assert!(decode_uri_component("%zz").is_none());
        assert!(decode_uri_component("%4").is_none());
        assert!(decode_uri_component("%ED%A0%80").is_none()); // surrogate
    }

    #[test]
    fn remix_header_rules() {
        let h = "a=1; sess=\"q\\\"v\"; b ; c=  x y ;sess=second";
        assert_eq!(remix_cookie_value(h, "a").as_deref(), Some("1"));
        assert_eq!(remix_cookie_value(h, "sess").as_deref(), Some("q\"v"));
        assert_eq!(remix_cookie_value(h, "b").as_deref(), Some(""));
        assert_eq!(remix_cookie_value(h, "c").as_deref(), Some("x y"));
        assert_eq!(remix_cookie_value(h, "d"), None);
        assert_eq!(remix_cookie_value("x=a\\b", "x").as_deref(), Some("ab"));
        assert_eq!(remix_cookie_value(";x=1", "x").as_deref(), Some("1"));
        assert_eq!(
            remix_cookie_value("x=\"open", "x").as_deref(),
            Some("\"open")
        );
        assert_eq!(remix_cookie_value("=x; y=2", "y").as_deref(), Some("2"));
        assert_eq!(remix_cookie_value("x a=1; a=2", "a").as_deref(), Some("2"));
        assert_eq!(remix_cookie_value("x=%41", "x").as_deref(), Some("%41"));
    }

    #[test]
    fn quoted_values_close_within_their_pair() {
        assert_eq!(closing_quote("ab\"c"), Some(2));
        assert_eq!(closing_quote("a\\\"b\"c"), Some(4));
        assert_eq!(closing_quote("a\\\n\""), None); // `\.` does not match a newline
        assert_eq!(closing_quote("a\\\u{2028}\""), None);
        assert_eq!(closing_quote("a\\"), None);
        assert_eq!(closing_quote("open"), None);
        // A `;` inside quotes ends the pair: the browser's split wins.
        assert_eq!(
            remix_cookie_value("x=\"a;b\"; y=1", "x").as_deref(),
            Some("\"a")
        );
        assert_eq!(
            remix_cookie_value("x=\"a;b\"; y=1", "y").as_deref(),
            Some("1")
        );
    }

    #[test]
    fn names_are_trimmed_of_sp_and_htab_only() {
        assert_eq!(remix_cookie_value(" \tx \t= 1", "x").as_deref(), Some("1"));
        assert_eq!(npm_cookie_value(" \tx \t= 1", "x").as_deref(), Some("1"));
        for spoof in [
            "\u{2000}x=1",
            "x\u{a0}=1",
            "\nx=1",
            "\u{feff}x=1",
            "x\u{3000}",
        ] {
            assert_eq!(remix_cookie_value(spoof, "x"), None, "{spoof:?}");
            assert_eq!(npm_cookie_value(spoof, "x"), None, "{spoof:?}");
        }
        let long = format!("x=1; y={}", "a".repeat(MAX_HEADER_LEN));
        assert_eq!(remix_cookie_value(&long, "x"), None);
        assert_eq!(npm_cookie_value(&long, "x"), None);
        let edge = format!("x=1; y={}", "a".repeat(MAX_HEADER_LEN - 7));
        assert_eq!(edge.len(), MAX_HEADER_LEN);
        assert_eq!(remix_cookie_value(&edge, "x").as_deref(), Some("1"));
        assert_eq!(npm_cookie_value(&edge, "x").as_deref(), Some("1"));
    }

    #[test]
    fn npm_cookie_rules() {
        let h = "a=1; s=%41%3D; s=second; b; c = \" q \" ";
        assert_eq!(npm_cookie_value(h, "s").as_deref(), Some("A="));
        assert_eq!(npm_cookie_value(h, "c").as_deref(), Some("\" q \""));
        assert_eq!(npm_cookie_value("b; a=1", "b"), None);
        assert_eq!(npm_cookie_value("b; a=1", "a").as_deref(), Some("1"));
        assert_eq!(npm_cookie_value("x=%zz", "x").as_deref(), Some("%zz"));
        assert_eq!(npm_cookie_value("x", "x"), None);
    }

    #[test]
    fn sign_and_unsign_with_rotation() {
        let one = Secrets::new(["secret1"]).unwrap();
        let signed = one.sign("aGVsbG8gbWljaGFlbA==");
        assert_eq!(
            signed,
            "aGVsbG8gbWljaGFlbA==.l0AO5zb2EYpis03IWkyVTe1yo8hsSc7crMvLqdOsfg0"
        );
        assert_eq!(one.unsign(&signed), Some("aGVsbG8gbWljaGFlbA=="));
        let two = Secrets::new(["secret2", "secret1"]).unwrap();
        assert_eq!(two.unsign(&signed), Some("aGVsbG8gbWljaGFlbA=="));
        assert_eq!(Secrets::new(["secret2"]).unwrap().unsign(&signed), None);
        assert_eq!(one.unsign("no-dot"), None);
        assert_eq!(one.unsign(&format!("{signed}%^&")), None);
        assert_eq!(
            Secrets::new(Vec::<String>::new()).err(),
            Some(ConfigError::InvalidSecret)
        );
        assert_eq!(
            Secrets::new(["a", ""]).err(),
            Some(ConfigError::InvalidSecret)
        );
        assert!(Secrets::new(["s"; super::super::MAX_SECRETS]).is_ok());
        assert_eq!(
            Secrets::new(["s"; super::super::MAX_SECRETS + 1]).err(),
            Some(ConfigError::TooManySecrets {
                max: super::super::MAX_SECRETS
            })
        );
    }
}
