"""Load one inbox file into the warehouse: all of it or nothing.

load_file() detects the source from the file name, reads, validates and pseudonymises, then in
ONE transaction replaces the file's period in the raw table(s), writes the quarantined rows to
meta.quarantine and one meta.load_batches row per raw table. Loading the same file (same
SHA-256) again is a no-op that returns the existing result. Any error rolls everything back.

Loads are keyed by (source, period, municipality): a municipality's file (ingest.inbox) replaces
only the rows of that municipality's earlier load of the period, never another's; a district-wide
file (no municipality) replaces the whole period. A municipality's file for a period already
loaded from a district-wide file is rejected (its rows would count twice).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import logging
import uuid
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import duckdb
import polars as pl

from ingest.contracts import FILE_KINDS, SOURCES, Source, raw_columns
from ingest.errors import FileRejected, InvariantViolated
from ingest.inbox import InboxFile, classify_delivery, folder_of, municipality_of
from ingest.pseudonymise import mask_row, mask_value, pseudonymise_frame
from ingest.readers import LINE, Problem, RawTable, ReadFile, read_csv, read_xlsx
from ingest.teilergebnisplan import load_teilergebnisplan
from ingest.validate import Context, Validated, raw_row_json, validate
from ingest.warehouse import LoadResult, ensure_schema, insert_frame
from kim_settings import deployment_mode, seeds_dir

log = logging.getLogger(__name__)

POLARS_TYPES = {
    "VARCHAR": pl.String,
    "DATE": pl.Date,
    "INTEGER": pl.Int32,
    "DECIMAL(18,2)": pl.Decimal(18, 2),
    "BOOLEAN": pl.Boolean,
}


@dataclass
class _Prepared:
    source: Source
    table: RawTable
    rows: pl.DataFrame  # in raw table layout
    problems: list[Problem]
    result: LoadResult = field(init=False)


def detect(path: Path) -> tuple[str, str]:
    """(file kind, period) from the file name, e.g. ('personen', '2026-10'); else reject."""
    found = classify_delivery(path.name)
    if found is not None and found[0] != "teilergebnisplan":
        return found[0], found[1]
    expected = ", ".join(
        f"{k}_{'JJJJ-MM' if SOURCES[t[0]].period == 'month' else 'JJJJ'}.{SOURCES[t[0]].extension}"
        for k, t in FILE_KINDS.items()
    )
    raise FileRejected(path.name, "Dateiname passt zu keiner bekannten Quelle", expected)


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    key: bytes,
    run_id: str | None = None,
    inbox: Path | None = None,
) -> list[LoadResult]:
    """Load one monthly/yearly source file (or a Teilergebnisplan); see the module docstring.
    `inbox`: the inbox folder, whose subfolders `<AGS>/` hold the municipalities' deliveries
    (None: the file's own folder)."""
    path = Path(path)
    if path.name.lower().startswith("teilergebnisplan_"):
        return [load_teilergebnisplan(con, path, run_id=run_id)]
    ensure_schema(con)
    kind, period = detect(path)
    sources = [SOURCES[t] for t in FILE_KINDS[kind]]
    folder = folder_of(path, inbox)
    ags = municipality_of(path, folder)
    name = InboxFile(kind, period, path, "", 0, ags, folder).name
    if ags and not sources[0].municipal:
        raise FileRejected(
            name,
            f"{kind} ist eine Datei des Kreises, keine Lieferung einer Gemeinde",
            f"{kind}_<Zeitraum>.{sources[0].extension} oben im Eingangsordner",
        )
    digest = sha256_of(path)
    previous = {s.raw_table: _current_load(con, s.raw_table, period, ags) for s in sources}
    if all(p is not None and p.sha256 == digest for p in previous.values()):
        log.info("%s ist bereits geladen (gleiche SHA-256); übersprungen", path.name)
        return [p for p in previous.values() if p is not None]
    if ags:
        _refuse_over_district_file(con, sources[0], period, name)
    read = read_csv(path, sources[0]) if sources[0].extension == "csv" else read_xlsx(path, sources)
    prepared = _prepare(con, read, sources, period, key, (ags, name))
    size = path.stat().st_size
    for item in prepared:
        item.result = LoadResult(
            source=item.source.raw_table,
            period=period,
            file_name=name,
            sha256=digest,
            encoding=read.encoding,
            rows_read=item.table.rows_read,
            rows_loaded=item.rows.height,
            rows_quarantined=len(item.problems),
            rows_totals_removed=item.table.totals_removed,
            warnings=list(item.table.warnings),
            load_id=uuid.uuid4().hex,
            replaced_load_id=_load_id(previous[item.source.raw_table]),
            ags=ags or None,
        )
        _check_invariant(item.result)
    _write(con, prepared, period, size, run_id)
    for item in prepared:
        _log_result(item.result)
    return [item.result for item in prepared]


def _load_id(result: LoadResult | None) -> str | None:
    return None if result is None else result.load_id


def _prepare(
    con: duckdb.DuckDBPyConnection,
    read: ReadFile,
    sources: list[Source],
    period: str,
    key: bytes,
    delivery: tuple[str, str],
) -> list[_Prepared]:
    """`delivery`: (the delivering municipality or '', the file's name in the inbox)."""
    ags, name = delivery
    ctx = Context(
        period=period,
        social_spaces=_seed_ids("social_spaces.csv", "social_space_id"),
        accommodations=_seed_ids("accommodation.csv", "accommodation_id"),
        products=_seed_ids("products.csv", "product_id"),
        accounts=_seed_ids("accounts.csv", "account_id"),
        deployment_mode=deployment_mode(),
        municipalities=_seed_ids("municipalities.csv", "ags"),
        social_space_ags=_social_space_ags(),
        delivery_ags=ags,
    )
    if any(s.raw_table == "asylblg_zahlungen" for s in sources):
        _add_other_bookings(ctx, con, period, read.tables["asylblg_zahlungen"].frame)
    out: list[_Prepared] = []
    for source in sources:  # order matters: Kurse before Teilnahmen (exists_in rule)
        table = read.tables[source.raw_table]
        mask = partial(mask_value, key, source)
        checked: Validated = validate(table, ctx, mask)
        for c in source.columns:
            ctx.loaded_values[(source.raw_table, c.name)] = frozenset(
                checked.good[c.name].drop_nulls().cast(pl.String).to_list()
            )
        problems = [_masked(p, key, source) for p in table.problems] + checked.problems
        table.warnings.extend(checked.notes)
        rows = _raw_layout(pseudonymise_frame(key, source, checked.good), source, period, name)
        out.append(_Prepared(source, table, rows, sorted(problems, key=lambda p: p.line)))
    return out


def _masked(problem: Problem, key: bytes, source: Source) -> Problem:
    """Reader problems still carry raw values: pseudonymise/mask them like validator problems."""
    raw = None if problem.raw is None else mask_row(key, source, problem.raw)
    value = problem.value
    if problem.column is not None and problem.rule != "totals_mismatch":
        value = mask_value(key, source, problem.column, value)
    return Problem(problem.line, problem.rule, problem.column, value, raw)


def _seed_ids(file_name: str, column: str) -> frozenset[str]:
    path = seeds_dir() / file_name
    return _seed_ids_of(path, column, path.stat().st_mtime_ns)


def _social_space_ags() -> dict[str, str]:
    seed = pl.read_csv(seeds_dir() / "social_spaces.csv", infer_schema=False)
    return dict(zip(seed["social_space_id"], seed["ags"], strict=True))


@functools.lru_cache(maxsize=16)
def _seed_ids_of(path: Path, column: str, mtime_ns: int) -> frozenset[str]:
    """Read once per version of the file (the modification time is part of the cache key, so
    an edited seed is read again, also in a long-running Dagster process)."""
    del mtime_ns
    seed = pl.read_csv(path, infer_schema=False)
    return frozenset(seed[column].drop_nulls().str.strip_chars().to_list())


def _add_other_bookings(
    ctx: Context, con: duckdb.DuckDBPyConnection, period: str, frame: pl.DataFrame
) -> None:
    """Bookings of other periods that this file's lines refer to (same Buchungs_ID, the original
    of a reversal, or an earlier reversal of the same original). Only those are fetched: the
    cost follows the file, not the history."""
    ids = pl.concat([frame["Buchungs_ID"], frame["Storno_von"]]).str.strip_chars().drop_nulls()
    wanted = pl.DataFrame({"buchungs_id": ids.unique()}).to_arrow()
    con.register("_wanted_bookings", wanted)
    try:
        rows = con.execute(
            "select buchungs_id, betrag, buchungsdatum, storno_von from raw.asylblg_zahlungen "
            "where period_month is distinct from ? "
            "and (buchungs_id in (select buchungs_id from _wanted_bookings) "
            "or storno_von in (select buchungs_id from _wanted_bookings))",
            [_period_month(period)],
        ).fetchall()
    finally:
        con.unregister("_wanted_bookings")
    wanted_ids = set(ids.to_list())
    for booking_id, amount, booked, _ in rows:
        if booking_id in wanted_ids:
            ctx.other_bookings[booking_id] = amount
            ctx.other_booking_dates[booking_id] = booked
    ctx.reversed_elsewhere = frozenset(r for _, _, _, r in rows if r in wanted_ids)


def _period_month(period: str) -> dt.date | None:
    return dt.date(int(period[:4]), int(period[5:7]), 1) if len(period) == 7 else None


def _raw_layout(frame: pl.DataFrame, source: Source, period: str, name: str) -> pl.DataFrame:
    lineage = {
        "period_month": pl.lit(_period_month(period), dtype=pl.Date),
        "load_id": pl.lit(None, dtype=pl.String),  # set at write time
        "source_file": pl.lit(name),
        "source_line": pl.col(LINE),
    }
    by_raw = {c: c.lower() for c in frame.columns if c != LINE}
    frame = frame.rename(by_raw)
    exprs = []
    for name, duck_type in raw_columns(source):
        expr = lineage.get(name, pl.col(name) if name in frame.columns else pl.lit(None))
        exprs.append(expr.cast(POLARS_TYPES[duck_type]).alias(name))
    return frame.select(exprs)


def _current_load(
    con: duckdb.DuckDBPyConnection, raw_table: str, period: str, ags: str = ""
) -> LoadResult | None:
    row = con.execute(
        "select load_id, file_name, sha256, encoding, rows_read, rows_loaded, rows_quarantined, "
        "rows_totals_removed, warnings, replaced_load_id from meta.load_batches "
        "where source = ? and period = ? and coalesce(ags, '') = ? "
        "order by loaded_at desc limit 1",
        [raw_table, period, ags],
    ).fetchone()
    if row is None:
        return None
    load_id, file_name, sha, enc, read, loaded, quarantined, totals, warnings, replaced = row
    return LoadResult(
        source=raw_table,
        period=period,
        file_name=file_name,
        sha256=sha,
        encoding=enc,
        rows_read=read,
        rows_loaded=loaded,
        rows_quarantined=quarantined,
        rows_totals_removed=totals,
        warnings=warnings.split("\n") if warnings else [],
        load_id=load_id,
        skipped=True,
        replaced_load_id=replaced,
        ags=ags or None,
    )


def _check_invariant(r: LoadResult) -> None:
    if r.rows_read != r.rows_loaded + r.rows_quarantined + r.rows_totals_removed:
        raise InvariantViolated(
            f"{r.file_name} → raw.{r.source}: gelesen {r.rows_read} ≠ geladen {r.rows_loaded} + "
            f"Quarantäne {r.rows_quarantined} + Summenzeilen {r.rows_totals_removed}"
        )


def _write(
    con: duckdb.DuckDBPyConnection,
    prepared: list[_Prepared],
    period: str,
    size: int,
    run_id: str | None,
) -> None:
    now = dt.datetime.now()
    con.begin()
    try:
        for item in prepared:
            r = item.result
            _delete_period(con, item.source, period, r.ags)
            rows = item.rows.with_columns(pl.lit(r.load_id).alias("load_id"))
            insert_frame(con, f"raw.{item.source.raw_table}", rows)
            insert_frame(con, "meta.quarantine", _quarantine_frame(item.problems, r))
            insert_frame(con, "meta.load_batches", _batch_frame(r, size, run_id, now))
        con.commit()
    except BaseException:
        con.rollback()
        raise


def _delete_period(
    con: duckdb.DuckDBPyConnection, source: Source, period: str, ags: str | None = None
) -> None:
    """The rows the new load replaces: the period's, or only those a municipality delivered."""
    if ags:
        con.execute(
            f"delete from raw.{source.raw_table} where period_month = ? and load_id in ("
            "select load_id from meta.load_batches where source = ? and period = ? and ags = ?)",
            [_period_month(period), source.raw_table, period, ags],
        )
    elif source.period == "month":
        con.execute(
            f"delete from raw.{source.raw_table} where period_month = ?", [_period_month(period)]
        )
    else:
        con.execute(f"delete from raw.{source.raw_table} where jahr = ?", [int(period)])


def _refuse_over_district_file(
    con: duckdb.DuckDBPyConnection, source: Source, period: str, name: str
) -> None:
    """A municipality's file must not add its rows beside a district-wide file's of the period:
    both hold that municipality's rows (the district-wide file replaces the period as a whole)."""
    [row] = con.execute(
        f"select any_value(b.file_name) from raw.{source.raw_table} r join meta.load_batches b "
        "using (load_id) where r.period_month = ? and b.ags is null",
        [_period_month(period)],
    ).fetchall()
    if row[0]:
        raise FileRejected(
            name,
            f"für {period} ist bereits die kreisweite Datei {row[0]} geladen",
            "je Monat entweder eine kreisweite Datei oder je Gemeinde eine Datei",
        )


def _quarantine_frame(problems: list[Problem], r: LoadResult) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "load_id": [r.load_id] * len(problems),
            "source": [r.source] * len(problems),
            "period": [r.period] * len(problems),
            "file_name": [r.file_name] * len(problems),
            "line": [p.line for p in problems],
            "rule": [p.rule for p in problems],
            "column_name": [p.column for p in problems],
            "value": [p.value for p in problems],
            "raw_row": [raw_row_json(p) for p in problems],
        },
        schema={
            "load_id": pl.String,
            "source": pl.String,
            "period": pl.String,
            "file_name": pl.String,
            "line": pl.Int32,
            "rule": pl.String,
            "column_name": pl.String,
            "value": pl.String,
            "raw_row": pl.String,
        },
    )


def _batch_frame(r: LoadResult, size: int, run_id: str | None, now: dt.datetime) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "load_id": r.load_id,
                "source": r.source,
                "period": r.period,
                "file_name": r.file_name,
                "sha256": r.sha256,
                "size_bytes": size,
                "encoding": r.encoding,
                "rows_read": r.rows_read,
                "rows_loaded": r.rows_loaded,
                "rows_quarantined": r.rows_quarantined,
                "rows_totals_removed": r.rows_totals_removed,
                "replaced_load_id": r.replaced_load_id,
                "ags": r.ags,
                "warnings": "\n".join(r.warnings) or None,
                "run_id": run_id,
                "loaded_at": now,
            }
        ],
        schema_overrides={
            "replaced_load_id": pl.String,
            "ags": pl.String,
            "warnings": pl.String,
            "run_id": pl.String,
        },
    )


def _log_result(r: LoadResult) -> None:
    log.info(
        "%s → raw.%s (%s): %d gelesen, %d geladen, %d in Quarantäne, %d Summenzeilen entfernt",
        r.file_name,
        r.source,
        r.period,
        r.rows_read,
        r.rows_loaded,
        r.rows_quarantined,
        r.rows_totals_removed,
    )
    if r.replaced_load_id:
        log.info(
            "%s ersetzt die frühere Ladung %s der Periode %s",
            r.load_id,
            r.replaced_load_id,
            r.period,
        )
    for w in r.warnings:
        log.warning("%s: %s", r.file_name, w)
