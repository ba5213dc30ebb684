use super::*;

fn user(extra: &str) -> UserInputImpl {
    UserInputImpl {
        extra_data: extra.as_bytes().to_vec(),
        ..Default::default()
    }
}

#[test]
fn keyword_spotter_limit_of_16_mb_is_read() {
    // The keyword-spotting example's 16 MB memory limit reaches the model selection.
    let out = constraints(&user(
        r#"{"max_memory_footprint": 16, "hardware_required": "Ultra96-V2", "model_family": "cnn"}"#,
    ))
    .expect("constraints");
    assert_eq!(out.max_memory_footprint, 16);
    assert_eq!(out.hardware_required, vec!["Ultra96-V2".to_owned()]);
}

#[test]
fn sizes_may_be_strings_with_mb() {
    // A UI that sends the size as text ("16 MB") is understood.
    for v in [r#""16""#, r#""16 MB""#, r#""16MB""#, "16.0"] {
        let out = constraints(&user(&format!(r#"{{"max_memory_footprint": {v}}}"#)))
            .expect("constraints");
        assert_eq!(out.max_memory_footprint, 16, "{v}");
    }
}

#[test]
fn empty_extra_data_gives_the_reference_defaults() {
    // With no settings the node proposes what the reference proposes.
    for extra in ["", "  ", "{}"] {
        let out = constraints(&user(extra)).expect("constraints");
        assert_eq!(out.max_memory_footprint, DEFAULT_MAX_MEMORY_FOOTPRINT);
        assert_eq!(out.hardware_required, vec![DEFAULT_HARDWARE.to_owned()]);
    }
    assert_eq!(
        constraints(&user("")).expect("constraints").extra_data,
        b"{}"
    );
}

#[test]
fn hardware_lists_are_kept_in_order() {
    // Several acceptable devices are passed on as given.
    let out = constraints(&user(
        r#"{"hardware_required": ["ZCU102", " PIM_AI_4chip "]}"#,
    ))
    .expect("constraints");
    assert_eq!(out.hardware_required, vec!["ZCU102", "PIM_AI_4chip"]);
}

#[test]
fn user_extra_data_is_copied_verbatim() {
    // Downstream nodes see the user's settings (hf_token, model_family…) as the reference passes them.
    let raw = r#"{"hf_token":"x","model_family":"bert","max_memory_footprint":64}"#;
    assert_eq!(
        constraints(&user(raw)).expect("constraints").extra_data,
        raw.as_bytes()
    );
}

#[test]
fn bad_values_name_the_key() {
    // A wrong setting fails the task with the key named, instead of a silent default.
    let cases = [
        (r#"{"max_memory_footprint": "big"}"#, "max_memory_footprint"),
        (r#"{"max_memory_footprint": -4}"#, "max_memory_footprint"),
        (r#"{"max_memory_footprint": 1.5}"#, "max_memory_footprint"),
        (r#"{"max_memory_footprint": 1e12}"#, "max_memory_footprint"),
        (r#"{"max_memory_footprint": true}"#, "max_memory_footprint"),
        (r#"{"hardware_required": 3}"#, "hardware_required"),
        (r#"{"hardware_required": ["ok", 3]}"#, "hardware_required"),
        (r#"{"hardware_required": {"a": 1}}"#, "hardware_required"),
        ("{oops", "extra_data is not valid JSON"),
        ("[16]", "extra_data must be a JSON object"),
    ];
    for (extra, needle) in cases {
        let e = constraints(&user(extra)).expect_err(extra).to_string();
        assert!(e.contains(needle), "{extra}: {e:?} should name {needle}");
    }
}

#[test]
fn configuration_gives_defaults_and_refuses_the_rest() {
    // The orchestrator can ask the defaults; anything else is an error.
    let v: Value = serde_json::from_str(&configure("defaults").expect("answer")).expect("JSON");
    assert_eq!(v["defaults"]["hardware_required"], json!(DEFAULT_HARDWARE));
    assert_eq!(v["defaults"]["max_memory_footprint"], json!(100));
    let e = configure("hardwares").expect_err("unsupported");
    assert!(e
        .message()
        .contains("Unsupported configuration request: hardwares"));
}
