"""The probe complaints a version is proved against: one for every way triage can go.

Each category (with the shop or the department it concerns, and a department's category about a
shop), each reason a complaint is major, one
the desk settles itself, one about a department manager, an anonymous note in the suggestion box,
a letter, an e-mail and a complaint made at the desk. They carry what intake's complaint.received
carries, with the mall's policy, so the proof starts cases exactly as intake's events do.
"""

from __future__ import annotations

import zlib
from datetime import datetime, timedelta
from typing import Any

from services.routing.engine.proof import Probe

SHOP = {
    "code": "PROOF-3F-001",
    "shop_name": "证明商户",
    "floor": "3F",
    "unit": "301",
    "person_in_charge": "证明",
    "phone": "13800000000",
}
CALLER = {
    "name": "证明顾客",
    "phone": "13900000000",
    "email": None,
    "address": None,
    "anonymous": False,
    "preferred_reply_channel": "phone",
    "language": "zh-CN",
    "contact_opt_out": False,
}
MERCHANT_CATEGORIES = ("quality", "price", "merchant_service")
DEPARTMENT_CATEGORIES = {
    "staff_service": "customer_service",
    "environment": "cleaning",
    "facility": "engineering",
    "fee": "parking",
    "emergency": "security",
}
MAJOR = {
    "injury": {"injury": True},
    "large_amount": {"amount": "99999.00"},
    "lawsuit": {"lawsuit": True},
    "media_exposure": {"media_exposure": True},
    "collective": {"people_count": 12},
}


# The probes as a Chinese designer reads them in the proof's problems.
CATEGORY_ZH = {
    "quality": "商品质量",
    "price": "价格",
    "merchant_service": "商户服务",
    "staff_service": "员工服务",
    "environment": "环境",
    "facility": "设施",
    "fee": "收费",
    "emergency": "突发事件",
}
MAJOR_ZH = {
    "injury": "人身伤害",
    "large_amount": "金额较大",
    "lawsuit": "诉讼",
    "media_exposure": "媒体曝光",
    "collective": "集体投诉",
}
OTHERS_ZH = {
    "handled at the desk": "服务台直接处理",
    "about a department manager": "投诉部门经理",
    "anonymous note in the suggestion box": "意见箱匿名投诉",
    "letter": "来信",
    "e-mail": "电子邮件",
    "at the service desk": "服务台当面投诉",
}


def probe_name_zh(name: str) -> str:
    """A probe's name in Chinese (its English name is its key in the proof's answer)."""
    if name.startswith("category "):
        category, _, rest = name[len("category ") :].partition(", ")
        return f"{CATEGORY_ZH.get(category, category)}（{'指明商户' if 'shop' in rest else '涉及部门'}）"
    if name.startswith("major: "):
        return f"重大投诉：{MAJOR_ZH.get(name[len('major: ') :], name)}"
    return OTHERS_ZH.get(name, name)


def probes(policy: dict[str, Any], now: datetime) -> tuple[Probe, ...]:
    """The probe complaints, received `now`, under the mall's `policy` (workflow data, with its zone)."""
    found = [
        _probe(
            f"category {category}, a shop named", now, policy, category=category, merchant=SHOP, floor="3F"
        )
        for category in MERCHANT_CATEGORIES
    ]
    found += [
        _probe(f"category {category}, a department", now, policy, category=category, department=department)
        for category, department in DEPARTMENT_CATEGORIES.items()
    ]
    # A department's category about a shop (litter in front of a store): triage sends it to the
    # floor supervisor as a merchant matter, a route no probe above takes.
    found.append(
        _probe(
            "category environment, a shop named",
            now,
            policy,
            category="environment",
            merchant=SHOP,
            floor="3F",
        )
    )
    found += [
        _probe(
            f"major: {reason}",
            now,
            policy,
            severity="major",
            major_reasons=[reason],
            merchant=SHOP,
            floor="3F",
            **changes,
        )
        for reason, changes in MAJOR.items()
    ]
    found += [
        _probe("handled at the desk", now, policy, category="environment", handle_directly=True),
        _probe(
            "about a department manager",
            now,
            policy,
            category="staff_service",
            department="cleaning",
            about_department_manager=True,
        ),
        _probe(
            "anonymous note in the suggestion box",
            now,
            policy,
            channel="suggestion_box",
            category="environment",
            department="cleaning",
            customer={**CALLER, "name": None, "phone": None, "anonymous": True},
        ),
        _probe(
            "letter",
            now,
            policy,
            channel="letter",
            category="facility",
            department="engineering",
            customer={**CALLER, "phone": None, "address": "证明路1号", "preferred_reply_channel": "letter"},
        ),
        _probe(
            "e-mail",
            now,
            policy,
            channel="email",
            category="price",
            merchant=SHOP,
            floor="3F",
            customer={**CALLER, "email": "proof@example.com", "preferred_reply_channel": "email"},
        ),
        _probe(
            "at the service desk",
            now,
            policy,
            channel="on_site",
            category="merchant_service",
            merchant=SHOP,
            floor="3F",
        ),
    ]
    return tuple(found)


def _probe(name: str, now: datetime, policy: dict[str, Any], **changes: Any) -> Probe:
    number = f"PROOF-{now:%Y%m%d}-{zlib.crc32(name.encode()) % 10000:04d}"
    complaint = {
        "id": f"proof-{name}",
        "number": number,
        "channel": "phone",
        "category": "merchant_service",
        "severity": "normal",
        "major_reasons": [],
        "status": "received",
        "customer": CALLER,
        "occurred_at": None,
        "received_at": now.isoformat(),
        "floor": None,
        "merchant": None,
        "department": None,
        "about_department_manager": False,
        "handle_directly": False,
        "description": "证明用的投诉",
        "customer_request": ["refund"],
        "amount": "100.00",
        "people_count": 1,
        "injury": False,
        "media_exposure": False,
        "lawsuit": False,
        "promised_reply_date": (now + timedelta(days=3)).date().isoformat(),
        **changes,
    }
    return Probe(name, {"complaint": complaint, "policy": policy})
