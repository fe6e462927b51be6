//! Wire format v1: the byte layout of the signed value, the MAC input, and
//! strict parsing. `docs/FORMAT.md` is the normative description.
//!
//! ```text
//! offset  size  field
//! 0       1     version     0x01
//! 1       4     key id
//! 5       8     issued_at   u64 big-endian, Unix seconds
//! 13      8     expires_at  u64 big-endian, Unix seconds
//! 21      8     created_at  u64 big-endian, Unix seconds
//! 29      n     payload     CBOR [id, values, flash]
//! 29+n    32    tag         HMAC-SHA256
//! ```

use std::sync::Arc;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::cbor::{self, MAX_NESTING, Reader, Span};
use crate::error::{DecodeError, Malformed, PayloadError};
use crate::key::{Key, KeyId};
use crate::session::{TABLE_ENTRY, ValueMap, entry, put_entry};

/// The version byte of the signed format (v1), which a codec writes unless
/// it [encrypts](crate::SessionCodecBuilder) (feature `encrypt`, format v2).
pub const VERSION: u8 = 1;

/// Bytes before the payload: version, key id, three times.
pub(crate) const HEADER_LEN: usize = 1 + 4 + 8 * 3;
/// Bytes of the HMAC-SHA256 tag.
pub(crate) const TAG_LEN: usize = 32;
/// The smallest payload: `[ "", {}, {} ]`.
pub(crate) const MIN_PAYLOAD_LEN: usize = 4;
/// The smallest binary value.
pub(crate) const MIN_LEN: usize = HEADER_LEN + MIN_PAYLOAD_LEN + TAG_LEN;
/// The largest binary value: 4096 base64 characters.
pub(crate) const MAX_LEN: usize = 4096 / 4 * 3;

/// First piece of the MAC input: names the format, so a tag made for
/// anything else never verifies here.
pub(crate) const DOMAIN_LABEL: &[u8] = b"cookie-session/v1";

/// The three signed times, in Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Times {
    pub issued_at: u64,
    pub expires_at: u64,
    pub created_at: u64,
}

/// A keyed HMAC state that has already absorbed everything before the body:
/// the piece count, the domain label, the cookie name and the context.
#[derive(Clone)]
pub(crate) struct Signer {
    mac: Hmac<Sha256>,
}

impl Signer {
    pub(crate) fn new(key: &Key, cookie_name: &[u8], context: &[u8]) -> Signer {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key.mac_key())
            .expect("HMAC accepts keys of any length");
        mac.update(&4u64.to_le_bytes());
        for piece in [DOMAIN_LABEL, cookie_name, context] {
            mac.update(&(piece.len() as u64).to_le_bytes());
            mac.update(piece);
        }
        Signer { mac }
    }

    fn with_body(&self, body: &[u8]) -> Hmac<Sha256> {
        let mut mac = self.mac.clone();
        mac.update(&(body.len() as u64).to_le_bytes());
        mac.update(body);
        mac
    }

    /// The tag of `body` (every byte before the tag).
    pub(crate) fn tag(&self, body: &[u8]) -> [u8; TAG_LEN] {
        self.with_body(body).finalize().into_bytes().into()
    }

    /// Checks `tag` against `body` in constant time.
    pub(crate) fn verify(&self, body: &[u8], tag: &[u8]) -> bool {
        tag.len() == TAG_LEN && self.with_body(body).verify_slice(tag).is_ok()
    }
}

/// A binary value split by length alone, before any verification.
pub(crate) struct Frame<'a> {
    pub key_id: KeyId,
    /// Every byte before the tag: what the tag covers.
    pub body: &'a [u8],
    pub tag: &'a [u8],
}

impl<'a> Frame<'a> {
    /// Looks only at the length, the version byte and the key id.
    pub(crate) fn split(bin: &'a [u8]) -> Result<Frame<'a>, DecodeError> {
        match bin.first() {
            None => return Err(DecodeError::Malformed(Malformed::TooShort)),
            Some(&VERSION) => {}
            Some(&v) => return Err(DecodeError::UnsupportedVersion(v)),
        }
        if bin.len() < MIN_LEN {
            return Err(DecodeError::Malformed(Malformed::TooShort));
        }
        let (body, tag) = bin.split_at(bin.len() - TAG_LEN);
        Ok(Frame {
            key_id: KeyId([body[1], body[2], body[3], body[4]]),
            body,
            tag,
        })
    }
}

/// The times of a header (`header[..HEADER_LEN]`, v1 and v2 alike); call
/// only once the tag has verified.
pub(crate) fn read_times(header: &[u8]) -> Times {
    let at = |i: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&header[i..i + 8]);
        u64::from_be_bytes(b)
    };
    Times {
        issued_at: at(5),
        expires_at: at(13),
        created_at: at(21),
    }
}

/// Writes the header of format `version` into `out[..HEADER_LEN]`.
pub(crate) fn write_header(out: &mut [u8], version: u8, key_id: KeyId, t: Times) {
    out[0] = version;
    out[1..5].copy_from_slice(&key_id.0);
    out[5..13].copy_from_slice(&t.issued_at.to_be_bytes());
    out[13..21].copy_from_slice(&t.expires_at.to_be_bytes());
    out[21..29].copy_from_slice(&t.created_at.to_be_bytes());
}

/// A decoded payload.
pub(crate) struct Payload<'a> {
    pub id: &'a str,
    pub values: ValueMap,
    pub flash: ValueMap,
}

/// Parses the verified body `buf[..body_len]` (header and payload) in one
/// pass. The session's maps share one copy of the body, followed by their
/// span tables: one allocation for all of them. `buf[body_len..]` (which
/// held the tag) is scratch space for the tables.
pub(crate) fn parse_payload(buf: &mut [u8], body_len: usize) -> Result<Payload<'_>, PayloadError> {
    if body_len > buf.len() || body_len > usize::from(u16::MAX) {
        return Err(PayloadError::LengthOverflow);
    }
    let (body, scratch) = buf.split_at_mut(body_len);
    let body: &[u8] = body;
    let mut table = Table {
        scratch,
        len: 0,
        spill: Vec::new(),
    };
    let mut r = Reader::at(body, HEADER_LEN);
    if r.head()? != (cbor::ARRAY, 3) {
        return Err(PayloadError::Shape);
    }
    let (s, e) = r.text_span()?;
    let n_values = read_map(&mut r, &mut table)?;
    let n_flash = read_map(&mut r, &mut table)?;
    if !r.at_end() {
        return Err(PayloadError::TrailingBytes);
    }
    let (len, spill) = (table.len, table.spill);
    let shared: Arc<[u8]> = if spill.is_empty() {
        Arc::from(&buf[..body_len + len])
    } else {
        let mut all = Vec::with_capacity(body_len + spill.len());
        all.extend_from_slice(&buf[..body_len]);
        all.extend_from_slice(&spill);
        Arc::from(all)
    };
    let flash_table = body_len + TABLE_ENTRY * n_values;
    let (values, flash) = match (n_values, n_flash) {
        (0, 0) => (ValueMap::new(), ValueMap::new()),
        (_, 0) => (
            ValueMap::decoded(shared, body_len, n_values),
            ValueMap::new(),
        ),
        (0, _) => (
            ValueMap::new(),
            ValueMap::decoded(shared, flash_table, n_flash),
        ),
        _ => (
            ValueMap::decoded(shared.clone(), body_len, n_values),
            ValueMap::decoded(shared, flash_table, n_flash),
        ),
    };
    // `text_span` checked the UTF-8.
    let id = std::str::from_utf8(&buf[s..e]).unwrap_or_default();
    Ok(Payload { id, values, flash })
}

/// The span tables being written: into the scratch space while they fit,
/// else into a vector.
struct Table<'a> {
    scratch: &'a mut [u8],
    /// Bytes written.
    len: usize,
    /// Every byte written, once the scratch space was too small.
    spill: Vec<u8>,
}

impl Table<'_> {
    #[inline]
    fn push(&mut self, key: Span, value: Span) {
        let end = self.len + TABLE_ENTRY;
        if self.spill.is_empty() && end <= self.scratch.len() {
            put_entry(&mut self.scratch[self.len..end], key, value);
        } else {
            if self.spill.is_empty() {
                self.spill.extend_from_slice(&self.scratch[..self.len]);
            }
            let mut e = [0u8; TABLE_ENTRY];
            put_entry(&mut e, key, value);
            self.spill.extend_from_slice(&e);
        }
        self.len = end;
    }

    fn bytes(&self) -> &[u8] {
        if self.spill.is_empty() {
            &self.scratch[..self.len]
        } else {
            &self.spill
        }
    }
}

/// Reads one top-level map: text keys, unique, values nested at most
/// [`MAX_NESTING`] deep. Appends its entries to `table` and returns their
/// number.
fn read_map(r: &mut Reader<'_>, table: &mut Table<'_>) -> Result<usize, PayloadError> {
    let (major, n) = r.head()?;
    if major != cbor::MAP {
        return Err(PayloadError::Shape);
    }
    let n = r.count(n, 2)?;
    let first = table.len / TABLE_ENTRY;
    for _ in 0..n {
        let (major, len) = r.head()?;
        if major != cbor::TEXT {
            return Err(PayloadError::BadKeyType);
        }
        let key = r.string_body(len, true)?;
        let value = r.item(MAX_NESTING)?;
        table.push(key, value);
    }
    // Equal texts are equal keys: their heads are in shortest form.
    let t = table.bytes();
    cbor::check_unique(r.buf(), n, |i| entry(t, 0, first + i).0)?;
    Ok(n)
}

/// Length of the payload [`write_payload`] writes.
pub(crate) fn payload_len(id: &str, values: &ValueMap, flash: &ValueMap) -> usize {
    let text = |s: &[u8]| cbor::head_len(s.len() as u64) + s.len();
    let map = |m: &ValueMap| {
        let mut len = cbor::head_len(m.len() as u64);
        m.for_each_raw(|k, v| len += text(k) + v.len());
        len
    };
    1 + text(id.as_bytes()) + map(values) + map(flash)
}

/// Writes the payload `[id, values, flash]` into `out`, which must hold
/// [`payload_len`] bytes; returns the number written.
pub(crate) fn write_payload(
    out: &mut [u8],
    id: &str,
    values: &ValueMap,
    flash: &ValueMap,
) -> usize {
    let mut n = cbor::write_head(out, cbor::ARRAY, 3);
    let put_text = |out: &mut [u8], n: &mut usize, s: &[u8]| {
        *n += cbor::write_head(&mut out[*n..], cbor::TEXT, s.len() as u64);
        out[*n..*n + s.len()].copy_from_slice(s);
        *n += s.len();
    };
    put_text(out, &mut n, id.as_bytes());
    for m in [values, flash] {
        n += cbor::write_head(&mut out[n..], cbor::MAP, m.len() as u64);
        m.for_each_raw(|k, v| {
            put_text(out, &mut n, k);
            out[n..n + v.len()].copy_from_slice(v);
            n += v.len();
        });
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Value;

    /// `[id, values, flash]` after a zeroed header, as `parse_payload` reads it.
    fn body(values: &[(&str, &[u8])], flash: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = vec![0u8; HEADER_LEN];
        b.extend([0x83, 0x62, b'i', b'd']);
        for m in [values, flash] {
            let mut head = [0u8; 9];
            let n = cbor::write_head(&mut head, cbor::MAP, m.len() as u64);
            b.extend(&head[..n]);
            for (k, v) in m {
                let n = cbor::write_head(&mut head, cbor::TEXT, k.len() as u64);
                b.extend(&head[..n]);
                b.extend(k.as_bytes());
                b.extend(*v);
            }
        }
        b
    }

    /// Parses `body` with room for a tag after it, as the codec does.
    fn parse(mut body: Vec<u8>) -> Result<Payload<'static>, PayloadError> {
        let len = body.len();
        body.resize(len + TAG_LEN, 0);
        parse_payload(body.leak(), len)
    }

    #[test]
    fn decoded_maps_read_change_and_reencode() {
        let long = [&[0x78, 40][..], &[b'x'; 40]].concat();
        let p = parse(body(&[("a", &[0x01]), ("long", &long)], &[("f", &[0xf5])])).unwrap();
        assert_eq!(p.id, "id");
        assert_eq!(p.values.keys().collect::<Vec<_>>(), ["a", "long"]);
        assert_eq!(p.values.get("a").unwrap().as_cbor(), [0x01]);
        assert_eq!(p.values.get("long").unwrap().as_cbor(), &long[..]);
        assert!(p.flash.get("f").unwrap().deserialize::<bool>().unwrap());

        // Encoding a decoded map writes back the same bytes.
        let mut out = vec![0u8; payload_len("id", &p.values, &p.flash)];
        let n = write_payload(&mut out, "id", &p.values, &p.flash);
        let original = body(&[("a", &[0x01]), ("long", &long)], &[("f", &[0xf5])]);
        assert_eq!(&out[..n], &original[HEADER_LEN..]);

        // Changing a decoded map keeps order and the other entries.
        let mut values = p.values.clone();
        let two = Value::from_cbor(&[0x02]).unwrap();
        assert_eq!(values.insert("a", two.clone()).unwrap().as_cbor(), [0x01]);
        values.insert("b", two.clone());
        assert_eq!(values.keys().collect::<Vec<_>>(), ["a", "long", "b"]);
        assert_eq!(values.remove("long").unwrap().as_cbor(), &long[..]);
        assert_eq!(values.get("a"), Some(&two));
        assert_ne!(values, p.values);
        assert_eq!(p.values.len(), 2, "the clone changed, not the original");
    }

    #[test]
    fn span_tables_larger_than_the_scratch_space_spill() {
        let names: Vec<String> = (0..300).map(|i| format!("k{i}")).collect();
        let vals: Vec<[u8; 2]> = (0..300).map(|i| [0x18, (i % 200 + 24) as u8]).collect();
        let entries: Vec<(&str, &[u8])> = names
            .iter()
            .zip(&vals)
            .map(|(k, v)| (k.as_str(), &v[..]))
            .collect();
        let p = parse(body(&entries[..200], &entries[200..])).unwrap();
        assert_eq!((p.values.len(), p.flash.len()), (200, 100));
        for (i, (k, v)) in entries.iter().enumerate() {
            let m = if i < 200 { &p.values } else { &p.flash };
            assert_eq!(m.get(k).map(Value::as_cbor), Some(*v), "{k}");
        }
    }

    #[test]
    fn duplicate_top_level_keys_are_refused() {
        let v: &[u8] = &[0x00];
        for n in [2usize, 8, 9, 40, 100] {
            let names: Vec<String> = (0..n).map(|i| format!("key_number_{i:03}")).collect();
            let mut entries: Vec<(&str, &[u8])> = names.iter().map(|k| (k.as_str(), v)).collect();
            assert!(parse(body(&entries, &[])).is_ok(), "{n} distinct keys");
            entries[n - 1].0 = entries[n / 2 - 1].0;
            assert_eq!(
                parse(body(&entries, &[])).err(),
                Some(PayloadError::DuplicateKey),
                "{n} keys, one repeated"
            );
            assert_eq!(
                parse(body(&[], &entries)).err(),
                Some(PayloadError::DuplicateKey),
                "{n} flash keys, one repeated"
            );
        }
    }
}
