"""A generated municipality with injected defects (`kim generate --defects`): exactly the injected
rows land in quarantine, and the month holding a blocking defect stops before its reports."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance

from dagster_project.cli import explain_failure, run_months
from ingest.generator import generate
from ingest.inbox import scan
from ingest.load import load_file
from ingest.pseudonymise import resolve_key
from ingest.warehouse import connect
from kim_settings import Paths


@pytest.fixture(scope="module")
def defect_inbox(tmp_path_factory) -> Path:
    inbox = tmp_path_factory.mktemp("defects")
    generate(inbox, months=4, start="2023-11", persons=300, seed=11, defects=True)
    return inbox


def injected(inbox: Path) -> list[dict]:
    return json.loads((inbox / "_kim_sample.json").read_text(encoding="utf-8"))["defects"]


def test_exactly_the_injected_rows_are_quarantined(defect_inbox, tmp_path):
    key = resolve_key(defect_inbox)
    with connect(tmp_path / "kim.duckdb") as con:
        for f in scan(defect_inbox):
            load_file(con, f.path, key=key)
        found = sorted(con.execute("select file_name, line, rule from meta.quarantine").fetchall())
        batches = con.execute(
            "select count(*) filter (where rows_read <> rows_loaded + rows_quarantined + "
            "rows_totals_removed) from meta.load_batches"
        ).fetchone()[0]
    expected = sorted((d["file"], d["line"], d["rule"]) for d in injected(defect_inbox))
    assert len(expected) == 10
    assert found == expected
    assert batches == 0


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_defect_month_fails_its_gates_and_keeps_earlier_reports(defect_inbox, tmp_path):
    defect_month = sorted({d["file"].split("_")[-1][:7] for d in injected(defect_inbox)})
    assert defect_month == ["2024-02"]
    paths = Paths(inbox=defect_inbox, warehouse=tmp_path / "kim.duckdb", output=tmp_path / "out")
    instance = DagsterInstance.ephemeral()
    # Months load in order: a reversal may refer to a booking of an earlier month.
    assert run_months(paths, ["2023-11", "2023-12", "2024-01"], instance=instance).success
    earlier = paths.output / "internal" / "2024-01" / "Controlling_2024-01.xlsx"
    before = sha(earlier)

    result = run_months(paths, ["2024-02"], instance=instance)
    assert not result.success
    text = explain_failure(result)
    assert "quarantine_share_below_threshold" in text  # 5 of ~300 persons rows quarantined
    assert "totals_line_matches_rows" in text  # the ledger's wrong totals line
    assert not (paths.output / "internal" / "2024-02" / "Controlling_2024-02.xlsx").exists()
    assert (paths.output / "internal" / "2024-02" / "Datenqualitaet_2024-02.html").exists()
    assert sha(earlier) == before
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    failed = con.execute(
        "select distinct expectation from meta.gate_results where partition = '2024-02' "
        "and not success and severity = 'error' order by 1"
    ).fetchall()
    con.close()
    assert ("totals_line_matches_rows",) in failed
