//! Protects the model proposal rule users rely on: the goal, memory, accuracy and
//! exclusions are honoured, later iterations go below the baseline's footprint, and
//! every refusal says why.

use sustainml_ml_model::{catalogue::SHIPPED, propose, Catalogue, FileFacts, Outcome, Request};

fn catalogue() -> Catalogue {
    // Shipped files are read by the device crate in the node; here a fixed answer.
    Catalogue::parse(SHIPPED, |_| {
        Ok(FileFacts {
            params: 50_000,
            gmacs: 0.001,
        })
    })
    .expect("shipped catalogue")
}

fn chosen(outcome: &Outcome) -> &str {
    match outcome {
        Outcome::Proposed { model, .. } => &model.name,
        Outcome::NoModel { reason, .. } => panic!("no model: {reason}"),
    }
}

fn req(goal: &str) -> Request {
    Request {
        goal: goal.into(),
        max_memory_mb: 100.0,
        iteration: 1,
        ..Request::default()
    }
}

#[test]
fn the_cheapest_model_near_the_best_score_is_proposed() {
    let c = catalogue();
    // efficientnet_b0 has the best score and resnet50 is not within 0.02 of it.
    assert_eq!(
        chosen(&propose(&c, &req("image-classification")).expect("expected a value")),
        "efficientnet_b0"
    );
    // BERT-base's 440 MB of weights exceed 100 MB; TinyBERT beats DistilBERT.
    assert_eq!(
        chosen(&propose(&c, &req("text-classification")).expect("expected a value")),
        "tinybert-4l-312d"
    );
    let mut kws = req("audio-classification");
    kws.max_memory_mb = 16.0;
    // DS-CNN-M is within 0.02 of DS-CNN-L and needs fewer MACs.
    assert_eq!(
        chosen(&propose(&c, &kws).expect("expected a value")),
        "ds_cnn_m"
    );
}

#[test]
fn memory_accuracy_and_exclusions_filter_candidates() {
    let c = catalogue();
    let mut r = req("image-classification");
    r.max_memory_mb = 15.0;
    r.restrained = vec!["efficientnet_b0".into()];
    let out = propose(&c, &r).expect("expected a value");
    assert_eq!(chosen(&out), "mobilenet_v2");
    let Outcome::Proposed { rejected, .. } = &out else {
        unreachable!()
    };
    assert_eq!(rejected["efficientnet_b0"], "excluded by model_restrains");
    assert!(rejected["resnet50"].contains("above max_memory_footprint 15 MB"));

    r.min_score = Some(0.80);
    let Outcome::NoModel { reason, rejected } = propose(&c, &r).expect("expected a value") else {
        panic!("expected NO_MODEL")
    };
    assert!(reason.contains("no image-classification model fits"));
    assert!(rejected["tiny_cnn"].contains("no published score"));
}

#[test]
fn a_later_iteration_goes_below_the_baseline_footprint() {
    let c = catalogue();
    let mut r = req("image-classification");
    r.iteration = 2;
    r.baseline_model = Some("efficientnet_b0".into());
    r.baseline_carbon = Some(0.39);
    let out = propose(&c, &r).expect("expected a value");
    assert_eq!(chosen(&out), "mobilenet_v2");
    let Outcome::Proposed {
        estimated_carbon,
        model,
        ..
    } = &out
    else {
        unreachable!()
    };
    assert!(model.gmacs < 0.39);
    let est = estimated_carbon.expect("estimate");
    assert!((est - 0.39 * 0.30 / 0.39).abs() < 1e-12);

    // Nothing is cheaper than the cheapest: NO_MODEL says so.
    r.baseline_model = Some("tiny_cnn".into());
    let Outcome::NoModel { reason, .. } = propose(&c, &r).expect("expected a value") else {
        panic!("expected NO_MODEL")
    };
    assert!(
        reason.contains("lower footprint than the baseline tiny_cnn"),
        "{reason}"
    );
}

#[test]
fn bad_requests_name_the_cause() {
    let c = catalogue();
    let err = propose(&c, &req("juggling")).expect_err("expected an error");
    assert!(err.contains("unknown goal \"juggling\""), "{err}");
    assert!(propose(&c, &req(""))
        .expect_err("expected an error")
        .contains("no ML goal"));
    let mut r = req("image-classification");
    r.selected = Some("gpt-9".into());
    assert!(propose(&c, &r)
        .expect_err("expected an error")
        .contains("model_selected \"gpt-9\""));
    r.selected = None;
    r.iteration = 2;
    r.baseline_model = Some("mystery".into());
    assert!(propose(&c, &r)
        .expect_err("expected an error")
        .contains("baseline model \"mystery\""));
}

#[test]
fn a_selected_model_is_proposed_as_is() {
    let c = catalogue();
    let mut r = req("image-classification");
    r.selected = Some("resnet18".into());
    assert_eq!(
        chosen(&propose(&c, &r).expect("expected a value")),
        "resnet18"
    );
}

#[test]
fn the_shipped_catalogue_loads_with_the_shipped_files() {
    // Protects the node's start: the catalogue parses and every shipped file is a
    // readable ONNX graph whose parameters and MACs replace the row's zeros.
    let c = sustainml_ml_model::files::shipped_catalogue().expect("shipped catalogue");
    for m in c.models().iter().filter(|m| m.file.is_some()) {
        assert!(
            m.params > 0 && m.gmacs > 0.0,
            "{}: {} params, {} GMACs",
            m.name,
            m.params,
            m.gmacs
        );
    }
    let configured =
        sustainml_ml_model::configure(&c, "model_from_goal, audio-classification, CPU")
            .expect("expected a value");
    let v: serde_json::Value = serde_json::from_str(&configured).expect("expected a value");
    assert_eq!(v["hardware"], "CPU");
    assert!(
        v["models"]
            .as_str()
            .expect("expected a value")
            .starts_with("kws_cnn"),
        "{configured}"
    );
    let err = sustainml_ml_model::configure(&c, "hf_search, cats").expect_err("expected an error");
    assert!(err
        .message()
        .contains("Unsupported configuration request: hf_search, cats"));
}

#[test]
fn every_model_not_chosen_says_why() {
    let c = catalogue();
    let Outcome::Proposed { rejected, .. } =
        propose(&c, &req("image-classification")).expect("expected a value")
    else {
        panic!("expected a model")
    };
    assert!(rejected["mobilenet_v2"].contains("more than 0.02 below the best (0.7769)"));
    assert!(rejected["tiny_cnn"].contains("no published score"));
    assert!(rejected["resnet50"].contains("above max_memory_footprint"));
}
