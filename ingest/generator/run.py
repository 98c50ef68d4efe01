"""`generate`: write the sample municipality Musterstadt's inbox files for a run of months."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from ingest.contracts import (
    ASYLBLG_ZAHLUNGEN,
    COURSE_ID_DIGITS,
    FIBU_IST,
    HAUSHALTSPLAN,
    PERSON_ID_DIGITS,
    PERSONEN,
)
from ingest.generator import courses as course_model
from ingest.generator.calendar import Window, to_date
from ingest.generator.defects import Defect, defect_month, payment_defects, person_defects
from ingest.generator.ledger import LedgerState, month_ledger, plan_frame
from ingest.generator.model import (
    HOUSING,
    LAW,
    RESIDENCE,
    Accommodation,
    Population,
    State,
    admitted_in,
    read_accommodation,
    read_case_management_fte,
    read_social_spaces,
    simulate,
    state_at,
)
from ingest.generator.params import load_params
from ingest.generator.payments import BOOKING_ID_WIDTH, BookingCounter, month_payments
from ingest.generator.writers import dates, ids, money_text, write_csv
from ingest.pseudonymise import SAMPLE_MARKER, file_manifest
from kim_settings import SAMPLE_MONTHS, SAMPLE_START, SEEDS_DIR

MARKER_FILE = SAMPLE_MARKER
GENERATOR_NAME = "kim-haushalt"
TOTALS_EVERY = 3  # every third ledger export ends with a totals line
TEXT_DATES_EVERY = 4  # every fourth course workbook carries dates as text

Progress = Callable[[str, int, int], None]
# Adds deployment-specific columns to a month's persons frame (the district's Gemeinde).
PersonColumns = Callable[[pl.DataFrame, Population, State], pl.DataFrame]


@dataclass
class GenerationSummary:
    files: list[Path] = field(default_factory=list)
    row_counts: dict[str, int] = field(default_factory=dict)  # CSV: file name; XLSX: "file:sheet"
    defects: list[Defect] = field(default_factory=list)


@dataclass(frozen=True)
class IdWidths:
    person: int
    household: int
    course: int


def generate(
    out_dir: Path,
    *,
    months: int = SAMPLE_MONTHS,
    start: str = SAMPLE_START,
    persons: int = 2500,
    seed: int = 42,
    defects: bool = False,
    progress: Progress | None = None,
    seeds_dir: Path = SEEDS_DIR,
    person_columns: PersonColumns | None = None,
    space_ags: dict[str, str] | None = None,
) -> GenerationSummary:
    """Write Musterstadt's monthly and yearly inbox files into `out_dir`; same seed, same bytes.

    `persons` is the approximate stock at any month end. With `defects=True` one month (see
    `defects.defect_month`) gets the documented defects, listed in the summary and the marker.
    With `space_ags` (social space -> AGS, a district) every municipality gets its own persons
    file and course workbook in the folder `<AGS>/` (persons by their column Gemeinde, courses by
    their social space, participations with their course); the district's files stay on top.
    Raises ValueError for months < 1, persons < 50, or defects with fewer than 3 months.
    """
    if months < 1 or persons < 50:
        raise ValueError("need months >= 1 and persons >= 50")
    bad_month = defect_month(months) if defects else -1
    report = progress or (lambda stage, done, total: None)
    out_dir.mkdir(parents=True, exist_ok=True)
    window = Window(start, months)
    params = load_params()
    rng = np.random.default_rng(seed)
    acc = read_accommodation(seeds_dir)
    spaces = read_social_spaces(seeds_dir)

    report("simulate", 0, 1)
    case_fte = read_case_management_fte(seeds_dir, window)
    pop = simulate(window, persons, rng, params, acc, spaces, case_fte)
    courses = course_model.simulate_courses(window, pop, rng, params, spaces)
    widths = IdWidths(
        person=max(PERSON_ID_DIGITS, len(str(len(pop)))),
        household=max(6, len(str(int(pop.household.max())))),
        course=max(COURSE_ID_DIGITS, len(str(len(courses.course_id)))),
    )
    report("simulate", 1, 1)

    summary = GenerationSummary()
    counter = BookingCounter()
    ledger_memory = LedgerState()
    previous = None
    for k in range(months):
        month_rng = np.random.default_rng([seed, k])
        label = window.label(k)
        state = state_at(pop, acc, window.last_day(k))

        people = person_frame(pop, state, acc, window.last_day(k), widths)
        if person_columns is not None:
            people = person_columns(people, pop, state)
        name = f"personen_{label}.csv"
        if k == bad_month:
            people, found = person_defects(people, name, month_rng)
            summary.defects += found
        for folder, part in _by_municipality(out_dir, people, "Gemeinde", space_ags):
            _record(
                summary,
                folder / name,
                write_csv(part, PERSONEN, folder / name, encoding="cp1252", crlf=True),
                out_dir,
            )

        payments = month_payments(k, window, pop, state, acc, params, month_rng, counter, previous)
        written = payments
        name = f"asylblg_zahlungen_{label}.csv"
        if k == bad_month:
            extra, found = payment_defects(
                payments, name, month_rng, counter.take(2), BOOKING_ID_WIDTH
            )
            written = pl.concat([payments, extra])
            summary.defects += found
        _record(
            summary,
            out_dir / name,
            write_csv(
                payment_frame(written, pop, widths),
                ASYLBLG_ZAHLUNGEN,
                out_dir / name,
                encoding="utf-8-sig",
                crlf=False,
                date_format="%Y-%m-%d",
            ),
        )

        ledger = month_ledger(
            k,
            window,
            payments,
            state,
            acc,
            params,
            persons / 1000,
            course_model.municipal_cost(courses, window, k),
            admitted_in(pop, window.first_day(k), window.last_day(k)),
            ledger_memory,
        )
        name = f"fibu_ist_{label}.csv"
        trailer = None
        if k % TOTALS_EVERY == TOTALS_EVERY - 1 or k == bad_month:
            total = int(ledger["cents"].sum())
            if k == bad_month:
                total += 100_000  # 1.000,00 € more than the rows add up to
            total_text = _money(total)
            trailer = f"Summe;;;;{total_text}"
            if k == bad_month:
                summary.defects.append(
                    Defect(name, ledger.height + 2, "totals_mismatch", "Betrag", total_text)
                )
        _record(
            summary,
            out_dir / name,
            write_csv(
                ledger_frame(ledger, window, k),
                FIBU_IST,
                out_dir / name,
                encoding="utf-8-sig",
                crlf=True,
                trailer=trailer,
            ),
        )

        kurse, teilnahmen = course_model.snapshot(courses, window, k)
        name = f"kurse_{label}.xlsx"
        if space_ags is not None:
            kurse = kurse.with_columns(Gemeinde=pl.col("Sozialraum").replace_strict(space_ags))
            teilnahmen = teilnahmen.join(
                kurse.select("Kurs_ID", "Gemeinde"), on="Kurs_ID", how="left", maintain_order="left"
            )
        for folder, part in _by_municipality(out_dir, kurse, "Gemeinde", space_ags):
            attending = teilnahmen
            if "Gemeinde" in teilnahmen.columns:
                attending = teilnahmen.filter(pl.col("Gemeinde") == folder.name)
            course_model.write_workbook(
                folder / name,
                part,
                attending,
                text_dates=k % TEXT_DATES_EVERY == TEXT_DATES_EVERY - 1,
                created=dt.datetime.combine(to_date(window.first_day(k)), dt.time()),
                person_width=widths.person,
                course_width=widths.course,
            )
            summary.files.append(folder / name)
            key = (folder / name).relative_to(out_dir).as_posix()
            summary.row_counts[f"{key}:Kurse"] = part.height
            summary.row_counts[f"{key}:Teilnahmen"] = attending.height

        previous = payments
        report("months", k + 1, months)

    years = window.years()
    plan_rng = np.random.default_rng([seed, 10_000])
    for i, year in enumerate(years):
        name = f"haushaltsplan_{year}.csv"
        plan = plan_frame(year, window, ledger_memory, plan_rng).with_columns(
            Ansatz=money_text(pl.col("ansatz")),
            Nachtrag=money_text(pl.col("nachtrag")),
            Uebertragung=money_text(pl.col("uebertragung")),
        )
        _record(
            summary,
            out_dir / name,
            write_csv(plan, HAUSHALTSPLAN, out_dir / name, encoding="utf-8", crlf=False),
        )
        report("plans", i + 1, len(years))

    marker = {
        "generator": GENERATOR_NAME,
        "seed": seed,
        "start": start,
        "months": months,
        "persons": persons,
        "defects": [d.as_dict() for d in summary.defects],
        # SHA-256 of every file written: only an inbox holding these files, unchanged and
        # nothing else, may be pseudonymised with the public demo key (ingest.pseudonymise).
        "files": file_manifest(summary.files, out_dir),
    }
    (out_dir / MARKER_FILE).write_text(
        json.dumps(marker, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return summary


def _record(summary: GenerationSummary, path: Path, rows: int, root: Path | None = None) -> None:
    summary.files.append(path)
    summary.row_counts[path.relative_to(root).as_posix() if root else path.name] = rows


def _by_municipality(
    out_dir: Path, frame: pl.DataFrame, column: str, space_ags: dict[str, str] | None
) -> list[tuple[Path, pl.DataFrame]]:
    """(folder, rows) to write: the whole frame into `out_dir`, or in a district each
    municipality's rows into `out_dir/<AGS>/` (every municipality, also with no rows)."""
    if space_ags is None:
        return [(out_dir, frame)]
    parts = []
    for ags in sorted(set(space_ags.values())):
        folder = out_dir / ags
        folder.mkdir(exist_ok=True)
        parts.append((folder, frame.filter(pl.col(column) == ags)))
    return parts


def _money(cents: int) -> str:
    return pl.select(money_text(pl.lit(cents, dtype=pl.Int64))).item()


def _null_if_empty(values: np.ndarray) -> pl.Series:
    """Strings with "" as missing -> a String series with nulls (written as empty fields)."""
    s = pl.Series(values.astype(str))
    return pl.select(pl.when(pl.lit(s) != "").then(pl.lit(s))).to_series()


def person_frame(
    pop: Population, state: State, acc: Accommodation, day: int, widths: IdWidths
) -> pl.DataFrame:
    i = state.index
    asyl = state.law == 0
    return pl.DataFrame(
        {
            "Stichtag": dates(np.full(len(i), day)),
            "Person_ID": ids(pop.person_id[i], widths.person),
            "Fall_ID": ids(pop.household[i], widths.household),
            "Geburtsdatum": dates(pop.birth[i]),
            "Geschlecht": pop.sex[i],
            "Staatsangehoerigkeit": pop.nationality[i],
            "Aufenthaltsstatus": RESIDENCE[state.residence],
            "Status_seit": dates(state.status_since),
            "Zuzugsdatum": dates(pop.arrival[i]),
            "Rechtskreis": LAW[state.law],
            "Leistungsform": _null_if_empty(
                np.where(asyl, np.where(state.analog, "ANALOG", "GRUND"), "")
            ),
            "Unterbringung": HOUSING[state.housing],
            "Unterkunft_ID": _null_if_empty(
                np.where(state.accommodation >= 0, acc.ids[np.maximum(state.accommodation, 0)], "")
            ),
            "Sozialraum": _null_if_empty(state.social_space),
            "Fallmanagement": np.where(pop.case_manager[i] != "", "J", "N"),
            "Fallmanager_ID": _null_if_empty(pop.case_manager[i]),
        }
    )


def payment_frame(payments: pl.DataFrame, pop: Population, widths: IdWidths) -> pl.DataFrame:
    person = payments["person"].to_numpy()
    has_person = person >= 0
    safe = np.maximum(person, 0)
    return pl.DataFrame(
        {
            "Buchungs_ID": ids(payments["booking_id"].to_numpy(), BOOKING_ID_WIDTH),
            "Buchungsdatum": dates(payments["booking_day"].to_numpy()),
            "Leistung_von": dates(payments["from_day"].to_numpy()),
            "Leistung_bis": dates(payments["to_day"].to_numpy()),
            "Person_ID": _null_if_empty(
                np.where(has_person, ids(pop.person_id[safe], widths.person).to_numpy(), "")
            ),
            "Fall_ID": _null_if_empty(
                np.where(has_person, ids(pop.household[safe], widths.household).to_numpy(), "")
            ),
            "Leistungsart": payments["benefit_type"],
            "Produkt": payments["product"],
            "Sachkonto": payments["account"],
            "Betrag": payments.select(money_text(pl.col("cents"))).to_series(),
            "Storno_von": payments.select(
                pl.when(pl.col("reverses") >= 0).then(
                    pl.col("reverses").cast(pl.String).str.zfill(BOOKING_ID_WIDTH)
                )
            ).to_series(),
            "Sozialraum": payments.select(
                pl.when(pl.col("social_space") != "").then(pl.col("social_space"))
            ).to_series(),
        }
    )


def ledger_frame(ledger: pl.DataFrame, window: Window, k: int) -> pl.DataFrame:
    label = window.label(k)
    return ledger.select(
        Periode=pl.lit(f"{label[5:7]}.{label[:4]}"),
        Produkt=pl.col("product"),
        Sachkonto=pl.col("account"),
        Kostenstelle=pl.col("cost_centre"),
        Betrag=money_text(pl.col("cents")),
    )
