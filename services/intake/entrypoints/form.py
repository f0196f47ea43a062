"""The customer-facing complaint form: one page that posts to /public/complaints."""

from __future__ import annotations

from flask import Blueprint, render_template, request

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
        "submit": "提交投诉",
        "sent": "已受理。您的投诉编号：",
        "promised": "我们将在此日期前答复您：",
        "error": "请检查以下内容：",
        "none": "—",
        "categories": {
            "quality": "商品质量/食品安全",
            "price": "价格",
            "merchant_service": "商户服务",
            "staff_service": "商场员工服务",
            "environment": "环境（卫生、噪音、温度）",
            "facility": "设施（电梯、扶梯、洗手间、停车设备）",
            "fee": "收费（停车等）",
            "emergency": "紧急情况（事故、失窃、受伤）",
        },
        "requests": {
            "refund": "退货退款",
            "exchange": "换货",
            "repair": "维修",
            "compensation": "赔偿",
            "apology": "道歉",
            "other": "其他",
        },
        "switch": "English",
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
        "submit": "Send complaint",
        "sent": "Received. Your complaint number:",
        "promised": "We will answer by:",
        "error": "Please check:",
        "none": "—",
        "categories": {
            "quality": "Goods quality / food safety",
            "price": "Price",
            "merchant_service": "Shop service",
            "staff_service": "Mall staff service",
            "environment": "Environment (cleanliness, noise, temperature)",
            "facility": "Facilities (lifts, escalators, toilets, parking)",
            "fee": "Fees (parking etc.)",
            "emergency": "Emergency (accident, theft, injury)",
        },
        "requests": {
            "refund": "Refund",
            "exchange": "Exchange",
            "repair": "Repair",
            "compensation": "Compensation",
            "apology": "Apology",
            "other": "Other",
        },
        "switch": "中文",
    },
}


@blueprint.get("/form")
def complaint_form():
    """The public web form, in Chinese unless ?lang=en."""
    language = "en" if request.args.get("lang") == "en" else "zh-CN"
    return render_template(
        "form.html", t=TEXT[language], lang=language, other="zh-CN" if language == "en" else "en"
    )
