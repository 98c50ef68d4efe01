"""What `kim run` shows while the Dagster run executes: one line per stage with a step counter,
warnings and errors in full; every Dagster and dbt line goes to the run's log file, and to the
screen only with --verbose.

The run gets one Dagster logger (`kim`, replacing Dagster's coloured console logger); its
records carry the Dagster event, from which the stage lines are made. Control codes (`\\r` for
the live counter) only on a terminal: pipes, cron and tests get plain lines.
"""

from __future__ import annotations

import io
import logging
import re
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from dagster import logger

STAGES = {
    "ingest": "Einlesen und Eingangsprüfungen",
    "dbt": "Warehouse (dbt)",
    "mart_gate": "Warehouse-Prüfungen",
    "reports": "Berichte",
}
FORMAT = "%(asctime)s %(levelname)-7s %(message)s"
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def stage_of(step_key: str) -> str:
    """The stage a Dagster step belongs to, by its key (see the job's execution plan)."""
    if step_key == "ingest":
        return "ingest"
    if step_key in ("warehouse_dbt", "warehouse_reference"):
        return "dbt"
    if step_key.endswith(("_mart_gate", "_reconciliation_gate")):
        return "mart_gate"
    return "reports"


def stage_line(stage: str, done: int, total: int, seconds: float | None = None) -> str:
    text = f"  {STAGES[stage]:<31} {done}/{total} Schritte"
    return text + (f" fertig ({seconds:.0f} s)" if seconds is not None else " ...")


class StageConsole(logging.Handler):
    """Prints the stage lines and the warnings and errors of a run to `stream`."""

    def __init__(self, stream: TextIO, totals: dict[str, int], *, live: bool, verbose: bool):
        super().__init__(logging.DEBUG)
        self.stream, self.totals, self.live, self.verbose = stream, totals, live, verbose
        self.done = dict.fromkeys(totals, 0)
        self.current: str | None = None
        self.started = 0.0
        self.setFormatter(logging.Formatter(FORMAT))

    def _write(self, text: str, *, newline: bool = True) -> None:
        self.stream.write(text + ("\n" if newline else ""))
        self.stream.flush()

    def _finish_stage(self) -> None:
        if self.current is not None:
            elapsed = time.monotonic() - self.started
            prefix = "\r" if self.live else ""
            total = self.totals[self.current]
            self._write(prefix + stage_line(self.current, self.done[self.current], total, elapsed))
            self.current = None

    def emit(self, record: logging.LogRecord) -> None:
        if self.verbose:
            self._write(self.format(record))
            return
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        kind = event.event_type_value if event is not None else None
        if kind in ("STEP_START", "STEP_SUCCESS") and event.step_key:
            self._step(kind, stage_of(event.step_key))
        elif record.levelno >= logging.WARNING and not self._skipped_step(meta):
            if self.live and self.current is not None:
                self._write("")  # keep the live counter line intact
            self._write(f"{record.levelname}: {meta.get('orig_message') or record.getMessage()}")

    @staticmethod
    def _skipped_step(meta: dict) -> bool:
        """Dagster's error per step left out after a failure ('Dependencies for step ... Not
        executing'): the failure itself is shown, these stay in the log."""
        return str(meta.get("orig_message", "")).startswith("Dependencies for step")

    def _step(self, kind: str, stage: str) -> None:
        if kind == "STEP_START" and stage != self.current:
            self._finish_stage()
            self.current, self.started = stage, time.monotonic()
            self.totals.setdefault(stage, 0)
            self.done.setdefault(stage, 0)
        if kind == "STEP_SUCCESS" and stage in self.done:
            self.done[stage] += 1
        if self.live and self.current is not None:
            line = stage_line(self.current, self.done[self.current], self.totals[self.current])
            self._write("\r" + line, newline=False)

    def close(self) -> None:
        self._finish_stage()
        super().close()


def run_logger_def(handlers: list[logging.Handler]):
    """A Dagster logger definition whose logger hands every record of the run to `handlers`."""

    @logger(description="KIM console and run log file")
    def kim_logger(_init_context):
        run_log = logging.Logger("kim.run", logging.DEBUG)
        for handler in handlers:
            run_log.addHandler(handler)
        return run_log

    return kim_logger


class RunLog(logging.FileHandler):
    """The run's log file `run_<run id>.log`: every Dagster and dbt line at DEBUG level."""

    def __init__(self, folder: Path):
        self.run_id = str(uuid.uuid4())  # Dagster's run ids are UUID4 strings too
        self.path = folder / f"run_{self.run_id}.log"
        folder.mkdir(parents=True, exist_ok=True)
        super().__init__(self.path, encoding="utf-8")
        self.setLevel(logging.DEBUG)
        self.setFormatter(logging.Formatter(FORMAT))


@contextmanager
def run_log(folder: Path, *, verbose: bool) -> Iterator[RunLog]:
    """The run's log file, announced on stdout; Python warnings (Dagster's beta and preview
    notes, among others) go there too, and to the screen only with --verbose."""
    log = RunLog(folder)
    print(f"Protokoll: {log.path}", flush=True)
    warnings_log = logging.getLogger("py.warnings")
    logging.captureWarnings(True)
    warnings_log.addHandler(log)
    warnings_log.propagate = verbose
    # The ingest modules warn per file (e.g. the demo pseudonym key, once per ingest step):
    # each message in full, once on screen, every time in the log.
    ingest_log, screen = logging.getLogger("ingest"), logging.StreamHandler(sys.stderr)
    screen.setLevel(logging.WARNING)
    screen.addFilter(_Once())
    for handler in (log, screen):
        ingest_log.addHandler(handler)
    ingest_log.propagate = False
    try:
        yield log
    finally:
        for handler in (log, screen):
            ingest_log.removeHandler(handler)
        ingest_log.propagate = True
        warnings_log.removeHandler(log)
        warnings_log.propagate = True
        logging.captureWarnings(False)
        log.close()


class _Once(logging.Filter):
    """Lets each distinct message through once."""

    def __init__(self):
        super().__init__()
        self.seen: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message in self.seen:
            return False
        self.seen.add(message)
        return True


class LogLines(io.TextIOBase):
    """Stands in for stdout during the run: dagster-dbt writes dbt's lines (with colour codes)
    straight to sys.stdout; here they become plain records of the `dbt` logger's handlers."""

    def __init__(self, handlers: list[logging.Handler]):
        self.log = logging.Logger("dbt", logging.INFO)
        for handler in handlers:
            self.log.addHandler(handler)
        self.pending = ""

    def write(self, text: str) -> int:
        *lines, self.pending = (self.pending + text).split("\n")
        for line in lines:
            self.log.info(ANSI.sub("", line))
        return len(text)
