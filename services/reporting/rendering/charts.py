"""The report's charts, drawn once with reportlab's graphics: embedded in the PDF as vector drawings
and in the HTML page as server-side SVG (docs/decisions/0003-report-charts.md)."""

from __future__ import annotations

from typing import Any

from reportlab.graphics import renderSVG
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors

from services.reporting.rendering.fonts import CJK_FONT, register_fonts
from services.reporting.rendering.labels import labels, value

WIDTH, HEIGHT = 480, 220
CURRENT, PREVIOUS = colors.HexColor("#1f6fb2"), colors.HexColor("#b8c7d6")
RESOLVED = colors.HexColor("#2e9d5b")


def charts(report: dict[str, Any], lang: str) -> list[Drawing]:
    """Trend by day, by category, by floor: what a manager looks at first."""
    register_fonts()
    words, now, before = labels(lang), report["current"], report["previous"]
    return [
        trend(now["trend"], words),
        compared(now["by_category"], before["by_category"], words["chart_category"], words, lang),
        compared(now["by_floor"], before["by_floor"], words["chart_floor"], words, lang),
    ]


def svg(drawing: Drawing) -> str:
    """The drawing as an inline <svg> element (without the XML prologue), fonts falling back to sans-serif."""
    text = renderSVG.drawToString(drawing)
    text = text[text.index("<svg") :]
    return text.replace(
        f"font-family: {CJK_FONT}", f"font-family: {CJK_FONT}, 'Noto Sans CJK SC', sans-serif"
    )


def trend(days: list[dict[str, Any]], words: dict[str, str]) -> Drawing:
    drawing = _titled(words["chart_trend"])
    chart = HorizontalLineChart()
    _place(chart)
    chart.data = [[day["received"] for day in days] or [0], [day["resolved"] for day in days] or [0]]
    step = max(1, len(days) // 10)
    chart.categoryAxis.categoryNames = [
        day["day"][5:] if index % step == 0 else "" for index, day in enumerate(days)
    ]
    chart.lines[0].strokeColor, chart.lines[1].strokeColor = CURRENT, RESOLVED
    chart.lines[0].strokeWidth = chart.lines[1].strokeWidth = 2
    _axes(chart, max(max(row) for row in chart.data))
    drawing.add(chart)
    drawing.add(_legend([(CURRENT, words["received"]), (RESOLVED, words["resolved"])]))
    return drawing


def compared(now: list[dict], before: list[dict], title: str, words: dict[str, str], lang: str) -> Drawing:
    """This period's counts by key, the previous period's beside each bar."""
    drawing = _titled(title)
    chart = VerticalBarChart()
    _place(chart)
    previous = {item["key"]: item["count"] for item in before}
    shown = now[:12] or [{"key": words["none"], "count": 0}]
    chart.data = [[item["count"] for item in shown], [previous.get(item["key"], 0) for item in shown]]
    chart.categoryAxis.categoryNames = [value(item["key"], lang) for item in shown]
    chart.bars[0].fillColor, chart.bars[1].fillColor = CURRENT, PREVIOUS
    _axes(chart, max(max(row) for row in chart.data))
    drawing.add(chart)
    drawing.add(_legend([(CURRENT, words["current"]), (PREVIOUS, words["previous"])]))
    return drawing


def _titled(title: str) -> Drawing:
    drawing = Drawing(WIDTH, HEIGHT)
    drawing.add(String(10, HEIGHT - 16, title, fontName=CJK_FONT, fontSize=11))
    return drawing


def _place(chart) -> None:
    chart.x, chart.y, chart.width, chart.height = 40, 40, WIDTH - 60, HEIGHT - 80


def _axes(chart, highest: int) -> None:
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = max(highest, 1) * 1.15 + 1
    chart.valueAxis.valueStep = max(1, round(chart.valueAxis.valueMax / 5))
    chart.valueAxis.labels.fontName = chart.categoryAxis.labels.fontName = CJK_FONT
    chart.valueAxis.labels.fontSize = chart.categoryAxis.labels.fontSize = 7


def _legend(entries: list[tuple[Any, str]]) -> Legend:
    legend = Legend()
    legend.x, legend.y, legend.alignment = WIDTH - 170, HEIGHT - 12, "right"
    legend.columnMaximum, legend.fontName, legend.fontSize = 1, CJK_FONT, 8
    legend.colorNamePairs = entries
    legend.deltax = 80
    return legend
