"""Schedule and sensors: the monthly run, the inbox watcher and the failure notice."""

import hashlib
import json
import os
import smtplib
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

import duckdb
from dagster import (
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunFailureSensorContext,
    RunRequest,
    ScheduleEvaluationContext,
    SensorEvaluationContext,
    SkipReason,
    run_failure_sensor,
    schedule,
    sensor,
)

from dagster_project.assets.reports import CORRECTION_TAG
from dagster_project.jobs import monthly_pipeline
from dagster_project.partitions import FIRST_MONTH, add_months, month_key, month_range
from dagster_project.resources import KimPaths
from ingest.delivery import delivering_municipalities, describe_missing, month_delivery
from ingest.inbox import InboxFile, scan
from ingest.staleness import Staleness, fingerprint_seeds, read_staleness, seeds_id
from kim_settings import internal_dir, seeds_dir

SCHEDULE_DAY = int(os.environ.get("KIM_SCHEDULE_DAY", "8"))
TIMEZONE = "Europe/Berlin"


def previous_month(tick: datetime) -> str:
    """The partition a tick reports on: the month before the tick's month."""
    return add_months(month_key(tick.date()), -1)


@schedule(
    job=monthly_pipeline,
    cron_schedule=f"0 6 {SCHEDULE_DAY} * *",
    execution_timezone=TIMEZONE,
    default_status=DefaultScheduleStatus.RUNNING,
    description=f"On the {SCHEDULE_DAY}th of each month, 06:00 {TIMEZONE}: the previous month.",
)
def monthly_schedule(context: ScheduleEvaluationContext, kim_paths: KimPaths):
    month = previous_month(context.scheduled_execution_time)
    inbox = kim_paths.inbox_dir
    try:
        staleness = staleness_at(kim_paths.warehouse_file, scan(inbox) if inbox.is_dir() else [])
    except WarehouseBusy:  # a run holds the warehouse: the inbox sensor widens a later run
        staleness = Staleness({})
    months = extend_window([month], staleness)
    return run_request(months, f"schedule:{month}", correction_tags(staleness))


def months_affected(kind: str, period: str, inbox_months: list[str]) -> list[str]:
    """Partitions to re-run for a new or changed file: its month, or its year's months.
    A Teilergebnisplan is imported with `kim import-plan`, not by a monthly run."""
    if kind == "teilergebnisplan":
        return []
    if len(period) == 7:
        return [period] if period >= FIRST_MONTH else []
    return [m for m in inbox_months if m.startswith(period) and m >= FIRST_MONTH]


def waiting_for(files, month: str, municipalities: dict[str, str]) -> list[str]:
    """What a month's monthly files still lack (ingest/delivery.py): the file, or in a district
    the municipalities (AGS and name) whose persons or course list is missing; or a conflict."""
    lacking = []
    for delivery in month_delivery(files, month, municipalities):
        if len(delivery.period) != 7 or delivery.complete:
            continue
        detail = delivery.conflict or f"fehlt von {describe_missing(delivery, municipalities)}"
        lacking.append(f"{delivery.kind} {detail}" if delivery.municipal else detail)
    return lacking


def complete_months(files, municipalities: dict[str, str] | None = None) -> list[str]:
    """Months for which every monthly source file is in the inbox (in a district: every
    municipality's persons and course list, or a district-wide file)."""
    months = sorted({f.period for f in files if len(f.period) == 7})
    return [m for m in months if not waiting_for(files, m, municipalities or {})]


def waiting_text(files, complete: list[str], municipalities: dict[str, str]) -> str:
    """The months with files that wait for more, and for what (for the sensor's reasons)."""
    months = sorted({f.period for f in files if len(f.period) == 7} - set(complete))
    return "; ".join(f"{m}: {', '.join(waiting_for(files, m, municipalities))}" for m in months)


def loaded_files(warehouse: Path) -> dict[str, str]:
    """File name -> SHA-256 of the loads in the warehouse (empty if it cannot be read now,
    e.g. because a run holds the write lock: then every file counts as new)."""
    if not warehouse.exists():
        return {}
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error:
        return {}
    try:
        return dict(
            con.execute(
                "select file_name, max_by(sha256, loaded_at) from meta.load_batches group by 1"
            ).fetchall()
        )
    except duckdb.Error:
        return {}
    finally:
        con.close()


class WarehouseBusy(Exception):
    """The warehouse is locked by a running run: staleness cannot be read now."""


def staleness_at(warehouse: Path, inbox_files: list[InboxFile]) -> Staleness:
    """The stale months of the warehouse file (none without a warehouse)."""
    if not warehouse.exists():
        return read_staleness(None, inbox_files, seeds_dir())
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error as exc:
        raise WarehouseBusy(str(exc)) from exc
    try:
        return read_staleness(con, inbox_files, seeds_dir())
    finally:
        con.close()


def extend_window(months: list[str], staleness: Staleness) -> list[str]:
    """`months` (consecutive) widened to every stale month: one window for one run."""
    if not staleness.reasons:
        return months
    first = min([*months[:1], staleness.start])
    return month_range(first, max([*months[-1:], staleness.end]))


def correction_line(staleness: Staleness, window: list[str]) -> str:
    """The one line `kim run` prints (and the sensor logs) when it widens its window."""
    return (
        f"Korrektur erkannt ({staleness.summary()}): {staleness.start} bis {window[-1]} "
        "werden neu berechnet."
    )


def correction_tags(staleness: Staleness) -> dict[str, str]:
    """The run tag the council report reads as the reason of a new version (tags are short)."""
    return {CORRECTION_TAG: staleness.summary()[:2000]} if staleness.reasons else {}


def consecutive_blocks(months: list[str]) -> list[list[str]]:
    """Sorted distinct months split where a month is missing (each block is one run)."""
    blocks: list[list[str]] = []
    for month in sorted(set(months)):
        if blocks and add_months(blocks[-1][-1], 1) == month:
            blocks[-1].append(month)
        else:
            blocks.append([month])
    return blocks


def partition_tags(months: list[str]) -> dict[str, str]:
    """Dagster's run tags for consecutive months: one partition, or a partition range that the
    single-run backfill policy executes as one run (one dbt invocation)."""
    if len(months) == 1:
        return {"dagster/partition": months[0]}
    return {
        "dagster/asset_partition_range_start": months[0],
        "dagster/asset_partition_range_end": months[-1],
    }


def run_request(months: list[str], run_key: str, tags: dict[str, str]) -> RunRequest:
    """One run over consecutive months."""
    if len(months) == 1:
        return RunRequest(run_key=run_key, partition_key=months[0], tags=tags)
    return RunRequest(run_key=run_key, tags={**tags, **partition_tags(months)})


@sensor(
    job=monthly_pipeline,
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.RUNNING,
    description="Starts a run for the month of every new or changed file in the inbox, widened "
    "to every already reported month that a correction makes stale (like `kim run`).",
)
def inbox_sensor(context: SensorEvaluationContext, kim_paths: KimPaths):
    # Without a cursor (first start), files already loaded into the warehouse are not new.
    seen: dict[str, str] = (
        json.loads(context.cursor) if context.cursor else loaded_files(kim_paths.warehouse_file)
    )
    files = scan(kim_paths.inbox_dir)
    municipalities = delivering_municipalities()
    complete = complete_months(files, municipalities)
    # A file of a month that is not complete yet waits (stays out of the cursor): a run for a
    # month with a missing source (in a district: a municipality's delivery) would only fail.
    waiting = waiting_text(files, complete, municipalities)
    ready = [f for f in files if len(f.period) != 7 or f.period in complete]
    changed = [f for f in ready if seen.get(f.name) != f.sha256]
    try:
        staleness = staleness_at(kim_paths.warehouse_file, ready)
    except WarehouseBusy:
        return SkipReason("Warehouse is locked by a running run; trying again at the next tick.")
    if not changed and not staleness.reasons:
        return SkipReason(
            "No new or changed file for a complete month in the inbox."
            + (f" Warten auf Lieferungen: {waiting}" if waiting else "")
        )
    if waiting:
        context.log.info(f"Warten auf Lieferungen (kein Lauf für diese Monate): {waiting}")
    months = {m for f in changed for m in months_affected(f.kind, f.period, complete)}
    if staleness.reasons:
        months |= set(extend_window(sorted(months), staleness))
        context.log.info(correction_line(staleness, sorted(months)))
    context.update_cursor(json.dumps({**seen, **{f.name: f.sha256 for f in ready}}, sort_keys=True))
    return [
        run_request(block, run_key(block, changed, staleness, ready), correction_tags(staleness))
        for block in consecutive_blocks(sorted(months))
    ]


def run_key(
    block: list[str], changed: list[InboxFile], staleness: Staleness, ready: list[InboxFile]
) -> str:
    """Dagster starts a run key once. A stale range keeps its key until the run clears it (the
    sensor sees the same staleness while the run waits in the queue): the key names the range's
    first month, the reasons, the current seeds and the files named in the reasons. Otherwise
    the key names the changed files."""
    if block[0] in staleness.reasons:
        summary = staleness.summary()
        named = sorted(f.sha256 for f in ready if f.name in summary)
        parts = [summary, seeds_id(fingerprint_seeds(seeds_dir())), *named]
        return f"inbox:{block[0]}:{hashlib.sha256('|'.join(parts).encode()).hexdigest()[:16]}"
    digest = hashlib.sha256("|".join(sorted(f.sha256 for f in changed)).encode()).hexdigest()
    return f"inbox:{block[0]}..{block[-1]}:{digest[:16]}"


def failure_notice(run_id: str, job: str, partition: str, message: str) -> str:
    return (
        f"# KIM Haushalt: Lauf fehlgeschlagen\n\n"
        f"- Lauf: {run_id}\n- Job: {job}\n- Monat: {partition}\n\n"
        f"## Was ist passiert\n\n{message.strip()}\n\n"
        "## Was ist zu tun\n\n"
        "1. Meldung oben lesen: eine Qualitätsprüfung nennt die verletzte Regel und die "
        "betroffenen Werte; eine abgelehnte Datei nennt Datei, Problem und erwartete Form.\n"
        "2. Den Datenqualitätsbericht "
        f"`output/internal/{partition}/Datenqualitaet_{partition}.html` öffnen.\n"
        "3. Bei der liefernden Stelle eine korrigierte Datei anfordern, unter demselben Namen in "
        "den Eingangsordner legen und den Monat neu rechnen: "
        f"`kim run --month {partition}`.\n"
    )


def notice_path(output: Path, partition: str, run_id: str) -> Path:
    alerts = internal_dir(output, "alerts")
    alerts.mkdir(parents=True, exist_ok=True)
    label = partition.replace("..", "_").replace(" bis ", "_")
    return alerts / f"failure_{label}_{run_id[:8]}.md"


def send_mail(subject: str, body: str) -> None:
    """Optional e-mail (off unless KIM_SMTP_HOST and KIM_ALERT_TO are set)."""
    host, to = os.environ.get("KIM_SMTP_HOST"), os.environ.get("KIM_ALERT_TO")
    if not (host and to):
        return
    msg = EmailMessage()
    msg["Subject"], msg["To"] = subject, to
    msg["From"] = os.environ.get("KIM_ALERT_FROM", "kim-haushalt@localhost")
    msg.set_content(body)
    with smtplib.SMTP(host, int(os.environ.get("KIM_SMTP_PORT", "25"))) as smtp:
        smtp.send_message(msg)


@run_failure_sensor(
    monitored_jobs=[monthly_pipeline],
    default_status=DefaultSensorStatus.RUNNING,
    description="Writes a failure notice to output/alerts/ (and optionally sends it by e-mail).",
)
def failure_alert(context: RunFailureSensorContext, kim_paths: KimPaths):
    run = context.dagster_run
    partition = run.tags.get("dagster/partition") or "{}..{}".format(
        run.tags.get("dagster/asset_partition_range_start", "?"),
        run.tags.get("dagster/asset_partition_range_end", "?"),
    )
    message = context.failure_event.message or "unbekannter Fehler"
    for event in context.get_step_failure_events():
        error = event.step_failure_data.error if event.step_failure_data else None
        if error:
            cause = error.cause.message.strip() if error.cause else error.message.strip()
            message += f"\n\nSchritt {event.step_key}: {cause}"
    notice = failure_notice(run.run_id, run.job_name, partition, message)
    notice_path(Path(kim_paths.output), partition, run.run_id).write_text(notice, encoding="utf-8")
    context.log.error(notice)
    send_mail(f"KIM Haushalt: Lauf für {partition} fehlgeschlagen", notice)
