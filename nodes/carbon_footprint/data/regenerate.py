#!/usr/bin/env python3
"""Rebuild carbon_intensity.csv from a codecarbon wheel (MIT licence, see LICENSE-codecarbon).

Usage:
    pip download codecarbon --no-deps -d /tmp/cc
    python3 nodes/carbon_footprint/data/regenerate.py /tmp/cc/codecarbon-*.whl

Reads from the wheel:
  codecarbon/data/private_infra/global_energy_mix.json        one row per country
  codecarbon/data/private_infra/carbon_intensity_per_source.json  world_average
  codecarbon/data/cloud/impact.csv                            cloud regions (GCP)
and from this folder:
  country_continent.csv   ISO 3166-1 alpha-3 -> alpha-2 and continent (see README.md)
  cloud_locations.csv     AWS/Azure region -> country (see README.md)
Writes carbon_intensity.csv beside this script. Only the standard library is used.
"""

import csv
import io
import json
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
MIX = "codecarbon/data/private_infra/global_energy_mix.json"
PER_SOURCE = "codecarbon/data/private_infra/carbon_intensity_per_source.json"
CLOUD = "codecarbon/data/cloud/impact.csv"


def read_local(name):
    with open(HERE / name, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def clean(text):
    # The table is read by a minimal CSV reader: no commas or quotes in fields.
    return text.replace(",", " ").replace('"', "").strip()


def main(wheel_path):
    with zipfile.ZipFile(wheel_path) as wheel:
        version = Path(wheel_path).name.split("-")[1]
        mix = json.loads(wheel.read(MIX))
        per_source = json.loads(wheel.read(PER_SOURCE))
        cloud_text = wheel.read(CLOUD).decode("utf-8-sig")
    cloud = list(csv.DictReader(io.StringIO(cloud_text)))
    continents = {r["iso3"]: r for r in read_local("country_continent.csv")}
    missing = sorted(set(mix) - set(continents))
    if missing:
        sys.exit(f"country_continent.csv lacks: {', '.join(missing)}")

    origin = f"codecarbon {version}"
    rows = []
    sums = {}
    for iso3, c in sorted(mix.items()):
        ci, total = float(c["carbon_intensity"]), round(float(c["total_TWh"]), 3)
        cont = continents[iso3]["continent"]
        rows.append(("country", iso3, clean(c["country_name"]), cont, ci, total,
                     c.get("year", ""), f"{origin} global_energy_mix.json",
                     continents[iso3]["iso2"]))
        if total > 0:
            acc = sums.setdefault(cont, [0.0, 0.0, 0])
            acc[0] += ci * total
            acc[1] += total
            acc[2] += 1
    for cont, (weighted, total, n) in sorted(sums.items()):
        rows.append(("continent", cont, cont, cont, round(weighted / total, 3),
                     round(total, 3), "",
                     f"generation-weighted mean of {n} countries ({origin} global_energy_mix.json)",
                     ""))
    for r in cloud:
        iso3 = r["countryIsoCode"]
        cont = continents.get(iso3, {}).get("continent", "")
        rows.append(("cloud", f"{r['provider']}:{r['region']}", clean(r["city"] or r["region"]),
                     cont, float(r["impact"]), "", "",
                     clean(f"{origin} cloud/impact.csv ({r['source']})"), ""))
    for r in read_local("cloud_locations.csv"):
        iso3 = r["iso3"]
        c = mix[iso3]
        rows.append(("cloud", f"{r['provider']}:{r['region']}", clean(r["location"]),
                     continents[iso3]["continent"], float(c["carbon_intensity"]), "",
                     c.get("year", ""),
                     f"country {iso3} ({origin} global_energy_mix.json)", ""))
    rows.append(("world", "world", "World", "", float(per_source["world_average"]), "", "",
                 clean(f"{origin} carbon_intensity_per_source.json world_average "
                       f"({per_source.get('world_average_source', '')})"), ""))

    out = HERE / "carbon_intensity.csv"
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["kind", "key", "name", "continent", "carbon_intensity_g_per_kwh",
                    "total_twh", "year", "source", "iso2"])
        for row in rows:
            if any("," in str(x) or '"' in str(x) for x in row):
                sys.exit(f"field with a comma or quote: {row}")
            w.writerow(row)
    print(f"wrote {len(rows)} rows to {out}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
