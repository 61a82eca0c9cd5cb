//! GVariant -> JSON, the way `status --json` has always serialized the daemon's
//! dictionaries: `a{sv}` as objects, tuples and arrays as arrays, `v` unwrapped,
//! integers as numbers.

use glib::{Variant, VariantClass};
use serde_json::{Map, Value};

pub(crate) fn to_json(v: &Variant) -> Value {
    match v.classify() {
        VariantClass::Boolean => Value::Bool(v.get::<bool>().unwrap_or(false)),
        VariantClass::Byte => Value::from(v.get::<u8>().unwrap_or(0)),
        VariantClass::Int16 => Value::from(v.get::<i16>().unwrap_or(0)),
        VariantClass::Uint16 => Value::from(v.get::<u16>().unwrap_or(0)),
        VariantClass::Int32 => Value::from(v.get::<i32>().unwrap_or(0)),
        VariantClass::Uint32 => Value::from(v.get::<u32>().unwrap_or(0)),
        VariantClass::Int64 => Value::from(v.get::<i64>().unwrap_or(0)),
        VariantClass::Uint64 => Value::from(v.get::<u64>().unwrap_or(0)),
        VariantClass::Handle => {
            Value::from(v.get::<glib::variant::Handle>().map(|h| h.0).unwrap_or(0))
        }
        VariantClass::Double => serde_json::Number::from_f64(v.get::<f64>().unwrap_or(0.0))
            .map(Value::Number)
            .unwrap_or(Value::Null),
        VariantClass::String | VariantClass::ObjectPath | VariantClass::Signature => {
            Value::String(v.str().unwrap_or_default().to_string())
        }
        VariantClass::Variant => v
            .as_variant()
            .map(|inner| to_json(&inner))
            .unwrap_or(Value::Null),
        VariantClass::Maybe => v
            .as_maybe()
            .map(|inner| to_json(&inner))
            .unwrap_or(Value::Null),
        VariantClass::Array => {
            let elem = v.type_().element();
            if elem.is_dict_entry() && elem.key() == glib::VariantTy::STRING {
                let mut m = Map::new();
                for entry in v.iter() {
                    let key = entry.child_value(0).str().unwrap_or_default().to_string();
                    m.insert(key, to_json(&entry.child_value(1)));
                }
                Value::Object(m)
            } else {
                Value::Array(v.iter().map(|c| to_json(&c)).collect())
            }
        }
        VariantClass::Tuple | VariantClass::DictEntry => {
            Value::Array(v.iter().map(|c| to_json(&c)).collect())
        }
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use glib::prelude::*;
    use std::collections::BTreeMap;

    #[test]
    fn shapes() {
        let mut m = BTreeMap::new();
        m.insert("serial".to_string(), 3i32.to_variant());
        m.insert("timestamp".to_string(), 1_704_067_200u64.to_variant());
        m.insert("booted".to_string(), true.to_variant());
        m.insert("custom-origin".to_string(), ("u", "d").to_variant());
        m.insert("packages".to_string(), Vec::<String>::new().to_variant());
        m.insert(
            "base-removals".to_string(),
            Variant::array_from_iter_with_type(glib::VariantTy::VARIANT, Vec::<Variant>::new()),
        );
        let mut meta = BTreeMap::new();
        meta.insert("version".to_string(), "1".to_variant());
        m.insert("base-commit-meta".to_string(), meta.to_variant());
        let j = to_json(&m.to_variant());
        assert_eq!(
            j,
            serde_json::json!({
                "serial": 3,
                "timestamp": 1704067200u64,
                "booted": true,
                "custom-origin": ["u", "d"],
                "packages": [],
                "base-removals": [],
                "base-commit-meta": {"version": "1"},
            })
        );
    }
}
