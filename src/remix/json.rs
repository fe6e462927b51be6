//! JSON in and out of session [`Value`]s, the way JavaScript's `JSON.parse`
//! and `JSON.stringify` do it.
//!
//! Reading goes through `ciborium::Value`, which keeps object keys in
//! their order (`serde_json::Value` would sort them). Writing is done here,
//! byte for byte as `JSON.stringify` writes: integer-like keys first in
//! ascending order, then the others in insertion order; numbers as
//! JavaScript prints them; the same string escapes.

use std::collections::HashMap;

use ciborium::Value as Tree;

use crate::error::EncodeError;
use crate::session::ValueMap;
use crate::value::Value;

/// Parses JSON text into a tree that keeps key order.
pub(crate) fn parse(text: &str) -> Option<Tree> {
    serde_json::from_str(text).ok()
}

/// Collapses repeated keys of every object as `JSON.parse` does: the last
/// value wins, at the position of the first.
fn dedup(tree: &mut Tree) {
    match tree {
        Tree::Array(items) => items.iter_mut().for_each(dedup),
        Tree::Map(entries) => {
            let mut seen: HashMap<String, usize> = HashMap::new();
            let mut out: Vec<(Tree, Tree)> = Vec::with_capacity(entries.len());
            for (k, mut v) in std::mem::take(entries) {
                dedup(&mut v);
                let Tree::Text(key) = &k else {
                    out.push((k, v));
                    continue;
                };
                match seen.get(key) {
                    Some(&i) => out[i].1 = v,
                    None => {
                        seen.insert(key.clone(), out.len());
                        out.push((k, v));
                    }
                }
            }
            *entries = out;
        }
        _ => {}
    }
}

/// A parsed JSON value as a session [`Value`]; `None` if it breaks a rule
/// of the crate's format (nested deeper than [`MAX_NESTING`](crate::MAX_NESTING)).
pub(crate) fn to_value(mut tree: Tree) -> Option<Value> {
    dedup(&mut tree);
    Value::from_serialize(&tree).ok()
}

/// The entries of a parsed JSON object as a [`ValueMap`] (repeated keys:
/// last value wins); `None` if it is not an object or a value breaks a rule.
pub(crate) fn to_map(tree: Tree) -> Option<ValueMap> {
    let Tree::Map(entries) = tree else {
        return None;
    };
    let mut map = ValueMap::new();
    for (k, v) in entries {
        let Tree::Text(k) = k else { return None };
        map.insert(k, to_value(v)?);
    }
    Some(map)
}

/// Whether `key` is an array index, which JavaScript objects list first, in
/// ascending numeric order.
fn array_index(key: &str) -> Option<u32> {
    if key.is_empty() || key.len() > 10 || (key.len() > 1 && key.starts_with('0')) {
        return None;
    }
    if !key.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    key.parse::<u64>()
        .ok()
        .filter(|&n| n < u64::from(u32::MAX))
        .map(|n| n as u32)
}

/// Writes an object from `(key, writer)` entries in JavaScript's property
/// order.
pub(crate) fn write_object<'k>(
    out: &mut String,
    entries: impl IntoIterator<Item = (std::borrow::Cow<'k, str>, Piece<'k>)>,
) -> Result<(), EncodeError> {
    let mut indexed = Vec::new();
    let mut named = Vec::new();
    for (k, v) in entries {
        match array_index(&k) {
            Some(n) => indexed.push((n, k, v)),
            None => named.push((k, v)),
        }
    }
    indexed.sort_by_key(|e| e.0);
    out.push('{');
    let mut first = true;
    for (k, v) in indexed.into_iter().map(|(_, k, v)| (k, v)).chain(named) {
        if !first {
            out.push(',');
        }
        first = false;
        write_string(out, &k);
        out.push(':');
        v.write(out)?;
    }
    out.push('}');
    Ok(())
}

/// A value to write: a session [`Value`] or an already-decoded tree.
pub(crate) enum Piece<'a> {
    /// A stored value (CBOR).
    Stored(&'a Value),
    /// A node of a decoded value.
    Node(Tree),
}

impl Piece<'_> {
    fn write(self, out: &mut String) -> Result<(), EncodeError> {
        match self {
            Piece::Stored(v) => {
                let tree: Tree = v.deserialize().map_err(|_| EncodeError::NotJson)?;
                write_tree(out, tree)
            }
            Piece::Node(t) => write_tree(out, t),
        }
    }
}

/// Writes a [`ValueMap`] as a JSON object.
pub(crate) fn write_map(out: &mut String, map: &ValueMap) -> Result<(), EncodeError> {
    write_object(out, map.iter().map(|(k, v)| (k.into(), Piece::Stored(v))))
}

fn write_tree(out: &mut String, tree: Tree) -> Result<(), EncodeError> {
    match tree {
        Tree::Null => out.push_str("null"),
        Tree::Bool(b) => out.push_str(if b { "true" } else { "false" }),
        Tree::Integer(i) => out.push_str(&i128::from(i).to_string()),
        Tree::Float(f) => write_number(out, f),
        Tree::Text(s) => write_string(out, &s),
        Tree::Array(items) => {
            out.push('[');
            for (n, item) in items.into_iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                write_tree(out, item)?;
            }
            out.push(']');
        }
        Tree::Map(entries) => {
            let mut pairs = Vec::with_capacity(entries.len());
            for (k, v) in entries {
                let key = match k {
                    Tree::Text(s) => s,
                    Tree::Integer(i) => i128::from(i).to_string(),
                    _ => return Err(EncodeError::NotJson),
                };
                pairs.push((key.into(), Piece::Node(v)));
            }
            write_object(out, pairs)?;
        }
        _ => return Err(EncodeError::NotJson),
    }
    Ok(())
}

/// A string as `JSON.stringify` quotes it.
pub(crate) fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A number as JavaScript's `Number.prototype.toString` prints it
/// (ECMA-262 `Number::toString`, shortest round-trip digits); `NaN` and
/// the infinities are `null`, as in `JSON.stringify`.
pub(crate) fn write_number(out: &mut String, f: f64) {
    if !f.is_finite() {
        out.push_str("null");
        return;
    }
    if f == 0.0 {
        out.push('0');
        return;
    }
    if f < 0.0 {
        out.push('-');
    }
    // Rust's `{:e}` prints the shortest digits that round-trip.
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let k = digits.len() as i32;
    let n = exp.parse::<i32>().unwrap_or(0) + 1;
    if k <= n && n <= 21 {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', (n - k) as usize));
    } else if 0 < n && n <= 21 {
        out.push_str(&digits[..n as usize]);
        out.push('.');
        out.push_str(&digits[n as usize..]);
    } else if -6 < n && n <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-n) as usize));
        out.push_str(&digits);
    } else {
        out.push_str(&digits[..1]);
        if k > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if n > 0 { '+' } else { '-' });
        out.push_str(&(n - 1).abs().to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(f: f64) -> String {
        let mut s = String::new();
        write_number(&mut s, f);
        s
    }

    #[test]
    fn numbers_print_like_javascript() {
        let cases = [
            (1.0, "1"),
            (-1.5, "-1.5"),
            (0.1, "0.1"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (123456789.125, "123456789.125"),
            (1e-6, "0.000001"),
            (1e-7, "1e-7"),
            (1.5e-7, "1.5e-7"),
            (-0.0, "0"),
            (f64::NAN, "null"),
            (f64::INFINITY, "null"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
        ];
        for (f, want) in cases {
            assert_eq!(num(f), want, "{f:e}");
        }
    }

    #[test]
    fn strings_escape_like_json_stringify() {
        let mut s = String::new();
        write_string(&mut s, "a\"b\\c\n\u{1}\u{1f}é/\u{2028}");
        assert_eq!(s, "\"a\\\"b\\\\c\\n\\u0001\\u001fé/\u{2028}\"");
    }

    #[test]
    fn integer_like_keys_come_first() {
        let tree = parse(r#"{"b":1,"1":2,"a":{"10":0,"x":1,"2":[1.5]},"0":3,"01":4}"#).unwrap();
        let mut out = String::new();
        write_tree(&mut out, tree).unwrap();
        assert_eq!(
            out,
            r#"{"0":3,"1":2,"b":1,"a":{"2":[1.5],"10":0,"x":1},"01":4}"#
        );
    }

    #[test]
    fn repeated_keys_keep_the_last_value_at_the_first_place() {
        let map = to_map(parse(r#"{"a":1,"b":{"x":1,"x":2},"a":3}"#).unwrap()).unwrap();
        let mut out = String::new();
        write_map(&mut out, &map).unwrap();
        assert_eq!(out, r#"{"a":3,"b":{"x":2}}"#);
    }

    #[test]
    fn byte_strings_have_no_json_form() {
        let v = Value::from_cbor(&[0x42, 1, 2]).unwrap();
        let mut m = ValueMap::new();
        m.insert("b", v);
        assert_eq!(write_map(&mut String::new(), &m), Err(EncodeError::NotJson));
    }
}
