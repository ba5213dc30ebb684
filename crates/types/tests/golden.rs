//! Protects byte-for-byte compatibility with Fast DDS 2.9: for every type, our encoder
//! writes exactly the payload Fast DDS wrote for the same value, our decoder reads
//! Fast DDS's payload back to that value, and our instance key hash equals Fast DDS's.
//!
//! The fixtures in `tests/golden/` come from the real Fast DDS program in
//! `tests/fastdds` (regenerate with `tests/fastdds/regen-golden.sh`).

use std::fmt::Debug;
use std::path::PathBuf;

use serde::{de::DeserializeOwned, Serialize};
use sustainml_types::{codec, samples, KeyFields, WireType};
use sustainml_types::{
    AppRequirementsImpl, CO2FootprintImpl, HWConstraintsImpl, HWResourceImpl, MLModelImpl,
    MLModelMetadataImpl, NodeControlImpl, NodeStatusImpl, RequestTypeImpl, ResponseTypeImpl,
    TaskIdImpl, UserInputImpl,
};

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read golden fixture {}: {e} (regenerate with tests/fastdds/regen-golden.sh)",
            path.display()
        )
    })
}

fn check_payload<T>(type_name: &str, variant: &str, value: &T)
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let theirs = fixture(&format!("{type_name}-{variant}.cdr"));
    let ours = codec::encode(value).expect("encode");
    assert_eq!(
        codec::Hex(&ours).to_string(),
        codec::Hex(&theirs).to_string(),
        "{type_name}-{variant}: our encoding differs from Fast DDS's"
    );
    let decoded: T = codec::decode(&theirs).expect("decode Fast DDS payload");
    assert_eq!(
        &decoded, value,
        "{type_name}-{variant}: decoded value differs"
    );
}

fn check_key<T: WireType>(variant: &str, value: &T) {
    let name = T::TYPE_NAME;
    let theirs = String::from_utf8(fixture(&format!("{name}-{variant}.keyhash"))).expect("utf8");
    assert_eq!(
        value.key().key_hash().to_string(),
        theirs.trim(),
        "{name}-{variant}: our key hash differs from Fast DDS's"
    );
}

fn check<T: WireType + Default>(full: T) {
    check_payload(T::TYPE_NAME, "default", &T::default());
    check_payload(T::TYPE_NAME, "full", &full);
    check_key("default", &T::default());
    check_key("full", &full);
}

#[test]
fn task_id_matches_fast_dds() {
    check_payload("TaskIdImpl", "default", &TaskIdImpl::default());
    check_payload("TaskIdImpl", "full", &samples::task_id());
}

#[test]
fn node_status_matches_fast_dds() {
    check::<NodeStatusImpl>(samples::node_status());
}

#[test]
fn node_control_matches_fast_dds() {
    check::<NodeControlImpl>(samples::node_control());
}

#[test]
fn user_input_matches_fast_dds() {
    check::<UserInputImpl>(samples::user_input());
}

#[test]
fn ml_model_metadata_matches_fast_dds() {
    check::<MLModelMetadataImpl>(samples::ml_model_metadata());
}

#[test]
fn app_requirements_matches_fast_dds() {
    check::<AppRequirementsImpl>(samples::app_requirements());
}

#[test]
fn hw_constraints_matches_fast_dds() {
    check::<HWConstraintsImpl>(samples::hw_constraints());
}

#[test]
fn ml_model_matches_fast_dds() {
    check::<MLModelImpl>(samples::ml_model());
}

#[test]
fn hw_resource_matches_fast_dds() {
    check::<HWResourceImpl>(samples::hw_resource());
}

#[test]
fn co2_footprint_matches_fast_dds() {
    check::<CO2FootprintImpl>(samples::co2_footprint());
}

#[test]
fn request_matches_fast_dds() {
    check::<RequestTypeImpl>(samples::request());
}

#[test]
fn response_matches_fast_dds() {
    check::<ResponseTypeImpl>(samples::response());
}
