"""`kim run`'s console: stage lines from Dagster step events, and the summary read from a tiny
hand-made warehouse (only the columns the summary reads)."""

from __future__ import annotations

import io
import logging
from pathlib import Path
from types import SimpleNamespace

import duckdb
from support.marts import create_marts

from dagster_project.console import LogLines, StageConsole, stage_of
from dagster_project.run_summary import summary_lines

# The job's step keys as the execution plan lists them (dagster_project/jobs.py).
STEP_KEYS = {
    "ingest": "ingest",
    "warehouse_dbt": "dbt",
    "fct_indicator_values_mart_gate": "mart_gate",
    "fct_reconciliation_reconciliation_gate": "mart_gate",
    "controlling_workbook": "reports",
    "build_record": "reports",
}


def test_steps_map_to_their_stage():
    assert {key: stage_of(key) for key in STEP_KEYS} == STEP_KEYS


def _record(level: int, message: str, kind: str | None = None, step: str | None = None):
    record = logging.LogRecord("kim.run", level, "", 0, message, (), None)
    event = SimpleNamespace(event_type_value=kind, step_key=step) if kind else None
    record.dagster_meta = {"dagster_event": event, "orig_message": message}
    return record


def test_plain_console_prints_one_line_per_stage_and_warnings_in_full(monkeypatch):
    clock = iter([0.0, 3.0, 10.0, 12.0])  # ingest starts at 0 s, ends at 3 s; gates 10 s to 12 s
    monkeypatch.setattr("dagster_project.console.time.monotonic", lambda: next(clock))
    out = io.StringIO()
    console = StageConsole(out, {"ingest": 1, "mart_gate": 2}, live=False, verbose=False)
    for record in [
        _record(logging.DEBUG, "start", "STEP_START", "ingest"),
        _record(logging.INFO, "a dbt or Dagster detail line"),
        _record(logging.DEBUG, "ok", "STEP_SUCCESS", "ingest"),
        _record(logging.DEBUG, "start", "STEP_START", "fct_reconciliation_reconciliation_gate"),
        _record(logging.DEBUG, "ok", "STEP_SUCCESS", "fct_reconciliation_reconciliation_gate"),
        _record(logging.DEBUG, "start", "STEP_START", "fct_indicator_values_mart_gate"),
        _record(logging.WARNING, "K04 2024-01 außerhalb der Spanne"),
        _record(logging.DEBUG, "ok", "STEP_SUCCESS", "fct_indicator_values_mart_gate"),
        _record(logging.ERROR, "Dependencies for step controlling_workbook failed."),
    ]:
        console.handle(record)
    console.close()
    assert out.getvalue().splitlines() == [
        "  Einlesen und Eingangsprüfungen  1/1 Schritte fertig (3 s)",  # 3.0 − 0.0
        "WARNING: K04 2024-01 außerhalb der Spanne",
        "  Warehouse-Prüfungen             2/2 Schritte fertig (2 s)",  # 12.0 − 10.0
    ]
    assert "\x1b[" not in out.getvalue() and "\r" not in out.getvalue()


def test_dbt_lines_lose_their_colour_codes():
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    lines = LogLines([handler])
    lines.write("1 of 2 OK created [\x1b[32mOK\x1b[0m in 0.11s]\n2 of 2 ST")
    lines.write("ART\n")
    assert out.getvalue().splitlines() == ["1 of 2 OK created [OK in 0.11s]", "2 of 2 START"]


def _warehouse() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create schema meta")
    # the marts as the dbt project declares them (support/marts.py)
    create_marts(con, ["fct_indicator_values", "fct_budget_unit_monthly", "fct_reconciliation"])
    con.execute(
        "create table meta.load_batches (source varchar, period varchar, rows_loaded int,"
        " rows_quarantined int, loaded_at timestamp, ags varchar)"
    )
    con.execute(
        """insert into meta.load_batches (source, period, rows_loaded, rows_quarantined, loaded_at)
        values
        ('personen', '2023-12', 500, 9, '2024-01-05'),   -- before the run's months
        ('personen', '2024-01', 100, 2, '2024-02-05'),   -- replaced by the next row
        ('personen', '2024-01', 98, 4, '2024-02-20'),
        ('personen', '2024-02', 110, 0, '2024-03-05'),
        ('haushaltsplan', '2024', 26, 1, '2024-02-05')"""
    )
    con.execute(
        "create table meta.gate_results (run_id varchar, gate varchar, partition varchar,"
        " success boolean, severity varchar)"
    )
    con.execute(
        """insert into meta.gate_results values
        ('r1', 'raw.personen', '2024-01', true, 'error'),
        ('r1', 'raw.personen', '2024-01', true, 'warning'),
        ('r1', 'raw.personen', '2024-02', true, 'error'),
        ('r1', 'raw.personen', '2024-02', false, 'warning'),
        ('r1', 'marts', '2024-01', true, 'error'),
        ('r1', 'marts', '2024-02', false, 'error'),
        ('r0', 'marts', '2024-01', false, 'error')  -- another run"""
    )
    con.execute(
        """insert into marts.fct_indicator_values
        (month, indicator_id, social_space_id, display_value) values
        ('2024-02-01', 'K01', 'GESAMT', 1135), ('2024-02-01', 'K01', 'S1', 40),
        ('2024-01-01', 'K01', 'GESAMT', 130), ('2024-02-01', 'K02', 'GESAMT', 7)"""
    )
    con.execute(
        """insert into marts.fct_budget_unit_monthly
        (month, budget_unit, net_burden_to_date, plan_to_date_net) values
        ('2024-02-01', 'THH 50', 1000.50, 1200.00), ('2024-02-01', 'THH 60', 234.25, 300.10),
        ('2024-01-01', 'THH 50', 400.00, 600.00)"""
    )
    con.execute(
        """insert into marts.fct_reconciliation (month, difference) values
        ('2024-02-01', 0.00), ('2024-02-01', 12.34), ('2024-02-01', -2.34),
        ('2024-01-01', 99.00)"""
    )
    return con


def test_summary_of_a_hand_made_warehouse():
    files = [
        Path("out/internal/2024-01/Controlling_2024-01.xlsx"),
        Path("out/internal/2024-02/Controlling_2024-02.xlsx"),
        Path("out/internal/2024-03/Controlling_2024-03.xlsx"),
        Path("out/public/2024/Integrationsbericht_2024.pdf"),
        Path("out/public/2024/Integrationsbericht_2024.html"),
        Path("out/public/2024/Integrationsbericht_2024.html"),  # one event per month: once
    ]
    lines = summary_lines(_warehouse(), "r1", ["2024-01", "2024-02"], files)
    assert lines == [
        "Zusammenfassung: 2 Monat(e) verarbeitet (2024-01 bis 2024-02)",
        "Geladen je Quelle:",
        # the yearly plan file of 2024 counts once; 2023-12 is outside the run
        "  haushaltsplan              26 Zeilen, 1 in Quarantäne",
        # newest load per month: 98 + 110 rows, 4 + 0 quarantined
        "  personen                  208 Zeilen, 4 in Quarantäne",
        # gate x month of run r1: raw 2024-01 passed, raw 2024-02 only a warning failed,
        # marts 2024-01 passed, marts 2024-02 an error failed
        "Prüfungen (Prüfung x Monat): 2 bestanden, 1 mit Warnung, 1 nicht bestanden",
        "Berichte:",
        "  Controlling (3): out/internal/2024-01/Controlling_2024-01.xlsx … "
        "out/internal/2024-03/Controlling_2024-03.xlsx",
        "  Integrationsbericht (1): out/public/2024/Integrationsbericht_2024.{html,pdf}",
        "Kennzahlen 2024-02:",
        "  K01 Leistungsberechtigte nach AsylbLG (Stadt gesamt): 1.135",
        # 1000.50 + 234.25 = 1234.75; 1200.00 + 300.10 = 1500.10
        "  Zuschussbedarf bis 2024-02: 1.234,75 € (Plan bis dahin: 1.500,10 €)",
        # 0.00 + 12.34 − 2.34 = 10.00, two rows differ
        "  Abgleich AsylbLG-Zahlungen mit Finanzbuchhaltung: 3 Zeilen, 2 mit Differenz "
        "(Summe 10,00 €)",
    ]


def test_run_log_keeps_every_ingest_warning_and_shows_each_once(tmp_path, capsys):
    from dagster_project.console import run_log

    with run_log(tmp_path / "logs", verbose=False) as log:
        for _ in range(3):  # e.g. the demo-key warning, once per ingest step
            logging.getLogger("ingest.pseudonymise").warning("WARNUNG: Demo-Schlüssel")
    printed = capsys.readouterr()
    assert printed.out == f"Protokoll: {log.path}\n"
    assert printed.err == "WARNUNG: Demo-Schlüssel\n"
    assert log.path.read_text(encoding="utf-8").count("WARNUNG: Demo-Schlüssel") == 3


def test_failed_run_explains_itself_in_plain_lines(tmp_path, monkeypatch, capsys):
    """A month without its ledger file: the ingest step fails, nothing downstream runs."""
    from dagster_project.cli import main
    from ingest.generator import generate

    inbox, out = tmp_path / "inbox", tmp_path / "out"
    generate(inbox, months=1, start="2024-01", persons=50, seed=3)
    (inbox / "fibu_ist_2024-01.csv").unlink()
    for name in ("KIM_INBOX", "KIM_WAREHOUSE", "KIM_OUTPUT"):
        monkeypatch.setenv(name, "")  # main() writes them; monkeypatch restores them after
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    monkeypatch.setenv("KIM_PSEUDONYM_KEY", "console-test-key-0123456789abcdef")
    paths = ["--inbox", str(inbox), "--warehouse", str(tmp_path / "kim.duckdb"), "--out", str(out)]
    capsys.readouterr()
    assert main(["run", "--month", "2024-01", *paths]) == 1
    printed = capsys.readouterr()
    console = printed.out + printed.err
    assert len(console.splitlines()) < 60 and "\x1b[" not in console
    [log_file] = (out / "internal" / "logs").glob("run_*.log")
    assert "Der Lauf für 2024-01 ist fehlgeschlagen" in printed.err
    assert "fibu_ist_2024-01.csv" in printed.err and "Hinweis gespeichert:" in printed.err
    assert f"Protokoll: {log_file})" in printed.err
    assert "STEP_FAILURE" in log_file.read_text(encoding="utf-8")
