"""Reference data in the controller's tool: the dbt seeds as one workbook (`Stammdaten.xlsx`).

`export_workbook` writes one sheet per seed CSV (typed cells, German display formats, bold and
frozen header). `import_workbook` validates every sheet and only then rewrites the seed CSVs.
Column types come from `dbt_project.yml` (seeds' `column_types`), the rules not_null, unique and
accepted_values from `dbt/seeds/_seeds.yml`: the dbt project stays the one statement of both.
Numeric cells may also be German text (`1.234,5`); dates may be `TT.MM.JJJJ` text.

A rewritten seed keeps its file's line ends and the columns it quotes throughout, so an
unchanged workbook gives byte-identical seeds and a changed cell changes one line.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import openpyxl
import yaml
from openpyxl.styles import Font

DBT_PROJECT = "kim"
TEXT_FORMAT = "@"  # keeps IDs such as 08999000 or 31.30.01 text in Excel
DATE_FORMAT = "DD.MM.YYYY"
GERMAN_NUMBER = re.compile(r"^-?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$")  # 1.234,5 / 1234,5 / 1.234
PLAIN_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")  # 12.50
DECIMAL_TYPE = re.compile(r"^decimal\(\s*\d+\s*,\s*(\d+)\s*\)$")
TRUE_TEXT = {"true", "wahr", "ja"}
FALSE_TEXT = {"false", "falsch", "nein"}


class WorkbookError(ValueError):
    """The workbook cannot become seeds; one German line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # dbt column type, e.g. varchar, integer, date, boolean, double, decimal(8,2)
    not_null: bool = False
    unique: bool = False
    accepted: tuple[str, ...] | None = None


@dataclass(frozen=True)
class CsvStyle:
    """How a seed file is written: line end and the columns it quotes in every row."""

    newline: str = "\n"
    quoted: frozenset[str] = frozenset()


def seed_columns(seeds_dir: Path, project_file: Path) -> dict[str, list[Column]]:
    """Per seed (file order of its header): name, dbt type and the rules from `_seeds.yml`."""
    configs = yaml.safe_load(project_file.read_text(encoding="utf-8"))["seeds"][DBT_PROJECT]
    rules = _seed_rules(seeds_dir / "_seeds.yml")
    result = {}
    for path in sorted(seeds_dir.glob("*.csv")):
        types = (configs.get(path.stem) or {}).get("+column_types") or {}
        header = _read_csv(path)[0]
        result[path.stem] = [
            Column(
                name, _plain_type(types.get(name, "varchar")), **rules.get((path.stem, name), {})
            )
            for name in header
        ]
    return result


def _plain_type(dbt_type: object) -> str:
    """The seed's dbt type in lower case; `double precision` (the spelling DuckDB and PostgreSQL
    share, docs/postgres.md) as `double`."""
    kind = str(dbt_type).lower()
    return "double" if kind == "double precision" else kind


def _seed_rules(path: Path) -> dict[tuple[str, str], dict]:
    rules: dict[tuple[str, str], dict] = {}
    for seed in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("seeds", []):
        for column in seed.get("columns", []):
            found: dict = {}
            for test in column.get("data_tests", []):
                if test in ("not_null", "unique"):
                    found[test] = True
                elif isinstance(test, dict) and "accepted_values" in test:
                    values = test["accepted_values"].get("arguments", test["accepted_values"])
                    found["accepted"] = tuple(str(v) for v in values["values"])
            rules[(seed["name"], column["name"])] = found
    return rules


def _read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


# --- Export -----------------------------------------------------------------------------------


def export_workbook(seeds_dir: Path, project_file: Path, out: Path) -> list[str]:
    """Write every seed as a sheet of `out`; returns the sheet names."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for seed, columns in seed_columns(seeds_dir, project_file).items():
        ws = wb.create_sheet(seed)
        ws.append([c.name for c in columns])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in _read_csv(seeds_dir / f"{seed}.csv")[1:]:
            ws.append([_cell_value(text, c) for text, c in zip(row, columns, strict=True)])
        for i, column in enumerate(columns, start=1):
            letter = openpyxl.utils.get_column_letter(i)
            for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                cell.number_format = _display_format(column.type)
            longest = max(len(str(c.value or "")) for (c,) in ws.iter_rows(min_col=i, max_col=i))
            ws.column_dimensions[letter].width = min(60, max(10, longest + 2))
        ws.freeze_panes = "A2"
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return wb.sheetnames


def _cell_value(text: str, column: Column) -> object:
    """The seed text as a typed cell value (the seeds hold dbt's plain formats)."""
    if text == "":
        return None
    kind = column.type
    if kind == "integer":
        return int(text)
    if kind == "boolean":
        return text.lower() == "true"
    if kind == "date":
        return dt.date.fromisoformat(text)
    if kind == "double" or DECIMAL_TYPE.match(kind):
        return Decimal(text)
    return text


def _display_format(kind: str) -> str:
    scale = DECIMAL_TYPE.match(kind)
    if scale:
        return "#,##0." + "0" * int(scale.group(1)) if int(scale.group(1)) else "#,##0"
    return {"integer": "0", "date": DATE_FORMAT, "double": "General", "boolean": "General"}.get(
        kind, TEXT_FORMAT
    )


# --- Import -----------------------------------------------------------------------------------


def import_workbook(path: Path, seeds_dir: Path, project_file: Path) -> dict[str, int]:
    """Validate every sheet, then rewrite the seed CSVs; returns rows per seed.

    Nothing is written if any cell is wrong: WorkbookError lists each problem with sheet, row,
    column and value.
    """
    schema = seed_columns(seeds_dir, project_file)
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    problems: list[str] = []
    tables: dict[str, list[list[str]]] = {}
    missing = [seed for seed in schema if seed not in wb.sheetnames]
    problems += [f"Blatt '{seed}' fehlt (eine Tabelle je Blatt)." for seed in missing]
    problems += [
        f"Blatt '{name}' ist keine Referenztabelle (erlaubt: {', '.join(schema)})."
        for name in wb.sheetnames
        if name not in schema
    ]
    for seed, columns in schema.items():
        if seed in wb.sheetnames:
            tables[seed] = _read_sheet(wb[seed], seed, columns, problems)
    wb.close()
    if problems:
        raise WorkbookError(problems)
    for seed, rows in tables.items():
        target = seeds_dir / f"{seed}.csv"
        text = _format_csv([[c.name for c in schema[seed]], *rows], _read_style(target))
        target.write_bytes(text.encode("utf-8"))
    return {seed: len(rows) for seed, rows in tables.items()}


def _read_sheet(ws, seed: str, columns: list[Column], problems: list[str]) -> list[list[str]]:
    rows = list(ws.iter_rows(values_only=True))
    header = [("" if v is None else str(v).strip()) for v in (rows[0] if rows else ())]
    while header and header[-1] == "":
        header.pop()
    expected = [c.name for c in columns]
    if header != expected:
        problems.append(
            f"Blatt '{seed}', Zeile 1: Spalten {header} statt {expected} "
            "(Reihenfolge und Namen wie exportiert)."
        )
        return []
    result = []
    seen: dict[str, dict[str, int]] = {c.name: {} for c in columns if c.unique}
    for number, values in enumerate(rows[1:], start=2):
        if any(not _empty(v) for v in values[len(columns) :]):
            problems.append(
                f"Blatt '{seed}', Zeile {number}: Werte rechts der letzten Spalte "
                f"'{columns[-1].name}' (neue Spalten nur zusammen mit der Entwicklung)."
            )
        values = tuple(values[: len(columns)]) + (None,) * (len(columns) - len(values))
        if all(_empty(v) for v in values):
            continue  # empty lines (e.g. below the table) carry nothing
        row = []
        for column, value in zip(columns, values, strict=True):
            where = f"Blatt '{seed}', Zeile {number}, Spalte '{column.name}'"
            try:
                text = _seed_text(value, column)
            except ValueError as exc:
                problems.append(f"{where}: Wert '{value}' {exc}.")
                text = ""
            else:
                problems += _rule_problems(where, text, number, column, seen)
            row.append(text)
        result.append(row)
    return result


def _rule_problems(
    where: str, text: str, number: int, column: Column, seen: dict[str, dict[str, int]]
) -> list[str]:
    if text == "":
        return [f"{where}: Wert fehlt (Pflichtfeld)."] if column.not_null else []
    found = []
    if column.accepted is not None and text not in column.accepted:
        found.append(
            f"{where}: Wert '{text}' nicht erlaubt (erlaubt: {', '.join(column.accepted)})."
        )
    if column.unique:
        if text in seen[column.name]:
            found.append(
                f"{where}: Wert '{text}' doppelt (schon in Zeile {seen[column.name][text]})."
            )
        seen[column.name].setdefault(text, number)
    return found


def _empty(value: object) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _seed_text(value: object, column: Column) -> str:
    """A cell as the seed's text; ValueError names what the value is not."""
    if _empty(value):
        return ""
    kind = column.type
    if kind == "integer":
        number = _number(value, "ist keine ganze Zahl")
        if number != number.to_integral_value():
            raise ValueError("ist keine ganze Zahl")
        return str(int(number))
    scale = DECIMAL_TYPE.match(kind)
    if scale:
        places = int(scale.group(1))
        number = _number(value, "ist keine Zahl")
        quantum = Decimal(1).scaleb(-places)
        if number != number.quantize(quantum):
            raise ValueError(f"hat mehr als {places} Nachkommastellen")
        return str(number.quantize(quantum))
    if kind == "double":
        number = _number(value, "ist keine Zahl")
        return format(number.normalize(), "f")
    if kind == "date":
        return _date(value).isoformat()
    if kind == "boolean":
        return _boolean(value)
    return _text(value)


def _number(value: object, problem: str) -> Decimal:
    if isinstance(value, bool):
        raise ValueError(problem)
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))  # shortest text of the float: 0.85, not 0.84999...
    text = str(value).strip().replace("\u00a0", "").replace(" ", "")
    if GERMAN_NUMBER.match(text):
        return Decimal(text.replace(".", "").replace(",", "."))
    if PLAIN_NUMBER.match(text):
        return Decimal(text)
    raise ValueError(problem)


def _date(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        if value.time() != dt.time():
            raise ValueError("ist kein Datum (Uhrzeit angegeben)")
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    for pattern in ("%d.%m.%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            pass
    raise ValueError("ist kein Datum (TT.MM.JJJJ)")


def _boolean(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value).strip().lower()
    if text in TRUE_TEXT | FALSE_TEXT:
        return "true" if text in TRUE_TEXT else "false"
    raise ValueError("ist kein Wahrheitswert (WAHR/FALSCH)")


def _text(value: object) -> str:
    if isinstance(value, bool):
        raise ValueError("ist ein Wahrheitswert, erwartet Text")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # an ID Excel turned into a number
    if isinstance(value, dt.datetime | dt.date):
        raise ValueError("ist ein Datum, erwartet Text (Zellformat Text)")
    return str(value).strip()


# --- Byte-stable CSV --------------------------------------------------------------------------


def _read_style(path: Path) -> CsvStyle:
    """Line end and always-quoted columns of the current seed file (defaults if new)."""
    if not path.exists():
        return CsvStyle()
    raw = path.read_bytes().decode("utf-8")
    newline = "\r\n" if "\r\n" in raw else "\n"
    lines = [line for line in raw.split(newline) if line]
    header = next(csv.reader([lines[0]]))
    quoted_always = [True] * len(header)
    for line in lines[1:]:
        for i, (value, was_quoted) in enumerate(_fields_with_quotes(line)):
            if i < len(header) and value != "" and not was_quoted:
                quoted_always[i] = False
    return CsvStyle(newline, frozenset(h for h, q in zip(header, quoted_always, strict=True) if q))


def _fields_with_quotes(line: str) -> list[tuple[str, bool]]:
    """The fields of one CSV line with whether each was written in quotes."""
    values = next(csv.reader([line]))
    result, pos = [], 0
    for value in values:
        quoted = line.startswith('"', pos)
        pos += len(value.replace('"', '""')) + 2 if quoted else len(value)
        pos += 1  # the comma
        result.append((value, quoted))
    return result


def _format_csv(rows: list[list[str]], style: CsvStyle) -> str:
    header = rows[0]
    out = io.StringIO()
    for row in rows:
        fields = [
            _quote(v, force=row is not header and name in style.quoted)
            for v, name in zip(row, header, strict=True)
        ]
        out.write(",".join(fields) + style.newline)
    return out.getvalue()


def _quote(value: str, *, force: bool) -> str:
    if force and value != "" or any(ch in value for ch in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value
