"""Charts of the published report as inline SVG, byte-identical for identical input.

matplotlib writes random-looking ids and a creation date into SVG unless told otherwise: the
hash salt is fixed and the date left out.
"""

from __future__ import annotations

import io
import re
from datetime import date
from html import escape

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from reports.data import short_month_label  # noqa: E402

_RC = {
    "svg.hashsalt": "kim-haushalt",
    "svg.fonttype": "none",  # text stays text: smaller, searchable, readable by screen readers
    "font.family": "DejaVu Sans",
    "font.size": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def trend_svg(
    months: list[date],
    values: list[float | None],
    *,
    title: str,
    target: float | None = None,
    band: tuple[float | None, float | None] | None = None,
    unit: str = "",
) -> str:
    """A line chart of monthly values (None = not published) as an inline <svg> element."""

    def draw(ax, xs: list[int]) -> None:
        ys = [float("nan") if v is None else float(v) for v in values]
        ax.plot(xs, ys, marker="o", markersize=3, color="#1f4e79", label="Wert")
        if band is not None and band[0] is not None and band[1] is not None:
            ax.axhspan(band[0], band[1], color="#c6efce", alpha=0.6, label="Zielband")
        if target is not None:
            ax.axhline(target, color="#c00000", linestyle="--", linewidth=1, label="Ziel")

    return _month_chart(months, draw, title=title, unit=unit, height=2.2)


FAN_COLOURS = ("#1f4e79", "#7f7f7f", "#c55a11", "#548235", "#7030a0")


def fan_svg(
    months: list[date], series: dict[str, list[float]], *, title: str, unit: str = ""
) -> str:
    """One line per scenario over the same months (the outlook's fan) as an inline <svg>."""

    def draw(ax, xs: list[int]) -> None:
        for index, (name, values) in enumerate(series.items()):
            colour = FAN_COLOURS[index % len(FAN_COLOURS)]
            ax.plot(xs, [float(v) for v in values], color=colour, label=name)

    return _month_chart(months, draw, title=title, unit=unit, height=2.4)


def _month_chart(months: list[date], draw, *, title: str, unit: str, height: float) -> str:
    """A chart over `months` (`draw(ax, xs)` plots the lines) as an inline <svg> element: month
    ticks, unit, grid, legend; SVG without a date, so the same data give the same bytes."""
    with plt.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(6.4, height))
        try:
            xs = list(range(len(months)))
            draw(ax, xs)
            ax.set_xticks(xs, [short_month_label(m) for m in months])
            ax.set_ylabel(unit)
            ax.grid(axis="y", color="#dddddd", linewidth=0.5)
            ax.legend(loc="best", frameon=False, fontsize=7)
            fig.tight_layout()
            buffer = io.StringIO()
            fig.savefig(buffer, format="svg", metadata={"Date": None})
        finally:
            plt.close(fig)
    return _inline(buffer.getvalue(), title)


def _inline(svg: str, title: str) -> str:
    """Drop the XML prolog, make the chart an accessible image with a title."""
    svg = svg[svg.index("<svg") :]
    label = escape(title, quote=True)
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)
    # width/height in pt from matplotlib; let CSS scale the chart to the column width
    svg = re.sub(r'(<svg[^>]*?) width="[^"]*" height="[^"]*"', r"\1", svg, count=1)
    head_end = svg.index(">") + 1
    return svg[:head_end] + f"<title>{escape(title)}</title>" + svg[head_end:]
