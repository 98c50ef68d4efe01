"""End to end: a generated municipality through ingest, gates, dbt and reports in one Dagster run.

Every expected number is recomputed here directly from the generated source files with plain
polars and Python decimals (an independent computation), never read back from the pipeline.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest

MONTHS = ["2023-11", "2023-12", "2024-01"]
CHECK_MONTHS = ["2023-12", "2024-01"]


def month_end(month: str) -> date:
    year, mon = int(month[:4]), int(month[5:7])
    nxt = date(year + mon // 12, mon % 12 + 1, 1)
    return date.fromordinal(nxt.toordinal() - 1)


def persons(inbox: Path, month: str) -> pl.DataFrame:
    text = (inbox / f"personen_{month}.csv").read_bytes().decode("cp1252")
    frame = pl.read_csv(text.encode(), separator=";", infer_schema=False)
    return frame.with_columns(
        pl.col("Sozialraum").fill_null("unbekannt"),
        pl.col("Status_seit").str.to_date("%d.%m.%Y"),
    )


def ledger(inbox: Path, month: str) -> list[dict]:
    text = (inbox / f"fibu_ist_{month}.csv").read_bytes().decode("utf-8-sig")
    lines = [line.split(";") for line in text.splitlines() if line.strip()]
    header, rows = lines[0], lines[1:]
    return [
        dict(zip(header, r, strict=True)) for r in rows if not r[0].startswith(("Summe", "Gesamt"))
    ]


def money(text: str) -> Decimal:
    return Decimal(text.replace(".", "").replace(",", "."))


def asylblg_expense(inbox: Path, month: str) -> Decimal:
    """Ledger expenses (accounts 4xxx) of product 31.30.01 in the month, from the file."""
    return sum(
        (
            money(r["Betrag"])
            for r in ledger(inbox, month)
            if r["Produkt"] == "31.30.01" and r["Sachkonto"].startswith("4")
        ),
        Decimal("0"),
    )


def participations_as_of(inbox: Path, month: str) -> pl.DataFrame:
    """Each participation's latest snapshot up to `month` (workbooks are monthly snapshots)."""
    frames = []
    for path in sorted(inbox.glob("kurse_*.xlsx")):
        snapshot = path.stem.split("_")[1]
        if snapshot > month:
            continue
        sheet = pl.read_excel(path, sheet_name="Teilnahmen", infer_schema_length=0)
        frames.append(
            sheet.select(pl.all().cast(pl.String)).with_columns(snapshot=pl.lit(snapshot))
        )
    frame = pl.concat(frames, how="diagonal")
    latest = frame.sort("snapshot").group_by(["Kurs_ID", "Person_ID", "Eintritt"]).last()
    return latest


def exam_date(column: str) -> pl.Expr:
    """Excel cells arrive as ISO timestamps, text cells as dd.mm.yyyy."""
    text = pl.col(column).str.slice(0, 10)
    return pl.coalesce(
        text.str.to_date("%Y-%m-%d", strict=False), text.str.to_date("%d.%m.%Y", strict=False)
    )


@pytest.fixture(scope="module")
def run(pipeline_run):
    paths, result = pipeline_run
    assert result.success, "the pipeline run failed"
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    yield paths, con
    con.close()


def indicator(con, month: str, indicator_id: str, space: str = "GESAMT"):
    row = con.execute(
        "select numerator, denominator, value from marts.fct_indicator_values "
        "where month = ? and indicator_id = ? and social_space_id = ?",
        [date.fromisoformat(month + "-01"), indicator_id, space],
    ).fetchone()
    assert row is not None, f"{indicator_id} {space} {month} missing"
    return row


def busiest_spaces(inbox: Path, month: str) -> list[str]:
    counts = (
        persons(inbox, month)
        .group_by("Sozialraum")
        .len()
        .sort(["len", "Sozialraum"], descending=True)
    )
    return [s for s in counts["Sozialraum"].to_list() if s != "unbekannt"][:2]


def test_persons_per_status_and_month(run, small_municipality):
    _, con = run
    for month in MONTHS:
        expected = dict(
            persons(small_municipality, month).group_by("Aufenthaltsstatus").len().iter_rows()
        )
        got = dict(
            con.execute(
                "select residence_status, sum(persons) from marts.fct_caseload_monthly "
                "where month = ? group by 1",
                [date.fromisoformat(month + "-01")],
            ).fetchall()
        )
        assert got == expected


def test_asylblg_expense_per_month_matches_the_ledger_file(run, small_municipality):
    _, con = run
    for month in MONTHS:
        expected = asylblg_expense(small_municipality, month)
        got = con.execute(
            "select sum(actual_month) from marts.fct_budget_execution "
            "where month = ? and product_id = '31.30.01' and account_kind = 'expense'",
            [date.fromisoformat(month + "-01")],
        ).fetchone()[0]
        assert got == expected
        assert expected > 0


def test_reconciliation_has_no_difference_on_clean_data(run):
    _, con = run
    rows = con.execute(
        "select count(*), count(*) filter (where difference <> 0) from marts.fct_reconciliation"
    ).fetchone()
    assert rows[0] > 0 and rows[1] == 0


def test_k01_and_k06_per_social_space(run, small_municipality):
    _, con = run
    for month in CHECK_MONTHS:
        stock = persons(small_municipality, month)
        for space in ["GESAMT", *busiest_spaces(small_municipality, month)]:
            part = stock if space == "GESAMT" else stock.filter(pl.col("Sozialraum") == space)
            k01 = part.filter(pl.col("Rechtskreis") == "ASYLBLG").height
            assert indicator(con, month, "K01", space)[2] == pytest.approx(k01)
            housed = part.filter(pl.col("Unterbringung").is_in(["DEZENTRAL", "PRIVAT"])).height
            num, den, value = indicator(con, month, "K06", space)
            assert (num, den) == (housed, part.height)
            assert value == pytest.approx(100 * housed / part.height)


def test_k05_cost_per_benefit_recipient(run, small_municipality):
    _, con = run
    for month in CHECK_MONTHS:
        expense = asylblg_expense(small_municipality, month)
        recipients = (
            persons(small_municipality, month).filter(pl.col("Rechtskreis") == "ASYLBLG").height
        )
        num, den, value = indicator(con, month, "K05")
        assert (num, den) == (expense, recipients)
        assert value == pytest.approx(float(expense) / recipients)


def latest_social_space(inbox: Path, month: str) -> dict[str, str]:
    """Each person's social space in the latest persons file up to `month`."""
    spaces: dict[str, str] = {}
    for path in sorted(inbox.glob("personen_*.csv")):
        if path.stem.split("_")[1] <= month:
            stock = persons(inbox, path.stem.split("_")[1])
            spaces.update(zip(stock["Person_ID"], stock["Sozialraum"], strict=True))
    return spaces


def test_k09_b1_rate(run, small_municipality):
    _, con = run
    for month in CHECK_MONTHS:
        end = month_end(month)
        # the 12 months ending with the month: from the 1st of month-11 to the month's end
        window_start = date(end.year - (1 if end.month < 12 else 0), (end.month % 12) + 1, 1)
        spaces = latest_social_space(small_municipality, month)
        taken = (
            participations_as_of(small_municipality, month)
            .filter(pl.col("Pruefung").is_in(["B1", "A2", "UNTER_A2"]))
            .with_columns(exam=exam_date("Pruefungsdatum"))
            .filter((pl.col("exam") >= window_start) & (pl.col("exam") <= end))
            .with_columns(space=pl.col("Person_ID").replace_strict(spaces, default="unbekannt"))
        )
        by_space = taken.group_by("space").len().sort(["len", "space"], descending=True)
        checked = ["GESAMT", *[s for s in by_space["space"].to_list() if s != "unbekannt"][:2]]
        for space in checked:
            part = taken if space == "GESAMT" else taken.filter(pl.col("space") == space)
            b1 = part.filter(pl.col("Pruefung") == "B1").height
            num, den, value = indicator(con, month, "K09", space)
            assert (num, den) == (b1, part.height)
            if part.height:
                assert value == pytest.approx(100 * b1 / part.height)
            else:
                assert value is None


def test_k11_switch_after_recognition(run, small_municipality):
    # Cohort: persons of the persons file of M-3 with ERLAUBNIS and Status_seit in M-3 (domain.md
    # section 3); value over those still in the file of M. The run covers 2023-11..2024-01, so no
    # month has its M-3 file: K11 has no data (not a value from a guessed cohort).
    _, con = run
    for month in CHECK_MONTHS:
        year, mon = int(month[:4]), int(month[5:7])
        back = year * 12 + mon - 1 - 3
        cohort_month = f"{back // 12}-{back % 12 + 1:02d}"
        status = con.execute(
            "select value_status from marts.fct_indicator_values where month = ?"
            " and indicator_id = 'K11' and social_space_id = 'GESAMT'",
            [date.fromisoformat(month + "-01")],
        ).fetchone()
        if not (small_municipality / f"personen_{cohort_month}.csv").exists():
            assert status == ("no_data",)
            continue
        earlier = persons(small_municipality, cohort_month)
        cohort_ids = earlier.filter(
            (pl.col("Aufenthaltsstatus") == "ERLAUBNIS")
            & (pl.col("Status_seit").dt.strftime("%Y-%m") == cohort_month)
        )["Person_ID"]
        present = persons(small_municipality, month).filter(pl.col("Person_ID").is_in(cohort_ids))
        switched = present.filter(pl.col("Rechtskreis").is_in(["SGB2", "KEINER"])).height
        num, den, _ = indicator(con, month, "K11")
        assert (num, den) == (switched, present.height)


def test_reports_written_for_every_month(run):
    paths, _ = run
    for month in MONTHS:
        assert (paths.output / "internal" / month / f"Controlling_{month}.xlsx").exists()
        assert (paths.output / "internal" / month / f"Datenqualitaet_{month}.html").exists()
    assert (paths.output / "public" / "2023-Q4" / "Integrationsbericht_2023-Q4.pdf").exists()
    assert (paths.output / "public" / "2023" / "Integrationsbericht_2023.html").exists()


def test_workbook_actual_to_date_equals_the_ledger_file(run, small_municipality):
    from openpyxl import load_workbook

    paths, _ = run
    month = "2024-01"
    expected = asylblg_expense(small_municipality, month)
    sheet = load_workbook(paths.output / "internal" / month / f"Controlling_{month}.xlsx")["Konten"]
    header_row = next(
        r
        for r in sheet.iter_rows(min_row=1, max_row=10)
        if any(c.value == "Ist bis Monat" for c in r)
    )
    cols = {c.value: c.column for c in header_row}
    total = Decimal("0")
    for row in sheet.iter_rows(min_row=header_row[0].row + 1):
        product = row[cols["Produkt"] - 1].value
        account = str(row[cols["Sachkonto"] - 1].value or "")
        if product == "31.30.01" and account.startswith("4"):
            total += Decimal(str(row[cols["Ist bis Monat"] - 1].value))
    assert total == expected  # January: year to date = the month


def test_failed_warning_does_not_block_and_is_listed(run):
    from openpyxl import load_workbook

    paths, con = run
    warned = con.execute(
        "select count(*) from meta.gate_results where partition = '2023-12' "
        "and expectation = 'row_count_within_tolerance' and not success and severity = 'warning'"
    ).fetchone()[0]
    assert warned > 0  # the zero tolerance of the fixture makes growing tables warn
    sheet = load_workbook(paths.output / "internal" / "2023-12" / "Controlling_2023-12.xlsx")[
        "Datenqualität"
    ]
    rows = [r for r in sheet.iter_rows(values_only=True) if r and r[2] == "Warnung"]
    assert any(r[3] == "nicht bestanden" and "row_count_within_tolerance" in r[1] for r in rows)


def test_status_lists_loads_gates_and_reports(run):
    from dagster_project.status import status_text

    paths, con = run
    text = status_text(con.cursor(), paths.output)  # earlier tests left results open on con
    assert "personen_2024-01.csv" in text and "haushaltsplan_2023.csv" in text
    assert text.count("gates: passed") == len(MONTHS)
    assert "Controlling_2024-01.xlsx" in text
