//! The strict, bounded CBOR reader and the head writer.
//!
//! The reader never builds a tree: it walks the bytes once, checks every rule
//! of the wire format (see `docs/FORMAT.md` §4) and reports where items start
//! and end. It allocates nothing for maps of up to eight pairs and at most one
//! range per key for larger ones, recurses at most [`MAX_NESTING`] levels, and
//! checks every declared length against the bytes that remain before it
//! trusts it.

use crate::error::PayloadError;

/// How deeply arrays and maps may nest inside one session value.
///
/// A scalar has depth 0; `[1]` has depth 1; `{"a": [1]}` has depth 2. Values
/// deeper than this are refused by [`Session::set`](crate::Session::set) and
/// by the decoder.
pub const MAX_NESTING: usize = 16;

const MAJOR_UINT: u8 = 0;
const MAJOR_NINT: u8 = 1;
const MAJOR_BYTES: u8 = 2;
const MAJOR_TEXT: u8 = 3;
const MAJOR_ARRAY: u8 = 4;
const MAJOR_MAP: u8 = 5;
const MAJOR_TAG: u8 = 6;
const MAJOR_SIMPLE: u8 = 7;

/// The CBOR major type of a text string, for callers that check key types.
pub(crate) const TEXT: u8 = MAJOR_TEXT;
/// The CBOR major type of a map.
pub(crate) const MAP: u8 = MAJOR_MAP;
/// The CBOR major type of an array.
pub(crate) const ARRAY: u8 = MAJOR_ARRAY;

/// The encoding of `null`.
pub(crate) const NULL: u8 = 0xf6;

/// A byte range inside the buffer being read.
pub(crate) type Span = (u32, u32);

/// A cursor over a CBOR buffer no longer than `u32::MAX` bytes.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// A reader of `buf` starting at `pos`.
    pub(crate) fn at(buf: &'a [u8], pos: usize) -> Self {
        Reader {
            buf,
            pos: pos.min(buf.len()),
        }
    }

    pub(crate) fn buf(&self) -> &'a [u8] {
        self.buf
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos == self.buf.len()
    }

    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], PayloadError> {
        if n > self.remaining() {
            return Err(PayloadError::Truncated);
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// Reads one head: `(major type, argument)`. For major type 7 the
    /// argument is the additional information (20..=22 or 25..=27) and the
    /// float's bytes are skipped.
    #[inline]
    pub(crate) fn head(&mut self) -> Result<(u8, u64), PayloadError> {
        let Some(&first) = self.buf.get(self.pos) else {
            return Err(PayloadError::Truncated);
        };
        let (major, info) = (first >> 5, first & 0x1f);
        if major < MAJOR_TAG {
            // The common cases: an argument below 24 in the head byte
            // itself, or one from 24 to 255 in the next byte.
            if info < 24 {
                self.pos += 1;
                return Ok((major, u64::from(info)));
            }
            if info == 24 {
                if let Some(&arg) = self.buf.get(self.pos + 1) {
                    if arg >= 24 {
                        self.pos += 2;
                        return Ok((major, u64::from(arg)));
                    }
                }
            }
        }
        self.head_slow()
    }

    #[cold]
    fn head_slow(&mut self) -> Result<(u8, u64), PayloadError> {
        let first = *self.take(1)?.first().ok_or(PayloadError::Truncated)?;
        let major = first >> 5;
        let info = first & 0x1f;
        if major == MAJOR_TAG {
            return Err(PayloadError::Tag);
        }
        if major == MAJOR_SIMPLE {
            return match info {
                20..=22 => Ok((major, u64::from(info))),
                25 => self.take(2).map(|_| (major, 25)),
                26 => self.take(4).map(|_| (major, 26)),
                27 => self.take(8).map(|_| (major, 27)),
                31 => Err(PayloadError::IndefiniteLength),
                _ => Err(PayloadError::UnsupportedSimple),
            };
        }
        let (arg, min) = match info {
            0..=23 => return Ok((major, u64::from(info))),
            24 => (u64::from(self.take(1)?[0]), 24),
            25 => (u64::from(u16::from_be_bytes(array(self.take(2)?))), 0x100),
            26 => (
                u64::from(u32::from_be_bytes(array(self.take(4)?))),
                0x1_0000,
            ),
            27 => (u64::from_be_bytes(array(self.take(8)?)), 0x1_0000_0000),
            31 => return Err(PayloadError::IndefiniteLength),
            _ => return Err(PayloadError::UnsupportedSimple),
        };
        if arg < min {
            return Err(PayloadError::NonCanonicalHead);
        }
        Ok((major, arg))
    }

    /// Reads a text string, checking its UTF-8, and returns its span.
    pub(crate) fn text_span(&mut self) -> Result<(usize, usize), PayloadError> {
        match self.head()? {
            (MAJOR_TEXT, len) => {
                let start = self.pos;
                let len = self.count(len, 1)?;
                std::str::from_utf8(&self.buf[start..start + len])
                    .map_err(|_| PayloadError::InvalidUtf8)?;
                self.pos = start + len;
                Ok((start, start + len))
            }
            _ => Err(PayloadError::Shape),
        }
    }

    /// Checks a declared count of items (each at least one byte) against the
    /// remaining input, so no count can ask for more work than bytes exist.
    #[inline]
    pub(crate) fn count(&self, n: u64, bytes_per_item: u64) -> Result<usize, PayloadError> {
        match n.checked_mul(bytes_per_item) {
            Some(need) if need <= self.remaining() as u64 => Ok(n as usize),
            _ => Err(PayloadError::LengthOverflow),
        }
    }

    /// Skips a string body of `len` bytes, checking UTF-8 if `text`, and
    /// returns its span.
    #[inline]
    pub(crate) fn string_body(&mut self, len: u64, text: bool) -> Result<Span, PayloadError> {
        let start = self.pos;
        let len = self.count(len, 1)?;
        let body = &self.buf[start..start + len];
        // Most session text is ASCII: a word-at-a-time check first.
        if text && !body.is_ascii() && std::str::from_utf8(body).is_err() {
            return Err(PayloadError::InvalidUtf8);
        }
        self.pos = start + len;
        Ok((start as u32, self.pos as u32))
    }

    /// Validates one complete item, with at most `depth` levels of arrays
    /// and maps inside it, and returns its span.
    #[inline]
    pub(crate) fn item(&mut self, depth: usize) -> Result<Span, PayloadError> {
        let start = self.pos;
        let (major, arg) = self.head()?;
        self.body(major, arg, depth)?;
        Ok((start as u32, self.pos as u32))
    }

    /// Validates the rest of an item whose head has been read.
    #[inline]
    pub(crate) fn body(&mut self, major: u8, arg: u64, depth: usize) -> Result<(), PayloadError> {
        match major {
            MAJOR_UINT | MAJOR_NINT | MAJOR_SIMPLE => Ok(()),
            MAJOR_BYTES => self.string_body(arg, false).map(drop),
            MAJOR_TEXT => self.string_body(arg, true).map(drop),
            _ => self.container(major, arg, depth),
        }
    }

    /// Validates the rest of an array or a map whose head has been read.
    #[inline(never)]
    fn container(&mut self, major: u8, arg: u64, depth: usize) -> Result<(), PayloadError> {
        match major {
            MAJOR_ARRAY => {
                let depth = depth.checked_sub(1).ok_or(PayloadError::TooDeep)?;
                for _ in 0..self.count(arg, 1)? {
                    self.item(depth)?;
                }
                Ok(())
            }
            MAJOR_MAP => {
                let depth = depth.checked_sub(1).ok_or(PayloadError::TooDeep)?;
                let n = self.count(arg, 2)?;
                let mut keys = Keys::new(n);
                for _ in 0..n {
                    let kstart = self.pos;
                    let (kmajor, karg) = self.head()?;
                    if !matches!(kmajor, MAJOR_UINT | MAJOR_NINT | MAJOR_BYTES | MAJOR_TEXT) {
                        return Err(PayloadError::BadKeyType);
                    }
                    self.body(kmajor, karg, 0)?;
                    keys.push((kstart as u32, self.pos as u32));
                    self.item(depth)?;
                }
                keys.check_unique(self.buf)
            }
            _ => Err(PayloadError::Tag),
        }
    }
}

fn array<const N: usize>(s: &[u8]) -> [u8; N] {
    let mut a = [0u8; N];
    a.copy_from_slice(s);
    a
}

/// The key spans of one map, on the stack for up to eight keys.
pub(crate) struct Keys {
    small: [Span; 8],
    len: usize,
    large: Vec<Span>,
}

impl Keys {
    pub(crate) fn new(n: usize) -> Self {
        Keys {
            small: [(0, 0); 8],
            len: 0,
            large: if n > 8 {
                Vec::with_capacity(n)
            } else {
                Vec::new()
            },
        }
    }

    #[inline]
    pub(crate) fn push(&mut self, span: Span) {
        if self.len < 8 && self.large.capacity() == 0 {
            self.small[self.len] = span;
            self.len += 1;
        } else {
            self.large.push(span);
        }
    }

    /// Fails if two keys have the same encoded bytes. Keys are required to be
    /// in shortest form, so equal bytes is equal keys.
    pub(crate) fn check_unique(self, buf: &[u8]) -> Result<(), PayloadError> {
        let keys: &[Span] = if self.large.capacity() == 0 {
            &self.small[..self.len]
        } else {
            &self.large
        };
        check_unique(buf, keys.len(), |i| keys[i])
    }
}

/// Fails if two of the `n` spans of `buf` that `span(i)` gives hold the
/// same bytes.
#[inline]
pub(crate) fn check_unique(
    buf: &[u8],
    n: usize,
    span: impl Fn(usize) -> Span,
) -> Result<(), PayloadError> {
    let at = |i: usize| {
        let (s, e) = span(i);
        buf.get(s as usize..e as usize).unwrap_or_default()
    };
    if n <= 8 {
        for i in 1..n {
            let a = at(i);
            if (0..i).any(|j| at(j) == a) {
                return Err(PayloadError::DuplicateKey);
            }
        }
        return Ok(());
    }
    // Sorting is O(n log n) whatever the keys are: for maps too large for
    // 16-bit indices (only in values built in memory), and as the fallback
    // when keys crowd the hash table below.
    let sorted = || {
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_unstable_by(|&a, &b| at(a).cmp(at(b)));
        match order.windows(2).any(|w| at(w[0]) == at(w[1])) {
            true => Err(PayloadError::DuplicateKey),
            false => Ok(()),
        }
    };
    if n >= 0xffff {
        return sorted();
    }
    // A hash table (open addressing, at most half full) of the keys'
    // fingerprints, hashed by length and first and last eight bytes. A slot
    // holds the fingerprint's top 48 bits and the key's index + 1 (0 is
    // empty); on the stack for up to 64 keys.
    let slots = (n * 2).next_power_of_two();
    let mut small = [0u64; 128];
    let mut large = Vec::new();
    let table: &mut [u64] = if slots <= small.len() {
        &mut small[..slots]
    } else {
        large.resize(slots, 0);
        &mut large
    };
    let mask = slots - 1;
    for i in 0..n {
        let key = at(i);
        let fp = fingerprint(key).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        // The product's top bits depend on every bit of the fingerprint.
        let mut h = (fp >> (64 - slots.trailing_zeros())) as usize & mask;
        let slot = (fp & !0xffff) | (i as u64 + 1);
        let mut probes = 0;
        loop {
            let other = table[h];
            if other == 0 {
                table[h] = slot;
                break;
            }
            if other >> 16 == fp >> 16 && at((other & 0xffff) as usize - 1) == key {
                return Err(PayloadError::DuplicateKey);
            }
            // Keys chosen to share a fingerprint (the same length, first
            // and last bytes) would make this quadratic: sort instead.
            probes += 1;
            if probes > MAX_PROBES {
                return sorted();
            }
            h = (h + 1) & mask;
        }
    }
    Ok(())
}

/// How many occupied slots one key may pass in the duplicate-key table
/// before the check falls back to sorting.
const MAX_PROBES: usize = 32;

/// The length and the first and last eight bytes of `b`.
fn fingerprint(b: &[u8]) -> u64 {
    let (first, last) = match (b.first_chunk::<8>(), b.last_chunk::<8>()) {
        (Some(f), Some(l)) => (u64::from_le_bytes(*f), u64::from_le_bytes(*l)),
        _ => (b.iter().fold(0u64, |a, &x| (a << 8) | u64::from(x)), 0),
    };
    first ^ last.rotate_left(29) ^ (b.len() as u64).rotate_right(8)
}

/// Validates that `buf` is exactly one item with at most `depth` levels of
/// nesting.
pub(crate) fn validate_item(buf: &[u8], depth: usize) -> Result<(), PayloadError> {
    if buf.len() > u32::MAX as usize {
        return Err(PayloadError::LengthOverflow);
    }
    let mut r = Reader::new(buf);
    r.item(depth)?;
    if !r.at_end() {
        return Err(PayloadError::TrailingBytes);
    }
    Ok(())
}

/// Length of the shortest head for `arg`.
pub(crate) fn head_len(arg: u64) -> usize {
    match arg {
        0..=23 => 1,
        24..=0xff => 2,
        0x100..=0xffff => 3,
        0x1_0000..=0xffff_ffff => 5,
        _ => 9,
    }
}

/// Writes the shortest head for `(major, arg)` into `out`, returning the
/// number of bytes written. `out` must hold at least `head_len(arg)` bytes.
pub(crate) fn write_head(out: &mut [u8], major: u8, arg: u64) -> usize {
    let m = major << 5;
    match head_len(arg) {
        1 => {
            out[0] = m | arg as u8;
            1
        }
        2 => {
            out[0] = m | 24;
            out[1] = arg as u8;
            2
        }
        3 => {
            out[0] = m | 25;
            out[1..3].copy_from_slice(&(arg as u16).to_be_bytes());
            3
        }
        5 => {
            out[0] = m | 26;
            out[1..5].copy_from_slice(&(arg as u32).to_be_bytes());
            5
        }
        _ => {
            out[0] = m | 27;
            out[1..9].copy_from_slice(&arg.to_be_bytes());
            9
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(bytes: &[u8]) -> Result<(), PayloadError> {
        validate_item(bytes, MAX_NESTING)
    }

    #[test]
    fn accepts_scalars_and_containers() {
        for ok in [
            &[0x00][..],
            &[0x17],
            &[0x18, 0x18],
            &[0x20],
            &[0x40],
            &[0x60],
            &[0x63, b'a', b'b', b'c'],
            &[0x80],
            &[0xa0],
            &[0xf4],
            &[0xf5],
            &[0xf6],
            &[0xf9, 0x7e, 0x00],
            &[0xfa, 0, 0, 0, 0],
            &[0xfb, 0, 0, 0, 0, 0, 0, 0, 0],
            &[0xa2, 0x01, 0x02, 0x61, b'a', 0x80],
        ] {
            assert_eq!(check(ok), Ok(()), "{ok:02x?}");
        }
    }

    #[test]
    fn rejects_each_rule() {
        use PayloadError::*;
        let cases: &[(&[u8], PayloadError)] = &[
            (&[], Truncated),
            (&[0x18], Truncated),
            (&[0x18, 0x17], NonCanonicalHead),
            (&[0x19, 0x00, 0xff], NonCanonicalHead),
            (&[0x1c], UnsupportedSimple),
            (&[0xc0, 0x00], Tag),
            (&[0xd9, 0xd9, 0xf7, 0x00], Tag),
            (&[0x5f, 0xff], IndefiniteLength),
            (&[0x9f, 0xff], IndefiniteLength),
            (&[0xbf, 0xff], IndefiniteLength),
            (&[0x7f, 0xff], IndefiniteLength),
            (&[0xf7], UnsupportedSimple),
            (&[0xf8, 0x20], UnsupportedSimple),
            (&[0xe0], UnsupportedSimple),
            (&[0x62, 0xc3, 0x28], InvalidUtf8),
            (&[0xa2, 0x61, b'a', 0x01, 0x61, b'a', 0x02], DuplicateKey),
            (&[0xa1, 0x80, 0x00], BadKeyType),
            (&[0xa1, 0xf6, 0x00], BadKeyType),
            (&[0x9a, 0xff, 0xff, 0xff, 0xff], LengthOverflow),
            (
                &[0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
                LengthOverflow,
            ),
            (
                &[0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
                LengthOverflow,
            ),
            (&[0x00, 0x00], TrailingBytes),
            (&[0x82, 0x00], LengthOverflow),
            (&[0x81, 0x18], Truncated),
        ];
        for (bytes, want) in cases {
            assert_eq!(check(bytes), Err(*want), "{bytes:02x?}");
        }
    }

    #[test]
    fn duplicate_keys_found_in_huge_maps() {
        // More keys than the hash table's 16-bit indices: the sorting path.
        let n = 70_000u32;
        let mut m = vec![0xba];
        m.extend(n.to_be_bytes());
        for i in 0..n {
            let mut head = [0u8; 9];
            let len = write_head(&mut head, MAJOR_UINT, u64::from(i));
            m.extend(&head[..len]);
            m.push(0xf6);
        }
        assert_eq!(check(&m), Ok(()));
        // The last key (69999) becomes 65536, also five bytes long.
        let last = m.len() - 5;
        m[last..last + 4].copy_from_slice(&65_536u32.to_be_bytes());
        assert_eq!(check(&m), Err(PayloadError::DuplicateKey));
    }

    #[test]
    fn duplicate_keys_found_in_large_maps() {
        let mut m = vec![0xb4];
        for i in 0..20u8 {
            m.extend([0x18, 100 + i, 0xf6]);
        }
        assert_eq!(check(&m), Ok(()));
        m[1 + 3 * 19 + 1] = 100; // last key repeats the first
        assert_eq!(check(&m), Err(PayloadError::DuplicateKey));
    }

    #[test]
    fn keys_sharing_a_fingerprint_are_still_checked_exactly() {
        // Same length, same first and last eight bytes: one fingerprint for
        // all, which sends the check to its sorting fallback.
        let keys: Vec<Vec<u8>> = (0..200u32)
            .map(|i| [&b"prefix--"[..], &i.to_be_bytes(), b"--suffix"].concat())
            .collect();
        let map = |keys: &[Vec<u8>]| {
            let mut m = vec![0xb8, keys.len() as u8];
            for k in keys {
                m.push(0x40 | k.len() as u8);
                m.extend_from_slice(k);
                m.push(0xf6);
            }
            m
        };
        assert_eq!(check(&map(&keys)), Ok(()));
        let mut dup = keys.clone();
        dup[150] = dup[3].clone();
        assert_eq!(check(&map(&dup)), Err(PayloadError::DuplicateKey));
    }

    #[test]
    fn depth_is_bounded_without_recursing_past_it() {
        let mut deep = vec![0x81; MAX_NESTING];
        deep.push(0x00);
        assert_eq!(check(&deep), Ok(()));
        let mut deeper = vec![0x81; MAX_NESTING + 1];
        deeper.push(0x00);
        assert_eq!(check(&deeper), Err(PayloadError::TooDeep));
        let mut bomb = vec![0x81; 100_000];
        bomb.push(0x00);
        assert_eq!(check(&bomb), Err(PayloadError::TooDeep));
    }

    #[test]
    fn heads_round_trip_in_shortest_form() {
        for arg in [0, 23, 24, 255, 256, 65535, 65536, u32::MAX as u64, u64::MAX] {
            let mut buf = [0u8; 9];
            let n = write_head(&mut buf, MAJOR_UINT, arg);
            assert_eq!(n, head_len(arg));
            let mut r = Reader::new(&buf[..n]);
            assert_eq!(r.head(), Ok((MAJOR_UINT, arg)));
            assert!(r.at_end());
        }
    }
}
