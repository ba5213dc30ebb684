//! Request bodies: JSON objects read field by field, so that a wrong type is a 400
//! naming the field instead of a generic parse error.

use serde_json::{Map, Value};
use sustainml_orchestrator::types::extra_data::{self, json_kind};
use sustainml_orchestrator::types::{NodeId, TaskIdImpl, UserInputImpl};

use crate::error::{ApiError, ApiResult};

/// A request body as a JSON object; an empty body is `{}`.
pub fn object(body: &[u8]) -> ApiResult<Map<String, Value>> {
    extra_data::parse_object(body).map_err(|e| ApiError::bad_request(format!("the body {e}")))
}

fn wrong(field: &str, want: &str, got: &Value) -> ApiError {
    ApiError::bad_request(format!(
        "field `{field}` must be {want}, not {}",
        json_kind(got)
    ))
}

/// Typed access to the fields of a JSON object; `null` counts as absent.
#[derive(Debug, Clone, Copy)]
pub struct Fields<'a>(pub &'a Map<String, Value>);

impl<'a> Fields<'a> {
    /// The field, unless absent or null.
    pub fn get(&self, name: &str) -> Option<&'a Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    /// A string field.
    pub fn string(&self, name: &str) -> ApiResult<Option<String>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(v) => Err(wrong(name, "a string", v)),
        }
    }

    /// A boolean field.
    pub fn bool(&self, name: &str) -> ApiResult<Option<bool>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(v) => Err(wrong(name, "true or false", v)),
        }
    }

    /// A number field.
    pub fn f64(&self, name: &str) -> ApiResult<Option<f64>> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => v
                .as_f64()
                .map(Some)
                .ok_or_else(|| wrong(name, "a number", v)),
        }
    }

    /// An integer field in `i64`, bounded by the caller.
    fn integer(&self, name: &str, want: &str) -> ApiResult<Option<i64>> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => v.as_i64().map(Some).ok_or_else(|| wrong(name, want, v)),
        }
    }

    /// A non-negative 32-bit integer field.
    pub fn u32(&self, name: &str) -> ApiResult<Option<u32>> {
        const WANT: &str = "an integer from 0 to 4294967295";
        self.integer(name, WANT)?
            .map(|n| {
                u32::try_from(n).map_err(|_| {
                    ApiError::bad_request(format!("field `{name}` must be {WANT}, not {n}"))
                })
            })
            .transpose()
    }

    /// A signed 32-bit integer field.
    pub fn i32(&self, name: &str) -> ApiResult<Option<i32>> {
        const WANT: &str = "a 32-bit integer";
        self.integer(name, WANT)?
            .map(|n| {
                i32::try_from(n).map_err(|_| {
                    ApiError::bad_request(format!("field `{name}` must be {WANT}, not {n}"))
                })
            })
            .transpose()
    }

    /// A list of strings (a single string is a list of one).
    pub fn strings(&self, name: &str) -> ApiResult<Vec<String>> {
        match self.get(name) {
            None => Ok(Vec::new()),
            Some(Value::String(s)) => Ok(vec![s.clone()]),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(wrong(&format!("{name}[{i}]"), "a string", other)),
                })
                .collect(),
            Some(v) => Err(wrong(name, "an array of strings", v)),
        }
    }

    /// A task id `{problem_id, iteration_id}`.
    pub fn task_id(&self, name: &str) -> ApiResult<Option<TaskIdImpl>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Object(map)) => {
                let f = Fields(map);
                let part = |p: &str| -> ApiResult<u32> {
                    f.u32(p)
                        .map_err(|e| ApiError::bad_request(format!("in `{name}`: {}", e.message)))?
                        .ok_or_else(|| {
                            ApiError::bad_request(format!("field `{name}.{p}` is missing"))
                        })
                };
                Ok(Some(TaskIdImpl::new(
                    part("problem_id")?,
                    part("iteration_id")?,
                )))
            }
            Some(v) => Err(wrong(name, "an object {problem_id, iteration_id}", v)),
        }
    }

    /// A node: its `NodeID` number (0…5, 7), a numeric string, or its REST key or
    /// node name (`ML_MODEL`, `ML_MODEL_NODE`).
    pub fn node_id(&self, name: &str) -> ApiResult<Option<NodeId>> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        let unknown = || {
            ApiError::bad_request(format!(
                "field `{name}`: unknown node {v} (0 APP_REQUIREMENTS, 1 CARBON_FOOTPRINT, 2 HW_CONSTRAINTS, 3 HW_RESOURCES, 4 ML_MODEL_METADATA, 5 ML_MODEL, 7 ORCHESTRATOR)"
            ))
        };
        let node = match v {
            Value::Number(n) => n
                .as_i64()
                .and_then(|n| i32::try_from(n).ok())
                .and_then(NodeId::from_value),
            Value::String(s) => match s.trim().parse::<i32>() {
                Ok(n) => NodeId::from_value(n),
                Err(_) => NodeId::ALL
                    .into_iter()
                    .find(|id| id.rest_key() == s || id.node_name() == s),
            },
            other => return Err(wrong(name, "a node id (number) or node name", other)),
        };
        node.map(Some).ok_or_else(unknown)
    }
}

/// A problem posted to `/user_input`.
#[derive(Debug, Clone, PartialEq)]
pub struct Submission {
    /// The input to publish.
    pub input: UserInputImpl,
    /// For an iteration: the problem it continues (`extra_data.previous_problem_id`).
    pub previous_problem: Option<u32>,
}

/// Reads the front-end's UserInput JSON (REFERENCE.md §5). Unknown fields are ignored;
/// a known field of the wrong type is an error naming it.
pub fn submission(body: &[u8]) -> ApiResult<Submission> {
    let map = object(body)?;
    let f = Fields(&map);
    let extra = match f.get("extra_data") {
        None => None,
        Some(Value::Object(m)) => Some(m),
        Some(v) => return Err(wrong("extra_data", "an object", v)),
    };
    let previous_iteration = f.i32("previous_iteration")?.unwrap_or(0);
    if previous_iteration < 0 {
        return Err(ApiError::bad_request(format!(
            "field `previous_iteration` must be 0 (a new problem) or the iteration to continue, not {previous_iteration}"
        )));
    }
    let previous_problem = if previous_iteration == 0 {
        None
    } else {
        let id = extra.and_then(|m| m.get("previous_problem_id"));
        let problem = match id {
            Some(Value::Number(n)) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
            Some(Value::String(s)) => s.trim().parse::<u32>().ok(),
            _ => None,
        };
        Some(problem.filter(|p| *p > 0).ok_or_else(|| {
            ApiError::bad_request(format!(
                "field `extra_data.previous_problem_id` must be the problem to iterate (a positive integer) when `previous_iteration` is {previous_iteration}; got {}",
                id.map_or_else(|| "nothing".to_owned(), Value::to_string)
            ))
        })?)
    };
    let input = UserInputImpl {
        modality: f.string("modality")?.unwrap_or_default(),
        problem_short_description: f.string("problem_short_description")?.unwrap_or_default(),
        problem_definition: f.string("problem_definition")?.unwrap_or_default(),
        inputs: f.strings("inputs")?,
        outputs: f.strings("outputs")?,
        minimum_samples: f.u32("minimum_samples")?.unwrap_or_default(),
        maximum_samples: f.u32("maximum_samples")?.unwrap_or_default(),
        optimize_carbon_footprint_manual: f
            .bool("optimize_carbon_footprint_manual")?
            .unwrap_or_default(),
        previous_iteration,
        optimize_carbon_footprint_auto: f
            .bool("optimize_carbon_footprint_auto")?
            .unwrap_or_default(),
        desired_carbon_footprint: f.f64("desired_carbon_footprint")?.unwrap_or_default(),
        geo_location_continent: f.string("geo_location_continent")?.unwrap_or_default(),
        geo_location_region: f.string("geo_location_region")?.unwrap_or_default(),
        extra_data: extra
            .map(|m| serde_json::to_vec(m).unwrap_or_default())
            .unwrap_or_default(),
        ..Default::default()
    };
    Ok(Submission {
        input,
        previous_problem,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_front_end_problem_is_read() {
        let s = submission(
            br#"{"modality":"images","inputs":["a","b"],"minimum_samples":3,
            "optimize_carbon_footprint_auto":true,"desired_carbon_footprint":1.5,
            "extra_data":{"goal":"x"},"unknown":1}"#,
        )
        .expect("valid");
        assert_eq!(s.input.modality, "images");
        assert_eq!(s.input.inputs, ["a", "b"]);
        assert_eq!(s.input.minimum_samples, 3);
        assert!(s.input.optimize_carbon_footprint_auto);
        assert_eq!(s.input.extra_data, br#"{"goal":"x"}"#);
        assert_eq!(s.previous_problem, None);
        let it =
            submission(br#"{"previous_iteration":1,"extra_data":{"previous_problem_id":"4"}}"#)
                .expect("valid");
        assert_eq!(it.previous_problem, Some(4));
    }

    #[test]
    fn wrong_types_name_the_field() {
        for (body, field) in [
            (&br#"{"modality":5}"#[..], "`modality`"),
            (br#"{"inputs":[1]}"#, "`inputs[0]`"),
            (br#"{"minimum_samples":-1}"#, "`minimum_samples`"),
            (
                br#"{"optimize_carbon_footprint_auto":"yes"}"#,
                "`optimize_carbon_footprint_auto`",
            ),
            (br#"{"extra_data":"x"}"#, "`extra_data`"),
            (
                br#"{"previous_iteration":2}"#,
                "`extra_data.previous_problem_id`",
            ),
        ] {
            let e = submission(body).expect_err("invalid");
            assert_eq!(e.status, axum::http::StatusCode::BAD_REQUEST);
            assert!(e.message.contains(field), "{field}: {}", e.message);
        }
        assert!(submission(b"{bad")
            .expect_err("syntax")
            .message
            .contains("not valid JSON"));
        assert!(submission(b"[]")
            .expect_err("array")
            .message
            .contains("JSON object"));
    }
}
