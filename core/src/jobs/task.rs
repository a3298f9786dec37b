//! What a job does, as an envelope the queues carry without knowing it: a `kind` naming the
//! handler and the capability's own payload. Serialized as one JSON object, the kind under
//! `"type"` first, then the payload's fields in their own order:
//! `{"type":"aggregate","precision":"quarterly","window_start":"…"}`.

use std::fmt;

use serde::de::{self, DeserializeOwned, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

use crate::error::{Error, Result};

/// A job's kind and payload.
#[derive(Clone)]
pub struct Task {
    kind: String,
    /// The payload's fields in order (JSON text of each value).
    fields: Vec<(String, Box<RawValue>)>,
}

impl Task {
    /// A task of `kind` carrying `payload`, which must serialize to a JSON object without a
    /// `type` field.
    pub fn new(kind: &str, payload: &impl Serialize) -> Result<Task> {
        let text = serde_json::to_string(payload).map_err(|e| Error::InvalidArgument(format!("job payload of `{kind}`: {e}")))?;
        let Fields(fields) = serde_json::from_str(&text).map_err(|e| Error::InvalidArgument(format!("job payload of `{kind}` is not an object: {e}")))?;
        if fields.iter().any(|(k, _)| k == "type") {
            return Err(Error::InvalidArgument(format!("job payload of `{kind}` has a `type` field")));
        }
        Ok(Task { kind: kind.to_string(), fields })
    }

    /// The kind (the handler it goes to).
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The payload as the capability's type.
    pub fn payload<P: DeserializeOwned>(&self) -> Result<P> {
        serde_json::from_str(&self.payload_text()).map_err(|e| Error::InvalidArgument(format!("job payload of `{}`: {e}", self.kind)))
    }

    fn payload_text(&self) -> String {
        let mut text = String::from("{");
        for (i, (k, v)) in self.fields.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            text.push_str(&serde_json::Value::String(k.clone()).to_string());
            text.push(':');
            text.push_str(v.get());
        }
        text.push('}');
        text
    }

    fn value(&self) -> serde_json::Value {
        serde_json::from_str(&self.payload_text()).unwrap_or_default()
    }
}

impl fmt::Debug for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Task {{ kind: {:?}, payload: {} }}", self.kind, self.payload_text())
    }
}

impl PartialEq for Task {
    fn eq(&self, other: &Task) -> bool {
        self.kind == other.kind && self.value() == other.value()
    }
}

impl Eq for Task {}

impl Serialize for Task {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.fields.len() + 1))?;
        map.serialize_entry("type", &self.kind)?;
        for (k, v) in &self.fields {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Task {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Task, D::Error> {
        let Fields(mut fields) = Fields::deserialize(deserializer)?;
        let at = fields.iter().position(|(k, _)| k == "type").ok_or_else(|| de::Error::missing_field("type"))?;
        let (_, kind) = fields.remove(at);
        let kind: String = serde_json::from_str(kind.get()).map_err(|_| de::Error::custom("`type` is not a string"))?;
        Ok(Task { kind, fields })
    }
}

/// A JSON object's fields in document order.
struct Fields(Vec<(String, Box<RawValue>)>);

impl<'de> Deserialize<'de> for Fields {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Fields, D::Error> {
        struct Object;
        impl<'de> Visitor<'de> for Object {
            type Value = Fields;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Fields, A::Error> {
                let mut fields = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Box<RawValue>>()? {
                    fields.push((k, v));
                }
                Ok(Fields(fields))
            }
        }
        deserializer.deserialize_map(Object)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct Step {
        zeta: u32,
        alpha: Option<String>,
    }

    #[test]
    fn the_kind_comes_first_then_the_payload_in_its_own_order() {
        let task = Task::new("step", &Step { zeta: 2, alpha: None }).expect("object");
        let text = serde_json::to_string(&task).expect("json");
        assert_eq!(text, r#"{"type":"step","zeta":2,"alpha":null}"#);
        let back: Task = serde_json::from_str(&text).expect("parses");
        assert_eq!((back.kind(), back.payload::<Step>().expect("payload")), ("step", Step { zeta: 2, alpha: None }));
        assert_eq!(back, task);
        assert!(Task::new("n", &3).is_err(), "a payload is an object");
        assert!(serde_json::from_str::<Task>(r#"{"zeta":1}"#).is_err(), "the kind is required");
    }
}
