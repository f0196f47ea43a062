"""The mall's one vocabulary: every output names a term as services/common/i18n's catalogue does.

The console's pages, reporting's cells, notify's messages and intake's public form each read the
catalogue; these tests fail as soon as any of them shows a term otherwise (or keeps a table of its
own), and hold the catalogue itself complete in both languages.
"""

from __future__ import annotations

import ast
import re
from datetime import date
from pathlib import Path

import pytest
from flask import Flask, session

from services.common import i18n as vocabulary
from services.console import i18n as console
from services.intake.entrypoints import form
from services.notify.domain import model, wording
from services.reporting.rendering import words as report_words

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = {"zh-CN": "zh", "en": "en"}  # the console's and notify's names, reporting's
EVERY_TERM = [
    (kind, code, language)
    for kind in vocabulary.KINDS
    for code in vocabulary.terms(kind)
    for language in LANGUAGES
]


def test_every_term_has_a_name_in_both_languages_and_no_two_codes_of_a_kind_share_one():
    for kind in vocabulary.KINDS:
        for language in LANGUAGES:
            names = vocabulary.terms(kind, language)
            assert set(names) == set(vocabulary.terms(kind)), (kind, language)
            shared = {name for name in names.values() if list(names.values()).count(name) > 1}
            # "open" and "running", "closed" and "completed": reporting's and routing's words for one state
            assert shared <= {"处理中", "已结案", "In progress", "Closed"}, (kind, language, shared)


@pytest.fixture
def in_console():
    app = Flask(__name__)
    app.secret_key = "test"

    def enter(language: str):
        context = app.test_request_context("/")
        context.push()
        session["lang"] = language
        return context

    contexts = []
    yield lambda language: contexts.append(enter(language))
    for context in reversed(contexts):
        context.pop()


@pytest.mark.parametrize(("kind", "code", "language"), EVERY_TERM)
def test_the_console_names_every_term_as_the_catalogue_does(in_console, kind, code, language):
    in_console(language)
    prefix = {value: key for key, value in console.TERMS.items()}.get(kind)
    if prefix is None:
        pytest.skip(f"the console has no {kind} of its own")
    assert console.label(prefix, code) == vocabulary.term(kind, code, language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_console_names_a_notice_as_notifys_messages_do_and_a_message_routing_hands_a_case_by_what_it_does(
    in_console, language
):
    in_console(language)
    for code, name in vocabulary.terms("notice", language).items():
        assert console.label("notice", code) == name
    assert not [key for key in console.catalogue(language) if key.startswith("inbox.kind.")]
    made_major = {"kind": "message_delivered", "detail": {"name": "made_major", "buffered": True}}
    other = {"kind": "message_delivered", "detail": {"name": "outside_route"}}
    assert (
        console.happening(made_major)
        == {"zh-CN": "重大投诉转店总处理", "en": "Now major: handed to the store manager"}[language]
    )
    assert console.happening(other) == console.label("kind", "message_delivered")


@pytest.mark.parametrize("kind", ["category", "channel", "role", "request"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_reporting_names_every_term_in_its_cells_as_the_catalogue_does(kind, language):
    for code, name in vocabulary.terms(kind, language).items():
        shown = report_words.value(code, LANGUAGES[language])
        # a code that is two kinds at once ("phone": a channel) is named by its first kind
        owner = next(each for each in report_words.KINDS if vocabulary.known(each, code))
        assert shown == vocabulary.term(owner, code, language)
        if owner == kind:
            assert shown == name


@pytest.mark.parametrize("language", LANGUAGES)
def test_notify_names_categories_and_roles_as_the_catalogue_does(language):
    for code, name in vocabulary.terms("role", language).items():
        assert wording.role_name(code, language) == name
    recipient = model.Recipient(model.Audience.CUSTOMER, model.Channel.SMS, "13912345678", "王女士", language)
    request = model.Request("r", "demo", "c", "acknowledgement", "service_desk", "TS-20261206-0001")
    for code, name in vocabulary.terms("category", language).items():
        facts = model.ComplaintFacts("c", "demo", "TS-20261206-0001", "phone", model.Contact(), category=code)
        values = wording.template_values(request, facts, recipient, "星河广场", date(2026, 12, 6), None)
        assert values["category"] == name


NOTIFY_KINDS = ("notice", "audience", "delivery_channel", "wording")


def test_notifys_words_are_in_the_catalogue_in_both_languages():
    for kind in NOTIFY_KINDS:
        assert vocabulary.terms(kind), kind
        assert set(vocabulary.terms(kind, "en")) == set(vocabulary.terms(kind, "zh-CN")), kind
    for kind in model.Kind:
        assert vocabulary.known("notice", kind), kind  # every kind notify itself knows has a name
    for language in LANGUAGES:
        for code, name in vocabulary.terms("notice", language).items():
            assert wording.kind_name(code, language) == name
    for channel in model.Channel:
        assert vocabulary.known("delivery_channel", channel), channel


def _words_in_code(path: Path) -> list[str]:
    """The string constants of a module that are words a person reads (Chinese, or an English month
    name), docstrings left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    months = re.compile(
        r"\b(January|February|March|April|June|July|August|September|October|November|December)\b"
    )
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and (re.search(r"[\u4e00-\u9fff]", node.value) or months.search(node.value))
    ]


def test_notify_keeps_no_words_of_its_own_in_code():
    """notify's old label table (domain/wording.py: month names, greetings, names of kinds) is gone: what a
    message says comes from the catalogue and the templates, so a word written into notify's code fails."""
    found = {
        str(path.relative_to(ROOT)): words
        for path in sorted((ROOT / "services/notify").rglob("*.py"))
        if (words := _words_in_code(path))
    }
    assert found == {}
    assert not [
        name
        for name, value in vars(wording).items()
        if isinstance(value, list | tuple | dict) and not name.startswith("__")
    ]


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_public_form_offers_categories_and_requests_by_the_catalogues_names(language):
    text = form.with_terms(language)
    assert list(text["categories"]) == list(vocabulary.terms("category"))
    for code, shown in text["categories"].items():
        name = vocabulary.term("category", code, language)
        assert shown == name or re.fullmatch(re.escape(name) + r"(（.+）| \(.+\))", shown), shown
    assert text["requests"] == vocabulary.terms("request", language)


def test_no_other_table_of_terms_is_left_to_drift():
    """The four old tables are gone: the console's catalogues hold no term, and neither do reporting,
    notify or the form."""
    for language in LANGUAGES:
        kept = [key for key in console.catalogue(language) if key.split(".")[0] in console.TERMS]
        assert not kept, f"the console's catalogue ({language}) names terms itself: {kept}"
    assert not (ROOT / "services/reporting/rendering/labels.py").exists()
    assert not chinese_literals(ROOT / "services/reporting"), "reporting writes words of its own"
    assert not hasattr(wording, "ROLE_NAMES") and not hasattr(wording, "CATEGORY_NAMES")


@pytest.mark.parametrize("package", ["services/intake", "services/console"])
def test_intake_and_the_console_keep_no_words_of_their_own_in_code(package):
    """The web form's, the status page's and the attachments' words were tables in intake's code; they are
    the catalogue's `web_form`, `status_page` and `attachment_refusal` entries now. A Chinese word written
    into intake's or the console's code (a table come back) fails; patterns that read others' Chinese
    (an auto-reply's subject, routing's refusals) and API descriptions are not words shown."""
    assert chinese_literals(ROOT / package) == []


# Data, not labels: the demo mall's floors, departments and shops (intake's reference data).
NOT_LABELS = {"services/intake/seed/demo_mall.json"}


def test_every_label_table_is_a_gettext_catalogue_of_the_one_locale_folder():
    """The console's words were a JSON table per language beside its code; they are the `console`
    domain of the catalogues now. No table of words in another format, or another folder, comes back."""
    locale = ROOT / "services/common/i18n/locale"
    tables = [
        str(path.relative_to(ROOT))
        for pattern in ("*.json", "*.yaml", "*.yml", "*.toml", "*.properties", "*.po", "*.pot", "*.mo")
        for path in (ROOT / "services").rglob(pattern)
        if locale not in path.parents and "node_modules" not in path.parts
    ]
    assert sorted(set(tables) - NOT_LABELS) == []
    for language in LANGUAGES:
        assert (
            console.catalogue(language)["nav.queue"]
            == vocabulary.catalogue("console", language)[(None, "nav.queue")]
        )


@pytest.mark.parametrize(
    ("english", "chinese"),
    [
        ("Missing data for required field.", "必填。"),
        ("required when outcome is ask_department", "处理结果为“请其他部门协助”时必填"),
        ("bad month: 2026-13 is not a month", "月份：2026-13 不是有效的月份"),
        ("no complaint 'TS-20991231-9999'", "找不到投诉 TS-20991231-9999"),
        ("give a status or at least one field", "请填写状态或至少一项内容"),
        ("the request has invalid fields: category, customer.phone", "请检查以下内容：投诉类别、顾客·电话"),
        ("a phone number is required for a letter complaint", "信函投诉须填写电话号码"),
        ("required to reply by sms", "以短信答复时必填"),  # a reply channel, not a complaint's
        # notify's delivery log: what a channel answered, why nothing was sent
        ("kept in .data/outbox/sms/0193.json (no server configured)", "未配置发送服务器：已保存为本机文件"),
        ("in the inbox of floor3", "已放入站内通知"),
        ("550 5.1.1 no such user (recipient)", "邮件服务器拒收此收件人（550）"),
        ("nobody holds floor_supervisor for 三层", "没有负责三层的楼层主管"),
        ("the group robot took the message", "群机器人已接收"),
    ],
)
def test_the_services_messages_read_in_chinese_with_fields_and_options_by_name(english, chinese):
    assert vocabulary.message(english, "zh-CN") == chinese
    assert vocabulary.message(english, "en") == english


def test_the_callers_language_is_the_first_of_ours_its_accept_language_header_names():
    assert vocabulary.negotiate("en-GB,en;q=0.9,zh;q=0.8") == "en"
    assert vocabulary.negotiate("fr, zh-CN;q=0.5, en;q=0.4") == "zh-CN"
    assert vocabulary.negotiate("zh-Hans-CN") == "zh-CN"
    assert vocabulary.negotiate("") == "zh-CN"


def test_intakes_search_indexes_each_request_by_its_chinese_name():
    """The search column is built in SQL (migration 0007's request_words), so the vocabulary is
    written there once more; it must say what the catalogue says, or a search for a request's name
    would miss the complaints asking for it."""
    migration = (ROOT / "services/intake/migrations/0007.search-and-related.sql").read_text(encoding="utf-8")
    body = migration.split("CREATE FUNCTION request_words", 1)[1].split("$$;", 1)[0]
    written = dict(re.findall(r"WHEN '(\w+)' THEN '([^']+)'", body))
    written["other"] = re.search(r"ELSE '([^']+)' END", body).group(1)
    assert written == vocabulary.terms("request", "zh-CN")


def chinese_literals(folder: Path) -> list[str]:
    """Chinese text in a package's string literals (docstrings, comments, the OpenAPI document's
    descriptions and regular expressions aside): a table of words the catalogue does not hold."""
    found = []
    for path in sorted(folder.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        nodes = ast.walk(tree)
        left_out = {
            id(node.body[0].value)
            for node in nodes
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg == "description":
                left_out |= {id(each) for each in ast.walk(node.value)}
            elif isinstance(node, ast.Dict):
                left_out |= {
                    id(each)
                    for key, value in zip(node.keys, node.values, strict=True)
                    if isinstance(key, ast.Constant) and key.value == "description"
                    for each in ast.walk(value)
                }
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "re"
            ):
                left_out |= {id(each) for argument in node.args for each in ast.walk(argument)}
        found += [
            f"{path.relative_to(ROOT)}:{node.lineno}: {node.value}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in left_out
            and re.search(r"[\u4e00-\u9fff]", node.value)
        ]
    return found


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_word_of_the_printed_reports_is_in_the_catalogue_in_both_languages(language):
    report = vocabulary.terms("report", language)
    assert set(report) == set(vocabulary.terms("report")) and all(report.values())
    assert report["by_floor"] == {"zh-CN": "按楼层", "en": "By floor"}[language]


def _fields(schema, prefix: str = "") -> set[str]:
    """Every field a schema reads, dotted as its errors name them (customer.phone)."""
    found = set()
    for name, item in schema().fields.items():
        found.add(prefix + name)
        if hasattr(item, "nested"):
            found |= _fields(item.nested, f"{prefix}{name}.")
    return found


def test_every_field_intake_may_refuse_is_named_in_words_in_both_languages():
    from services.intake.entrypoints import schemas

    refusable = set().union(
        *(
            _fields(schema)
            for schema in (schemas.ComplaintIn, schemas.PublicComplaintIn, schemas.CorrectionIn)
        )
    )
    for language in LANGUAGES:
        unnamed = {name for name in refusable if vocabulary.field_name(name, language) == name}
        assert not unnamed, (language, sorted(unnamed))
    for name in refusable:
        assert not re.search(r"[A-Za-z_]", vocabulary.field_name(name, "zh-CN")), name


def test_the_diagram_and_notices_name_the_store_manager_and_the_capa_menu_as_the_console_does():
    role = vocabulary.term("role", "store_manager")
    menu = console.catalogue("zh-CN")["nav.capa"]
    texts = [
        ROOT / "bpmn" / "complaint.bpmn",
        *sorted((ROOT / "services/notify/templates/zh-CN").glob("*.j2")),
    ]

    assert role == "店总"
    for path in texts:
        assert "店长" not in path.read_text(encoding="utf-8"), path
    capa = (ROOT / "services/notify/templates/zh-CN/capa_opened.j2").read_text(encoding="utf-8")
    assert f"「{menu}」" in capa and "报表页" not in capa
