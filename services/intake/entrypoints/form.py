"""The customer-facing complaint form: one page that posts to /public/complaints."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, render_template, request

from services.common import i18n as vocabulary

blueprint = Blueprint("form", __name__, template_folder="templates")

# The form's words are the catalogue's `web_form` entries (services/common/i18n); what a category
# covers, after its name, is its `hint.<category>` entry.
HINT = "hint."


def with_terms(language: str) -> dict:
    """The form's words with the mall's one vocabulary's names of the categories and requests."""
    words = vocabulary.terms("web_form", language)
    text = {key: word for key, word in words.items() if not key.startswith(HINT)}
    hints = {key.removeprefix(HINT): word for key, word in words.items() if key.startswith(HINT)}
    brackets = "（{}）" if language == "zh-CN" else " ({})"
    categories = {
        code: name + (brackets.format(hints[code]) if code in hints else "")
        for code, name in vocabulary.terms("category", language).items()
    }
    return {**text, "categories": categories, "requests": vocabulary.terms("request", language)}


def kept_for(retention: timedelta, text: dict) -> str:
    """How long personal data is kept (POLICY_RETENTION_DAYS), as the notice says it: "2 年（730 天）"
    for whole years, "400 天" otherwise."""
    days = retention.days
    if days and days % 365 == 0:
        return text["year" if days == 365 else "years"].format(years=days // 365, days=days)
    return text["days"].format(days=days)


@blueprint.get("/form")
def complaint_form():
    """The public web form, in Chinese unless ?lang=en, with its notice of what is collected and why."""
    language = "en" if request.args.get("lang") == "en" else "zh-CN"
    text = with_terms(language)
    period = kept_for(current_app.extensions["mall.settings"].policy.retention, text)
    return render_template(
        "form.html",
        t=text,
        lang=language,
        other="zh-CN" if language == "en" else "en",
        kept=text["notice_how_long"].format(period=period),
    )
