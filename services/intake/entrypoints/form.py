"""The customer-facing complaint form: one page that posts to /public/complaints."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, render_template, request

from services.common import i18n as vocabulary

blueprint = Blueprint("form", __name__, template_folder="templates")

TEXT = {
    "zh-CN": {
        "title": "顾客投诉",
        "intro": "请留下您的联系方式和遇到的问题，服务台会在约定日期前答复您。",
        "name": "姓名",
        "phone": "手机号码",
        "email": "电子邮箱（选填）",
        "category": "投诉类别",
        "floor": "楼层",
        "merchant": "商户（选填）",
        "occurred_at": "发生时间（选填）",
        "description": "发生了什么",
        "request": "您的诉求（可多选，选填）",
        "amount": "涉及金额（元，选填）",
        "photos": "照片（选填，可用手机直接拍照）",
        "files": "其他附件（选填：收据、信件扫描件 PDF、录音）",
        "uploaded": "附件已上传：",
        "upload_failed": "投诉已受理，但附件未保存：",
        "submit": "提交投诉",
        "sent": "已受理。您的投诉编号：",
        "promised": "我们将在此日期前答复您：",
        "status_link": "凭投诉编号和手机号码后四位查询处理进度",
        "error": "请检查以下内容：",
        "none": "—",
        # what a category covers, after its name (the names are the mall's vocabulary's)
        "category_hints": {
            "environment": "卫生、噪音、温度",
            "facility": "电梯、扶梯、洗手间、停车设备",
            "fee": "停车等",
            "emergency": "事故、失窃、受伤",
        },
        "switch": "English",
        "notice_title": "个人信息收集告知",
        "notice_what": "我们收集：您的姓名、手机号码、电子邮箱（如填写）、地址（如您提供）、您描述的事件经过以及您上传的照片和文件（如有；照片中的拍摄地点等信息在保存前删除）。",
        "notice_why": "用途：仅用于受理、处理和答复您的投诉，并在处理后电话回访您。",
        "notice_how_long": "保存期限：投诉结案后保存 {period}，期满后删除您的个人信息，只保留不含个人信息的统计数字。",
        "notice_rights": "您可随时到商场服务台（或致电服务台）申请获取我们保存的您的个人信息副本，或要求提前删除。",
        "consent": "我已阅读上述告知，同意商场为处理本次投诉收集和使用我的个人信息。",
        "year": "{years} 年（{days} 天）",
        "years": "{years} 年（{days} 天）",
        "days": "{days} 天",
    },
    "en": {
        "title": "Customer complaint",
        "intro": "Leave your contact details and what happened; the service "
        "desk will answer you by the promised date.",
        "name": "Name",
        "phone": "Mobile phone",
        "email": "Email (optional)",
        "category": "What it is about",
        "floor": "Floor",
        "merchant": "Shop (optional)",
        "occurred_at": "When it happened (optional)",
        "description": "What happened",
        "request": "What you ask for (any that apply, optional)",
        "amount": "Amount involved (CNY, optional)",
        "photos": "Photos (optional; take them with your phone's camera)",
        "files": "Other files (optional: a receipt, a scanned letter as PDF, a recording)",
        "uploaded": "Files attached:",
        "upload_failed": "Your complaint is received, but the files were not kept:",
        "submit": "Send complaint",
        "sent": "Received. Your complaint number:",
        "promised": "We will answer by:",
        "status_link": "Follow your complaint with its number and the last four digits of your phone",
        "error": "Please check:",
        "none": "—",
        "category_hints": {
            "environment": "cleanliness, noise, temperature",
            "facility": "lifts, escalators, toilets, parking",
            "fee": "parking etc.",
            "emergency": "accident, theft, injury",
        },
        "switch": "中文",
        "notice_title": "How we use your personal information",
        "notice_what": "What we collect: your name, mobile phone number, e-mail address (if given), address "
        "(if you give one), what happened, as you describe it, and any photos and files you attach (a photo's "
        "location and other details it carries are removed before it is kept).",
        "notice_why": "Why: only to accept, handle and answer your complaint, and to call you back afterwards.",
        "notice_how_long": "How long: {period} after your complaint is closed; then your personal information is "
        "erased and only figures without it are kept.",
        "notice_rights": "Ask the mall's service desk (in person or by phone) at any time for a copy of the "
        "personal information we hold about you, or to have it erased sooner.",
        "consent": "I have read this notice and agree that the mall collects and uses my personal information "
        "to handle this complaint.",
        "year": "{years} year ({days} days)",
        "years": "{years} years ({days} days)",
        "days": "{days} days",
    },
}


def with_terms(language: str) -> dict:
    """The form's words with the mall's one vocabulary's names of the categories and requests."""
    text = TEXT[language]
    hints = text["category_hints"]
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
