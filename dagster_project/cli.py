"""`kim`: the command line, thin over Dagster (runs are Dagster runs, executed in process).

Messages to operators and controllers are German (like the ingest and gate messages), one
paragraph per problem; a traceback only with --debug. Help texts and identifiers are English.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from dagster_project.settings import (
    DBT_PROJECT_DIR,
    PROJECT_ROOT,
    SAMPLE_MONTHS,
    SAMPLE_START,
    Paths,
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
    paths = Paths.from_env()
    os.environ.update(
        KIM_INBOX=str(paths.inbox), KIM_WAREHOUSE=str(paths.warehouse), KIM_OUTPUT=str(paths.output)
    )
    return paths


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

    out = Path(args.out).resolve()
    summary = generate(
        out,
        months=args.months,
        start=args.start,
        persons=args.persons,
        seed=args.seed,
        defects=args.defects,
        progress=_progress,
    )
    print(f"{len(summary.files)} Dateien nach {out} geschrieben.")
    for defect in getattr(summary, "defects", []) or []:
        print(f"  eingebauter Fehler: {defect}")
    return 0


def run_months(paths: Paths, months: list[str], *, instance=None, selection=None):
    """Materialise the pipeline for consecutive `months` in ONE Dagster run (single-run
    backfill: one dbt invocation for the whole window)."""
    from dagster import DagsterInstance

    from dagster_project.definitions import build_definitions

    defs = build_definitions(paths)
    job = defs.resolve_job_def("monthly_pipeline")
    if selection is not None:
        job = job.get_subset(asset_selection=selection)
    if len(months) == 1:
        tags = {"dagster/partition": months[0]}
    else:
        tags = {
            "dagster/asset_partition_range_start": months[0],
            "dagster/asset_partition_range_end": months[-1],
        }
    instance = instance or DagsterInstance.get()
    return job.execute_in_process(instance=instance, tags=tags, raise_on_error=False)


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


def cmd_run(args: argparse.Namespace) -> int:
    from dagster_project.partitions import month_range

    paths = _apply_path_args(args)
    _dagster_home()
    if args.month:
        months = [args.month]
    else:
        available = _inbox_months(paths)
        if not available:
            raise CliError(
                f"Der Eingangsordner {paths.inbox} enthält keine Monatsdateien; nichts zu tun."
            )
        months = month_range(args.start or available[0], args.end or available[-1])
        if not months:
            raise CliError(f"Der Zeitraum {args.start} bis {args.end} enthält keinen Monat.")
    label = months[0] if len(months) == 1 else f"{months[0]} bis {months[-1]}"
    print(f"Verarbeite {label} ({len(months)} Monat(e)) in {paths.warehouse} ...")
    result = run_months(paths, months)
    if not result.success:
        explanation = explain_failure(result)
        notice = write_failure_notice(paths.output, result.run_id, label, explanation)
        raise CliError(
            f"Der Lauf für {label} ist fehlgeschlagen; für ihn wurden keine Berichte "
            f"geschrieben, frühere Berichte bleiben unverändert. {explanation} "
            f"(Hinweis gespeichert: {notice})"
        )
    print(
        f"Fertig. Die Berichte liegen in {paths.output} (ein Ordner je Monat, der "
        "Integrationsbericht je Quartal und Jahr)."
    )
    return 0


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
    from dagster_project.status import status_text
    from ingest.warehouse import connect

    paths = _apply_path_args(args)
    if not paths.warehouse.exists():
        raise CliError(
            f"Unter {paths.warehouse} gibt es noch kein Warehouse: zuerst `kim run` ausführen."
        )
    with connect(paths.warehouse, read_only=True) as con:
        print(status_text(con, paths.output))
    return 0


def cmd_import_plan(args: argparse.Namespace) -> int:
    from ingest.teilergebnisplan import import_teilergebnisplan
    from ingest.warehouse import connect

    paths = _apply_path_args(args)
    with connect(paths.warehouse) as con:
        summary = import_teilergebnisplan(con, Path(args.file))
    print(summary)
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    _apply_path_args(args)
    _dagster_home()
    dagster = Path(sys.executable).parent / "dagster"
    command = [
        str(dagster),
        "dev",
        "-w",
        str(PROJECT_ROOT / "workspace.yaml"),
        "-p",
        str(args.port),
    ]
    return subprocess.call(command, cwd=PROJECT_ROOT)


def cmd_docs(args: argparse.Namespace) -> int:
    """Data dictionary: `dbt docs generate --static` (one offline HTML file) into docs/."""
    paths = _apply_path_args(args)
    dbt = Path(sys.executable).parent / "dbt"
    code = subprocess.call(
        [str(dbt), "docs", "generate", "--static", "--profiles-dir", "."], cwd=DBT_PROJECT_DIR
    )
    if code:
        raise CliError("dbt docs generate ist fehlgeschlagen (siehe Ausgabe oben).")
    target = PROJECT_ROOT / "docs" / "data-dictionary.html"
    target.write_bytes((DBT_PROJECT_DIR / "target" / "static_index.html").read_bytes())
    print(f"Datenkatalog geschrieben: {target} (Warehouse {paths.warehouse}).")
    return 0


def cmd_audit_disclosure(args: argparse.Namespace) -> int:
    """Audit every publication under PATH as an attacker would; exit 1 when a cell fails."""
    from dagster_project.reports.disclosure_audit import audit_report

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
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("run", help="run the pipeline for one month or all months of the inbox")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--month", help="YYYY-MM")
    group.add_argument("--all", action="store_true", help="every month found in the inbox")
    group.add_argument("--from", dest="start", help="first month YYYY-MM of a range (one run)")
    p.add_argument(
        "--to", dest="end", help="last month YYYY-MM of a range (default: last in inbox)"
    )
    _add_paths(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("check", help="run the quality gates for a month, without reports")
    p.add_argument("--month", required=True)
    _add_paths(p)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("status", help="what is loaded, checked and reported per month")
    _add_paths(p)
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("import-plan", help="import a published Teilergebnisplan CSV")
    p.add_argument("file")
    _add_paths(p)
    p.set_defaults(func=cmd_import_plan)

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
