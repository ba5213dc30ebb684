use super::*;

/// The intensity column of the shipped CSV row whose first two fields are `kind,key`,
/// read independently of the crate's parser.
fn shipped_intensity(kind: &str, key: &str) -> f64 {
    let prefix = format!("{kind},{key},");
    let line = SHIPPED_CSV
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no row {prefix}"));
    line.split(',')
        .nth(4)
        .and_then(|v| v.parse().ok())
        .expect("intensity column")
}

fn user(continent: &str, region: &str, extra: &str) -> UserInputImpl {
    UserInputImpl {
        geo_location_continent: continent.into(),
        geo_location_region: region.into(),
        extra_data: extra.as_bytes().to_vec(),
        ..Default::default()
    }
}

fn model(name: &str) -> MLModelImpl {
    MLModelImpl {
        model: name.into(),
        ..Default::default()
    }
}

fn hw(power_w: f64, latency_ms: f64) -> HWResourceImpl {
    HWResourceImpl {
        power_consumption: power_w,
        latency: latency_ms,
        ..Default::default()
    }
}

fn extra(out: &CO2FootprintImpl) -> Value {
    serde_json::from_slice(&out.extra_data).expect("extra_data is JSON")
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * b.abs().max(1e-30)
}

#[test]
fn france_camera_classifier_uses_frances_grid() {
    // A model run 1000 times in France is charged France's intensity from the shipped table.
    let out = estimate(
        &model("resnet18"),
        &user("Europe", "France", r#"{"num_inferences": 1000}"#),
        &hw(5.0, 20.0),
    )
    .expect("estimate");
    let ci = shipped_intensity("country", "FRA");
    let kwh = 5.0 * 20.0 * 1000.0 / 3.6e9;
    assert!(close(out.energy_consumption, kwh));
    assert_eq!(out.carbon_intensity, ci);
    assert!(close(out.carbon_footprint, kwh * ci / 1000.0));
    let x = extra(&out);
    assert_eq!(x["fallback"], json!(false));
    assert_eq!(x["mode"], json!("onnx_hw_only"));
    assert_eq!(x["num_inferences"], json!(1000));
    assert_eq!(x["carbon_intensity_place"]["key"], json!("FRA"));
}

#[test]
fn cloud_region_uses_its_own_row() {
    // A text classifier served from gcp:europe-west1 is charged that region's intensity.
    let out = estimate(
        &model("distilbert"),
        &user("Europe", "gcp:europe-west1", ""),
        &hw(70.0, 8.0),
    )
    .expect("estimate");
    let ci = shipped_intensity("cloud", "gcp:europe-west1");
    let kwh = 70.0 * 8.0 / 3.6e9;
    assert_eq!(out.carbon_intensity, ci);
    assert!(close(out.carbon_footprint, kwh * ci / 1000.0));
}

#[test]
fn region_spellings_resolve_to_the_same_place() {
    // Users may write a country as a name, ISO2 or ISO3 code, and clouds as provider:region.
    let t = IntensityTable::shipped().expect("table");
    for q in ["France", "fr", "FRA", " france "] {
        assert_eq!(t.find(q).map(|r| r.key.as_str()), Some("FRA"), "{q}");
    }
    let aws = t.find("aws:eu-west-3").expect("aws region");
    assert_eq!(aws.g_per_kwh, shipped_intensity("country", "FRA"));
    assert_eq!(
        t.find("Azure:FranceCentral").map(|r| r.key.as_str()),
        Some("azure:francecentral")
    );
    assert_eq!(
        t.find("europe-west1").map(|r| r.key.as_str()),
        Some("gcp:europe-west1")
    );
}

#[test]
fn continent_only_uses_the_continent_average() {
    // A user who names only a continent gets its average, not a fallback.
    let out = estimate(&model("m"), &user("Europe", "", ""), &hw(1.0, 1.0)).expect("estimate");
    assert_eq!(
        out.carbon_intensity,
        shipped_intensity("continent", "Europe")
    );
    assert_eq!(extra(&out)["fallback"], json!(false));
}

#[test]
fn continent_averages_are_generation_weighted_country_means() {
    // The shipped continent rows are what the country rows say, weighted by generation.
    let t = IntensityTable::shipped().expect("table");
    for cont in t.rows().iter().filter(|r| r.kind == RowKind::Continent) {
        let (mut w, mut total) = (0.0, 0.0);
        for c in t
            .rows()
            .iter()
            .filter(|r| r.kind == RowKind::Country && r.continent == cont.key)
        {
            let twh = c.total_twh.expect("country generation");
            w += c.g_per_kwh * twh;
            total += twh;
        }
        assert!((w / total - cont.g_per_kwh).abs() < 0.001, "{}", cont.key);
    }
}

#[test]
fn unknown_region_falls_back_to_world_and_says_so() {
    // An unknown place never fails the task: the world average is used and flagged.
    let out = estimate(&model("m"), &user("", "Atlantis", ""), &hw(1.0, 1.0)).expect("estimate");
    assert_eq!(out.carbon_intensity, shipped_intensity("world", "world"));
    let x = extra(&out);
    assert_eq!(x["fallback"], json!(true));
    assert!(x["fallback_reason"]
        .as_str()
        .is_some_and(|s| s.contains("Atlantis")));
    assert!(x["carbon_intensity_source"]
        .as_str()
        .is_some_and(|s| s.contains("world_average")));
}

#[test]
fn no_model_gives_zeros() {
    // When ML_MODEL found no model the footprint is zero, as in the reference.
    let out = estimate(
        &model(NO_MODEL),
        &user("Europe", "France", ""),
        &hw(-1.0, 0.0),
    )
    .expect("estimate");
    assert_eq!(
        (
            out.carbon_footprint,
            out.energy_consumption,
            out.carbon_intensity
        ),
        (0.0, 0.0, 0.0)
    );
    assert_eq!(extra(&out)["mode"], json!("no_model"));
}

#[test]
fn reference_keys_carry_over() {
    // The orchestrator's re-iteration reads num_outputs and model_restrains (+ this model).
    let out = estimate(
        &model("vit"),
        &user(
            "",
            "FR",
            r#"{"num_outputs": 3, "model_restrains": ["resnet"]}"#,
        ),
        &hw(1.0, 1.0),
    )
    .expect("estimate");
    let x = extra(&out);
    assert_eq!(x["num_outputs"], json!(3));
    assert_eq!(x["model_restrains"], json!(["resnet", "vit"]));
}

#[test]
fn bad_inputs_name_the_field() {
    // Each bad input fails the task with a message that names what was wrong.
    let fr = user("", "France", "");
    let cases: Vec<(Result<CO2FootprintImpl, CarbonError>, &str)> = vec![
        (
            estimate(&model("m"), &fr, &hw(-2.0, 1.0)),
            "hw_resources.power_consumption",
        ),
        (
            estimate(&model("m"), &fr, &hw(2.0, f64::NAN)),
            "hw_resources.latency",
        ),
        (
            estimate(&model("m"), &fr, &hw(f64::INFINITY, 1.0)),
            "hw_resources.power_consumption",
        ),
        (
            estimate(&model("m"), &user("", "", "{not json"), &hw(1.0, 1.0)),
            "extra_data is not valid JSON",
        ),
        (
            estimate(&model("m"), &user("", "", "[1]"), &hw(1.0, 1.0)),
            "extra_data must be a JSON object",
        ),
        (
            estimate(
                &model("m"),
                &user("", "", r#"{"num_inferences": "many"}"#),
                &hw(1.0, 1.0),
            ),
            "extra_data.num_inferences",
        ),
        (
            estimate(
                &model("m"),
                &user("", "", r#"{"num_inferences": -5}"#),
                &hw(1.0, 1.0),
            ),
            "extra_data.num_inferences",
        ),
        (
            estimate(
                &model("m"),
                &user("", "", r#"{"model_restrains": "resnet"}"#),
                &hw(1.0, 1.0),
            ),
            "extra_data.model_restrains",
        ),
    ];
    for (result, needle) in cases {
        let e = result.expect_err(needle).to_string();
        assert!(e.contains(needle), "{e:?} should name {needle}");
    }
}

#[test]
fn configuration_answers_intensity_queries() {
    // The orchestrator can ask the intensity of a place; other requests are refused.
    let v: Value = serde_json::from_str(&configure("intensity, gcp:europe-west9").expect("answer"))
        .expect("JSON");
    assert_eq!(
        v["carbon_intensity"],
        json!(shipped_intensity("cloud", "gcp:europe-west9"))
    );
    assert_eq!(v["fallback"], json!(false));
    let v: Value =
        serde_json::from_str(&configure("intensity, nowhere").expect("answer")).expect("JSON");
    assert_eq!(v["fallback"], json!(true));
    let e = configure("hardwares").expect_err("unsupported");
    assert!(e
        .message()
        .contains("Unsupported configuration request: hardwares"));
}

#[test]
fn every_country_has_a_continent_and_codes() {
    // Lookups by ISO2 code and continent averages cover every country of the data.
    let t = IntensityTable::shipped().expect("table");
    let countries: Vec<_> = t
        .rows()
        .iter()
        .filter(|r| r.kind == RowKind::Country)
        .collect();
    assert!(countries.len() > 200);
    for c in countries {
        assert!(!c.continent.is_empty() && c.iso2.is_some(), "{}", c.key);
    }
}
