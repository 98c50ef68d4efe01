"""The sample generator writes contract-shaped, internally consistent, reproducible files."""

from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter, defaultdict
from datetime import date
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from ingest.contracts import ASYLBLG_ZAHLUNGEN, FIBU_IST, HAUSHALTSPLAN, KURSE, PERSONEN, TEILNAHMEN
from ingest.errors import PseudonymKeyMissing
from ingest.generator import MARKER_FILE, generate
from ingest.generator.calendar import day_number, to_date
from ingest.generator.model import NO_EVENT, Accommodation, allocate_flats, analog_from
from ingest.generator.params import load_params
from ingest.pseudonymise import DEMO_KEY, resolve_key
from kim_settings import SEEDS_DIR

SMALL = {"months": 4, "persons": 300, "seed": 7}
MONTHS = ["2023-11", "2023-12", "2024-01", "2024-02"]
ENCODINGS = {"personen": "cp1252", "asylblg_zahlungen": "utf-8-sig", "fibu_ist": "utf-8-sig"}


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("clean")
    generate(out, **SMALL)
    return out


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("defects")
    return out, generate(out, defects=True, **SMALL)


def rows(path: Path) -> list[list[str]]:
    """All lines of a generated CSV split at ';' (index 0 = header = line 1)."""
    kind = path.stem.rsplit("_", 1)[0]
    text = path.read_bytes().decode(ENCODINGS.get(kind, "utf-8"))
    return [line.split(";") for line in text.splitlines()]


def records(path: Path) -> list[dict[str, str]]:
    header, *data = rows(path)
    return [dict(zip(header, r, strict=True)) for r in data if r[0] not in ("Summe", "Gesamt")]


def money(text: str) -> Decimal:
    return Decimal(text.replace(".", "").replace(",", "."))


def day(text: str) -> tuple[int, int, int]:
    """dd.mm.yyyy or yyyy-mm-dd -> comparable (year, month, day)."""
    if "-" in text:
        y, m, d = text.split("-")
    else:
        d, m, y = text.split(".")
    return int(y), int(m), int(d)


def sheet(path: Path, name: str) -> list[tuple]:
    wb = openpyxl.load_workbook(path, read_only=True)
    return list(wb[name].iter_rows(values_only=True))


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_same_seed_gives_identical_bytes(clean: Path, tmp_path: Path) -> None:
    generate(tmp_path, **SMALL)
    assert digests(tmp_path) == digests(clean)
    generate(tmp_path / "other", **{**SMALL, "seed": 8})
    assert (
        digests(tmp_path / "other")["personen_2023-11.csv"]
        != digests(clean)["personen_2023-11.csv"]
    )


def test_files_and_headers_follow_the_contract(clean: Path) -> None:
    names = {p.name for p in clean.iterdir()}
    expected = {
        f"{s}_{m}.{e}"
        for m in MONTHS
        for s, e in (
            ("personen", "csv"),
            ("asylblg_zahlungen", "csv"),
            ("fibu_ist", "csv"),
            ("kurse", "xlsx"),
        )
    }
    expected |= {"haushaltsplan_2023.csv", "haushaltsplan_2024.csv", MARKER_FILE}
    assert names == expected
    for source in (PERSONEN, ASYLBLG_ZAHLUNGEN, FIBU_IST, HAUSHALTSPLAN):
        for path in clean.glob(f"{source.name}_*.csv"):
            assert source.file_regex.match(path.name)
            assert tuple(rows(path)[0]) == source.column_names, path.name
    for path in clean.glob("kurse_*.xlsx"):
        assert sheet(path, KURSE.sheet)[0] == KURSE.column_names
        assert sheet(path, TEILNAHMEN.sheet)[0] == TEILNAHMEN.column_names


def test_encodings_and_line_ends(clean: Path) -> None:
    personen = (clean / "personen_2024-01.csv").read_bytes()
    assert b"\r\n" in personen
    assert "FM-Süd".encode("cp1252") in personen  # a real Windows-1252 byte, invalid UTF-8
    with pytest.raises(UnicodeDecodeError):
        personen.decode("utf-8")
    for kind in ("asylblg_zahlungen", "fibu_ist"):
        assert (clean / f"{kind}_2024-01.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    marker = json.loads((clean / MARKER_FILE).read_text(encoding="utf-8"))
    # 4 months x 4 monthly files + 2 plans (2023 and 2024)
    assert len(marker.pop("files")) == 4 * 4 + 2
    assert marker == {
        "generator": "kim-haushalt",
        "seed": 7,
        "start": "2023-11",
        "months": 4,
        "persons": 300,
        "defects": [],
    }


def test_persons_are_consistent(clean: Path) -> None:
    codes = {c.name: set(c.codes) for c in PERSONEN.columns if c.codes}
    with (SEEDS_DIR / "accommodation.csv").open(encoding="utf-8") as f:
        places = {r["accommodation_id"]: r for r in csv.DictReader(f)}
    for month in MONTHS:
        people = records(clean / f"personen_{month}.csv")
        assert 200 < len(people) < 400  # about `persons`
        assert len({p["Person_ID"] for p in people}) == len(people)
        for p in people:
            stichtag = day(p["Stichtag"])
            assert stichtag[:2] == day(f"{month}-01")[:2]
            assert day(p["Status_seit"]) <= stichtag and day(p["Zuzugsdatum"]) <= stichtag
            assert all(
                p[c] in allowed or (p[c] == "" and c == "Leistungsform")
                for c, allowed in codes.items()
            )
            assert (p["Leistungsform"] != "") == (p["Rechtskreis"] == "ASYLBLG")
            assert (p["Fallmanager_ID"] != "") == (p["Fallmanagement"] == "J")
            assert len(p["Person_ID"]) == 7 and p["Person_ID"].isdigit()
            if p["Unterbringung"] == "PRIVAT":
                assert p["Unterkunft_ID"] == ""
            else:
                place = places[p["Unterkunft_ID"]]
                assert place["kind"] == p["Unterbringung"]
                assert place["social_space_id"] == p["Sozialraum"]
                assert (
                    place["valid_from"] <= f"{stichtag[0]:04d}-{stichtag[1]:02d}-{stichtag[2]:02d}"
                )
                assert not place["valid_to"] or place["valid_to"] >= f"{month}-28"


def ledger_by_key(folder: Path, month: str) -> dict[tuple[str, str], Decimal]:
    sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for r in records(folder / f"fibu_ist_{month}.csv"):
        assert r["Periode"] == f"{month[5:]}.{month[:4]}"
        sums[(r["Produkt"], r["Sachkonto"])] += money(r["Betrag"])
    return sums


def payments_by_key(lines: list[dict[str, str]]) -> dict[tuple[str, str], Decimal]:
    sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for r in lines:
        sums[(r["Produkt"], r["Sachkonto"])] += money(r["Betrag"])
    return sums


def test_ledger_reconciles_with_payments_to_the_cent(clean: Path) -> None:
    for month in MONTHS:
        lines = records(clean / f"asylblg_zahlungen_{month}.csv")
        assert all(day(r["Buchungsdatum"])[:2] == day(f"{month}-01")[:2] for r in lines)
        paid = payments_by_key(lines)
        ledger = ledger_by_key(clean, month)
        assert paid and all(ledger[key] == amount for key, amount in paid.items()), month
        assert ledger.keys() > paid.keys()  # plus personnel, rents, revenues ...


def test_totals_lines_match_their_data(clean: Path) -> None:
    seen = 0
    for path in clean.glob("fibu_ist_*.csv"):
        *data, last = rows(path)[1:]
        if last[0] == "Summe":
            seen += 1
            assert money(last[4]) == sum(money(r[4]) for r in data)
    assert seen == 1  # the third month of four


def test_payments_only_for_asylblg_persons_and_reversals_exact(clean: Path) -> None:
    all_lines = {}
    for month in MONTHS:
        people = {p["Person_ID"]: p for p in records(clean / f"personen_{month}.csv")}
        lines = records(clean / f"asylblg_zahlungen_{month}.csv")
        for r in lines:
            assert r["Buchungs_ID"] not in all_lines
            all_lines[r["Buchungs_ID"]] = r
            assert day(r["Leistung_von"]) <= day(r["Leistung_bis"])
            if r["Leistungsart"] == "UK":
                assert r["Person_ID"] == "" and r["Produkt"] == "31.40.06"
                continue
            person = people[r["Person_ID"]]
            assert person["Rechtskreis"] == "ASYLBLG"
            assert person["Fall_ID"] == r["Fall_ID"]
            assert r["Produkt"] == "31.30.01"
            assert (
                r["Sachkonto"] == ("4332" if person["Unterbringung"] == "GU" else "4331")
                or r["Storno_von"]
            )
            if r["Leistungsart"] in ("GL3", "AL2") and not r["Storno_von"]:
                assert r["Leistungsart"] == (
                    "AL2" if person["Leistungsform"] == "ANALOG" else "GL3"
                )
    reversals = [r for r in all_lines.values() if r["Storno_von"]]
    assert reversals
    for r in reversals:
        assert money(r["Betrag"]) == -money(all_lines[r["Storno_von"]]["Betrag"])


def test_course_participants_are_in_the_stock(clean: Path) -> None:
    exams = Counter()
    for month in MONTHS:
        stock = {p["Person_ID"] for p in records(clean / f"personen_{month}.csv")}
        path = clean / f"kurse_{month}.xlsx"
        courses = {r[0] for r in sheet(path, KURSE.sheet)[1:]}
        for course, person, _entry, _exit, status, _units, exam, exam_date in sheet(
            path, TEILNAHMEN.sheet
        )[1:]:
            assert person in stock and course in courses
            assert status in TEILNAHMEN.column("Status").codes
            assert (exam_date is not None) == (exam in ("B1", "A2", "UNTER_A2"))
            exams[exam] += 1
    assert exams["B1"] + exams["A2"] > 0


def test_defects_are_exactly_the_listed_ones(broken) -> None:
    out, summary = broken
    marker = json.loads((out / MARKER_FILE).read_text(encoding="utf-8"))
    assert marker["defects"] == [d.as_dict() for d in summary.defects]
    assert Counter(d.rule for d in summary.defects) == {
        "code_not_in_list": 3,
        "unknown_social_space": 2,
        "duplicate_key": 2,
        "reversal_without_original": 2,
        "totals_mismatch": 1,
    }
    # All in the 4th month here (the 6th in longer runs), never in the first two.
    assert {d.file.rsplit("_", 1)[1][:7] for d in summary.defects} == {"2024-02"}
    for d in summary.defects:
        line = rows(out / d.file)[d.line - 1]
        header = rows(out / d.file)[0]
        assert line[header.index(d.column)] == d.value, d


def test_defective_rows_break_their_rule_and_nothing_else(broken) -> None:
    out, summary = broken
    spaces = {
        r["social_space_id"]
        for r in csv.DictReader((SEEDS_DIR / "social_spaces.csv").open(encoding="utf-8"))
    }
    codes = {c.name: set(c.codes) for c in PERSONEN.columns if c.codes}
    flagged = {(d.file, d.line) for d in summary.defects}
    for month in MONTHS:
        name = f"personen_{month}.csv"
        for line, p in enumerate(records(out / name), start=2):
            bad_code = any(p[c] not in allowed and p[c] != "" for c, allowed in codes.items())
            bad_space = p["Sozialraum"] not in spaces | {""}
            assert (bad_code or bad_space) == ((name, line) in flagged)
    duplicates = {(d.file, d.line) for d in summary.defects if d.rule == "duplicate_key"}
    ids: set[str] = set()
    for month in MONTHS:
        name = f"asylblg_zahlungen_{month}.csv"
        lines = records(out / name)
        for line, r in enumerate(lines, start=2):
            assert (r["Buchungs_ID"] in ids) == ((name, line) in duplicates)
            ids.add(r["Buchungs_ID"])
        # The clean remainder still reconciles: the flagged lines are not in the ledger.
        kept = [r for line, r in enumerate(lines, start=2) if (name, line) not in flagged]
        ledger = ledger_by_key(out, month)
        assert all(ledger[k] == v for k, v in payments_by_key(kept).items())
    orphans = [d for d in summary.defects if d.rule == "reversal_without_original"]
    assert all(d.value not in ids for d in orphans)
    *data, last = rows(out / "fibu_ist_2024-02.csv")[1:]
    assert last[0] == "Summe" and money(last[4]) - sum(money(r[4]) for r in data) == Decimal(
        "1000.00"
    )


def test_defects_need_three_months(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="3 months"):
        generate(tmp_path, months=2, persons=300, defects=True)


def test_generated_inbox_counts_as_the_sample(clean: Path, broken, monkeypatch) -> None:
    # The marker lists every file the generator wrote; with no key configured, the demo key
    # is allowed for the clean and the defect sample alike, and refused once a file is added.
    monkeypatch.delenv("KIM_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("KIM_PSEUDONYM_KEY_FILE", raising=False)
    defects_dir, _ = broken
    for inbox in (clean, defects_dir):
        listed = json.loads((inbox / MARKER_FILE).read_text(encoding="utf-8"))["files"]
        written = sorted(p.name for p in inbox.iterdir() if p.name != MARKER_FILE)
        assert sorted(listed) == written
        assert resolve_key(inbox) == DEMO_KEY
    extra = defects_dir / "fibu_ist_2099-01.csv"
    extra.write_text("Periode;Produkt;Sachkonto;Kostenstelle;Betrag\n", encoding="utf-8")
    try:
        with pytest.raises(PseudonymKeyMissing, match="token_hex"):
            resolve_key(defects_dir)
    finally:
        extra.unlink()


# --- Realistic sample (issue 17): verified rates, waiting time, Land lumps, capacity, case load ---

# AsylbLG §3a basic benefits, € per month, Bedarfsstufe 1..6, typed from the verified table
# (domain notes 6.1; 2025 lowered, 2026 per BGBl. 2025 I Nr. 251). Independent of the CSV.
VERIFIED_GL3 = {
    2023: (410, 369, 328, 364, 304, 278),
    2024: (460, 413, 368, 408, 341, 312),
    2025: (441, 397, 353, 391, 327, 299),
    2026: (455, 409, 365, 405, 337, 309),
}
# §2 analogous benefits (= SGB XII Regelbedarfsstufen); 2024-2026 unchanged.
VERIFIED_AL2 = {
    2023: (502, 451, 402, 420, 348, 318),
    2024: (563, 506, 451, 471, 390, 357),
    2025: (563, 506, 451, 471, 390, 357),
    2026: (563, 506, 451, 471, 390, 357),
}
HALF_YEAR = {"start": "2023-12", "months": 7, "persons": 300, "seed": 7}
HALF_YEAR_MONTHS = ["2023-12", "2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06"]


@pytest.fixture(scope="module")
def half_year(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """December 2023 to June 2024: one June share whose previous year has one month."""
    out = tmp_path_factory.mktemp("half_year")
    generate(out, **HALF_YEAR)
    return out


@pytest.fixture(scope="module")
def full_town(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample's size (2,500 persons), two months: flats are under pressure here."""
    out = tmp_path_factory.mktemp("full_town")
    generate(out, months=2, persons=2500, seed=5)
    return out


def test_rate_table_is_the_verified_table() -> None:
    params = load_params()
    for table, kind in ((VERIFIED_GL3, "GL3"), (VERIFIED_AL2, "AL2")):
        for year, amounts in table.items():
            for level, euros in enumerate(amounts, start=1):
                assert params.get(f"{kind}_BS{level}", year) == Decimal(euros), (kind, year, level)


def test_generated_subsistence_uses_the_verified_amounts(clean: Path) -> None:
    tables = {"GL3": VERIFIED_GL3, "AL2": VERIFIED_AL2}
    seen = Counter()
    for month in MONTHS:
        for r in records(clean / f"asylblg_zahlungen_{month}.csv"):
            if r["Leistungsart"] in tables and not r["Storno_von"]:
                year = day(r["Leistung_von"])[0]
                assert money(r["Betrag"]) in set(map(Decimal, tables[r["Leistungsart"]][year])), r
                seen[r["Leistungsart"]] += 1
    assert seen["GL3"] > 0 and seen["AL2"] > 0


@pytest.mark.parametrize(
    ("stay_start", "first_analog_day"),
    [
        # 18 months end 2023-12-15, before 26.02.2024: ANALOG from 2023-12 (Stichtag 2023-12-31).
        ("2022-06-15", "2023-12-15"),
        # 18 months would end 2024-04-01, after 26.02.2024: 36 months, ANALOG from 2025-10.
        ("2022-10-01", "2025-10-01"),
        # 18 months end on 26.02.2024 itself: receiving §2 that day, so kept.
        ("2022-08-26", "2024-02-26"),
        # One day later: the 36 months apply.
        ("2022-08-27", "2025-08-27"),
        # 31 August + 18 months = 28 February 2023 (the shorter month's last day).
        ("2021-08-31", "2023-02-28"),
        # 31 August 2022 + 18 months = 29 February 2024 > 26.02.: 36 months, 31 August 2025.
        ("2022-08-31", "2025-08-31"),
    ],
)
def test_analogous_benefits_after_the_waiting_time(stay_start: str, first_analog_day: str) -> None:
    start = np.array([day_number(date.fromisoformat(stay_start))])
    assert to_date(analog_from(start)[0]) == date.fromisoformat(first_analog_day)


def _ledger_amount(folder: Path, month: str, key: tuple[str, str]) -> Decimal | None:
    return ledger_by_key(folder, month).get(key)


def test_land_pays_a_lump_per_admission(half_year: Path) -> None:
    for month in HALF_YEAR_MONTHS:
        people = records(half_year / f"personen_{month}.csv")
        # Every arrival stays at least 31 days, so it is in its arrival month's Stichtag file.
        admitted = sum(day(p["Zuzugsdatum"])[:2] == day(f"{month}-01")[:2] for p in people)
        # 15,506.00 € per person admitted (parameter of 2023, in force in 2024).
        assert _ledger_amount(half_year, month, ("31.40.06", "3481")) == admitted * Decimal(
            "15506.00"
        ), month
    assert admitted > 0


def test_land_pays_a_yearly_share_in_june(half_year: Path) -> None:
    for month in HALF_YEAR_MONTHS[:-1]:
        assert ("31.30.01", "3481") not in ledger_by_key(half_year, month), month
    # Previous year 2023 is generated only for December: 12 × December's AsylbLG payments,
    # 25 % of it, cut to the cent.
    december = sum(money(r["Betrag"]) for r in records(half_year / "asylblg_zahlungen_2023-12.csv"))
    expected = (december * 12 * Decimal("0.25")).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    assert _ledger_amount(half_year, "2024-06", ("31.30.01", "3481")) == expected
    # The 2024 plan expects it in June, once: Ansatz = the June amount ± 5 %, in whole hundreds
    # (annualising January-June would give 12/7 of it).
    (plan,) = [
        r
        for r in records(half_year / "haushaltsplan_2024.csv")
        if (r["Produkt"], r["Sachkonto"]) == ("31.30.01", "3481")
    ]
    assert plan["Profil"] == "0|0|0|0|0|1|0|0|0|0|0|0"
    assert abs(money(plan["Ansatz"]) - expected) <= expected * Decimal("0.05") + 50


def test_allocation_keeps_flats_within_their_places() -> None:
    # Two flats: A with 4 places, B with 3. Households (size, moved in, moved out):
    # h0 4 persons 100-200 -> only A fits; h1 3 persons 110-300 -> only B has room;
    # h2 2 persons at 150 -> both full -> none; h3 4 persons at 200 -> h0 left A at 200 -> A;
    # h4 1 person at 300 -> h1 left B, A full -> B.
    acc = Accommodation(
        ids=np.array(["A", "B"]),
        kind=np.array(["DEZENTRAL", "DEZENTRAL"]),
        social_space=np.array(["SR01", "SR01"]),
        capacity=np.array([4, 3]),
        valid_from=np.array([0, 0]),
        valid_to=np.array([NO_EVENT, NO_EVENT]),
        cost_centre=np.array(["", ""]),
    )
    chosen = allocate_flats(
        np.random.default_rng(0),
        acc,
        moved_in=np.array([100, 110, 150, 200, 300]),
        moved_out=np.array([200, 300, 250, 400, 500]),
        size=np.array([4, 3, 2, 4, 1]),
    )
    assert chosen.tolist() == [0, 1, -1, 0, 1]


def test_no_flat_over_its_places_and_case_load_per_fte(full_town: Path) -> None:
    with (SEEDS_DIR / "accommodation.csv").open(encoding="utf-8") as f:
        places = {r["accommodation_id"]: int(r["capacity"]) for r in csv.DictReader(f)}
    with (SEEDS_DIR / "staff_fte.csv").open(encoding="utf-8") as f:
        fte = {
            r["month"][:7]: Decimal(r["fte"])
            for r in csv.DictReader(f)
            if r["unit"] == "FALLMANAGEMENT"
        }
    full = 0
    for month in ("2023-11", "2023-12"):
        people = records(full_town / f"personen_{month}.csv")
        in_flat = Counter(p["Unterkunft_ID"] for p in people if p["Unterbringung"] == "DEZENTRAL")
        assert all(n <= places[flat] for flat, n in in_flat.items()), month
        full += sum(n == places[flat] for flat, n in in_flat.items())
        # Case load: persons in case management per FTE within the observed 120-200.
        in_case_management = sum(p["Fallmanagement"] == "J" for p in people)
        assert 120 <= in_case_management / fte[month] <= 200, month
    assert full > 0  # some flats are full, so the bound is really tested
