"""Corrections reach later months: staleness, widened windows, versioned council reports.

Expected months are written out by hand from the fixture's dates; the end-to-end test changes
one ledger amount by a known number of euros and checks the marts moved by exactly that.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import duckdb
from openpyxl import Workbook

from dagster_project.automation import correction_line, extend_window
from ingest.inbox import InboxFile
from ingest.staleness import Build, Load, Staleness, find_stale, fingerprint_seeds

T_LOAD = dt.datetime(2024, 6, 8, 6, 0)
T_BUILD = dt.datetime(2024, 6, 8, 7, 0)  # every month below was reported after its files loaded


def reported(months: list[str], seeds_id: str = "S0") -> dict[str, Build]:
    return {m: Build(T_BUILD, seeds_id) for m in months}


def inbox_file(name: str, kind: str, period: str, sha: str) -> InboxFile:
    return InboxFile(kind, period, Path(name), sha, 1)


def write_seeds(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


MONTHS_24 = ["2024-01", "2024-02", "2024-03", "2024-04", "2024-05"]


def test_replaced_persons_file_makes_its_month_and_every_later_one_stale():
    # personen_2024-02.csv was loaded with SHA 'old'; the inbox now holds SHA 'new'.
    # Reported: 2024-01 .. 2024-05 -> stale 2024-02 .. 2024-05 (2024-01 is before the file).
    loads = [Load("personen_2024-02.csv", "2024-02", "old", T_LOAD)]
    inbox = [inbox_file("personen_2024-02.csv", "personen", "2024-02", "new")]
    result = find_stale(reported(MONTHS_24), loads, inbox, {}, {})
    assert result.months == ["2024-02", "2024-03", "2024-04", "2024-05"]
    assert result.summary() == "personen_2024-02.csv ersetzt"
    # the same file unchanged: nothing is stale
    same = [inbox_file("personen_2024-02.csv", "personen", "2024-02", "old")]
    assert find_stale(reported(MONTHS_24), loads, same, {}, {}).months == []


def test_replaced_plan_file_reaches_back_to_january_of_its_year():
    months = ["2024-11", "2024-12", "2025-01", "2025-02"]
    loads = [Load("haushaltsplan_2025.csv", "2025", "old", T_LOAD)]
    inbox = [inbox_file("haushaltsplan_2025.csv", "haushaltsplan", "2025", "new")]
    assert find_stale(reported(months), loads, inbox, {}, {}).months == ["2025-01", "2025-02"]


def test_file_loaded_after_the_build_of_a_month_makes_it_stale():
    # fibu_ist_2024-03.csv was loaded at 11:00; 2024-03..05 were built at 10:00, 2024-06 at
    # 12:00 (it already used the new file) -> stale 2024-03, 2024-04, 2024-05.
    ten, eleven, noon = (dt.datetime(2024, 7, 1, h) for h in (10, 11, 12))
    builds = {m: Build(ten, "S0") for m in MONTHS_24} | {"2024-06": Build(noon, "S0")}
    loads = [Load("fibu_ist_2024-03.csv", "2024-03", "new", eleven)]
    inbox = [inbox_file("fibu_ist_2024-03.csv", "fibu_ist", "2024-03", "new")]
    assert find_stale(builds, loads, inbox, {}, {}).months == ["2024-03", "2024-04", "2024-05"]


def test_changed_target_of_2025_makes_reported_months_from_january_2025_stale(tmp_path):
    before = write_seeds(
        tmp_path / "before",
        {"targets.csv": "indicator_id,year,target_value\nK02,2024,90\nK02,2025,85\n"},
    )
    after = write_seeds(
        tmp_path / "after",
        {"targets.csv": "indicator_id,year,target_value\nK02,2024,90\nK02,2025,80\n"},
    )
    months = ["2024-11", "2024-12", "2025-01", "2025-02", "2025-03"]
    result = find_stale(
        reported(months), [], [], {"S0": fingerprint_seeds(before)}, fingerprint_seeds(after)
    )
    assert result.months == ["2025-01", "2025-02", "2025-03"]
    assert result.summary() == "targets.csv geändert (ab 2025-01)"


def test_changed_fte_of_april_2024_makes_april_and_later_stale(tmp_path):
    rows = "unit,month,fte\nFM,2024-03-01,12.50\nFM,2024-04-01,{april}\nFM,2024-05-01,13.00\n"
    before = write_seeds(tmp_path / "b", {"staff_fte.csv": rows.format(april="13.00")})
    after = write_seeds(tmp_path / "a", {"staff_fte.csv": rows.format(april="12.00")})
    months = ["2024-02", "2024-03", "2024-04", "2024-05", "2024-06"]
    result = find_stale(
        reported(months), [], [], {"S0": fingerprint_seeds(before)}, fingerprint_seeds(after)
    )
    assert result.months == ["2024-04", "2024-05", "2024-06"]


def test_changed_catalogue_or_moved_accommodation_row(tmp_path):
    places = "accommodation_id,capacity,valid_from\nGU-01,240,2015-10-01\nGU-05,{c},{f}\n"
    before = write_seeds(
        tmp_path / "b",
        {
            "products.csv": "product_id\n31.30.01\n",
            "accommodation.csv": places.format(c=80, f="2024-04-01"),
        },
    )
    moved = write_seeds(
        tmp_path / "m",
        {
            "products.csv": "product_id\n31.30.01\n",
            "accommodation.csv": places.format(c=80, f="2024-03-01"),
        },
    )
    catalogue = write_seeds(
        tmp_path / "c",
        {
            "products.csv": "product_id\n31.30.02\n",
            "accommodation.csv": places.format(c=80, f="2024-04-01"),
        },
    )
    base = {"S0": fingerprint_seeds(before)}
    # GU-05 now valid from March instead of April: min(old, new valid_from) = 2024-03
    assert find_stale(reported(MONTHS_24), [], [], base, fingerprint_seeds(moved)).months == [
        "2024-03",
        "2024-04",
        "2024-05",
    ]
    # a seed without periods (products) affects every reported month
    assert find_stale(reported(MONTHS_24), [], [], base, fingerprint_seeds(catalogue)).months == (
        MONTHS_24
    )


def test_window_is_widened_to_every_stale_month_and_said_in_one_line():
    stale = Staleness({m: ("personen_2024-02.csv ersetzt",) for m in MONTHS_24[1:]})
    assert extend_window(["2024-05"], stale) == ["2024-02", "2024-03", "2024-04", "2024-05"]
    window = extend_window(["2024-06"], stale)  # the next month, plus 2024-02..05
    assert window == ["2024-02", "2024-03", "2024-04", "2024-05", "2024-06"]
    assert correction_line(stale, window) == (
        "Korrektur erkannt (personen_2024-02.csv ersetzt): 2024-02 bis 2024-06 werden neu "
        "berechnet."
    )
    assert extend_window(["2024-06"], Staleness({})) == ["2024-06"]


def annex_bytes(persons: int) -> bytes:
    """A one-table annex in the council layout: title row 1, header row 3, data from row 4."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Tabelle 01"
    sheet["A1"] = "Personen je Sozialraum"
    sheet["A3"], sheet["B3"] = "Sozialraum", "Personen"
    sheet["A4"], sheet["B4"] = "Nordstadt", persons
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def renderer(html: str, xlsx: bytes):
    def render(scratch: Path) -> list[Path]:
        folder = scratch / "public" / "2024-Q1"
        folder.mkdir(parents=True)
        (folder / "Integrationsbericht_2024-Q1.html").write_text(html, encoding="utf-8")
        (folder / "Integrationsbericht_2024-Q1.xlsx").write_bytes(xlsx)
        return [
            folder / "Integrationsbericht_2024-Q1.html",
            folder / "Integrationsbericht_2024-Q1.xlsx",
        ]

    return render


def test_published_report_is_kept_as_a_version_when_it_changes(tmp_path):
    from reports.versions import publish_versioned

    folder = tmp_path / "public" / "2024-Q1"
    old_xlsx, new_xlsx = annex_bytes(10), annex_bytes(12)
    # first publication: no version, no note
    files, note = publish_versioned(folder, "2024-Q1", renderer("<p>10</p>", old_xlsx), "x")
    assert note is None and not (folder / "versions").exists()
    assert (folder / "Integrationsbericht_2024-Q1.xlsx").read_bytes() == old_xlsx
    # identical rendering: nothing new
    _, note = publish_versioned(folder, "2024-Q1", renderer("<p>10</p>", old_xlsx), "x")
    assert note is None and not (folder / "versions").exists()
    # changed content: the old files become v1, a note names the reason and the changed cell
    reason = "personen_2024-02.csv ersetzt"
    _, note = publish_versioned(folder, "2024-Q1", renderer("<p>12</p>", new_xlsx), reason)
    kept = folder / "versions" / "v1"
    assert (kept / "Integrationsbericht_2024-Q1.html").read_text(encoding="utf-8") == "<p>10</p>"
    assert (kept / "Integrationsbericht_2024-Q1.xlsx").read_bytes() == old_xlsx
    assert (folder / "Integrationsbericht_2024-Q1.xlsx").read_bytes() == new_xlsx
    text = note.read_text(encoding="utf-8")
    assert note.name == "Aenderungshinweis_2024-Q1.md"
    assert "## Version 2 ersetzt Version 1" in text and f"Grund: {reason}" in text
    # sheet, cell, row label (column A), column label (row 3), old, new
    assert "| Tabelle 01 | B4 | Nordstadt | Personen | 10 | 12 |" in text
    assert text.count("| Tabelle 01 |") == 1  # nothing else changed
    assert not list(tmp_path.glob("**/.render*"))  # the scratch folder is gone


def test_sensor_and_schedule_request_one_run_over_the_stale_range(tmp_path):
    from dagster import PartitionKeyRange, build_schedule_context, build_sensor_context

    from dagster_project.automation import inbox_sensor, monthly_schedule
    from dagster_project.resources import KimPaths
    from ingest.inbox import scan
    from ingest.staleness import record_build
    from ingest.warehouse import connect
    from kim_settings import SEEDS_DIR

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    months = ["2026-01", "2026-02", "2026-03"]
    for month in months:
        for kind in ("personen", "asylblg_zahlungen", "fibu_ist"):
            (inbox / f"{kind}_{month}.csv").write_text(f"{kind} {month}\n", encoding="utf-8")
        (inbox / f"kurse_{month}.xlsx").write_text(f"kurse {month}\n", encoding="utf-8")
    warehouse = tmp_path / "w.duckdb"
    with connect(warehouse) as con:
        for i, f in enumerate(scan(inbox)):
            con.execute(
                "insert into meta.load_batches (load_id, source, period, file_name, sha256, "
                "size_bytes, rows_read, rows_loaded, rows_quarantined, rows_totals_removed, "
                "loaded_at) values (?, ?, ?, ?, ?, 1, 0, 0, 0, 0, ?)",
                [f"L{i}", f.kind, f.period, f.path.name, f.sha256, T_LOAD],
            )
        record_build(con, months, "r1", SEEDS_DIR, T_BUILD)
    (inbox / "personen_2026-01.csv").write_text("korrigiert\n", encoding="utf-8")
    resources = {
        "kim_paths": KimPaths(
            inbox=str(inbox), warehouse=str(warehouse), output=str(tmp_path / "out")
        )
    }
    with build_sensor_context(resources=resources) as context:
        (request,) = inbox_sensor(context)
        cursor = context.cursor
    # the corrected January and the reported months after it, in one run
    assert request.partition_key_range == PartitionKeyRange("2026-01", "2026-03")
    assert request.tags["kim/korrektur"] == "personen_2026-01.csv ersetzt"
    # next tick, the run still queued: the same request under the same key (Dagster starts it once)
    with build_sensor_context(cursor=cursor, resources=resources) as context:
        (again,) = inbox_sensor(context)
    assert again.run_key == request.run_key
    # the monthly schedule (8 April: March) widens its month the same way
    tick = dt.datetime(2026, 4, 8, 6, 0)
    with build_schedule_context(scheduled_execution_time=tick, resources=resources) as context:
        scheduled = monthly_schedule(context)
    assert scheduled.partition_key_range == PartitionKeyRange("2026-01", "2026-03")


# --- end to end: one correction through the whole pipeline -----------------------------------

LEDGER_LINE = "01.2024;12.22.08;4012;322200;3.125,00"  # Ausländerbehörde, pay of employees
CORRECTED = "01.2024;12.22.08;4012;322200;3.248,45"  # + 123,45 €
DELTA = Decimal("123.45")  # 3.248,45 − 3.125,00


def ytd(warehouse: Path) -> dict[str, Decimal]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {
            str(month)[:7]: total
            for month, total in con.execute(
                "select month, sum(actual_to_date) from marts.fct_budget_execution "
                "where product_id = '12.22.08' and account_id = '4012' group by 1 order by 1"
            ).fetchall()
        }
    finally:
        con.close()


def test_corrected_ledger_of_january_moves_year_to_date_of_every_later_month(
    tmp_path, monkeypatch, capsys
):
    from dagster_project.cli import main
    from ingest.generator import generate

    inbox, out, warehouse = tmp_path / "inbox", tmp_path / "out", tmp_path / "kim.duckdb"
    generate(inbox, months=3, start="2024-01", persons=300, seed=7)
    for name in ("KIM_INBOX", "KIM_WAREHOUSE", "KIM_OUTPUT"):
        monkeypatch.setenv(name, "")  # main() writes them; monkeypatch restores them after
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    # A corrected file makes the inbox no longer the untouched sample: a real key from the start.
    monkeypatch.setenv("KIM_PSEUDONYM_KEY", "correction-test-key-0123456789abcdef")
    paths = ["--inbox", str(inbox), "--warehouse", str(warehouse), "--out", str(out)]
    assert main(["run", "--all", *paths]) == 0
    printed = capsys.readouterr()
    console = printed.out + printed.err
    # the console of a run: stage lines and the summary, no Dagster/dbt detail, no control codes
    assert len(console.splitlines()) < 60 and "\x1b[" not in console and "\r" not in console
    assert "Zusammenfassung: 3 Monat(e) verarbeitet (2024-01 bis 2024-03)" in console
    log_files = list((out / "internal" / "logs").glob("run_*.log"))
    assert len(log_files) == 1 and f"Protokoll: {log_files[0]}" in console
    assert "STEP_START" in log_files[0].read_text(encoding="utf-8")  # the detail is in the log
    before = ytd(warehouse)
    assert sorted(before) == ["2024-01", "2024-02", "2024-03"]

    ledger = inbox / "fibu_ist_2024-01.csv"
    text = ledger.read_bytes().decode("utf-8-sig")
    assert text.count(LEDGER_LINE) == 1 and "Summe" not in text  # no totals line to adjust
    ledger.write_bytes(text.replace(LEDGER_LINE, CORRECTED).encode("utf-8-sig"))
    capsys.readouterr()
    assert main(["status", *paths]) == 0
    status = capsys.readouterr().out
    assert status.count("ja: fibu_ist_2024-01.csv ersetzt") == 3  # all three months stale

    assert main(["run", "--month", "2024-03", *paths]) == 0
    printed = capsys.readouterr().out
    assert (
        "Korrektur erkannt (fibu_ist_2024-01.csv ersetzt): 2024-01 bis 2024-03 werden neu "
        "berechnet." in printed
    )
    after = ytd(warehouse)
    assert {m: after[m] - before[m] for m in before} == {m: DELTA for m in before}
    # the published 2024-Q1 report changed: the first version is kept, with a note
    quarter = out / "public" / "2024-Q1"
    assert (quarter / "versions" / "v1" / "Integrationsbericht_2024-Q1.xlsx").exists()
    note = (quarter / "Aenderungshinweis_2024-Q1.md").read_text(encoding="utf-8")
    assert "Grund: fibu_ist_2024-01.csv ersetzt" in note
    assert main(["status", *paths]) == 0
    assert "ja:" not in capsys.readouterr().out  # nothing stale any more
    # once more with nothing changed: nothing runs (no new run log), the figures are shown
    assert main(["run", "--month", "2024-03", *paths]) == 0
    printed = capsys.readouterr().out
    assert "Nichts zu tun: 2024-03 ist aktuell." in printed and "Kennzahlen 2024-03:" in printed
    assert "Verarbeite" not in printed


def _loaded(con, name: str, period: str, sha: str, at: dt.datetime) -> None:
    con.execute(
        "insert into meta.load_batches (load_id, source, period, file_name, sha256, size_bytes,"
        " rows_read, rows_loaded, rows_quarantined, rows_totals_removed, loaded_at)"
        " values (?, 'personen', ?, ?, ?, 1, 1, 1, 0, 0, ?)",
        [f"{name}-{sha}", period, name, sha, at],
    )


def test_month_is_up_to_date_only_when_files_seeds_program_key_and_reports_are_unchanged(
    tmp_path,
):
    from ingest.staleness import build_id, record_build, up_to_date
    from ingest.warehouse import ensure_schema
    from kim_settings import internal_dir, public_dir

    seeds = write_seeds(tmp_path / "seeds", {"products.csv": "product_id\n31.30.01\n"})
    output = tmp_path / "output"
    for folder in (internal_dir(output, "2024-02"), public_dir(output, "2024-02")):
        folder.mkdir(parents=True)
        (folder / "report.txt").write_text("x")
    con = duckdb.connect()
    ensure_schema(con)
    loaded_at = dt.datetime(2024, 3, 5, 8, 0)
    _loaded(con, "personen_2024-01.csv", "2024-01", "a", loaded_at)
    _loaded(con, "personen_2024-02.csv", "2024-02", "b", loaded_at)
    build = build_id(b"k" * 32, program="P1")
    record_build(con, ["2024-02"], "run-1", seeds, loaded_at + dt.timedelta(minutes=5), build)
    inbox = [
        inbox_file("personen_2024-01.csv", "personen", "2024-01", "a"),
        inbox_file("personen_2024-02.csv", "personen", "2024-02", "b"),
    ]

    def current(files=inbox, build=build, months=("2024-02",)) -> bool:
        return up_to_date(con, list(months), files, seeds, build, output)

    assert current()
    # a month never reported, another program, another key: not up to date
    assert not current(months=("2024-01", "2024-02"))
    assert not current(build=build_id(b"k" * 32, program="P2"))
    assert not current(build=build_id(b"j" * 32, program="P1"))
    # a corrected earlier file, or a file of the month never loaded
    assert not current(
        files=[inbox_file("personen_2024-01.csv", "personen", "2024-01", "c"), inbox[1]]
    )
    assert not current(files=[*inbox, inbox_file("kurse_2024-02.xlsx", "kurse", "2024-02", "d")])
    # a later month's file does not concern 2024-02
    assert current(files=[*inbox, inbox_file("personen_2024-03.csv", "personen", "2024-03", "e")])
    # a changed seed
    (seeds / "products.csv").write_text("product_id\n31.30.02\n")
    assert not current()
    (seeds / "products.csv").write_text("product_id\n31.30.01\n")
    assert current()
    # the month's published folder emptied
    (public_dir(output, "2024-02") / "report.txt").unlink()
    assert not current()
