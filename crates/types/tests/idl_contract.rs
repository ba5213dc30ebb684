//! Protects the wire contract: every Rust type must match `idl/sustainml.idl` — type
//! names, field names, field order, field types, `@key` fields and enumerators. Editing
//! either side alone makes this test fail.
//!
//! The Rust side is read from the types themselves: a recording serde serializer walks a
//! value of each type and notes each field's name and IDL type as serde emits them, so
//! the test sees what the encoder really writes.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::ser::{self, Serialize};
use sustainml_types::{samples, CmdNode, CmdTask, ErrorCode, Status, TaskStatus, WireType};

// ---- the IDL side -------------------------------------------------------------------

#[derive(Debug, Default)]
struct Idl {
    enums: BTreeMap<String, Vec<String>>,
    /// struct name → [(field, type, is_key)]
    structs: BTreeMap<String, Vec<(String, String, bool)>>,
}

fn parse_idl() -> Idl {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../idl/sustainml.idl");
    let text = std::fs::read_to_string(&path).expect("read idl/sustainml.idl");
    let text: String = text
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join(" ");
    let mut idl = Idl::default();
    let mut rest = text.as_str();
    while let Some(open) = rest.find('{') {
        let head: Vec<&str> = rest[..open].split_whitespace().collect();
        let close = rest[open..].find('}').expect("unclosed block") + open;
        let body = &rest[open + 1..close];
        let (kind, name) = (head[head.len() - 2], head[head.len() - 1].to_owned());
        match kind {
            "enum" => {
                let names = body.split(',').map(str::trim).filter(|s| !s.is_empty());
                idl.enums.insert(name, names.map(str::to_owned).collect());
            }
            "struct" => {
                let mut fields = Vec::new();
                for decl in body.split(';').map(str::trim).filter(|s| !s.is_empty()) {
                    let (key, decl) = match decl.strip_prefix("@key") {
                        Some(d) => (true, d.trim()),
                        None => (false, decl),
                    };
                    let split = decl.rfind(char::is_whitespace).expect("field without type");
                    let ty = decl[..split]
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" ");
                    fields.push((decl[split..].trim().to_owned(), ty, key));
                }
                idl.structs.insert(name, fields);
            }
            other => panic!("unexpected IDL construct {other}"),
        }
        rest = &rest[close + 1..];
    }
    idl
}

// ---- the Rust side: a serializer that records IDL types -----------------------------

#[derive(Debug)]
struct Shape(String, Vec<(String, String)>);

#[derive(Debug)]
struct Unsupported(String);
impl std::fmt::Display for Unsupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for Unsupported {}
impl ser::Error for Unsupported {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Self(msg.to_string())
    }
}

/// Serializes a value into the IDL type name it encodes as; structs also return fields.
struct Recorder;

struct SeqRecorder(Option<String>);
struct StructRecorder(&'static str, Vec<(String, String)>);

type R = Result<Shape, Unsupported>;

fn prim(name: &str) -> R {
    Ok(Shape(name.to_owned(), Vec::new()))
}

impl ser::Serializer for Recorder {
    type Ok = Shape;
    type Error = Unsupported;
    type SerializeSeq = SeqRecorder;
    type SerializeTuple = ser::Impossible<Shape, Unsupported>;
    type SerializeTupleStruct = ser::Impossible<Shape, Unsupported>;
    type SerializeTupleVariant = ser::Impossible<Shape, Unsupported>;
    type SerializeMap = ser::Impossible<Shape, Unsupported>;
    type SerializeStruct = StructRecorder;
    type SerializeStructVariant = ser::Impossible<Shape, Unsupported>;

    fn serialize_bool(self, _: bool) -> R {
        prim("boolean")
    }
    fn serialize_i8(self, _: i8) -> R {
        prim("int8")
    }
    fn serialize_i16(self, _: i16) -> R {
        prim("short")
    }
    fn serialize_i32(self, _: i32) -> R {
        prim("long")
    }
    fn serialize_i64(self, _: i64) -> R {
        prim("long long")
    }
    fn serialize_u8(self, _: u8) -> R {
        prim("octet")
    }
    fn serialize_u16(self, _: u16) -> R {
        prim("unsigned short")
    }
    fn serialize_u32(self, _: u32) -> R {
        prim("unsigned long")
    }
    fn serialize_u64(self, _: u64) -> R {
        prim("unsigned long long")
    }
    fn serialize_f32(self, _: f32) -> R {
        prim("float")
    }
    fn serialize_f64(self, _: f64) -> R {
        prim("double")
    }
    fn serialize_char(self, _: char) -> R {
        prim("char")
    }
    fn serialize_str(self, _: &str) -> R {
        prim("string")
    }
    fn serialize_bytes(self, _: &[u8]) -> R {
        prim("sequence<octet>")
    }
    fn serialize_none(self) -> R {
        Err(Unsupported("Option has no IDL counterpart here".into()))
    }
    fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> R {
        Err(Unsupported("Option has no IDL counterpart here".into()))
    }
    fn serialize_unit(self) -> R {
        Err(Unsupported("unit".into()))
    }
    fn serialize_unit_struct(self, n: &'static str) -> R {
        Err(Unsupported(n.into()))
    }
    fn serialize_unit_variant(self, n: &'static str, _: u32, _: &'static str) -> R {
        Err(Unsupported(format!(
            "serde enum {n}: IDL enums must be idl_enum!"
        )))
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(self, name: &'static str, _: &T) -> R {
        prim(name)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        n: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> R {
        Err(Unsupported(n.into()))
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<SeqRecorder, Unsupported> {
        Ok(SeqRecorder(None))
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Unsupported> {
        Err(Unsupported("tuple".into()))
    }
    fn serialize_tuple_struct(
        self,
        n: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Unsupported> {
        Err(Unsupported(n.into()))
    }
    fn serialize_tuple_variant(
        self,
        n: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Unsupported> {
        Err(Unsupported(n.into()))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Unsupported> {
        Err(Unsupported("map".into()))
    }
    fn serialize_struct(self, name: &'static str, _: usize) -> Result<StructRecorder, Unsupported> {
        Ok(StructRecorder(name, Vec::new()))
    }
    fn serialize_struct_variant(
        self,
        n: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Unsupported> {
        Err(Unsupported(n.into()))
    }
}

impl ser::SerializeSeq for SeqRecorder {
    type Ok = Shape;
    type Error = Unsupported;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, v: &T) -> Result<(), Unsupported> {
        self.0 = Some(v.serialize(Recorder)?.0);
        Ok(())
    }
    fn end(self) -> R {
        let elem = self
            .0
            .ok_or_else(|| Unsupported("empty sequence: use a value with elements".into()))?;
        prim(&format!("sequence<{elem}>"))
    }
}

impl ser::SerializeStruct for StructRecorder {
    type Ok = Shape;
    type Error = Unsupported;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        v: &T,
    ) -> Result<(), Unsupported> {
        self.1.push((key.to_owned(), v.serialize(Recorder)?.0));
        Ok(())
    }
    fn end(self) -> R {
        Ok(Shape(self.0.to_owned(), self.1))
    }
}

// ---- the comparison ------------------------------------------------------------------

fn check_struct<T: Serialize>(idl: &Idl, value: &T, key_fields: Option<&[&str]>) -> String {
    let Shape(name, fields) = value.serialize(Recorder).expect("record shape");
    let Some(idl_fields) = idl.structs.get(&name) else {
        panic!("Rust type {name} is not in idl/sustainml.idl");
    };
    let ours: Vec<(String, String)> = fields;
    let theirs: Vec<(String, String)> = idl_fields
        .iter()
        .map(|(n, t, _)| (n.clone(), t.clone()))
        .collect();
    assert_eq!(
        ours, theirs,
        "{name}: fields (name, IDL type) differ from the IDL, in order"
    );
    let idl_keys: Vec<&str> = idl_fields
        .iter()
        .filter(|f| f.2)
        .map(|f| f.0.as_str())
        .collect();
    assert_eq!(
        key_fields.unwrap_or(&[]),
        idl_keys.as_slice(),
        "{name}: @key fields differ"
    );
    name
}

fn check_wire<T: WireType>(idl: &Idl, value: &T) -> String {
    let name = check_struct(idl, value, Some(T::KEY_FIELDS));
    assert_eq!(
        name,
        T::TYPE_NAME,
        "DDS type name differs from the struct name"
    );
    name
}

#[test]
fn rust_types_match_the_idl() {
    let idl = parse_idl();
    let checked = [
        check_struct(&idl, &samples::task_id(), None),
        check_wire(&idl, &samples::node_status()),
        check_wire(&idl, &samples::node_control()),
        check_wire(&idl, &samples::user_input()),
        check_wire(&idl, &samples::ml_model_metadata()),
        check_wire(&idl, &samples::app_requirements()),
        check_wire(&idl, &samples::hw_constraints()),
        check_wire(&idl, &samples::ml_model()),
        check_wire(&idl, &samples::hw_resource()),
        check_wire(&idl, &samples::co2_footprint()),
        check_wire(&idl, &samples::request()),
        check_wire(&idl, &samples::response()),
    ];
    let mut checked: Vec<_> = checked.into_iter().collect();
    checked.sort();
    let all: Vec<_> = idl.structs.keys().cloned().collect();
    assert_eq!(
        checked, all,
        "every IDL struct has a Rust type and vice versa"
    );
}

#[test]
fn rust_enums_match_the_idl() {
    let idl = parse_idl();
    let ours: BTreeMap<String, Vec<String>> = [
        (Status::IDL_TYPE, Status::IDL_NAMES),
        (TaskStatus::IDL_TYPE, TaskStatus::IDL_NAMES),
        (ErrorCode::IDL_TYPE, ErrorCode::IDL_NAMES),
        (CmdNode::IDL_TYPE, CmdNode::IDL_NAMES),
        (CmdTask::IDL_TYPE, CmdTask::IDL_NAMES),
    ]
    .into_iter()
    .map(|(n, v)| (n.to_owned(), v.iter().map(|s| (*s).to_owned()).collect()))
    .collect();
    assert_eq!(ours, idl.enums);
}

#[test]
fn topic_table_uses_idl_type_names() {
    let idl = parse_idl();
    for topic in sustainml_types::TOPICS {
        assert!(
            idl.structs.contains_key(topic.type_name),
            "topic {} has type {} which the IDL does not define",
            topic.name,
            topic.type_name
        );
    }
}
