"""Gate report (HTML + workbook rows), CLI table and gate configuration."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from expectations.cli_table import format_results_table
from expectations.config import GateConfig
from expectations.gates import ExpectationOutcome, GateOutcome, run_raw_gate
from expectations.report import gate_rows, quarantine_rows, write_gate_report
from ingest.warehouse import connect


def _fibu(line: int, amount: str | None) -> list:
    return [date(2026, 10, 1), "31.30.01", "4331", None,
            None if amount is None else Decimal(amount), date(2026, 10, 1), "L2",
            "fibu_ist_2026-10.csv", line]  # fmt: skip


def _quarantine(con, load_id: str, period: str, file: str, rule: str, n: int) -> None:
    for i in range(n):
        con.execute(
            "insert into meta.quarantine values (?, 'fibu_ist', ?, ?, ?, ?, 'Betrag', 'x', '{}')",
            [load_id, period, file, i + 2, rule],
        ).fetchall()


@pytest.fixture
def con(tmp_path):
    with connect(tmp_path / "w.duckdb") as c:
        for line, amount in ((2, "10.00"), (3, None)):
            c.execute("insert into raw.fibu_ist values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      _fibu(line, amount)).fetchall()  # fmt: skip
        c.execute(
            "insert into meta.load_batches values ('L2', 'fibu_ist', '2026-10', "
            "'fibu_ist_2026-10.csv', 'x', 1, 'utf-8', 5, 2, 3, 0, 'L1', null, 'r', "
            "timestamp '2026-11-02 08:00:00', null)"
        ).fetchall()
        _quarantine(c, "L2", "2026-10", "fibu_ist_2026-10.csv", "money_format", 2)
        _quarantine(c, "L2", "2026-10", "fibu_ist_2026-10.csv", "missing_required", 1)
        _quarantine(c, "L1", "2026-10", "fibu_ist_2026-10.csv", "money_format", 7)  # replaced
        _quarantine(c, "L9", "2026-09", "fibu_ist_2026-09.csv", "money_format", 4)  # other month
        yield c


def test_gate_rows_and_html_report(con, tmp_path):
    run_raw_gate(con, "2026-10", run_id="old", tables=["fibu_ist"])
    outcome = run_raw_gate(con, "2026-10", run_id="new", tables=["fibu_ist"])
    assert not outcome.passed
    rows = gate_rows(con, "2026-10")
    # latest run only, one row per expectation, ordered by expectation
    assert [r["expectation"] for r in rows] == [
        "betrag_not_null", "no_unknown_reference_with_money", "no_unknown_reference_zero_amount",
        "periode_is_file_month", "periode_not_null", "produkt_not_null",
        "quarantine_share_below_threshold", "row_count_within_tolerance", "sachkonto_not_null",
        "totals_line_matches_rows",
    ]  # fmt: skip
    failed = {r["expectation"]: r for r in rows if not r["success"]}
    assert set(failed) == {"betrag_not_null", "quarantine_share_below_threshold"}
    assert failed["betrag_not_null"]["sample_values"] == [
        "source_file=fibu_ist_2026-10.csv, source_line=3, betrag=NULL"
    ]
    assert failed["betrag_not_null"]["observed_value"] == "1 von 2 Zeilen abweichend"
    # 3 quarantined of 2 loaded + 3 = 60 %
    assert "quarantine_share=0.6" in failed["quarantine_share_below_threshold"]["sample_values"][0]
    assert quarantine_rows(con, "2026-10") == [
        {"file_name": "fibu_ist_2026-10.csv", "rule": "missing_required", "rows": 1},
        {"file_name": "fibu_ist_2026-10.csv", "rule": "money_format", "rows": 2},
    ]

    path = write_gate_report(con, "2026-10", tmp_path / "out")
    assert path == tmp_path / "out" / "Datenqualitaet_2026-10.html"
    html = path.read_text("utf-8")
    assert "<h1>Datenqualität Oktober 2026</h1>" in html
    assert "Rohdaten fibu_ist" in html and "nicht bestanden" in html
    assert "Pflichtfeld betrag ist gefüllt" in html
    assert "source_line=3, betrag=NULL" in html
    assert '<td>money_format</td><td class="num">2</td>' in html
    assert "http" not in html and "<link" not in html and "<script" not in html
    # no clock in the report: a re-run with new timestamps gives the same bytes
    run_raw_gate(con, "2026-10", run_id="new", tables=["fibu_ist"])
    assert write_gate_report(con, "2026-10", tmp_path / "out").read_text("utf-8") == html


def test_report_without_results(con, tmp_path):
    html = write_gate_report(con, "2026-08", tmp_path).read_text("utf-8")
    assert "Für diesen Monat liegen keine Prüfergebnisse vor." in html
    assert "Keine Zeilen in Quarantäne." in html


def test_format_results_table():
    ok = ExpectationOutcome("person_id_not_null", True, "error", "0 von 3 Zeilen abweichend", 0,
                            gate="raw.personen")  # fmt: skip
    bad = ExpectationOutcome("betrag_within_bounds_GL3", False, "warning",
                             "1 von 3 Zeilen abweichend", 1, ["betrag=2000.00"],
                             gate="raw.asylblg_zahlungen")  # fmt: skip
    outcome = GateOutcome("raw", "2026-10", True, [ok, bad], "Gate raw 2026-10 passed ...", 1.25)
    lines = format_results_table([outcome]).splitlines()
    assert lines[0].split() == ["gate", "expectation", "severity", "result", "observed",
                                "unexpected"]  # fmt: skip
    assert lines[2].split() == ["raw.personen", "person_id_not_null", "error", "ok", "0", "von",
                                "3", "Zeilen", "abweichend", "0"]  # fmt: skip
    assert lines[3].split()[:4] == ["raw.asylblg_zahlungen", "betrag_within_bounds_GL3",
                                    "warning", "warn"]  # fmt: skip
    assert "raw 2026-10: passed (1.2 s)" in lines  # 1.25 rounds half to even
    assert "  Gate raw 2026-10 passed ..." in lines


def test_config_defaults_env_and_file(tmp_path):
    default = GateConfig.from_env({})
    assert default.row_count_tolerance == 0.30 and default.max_quarantine_share == 0.01
    assert default.amount_bounds["GL3"] == (Decimal("-1000"), Decimal("1500"))
    assert default.severity("amount_bounds") == "warning"
    file = tmp_path / "gates.json"
    file.write_text(json.dumps({
        "amount_bounds": {"GL3": ["-500", "800.50"]},
        "severities": {"row_count": "error"},
        "max_quarantine_share": 0.05,
    }))  # fmt: skip
    config = GateConfig.from_env(
        {"KIM_GATE_CONFIG": str(file), "KIM_GATE_MAX_QUARANTINE_SHARE": "0.02"}
    )
    assert config.amount_bounds["GL3"] == (Decimal("-500"), Decimal("800.50"))
    assert config.amount_bounds["KR4"] == (Decimal("-20000"), Decimal("50000"))
    assert config.severity("row_count") == "error"
    assert config.max_quarantine_share == 0.02  # the single variable wins over the file
    with pytest.raises(ValueError, match="severity"):
        GateConfig(severities={"unique": "fatal"})
    with pytest.raises(ValueError, match="unknown gate config keys"):
        GateConfig.from_mapping({"tolerance": 1})
