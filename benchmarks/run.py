"""`python -m benchmarks.run --scale S|M|L`: measure the pipeline on one machine, in one run.

Steps (each measured in a fresh subprocess, so the whole process tree can be watched):

1. generate the scale's inbox once into benchmarks/data/<scale>/inbox (reused when the
   parameters match), recording generation time and rows per file;
2. floors: polars, and DuckDB `read_csv`, read every input file of the full build once
   (XLSX via polars), and the last month's files; the peer: a plain pandas script computes the
   newest month's indicators from all files (benchmarks/peer_pandas.py);
3. full build: `kim run --all` from an empty warehouse over every month but the last;
4. next month: the last month's files are added, then `kim run --month <last>`;
5. same month again: `kim run --month <last>` with nothing changed (up to date: nothing runs);
   fixed start-up: the same with `--force` (every step runs for that one month);
6. correction: one old month's personen file is rewritten (one value changed), then
   `kim run --month <that month>` (which also recomputes every later month).

Results go to benchmarks/results/<scale>.json and the scale's section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import codecs
import io
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from dagster_project.console import stage_of

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
DOCS_FILE = PROJECT_ROOT / "docs" / "benchmarks.md"
BIN = Path(sys.executable).parent
SEED = 42
# A fixed key, so runs do not depend on the sample marker's demo-key fallback; not a secret.
BENCH_KEY = "kim-haushalt-benchmark-key-not-secret-0123456789"
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
STEP_DONE = re.compile(r'Finished execution of step "(?P<step>[^"]+)" in (?P<dur>[0-9hms.]+)\.')
CORRECTED_MONTH_INDEX = 2  # the third month: "old" at every scale


@dataclass(frozen=True)
class Scale:
    name: str
    persons: int
    months: int
    start: str


SCALES = {
    "S": Scale("S", 2_500, 36, "2023-11"),
    "M": Scale("M", 40_000, 60, "2021-11"),
    "L": Scale("L", 400_000, 60, "2021-11"),
}


@dataclass
class Measurement:
    name: str
    command: str
    wall_s: float
    cpu_s: float  # user + sys of the child and every descendant it waited for
    peak_tree_rss_mb: float  # sampled sum of RSS over the process tree
    max_process_rss_mb: float  # largest single process (wait4 ru_maxrss)
    returncode: int
    rows: int = 0
    rows_per_s: float | None = None
    warehouse_mb: float | None = None
    steps: dict[str, float] = field(default_factory=dict)
    stages: dict[str, float] = field(default_factory=dict)
    detail: dict = field(default_factory=dict)


# --- process tree measurement -------------------------------------------------------------


def _proc_table() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, resident pages) for every readable process."""
    table = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue  # the process ended while we looked
        table[int(entry.name)] = (int(fields[1]), int(fields[21]))
    return table


def tree_rss_kb(root: int) -> int:
    """Resident memory (kB) of `root` and all its descendants right now."""
    table = _proc_table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        if pid in table:
            total += table[pid][1] * PAGE_KB
        todo.extend(children.get(pid, ()))
    return total


class TreeSampler(threading.Thread):
    """Polls the tree's RSS every `interval` seconds; `peak_kb` is the largest sum seen."""

    def __init__(self, root: int, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.root, self.interval, self.peak_kb = root, interval, 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak_kb = max(self.peak_kb, tree_rss_kb(self.root))
            self.stop.wait(self.interval)


def measure(name: str, cmd: list[str], env: dict[str, str], log: Path) -> Measurement:
    """Run `cmd` as a child (output to `log`) and measure wall, CPU and memory of its tree."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w", encoding="utf-8") as out:
        start = time.perf_counter()
        child = subprocess.Popen(
            cmd, env=env, cwd=PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT
        )
        sampler = TreeSampler(child.pid)
        sampler.start()
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        sampler.stop.set()
        sampler.join()
    child.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4, tell Popen
    steps = parse_steps(run_log_text(log.read_text(encoding="utf-8", errors="replace")))
    return Measurement(
        name=name,
        command=" ".join(_short(c) for c in cmd),
        wall_s=round(wall, 2),
        cpu_s=round(usage.ru_utime + usage.ru_stime, 2),
        peak_tree_rss_mb=round(sampler.peak_kb / 1024, 1),
        max_process_rss_mb=round(usage.ru_maxrss / 1024, 1),
        returncode=child.returncode,
        steps=steps,
        stages=stage_totals(steps, wall),
    )


RUN_LOG = re.compile(r"Protokoll: (\S+\.log)")


def run_log_text(console: str) -> str:
    """The Dagster step lines: in the run's log file, which `kim run` names on the console
    (the console itself shows one line per stage); the console text for other commands."""
    named = RUN_LOG.findall(console)
    path = Path(named[-1]) if named else None
    return path.read_text(encoding="utf-8", errors="replace") if path and path.exists() else console


def _short(part: str) -> str:
    return part.replace(str(PROJECT_ROOT) + "/", "")


# --- Dagster step times ---------------------------------------------------------------------


def parse_duration(text: str) -> float:
    """Dagster's step duration ('450ms', '11.02s', '1m15s', '1h2m') in seconds."""
    if text.endswith("ms") and not re.search(r"\d[hm]\d", text):
        return float(text[:-2]) / 1000
    total = 0.0
    for value, unit in re.findall(r"([0-9.]+)([hms])", text):
        total += float(value) * {"h": 3600, "m": 60, "s": 1}[unit]
    return total


def parse_steps(log_text: str) -> dict[str, float]:
    """Seconds per finished step, from the STEP_SUCCESS lines of the Dagster log."""
    return {m["step"]: round(parse_duration(m["dur"]), 2) for m in STEP_DONE.finditer(log_text)}


# The console's stages (dagster_project/console.py: one statement of which step is which stage),
# named for this page.
STAGE_NAMES = {
    "ingest": "ingest and raw gates",
    "dbt": "dbt",
    "mart_gate": "warehouse gates",
    "reports": "reports",
}
STAGES = tuple(STAGE_NAMES.values())


def stage_totals(steps: dict[str, float], wall: float) -> dict[str, float]:
    """Seconds per stage; what no step accounts for is start-up and Dagster overhead."""
    totals = dict.fromkeys(STAGES, 0.0)
    for step, seconds in steps.items():
        totals[STAGE_NAMES[stage_of(step)]] += seconds
    if steps:
        totals["start-up and run overhead"] = max(wall - sum(steps.values()), 0.0)
    return {k: round(v, 2) for k, v in totals.items()}


# --- inbox ----------------------------------------------------------------------------------


def ensure_inbox(scale: Scale, root: Path) -> dict:
    """Generate the scale's inbox unless one with the same parameters exists; returns the
    generation record (parameters, seconds, peak memory, rows per file)."""
    params = {"persons": scale.persons, "months": scale.months, "start": scale.start, "seed": SEED}
    record_file = root / "generation.json"
    if record_file.exists() and (root / "inbox").is_dir():
        record = json.loads(record_file.read_text(encoding="utf-8"))
        if record.get("params") == params:
            record["reused"] = True
            return record
    shutil.rmtree(root / "inbox", ignore_errors=True)
    root.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.run",
        "--child-generate",
        json.dumps(params),
        str(root / "inbox"),
        str(record_file),
    ]
    m = measure("generate", cmd, _base_env(scale), root / "generate.log")
    if m.returncode:
        raise RuntimeError(f"generation failed, see {root / 'generate.log'}")
    record = json.loads(record_file.read_text(encoding="utf-8"))
    record.update(wall_s=m.wall_s, cpu_s=m.cpu_s, peak_tree_rss_mb=m.peak_tree_rss_mb)
    record_file.write_text(json.dumps(record, indent=1), encoding="utf-8")
    record["reused"] = False
    return record


def child_generate(params_json: str, inbox: str, record_file: str) -> None:
    from ingest.generator import generate

    params = json.loads(params_json)
    start = time.perf_counter()
    summary = generate(Path(inbox), **params)
    seconds = time.perf_counter() - start
    record = {"params": params, "seconds": round(seconds, 2), "row_counts": summary.row_counts}
    Path(record_file).write_text(json.dumps(record, indent=1), encoding="utf-8")


def month_of(path: Path) -> str | None:
    match = re.search(r"_(\d{4}-\d{2})\.(csv|xlsx)$", path.name)
    return match.group(1) if match else None


def rows_of(files: list[Path], row_counts: dict[str, int]) -> int:
    """Data rows of `files` per the generator (XLSX: all sheets)."""
    names = {f.name for f in files}
    return sum(n for key, n in row_counts.items() if key.split(":")[0] in names)


def source_files(inbox: Path) -> list[Path]:
    return sorted(p for p in inbox.iterdir() if p.suffix in (".csv", ".xlsx"))


def correct_person_file(path: Path) -> str:
    """Swap the nationality of the first data row with the next row that has another one.

    A realistic correction that keeps every code valid and every reference intact, so the run
    must succeed. The file is replaced (not edited in place): the generated inbox stays intact.
    """
    raw = path.read_bytes()
    lines = raw.decode("cp1252").split("\r\n")
    header = lines[0].split(";")
    col = header.index("Staatsangehoerigkeit")
    first = lines[1].split(";")
    i = 1
    for i in range(2, len(lines)):
        other = lines[i].split(";")
        if len(other) == len(header) and other[col] != first[col]:
            first[col], other[col] = other[col], first[col]
            lines[1], lines[i] = ";".join(first), ";".join(other)
            break
    path.unlink()
    path.write_bytes("\r\n".join(lines).encode("cp1252"))
    return f"{path.name}: Staatsangehoerigkeit of data lines 1 and {i} swapped"


# --- floor ----------------------------------------------------------------------------------


def child_floor(list_file: str, reader: str) -> None:
    """Read every listed file once, fully materialised, with `reader` ('polars' or 'duckdb');
    print seconds and rows as JSON. Workbooks are read with polars either way."""
    import polars as pl

    files = [Path(p) for p in json.loads(Path(list_file).read_text(encoding="utf-8"))]
    read_csv = _polars_csv if reader == "polars" else _duckdb_csv_reader()
    rows, start = 0, time.perf_counter()
    for f in files:
        if f.suffix == ".xlsx":
            sheets = pl.read_excel(f, sheet_id=0, infer_schema_length=0)
            rows += sum(frame.height for frame in sheets.values())
        else:
            rows += read_csv(f)
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": round(seconds, 3), "rows": rows, "files": len(files)}))


def _polars_csv(path: Path) -> int:
    """The file's bytes decoded as the product detects them (UTF-8 with or without BOM, else
    cp1252), then polars on the UTF-8 bytes, every column as text."""
    import polars as pl

    data = path.read_bytes()
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        data = data.decode("cp1252").encode("utf-8")
    return pl.read_csv(io.BytesIO(data), separator=";", infer_schema=False).height


def _duckdb_csv_reader():
    import duckdb

    con = duckdb.connect()

    def read(path: Path) -> int:
        # DuckDB knows no cp1252; latin-1 reads the same bytes at the same cost.
        encoding = "latin-1" if path.name.startswith("personen_") else "utf-8"
        con.execute(
            f"create or replace temp table t as select * from read_csv('{path}', sep=';', "
            f"header=true, all_varchar=true, encoding='{encoding}')"
        )
        return con.sql("select count(*) from t").fetchall()[0][0]

    return read


def measure_floor(
    name: str, reader: str, files: list[Path], work: Path, env: dict[str, str]
) -> Measurement:
    list_file = work / f"{name}.files.json"
    list_file.write_text(json.dumps([str(f) for f in files]), encoding="utf-8")
    log = work / "logs" / f"{name}.log"
    cmd = [sys.executable, "-m", "benchmarks.run", "--child-floor", str(list_file), reader]
    m = measure(name, cmd, env, log)
    result = json.loads(log.read_text(encoding="utf-8").strip().splitlines()[-1])
    m.detail = {"read_s": result["seconds"], "files": result["files"], "reader": reader}
    m.rows = result["rows"]  # includes totals lines: the floor reads them too
    m.rows_per_s = round(m.rows / result["seconds"]) if result["seconds"] else None
    return m


PEER_DONE = re.compile(r"computed in (?P<s>[0-9.]+) s")


def measure_peer(inbox: Path, work: Path, env: dict[str, str], rows: int) -> Measurement:
    """The pandas peer over the whole inbox (the newest month from all history files)."""
    log = work / "logs" / "peer.log"
    m = measure("peer", [sys.executable, "-m", "benchmarks.peer_pandas", str(inbox)], env, log)
    done = PEER_DONE.search(log.read_text(encoding="utf-8"))
    m.detail = {"compute_s": float(done["s"])} if done else {}
    m.rows = rows
    m.rows_per_s = round(rows / m.wall_s) if rows else None
    print(f"  peer: {m.wall_s:.2f} s wall, {m.cpu_s:.2f} s CPU, exit {m.returncode}", flush=True)
    return m


# --- pipeline runs --------------------------------------------------------------------------


def _base_env(scale: Scale) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        KIM_FIRST_MONTH=scale.start,
        KIM_PSEUDONYM_KEY=BENCH_KEY,
        DBT_PROFILES_DIR=str(PROJECT_ROOT / "dbt"),
        PYTHONWARNINGS="ignore",
    )
    env.pop("KIM_PSEUDONYM_KEY_FILE", None)
    return env


def kim_run(name: str, what: list[str], work: Path, env: dict[str, str], rows: int) -> Measurement:
    warehouse = work / "warehouse" / "kim.duckdb"
    cmd = [
        str(BIN / "kim"),
        "run",
        *what,
        "--inbox",
        str(work / "inbox"),
        "--warehouse",
        str(warehouse),
        "--out",
        str(work / "output"),
    ]
    m = measure(name, cmd, env, work / "logs" / f"{name}.log")
    m.rows = rows
    m.rows_per_s = round(rows / m.wall_s) if rows else None
    m.warehouse_mb = round(_file_mb(warehouse), 1)
    print(
        f"  {name}: {m.wall_s:.1f} s wall, {m.cpu_s:.1f} s CPU, "
        f"{m.peak_tree_rss_mb:.0f} MB peak, exit {m.returncode}",
        flush=True,
    )
    return m


def _file_mb(path: Path) -> float:
    files = [path, path.with_name(path.name + ".wal")]
    return sum(f.stat().st_size for f in files if f.exists()) / 2**20


def prepare_work(inbox: Path, work: Path, last: str) -> None:
    """Fresh work folder whose inbox holds every generated file except the last month's."""
    shutil.rmtree(work, ignore_errors=True)
    (work / "inbox").mkdir(parents=True)
    (work / "dagster_home").mkdir()
    for f in inbox.iterdir():
        if f.is_file() and month_of(f) != last:
            shutil.copy2(f, work / "inbox" / f.name)


def run_scale(scale: Scale) -> dict:
    root = BENCH_DIR / "data" / scale.name
    print(f"Scale {scale.name}: {scale.persons} persons x {scale.months} months from {scale.start}")
    gen = ensure_inbox(scale, root)
    print(f"  inbox: {'reused' if gen['reused'] else 'generated'} ({gen['seconds']} s)", flush=True)
    inbox, work = root / "inbox", root / "work"
    all_files = source_files(inbox)
    months = sorted({m for f in all_files if (m := month_of(f))})
    last, corrected = months[-1], months[CORRECTED_MONTH_INDEX]
    prepare_work(inbox, work, last)
    env = _base_env(scale)
    env["DAGSTER_HOME"] = str(work / "dagster_home")
    counts = gen["row_counts"]
    build_files = [f for f in all_files if month_of(f) != last]
    last_files = [f for f in all_files if month_of(f) == last]
    corr_files = [f for f in all_files if month_of(f) == corrected]

    results: list[Measurement] = [
        measure_floor("floor_polars", "polars", build_files, work, env),
        measure_floor("floor", "duckdb", build_files, work, env),
        measure_floor("floor_polars_next_month", "polars", last_files, work, env),
        measure_floor("floor_next_month", "duckdb", last_files, work, env),
    ]
    for m in results[:2]:
        print(f"  {m.name}: {m.detail['read_s']} s reading {m.rows} rows", flush=True)
    results.append(measure_peer(inbox, work, env, rows_of(all_files, counts)))
    results.append(kim_run("full_build", ["--all"], work, env, rows_of(build_files, counts)))
    for f in last_files:
        shutil.copy2(f, work / "inbox" / f.name)
    results.append(kim_run("next_month", ["--month", last], work, env, rows_of(last_files, counts)))
    results.append(kim_run("unchanged", ["--month", last], work, env, 0))
    results.append(kim_run("fixed_startup", ["--month", last, "--force"], work, env, 0))
    change = correct_person_file(work / "inbox" / f"personen_{corrected}.csv")
    m = kim_run("correction", ["--month", corrected], work, env, rows_of(corr_files, counts))
    m.detail = {"change": change}
    results.append(m)
    return assemble(scale, gen, months, results)


# --- results --------------------------------------------------------------------------------


def machine() -> dict:
    meminfo = Path("/proc/meminfo").read_text().split("\n")[0].split()
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    models = [line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")]
    cpu = models[0] if models else platform.processor()
    versions = {}
    for dist in (
        "duckdb",
        "dbt-core",
        "dbt-duckdb",
        "dagster",
        "dagster-dbt",
        "polars",
        "great-expectations",
    ):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = "not installed"
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": round(int(meminfo[1]) / 2**20, 1),
        "python": platform.python_version(),
        "os": platform.platform(),
        "versions": versions,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def assemble(scale: Scale, gen: dict, months: list[str], results: list[Measurement]) -> dict:
    by = {m.name: m for m in results}
    floor_s, duckdb_floor_s = by["floor_polars"].detail["read_s"], by["floor"].detail["read_s"]
    full, nxt, fixed = by["full_build"].wall_s, by["next_month"].wall_s, by["fixed_startup"].wall_s
    peer = by["peer"].wall_s
    counts = gen["row_counts"]
    per_source: dict[str, int] = {}
    for key, n in counts.items():
        source = key.split(":")[1].lower() if ":" in key else re.sub(r"_[\d-]+\.csv$", "", key)
        per_source[source] = per_source.get(source, 0) + n
    return {
        "scale": asdict(scale),
        "machine": machine(),
        "generation": {k: v for k, v in gen.items() if k != "row_counts"}
        | {
            "rows_per_source": per_source,
            "rows_total": sum(counts.values()),
            "months": [months[0], months[-1]],
        },
        "measurements": [asdict(m) for m in results],
        "ratios": {
            "floor": "polars",
            "full_build_over_floor": _ratio(full, floor_s),
            "full_build_over_duckdb_floor": _ratio(full, duckdb_floor_s),
            "full_build_minus_startup_over_floor": _ratio(full - fixed, floor_s),
            "next_month_over_full_build": _ratio(nxt, full),
            "next_month_minus_startup_over_full_build": _ratio(max(nxt - fixed, 0), full),
            "next_month_over_peer": _ratio(nxt, peer),
            "full_build_over_peer": _ratio(full, peer),
            "fixed_startup_s": fixed,
            "unchanged_s": by["unchanged"].wall_s,
        },
        "all_runs_succeeded": all(m.returncode == 0 for m in results),
    }


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 3) if b else None


# --- docs -----------------------------------------------------------------------------------

RUN_LABELS = {
    "floor_polars": "Floor, polars (full-build input)",
    "floor": "Floor, DuckDB `read_csv` (full-build input)",
    "floor_polars_next_month": "Floor, polars (last month's files only)",
    "floor_next_month": "Floor, DuckDB (last month's files only)",
    "peer": "Peer: pandas script, newest month's indicators from all files",
    "full_build": "Full build (`kim run --all`)",
    "next_month": "Next month (`kim run --month <last>`)",
    "unchanged": "Same month again, nothing changed (up to date: nothing runs)",
    "fixed_startup": "Fixed start-up (same month again with `--force`: every step runs)",
    "correction": "Correction (one old personen file; recomputes every later month)",
}


def section(result: dict) -> str:
    s, mach, gen = result["scale"], result["machine"], result["generation"]
    v = mach["versions"]
    lines = [
        f"## Scale {s['name']}: {s['persons']:,} persons × {s['months']} months from {s['start']}",
        "",
        f"Measured {mach['date']} on {mach['cores']} cores ({mach['cpu']}), "
        f"{mach['memory_gb']} GB memory, Python {mach['python']}, DuckDB {v['duckdb']}, "
        f"dbt-core {v['dbt-core']} / dbt-duckdb {v['dbt-duckdb']}, Dagster {v['dagster']}, "
        f"polars {v['polars']}, Great Expectations {v['great-expectations']}.",
        "",
        f"Inbox: {gen['rows_total']:,} rows ("
        + ", ".join(f"{k} {n:,}" for k, n in sorted(gen["rows_per_source"].items()))
        + f"), generated in {gen['seconds']} s"
        + (
            f" (process: {gen.get('wall_s')} s wall, {gen.get('peak_tree_rss_mb')} MB peak)"
            if gen.get("wall_s")
            else ""
        )
        + ".",
        "",
        "| Run | Wall s | CPU s | Peak RSS (tree) MB | Rows | Rows/s | Warehouse MB | OK |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for m in result["measurements"]:
        wall = f"{m['wall_s']:.1f}"
        if "read_s" in m["detail"]:
            wall = f"{m['detail']['read_s']:.2f} (process {m['wall_s']:.1f})"
        elif "compute_s" in m["detail"]:
            wall = f"{m['wall_s']:.2f} (computing {m['detail']['compute_s']:.2f})"
        lines.append(
            f"| {RUN_LABELS[m['name']]} | {wall} | {m['cpu_s']:.1f} | "
            f"{m['peak_tree_rss_mb']:.0f} | "
            f"{m['rows']:,} | {_num(m['rows_per_s'])} | {_num(m['warehouse_mb'])} | "
            f"{'yes' if m['returncode'] == 0 else 'FAILED'} |"
        )
    r = result["ratios"]
    runs = {m["name"]: m for m in result["measurements"]}
    lines += [""]
    if "next_month_over_peer" in r:
        cpu = {n: runs[n]["cpu_s"] for n in ("peer", "next_month", "full_build")}
        lines += [
            "Goals of issue 12 (the peer's process wall time, pandas import included): "
            f"next month ÷ peer **{_times(r['next_month_over_peer'])}** (goal ≤ 5×); full "
            f"build ÷ peer **{_times(r['full_build_over_peer'])}** (goal ≤ 20×); same month "
            f"again with nothing changed **{r.get('unchanged_s', r['fixed_startup_s']):.1f} s** "
            f"(goal ≤ 8 s; with `--force` {r['fixed_startup_s']:.1f} s). The same ratios in CPU "
            f"time, less disturbed by other load: next month "
            f"{_times(_ratio(cpu['next_month'], cpu['peer']))}, full build "
            f"{_times(_ratio(cpu['full_build'], cpu['peer']))}.",
            "",
        ]
    floor = "polars floor" if r.get("floor") == "polars" else "floor"
    lines += [
        f"Ratios: full build ÷ {floor} **{_times(r['full_build_over_floor'])}**"
        + (
            f" (÷ DuckDB floor {_times(r['full_build_over_duckdb_floor'])})"
            if "full_build_over_duckdb_floor" in r
            else ""
        )
        + f"; (full build − "
        f"fixed start-up) ÷ {floor} **{_times(r['full_build_minus_startup_over_floor'])}**; next "
        f"month ÷ full build **{_pct(r['next_month_over_full_build'])}**; (next month − "
        f"fixed start-up) ÷ full build **{_pct(r['next_month_minus_startup_over_full_build'])}**.",
        "",
        "Seconds per stage (sum of the Dagster step times; the rest of the wall time is process "
        "start-up, code loading and run overhead):",
        "",
        "| Stage | Full build | Next month | Fixed start-up | Correction |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    order = ("full_build", "next_month", "fixed_startup", "correction")
    for stage in (*STAGES, "start-up and run overhead"):
        cells = [_num(runs[n]["stages"].get(stage)) for n in order]
        if all(runs[n]["stages"].get(stage, 0) == 0 for n in order):
            continue  # e.g. no step outside the known stages
        lines.append(f"| {stage} | " + " | ".join(cells) + " |")
    slowest = sorted(runs["full_build"]["steps"].items(), key=lambda kv: -kv[1])[:5]
    lines += [
        "",
        "Slowest steps of the full build: "
        + ", ".join(f"`{k}` {v:.1f} s" for k, v in slowest)
        + ".",
    ]
    change = runs["correction"]["detail"].get("change")
    if change:
        lines += ["", f"Correction made: {change}."]
    return "\n".join(lines) + "\n"


def _num(x: float | int | None) -> str:
    if x is None:
        return "–"
    if isinstance(x, int):
        return f"{x:,}"
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:,.1f}"


def _times(x: float | None) -> str:
    return "–" if x is None else f"{x:.1f}×"


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f} %"


def write_docs(result: dict, doc: Path = DOCS_FILE) -> None:
    """Replace (or add) the scale's section between its markers; other text stays as it is."""
    name = result["scale"]["name"]
    begin, end = f"<!-- scale {name} begin -->", f"<!-- scale {name} end -->"
    block = f"{begin}\n{section(result)}{end}"
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# Benchmarks\n"
    if begin in text and end in text:
        text = text[: text.index(begin)] + block + text[text.index(end) + len(end) :]
    else:
        anchor = "## What limits it"
        cut = text.index(anchor) if anchor in text else len(text)
        text = text[:cut].rstrip("\n") + "\n\n" + block + "\n\n" + text[cut:]
    doc.write_text(text.rstrip("\n") + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks.run", description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES))
    parser.add_argument("--child-floor", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--child-generate", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument(
        "--docs-only",
        action="store_true",
        help="rewrite the docs section from benchmarks/results/<scale>.json",
    )
    args = parser.parse_args(argv)
    if args.child_floor:
        child_floor(*args.child_floor)
        return 0
    if args.child_generate:
        child_generate(*args.child_generate)
        return 0
    if not args.scale:
        parser.error("--scale is required")
    out = BENCH_DIR / "results" / f"{args.scale}.json"
    if args.docs_only:
        result = json.loads(out.read_text(encoding="utf-8"))
    else:
        result = run_scale(SCALES[args.scale])
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    write_docs(result)
    print(f"Results: {out.relative_to(PROJECT_ROOT)}; docs: {DOCS_FILE.relative_to(PROJECT_ROOT)}")
    return 0 if result["all_runs_succeeded"] else 1


if __name__ == "__main__":
    sys.exit(main())
