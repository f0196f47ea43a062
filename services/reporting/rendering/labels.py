"""Words of the printed reports, in Chinese (the mall's language, the default) and English."""

from __future__ import annotations

from services.common import i18n as vocabulary

LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "week": "工作周报", "month": "月报", "previous": "上期", "current": "本期", "item": "项目",
        "summary": "概况", "received": "受理投诉", "resolved": "已解决", "closed": "已结案",
        "closed_no_answer": "其中：回访未联系上结案", "closed_no_contact": "其中：无法联系客户结案",
        "on_time_reply": "按时反馈率", "median_hours": "解决时长中位数（小时）",
        "p90_hours": "解决时长90分位（小时）", "escalations": "升级次数", "satisfaction": "回访满意率",
        "reopen_rate": "重开率", "by_category": "按类别", "by_channel": "按渠道", "by_floor": "按楼层",
        "by_merchant": "按商户", "by_department": "按部门", "by_request": "按顾客诉求",
        "by_level": "按升级层级",
        "top_merchants": "投诉最多的商户", "top_problems": "重复出现的问题", "trend": "每日趋势",
        "day": "日期", "count": "件数", "generated": "生成时间", "scope": "范围", "whole_mall": "全商场",
        "none": "无", "chart_trend": "每日受理与解决", "chart_category": "按类别（本期）",
        "chart_floor": "按楼层（本期）", "callbacks": "月度回访名单", "number": "编号",
        "customer": "顾客", "phone": "电话", "email": "邮箱", "status": "状态", "problem": "问题",
    },
    "en": {
        "week": "Weekly report", "month": "Monthly report", "previous": "Previous", "current": "This period",
        "item": "Item", "summary": "Summary", "received": "Complaints received", "resolved": "Resolved",
        "closed": "Closed", "closed_no_answer": "of which: callbacks unanswered",
        "closed_no_contact": "of which: no contact possible", "on_time_reply": "On-time reply rate", "median_hours": "Time to resolve, median (h)",
        "p90_hours": "Time to resolve, 90th percentile (h)", "escalations": "Escalations",
        "satisfaction": "Satisfied at callback", "reopen_rate": "Reopen rate", "by_category": "By category",
        "by_channel": "By channel", "by_floor": "By floor", "by_merchant": "By merchant",
        "by_department": "By department", "by_request": "By customer request",
        "by_level": "Escalations by level", "top_merchants": "Top merchants",
        "top_problems": "Recurring problems", "trend": "Trend by day", "day": "Day", "count": "Count",
        "generated": "Generated", "scope": "Scope", "whole_mall": "whole mall", "none": "none",
        "chart_trend": "Received and resolved by day", "chart_category": "By category (this period)",
        "chart_floor": "By floor (this period)", "callbacks": "Monthly callback list", "number": "Number",
        "customer": "Customer", "phone": "Phone", "email": "Email", "status": "Status", "problem": "Problem",
    },
}  # fmt: skip

# The terms in the report's cells (categories, channels, queues, requests, statuses): the mall's one
# vocabulary, in the order a code is looked for there.
KINDS = ("category", "channel", "role", "request", "status")


# How each language lists several things in one cell (退款、道歉; refund, apology).
LIST_SEPARATORS = {"zh": "、", "en": ", "}


def labels(lang: str) -> dict[str, str]:
    return LABELS.get(lang, LABELS["zh"])


def value(text: str | None, lang: str) -> str:
    """A category, channel, queue or customer request in words; anything unknown as it is."""
    if text is None:
        return "-"
    kind = next((kind for kind in KINDS if vocabulary.known(kind, text)), None)
    return vocabulary.term(kind, text, lang) if kind else text


def listed(codes: list[str], lang: str) -> str:
    """Several codes in words, in one cell (a complaint's requests); none is an empty cell."""
    return LIST_SEPARATORS.get(lang, LIST_SEPARATORS["zh"]).join(value(code, lang) for code in codes)
