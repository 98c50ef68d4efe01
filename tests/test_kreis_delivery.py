"""A district's deliveries (issue 15): each municipality's persons and course lists in its inbox
folder `<AGS>/` or with its AGS in the file name, loads keyed by (source, period, AGS), the
delivery state of a month in `kim status` and the sensor, the sample per municipality, and the
district's reference data beside the warehouse (never in the installed dbt project).

The district is Musterkreis (ingest/generator/kreis.py): 08997001 Musterhausen with the social
spaces KS01–KS04, 08997002 Adelfingen with KS05, ... 08997012 Neustadt am Berg with KS15.
"""

from __future__ import annotations

import csv
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from dagster import build_sensor_context

from dagster_project.automation import complete_months, inbox_sensor, waiting_text
from dagster_project.dbt_manifest import prepare_deployment
from dagster_project.resources import KimPaths
from dagster_project.status import delivery_text
from expectations.gates import run_raw_gate
from ingest.contracts import PERSONEN
from ingest.delivery import delivering_municipalities, files_to_load
from ingest.errors import FileRejected
from ingest.generator.kreis import SEED_FOLDER, generate_kreis, write_seeds
from ingest.inbox import InboxFile, scan
from ingest.load import load_file
from ingest.pseudonymise import is_generated_sample
from ingest.warehouse import CURRENT_LOADS, connect
from kim_settings import DBT_PROJECT_DIR, dbt_project_dir, seeds_dir

KEY = b"test-key-for-the-district-delivery-0001"
MUSTERHAUSEN, ADELFINGEN = "08997001", "08997002"
HEADER = ";".join(PERSONEN.all_column_names)
# Stichtag;Person_ID;Fall_ID;Geburtsdatum;...;Sozialraum;Fallmanagement;Fallmanager_ID;Gemeinde
PERSON = (
    "31.01.2025;{id};F{id};01.01.1990;m;SYR;ERLAUBNIS;01.01.2024;01.06.2023;SGB2;;PRIVAT;;"
    "{space};N;;{ags}"
)


def persons(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    """A persons file of January 2025: rows of (Person_ID, Sozialraum, Gemeinde)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [HEADER] + [PERSON.format(id=i, space=s, ags=a) for i, s, a in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def district(tmp_path, monkeypatch):
    """A warehouse whose deployment is Musterkreis (its own seeds beside the warehouse), an
    empty inbox, and an open connection."""
    monkeypatch.delenv("KIM_MODE", raising=False)
    warehouse = tmp_path / "wh" / "kim.duckdb"
    monkeypatch.setenv("KIM_WAREHOUSE", str(warehouse))
    prepare_deployment(write_seeds(tmp_path / SEED_FOLDER), warehouse)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    with connect(warehouse) as con:
        yield inbox, con


def gemeinde_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return dict(con.sql("select gemeinde, count(*) from raw.personen group by 1").fetchall())


# --- The inbox ---------------------------------------------------------------------------------


def test_scan_reads_municipality_folders_and_ags_in_names(tmp_path):
    (tmp_path / MUSTERHAUSEN).mkdir()
    (tmp_path / MUSTERHAUSEN / "personen_2025-01.csv").write_text("a\n", encoding="utf-8")
    (tmp_path / f"personen_{ADELFINGEN}_2025-01.csv").write_text("b\n", encoding="utf-8")
    (tmp_path / "fibu_ist_2025-01.csv").write_text("c\n", encoding="utf-8")
    # Not deliveries: the reference data folder, a folder that is no AGS, a district file with
    # an AGS in its name (no source has that name form).
    (tmp_path / "stammdaten").mkdir()
    (tmp_path / "stammdaten" / "personen_2025-01.csv").write_text("x\n", encoding="utf-8")
    (tmp_path / "2025").mkdir()
    (tmp_path / "2025" / "personen_2025-01.csv").write_text("x\n", encoding="utf-8")
    (tmp_path / f"fibu_ist_{ADELFINGEN}_2025-01.csv").write_text("x\n", encoding="utf-8")
    found = [(f.kind, f.period, f.ags, f.name) for f in scan(tmp_path)]
    assert found == [
        ("personen", "2025-01", MUSTERHAUSEN, f"{MUSTERHAUSEN}/personen_2025-01.csv"),
        ("personen", "2025-01", ADELFINGEN, f"personen_{ADELFINGEN}_2025-01.csv"),
        ("fibu_ist", "2025-01", "", "fibu_ist_2025-01.csv"),
    ]


def test_folder_and_name_of_two_municipalities_is_rejected(district):
    inbox, con = district
    path = persons(inbox / MUSTERHAUSEN / f"personen_{ADELFINGEN}_2025-01.csv", [])
    with pytest.raises(FileRejected, match="verschiedene Gemeinden"):
        load_file(con, path, key=KEY, inbox=inbox)


# --- Loading -------------------------------------------------------------------------------------


def test_redelivery_replaces_only_that_municipalitys_rows(district):
    inbox, con = district
    a = persons(
        inbox / MUSTERHAUSEN / "personen_2025-01.csv", [("1", "KS01", ""), ("2", "KS02", "")]
    )
    b = persons(inbox / f"personen_{ADELFINGEN}_2025-01.csv", [("3", "KS05", ADELFINGEN)])
    load_file(con, a, key=KEY, inbox=inbox)
    [b_load] = load_file(con, b, key=KEY, inbox=inbox)
    # Musterhausen's empty Gemeinde is filled from its folder: 2 rows; Adelfingen 1 row.
    assert gemeinde_counts(con) == {MUSTERHAUSEN: 2, ADELFINGEN: 1}
    # Musterhausen delivers again, now 3 persons: its 2 rows are replaced by 3, Adelfingen's
    # row stays, from its own load.
    rows = [("1", "KS01", ""), ("4", "KS03", ""), ("5", "KS04", MUSTERHAUSEN)]
    [again] = load_file(con, persons(a, rows), key=KEY, inbox=inbox)
    assert gemeinde_counts(con) == {MUSTERHAUSEN: 3, ADELFINGEN: 1}
    assert con.sql(
        f"select load_id from raw.personen where gemeinde = '{ADELFINGEN}'"
    ).fetchall() == [(b_load.load_id,)]
    assert again.ags == MUSTERHAUSEN and again.replaced_load_id is not None
    assert again.file_name == f"{MUSTERHAUSEN}/personen_2025-01.csv"
    # The current loads (status, run summary): each municipality's newest, 3 + 1 rows.
    current = f"select file_name, rows_loaded from ({CURRENT_LOADS}) order by file_name"
    assert con.execute(current).fetchall() == [
        (f"{MUSTERHAUSEN}/personen_2025-01.csv", 3),
        (f"personen_{ADELFINGEN}_2025-01.csv", 1),
    ]


def test_a_person_id_two_municipalities_deliver_blocks_the_month_and_names_both_files(district):
    """Each file on its own is clean (duplicate_key is judged within a file), so both load; the
    raw gate counts Person_ID over all of the month's rows and blocks the month, naming the two
    files and lines: which municipality is right is for the district to say."""
    inbox, con = district
    a = persons(
        inbox / MUSTERHAUSEN / "personen_2025-01.csv", [("1", "KS01", ""), ("2", "KS02", "")]
    )
    b = persons(inbox / f"personen_{ADELFINGEN}_2025-01.csv", [("1", "KS05", ADELFINGEN)])
    load_file(con, a, key=KEY, inbox=inbox)
    load_file(con, b, key=KEY, inbox=inbox)
    outcome = run_raw_gate(con, "2025-01", tables=["personen"])
    assert not outcome.passed
    assert [r.expectation for r in outcome.failed] == ["person_id_unique_in_month"]
    assert outcome.failed[0].unexpected_count == 2
    assert f"source_file={MUSTERHAUSEN}/personen_2025-01.csv, source_line=2" in (
        outcome.summary_text
    )
    assert f"source_file=personen_{ADELFINGEN}_2025-01.csv, source_line=2" in outcome.summary_text


def test_a_row_of_another_municipality_is_quarantined(district):
    inbox, con = district
    # Line 2 is Musterhausen's; line 3 names Adelfingen (its social space KS05 is Adelfingen's
    # too), but lies in Musterhausen's folder.
    path = persons(
        inbox / MUSTERHAUSEN / "personen_2025-01.csv",
        [("1", "KS01", ""), ("2", "KS05", ADELFINGEN)],
    )
    [result] = load_file(con, path, key=KEY, inbox=inbox)
    assert (result.rows_loaded, result.rows_quarantined) == (1, 1)
    assert con.sql("select file_name, line, rule, value from meta.quarantine").fetchall() == [
        (
            f"{MUSTERHAUSEN}/personen_2025-01.csv",
            3,
            "municipality_mismatch",
            f"Gemeinde {ADELFINGEN} in der Datei der Gemeinde {MUSTERHAUSEN}",
        )
    ]
    assert gemeinde_counts(con) == {MUSTERHAUSEN: 1}


def test_a_district_wide_file_still_loads_and_is_not_mixed_with_municipal_files(district):
    inbox, con = district
    whole = persons(
        inbox / "personen_2025-01.csv", [("1", "KS01", MUSTERHAUSEN), ("2", "KS05", ADELFINGEN)]
    )
    load_file(con, whole, key=KEY, inbox=inbox)
    assert gemeinde_counts(con) == {MUSTERHAUSEN: 1, ADELFINGEN: 1}
    own = persons(inbox / MUSTERHAUSEN / "personen_2025-01.csv", [("1", "KS01", "")])
    with pytest.raises(FileRejected, match="kreisweite Datei personen_2025-01.csv"):
        load_file(con, own, key=KEY, inbox=inbox)
    assert gemeinde_counts(con) == {MUSTERHAUSEN: 1, ADELFINGEN: 1}


# --- Delivery state: the run, the sensor, `kim status` ---------------------------------------

TWO = {"08000001": "Aheim", "08000002": "Bdorf"}


def inbox_file(kind: str, period: str, ags: str = "", ext: str = "csv") -> InboxFile:
    name = f"{kind}_{period}.{ext}"
    return InboxFile(kind, period, Path(ags or ".", name), "0" * 64, 1, ags, ags)


def district_files(month: str = "2025-01") -> list[InboxFile]:
    """The district's own files of the month and a district-wide course list."""
    return [
        inbox_file("asylblg_zahlungen", month),
        inbox_file("fibu_ist", month),
        inbox_file("haushaltsplan", month[:4]),
        inbox_file("kurse", month, ext="xlsx"),
    ]


def test_run_refuses_a_month_with_a_municipality_missing():
    files = [*district_files(), inbox_file("personen", "2025-01", "08000001")]
    with pytest.raises(FileRejected, match="Lieferung fehlt von 08000002 Bdorf"):
        files_to_load(files, ["2025-01"], TWO, "inbox")
    files.append(inbox_file("personen", "2025-01", "08000002"))
    chosen = files_to_load(files, ["2025-01"], TWO, "inbox")
    # Contract order, the municipalities' files by AGS.
    assert [f.name for f in chosen] == [
        "08000001/personen_2025-01.csv",
        "08000002/personen_2025-01.csv",
        "asylblg_zahlungen_2025-01.csv",
        "fibu_ist_2025-01.csv",
        "haushaltsplan_2025.csv",
        "kurse_2025-01.xlsx",
    ]
    files.append(inbox_file("personen", "2025-01"))  # and a district-wide one: which counts?
    with pytest.raises(FileRejected, match="kreisweite Datei personen_2025-01.csv und"):
        files_to_load(files, ["2025-01"], TWO, "inbox")


def test_sensor_waits_for_missing_municipalities_and_names_them(tmp_path, monkeypatch):
    inbox = tmp_path / "inbox"
    files = {
        "asylblg_zahlungen_2025-01.csv": "x",
        "fibu_ist_2025-01.csv": "x",
        "kurse_2025-01.xlsx": "x",
        f"{MUSTERHAUSEN}/personen_2025-01.csv": "x",
    }
    for name, text in files.items():
        (inbox / name).parent.mkdir(parents=True, exist_ok=True)
        (inbox / name).write_text(text, encoding="utf-8")
    warehouse = tmp_path / "w.duckdb"
    monkeypatch.setenv("KIM_WAREHOUSE", str(warehouse))
    monkeypatch.delenv("KIM_MODE", raising=False)
    prepare_deployment(write_seeds(tmp_path / SEED_FOLDER), warehouse)
    municipalities = delivering_municipalities()
    assert len(municipalities) == 12 and municipalities[ADELFINGEN] == "Adelfingen"
    assert complete_months(scan(inbox), municipalities) == []
    resources = {
        "kim_paths": KimPaths(
            inbox=str(inbox), warehouse=str(warehouse), output=str(tmp_path / "out")
        )
    }
    with build_sensor_context(resources=resources) as context:
        skip = inbox_sensor(context)
    # 11 of 12 municipalities lack their persons file; the first two are named with their names.
    assert not isinstance(skip, list)
    assert "2025-01: personen fehlt von 08997002 Adelfingen, 08997003 Bachheim" in skip.skip_message
    assert "08997012 Neustadt am Berg" in skip.skip_message
    assert MUSTERHAUSEN not in skip.skip_message
    waiting = waiting_text(scan(inbox), [], municipalities)
    assert waiting.count("089970") == 11


def test_status_shows_each_municipalitys_delivery():
    files = [
        inbox_file("personen", "2025-01", "08000001"),
        inbox_file("kurse", "2025-01", ext="xlsx"),
        inbox_file("asylblg_zahlungen", "2025-01"),
        inbox_file("haushaltsplan", "2025"),
    ]
    assert delivery_text(files, "2025-01", TWO).splitlines() == [
        "Lieferungen 2025-01 (2 Gemeinden):",
        "  Gemeinde        personen    kurse     ",
        "  08000001 Aheim  geliefert   kreisweit ",
        "  08000002 Bdorf  fehlt       kreisweit ",
        "  personen fehlt von 1 Gemeinde(n): 08000002 Bdorf",
        "  Kreis: asylblg_zahlungen_2025-01.csv geliefert; fibu_ist_2025-01 fehlt; "
        "haushaltsplan_2025.csv geliefert",
    ]


# --- The sample ----------------------------------------------------------------------------------


def test_musterkreis_sample_is_delivered_per_municipality(tmp_path):
    generate_kreis(tmp_path, months=1, persons=120, seed=5)
    folders = sorted(p.name for p in tmp_path.iterdir() if p.is_dir() and p.name != SEED_FOLDER)
    assert folders == [f"089970{n:02d}" for n in range(1, 13)]
    for ags in folders:
        assert sorted(p.name for p in (tmp_path / ags).iterdir()) == [
            "kurse_2023-11.xlsx",
            "personen_2023-11.csv",
        ]
        with (tmp_path / ags / "personen_2023-11.csv").open(encoding="cp1252") as f:
            rows = list(csv.DictReader(f, delimiter=";"))
        assert all(r["Gemeinde"] == ags for r in rows)
    top = sorted(p.name for p in tmp_path.iterdir() if p.is_file())
    assert top == [
        "_kim_sample.json",
        "asylblg_zahlungen_2023-11.csv",
        "fibu_ist_2023-11.csv",
        "haushaltsplan_2023.csv",
    ]
    # The demo key applies to the untouched sample only, its municipalities' files included.
    assert is_generated_sample(tmp_path)
    with (tmp_path / ADELFINGEN / "personen_2023-11.csv").open("a", encoding="cp1252") as f:
        f.write("\n")
    assert not is_generated_sample(tmp_path)


# --- Reference data beside the warehouse: one district run end to end -------------------------


def listing(root: Path) -> dict[str, tuple[int, str]]:
    """Every file under root: size and SHA-256."""
    return {
        str(p.relative_to(root)): (p.stat().st_size, hashlib.sha256(p.read_bytes()).hexdigest())
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def kim(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """The `kim` command in its own process (a district's warehouse brings its own dbt
    project, which a process loads once: dagster_project.definitions.project_for)."""
    command = [sys.executable, "-m", "dagster_project.cli", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, check=False)


def test_district_run_writes_nothing_into_the_dbt_project(tmp_path):
    inbox, warehouse, out = tmp_path / "inbox", tmp_path / "wh" / "kim.duckdb", tmp_path / "out"
    generate_kreis(inbox, months=1, persons=150, seed=11)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIM_")}
    env["DAGSTER_HOME"] = str(tmp_path / "dagster")
    before = listing(DBT_PROJECT_DIR)
    args = ["--inbox", str(inbox), "--warehouse", str(warehouse), "--out", str(out)]
    run = kim("run", "--all", *args, env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    assert listing(DBT_PROJECT_DIR) == before
    # The deployment's seeds lie beside the warehouse, and dbt loaded them.
    assert dbt_project_dir(warehouse) == warehouse.parent / "kim.duckdb.dbt" / "project"
    assert seeds_dir(warehouse) == dbt_project_dir(warehouse) / "seeds"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) from reference.municipalities").fetchall() == [(12,)]
        [(loaded,)] = con.execute("select count(*) from raw.personen").fetchall()
    # Every person of every municipality's file is loaded (the sample has no defects).
    municipalities = [p.name for p in inbox.iterdir() if p.is_dir() and p.name != SEED_FOLDER]
    expected = sum(
        len((inbox / ags / "personen_2023-11.csv").read_text("cp1252").splitlines()) - 1
        for ags in municipalities
    )
    assert len(municipalities) == 12 and loaded == expected
    # `kim status` names the month's deliveries; `kim stammdaten export` the district's seeds.
    status = kim("status", *args, env=env)
    assert status.returncode == 0, status.stderr
    assert "Lieferungen 2023-11 (12 Gemeinden):" in status.stdout
    assert "  08997002 Adelfingen" in status.stdout and "fehlt von" not in status.stdout
    workbook = tmp_path / "Stammdaten.xlsx"
    export = kim(
        "stammdaten", "export", "--out", str(workbook), "--warehouse", str(warehouse), env=env
    )
    assert export.returncode == 0, export.stderr
    import openpyxl

    sheet = openpyxl.load_workbook(workbook, read_only=True)["municipalities"]
    assert sum(1 for _ in sheet.iter_rows(min_row=2)) == 12


def test_deployment_seeds_are_copied_once_per_version_of_stammdaten(tmp_path):
    stammdaten = write_seeds(tmp_path / SEED_FOLDER)
    warehouse = tmp_path / "wh" / "kim.duckdb"
    assert seeds_dir(warehouse) == DBT_PROJECT_DIR / "seeds"  # no deployment yet: the shipped
    project = prepare_deployment(stammdaten, warehouse)
    assert project == dbt_project_dir(warehouse) == tmp_path / "wh" / "kim.duckdb.dbt" / "project"
    assert (project / "models").resolve() == (DBT_PROJECT_DIR / "models").resolve()
    # An edit of the deployment's seeds (kim stammdaten import) survives the next run ...
    edited = seeds_dir(warehouse) / "municipalities.csv"
    edited.write_text("ags,name\n08997001,Musterhausen (geändert)\n", encoding="utf-8")
    assert prepare_deployment(stammdaten, warehouse) is None
    assert "geändert" in edited.read_text(encoding="utf-8")
    # ... until the inbox brings other reference data: then those are copied.
    (stammdaten / "labels.csv").write_text("domain,code,label\n", encoding="utf-8")
    assert prepare_deployment(stammdaten, warehouse) == project
    assert "geändert" not in edited.read_text(encoding="utf-8")
    assert (seeds_dir(warehouse) / "labels.csv").read_text(
        encoding="utf-8"
    ) == "domain,code,label\n"
