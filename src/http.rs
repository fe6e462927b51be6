//! Interoperability with the [`http`] crate's [`HeaderMap`] (feature `http`).
//!
//! [`SessionCodec::read_headers`] reads the session from every `Cookie`
//! header of a request: HTTP/1.1 sends one, HTTP/2 and HTTP/3 may split the
//! cookies over several `cookie` fields, and both are handled alike.
//! [`SessionCodec::save_to_headers`] appends the `Set-Cookie` to a
//! response's headers, leaving every other `Set-Cookie` alone.

use http::header::{COOKIE, SET_COOKIE, VARY};
use http::{HeaderMap, HeaderValue};
use time::OffsetDateTime;

use crate::codec::SessionCodec;
use crate::error::{DecodeError, EncodeError};
use crate::session::Session;

impl SessionCodec {
    /// The session from a request's headers, now; see
    /// [`try_read_headers_at`](Self::try_read_headers_at). A fresh session
    /// (not dirty) if no cookie decodes.
    ///
    /// ```
    /// use cookie_session::{Key, Keyring, SessionCodec};
    /// use http::header::{COOKIE, SET_COOKIE};
    /// use http::{HeaderMap, HeaderValue};
    ///
    /// let codec = SessionCodec::builder("sid", Keyring::new(Key::generate())).build()?;
    ///
    /// // First response: a new session with a value.
    /// let mut session = codec.read_headers(&HeaderMap::new());
    /// session.set("user", "alice")?;
    /// let mut response = HeaderMap::new();
    /// response.append(SET_COOKIE, HeaderValue::from_static("theme=dark"));
    /// assert!(codec.save_to_headers(&session, &mut response)?);
    /// assert_eq!(response.get_all(SET_COOKIE).iter().count(), 2); // theme kept
    ///
    /// // Next request, HTTP/2 style: the cookies split over two fields.
    /// let set_cookie = response.get_all(SET_COOKIE).iter().nth(1).unwrap().to_str()?;
    /// let pair = set_cookie.split(';').next().unwrap();
    /// let mut request = HeaderMap::new();
    /// request.append(COOKIE, HeaderValue::from_static("theme=dark"));
    /// request.append(COOKIE, HeaderValue::from_str(pair)?);
    /// let session = codec.read_headers(&request);
    /// assert_eq!(session.get::<String>("user")?.as_deref(), Some("alice"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read_headers(&self, headers: &HeaderMap) -> Session {
        match self.try_read_headers_at(headers, OffsetDateTime::now_utc()) {
            Ok(Some(s)) => s,
            _ => Session::new(),
        }
    }

    /// The session from every `Cookie` header of a request, as of `now`.
    ///
    /// The headers are read in order as if joined with `"; "` (RFC 9113,
    /// section 8.2.3), so one HTTP/1.1 header and several HTTP/2 `cookie`
    /// fields give the same result. The first cookie of the codec's name
    /// that decodes wins; at most 16 such cookies are tried over all the
    /// headers. `Ok(None)` when no cookie has the name, `Err` with the first
    /// cookie's error when none decodes.
    ///
    /// Bytes that are not UTF-8 are replaced before parsing, so another
    /// cookie's odd value never hides the session cookie.
    pub fn try_read_headers_at(
        &self,
        headers: &HeaderMap,
        now: OffsetDateTime,
    ) -> Result<Option<Session>, DecodeError> {
        crate::cookie_codec::read_fields(self, headers.get_all(COOKIE), now)
    }

    /// Appends the `Set-Cookie` for `session` to a response's headers, now;
    /// see [`save_to_headers_at`](Self::save_to_headers_at).
    pub fn save_to_headers(
        &self,
        session: &Session,
        headers: &mut HeaderMap,
    ) -> Result<bool, EncodeError> {
        self.save_to_headers_at(session, headers, OffsetDateTime::now_utc())
    }

    /// Appends the `Set-Cookie` that [`save_at`](Self::save_at) gives (a
    /// new cookie when dirty, a deletion when destroyed, nothing otherwise)
    /// to `headers`, never replacing another header. Returns whether a
    /// header was added.
    pub fn save_to_headers_at(
        &self,
        session: &Session,
        headers: &mut HeaderMap,
        now: OffsetDateTime,
    ) -> Result<bool, EncodeError> {
        match self.save_at(session, now)? {
            Some(value) => {
                append_set_cookie(headers, value);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Appends the `Set-Cookie` that deletes the session cookie.
    pub fn remove_from_headers(&self, headers: &mut HeaderMap) {
        append_set_cookie(headers, self.removal());
    }
}

fn append_set_cookie(headers: &mut HeaderMap, value: String) {
    // The name and attributes were validated when the codec was built
    // (tokens and visible ASCII) and the value is base64url: always a valid
    // header value.
    let value = HeaderValue::try_from(value).expect("Set-Cookie values are visible ASCII");
    headers.append(SET_COOKIE, value);
}

/// Adds `Cookie` to the response's `Vary` header unless it is already
/// listed there (or `Vary: *` is present), so shared caches never serve
/// one visitor's page to another.
///
/// ```
/// use http::{HeaderMap, HeaderValue, header::VARY};
///
/// let mut h = HeaderMap::new();
/// h.append(VARY, HeaderValue::from_static("Accept-Encoding"));
/// cookie_session::vary_cookie(&mut h);
/// cookie_session::vary_cookie(&mut h);
/// let vary: Vec<_> = h.get_all(VARY).iter().collect();
/// assert_eq!(vary, ["Accept-Encoding", "Cookie"]);
/// ```
pub fn vary_cookie(headers: &mut HeaderMap) {
    let listed = headers
        .get_all(VARY)
        .iter()
        .any(|v| crate::cookie::varies_on_cookie(v.as_bytes()));
    if !listed {
        headers.append(VARY, HeaderValue::from_static("Cookie"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cookie::MAX_CANDIDATES;
    use crate::{Key, Keyring};

    fn codec() -> SessionCodec {
        SessionCodec::builder("sid", Keyring::new(Key::generate()))
            .build()
            .unwrap()
    }

    fn cookie_pair(codec: &SessionCodec, user: &str) -> String {
        let mut s = Session::new();
        s.set("user", user).unwrap();
        format!("sid={}", codec.encode(&s).unwrap())
    }

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(COOKIE, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn user(s: &Session) -> Option<String> {
        s.get("user").unwrap()
    }

    #[test]
    fn one_header_and_split_headers_read_alike() {
        let c = codec();
        let alice = cookie_pair(&c, "alice");
        let joined = format!("a=1; {alice}; b=2");
        let s1 = c.read_headers(&headers(&[&joined]));
        let s2 = c.read_headers(&headers(&["a=1", &alice, "b=2"]));
        assert_eq!(user(&s1).as_deref(), Some("alice"));
        assert_eq!(user(&s2).as_deref(), Some("alice"));
        assert_eq!(s1.id(), s2.id());
    }

    #[test]
    fn first_verifying_cookie_wins_across_headers() {
        let c = codec();
        let other = codec(); // another key: does not verify
        let forged = cookie_pair(&other, "mallory");
        let alice = cookie_pair(&c, "alice");
        let bob = cookie_pair(&c, "bob");
        let s = c.read_headers(&headers(&[&forged, &format!("x=1; {alice}"), &bob]));
        assert_eq!(user(&s).as_deref(), Some("alice"));
        let s = c.read_headers(&headers(&[&bob, &alice]));
        assert_eq!(user(&s).as_deref(), Some("bob"));
    }

    #[test]
    fn reports_why_and_gives_fresh_session() {
        let c = codec();
        let now = OffsetDateTime::now_utc();
        assert!(matches!(
            c.try_read_headers_at(&headers(&[]), now),
            Ok(None)
        ));
        assert!(matches!(
            c.try_read_headers_at(&headers(&["other=1", "x=2"]), now),
            Ok(None)
        ));
        let forged = cookie_pair(&codec(), "mallory");
        assert_eq!(
            c.try_read_headers_at(&headers(&[&forged, "sid=%%%"]), now)
                .unwrap_err(),
            DecodeError::UnknownKey
        );
        let s = c.read_headers(&headers(&[&forged]));
        assert!(s.is_empty() && !s.is_dirty());
    }

    #[test]
    fn candidate_limit_spans_all_headers() {
        let c = codec();
        let alice = cookie_pair(&c, "alice");
        // 16 bad candidates spread over 16 headers, then a good one: the
        // limit is global, so the good one is never tried.
        let mut values = vec!["sid=AAAA"; MAX_CANDIDATES];
        values.push(&alice);
        let now = OffsetDateTime::now_utc();
        assert!(c.try_read_headers_at(&headers(&values), now).is_err());
        values.remove(0);
        let s = c.try_read_headers_at(&headers(&values), now).unwrap();
        assert_eq!(user(&s.unwrap()).as_deref(), Some("alice"));
    }

    #[test]
    fn non_utf8_neighbour_does_not_hide_the_session() {
        let c = codec();
        let alice = cookie_pair(&c, "alice");
        let mut raw = b"odd=\xff\xfe; ".to_vec();
        raw.extend_from_slice(alice.as_bytes());
        let mut h = HeaderMap::new();
        h.append(COOKIE, HeaderValue::from_bytes(&raw).unwrap());
        assert_eq!(user(&c.read_headers(&h)).as_deref(), Some("alice"));
    }

    #[test]
    fn save_appends_and_keeps_other_set_cookies() {
        let c = codec();
        let mut h = HeaderMap::new();
        h.append(SET_COOKIE, HeaderValue::from_static("a=1"));
        h.append(SET_COOKIE, HeaderValue::from_static("b=2"));
        let clean = Session::new();
        assert!(!c.save_to_headers(&clean, &mut h).unwrap());
        assert_eq!(h.get_all(SET_COOKIE).iter().count(), 2);

        let mut s = Session::new();
        s.set("n", 1).unwrap();
        assert!(c.save_to_headers(&s, &mut h).unwrap());
        let all: Vec<_> = h
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        assert_eq!(all.len(), 3);
        assert_eq!(&all[..2], ["a=1", "b=2"]);
        assert!(all[2].starts_with("sid="), "{}", all[2]);

        s.destroy();
        assert!(c.save_to_headers(&s, &mut h).unwrap());
        let last = h.get_all(SET_COOKIE).iter().next_back().unwrap();
        assert!(last.to_str().unwrap().starts_with("sid=;"));
        c.remove_from_headers(&mut h);
        assert_eq!(h.get_all(SET_COOKIE).iter().count(), 5);
    }

    #[test]
    fn vary_is_added_once_and_respects_star() {
        let mut h = HeaderMap::new();
        vary_cookie(&mut h);
        vary_cookie(&mut h);
        assert_eq!(h.get_all(VARY).iter().count(), 1);
        let mut h = HeaderMap::new();
        h.append(VARY, HeaderValue::from_static("accept, COOKIE"));
        vary_cookie(&mut h);
        assert_eq!(h.get_all(VARY).iter().count(), 1);
        let mut h = HeaderMap::new();
        h.append(VARY, HeaderValue::from_static("*"));
        vary_cookie(&mut h);
        assert_eq!(h.get_all(VARY).iter().count(), 1);
    }
}
