"""Tiny hand-written inbox files and a fresh warehouse for the ingest tests."""

from __future__ import annotations

from pathlib import Path

import duckdb

from ingest.warehouse import ensure_schema

KEY = b"test-key-for-ingest-tests-0123456789"  # 36 bytes, only for tests

PERSON_HEADER = (
    "Stichtag;Person_ID;Fall_ID;Geburtsdatum;Geschlecht;Staatsangehoerigkeit;Aufenthaltsstatus;"
    "Status_seit;Zuzugsdatum;Rechtskreis;Leistungsform;Unterbringung;Unterkunft_ID;Sozialraum;"
    "Fallmanagement;Fallmanager_ID"
)
PERSON_DEFAULTS = {
    "Stichtag": "31.10.2026",
    "Person_ID": "P-000001",
    "Fall_ID": "F-000001",
    "Geburtsdatum": "15.03.1990",
    "Geschlecht": "m",
    "Staatsangehoerigkeit": "SYR",
    "Aufenthaltsstatus": "GESTATTUNG",
    "Status_seit": "01.02.2026",
    "Zuzugsdatum": "01.02.2026",
    "Rechtskreis": "ASYLBLG",
    "Leistungsform": "GRUND",
    "Unterbringung": "GU",
    "Unterkunft_ID": "GU-01",
    "Sozialraum": "SR01",
    "Fallmanagement": "J",
    "Fallmanager_ID": "FM-000007",
}


def person(**overrides: str) -> str:
    values = PERSON_DEFAULTS | overrides
    return ";".join(values[name] for name in PERSON_HEADER.split(";"))


def write(path: Path, lines: list[str], encoding: str = "utf-8", newline: str = "\n") -> Path:
    path.write_bytes(newline.join(lines).encode(encoding) + newline.encode())
    return path


def warehouse(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(tmp_path / "test.duckdb"))
    ensure_schema(con)
    return con


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()


FIBU_HEADER = "Periode;Produkt;Sachkonto;Kostenstelle;Betrag"
ZAHLUNG_HEADER = (
    "Buchungs_ID;Buchungsdatum;Leistung_von;Leistung_bis;Person_ID;Fall_ID;Leistungsart;Produkt;"
    "Sachkonto;Betrag;Storno_von;Sozialraum"
)


def zahlung(bid: str, datum: str, betrag: str, storno: str = "", person: str = "P-000001") -> str:
    return (
        f"{bid};{datum};01.10.2026;31.10.2026;{person};F-000001;GL3;31.30.01;4331;{betrag};"
        f"{storno};SR01"
    )


def snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    tables = rows(
        con,
        "select table_schema || '.' || table_name from information_schema.tables "
        "where table_schema in ('raw', 'meta') order by 1",
    )
    return {t: sorted(rows(con, f"select * from {t}"), key=repr) for (t,) in tables}


def quarantine(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return rows(con, "select line, rule, column_name, value from meta.quarantine order by line")
