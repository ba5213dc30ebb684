use super::*;

fn problem(
    modality: &str,
    short: &str,
    definition: &str,
    inputs: &[&str],
    outputs: &[&str],
) -> UserInputImpl {
    UserInputImpl {
        modality: modality.into(),
        problem_short_description: short.into(),
        problem_definition: definition.into(),
        inputs: inputs.iter().map(|s| s.to_string()).collect(),
        outputs: outputs.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

fn with_extra(mut u: UserInputImpl, extra: &str) -> UserInputImpl {
    u.extra_data = extra.as_bytes().to_vec();
    u
}

fn goal_of(u: &UserInputImpl) -> Vec<String> {
    metadata(u).expect("metadata").ml_model_metadata
}

fn extra(out: &MLModelMetadataImpl) -> Value {
    serde_json::from_slice(&out.extra_data).expect("extra_data is JSON")
}

fn camera_classifier() -> UserInputImpl {
    problem(
        "Image",
        "Sort defective parts on a factory camera",
        "Classify each photo of a machined part as OK or defective, in a plant in France.",
        &["camera image 224x224"],
        &["defect class"],
    )
}

fn ticket_classifier() -> UserInputImpl {
    problem(
        "Text",
        "Route customer support tickets",
        "Classify incoming support e-mails into billing, technical and sales topics; served from a cloud region.",
        &["e-mail text"],
        &["topic label"],
    )
}

fn keyword_spotter() -> UserInputImpl {
    problem(
        "Audio",
        "Keyword spotting on a microcontroller",
        "Detect the wake word 'hey robot' and ten spoken commands from microphone audio, within 16 MB of memory.",
        &["1 s microphone audio clip"],
        &["command label"],
    )
}

#[test]
fn camera_defect_sorter_is_image_classification() {
    // Example 1: a camera classifier gets image-classification, with the cue words as keywords.
    let out = metadata(&camera_classifier()).expect("metadata");
    assert_eq!(out.ml_model_metadata, vec!["image-classification"]);
    assert!(
        out.keywords.contains(&"classify".to_owned()),
        "{:?}",
        out.keywords
    );
    let x = extra(&out);
    assert_eq!(x["source"], json!("cues"));
    assert_eq!(x["classification"]["modality"], json!("image"));
    assert!(x["classification"]["scores"]["image-classification"].as_u64() > Some(0));
}

#[test]
fn support_ticket_router_is_text_classification() {
    // Example 2: routing tickets by topic is text-classification.
    assert_eq!(goal_of(&ticket_classifier()), vec!["text-classification"]);
}

#[test]
fn keyword_spotter_is_audio_classification() {
    // Example 3: keyword spotting picks one label per clip from a fixed set: audio-classification,
    // not speech-recognition (which transcribes free speech).
    let out = metadata(&keyword_spotter()).expect("metadata");
    assert_eq!(out.ml_model_metadata, vec!["audio-classification"]);
    let c = &extra(&out)["classification"]["scores"];
    assert!(c["audio-classification"].as_u64() > c["speech-recognition"].as_u64());
    assert!(out.keywords.contains(&"keyword spotting".to_owned()));
}

#[test]
fn other_goals_are_recognised() {
    // Each family of problems reaches its own goal.
    let cases = [
        (
            problem(
                "image",
                "Find pedestrians",
                "Draw bounding boxes around people",
                &[],
                &[],
            ),
            "object-detection",
        ),
        (
            problem(
                "vision",
                "Road scenes",
                "Segment every pixel into road, car, sky",
                &[],
                &["mask"],
            ),
            "semantic-segmentation",
        ),
        (
            problem(
                "speech",
                "Meeting notes",
                "Transcribe meetings",
                &[],
                &["transcript"],
            ),
            "speech-recognition",
        ),
        (
            problem(
                "Time series",
                "Grid load",
                "Forecast tomorrow's demand",
                &[],
                &[],
            ),
            "time-series-forecasting",
        ),
        (
            problem(
                "tabular",
                "Houses",
                "Predict the sale price of a house",
                &[],
                &["price"],
            ),
            "tabular-regression",
        ),
        (
            problem("tabular", "Bank", "Detect fraud in card payments", &[], &[]),
            "tabular-classification",
        ),
        (
            problem("text", "News", "Summarize long articles", &[], &[]),
            "summarization",
        ),
        (
            problem(
                "text",
                "Docs",
                "Translate manuals from German into English",
                &[],
                &[],
            ),
            "translation",
        ),
        (
            problem(
                "text",
                "Helpdesk",
                "A chatbot that answers questions",
                &[],
                &[],
            ),
            "text-generation",
        ),
        (
            problem(
                "text",
                "Contracts",
                "Find named entities such as parties and dates",
                &[],
                &[],
            ),
            "token-classification",
        ),
    ];
    for (u, goal) in cases {
        assert_eq!(goal_of(&u), vec![goal], "{}", u.problem_definition);
    }
}

#[test]
fn empty_modality_is_inferred_from_the_inputs() {
    // A user who leaves the modality blank still gets a goal of the right modality.
    let mut u = keyword_spotter();
    u.modality.clear();
    let out = metadata(&u).expect("metadata");
    assert_eq!(out.ml_model_metadata, vec!["audio-classification"]);
    assert_eq!(extra(&out)["classification"]["modality"], json!("audio"));
}

#[test]
fn ties_go_to_the_goal_listed_first_and_are_reported() {
    // Equal evidence gives a stable answer, and the explanation says it was a tie.
    let c = classify(
        Catalog::shipped().expect("catalog"),
        &problem("image", "x", "track the area", &[], &[]),
    )
    .expect("classify");
    assert_eq!(c.goal, "object-detection");
    assert_eq!(c.tied_with, vec!["semantic-segmentation"]);
}

#[test]
fn ui_goal_and_model_selected_are_honoured() {
    // The UI's goal is used as given; a model chosen by the user leaves the goal list empty.
    let u = with_extra(
        ticket_classifier(),
        r#"{"goal": "summarization", "type": "x"}"#,
    );
    let out = metadata(&u).expect("metadata");
    assert_eq!(out.ml_model_metadata, vec!["summarization"]);
    assert_eq!(extra(&out)["source"], json!("ui_goal"));
    assert_eq!(extra(&out)["type"], json!("x"));
    let u = with_extra(keyword_spotter(), r#"{"model_selected": "my_kws.onnx"}"#);
    let out = metadata(&u).expect("metadata");
    assert!(out.ml_model_metadata.is_empty());
    assert_eq!(extra(&out)["model_selected"], json!("my_kws.onnx"));
    // A UI goal needs no cue to match.
    let u = with_extra(
        problem("image", "zzz", "", &[], &[]),
        r#"{"goal": "Object-Detection"}"#,
    );
    assert_eq!(goal_of(&u), vec!["object-detection"]);
}

#[test]
fn bad_inputs_name_the_cause() {
    // Each bad input fails the task with a message that names the field or the cause.
    let cases = [
        (
            problem("smell", "x", "classify", &[], &[]),
            "unknown modality \"smell\"",
        ),
        (
            problem("image", "hello", "world", &[], &[]),
            "no goal matches",
        ),
        (
            with_extra(camera_classifier(), r#"{"goal": "image-captioning"}"#),
            "extra_data.goal",
        ),
        (
            with_extra(camera_classifier(), r#"{"goal": 7}"#),
            "extra_data.goal",
        ),
        (
            with_extra(camera_classifier(), r#"{"model_selected": []}"#),
            "extra_data.model_selected",
        ),
        (
            with_extra(camera_classifier(), "{nope"),
            "extra_data is not valid JSON",
        ),
        (
            with_extra(camera_classifier(), "\"goal\""),
            "extra_data must be a JSON object",
        ),
    ];
    for (u, needle) in cases {
        let e = metadata(&u).expect_err(needle).to_string();
        assert!(e.contains(needle), "{e:?} should contain {needle:?}");
    }
}

fn ask(request: &str) -> Value {
    serde_json::from_str(&configure(request).expect(request)).expect("JSON")
}

#[test]
fn configuration_queries_answer_from_the_catalogue() {
    // The UI's modality, goal and metric menus are filled from the same data the node decides with.
    let m = ask("modality");
    assert_eq!(
        m["modalities"],
        json!("image, text, audio, tabular, time-series")
    );
    assert!(m["goals"]
        .as_str()
        .is_some_and(|g| g.contains("speech-recognition")));
    let io = ask("in_out_modalities");
    assert!(io["outputs"]
        .as_str()
        .is_some_and(|o| o.contains("bounding boxes")));
    assert_eq!(
        ask("problem_from_modality, Audio")["goals"],
        json!("speech-recognition, audio-classification")
    );
    assert!(ask("metrics, problem: object-detection")["metrics"]
        .as_str()
        .is_some_and(|s| s.contains("mAP")));
    let audio = ask("metrics, modality: audio")["metrics"].clone();
    assert_eq!(audio, json!("WER, CER, accuracy, F1"));
    assert!(ask("metrics, all")["metrics"]
        .as_str()
        .is_some_and(|s| s.contains("mIoU")));
    assert!(ask("metrics, translation")["metrics"]
        .as_str()
        .is_some_and(|s| s.contains("BLEU")));
    for bad in [
        "problem_from_modality, smell",
        "metrics, problem: nope",
        "metrics,",
        "model_info, x",
    ] {
        assert!(configure(bad).is_err(), "{bad}");
    }
    let e = configure("dataset_path, a.csv").expect_err("unsupported");
    assert!(e
        .message()
        .starts_with("Unsupported configuration request: dataset_path"));
}

#[test]
fn catalogue_has_exactly_the_supported_goals() {
    // The node only ever answers with these Hugging Face pipeline tags.
    let names: Vec<&str> = Catalog::shipped()
        .expect("catalog")
        .goals
        .iter()
        .map(|g| g.name.as_str())
        .collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        [
            "audio-classification",
            "image-classification",
            "object-detection",
            "semantic-segmentation",
            "speech-recognition",
            "summarization",
            "tabular-classification",
            "tabular-regression",
            "text-classification",
            "text-generation",
            "time-series-forecasting",
            "token-classification",
            "translation",
        ]
    );
}
