//! CARBON_FOOTPRINT_NODE: the carbon footprint of running the proposed model on the
//! proposed hardware, where the user runs it.
//!
//! Inputs (as in the reference): the model ([`MLModelImpl`]), the user's problem
//! ([`UserInputImpl`]) and the hardware evaluation ([`HWResourceImpl`]). The method is
//! a plain, checkable product, every term of which is reported in `extra_data`:
//!
//! - **Energy** `energy_consumption` in **kWh** =
//!   `power_consumption` (**W**) × `latency` (**ms per inference**) × `num_inferences`
//!   / 3.6 × 10⁹. `num_inferences` comes from the user's `extra_data` (a whole number
//!   ≥ 0, default 1).
//! - **Carbon intensity** `carbon_intensity` in **gCO2e/kWh** of the electricity where
//!   the model runs, looked up in the table shipped in `data/carbon_intensity.csv`
//!   (derived from codecarbon's data files, MIT licence; see `data/README.md`) by
//!   `geo_location_region`, else `geo_location_continent`, else the world average.
//!   The region may be a country (ISO alpha-3 or alpha-2 code, or name), a cloud region
//!   written `provider:region` (`gcp:europe-west1`, `aws:eu-west-3`,
//!   `azure:francecentral`), or a continent; see [`IntensityTable::find`].
//!   For a streaming problem (HW_RESOURCES ran it at an input period and reports
//!   `extra_data.simulation`), energy = `energy_j_per_frame` × `num_inferences`: each
//!   inference costs a whole period, active then idle.
//! - **Footprint** `carbon_footprint` in **kgCO2e** = energy (kWh) × intensity / 1000.
//!
//! `extra_data` keeps the reference's keys (`num_outputs`, `model_restrains` with this
//! model appended, `mode`: `no_model` when the model is `NO_MODEL`, which gives zeros,
//! `onnx_hw_only` otherwise) and adds `carbon_intensity_source`, `fallback` (true when
//! the world or continent average replaced an unknown or missing region) and the
//! inputs of the computation. Bad inputs (negative or non-finite power or latency,
//! malformed `extra_data`, wrong-typed keys) are errors naming the field.
#![warn(missing_docs)]

mod table;

use serde_json::{json, Map, Value};
use sustainml_node::ConfigError;
use sustainml_types::extra_data::{self, ExtraDataError};
use sustainml_types::{CO2FootprintImpl, HWResourceImpl, MLModelImpl, UserInputImpl};

pub use table::{IntensityRow, IntensityTable, Resolved, RowKind, SHIPPED_CSV};

/// The model name the ML_MODEL node sends when it found no model.
pub const NO_MODEL: &str = "NO_MODEL";

/// Milliseconds × watts in one kilowatt-hour.
const MS_W_PER_KWH: f64 = 3.6e9;

/// Why a footprint could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CarbonError {
    /// `extra_data` is not a JSON object.
    #[error("user_input.extra_data {0}")]
    ExtraData(#[from] ExtraDataError),
    /// A field has a value the computation cannot use.
    #[error("{field} must be {expected}, got {got}")]
    InvalidField {
        /// The field, e.g. `hw_resources.latency` or `user_input.extra_data.num_inferences`.
        field: String,
        /// What it must be.
        expected: &'static str,
        /// What it was.
        got: String,
    },
    /// The shipped table is unreadable (a build problem, not an input problem).
    #[error("the shipped carbon intensity table is unreadable: {0}")]
    Table(String),
}

fn invalid(field: &str, expected: &'static str, got: impl ToString) -> CarbonError {
    CarbonError::InvalidField {
        field: field.to_owned(),
        expected,
        got: got.to_string(),
    }
}

/// Parses a user's `extra_data`: empty means `{}`; anything else must be a JSON object.
pub fn parse_extra_data(bytes: &[u8]) -> Result<Map<String, Value>, CarbonError> {
    extra_data::parse_object(bytes).map_err(CarbonError::from)
}

fn whole_number(extra: &Map<String, Value>, key: &str, default: u64) -> Result<u64, CarbonError> {
    match extra.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => v.as_u64().ok_or_else(|| {
            invalid(
                &format!("user_input.extra_data.{key}"),
                "a whole number >= 0",
                v,
            )
        }),
    }
}

fn finite_non_negative(field: &str, v: f64) -> Result<f64, CarbonError> {
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(invalid(field, "a finite number >= 0", v))
    }
}

/// Energy in kWh of `inferences` runs at `power_w` watts taking `latency_ms` each.
pub fn energy_kwh(power_w: f64, latency_ms: f64, inferences: u64) -> f64 {
    power_w * latency_ms * inferences as f64 / MS_W_PER_KWH
}

/// Footprint in kgCO2e of `energy_kwh` at `g_per_kwh`.
pub fn footprint_kg(energy_kwh: f64, g_per_kwh: f64) -> f64 {
    energy_kwh * g_per_kwh / 1000.0
}

/// [`estimate_with`] over the shipped table.
pub fn estimate(
    model: &MLModelImpl,
    user: &UserInputImpl,
    hw: &HWResourceImpl,
) -> Result<CO2FootprintImpl, CarbonError> {
    let table = IntensityTable::shipped().map_err(CarbonError::Table)?;
    estimate_with(table, model, user, hw)
}

/// Computes the footprint of one task (see the crate docs for the method and units).
/// The output's `task_id` is left for the runtime to set.
pub fn estimate_with(
    table: &IntensityTable,
    model: &MLModelImpl,
    user: &UserInputImpl,
    hw: &HWResourceImpl,
) -> Result<CO2FootprintImpl, CarbonError> {
    let extra = parse_extra_data(&user.extra_data)?;
    let num_outputs = whole_number(&extra, "num_outputs", 1)?;
    let inferences = whole_number(&extra, "num_inferences", 1)?;
    let mut restrains = match extra.get("model_restrains") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                invalid(
                    "user_input.extra_data.model_restrains",
                    "an array of strings",
                    Value::Array(items.clone()),
                )
            })?,
        Some(other) => {
            return Err(invalid(
                "user_input.extra_data.model_restrains",
                "an array of strings",
                other,
            ))
        }
    };
    let model_name = model.model.trim();
    if !model_name.is_empty()
        && model_name != NO_MODEL
        && !restrains.iter().any(|m| m == model_name)
    {
        restrains.push(model_name.to_owned());
    }
    let mut out = CO2FootprintImpl::default();
    let mut note = json!({
        "num_outputs": num_outputs,
        "model_restrains": restrains,
        "units": {
            "power_consumption": "W", "latency": "ms", "energy_consumption": "kWh",
            "carbon_intensity": "gCO2e/kWh", "carbon_footprint": "kgCO2e",
        },
    });
    if model_name == NO_MODEL {
        note["mode"] = json!("no_model");
        out.extra_data = note.to_string().into_bytes();
        return Ok(out);
    }
    let power = finite_non_negative("hw_resources.power_consumption", hw.power_consumption)?;
    let latency = finite_non_negative("hw_resources.latency", hw.latency)?;
    let place = table.resolve(&user.geo_location_continent, &user.geo_location_region);
    match frame_energy(hw)? {
        // A streaming problem: each inference costs one input period's energy (active
        // while it runs, idle until the next frame), as HW_RESOURCES simulated it.
        Some((joules, period_ms)) => {
            out.energy_consumption = joules * inferences as f64 / 3.6e6;
            note["energy_j_per_frame"] = json!(joules);
            note["input_period_ms"] = json!(period_ms);
            note["energy_method"] = json!(
                "energy per frame at the input period (hw_resources simulation) × num_inferences"
            );
        }
        None => out.energy_consumption = energy_kwh(power, latency, inferences),
    }
    out.carbon_intensity = place.row.g_per_kwh;
    out.carbon_footprint = footprint_kg(out.energy_consumption, out.carbon_intensity);
    note["mode"] = json!("onnx_hw_only");
    note["num_inferences"] = json!(inferences);
    note["power_consumption_w"] = json!(power);
    note["latency_ms"] = json!(latency);
    note["carbon_intensity_source"] = json!(place.row.source);
    note["carbon_intensity_place"] = json!({
        "kind": place.row.kind.as_str(), "key": place.row.key, "name": place.row.name,
    });
    note["fallback"] = json!(place.fallback);
    if place.fallback {
        note["fallback_reason"] = json!(fallback_reason(user, place.row));
    }
    out.extra_data = note.to_string().into_bytes();
    Ok(out)
}

/// Energy per frame (J) and input period (ms) of a streaming problem, from
/// HW_RESOURCES' `extra_data.simulation`; `None` for a problem that is not streaming.
fn frame_energy(hw: &HWResourceImpl) -> Result<Option<(f64, f64)>, CarbonError> {
    let Ok(extra) = extra_data::parse_object(&hw.extra_data) else {
        return Ok(None);
    };
    let Some(sim) = extra.get("simulation").filter(|s| s.is_object()) else {
        return Ok(None);
    };
    let number = |key: &str| sim.get(key).and_then(Value::as_f64).unwrap_or(f64::NAN);
    let joules = finite_non_negative(
        "hw_resources.extra_data.simulation.energy_j_per_frame",
        number("energy_j_per_frame"),
    )?;
    let period = finite_non_negative(
        "hw_resources.extra_data.simulation.input_period_ms",
        number("input_period_ms"),
    )?;
    Ok(Some((joules, period)))
}

fn fallback_reason(user: &UserInputImpl, used: &IntensityRow) -> String {
    let region = user.geo_location_region.trim();
    let continent = user.geo_location_continent.trim();
    let what = if region.is_empty() && continent.is_empty() {
        "no location given".to_owned()
    } else if region.is_empty() {
        format!("continent {continent:?} not in the table")
    } else {
        format!("region {region:?} not in the table")
    };
    format!("{what}; used {} ({})", used.name, used.kind.as_str())
}

/// Answers a configuration request. `intensity, <place>` gives
/// `{"carbon_intensity", "unit", "source", "place", "fallback"}` for a place written as
/// [`IntensityTable::find`] accepts (unknown → the world average with `fallback`
/// true); anything else is an error.
pub fn configure(request: &str) -> Result<String, ConfigError> {
    let table = IntensityTable::shipped()?;
    let (verb, arg) = request.split_once(',').unwrap_or((request, ""));
    match verb.trim() {
        "intensity" => {
            let found = table.find(arg);
            let row = found.unwrap_or_else(|| table.world());
            Ok(json!({
                "carbon_intensity": row.g_per_kwh,
                "unit": "gCO2e/kWh",
                "source": row.source,
                "place": {"kind": row.kind.as_str(), "key": row.key, "name": row.name},
                "fallback": found.is_none(),
            })
            .to_string())
        }
        _ => Err(ConfigError::new(format!(
            "Unsupported configuration request: {request}"
        ))),
    }
}

#[cfg(test)]
mod tests;
