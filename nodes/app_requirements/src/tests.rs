use super::*;

fn user(short: &str, definition: &str, extra: &str) -> UserInputImpl {
    UserInputImpl {
        problem_short_description: short.into(),
        problem_definition: definition.into(),
        extra_data: extra.as_bytes().to_vec(),
        ..Default::default()
    }
}

fn reqs(u: &UserInputImpl) -> Vec<String> {
    requirements(u).expect("requirements").app_requirements
}

#[test]
fn builtin_patterns_compile() {
    // Every rule of the text scanner is active (none silently dropped).
    assert!(text::patterns_compile());
}

#[test]
fn camera_classifier_needs_speed_accuracy_and_the_device() {
    // Example 1: a real-time camera classifier states latency, fps, accuracy and on-device.
    let u = user(
        "Sort defective parts on a factory camera",
        "Classify each part in real-time at 30 fps, under 50 ms per image, with 95% accuracy, running on the device.",
        "",
    );
    assert_eq!(
        reqs(&u),
        [
            "latency<=50ms",
            "fps>=30",
            "accuracy>=0.95",
            "real-time",
            "on-device"
        ]
    );
}

#[test]
fn cloud_ticket_router_needs_privacy_batch_and_budget() {
    // Example 2: a cloud text classifier states its budget, privacy and batch processing.
    let u = user(
        "Route customer support tickets",
        "Classify e-mails in nightly batch jobs; the data is confidential (GDPR). Budget of €200 per month.",
        "",
    );
    assert_eq!(reqs(&u), ["budget<=200EUR", "privacy", "batch"]);
}

#[test]
fn keyword_spotter_needs_memory_power_and_streaming() {
    // Example 3: a keyword spotter on a microcontroller states memory, power and latency in any unit.
    let u = user(
        "Keyword spotting on a microcontroller",
        "Listen continuously to the microphone; answer within 0.1 s, within 16 MB of memory, below 5 mW.",
        "",
    );
    assert_eq!(
        reqs(&u),
        [
            "latency<=100ms",
            "memory<=16MB",
            "power<=0.005W",
            "on-device",
            "streaming"
        ]
    );
}

#[test]
fn units_are_normalised_and_the_strictest_value_kept() {
    // Requirements compare across problems: ms, MB, W and fractions, one per kind.
    assert_eq!(
        from_text("under 2 seconds, latency of 400 ms, within 512 KB of RAM, max 1.5 GB")
            .iter()
            .map(|r| r.text.as_str())
            .collect::<Vec<_>>(),
        ["latency<=400ms", "memory<=0.5MB"]
    );
    assert_eq!(
        from_text("accuracy of at least 0.8, ideally 92% accurate")
            .iter()
            .map(|r| r.text.as_str())
            .collect::<Vec<_>>(),
        ["accuracy>=0.92"]
    );
}

#[test]
fn extra_data_overrides_the_text() {
    // Settings chosen in the UI win over what the text implied, and false removes a flag.
    let u = user(
        "Detect people",
        "Under 50 ms, on-device, streaming video.",
        r#"{"max_latency_ms": 20, "on_device": false, "processing": "batch",
            "min_accuracy": 90, "budget": 1000, "budget_currency": "usd",
            "app_requirements": ["ISO 26262"]}"#,
    );
    assert_eq!(
        reqs(&u),
        [
            "latency<=20ms",
            "accuracy>=0.9",
            "budget<=1000USD",
            "batch",
            "ISO 26262"
        ]
    );
}

#[test]
fn output_explains_each_requirement() {
    // The UI can show where each requirement came from.
    let out = requirements(&user("", "at least 25 fps", r#"{"privacy": true}"#)).expect("ok");
    let v: Value = serde_json::from_slice(&out.extra_data).expect("JSON");
    assert_eq!(v["requirements"][0]["requirement"], json!("fps>=25"));
    assert_eq!(v["requirements"][0]["from"], json!("text \"25 fps\""));
    assert_eq!(v["requirements"][1]["from"], json!("extra_data.privacy"));
    let none = requirements(&user("Cats", "Tell cats from dogs", "")).expect("ok");
    assert!(none.app_requirements.is_empty());
}

#[test]
fn bad_extra_data_names_the_key() {
    // A wrong setting fails the task with the key named.
    let cases = [
        ("{bad", "extra_data is not valid JSON"),
        ("[]", "extra_data must be a JSON object"),
        (r#"{"max_latency_ms": "fast"}"#, "extra_data.max_latency_ms"),
        (r#"{"min_fps": -3}"#, "extra_data.min_fps"),
        (r#"{"min_accuracy": 250}"#, "extra_data.min_accuracy"),
        (r#"{"real_time": "yes"}"#, "extra_data.real_time"),
        (r#"{"processing": "sometimes"}"#, "extra_data.processing"),
        (
            r#"{"app_requirements": [1]}"#,
            "extra_data.app_requirements",
        ),
        (
            r#"{"budget": 5, "budget_currency": 3}"#,
            "extra_data.budget_currency",
        ),
    ];
    for (extra, needle) in cases {
        let e = requirements(&user("", "", extra))
            .expect_err(extra)
            .to_string();
        assert!(e.contains(needle), "{e:?} should name {needle}");
    }
}

#[test]
fn configuration_lists_the_kinds() {
    // The orchestrator can ask which requirements this node understands.
    let v: Value =
        serde_json::from_str(&configure("requirement_kinds").expect("answer")).expect("JSON");
    assert!(v["kinds"]
        .as_str()
        .is_some_and(|k| k.starts_with("latency, fps, accuracy")));
    assert_eq!(v["examples"]["latency"], json!("latency<=50ms"));
    assert!(v["extra_data_keys"]["max_latency_ms"].is_string());
    let e = configure("param1").expect_err("unsupported");
    assert!(e
        .message()
        .contains("Unsupported configuration request: param1"));
}
