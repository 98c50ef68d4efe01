"""Schedule, sensors and the pure pieces of the Dagster wiring."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
from dagster import (
    AssetKey,
    DagsterInstance,
    PartitionKeyRange,
    RunRequest,
    build_schedule_context,
    build_sensor_context,
)

from dagster_project.assets.warehouse import (
    built_fingerprint,
    dbt_build_args,
    drop_run_window,
    month_window,
    project_fingerprint,
    record_fingerprint,
    reference_selection,
    write_run_window,
)
from dagster_project.automation import (
    failure_notice,
    inbox_sensor,
    monthly_schedule,
    months_affected,
    previous_month,
)
from dagster_project.definitions import defs
from dagster_project.resources import KimPaths


def test_definitions_load_with_every_group():
    graph = defs.resolve_asset_graph()
    groups = {graph.get(k).group_name for k in graph.get_all_asset_keys()}
    assert {"ingest", "warehouse", "reports"} <= groups
    assert defs.resolve_job_def("monthly_pipeline") is not None


def test_schedule_tick_reports_the_previous_month(tmp_path):
    tick = datetime(2026, 11, 8, 6, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    resources = _resources(tmp_path, tmp_path / "inbox")  # no warehouse yet: nothing stale
    request = monthly_schedule(
        build_schedule_context(scheduled_execution_time=tick, resources=resources)
    )
    assert isinstance(request, RunRequest)
    assert request.partition_key == "2026-10"
    assert previous_month(datetime(2027, 1, 8, 6, 0)) == "2026-12"


def test_run_window_is_half_open():
    # March 2026 is the last month: the window ends on 1 April, exclusive; December rolls the year.
    assert month_window(["2026-01", "2026-02", "2026-03"]) == ("2026-01-01", "2026-04-01")
    assert month_window(["2026-12"]) == ("2026-12-01", "2027-01-01")
    con = duckdb.connect()
    write_run_window(con, ["2026-12"])
    assert con.execute("select * from meta.run_window").fetchall() == [
        (date(2026, 12, 1), date(2027, 1, 1))
    ]
    drop_run_window(con)
    assert built_fingerprint(con) is None  # never built
    record_fingerprint(con, "abc")
    assert built_fingerprint(con) == "abc"


def test_dbt_args_never_carry_the_window():
    # The window lives in meta.run_window: the command (and so dbt's parse) is the same each run.
    assert dbt_build_args() == [
        "build", "--exclude-resource-type", "unit_test", "--indirect-selection", "cautious"
    ]  # fmt: skip
    assert dbt_build_args(full_refresh=True)[-1] == "--full-refresh"


def _node(name: str, kind: str, materialized: str | None, *parents: str) -> tuple[str, dict]:
    config = {"materialized": materialized} if materialized else {}
    return f"{kind}.kim.{name}", {
        "name": name,
        "resource_type": kind,
        "config": config,
        "depends_on": {"nodes": list(parents)} if kind == "model" else {"macros": []},
    }


def test_reference_part_is_what_does_not_read_the_data():
    # seed -> dim_a (table): reference; source -> stg (view): reference (a view stores no rows);
    # stg -> fct (incremental) and dim_m (table): read the data; seed -> int (view) -> dim_c
    # (table): reference; fct -> rpt (view): after a data table, built with it.
    manifest = {
        "nodes": dict(
            [
                _node("products", "seed", None),
                _node("dim_a", "model", "table", "seed.kim.products"),
                _node("stg", "model", "view", "source.kim.raw.personen"),
                _node("fct", "model", "incremental", "model.kim.stg"),
                _node("dim_m", "model", "table", "model.kim.stg"),
                _node("int", "model", "view", "seed.kim.products"),
                _node("dim_c", "model", "table", "model.kim.int"),
                _node("rpt", "model", "view", "model.kim.fct", "seed.kim.products"),
            ]
        )
    }
    assert reference_selection(manifest) == ["resource_type:seed", "dim_a", "dim_c", "int", "stg"]


def test_project_fingerprint_follows_the_project_files(tmp_path):
    (tmp_path / "models").mkdir()
    (tmp_path / "dbt_project.yml").write_text("name: kim\n", encoding="utf-8")
    (tmp_path / "models" / "a.sql").write_text("select 1", encoding="utf-8")
    first = project_fingerprint(tmp_path)
    (tmp_path / "target").mkdir()  # dbt's output is not part of the project
    (tmp_path / "target" / "manifest.json").write_text("{}", encoding="utf-8")
    assert project_fingerprint(tmp_path) == first
    (tmp_path / "models" / "a.sql").write_text("select 2", encoding="utf-8")
    changed = project_fingerprint(tmp_path)
    assert changed != first
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "s.csv").write_text("x\n", encoding="utf-8")
    assert project_fingerprint(tmp_path) not in (first, changed)


def test_plan_file_affects_every_month_of_its_year():
    months = ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert months_affected("haushaltsplan", "2026", months) == ["2026-01", "2026-02"]
    assert months_affected("personen", "2025-12", months) == ["2025-12"]


def _write(inbox: Path, name: str, text: str) -> None:
    (inbox / name).write_text(text, encoding="utf-8")


def _month(inbox: Path, month: str, text: str = "x\n") -> None:
    """Every monthly source of a month (content is irrelevant to the sensor)."""
    for kind in ("personen", "asylblg_zahlungen", "fibu_ist"):
        _write(inbox, f"{kind}_{month}.csv", text)
    _write(inbox, f"kurse_{month}.xlsx", text)


def _resources(tmp_path: Path, inbox: Path) -> dict:
    return {
        "kim_paths": KimPaths(
            inbox=str(inbox), warehouse=str(tmp_path / "w.duckdb"), output=str(tmp_path / "out")
        )
    }


def test_inbox_sensor_requests_new_and_changed_files_only(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    _month(inbox, "2026-01")
    resources = _resources(tmp_path, inbox)
    with build_sensor_context(resources=resources) as context:
        first = inbox_sensor(context)
        assert [r.partition_key for r in first] == ["2026-01"]
        cursor = context.cursor
    with build_sensor_context(cursor=cursor, resources=resources) as context:
        assert not isinstance(inbox_sensor(context), list)  # SkipReason: nothing changed
    _write(inbox, "personen_2026-01.csv", "Stichtag;Person_ID\n31.01.2026;1\n")
    _month(inbox, "2026-02")
    with build_sensor_context(cursor=cursor, resources=resources) as context:
        (request,) = inbox_sensor(context)  # consecutive months: one run over the range
        assert request.partition_key_range == PartitionKeyRange("2026-01", "2026-02")


def test_incomplete_month_waits_for_its_last_file(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    _write(inbox, "personen_2026-03.csv", "x\n")
    resources = _resources(tmp_path, inbox)
    with build_sensor_context(resources=resources) as context:
        assert not isinstance(inbox_sensor(context), list)
        cursor = context.cursor
    _month(inbox, "2026-03")
    with build_sensor_context(cursor=cursor, resources=resources) as context:
        assert [r.partition_key for r in inbox_sensor(context)] == ["2026-03"]


def test_failure_notice_names_month_and_next_step():
    text = failure_notice("abc", "monthly_pipeline", "2026-10", "gate raw_gate failed: 3 rows")
    assert "2026-10" in text and "3 rows" in text and "kim run --month 2026-10" in text


def test_failure_sensor_writes_the_notice(tmp_path):
    from dagster import DagsterEventType, build_run_status_sensor_context, job, op

    from dagster_project.automation import failure_alert

    @op
    def explode():
        raise ValueError("Kaputt: file personen_2026-10.csv rejected")

    @job
    def failing():
        explode()

    instance = DagsterInstance.ephemeral()
    result = failing.execute_in_process(
        instance=instance, raise_on_error=False, tags={"dagster/partition": "2026-10"}
    )
    failure = next(e for e in result.all_events if e.event_type == DagsterEventType.RUN_FAILURE)
    context = build_run_status_sensor_context(
        sensor_name="failure_alert",
        dagster_event=failure,
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        resources={
            "kim_paths": KimPaths(
                inbox=str(tmp_path), warehouse=str(tmp_path / "w"), output=str(tmp_path / "out")
            )
        },
    ).for_run_failure()
    failure_alert(context)
    notices = list((tmp_path / "out" / "internal" / "alerts").glob("failure_2026-10_*.md"))
    assert len(notices) == 1
    text = notices[0].read_text(encoding="utf-8")
    assert "personen_2026-10.csv" in text and "kim run --month 2026-10" in text


def test_first_sensor_tick_skips_files_already_in_the_warehouse(tmp_path):
    from ingest.inbox import scan
    from ingest.warehouse import connect

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    _month(inbox, "2026-01", "Januar\n")
    _month(inbox, "2026-02", "Februar\n")
    january = [f for f in scan(inbox) if f.period == "2026-01"]
    with connect(tmp_path / "w.duckdb") as con:
        for i, f in enumerate(january):
            con.execute(
                "insert into meta.load_batches (load_id, source, period, file_name, sha256, "
                "size_bytes, rows_read, rows_loaded, rows_quarantined, rows_totals_removed, "
                "loaded_at) values (?, ?, '2026-01', ?, ?, 1, 0, 0, 0, 0, "
                "timestamp '2026-02-08 06:00:00')",
                [f"L{i}", f.kind, f.path.name, f.sha256],
            )
    resources = _resources(tmp_path, inbox)
    with build_sensor_context(resources=resources) as context:
        assert [r.partition_key for r in inbox_sensor(context)] == ["2026-02"]


def test_council_reports_for_the_newest_quarter_and_year_of_a_window():
    from dagster_project.assets.reports import council_periods

    assert council_periods(["2026-09"]) == ["2026-Q3"]
    assert council_periods(["2025-12"]) == ["2025-Q4", "2025"]
    assert council_periods(["2026-10"]) == []
    months = [f"{y}-{m:02d}" for y in (2023, 2024, 2025, 2026) for m in range(1, 13)]
    assert council_periods(months[10:46]) == ["2026-Q3", "2025"]  # 2023-11 .. 2026-10
    # a corrected window re-renders what was already published and ends within it
    published = frozenset({"2024-Q1", "2024-Q2", "2024", "2023-Q4"})
    assert council_periods(months[13:18], published) == ["2024-Q2", "2024-Q1"]  # 2024-02..06


def test_failed_dbt_nodes_are_named_with_their_failing_rows(tmp_path):
    from dagster_project.assets.warehouse import failed_nodes_text

    assert failed_nodes_text(tmp_path) == ""  # dbt stopped before running anything
    results = [
        {"unique_id": "model.kim.fct_caseload_monthly", "status": "success", "message": "OK"},
        {
            "unique_id": "test.kim.unique_fct_caseload_monthly_key.1a2b",
            "status": "fail",
            "failures": 3,
            "message": "Got 3 results, configured to fail if != 0",
        },
        {"unique_id": "test.kim.not_null_x.9f", "status": "warn", "failures": 1, "message": "w"},
    ]
    (tmp_path / "run_results.json").write_text(json.dumps({"results": results}))
    assert failed_nodes_text(tmp_path) == (
        "dbt: unique_fct_caseload_monthly_key.1a2b fehlgeschlagen (3 Zeilen verletzen die "
        "Regel): Got 3 results, configured to fail if != 0."
    )


def test_reference_part_is_its_own_unpartitioned_asset_left_out_while_current(tmp_path):
    from dagster._core.execution.api import create_execution_plan

    from dagster_project.assets.warehouse import (
        reference_current,
        warehouse_dbt,
        warehouse_reference,
    )
    from dagster_project.cli import monthly_job
    from kim_settings import DBT_PROJECT_DIR, Paths

    assert warehouse_reference.partitions_def is None
    assert warehouse_dbt.partitions_def is not None
    both = set(warehouse_reference.keys) & set(warehouse_dbt.keys)
    assert not both and AssetKey(["dim_product"]) in warehouse_reference.keys
    assert {AssetKey(["fct_indicator_values"]), AssetKey(["dim_month"])} <= warehouse_dbt.keys

    paths = Paths(tmp_path / "inbox", tmp_path / "kim.duckdb", tmp_path / "out")
    assert not reference_current(paths.warehouse)  # no warehouse yet: build it
    assert AssetKey(["dim_product"]) in monthly_job(paths).asset_layer.selected_asset_keys
    with duckdb.connect(str(paths.warehouse)) as con:
        record_fingerprint(con, project_fingerprint(DBT_PROJECT_DIR))
    assert reference_current(paths.warehouse)
    job = monthly_job(paths)
    selected = job.asset_layer.selected_asset_keys
    assert AssetKey(["dim_product"]) not in selected
    assert AssetKey(["fct_indicator_values"]) in selected
    # without the staging views in the run, the facts still wait for (and are stopped by) ingest
    plan = create_execution_plan(job)
    assert "ingest" in plan.get_step_by_key("warehouse_dbt").get_execution_dependency_keys()
