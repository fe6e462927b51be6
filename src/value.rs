//! [`Value`]: one session value, kept as the CBOR bytes it travels as.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::cbor::{self, MAX_NESTING};
use crate::error::{PayloadError, SessionError};

/// Bytes of a key or value: kept inline when short (most session keys and
/// values are), otherwise a byte range of a shared, immutable buffer.
///
/// A decoded cookie keeps its longer items in one shared copy of its
/// payload, so decoding allocates at most once for all of them, and cloning
/// or dropping a short one touches no reference count.
#[derive(Clone)]
pub(crate) enum Shared {
    Inline {
        len: u8,
        bytes: [u8; INLINE],
    },
    Heap {
        buf: Arc<[u8]>,
        start: u32,
        end: u32,
    },
}

/// The longest item kept inline; [`Shared`] is 32 bytes either way.
pub(crate) const INLINE: usize = 30;

const _: () = assert!(std::mem::size_of::<Shared>() <= 32);

impl Shared {
    /// `bytes` inline if short enough, else in a new buffer of their own.
    pub(crate) fn from_slice(bytes: &[u8]) -> Self {
        Shared::inline(bytes).unwrap_or_else(|| Shared::from_arc(Arc::from(bytes)))
    }

    pub(crate) fn from_vec(v: Vec<u8>) -> Self {
        Shared::inline(&v).unwrap_or_else(|| Shared::from_arc(Arc::from(v)))
    }

    fn from_arc(buf: Arc<[u8]>) -> Self {
        let end = u32::try_from(buf.len()).unwrap_or(u32::MAX);
        Shared::Heap { buf, start: 0, end }
    }

    fn inline(b: &[u8]) -> Option<Self> {
        if b.len() > INLINE {
            return None;
        }
        let mut bytes = [0u8; INLINE];
        bytes[..b.len()].copy_from_slice(b);
        Some(Shared::Inline {
            len: b.len() as u8,
            bytes,
        })
    }

    /// The item at `span` of `buf`: inline if short, else a range of `buf`.
    pub(crate) fn from_span(buf: &Arc<[u8]>, (start, end): cbor::Span) -> Self {
        let b = buf.get(start as usize..end as usize).unwrap_or_default();
        Shared::inline(b).unwrap_or_else(|| Shared::Heap {
            buf: buf.clone(),
            start,
            end,
        })
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        match self {
            Shared::Inline { len, bytes } => bytes.get(..usize::from(*len)).unwrap_or_default(),
            Shared::Heap { buf, start, end } => {
                buf.get(*start as usize..*end as usize).unwrap_or_default()
            }
        }
    }
}

/// One value stored in a session: a single CBOR data item, already checked
/// against the wire format's rules (see `docs/FORMAT.md` §4).
///
/// `Session::set` and `Session::get` convert to and from your own types
/// through serde; `Value` is what [`SessionData`](crate::SessionData) holds,
/// for code that moves sessions around without knowing their types.
/// Cloning is cheap (a reference count).
///
/// ```
/// use cookie_session::Value;
///
/// let v = Value::from_serialize(&vec![1, 2, 3])?;
/// assert_eq!(v.as_cbor(), &[0x83, 0x01, 0x02, 0x03]);
/// assert_eq!(v.deserialize::<Vec<u8>>()?, vec![1, 2, 3]);
/// assert!(v.deserialize::<String>().is_err());
/// # Ok::<(), cookie_session::SessionError>(())
/// ```
#[derive(Clone)]
pub struct Value(pub(crate) Shared);

impl Value {
    /// Serializes `value` to CBOR.
    ///
    /// Fails if serde fails, or if the result breaks a format rule: arrays
    /// and maps nested more than [`MAX_NESTING`] deep, integers outside the
    /// 64-bit CBOR range (they would need a tag), or a map with a repeated
    /// key.
    pub fn from_serialize<T: Serialize + ?Sized>(value: &T) -> Result<Value, SessionError> {
        let mut out = Vec::with_capacity(32);
        ciborium::ser::into_writer(value, &mut out)
            .map_err(|e| SessionError::Serialize(e.to_string()))?;
        match cbor::validate_item(&out, MAX_NESTING) {
            Ok(()) => Ok(Value(Shared::from_vec(out))),
            // serde serializers with no length hint come out as
            // indefinite-length items: rewrite them with definite lengths.
            Err(PayloadError::IndefiniteLength) => {
                let tree: ciborium::Value = ciborium::de::from_reader(out.as_slice())
                    .map_err(|e| SessionError::Serialize(e.to_string()))?;
                Value::from_serialize(&tree)
            }
            Err(e) => Err(SessionError::InvalidValue(e)),
        }
    }

    /// Wraps CBOR bytes after checking that they are exactly one item that
    /// follows the format's rules.
    ///
    /// ```
    /// use cookie_session::{PayloadError, SessionError, Value};
    ///
    /// assert!(Value::from_cbor(&[0x63, b'a', b'b', b'c']).is_ok());
    /// assert_eq!(
    ///     Value::from_cbor(&[0xc1, 0x00]).unwrap_err(),
    ///     SessionError::InvalidValue(PayloadError::Tag),
    /// );
    /// ```
    pub fn from_cbor(bytes: &[u8]) -> Result<Value, SessionError> {
        cbor::validate_item(bytes, MAX_NESTING).map_err(SessionError::InvalidValue)?;
        Ok(Value(Shared::from_slice(bytes)))
    }

    /// Deserializes the value into `T`.
    ///
    /// A value of another shape is an error ([`SessionError::Deserialize`]),
    /// never a panic.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, SessionError> {
        ciborium::de::from_reader(self.as_cbor())
            .map_err(|e| SessionError::Deserialize(e.to_string()))
    }

    /// The CBOR encoding of the value.
    pub fn as_cbor(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// The text, if the value is a text string, without copying or
    /// deserializing: cheap enough for a
    /// [revocation predicate](crate::SessionCodecBuilder::revoked_when).
    ///
    /// ```
    /// use cookie_session::Value;
    ///
    /// assert_eq!(Value::from_serialize("alice")?.as_str(), Some("alice"));
    /// assert_eq!(Value::from_serialize(&42)?.as_str(), None);
    /// # Ok::<(), cookie_session::SessionError>(())
    /// ```
    pub fn as_str(&self) -> Option<&str> {
        let bytes = self.as_cbor();
        let (start, end) = cbor::Reader::new(bytes).text_span().ok()?;
        // A value is exactly one item, so the text ends the bytes.
        std::str::from_utf8(&bytes[start..end]).ok()
    }

    /// Whether the value is CBOR `null` (what `None` and `()` serialize to).
    pub fn is_null(&self) -> bool {
        self.as_cbor() == [cbor::NULL]
    }
}

impl Serialize for Value {
    /// Serializes the CBOR data item into any serde format (for example JSON
    /// with `serde_json`). Byte strings become serde bytes; maps keep their
    /// order.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let tree: ciborium::Value =
            ciborium::de::from_reader(self.as_cbor()).map_err(serde::ser::Error::custom)?;
        tree.serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for Value {
    /// Reads any self-describing serde data (JSON, CBOR, ...) into a value,
    /// with the same checks as [`Value::from_serialize`].
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let tree = ciborium::Value::deserialize(deserializer)?;
        Value::from_serialize(&tree).map_err(serde::de::Error::custom)
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        self.as_cbor() == other.as_cbor()
    }
}

impl Eq for Value {}

impl fmt::Debug for Value {
    /// Shows the value as a CBOR tree (values are not secret: the client can
    /// read them).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match ciborium::de::from_reader::<ciborium::Value, _>(self.as_cbor()) {
            Ok(v) => fmt::Debug::fmt(&v, f),
            Err(_) => write!(f, "Value({:02x?})", self.as_cbor()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn unit_and_none_are_null() {
        assert!(Value::from_serialize(&()).unwrap().is_null());
        assert!(Value::from_serialize(&None::<u8>).unwrap().is_null());
        assert!(!Value::from_serialize(&0u8).unwrap().is_null());
    }

    #[test]
    fn unsized_iterators_become_definite() {
        struct Unsized;
        impl Serialize for Unsized {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_seq((0..3).filter(|_| true))
            }
        }
        let v = Value::from_serialize(&Unsized).unwrap();
        assert_eq!(v.as_cbor(), &[0x83, 0, 1, 2]);
    }

    #[test]
    fn refuses_bignums_and_deep_values() {
        let big = Value::from_serialize(&u128::MAX).unwrap_err();
        assert_eq!(big, SessionError::InvalidValue(PayloadError::Tag));
        let mut deep = serde_json::json!(0);
        for _ in 0..=MAX_NESTING {
            deep = serde_json::json!([deep]);
        }
        assert_eq!(
            Value::from_serialize(&deep).unwrap_err(),
            SessionError::InvalidValue(PayloadError::TooDeep)
        );
    }

    #[test]
    fn values_are_serde_data_themselves() {
        let v = Value::from_serialize(&serde_json::json!({"a": [1, "x", null, 2.5]})).unwrap();
        let json = serde_json::to_value(&v).unwrap();
        assert_eq!(json, serde_json::json!({"a": [1, "x", null, 2.5]}));
        let back: Value = serde_json::from_value(json).unwrap();
        assert_eq!(back, v);
        let nested = Value::from_serialize(&vec![v.clone()]).unwrap();
        assert_eq!(nested.deserialize::<Vec<Value>>().unwrap(), vec![v]);
    }

    #[test]
    fn maps_round_trip() {
        let mut m = BTreeMap::new();
        m.insert(3u32, "three".to_string());
        m.insert(1u32, "one".to_string());
        let v = Value::from_serialize(&m).unwrap();
        assert_eq!(v.deserialize::<BTreeMap<u32, String>>().unwrap(), m);
        assert!(format!("{v:?}").contains("three"));
    }
}
