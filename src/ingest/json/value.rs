//! One JSON row parsed straight into text values: an object into keys and values in their
//! original order, an array into values. Strings stay as written, numbers keep their JSON
//! form (integers without `.0`), booleans are `true`/`false`, null is empty, and nested
//! objects or arrays become compact JSON text.

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt;

/// A parsed row.
#[derive(Debug, PartialEq)]
pub enum Row<'a> {
    Object {
        keys: Vec<Cow<'a, str>>,
        vals: Vec<Cow<'a, str>>,
    },
    Array(Vec<Cow<'a, str>>),
    /// A scalar where a row was expected.
    Scalar,
}

impl<'a> Row<'a> {
    /// Parse `text` as one row. Errors are serde_json's (with line/column inside `text`).
    pub fn parse(text: &'a str) -> Result<Row<'a>, serde_json::Error> {
        let mut de = serde_json::Deserializer::from_str(text);
        let row = de.deserialize_any(RowVisitor)?;
        de.end()?;
        Ok(row)
    }
}

struct RowVisitor;

impl<'de> Visitor<'de> for RowVisitor {
    type Value = Row<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Row<'de>, A::Error> {
        let mut keys = Vec::with_capacity(map.size_hint().unwrap_or(32));
        let mut vals = Vec::with_capacity(keys.capacity());
        while let Some(k) = map.next_key_seed(Text)? {
            keys.push(k);
            vals.push(map.next_value_seed(Text)?);
        }
        Ok(Row::Object { keys, vals })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Row<'de>, A::Error> {
        let mut vals = Vec::with_capacity(seq.size_hint().unwrap_or(32));
        while let Some(v) = seq.next_element_seed(Text)? {
            vals.push(v);
        }
        Ok(Row::Array(vals))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Row<'de>, E> {
        Ok(Row::Scalar)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Row<'de>, E> {
        Ok(Row::Scalar)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Row<'de>, E> {
        Ok(Row::Scalar)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Row<'de>, E> {
        Ok(Row::Scalar)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Row<'de>, E> {
        Ok(Row::Scalar)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Row<'de>, E> {
        Ok(Row::Scalar)
    }
}

/// Any JSON value as text.
struct Text;

impl<'de> DeserializeSeed<'de> for Text {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Cow<'de, str>, D::Error> {
        d.deserialize_any(TextVisitor)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(if v { "true" } else { "false" }))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        // Shortest text that reads back as the same number; whole numbers print without `.0`.
        Ok(Cow::Owned(v.to_string()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(""))
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(""))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        use serde::Deserialize;
        let v = serde_json::Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(Cow::Owned(v.to_string()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        use serde::Deserialize;
        let v = serde_json::Value::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
        Ok(Cow::Owned(v.to_string()))
    }
}

/// `e`'s message without serde_json's ` at line L column C` tail.
pub fn error_message(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_become_text_in_order() {
        let r = Row::parse(r#"{"b":"x\"y","a":12,"f":1.50,"t":true,"n":null,"o":{"z":1,"a":[1,2]},"e":1e2,"neg":-3}"#)
            .unwrap();
        let Row::Object { keys, vals } = r else { panic!() };
        assert_eq!(keys, vec!["b", "a", "f", "t", "n", "o", "e", "neg"]);
        assert_eq!(vals, vec!["x\"y", "12", "1.5", "true", "", r#"{"z":1,"a":[1,2]}"#, "100", "-3"]);
        assert_eq!(Row::parse("[1,\"a\",null]").unwrap(), Row::Array(vec!["1".into(), "a".into(), "".into()]));
        assert_eq!(Row::parse("3").unwrap(), Row::Scalar);
        assert!(Row::parse("{\"a\":1} x").is_err());
        let e = Row::parse("{\"a\":").unwrap_err();
        assert!(e.is_eof());
        assert_eq!(error_message(&e), "EOF while parsing a value");
    }
}
