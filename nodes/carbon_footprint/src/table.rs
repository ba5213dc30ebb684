//! The carbon intensity table shipped in `data/carbon_intensity.csv` and how a user's
//! location is looked up in it.

use std::sync::LazyLock;

/// The shipped table, as built by `data/regenerate.py` from codecarbon's data files.
pub const SHIPPED_CSV: &str = include_str!("../data/carbon_intensity.csv");

const HEADER: &str =
    "kind,key,name,continent,carbon_intensity_g_per_kwh,total_twh,year,source,iso2";

/// What a row of the table describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RowKind {
    /// A country, keyed by its ISO 3166-1 alpha-3 code.
    Country,
    /// A continent: the generation-weighted mean of its countries.
    Continent,
    /// A cloud region, keyed `provider:region`.
    Cloud,
    /// The world average used when nothing else matches.
    World,
}

impl RowKind {
    /// The name used in the CSV file and in `extra_data`.
    pub fn as_str(self) -> &'static str {
        match self {
            RowKind::Country => "country",
            RowKind::Continent => "continent",
            RowKind::Cloud => "cloud",
            RowKind::World => "world",
        }
    }
}

/// One row: a place and the carbon intensity of its electricity.
#[derive(Debug, Clone, PartialEq)]
pub struct IntensityRow {
    /// What the row describes.
    pub kind: RowKind,
    /// ISO alpha-3 code, continent name, `provider:region` or `world`.
    pub key: String,
    /// Country, continent or city name.
    pub name: String,
    /// The continent the place is on (empty for the world row).
    pub continent: String,
    /// Carbon intensity in gCO2e/kWh.
    pub g_per_kwh: f64,
    /// Yearly generation in TWh (countries and continents).
    pub total_twh: Option<f64>,
    /// Year of the data, when known.
    pub year: Option<u32>,
    /// Where the number comes from.
    pub source: String,
    /// ISO alpha-2 code (countries).
    pub iso2: Option<String>,
}

/// A parsed carbon intensity table.
#[derive(Debug, Clone)]
pub struct IntensityTable {
    rows: Vec<IntensityRow>,
    world: usize,
}

/// The outcome of a location lookup.
#[derive(Debug, Clone, Copy)]
pub struct Resolved<'a> {
    /// The row whose intensity applies.
    pub row: &'a IntensityRow,
    /// True when the row is not the place the user named (unknown or missing location).
    pub fallback: bool,
}

static SHIPPED: LazyLock<Result<IntensityTable, String>> =
    LazyLock::new(|| IntensityTable::parse(SHIPPED_CSV));

impl IntensityTable {
    /// The table shipped in the crate, parsed once.
    pub fn shipped() -> Result<&'static IntensityTable, String> {
        SHIPPED.as_ref().map_err(Clone::clone)
    }

    /// Parses the CSV format written by `data/regenerate.py` (no quoting: fields never
    /// hold commas).
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut lines = text.lines().enumerate();
        match lines.next() {
            Some((_, h)) if h.trim() == HEADER => {}
            _ => return Err(format!("header must be {HEADER:?}")),
        }
        let mut rows = Vec::new();
        for (n, line) in lines.filter(|(_, l)| !l.trim().is_empty()) {
            rows.push(parse_row(line).map_err(|e| format!("line {}: {e}", n + 1))?);
        }
        let world = rows
            .iter()
            .position(|r| r.kind == RowKind::World)
            .ok_or("no world row")?;
        Ok(Self { rows, world })
    }

    /// Every row, in file order.
    pub fn rows(&self) -> &[IntensityRow] {
        &self.rows
    }

    /// The world average row.
    pub fn world(&self) -> &IntensityRow {
        &self.rows[self.world]
    }

    /// Finds one place. Accepted, case-insensitively: `provider:region` (provider `gcp`,
    /// `aws` or `azure`; `google`, `amazon` and `microsoft` too), a bare cloud region
    /// name that only one provider uses, an ISO 3166-1 alpha-3 or alpha-2 country code,
    /// a country name as codecarbon spells it, a continent (`Europe`, `North America`…),
    /// or `world`.
    pub fn find(&self, query: &str) -> Option<&IntensityRow> {
        let q = query.trim().to_lowercase();
        if q.is_empty() {
            return None;
        }
        if let Some((provider, region)) = q.split_once(':') {
            let provider = match provider.trim() {
                "google" | "google cloud" | "gcp" => "gcp",
                "amazon" | "aws" => "aws",
                "microsoft" | "azure" => "azure",
                other => other,
            };
            let key = format!("{provider}:{}", region.trim());
            return self.of_kind(RowKind::Cloud).find(|r| r.key == key);
        }
        let q = match q.as_str() {
            "uk" | "great britain" | "england" => "gbr",
            "united states of america" | "us" => "usa",
            "global" => "world",
            _ => q.as_str(),
        };
        let lower_eq = |s: &str| s.to_lowercase() == q;
        self.rows
            .iter()
            .filter(|r| r.kind != RowKind::Cloud)
            .find(|r| {
                lower_eq(&r.key) || lower_eq(&r.name) || r.iso2.as_deref().is_some_and(lower_eq)
            })
            .or_else(|| {
                let mut bare = self
                    .of_kind(RowKind::Cloud)
                    .filter(|r| r.key.split_once(':').is_some_and(|(_, reg)| reg == q));
                match (bare.next(), bare.next()) {
                    (Some(one), None) => Some(one),
                    _ => None,
                }
            })
    }

    /// The intensity for a user's location: the region if known, else the continent,
    /// else the world average (`fallback` is set whenever the region named was not
    /// found, or none was given).
    pub fn resolve(&self, continent: &str, region: &str) -> Resolved<'_> {
        if let Some(row) = self.find(region) {
            return Resolved {
                row,
                fallback: false,
            };
        }
        let row = self.find(continent).unwrap_or_else(|| self.world());
        Resolved {
            row,
            fallback: !(region.trim().is_empty() && row.kind != RowKind::World),
        }
    }

    fn of_kind(&self, kind: RowKind) -> impl Iterator<Item = &IntensityRow> {
        self.rows.iter().filter(move |r| r.kind == kind)
    }
}

fn parse_row(line: &str) -> Result<IntensityRow, String> {
    let f: Vec<&str> = line.split(',').map(str::trim).collect();
    let [kind, key, name, continent, ci, total, year, source, iso2] = f[..] else {
        return Err(format!("expected 9 fields, found {}", f.len()));
    };
    let kind = match kind {
        "country" => RowKind::Country,
        "continent" => RowKind::Continent,
        "cloud" => RowKind::Cloud,
        "world" => RowKind::World,
        other => return Err(format!("unknown kind {other:?}")),
    };
    let g_per_kwh: f64 = ci
        .parse()
        .map_err(|_| format!("bad carbon intensity {ci:?}"))?;
    if !g_per_kwh.is_finite() || g_per_kwh < 0.0 {
        return Err(format!("bad carbon intensity {ci:?}"));
    }
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    Ok(IntensityRow {
        kind,
        key: key.to_owned(),
        name: name.to_owned(),
        continent: continent.to_owned(),
        g_per_kwh,
        total_twh: total.parse().ok(),
        year: year.parse().ok(),
        source: source.to_owned(),
        iso2: opt(iso2),
    })
}
