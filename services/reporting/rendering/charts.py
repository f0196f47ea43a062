"""The report's charts, drawn once with reportlab's graphics: embedded in the PDF as vector drawings
and in the HTML page as server-side SVG (docs/decisions/0003-report-charts.md).

Each chart is drawn at the width of the PDF's text block (180 mm, A4 less its margins), so a printed
chart is set at its own size and its 9-point axis text reads as the tables' text does; the HTML page
scales the same drawing to its card (a viewBox, width 100 %). Comparisons are horizontal bars: a
category's or floor's name reads on one line at the left, however long (商品质量/食品安全).
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from reportlab.graphics import renderSVG
from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib import colors
from reportlab.lib.units import mm

from services.common.pdffonts import register_cjk_font
from services.reporting.rendering.sections import Section, sections
from services.reporting.rendering.words import word

WIDTH = 180 * mm  # the PDF's text block
TREND_HEIGHT = 70 * mm
TITLE_SIZE, TEXT_SIZE = 12, 9
BAR, GAP = 7, 5  # a bar's thickness and the space between two items, in points
CURRENT, PREVIOUS = colors.HexColor("#1f6fb2"), colors.HexColor("#b8c7d6")
RESOLVED = colors.HexColor("#2e9d5b")
SHOWN = 12  # items per comparison chart; the table below it lists every one


def charts(report: dict[str, Any], lang: str) -> list[Drawing]:
    """Trend by day, by category, by floor: what a manager looks at first."""
    font = register_cjk_font()
    found = {section.key: section for section in sections(report, lang)}
    return [
        trend(found["trend"], word("chart_trend", lang), font),
        compared(found["by_category"], word("chart_category", lang), font),
        compared(found["by_floor"], word("chart_floor", lang), font),
    ]


def svg(drawing: Drawing) -> str:
    """The drawing as an inline <svg> that fills its card at any width (without the XML prologue).

    reportlab names every drawing's clipping path `clip`: inline in one page, each chart's
    `url(#clip)` took the first chart's, and a taller chart lost its top (title, legend) to it. Each
    drawing's path gets an id of its own."""
    text = renderSVG.drawToString(drawing)
    text = text[text.index("<svg") :]
    head, rest = text.split(">", 1)
    head = re.sub(r'\s(width|height|viewBox|preserveAspectRatio)="[^"]*"', "", head)
    head += f' viewBox="0 0 {drawing.width:.0f} {drawing.height:.0f}" preserveAspectRatio="xMinYMin meet"'
    clip = f"chart-clip-{next(_CLIPS)}"
    rest = rest.replace('id="clip"', f'id="{clip}"').replace("url(#clip)", f"url(#{clip})")
    rest = rest.replace("<title>...</title>", "").replace("<desc>...</desc>", "")  # no "..." on hover
    return (head + ">" + rest).replace(
        "font-family: WenQuanYiZenHei", "font-family: 'WenQuanYi Zen Hei', 'Noto Sans CJK SC', sans-serif"
    )


_CLIPS = itertools.count(1)


def trend(section: Section, title: str, font: str) -> Drawing:
    """Received and resolved per day of the period."""
    drawing = _titled(title, TREND_HEIGHT, font)
    chart = HorizontalLineChart()
    chart.x, chart.y = 30, 24
    chart.width, chart.height = WIDTH - 40, TREND_HEIGHT - 60
    days = section.rows
    chart.data = [[row[1] for row in days] or [0], [row[2] for row in days] or [0]]
    step = max(1, len(days) // 10)
    chart.categoryAxis.categoryNames = [
        row[0] if index % step == 0 else "" for index, row in enumerate(days)
    ] or [""]
    chart.lines[0].strokeColor, chart.lines[1].strokeColor = CURRENT, RESOLVED
    chart.lines[0].strokeWidth = chart.lines[1].strokeWidth = 2
    # A dot on each day: a period of one day so far (a Monday's week) is one point, which a line
    # alone does not draw.
    for line, color in ((chart.lines[0], CURRENT), (chart.lines[1], RESOLVED)):
        line.symbol = makeMarker("FilledCircle", size=4, fillColor=color, strokeColor=color)
    _axes(chart, max(max(row) for row in chart.data), font)
    drawing.add(chart)
    drawing.add(_legend([(CURRENT, section.columns[1]), (RESOLVED, section.columns[2])], TREND_HEIGHT, font))
    return drawing


def compared(section: Section, title: str, font: str) -> Drawing:
    """This period's counts by item, the previous period's bar beside each (the first SHOWN items)."""
    rows = section.rows[:SHOWN] or [("", 0, 0)]
    plot = len(rows) * (2 * BAR + GAP) + GAP
    height = plot + 60
    drawing = _titled(title, height, font)
    chart = HorizontalBarChart()
    label_width = min(max(len(row[0]) for row in rows) * TEXT_SIZE + 12, WIDTH * 0.4)
    chart.x, chart.y, chart.width, chart.height = label_width, 22, WIDTH - label_width - 20, plot
    # reportlab draws the first category at the bottom: reversed, the largest is on top as in the table
    rows = list(reversed(rows))
    chart.data = [[row[1] or 0 for row in rows], [row[2] or 0 for row in rows]]
    chart.categoryAxis.categoryNames = [row[0] for row in rows]
    chart.barWidth, chart.groupSpacing, chart.barSpacing = BAR, GAP, 0
    chart.bars[0].fillColor, chart.bars[1].fillColor = CURRENT, PREVIOUS
    chart.bars.strokeColor = None
    _axes(chart, max(max(row) for row in chart.data), font)
    drawing.add(chart)
    drawing.add(_legend([(CURRENT, section.columns[1]), (PREVIOUS, section.columns[2])], height, font))
    return drawing


def _titled(title: str, height: float, font: str) -> Drawing:
    drawing = Drawing(WIDTH, height, initialFontName=font)  # no PDF page names a font it does not carry
    drawing.add(String(0, height - TITLE_SIZE - 2, title, fontName=font, fontSize=TITLE_SIZE))
    return drawing


def _axes(chart, highest: int, font: str) -> None:
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = max(highest, 1) * 1.15 + 1
    chart.valueAxis.valueStep = max(1, round(chart.valueAxis.valueMax / 5))
    for labels in (chart.valueAxis.labels, chart.categoryAxis.labels):
        labels.fontName, labels.fontSize = font, TEXT_SIZE
    chart.valueAxis.gridStrokeColor = colors.HexColor("#e3e8ee")
    chart.valueAxis.visibleGrid = True


def _legend(entries: list[tuple[Any, str]], height: float, font: str) -> Legend:
    legend = Legend()
    # Under the title, from the left: a phone scrolling a chart sideways still sees every entry.
    legend.x, legend.y, legend.alignment = 0, height - TITLE_SIZE - 12, "right"
    legend.columnMaximum, legend.fontName, legend.fontSize = 1, font, TEXT_SIZE
    legend.colorNamePairs = entries
    legend.deltax, legend.dx, legend.dy = 130, 10, 8
    return legend
