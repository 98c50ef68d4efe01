"""The one XLSX writer of the reports (controlling workbook, council annex, later workbooks):
cell formats by column kind, sheet set-up, tables.

Numbers are stored as numbers with a display format, never as text. Two ways to store them:
as they are (internal workbooks, for further calculation), or `printed` (published annexes:
rounded to the printed precision, so no published file holds more than the report shows).
"""

from __future__ import annotations

from decimal import Decimal

from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from reports.formatting import (
    COUNT,
    MONEY,
    NUMBER,
    PERCENT,
    RATIO,
    TEXT,
    TRAFFIC_LIGHTS,
    Column,
    format_cell,
    printed_value,
)

HEADER_ROW = 3  # rows 0–2: title, period/Stand, note
NUMBER_FORMATS = {
    TEXT: "@",
    COUNT: "#,##0",
    MONEY: '#,##0.00 "€"',
    PERCENT: "0.0 %",
    RATIO: "0.0 %",
    NUMBER: "#,##0.0",
}
LIGHT_COLOURS = {"grün": "#C6EFCE", "gelb": "#FFEB9C", "rot": "#FFC7CE"}


class Formats:
    """The cell formats of one workbook, by column kind."""

    def __init__(self, book: Workbook) -> None:
        self.title = book.add_format({"bold": True, "font_size": 14})
        self.subtitle = book.add_format({"italic": True})
        self.header = book.add_format(
            {"bold": True, "bg_color": "#D9E1F2", "border": 1, "text_wrap": True, "valign": "top"}
        )
        self.total_text = book.add_format({"bold": True, "top": 1})
        self.by_kind = {
            kind: book.add_format({} if kind == TEXT else {"num_format": fmt})
            for kind, fmt in NUMBER_FORMATS.items()
        }
        self.total_by_kind = {
            kind: book.add_format(
                {"bold": True, "top": 1} | ({} if kind == TEXT else {"num_format": fmt})
            )
            for kind, fmt in NUMBER_FORMATS.items()
        }
        # a text (a suppression mark, a dash) in a number column stands where the number would
        self.right = book.add_format({"align": "right"})
        self.lights = {
            label: book.add_format({"bg_color": colour}) for label, colour in LIGHT_COLOURS.items()
        }
        self.bad = book.add_format({"bg_color": "#FFC7CE"})


def excel_number(value: object, kind: str, *, printed: bool = False) -> float | int | None:
    """The number xlsxwriter stores: percent values (0–100) become fractions for '0.0 %';
    `printed`: first rounded to the printed precision."""
    if value is None:
        return None
    if printed:
        value = printed_value(value, kind)
    if kind == PERCENT:
        return float(Decimal(str(value)) / 100)
    if isinstance(value, Decimal):
        return float(value)
    return value  # type: ignore[return-value]


def write_cell(
    ws: Worksheet,
    row: int,
    col: int,
    value: object,
    kind: str,
    fmts: Formats,
    total: bool = False,
    *,
    printed: bool = False,
) -> None:
    fmt = (fmts.total_by_kind if total else fmts.by_kind)[kind]
    if value is None:
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        ws.write_string(row, col, "ja" if value else "nein", fmt)
    elif kind == TEXT:
        ws.write_string(row, col, TRAFFIC_LIGHTS.get(str(value), str(value)), fmt)
    elif isinstance(value, str):
        ws.write_string(row, col, format_cell(value, TEXT), fmts.right)
    else:
        ws.write_number(row, col, excel_number(value, kind, printed=printed), fmt)


def setup_sheet(ws: Worksheet, fmts: Formats, title: str, subtitle: str, note: str = "") -> None:
    """Title lines, print setup (A4 landscape, header with title and period)."""
    ws.write_string(0, 0, title, fmts.title)
    if subtitle:
        ws.write_string(1, 0, subtitle, fmts.subtitle)
    if note:
        ws.write_string(2, 0, note, fmts.subtitle)
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.7, bottom=0.6)
    ws.set_header(f"&L&B{escape_header(title)}&R{escape_header(subtitle)}")
    ws.set_footer("&CSeite &P von &N")


def escape_header(text: str) -> str:
    return text.replace("&", "&&")


def write_table(
    ws: Worksheet,
    fmts: Formats,
    columns: list[tuple[Column, int]],
    rows: list[list[object]],
    *,
    top: int = HEADER_ROW,
    row_kinds: list[list[str] | None] | None = None,
    total_rows: set[int] = frozenset(),
    light_col: int | None = None,
    filter_and_freeze: bool = True,
    freeze_cols: int = 0,
    printed: bool = False,
) -> int:
    """Write a header and rows at `top`; returns the index of the last data row."""
    for col, (column, width) in enumerate(columns):
        ws.write_string(top, col, column.label, fmts.header)
        ws.set_column(col, col, width)
    for index, cells in enumerate(rows):
        kinds = (row_kinds[index] if row_kinds else None) or [c.kind for c, _ in columns]
        for col, value in enumerate(cells):
            total = index in total_rows
            write_cell(ws, top + 1 + index, col, value, kinds[col], fmts, total, printed=printed)
    last = top + max(len(rows), 1)
    if filter_and_freeze:
        ws.freeze_panes(top + 1, freeze_cols)
        ws.autofilter(top, 0, last, len(columns) - 1)
        ws.repeat_rows(top)
    if light_col is not None and rows:
        for label, fmt in fmts.lights.items():
            ws.conditional_format(
                top + 1,
                light_col,
                last,
                light_col,
                {"type": "cell", "criteria": "equal to", "value": f'"{label}"', "format": fmt},
            )
    return last
