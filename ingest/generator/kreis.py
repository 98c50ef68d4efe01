"""The district sample "Musterkreis" (issue 15): a Landkreis with the Kreisstadt Musterhausen
(four social spaces) and eleven kreisangehörige Gemeinden of 2,000–30,000 inhabitants (one
social space each).

`generate_kreis` writes the district's reference data as a complete seed folder
`<out>/stammdaten/` (the project's seeds with the district's municipalities, social spaces,
inhabitants, accommodation, settings and city-wide targets) and then the inbox files from those
seeds: each municipality's persons file (with the column Gemeinde) and course workbook in its
folder `<out>/<AGS>/`, the district's payments, ledger and budget plan on top. `kim run --inbox
<out>` uses the folder as the deployment's reference data (a copy beside the warehouse,
kim_settings.seeds_dir): the project's seeds, and so `make run` with the city sample, stay
untouched.

Accommodation: the district's collective housing (GU, vorläufige Unterbringung) in the Kreisstadt
and two larger municipalities; flats for the Anschlussunterbringung in every municipality, their
places by population with a per-municipality factor (some provide more than their share, some
less), so the allocation quotas are over- and under-fulfilled as in a real district.
"""

from __future__ import annotations

import csv
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from ingest.generator.model import Population, State
from ingest.generator.run import GenerationSummary, Progress, generate
from kim_settings import SAMPLE_MONTHS, SAMPLE_START, SEEDS_DIR

SEED_FOLDER = "stammdaten"
DISTRICT_NAME = "Musterkreis"
YEARS = (2023, 2024, 2025, 2026, 2027)
GROWTH_PER_YEAR = 0.004  # inhabitants grow by 0.4 % a year


@dataclass(frozen=True)
class Municipality:
    ags: str
    name: str
    # (social space id, name, inhabitants 2023)
    spaces: tuple[tuple[str, str, int], ...]
    flat_factor: float  # places in flats relative to the population share (1 = its share)
    gu_places: tuple[int, ...] = ()  # the district's collective housing in the municipality


MUSTERKREIS = (
    Municipality(
        "08997001",
        "Musterhausen",
        (
            ("KS01", "Musterhausen-Mitte", 17800),
            ("KS02", "Musterhausen-Nord", 15600),
            ("KS03", "Musterhausen-Süd", 14900),
            ("KS04", "Musterhausen-West", 13700),
        ),
        0.9,
        (360, 240),
    ),
    Municipality("08997002", "Adelfingen", (("KS05", "Adelfingen", 2100),), 1.3),
    Municipality("08997003", "Bachheim", (("KS06", "Bachheim", 3400),), 0.6),
    Municipality("08997004", "Dornstetten am See", (("KS07", "Dornstetten am See", 4800),), 1.1),
    Municipality("08997005", "Eichhof", (("KS08", "Eichhof", 6200),), 0.8),
    Municipality("08997006", "Feldkirchen", (("KS09", "Feldkirchen", 8900),), 1.2),
    Municipality("08997007", "Grünau", (("KS10", "Grünau", 11500),), 0.7),
    Municipality("08997008", "Hohenfels", (("KS11", "Hohenfels", 14800),), 1.0),
    Municipality("08997009", "Kirchberg", (("KS12", "Kirchberg", 18300),), 1.15),
    Municipality("08997010", "Lindenau", (("KS13", "Lindenau", 22600),), 0.85, (200,)),
    Municipality("08997011", "Mühlhausen", (("KS14", "Mühlhausen", 26400),), 1.05),
    Municipality(
        "08997012", "Neustadt am Berg", (("KS15", "Neustadt am Berg", 29700),), 0.95, (190,)
    ),
)
FLAT_PLACES = 600  # places in flats in the district (the city sample has about as many)
FLAT_SIZES = (3, 4, 5, 6, 8)


def write_seeds(folder: Path, municipalities: tuple[Municipality, ...] = MUSTERKREIS) -> Path:
    """The project's seeds with the district's reference data; returns the folder."""
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(SEEDS_DIR, folder)
    _write(
        folder / "municipalities.csv", ["ags", "name"], [[m.ags, m.name] for m in municipalities]
    )
    _write(
        folder / "social_spaces.csv",
        ["social_space_id", "name", "ags"],
        [[sid, name, m.ags] for m in municipalities for sid, name, _ in m.spaces],
    )
    _write(
        folder / "social_space_inhabitants.csv",
        ["social_space_id", "year", "inhabitants"],
        [
            [sid, year, round(people * (1 + GROWTH_PER_YEAR) ** (year - YEARS[0]))]
            for m in municipalities
            for sid, _, people in m.spaces
            for year in YEARS
        ],
    )
    _write(
        folder / "accommodation.csv",
        [
            "accommodation_id",
            "kind",
            "name",
            "social_space_id",
            "capacity",
            "valid_from",
            "valid_to",
            "ags",
        ],
        _accommodation(municipalities),
    )
    _set_deployment_mode(folder / "settings.csv", "kreis")
    _keep_district_targets(folder / "targets.csv")
    _keep_district_cost_centres(folder / "cost_centres.csv", folder / "accommodation.csv")
    _district_budget_shares(folder / "social_space_budget_shares.csv", municipalities)
    return folder


def _accommodation(municipalities: tuple[Municipality, ...]) -> list[list[object]]:
    rows: list[list[object]] = []
    gu = 0
    for m in municipalities:
        for places in m.gu_places:
            gu += 1
            rows.append([f"GU-{gu:02d}", "GU", f"GU {m.name} {gu}", m.spaces[0][0], places,
                         "2015-10-01", "", m.ags])  # fmt: skip
    total = sum(people for m in municipalities for _, _, people in m.spaces)
    flat = 0
    for m in municipalities:
        for sid, _, people in m.spaces:
            target = round(FLAT_PLACES * people / total * m.flat_factor)
            placed = 0
            while placed < target:
                size = FLAT_SIZES[flat % len(FLAT_SIZES)]
                flat += 1
                placed += size
                rows.append([f"WE-{flat:03d}", "DEZENTRAL", f"Wohnung {flat:03d}", sid, size,
                             "2016-01-01", "", m.ags])  # fmt: skip
    return rows


def _set_deployment_mode(path: Path, mode: str) -> None:
    rows = _read(path)
    for row in rows[1:]:
        if row[0] == "deployment_mode":
            row[1] = mode
    _write(path, rows[0], rows[1:])


def _keep_district_targets(path: Path) -> None:
    """Targets of the city's social spaces do not apply; the city-wide ones do (district)."""
    rows = _read(path)
    column = rows[0].index("social_space_id")
    _write(path, rows[0], [row for row in rows[1:] if not row[column].strip()])


def _keep_district_cost_centres(path: Path, accommodation: Path) -> None:
    """A cost centre of a city's collective accommodation the district does not have goes."""
    known = {row[0] for row in _read(accommodation)[1:]}
    rows = _read(path)
    column = rows[0].index("accommodation_id")
    _write(path, rows[0], [r for r in rows[1:] if not r[column] or r[column] in known])


def _district_budget_shares(path: Path, municipalities: tuple[Municipality, ...]) -> None:
    """Each year's and product's budget spread over the district's social spaces by their
    inhabitants of 2023 (shares of four decimals; the largest space takes the rounding, so
    they add up to exactly 1 as the seed's test requires)."""
    rows = _read(path)
    keys = sorted({(r[0], r[1]) for r in rows[1:]})
    spaces = [(sid, people) for m in municipalities for sid, _, people in m.spaces]
    total = sum(people for _, people in spaces)
    shares = {sid: round(people / total, 4) for sid, people in spaces}
    largest = max(spaces, key=lambda s: s[1])[0]
    shares[largest] = round(1 - sum(v for k, v in shares.items() if k != largest), 4)
    _write(
        path,
        rows[0],
        [[year, product, sid, f"{shares[sid]:.4f}"] for year, product in keys for sid, _ in spaces],
    )


def _read(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def _write(path: Path, header: list[str], rows: list[list[object]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def municipality_column(folder: Path, seed: int):
    """The persons frame's Gemeinde: the municipality of the person's social space; persons with
    an unknown address get one drawn once per household by population (their municipality is
    known to the district even when the address is not)."""
    ags_of = _space_ags(folder)
    inhabitants = pl.read_csv(folder / "social_space_inhabitants.csv", infer_schema=False)
    first_year = inhabitants.filter(pl.col("year") == str(YEARS[0]))
    weights = (
        first_year.with_columns(ags=pl.col("social_space_id").replace_strict(ags_of))
        .group_by("ags", maintain_order=True)
        .agg(pl.col("inhabitants").cast(pl.Int64).sum())
    )
    municipalities = weights["ags"].to_numpy()
    p = weights["inhabitants"].to_numpy() / weights["inhabitants"].sum()

    def add(people: pl.DataFrame, pop: Population, state: State) -> pl.DataFrame:
        rng = np.random.default_rng([seed, 20_000])
        drawn = rng.choice(municipalities, size=int(pop.household.max()) + 1, p=p)
        fallback = pl.Series(drawn[pop.household[state.index]].astype(str))
        own = people["Sozialraum"].replace_strict(ags_of, default=None, return_dtype=pl.String)
        return people.with_columns(Gemeinde=own.fill_null(fallback))

    return add


def _space_ags(folder: Path) -> dict[str, str]:
    spaces = pl.read_csv(folder / "social_spaces.csv", infer_schema=False)
    return dict(zip(spaces["social_space_id"], spaces["ags"], strict=True))


def generate_kreis(
    out_dir: Path,
    *,
    months: int = SAMPLE_MONTHS,
    start: str = SAMPLE_START,
    persons: int = 2500,
    seed: int = 42,
    progress: Progress | None = None,
) -> GenerationSummary:
    """Write Musterkreis's reference data (`<out>/stammdaten/`) and inbox files."""
    out_dir.mkdir(parents=True, exist_ok=True)
    folder = write_seeds(out_dir / SEED_FOLDER)
    return generate(
        out_dir,
        months=months,
        start=start,
        persons=persons,
        seed=seed,
        progress=progress,
        seeds_dir=folder,
        person_columns=municipality_column(folder, seed),
        space_ags=_space_ags(folder),
    )
