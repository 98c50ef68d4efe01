"""`kim`: the command line, thin over Dagster (runs are Dagster runs, executed in process).

Messages to operators and controllers are German (like the ingest and gate messages), one
paragraph per problem; a traceback only with --debug. Help texts and identifiers are English.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

from kim_settings import (
    DBT_PROJECT_DIR,
    PROJECT_ROOT,
    SAMPLE_MONTHS,
    SAMPLE_START,
    Paths,
    dbt_project_dir,
    internal_dir,
    month_range,
    seeds_dir,
)


class CliError(Exception):
    """A problem the user can fix; printed as one paragraph."""


def _apply_path_args(args: argparse.Namespace) -> Paths:
    """Command-line paths win over environment variables; both end up in the environment so
    Dagster definitions, dbt and every subprocess see the same absolute paths."""
    for flag, env in (
        ("inbox", "KIM_INBOX"),
        ("warehouse", "KIM_WAREHOUSE"),
        ("out", "KIM_OUTPUT"),
    ):
        value = getattr(args, flag, None)
        if value:
            os.environ[env] = str(Path(value).resolve())
    if getattr(args, "warehouse_url", None):
        os.environ["KIM_WAREHOUSE_URL"] = args.warehouse_url
    paths = Paths.from_env()
    _use_inbox_reference_data(paths)
    os.environ.update(
        KIM_INBOX=str(paths.inbox), KIM_WAREHOUSE=str(paths.warehouse), KIM_OUTPUT=str(paths.output)
    )
    return paths


def _use_inbox_reference_data(paths: Paths) -> None:
    """An inbox with a `stammdaten/` folder (the district sample writes one) brings its own
    reference data: it becomes the seeds of the warehouse's own dbt project beside it
    (`<warehouse>.dbt/project/`, kim_settings.dbt_project_dir), which ingest validation, dbt,
    `kim stammdaten` and the Dagster UI of the same warehouse then use. Copied again only when
    `stammdaten/` changed."""
    from dagster_project.dbt_manifest import prepare_deployment

    folder = paths.inbox / "stammdaten"
    if (folder / "settings.csv").is_file() and prepare_deployment(folder, paths.warehouse):
        print(f"Stammdaten aus {folder} übernommen nach {seeds_dir(paths.warehouse)}.")


def _dagster_home() -> Path:
    home = Path(os.environ.get("DAGSTER_HOME") or PROJECT_ROOT / ".dagster").resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        # One run at a time: DuckDB allows a single writer (the sensor may request several).
        config.write_text(
            "telemetry:\n  enabled: false\nconcurrency:\n  runs:\n    max_concurrent_runs: 1\n",
            encoding="utf-8",
        )
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def _progress(stage: str, done: int, total: int) -> None:
    """A bar redrawn in place on a terminal; in a pipe or cron only the finished line."""
    if done < total and not sys.stdout.isatty():
        return
    width = 30
    filled = int(width * done / max(total, 1))
    end = "\n" if done >= total else "\r"
    print(
        f"  {stage:<28} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}",
        end=end,
        flush=True,
    )


def cmd_generate(args: argparse.Namespace) -> int:
    from ingest.generator import generate
    from ingest.generator.kreis import generate_kreis

    out = Path(args.out).resolve()
    common = dict(
        months=args.months,
        start=args.start,
        persons=args.persons,
        seed=args.seed,
        progress=_progress,
    )
    if args.kreis:
        if args.defects:
            raise CliError("--defects gibt es nur für die Musterstadt, nicht mit --kreis.")
        summary = generate_kreis(out, **common)
    else:
        summary = generate(out, defects=args.defects, **common)
    print(f"{len(summary.files)} Dateien nach {out} geschrieben.")
    for defect in getattr(summary, "defects", []) or []:
        print(f"  eingebauter Fehler: {defect}")
    return 0


def run_months(
    paths: Paths,
    months: list[str],
    *,
    instance=None,
    selection=None,
    job=None,
    tags=None,
    run_id: str | None = None,
    log_handlers: list[logging.Handler] | None = None,
):
    """Materialise the pipeline for consecutive `months` in ONE Dagster run (single-run
    backfill: one dbt invocation for the whole window). With `log_handlers`, they receive every
    log record of the run instead of Dagster's console logger. `job`: the job to run (default:
    `monthly_job(paths, selection)`)."""
    from dagster import DagsterInstance

    from dagster_project.automation import partition_tags
    from dagster_project.console import run_logger_def

    job = job or monthly_job(paths, selection)
    run_config = {}
    if log_handlers is not None:
        job = job.with_logger_defs({"kim": run_logger_def(log_handlers)})
        run_config = {"loggers": {"kim": {}}}
    instance = instance or DagsterInstance.get()
    return job.execute_in_process(
        run_config=run_config,
        instance=instance,
        tags={**(tags or {}), **partition_tags(months)},
        raise_on_error=False,
        run_id=run_id,
    )


def monthly_job(paths: Paths, selection=None):
    """The monthly job for these paths: `selection` (asset keys) or every asset, less the dbt
    reference part while the warehouse records it as current (assets/warehouse.py)."""
    from dagster_project.assets.warehouse import reference_current, warehouse_reference
    from dagster_project.definitions import build_definitions

    job = build_definitions(paths).resolve_job_def("monthly_pipeline")
    if selection is None and reference_current(paths.warehouse):
        selection = job.asset_layer.selected_asset_keys - set(warehouse_reference.keys)
    return job if selection is None else job.get_subset(asset_selection=selection)


def stage_totals(job) -> dict[str, int]:
    """Steps per stage of the job, for the counters."""
    from dagster._core.execution.api import create_execution_plan

    from dagster_project.console import stage_of

    plan = create_execution_plan(job)
    totals: dict[str, int] = {}
    for key in plan.step_keys_to_execute:
        totals[stage_of(key)] = totals.get(stage_of(key), 0) + 1
    return totals


def run_with_console(paths: Paths, months: list[str], tags: dict, log, *, verbose: bool):
    """The run with stage lines on stdout and every Dagster/dbt line in the run's log file."""
    from dagster_project.console import LogLines, StageConsole

    job = monthly_job(paths)
    console = StageConsole(
        sys.stdout, stage_totals(job), live=sys.stdout.isatty() and not verbose, verbose=verbose
    )
    # dbt's lines arrive on stdout: into the log file, and on screen only with --verbose.
    dbt_lines = LogLines([log, console] if verbose else [log])
    try:
        with contextlib.redirect_stdout(dbt_lines):
            return run_months(
                paths, months, job=job, tags=tags, run_id=log.run_id, log_handlers=[log, console]
            )
    finally:
        console.close()


def report_files(result, output: Path) -> list[Path]:
    """The report files the run's assets name in their `files` metadata (Markdown lists of
    paths relative to the output folder, assets/reports.py)."""
    files = []
    for event in result.get_asset_materialization_events():
        text = event.materialization.metadata.get("files")
        if text is not None:
            files += [output / name for name in re.findall(r"`([^`]+)`", str(text.value))]
    return files


def explain_failure(result) -> str:
    """One paragraph: which steps failed and why (gate summaries and rejected files included)."""
    messages = []
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            error = event.step_failure_data.error
            cause = error.cause.message.strip() if error.cause else ""
            messages.append(f"{event.step_key}: {error.message.strip()} {cause}".strip())
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if not evaluation.passed:
                text = evaluation.metadata.get("summary")
                summary = text.value if text is not None else ""
                messages.append(
                    f"Prüfung {evaluation.check_name} für {evaluation.asset_key.to_user_string()} "
                    f"nicht bestanden: {summary}"
                )
    return (
        " ".join(messages)
        or "Der Lauf ist ohne Schrittfehler abgebrochen (siehe Dagster-Protokoll)."
    )


def write_failure_notice(output: Path, run_id: str, label: str, explanation: str) -> Path:
    """The same notice the run-failure sensor writes under `dagster dev`, for CLI runs."""
    from dagster_project.automation import failure_notice, notice_path

    path = notice_path(output, label, run_id)
    path.write_text(
        failure_notice(run_id, "monthly_pipeline", label, explanation), encoding="utf-8"
    )
    return path


def _inbox_months(paths: Paths) -> list[str]:
    from ingest.inbox import months_in_inbox

    return months_in_inbox(paths.inbox)


def _staleness(paths: Paths):
    """What the warehouse reported that the inbox or the seeds have changed since."""
    from dagster_project.automation import WarehouseBusy, staleness_at
    from ingest.inbox import scan

    try:
        return staleness_at(paths.warehouse, scan(paths.inbox) if paths.inbox.is_dir() else [])
    except WarehouseBusy as exc:
        raise CliError(
            f"Das Warehouse {paths.warehouse} ist gerade von einem anderen Lauf gesperrt; "
            f"später erneut versuchen. ({exc})"
        ) from exc


def requested_months(args: argparse.Namespace, paths: Paths) -> list[str]:
    if args.month:
        return [args.month]
    available = _inbox_months(paths)
    if not available:
        raise CliError(
            f"Der Eingangsordner {paths.inbox} enthält keine Monatsdateien; nichts zu tun."
        )
    months = month_range(args.start or available[0], args.end or available[-1])
    if not months:
        raise CliError(f"Der Zeitraum {args.start} bis {args.end} enthält keinen Monat.")
    return months


def cmd_run(args: argparse.Namespace) -> int:
    from dagster_project.console import run_log

    paths = _apply_path_args(args)
    with run_log(internal_dir(paths.output, "logs"), verbose=args.verbose) as log:
        return _run(args, paths, log)


def _run(args: argparse.Namespace, paths: Paths, log) -> int:
    from ingest.pseudonymise import resolve_key

    key = resolve_key(paths.inbox)  # refuse before anything starts: one paragraph, no traceback
    if not args.force and _nothing_to_do(args, paths, key):
        return 0
    from dagster_project.automation import correction_line, correction_tags, extend_window

    _dagster_home()
    staleness = _staleness(paths)
    months = extend_window(requested_months(args, paths), staleness)
    if staleness.reasons:
        print(correction_line(staleness, months))
    label = months[0] if len(months) == 1 else f"{months[0]} bis {months[-1]}"
    print(f"Verarbeite {label} ({len(months)} Monat(e)) in {paths.warehouse} ...")
    result = run_with_console(paths, months, correction_tags(staleness), log, verbose=args.verbose)
    if not result.success:
        explanation = explain_failure(result)
        notice = write_failure_notice(paths.output, result.run_id, label, explanation)
        raise CliError(
            f"Der Lauf für {label} ist fehlgeschlagen; für ihn wurden keine Berichte "
            f"geschrieben, frühere Berichte bleiben unverändert. {explanation} "
            f"(Hinweis gespeichert: {notice}; Protokoll: {log.path})"
        )
    from dagster_project.run_summary import summary_lines
    from ingest.warehouse import connect

    with connect(paths.warehouse, read_only=True) as con:
        lines = summary_lines(con, result.run_id, months, report_files(result, paths.output))
    print("\n".join(lines))
    print(f"Fertig. Die Berichte liegen in {paths.output}; Protokoll: {log.path}")
    return 0


def _nothing_to_do(args: argparse.Namespace, paths: Paths, key: bytes) -> bool:
    """When every requested month is up to date (ingest/staleness.py: same files, seeds, program
    and key as its reports), say so and show the summary, without starting Dagster, GX or dbt."""
    import duckdb

    from ingest.inbox import scan
    from ingest.staleness import build_id, up_to_date

    if not paths.warehouse.exists() or not paths.inbox.is_dir():
        return False
    months = requested_months(args, paths)
    try:
        con = duckdb.connect(str(paths.warehouse), read_only=True)
    except duckdb.Error:
        return False  # busy or unreadable: the run reports it properly
    try:
        current = up_to_date(
            con, months, scan(paths.inbox), seeds_dir(), build_id(key), paths.output
        )
        if current:
            from dagster_project.run_summary import unchanged_lines

            print("\n".join(unchanged_lines(con, months, paths.output)))
    finally:
        con.close()
    return current


def cmd_check(args: argparse.Namespace) -> int:
    from expectations.cli_table import format_results_table
    from expectations.gates import run_all_gates
    from ingest.warehouse import connect

    paths = _apply_path_args(args)
    with connect(paths.warehouse) as con:
        outcomes = run_all_gates(con, args.month, run_id=None)
    print(format_results_table(outcomes))
    return 0 if all(o.passed for o in outcomes) else 1


def cmd_status(args: argparse.Namespace) -> int:
    from dagster_project.status import delivery_text, status_text, summary_text
    from ingest.delivery import delivering_municipalities
    from ingest.inbox import months_in_inbox, scan
    from ingest.staleness import read_staleness
    from ingest.warehouse import connect

    paths = _apply_path_args(args)
    if not paths.warehouse.exists():
        raise CliError(
            f"Unter {paths.warehouse} gibt es noch kein Warehouse: zuerst `kim run` ausführen."
        )
    inbox = scan(paths.inbox) if paths.inbox.is_dir() else []
    with connect(paths.warehouse, read_only=True) as con:
        if args.files:
            print(status_text(con, paths.output))
        else:
            print(summary_text(con, paths.output, read_staleness(con, inbox, seeds_dir())))
    municipalities = delivering_municipalities()
    months = months_in_inbox(paths.inbox) if inbox else []
    if municipalities and (args.month or months):
        print()
        print(delivery_text(inbox, args.month or months[-1], municipalities))
    return 0


def cmd_import_plan(args: argparse.Namespace) -> int:
    from ingest.teilergebnisplan import import_teilergebnisplan
    from ingest.warehouse import connect

    paths = _apply_path_args(args)
    with connect(paths.warehouse) as con:
        summary = import_teilergebnisplan(con, Path(args.file))
    print(summary)
    return 0


def cmd_plan(args: argparse.Namespace) -> int:
    """Materialise the planning asset (dbt tag `planning` + the planning workbook) in process."""
    from dagster import DagsterInstance, materialize

    from dagster_project.assets.planning import planning_workbook
    from dagster_project.resources import KimPaths

    paths = _apply_path_args(args)
    if not paths.warehouse.exists():
        raise CliError(f"Kein Warehouse unter {paths.warehouse}: erst `kim run` ausführen.")
    _dagster_home()
    config = {"year": args.year, "scenarios": args.scenario or []}
    result = materialize(
        [planning_workbook],
        resources={"kim_paths": KimPaths.from_paths(paths)},
        run_config={
            "ops": {"planning_workbook": {"config": config}},
            # Dagster's step log stays in the run record; the console shows warnings only.
            "loggers": {"console": {"config": {"log_level": "WARNING"}}},
        },
        instance=DagsterInstance.get(),
        raise_on_error=False,
    )
    if not result.success:
        raise CliError(explain_failure(result))
    for event in result.get_asset_materialization_events():
        path = event.materialization.metadata["path"].value
        print(f"Planungsmappe geschrieben: {path}")
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    _apply_path_args(args)
    _dagster_home()
    dagster = Path(sys.executable).parent / "dagster"
    # The module, not workspace.yaml: an installed package has no workspace file.
    command = [str(dagster), "dev", "-m", "dagster_project.definitions", "-p", str(args.port)]
    return subprocess.call(command, cwd=PROJECT_ROOT)


def cmd_docs(args: argparse.Namespace) -> int:
    """Data dictionary: `dbt docs generate --static` (one offline HTML file) into docs/."""
    from dagster_project.dbt_manifest import dbt_invocation, dbt_target_dir

    paths = _apply_path_args(args)
    # dbt's artifacts go beside the warehouse: the project folder may be read-only (installed).
    artifacts = dbt_target_dir(paths.warehouse)
    project_dir = dbt_project_dir(paths.warehouse)
    command, env = dbt_invocation(["docs", "generate", "--static"], artifacts, project_dir)
    code = subprocess.call(command, cwd=project_dir, env=env)
    if code:
        raise CliError("dbt docs generate ist fehlgeschlagen (siehe Ausgabe oben).")
    target = PROJECT_ROOT / "docs" / "data-dictionary.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes((artifacts / "static_index.html").read_bytes())
    print(f"Datenkatalog geschrieben: {target} (Warehouse {paths.warehouse}).")
    return 0


def cmd_stammdaten(args: argparse.Namespace) -> int:
    """Reference data as one workbook: the deployment's seeds (kim_settings.seeds_dir: a
    district's beside its warehouse) -> Stammdaten.xlsx, and validated back."""
    from ingest.reference_workbook import WorkbookError, export_workbook, import_workbook

    if args.warehouse:
        os.environ["KIM_WAREHOUSE"] = str(Path(args.warehouse).resolve())
    seeds = seeds_dir()
    project_file = DBT_PROJECT_DIR / "dbt_project.yml"
    if args.action == "export":
        out = Path(args.out).resolve()
        sheets = export_workbook(seeds, project_file, out)
        print(f"Stammdaten geschrieben: {out} ({len(sheets)} Blätter: {', '.join(sheets)}).")
        return 0
    if not os.access(seeds, os.W_OK):
        raise CliError(
            f"Die Seeds {seeds} sind nicht beschreibbar: ein mit pip installiertes Paket ändert "
            "seine eigenen Dateien nicht. Eigene Stammdaten kommen mit dem Ordner stammdaten/ "
            "des Eingangsordners (`kim run`) neben das Warehouse und lassen sich dort "
            "importieren (--warehouse), oder in einer Arbeitskopie des Projekts (git clone, "
            "`make install`)."
        )
    try:
        counts = import_workbook(Path(args.file), seeds, project_file)
    except WorkbookError as exc:
        raise CliError(f"{args.file} nicht übernommen, keine Seed-Datei geändert:\n{exc}") from None
    rows = ", ".join(f"{seed} {n}" for seed, n in counts.items())
    print(
        f"Seeds in {seeds} aus {args.file} geschrieben ({rows} Zeilen); wirksam ab `kim run --all`."
    )
    return 0


def cmd_audit_disclosure(args: argparse.Namespace) -> int:
    """Audit every publication under PATH as an attacker would; exit 1 when a cell fails."""
    from reports.disclosure_audit import audit_report

    root = Path(args.path)
    if not root.is_dir():
        raise CliError(f"{root}: kein Ordner")
    text, passed = audit_report(root)
    print(text)
    return 0 if passed else 1


def _add_paths(p: argparse.ArgumentParser) -> None:
    p.add_argument("--inbox", help="inbox folder (default $KIM_INBOX or data/inbox)")
    p.add_argument(
        "--warehouse", help="DuckDB file (default $KIM_WAREHOUSE or warehouse/kim.duckdb)"
    )
    p.add_argument("--out", help="output folder (default $KIM_OUTPUT or output)")
    p.add_argument(
        "--warehouse-url",
        help="build the marts on this PostgreSQL server, postgresql://… (default "
        "$KIM_WAREHOUSE_URL; none: the DuckDB file alone; docs/postgres.md)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kim", description="KIM Haushalt pipeline")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("generate", help="write a sample municipality's source files")
    p.add_argument("--out", required=True)
    p.add_argument("--months", type=int, default=SAMPLE_MONTHS)
    p.add_argument("--start", default=SAMPLE_START, help="first month, YYYY-MM")
    p.add_argument("--persons", type=int, default=2500)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--defects", action="store_true", help="inject documented defects")
    p.add_argument(
        "--kreis",
        action="store_true",
        help="the district sample Musterkreis (with its reference data in OUT/stammdaten/)",
    )
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("run", help="run the pipeline for one month or all months of the inbox")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--month", help="YYYY-MM")
    group.add_argument("--all", action="store_true", help="every month found in the inbox")
    group.add_argument("--from", dest="start", help="first month YYYY-MM of a range (one run)")
    p.add_argument(
        "--to", dest="end", help="last month YYYY-MM of a range (default: last in inbox)"
    )
    p.add_argument(
        "-v", "--verbose", action="store_true", help="show every Dagster and dbt line as well"
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="run even when the months are up to date (same files, seeds, program and key)",
    )
    _add_paths(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("check", help="run the quality gates for a month, without reports")
    p.add_argument("--month", required=True)
    _add_paths(p)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("status", help="what is loaded, checked, reported and stale per month")
    p.add_argument("--files", action="store_true", help="one line per loaded file instead")
    p.add_argument(
        "--month", help="district: the month whose deliveries are shown (default: the newest)"
    )
    _add_paths(p)
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("import-plan", help="import a published Teilergebnisplan CSV")
    p.add_argument("file")
    _add_paths(p)
    p.set_defaults(func=cmd_import_plan)

    p = sub.add_parser("plan", help="scenarios, projection and budget proposal for a plan year")
    p.add_argument("--year", type=int, required=True, help="plan year YYYY")
    p.add_argument(
        "--scenario", action="append", help="scenario of the workbook (repeatable; default all)"
    )
    _add_paths(p)
    p.set_defaults(func=cmd_plan)

    p = sub.add_parser("ui", help="start the Dagster UI on this workspace")
    p.add_argument("--port", type=int, default=3000)
    _add_paths(p)
    p.set_defaults(func=cmd_ui)

    p = sub.add_parser(
        "audit-disclosure", help="check published tables: can a suppressed figure be recomputed?"
    )
    p.add_argument("path", help="folder with published files (e.g. output)")
    p.set_defaults(func=cmd_audit_disclosure)

    p = sub.add_parser("docs", help="generate the data dictionary from the dbt project")
    _add_paths(p)
    p.set_defaults(func=cmd_docs)

    p = sub.add_parser("stammdaten", help="reference data (dbt seeds) as one Excel workbook")
    actions = p.add_subparsers(dest="action", required=True)
    warehouse_help = "the deployment's warehouse (default $KIM_WAREHOUSE): its seeds"
    q = actions.add_parser("export", help="write the seeds in force as a workbook")
    q.add_argument("--out", default="Stammdaten.xlsx", help="workbook (default Stammdaten.xlsx)")
    q.add_argument("--warehouse", help=warehouse_help)
    q.set_defaults(func=cmd_stammdaten)
    q = actions.add_parser("import", help="validate a workbook and rewrite the seeds from it")
    q.add_argument("file")
    q.add_argument("--warehouse", help=warehouse_help)
    q.set_defaults(func=cmd_stammdaten)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except Exception as exc:  # one readable paragraph unless --debug
        if args.debug:
            raise
        print(f"kim {args.command}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
