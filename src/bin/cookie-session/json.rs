//! JSON output that keeps the order of maps and shows values JSON cannot hold.

use super::*;

/// A JSON tree whose objects keep their order.
pub(super) enum Out {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Arr(Vec<Out>),
    Obj(Vec<(String, Out)>),
}

impl Out {
    pub(super) fn str(s: &str) -> Out {
        Out::Str(s.to_owned())
    }
}

pub(super) fn obj<const N: usize>(fields: [(&str, Out); N]) -> Out {
    Out::Obj(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

impl Serialize for Out {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Out::Null => s.serialize_unit(),
            Out::Bool(b) => s.serialize_bool(*b),
            Out::Int(i) => match (u64::try_from(*i), i64::try_from(*i)) {
                (Ok(u), _) => s.serialize_u64(u),
                (_, Ok(n)) => s.serialize_i64(n),
                _ => s.serialize_i128(*i),
            },
            Out::Float(f) => s.serialize_f64(*f),
            Out::Str(t) => s.serialize_str(t),
            Out::Arr(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for i in items {
                    seq.serialize_element(i)?;
                }
                seq.end()
            }
            Out::Obj(fields) => {
                let mut map = s.serialize_map(Some(fields.len()))?;
                for (k, v) in fields {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

/// CBOR to JSON; what JSON cannot hold is wrapped (see `decode --help`).
pub(super) fn cbor_to_out(v: &ciborium::Value) -> Out {
    use ciborium::Value as C;
    match v {
        C::Null => Out::Null,
        C::Bool(b) => Out::Bool(*b),
        C::Integer(i) => Out::Int(i128::from(*i)),
        C::Float(f) if f.is_finite() => Out::Float(*f),
        C::Float(f) => obj([(
            "$float",
            Out::str(if f.is_nan() {
                "NaN"
            } else if *f > 0.0 {
                "Infinity"
            } else {
                "-Infinity"
            }),
        )]),
        C::Text(t) => Out::str(t),
        C::Bytes(b) => obj([("$bytes", Out::Str(URL_SAFE_NO_PAD.encode(b)))]),
        C::Array(items) => Out::Arr(items.iter().map(cbor_to_out).collect()),
        C::Map(entries) => {
            let mut keys = std::collections::HashSet::new();
            let text_keys = entries
                .iter()
                .all(|(k, _)| k.as_text().is_some_and(|t| keys.insert(t)));
            if text_keys {
                Out::Obj(
                    entries
                        .iter()
                        .map(|(k, v)| (k.as_text().unwrap_or_default().to_owned(), cbor_to_out(v)))
                        .collect(),
                )
            } else {
                obj([(
                    "$map",
                    Out::Arr(
                        entries
                            .iter()
                            .map(|(k, v)| Out::Arr(vec![cbor_to_out(k), cbor_to_out(v)]))
                            .collect(),
                    ),
                )])
            }
        }
        // Tags never pass the library's checks; shown for completeness.
        C::Tag(tag, inner) => obj([(
            "$tag",
            Out::Arr(vec![Out::Int(i128::from(*tag)), cbor_to_out(inner)]),
        )]),
        other => Out::Str(format!("{other:?}")),
    }
}
