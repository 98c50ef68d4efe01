"""The sample generator writes contract-shaped, internally consistent, reproducible files."""

from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from dagster_project.settings import SEEDS_DIR
from ingest.contracts import ASYLBLG_ZAHLUNGEN, FIBU_IST, HAUSHALTSPLAN, KURSE, PERSONEN, TEILNAHMEN
from ingest.errors import PseudonymKeyMissing
from ingest.generator import MARKER_FILE, generate
from ingest.pseudonymise import DEMO_KEY, resolve_key

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
