//! Byte-level pieces shared by the Remix 3 and React Router formats: the
//! `Cookie` header parsers of each, WHATWG forgiving base64 (`atob`),
//! `decodeURIComponent`, and `value.signature` signing with raw-string
//! secrets.

use base64::Engine as _;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::{DecodePaddingMode, general_purpose};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

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

/// The keyed HMAC-SHA256 states of the secrets, newest (signing) first.
///
/// The key is the secret's UTF-8 bytes, used as is (WebCrypto `raw`
/// import), as Remix and React Router do.
#[derive(Clone)]
pub(crate) struct Secrets(Vec<Hmac<Sha256>>);

impl Secrets {
    /// `None` if the list is empty or a secret is empty.
    pub(crate) fn new<I, S>(secrets: I) -> Option<Secrets>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut macs = Vec::new();
        for s in secrets {
            let s = s.as_ref().as_bytes();
            if s.is_empty() {
                return None;
            }
            macs.push(
                <Hmac<Sha256> as KeyInit>::new_from_slice(s)
                    .expect("HMAC accepts keys of any length"),
            );
        }
        (!macs.is_empty()).then_some(Secrets(macs))
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// `value + "." + unpadded base64(HMAC(first secret, value))`.
    pub(crate) fn sign(&self, value: &str) -> String {
        let mut mac = self.0[0].clone();
        mac.update(value.as_bytes());
        let tag = mac.finalize().into_bytes();
        let mut out = String::with_capacity(value.len() + 44);
        out.push_str(value);
        out.push('.');
        general_purpose::STANDARD_NO_PAD.encode_string(tag, &mut out);
        out
    }

    /// The signed part of `cookie` if the signature after its last `.`
    /// verifies with any secret, tried in order (constant-time compare).
    pub(crate) fn unsign<'c>(&self, cookie: &'c str) -> Option<&'c str> {
        let dot = cookie.rfind('.')?;
        let (value, hash) = (&cookie[..dot], &cookie[dot + 1..]);
        let tag = atob(hash)?;
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

/// No closing quote: the quoted alternative fails.
const NO_CLOSE: usize = usize::MAX;

/// For each byte offset `i` that starts a character: where a quoted value
/// whose content starts at `i` ends (`(?:[^"\\]|\\.)*"`), the offset of its
/// closing quote, or [`NO_CLOSE`]. One pass from the right, so parsing a
/// header stays linear however many quotes it opens.
fn closing_quotes(s: &str) -> Vec<usize> {
    let mut out = vec![NO_CLOSE; s.len() + 1];
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    // `at(k)`: the result for the k-th character (k == len: end of input).
    let mut by_char = vec![NO_CLOSE; chars.len() + 2];
    for k in (0..chars.len()).rev() {
        let (pos, c) = chars[k];
        by_char[k] = match c {
            '"' => pos,
            '\\' => match chars.get(k + 1) {
                Some(&(_, n)) if !line_terminator(n) => by_char[k + 2],
                _ => NO_CLOSE,
            },
            _ => by_char[k + 1],
        };
        out[pos] = by_char[k];
    }
    out
}

/// One pair matched by the Remix headers parser, and where the match ends.
struct RemixPair<'a> {
    name: &'a str,
    value: String,
    end: usize,
}

/// Tries the pattern of `parseParams` (`@remix-run/headers`) after its
/// leading `(?:^|;)`, at byte `i`:
/// `\s*([^=;\s]+)(\s*=\s*(?:"((?:[^"\\]|\\.)*)"|((?:[^;]|\\;)+))?)?`.
fn remix_match_at<'s>(s: &'s str, closes: &[usize], i: usize) -> Option<RemixPair<'s>> {
    let start = skip_js_space(s, i);
    let mut k = start;
    while let Some(c) = s[k..].chars().next() {
        if c == '=' || c == ';' || js_space(c) {
            break;
        }
        k += c.len_utf8();
    }
    if k == start {
        return None;
    }
    let name = &s[start..k];
    let after_ws = skip_js_space(s, k);
    if !s[after_ws..].starts_with('=') {
        // No `=value` group: the value is `undefined`, stored as ''.
        return Some(RemixPair {
            name,
            value: String::new(),
            end: k,
        });
    }
    let v = skip_js_space(s, after_ws + 1);
    // Quoted alternative.
    if s[v..].starts_with('"') {
        if let Some(&close) = closes.get(v + 1).filter(|&&c| c != NO_CLOSE) {
            return Some(RemixPair {
                name,
                value: unescape_trim(&s[v + 1..close]),
                end: close + 1,
            });
        }
    }
    // Raw alternative: everything up to the next `;` (possibly nothing).
    let end = s[v..].find(';').map_or(s.len(), |p| v + p);
    Some(RemixPair {
        name,
        value: unescape_trim(&s[v..end]),
        end,
    })
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
    out.trim_matches(js_space).to_owned()
}

/// The value of the **first** cookie named `name` in a `Cookie` header, as
/// the `Cookie` class of `@remix-run/headers` parses it: quoted values
/// unquoted, `\x` unescaped, trimmed, no percent-decoding; a name without
/// `=` has the value `''`.
pub(crate) fn remix_cookie_value(header: &str, name: &str) -> Option<String> {
    // The pattern starts at the beginning of the input or at a `;`; after a
    // match, the search resumes where it ended.
    let closes = if header.contains('"') {
        closing_quotes(header)
    } else {
        Vec::new()
    };
    let mut from = 0;
    let mut first = true;
    loop {
        let candidate = if first {
            first = false;
            remix_match_at(header, &closes, 0).or_else(|| {
                header
                    .starts_with(';')
                    .then(|| remix_match_at(header, &closes, 1))
                    .flatten()
            })
        } else {
            let semi = from + header[from..].find(';')?;
            from = semi + 1;
            remix_match_at(header, &closes, semi + 1)
        };
        if let Some(pair) = candidate {
            if pair.name == name {
                return Some(pair.value);
            }
            from = pair.end;
        }
    }
}

/// `valueSlice` of the npm `cookie` package: trims spaces and tabs only.
fn trim_sp_tab(s: &str) -> &str {
    s.trim_matches([' ', '\t'])
}

/// The value of the first cookie named `name` in a `Cookie` header, as
/// `parse` of the npm `cookie` package (1.x, used by React Router) finds
/// it: pairs without `=` are skipped, names and values trimmed of spaces and
/// tabs, values percent-decoded when they hold a `%` and decode (kept as
/// sent otherwise), no unquoting.
pub(crate) fn npm_cookie_value(header: &str, name: &str) -> Option<String> {
    let len = header.len();
    if len < 2 {
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
        if trim_sp_tab(&header[index..eq]) == name {
            let raw = trim_sp_tab(&header[eq + 1..end]);
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

    /// The quoted-value rule scanned directly, for comparison.
    fn direct_close(s: &str, from: usize) -> usize {
        let mut j = from;
        let mut chars = s[from..].chars();
        while let Some(c) = chars.next() {
            match c {
                '"' => return j,
                '\\' => match chars.next() {
                    Some(n) if !line_terminator(n) => j += 1 + n.len_utf8(),
                    _ => return NO_CLOSE,
                },
                c => j += c.len_utf8(),
            }
        }
        NO_CLOSE
    }

    #[test]
    fn closing_quotes_agree_with_a_direct_scan() {
        let alphabet = ['"', '\\', 'a', ';', '\n', '\u{2028}', 'é', ' '];
        let mut seed = 7u64;
        for _ in 0..2000 {
            let len = (seed % 24) as usize;
            let s: String = (0..len)
                .map(|_| {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    alphabet[(seed >> 33) as usize % alphabet.len()]
                })
                .collect();
            let closes = closing_quotes(&s);
            for (i, _) in s.char_indices() {
                assert_eq!(closes[i], direct_close(&s, i), "{s:?} at {i}");
            }
        }
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
        assert!(Secrets::new(Vec::<String>::new()).is_none());
        assert!(Secrets::new(["a", ""]).is_none());
    }
}
