//! The shape of the config file: which keys exist and what type each holds.
//!
//! Kubo checks keys against its Go structs and types by decoding into them;
//! rubo keeps the same knowledge as data (`schema.txt`) so that `config set`,
//! `config replace` and opening a hand-edited file all give the same answers.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::Value;

use super::units::{parse_bytes, parse_duration};

/// The type of a config value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ty {
    Str,
    Int,
    Bool,
    List,
    Strs,
    Flag,
    Prio,
    OptInt,
    OptStr,
    OptDur,
    OptBytes,
    AutoNat,
    Any,
    Map(Box<Ty>),
    Obj(BTreeMap<String, Ty>),
}

fn parse_ty(s: &str) -> Ty {
    if let Some(inner) = s.strip_prefix("map:") {
        return Ty::Map(Box::new(parse_ty(inner)));
    }
    match s {
        "str" => Ty::Str,
        "int" => Ty::Int,
        "bool" => Ty::Bool,
        "list" => Ty::List,
        "strs" => Ty::Strs,
        "flag" => Ty::Flag,
        "prio" => Ty::Prio,
        "oint" => Ty::OptInt,
        "ostr" => Ty::OptStr,
        "odur" => Ty::OptDur,
        "obytes" => Ty::OptBytes,
        "autonat" => Ty::AutoNat,
        _ => Ty::Any,
    }
}

/// The whole config's shape.
pub(crate) fn root() -> &'static Ty {
    static ROOT: OnceLock<Ty> = OnceLock::new();
    ROOT.get_or_init(|| {
        let mut root = BTreeMap::new();
        for line in include_str!("schema.txt").lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((path, ty)) = line.split_once(' ') else {
                continue;
            };
            let parts: Vec<&str> = path.split('.').collect();
            insert(&mut root, &parts, parse_ty(ty.trim()));
        }
        Ty::Obj(root)
    })
}

fn insert(obj: &mut BTreeMap<String, Ty>, parts: &[&str], ty: Ty) {
    match parts {
        [] => {}
        [last] => {
            obj.insert((*last).to_string(), ty);
        }
        [first, rest @ ..] => {
            let entry = obj.entry((*first).to_string()).or_insert_with(|| Ty::Obj(BTreeMap::new()));
            if let Ty::Obj(inner) = entry {
                insert(inner, rest, ty);
            }
        }
    }
}

/// Checks that `key` names something in the config, as Kubo's `CheckKey` does.
pub(crate) fn check_key(key: &str) -> Result<(), String> {
    let mut cur = root();
    let mut seen = String::new();
    for part in key.split('.') {
        if !seen.is_empty() {
            seen.push('.');
        }
        seen.push_str(part);
        cur = match cur {
            Ty::Obj(fields) => fields.get(part).ok_or_else(|| format!("{seen} not found"))?,
            Ty::Map(inner) => inner,
            Ty::Any => return Ok(()),
            _ => {
                return Err(format!("{} key is not a map", &seen[..seen.len() - part.len() - 1]));
            }
        };
    }
    Ok(())
}

/// Checks a whole config document against the schema. Unknown keys are left
/// alone (a newer rubo or Kubo may have written them); known keys must hold
/// values of their type.
pub(crate) fn validate(doc: &Value) -> Result<(), String> {
    check(root(), doc, "")
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn check(ty: &Ty, v: &Value, path: &str) -> Result<(), String> {
    let bad = |want: &str| Err(format!("{path}: expected {want}, got {}", kind(v)));
    let is_strings = |a: &Vec<Value>| a.iter().all(Value::is_string);
    match ty {
        Ty::Any => Ok(()),
        Ty::Str => {
            if v.is_string() {
                Ok(())
            } else {
                bad("a string")
            }
        }
        Ty::Int => {
            if v.is_i64() || v.is_u64() {
                Ok(())
            } else {
                bad("an integer")
            }
        }
        Ty::Bool => {
            if v.is_boolean() {
                Ok(())
            } else {
                bad("a boolean")
            }
        }
        Ty::List => match v {
            Value::Null => Ok(()),
            Value::Array(a) if is_strings(a) => Ok(()),
            _ => bad("an array of strings"),
        },
        Ty::Strs => match v {
            Value::Null | Value::String(_) => Ok(()),
            Value::Array(a) if is_strings(a) => Ok(()),
            _ => bad("a string or an array of strings"),
        },
        Ty::Flag => match v {
            Value::Null | Value::Bool(_) => Ok(()),
            _ => Err(format!("{path}: failed to unmarshal {v} into a flag: must be null/undefined, true, or false")),
        },
        Ty::Prio => match v {
            Value::Null | Value::Bool(false) => Ok(()),
            Value::Bool(true) => Err(format!("{path}: 'true' is not a valid priority")),
            Value::Number(n) if n.as_i64().is_some_and(|x| x > 0) => Ok(()),
            Value::Number(n) => Err(format!("{path}: priority must be positive: {n} <= 0")),
            _ => bad("false, null or a positive integer"),
        },
        Ty::OptInt => match v {
            Value::Null => Ok(()),
            Value::Number(n) if n.is_i64() || n.is_u64() => Ok(()),
            _ => bad("an integer or null"),
        },
        Ty::OptStr => match v {
            Value::Null | Value::String(_) => Ok(()),
            _ => bad("a string or null"),
        },
        Ty::OptDur => match v {
            Value::Null => Ok(()),
            Value::String(s) if s.is_empty() || s == "null" || s == "default" => Ok(()),
            Value::String(s) => parse_duration(s).map(|_| ()).map_err(|e| format!("{path}: {e}")),
            _ => bad("a duration string or null"),
        },
        Ty::OptBytes => match v {
            Value::Null | Value::Number(_) => Ok(()),
            Value::String(s) => parse_bytes(s).map(|_| ()).map_err(|e| format!("{path}: {e}")),
            _ => bad("a byte size or null"),
        },
        Ty::AutoNat => match v {
            Value::Null => Ok(()),
            Value::String(s) if ["", "enabled", "disabled", "legacy-v1"].contains(&s.as_str()) => Ok(()),
            Value::String(s) => Err(format!("{path}: unknown autonat mode: {s}")),
            _ => bad("an autonat mode string"),
        },
        Ty::Map(inner) => match v {
            Value::Null => Ok(()),
            Value::Object(m) => {
                for (k, x) in m {
                    check(inner, x, &join(path, k))?;
                }
                Ok(())
            }
            _ => bad("an object"),
        },
        Ty::Obj(fields) => match v {
            // A missing or null section decodes to its defaults in Kubo.
            Value::Null => Ok(()),
            Value::Object(m) => {
                for (k, x) in m {
                    if let Some(t) = fields.get(k) {
                        check(t, x, &join(path, k))?;
                    }
                }
                Ok(())
            }
            _ => bad("an object"),
        },
    }
}

fn join(path: &str, k: &str) -> String {
    if path.is_empty() { k.to_string() } else { format!("{path}.{k}") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys() {
        assert!(check_key("Addresses.API").is_ok());
        assert!(check_key("Datastore.Spec.mounts").is_ok());
        assert!(check_key("Gateway.HTTPHeaders.X-Foo").is_ok());
        assert_eq!(check_key("Foo"), Err("Foo not found".into()));
        assert_eq!(check_key("Addresses.Foo"), Err("Addresses.Foo not found".into()));
        assert_eq!(check_key("Addresses.API.x"), Err("Addresses.API key is not a map".into()));
        // Case matters, as in Kubo.
        assert!(check_key("addresses.api").is_err());
    }

    #[test]
    fn types() {
        assert!(validate(&json!({"Discovery": {"MDNS": {"Enabled": true}}})).is_ok());
        let e = validate(&json!({"Discovery": {"MDNS": {"Enabled": "yes"}}})).unwrap_err();
        assert_eq!(e, "Discovery.MDNS.Enabled: expected a boolean, got a string");
        assert!(validate(&json!({"Addresses": {"API": "/ip4/127.0.0.1/tcp/5001"}})).is_ok());
        assert!(validate(&json!({"Addresses": {"API": ["/a", "/b"]}})).is_ok());
        assert!(validate(&json!({"Addresses": {"Swarm": "/a"}})).is_err());
        assert!(validate(&json!({"Swarm": {"Transports": {"Security": {"TLS": true}}}})).is_err());
        assert!(validate(&json!({"Ipns": {"MaxCacheTTL": "1h30m"}})).is_ok());
        assert!(validate(&json!({"Ipns": {"MaxCacheTTL": "soon"}})).is_err());
        assert!(validate(&json!({"Import": {"UnixFSHAMTDirectorySizeThreshold": "256KiB"}})).is_ok());
        assert!(validate(&json!({"Future": {"Key": 1}})).is_ok());
    }
}
