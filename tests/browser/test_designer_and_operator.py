"""The designer's modeler, versions and rollback, the operator's incidents, migration and timers, and a
case diagram one can read: in Chromium, as each of them works, with no error in the browser's console."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from playwright.sync_api import expect

from tests.browser.conftest import reload_until, screenshot
from tests.conftest import bearer

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = (ROOT / "bpmn" / "complaint.bpmn").read_text(encoding="utf-8")
TRIAGE = (ROOT / "bpmn" / "triage.dmn").read_text(encoding="utf-8")
# A Chinese page shows no ISO timestamp (2026-11-22T10:00:00) and no raw role code.
ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
ROLE_CODES = re.compile(
    r"\b(service_desk|floor_supervisor|department_manager|operations_manager|store_manager)\b"
)


def watch(page) -> list[str]:
    """The errors the page's console and scripts report from now on."""
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def reads_chinese(page) -> None:
    text = page.inner_text("main")
    assert not ISO_MOMENT.search(text), ISO_MOMENT.search(text)
    found = ROLE_CODES.search(text)
    assert not found, text[max(0, found.start() - 200) : found.end() + 100]


def camunda_modeler_file(tmp_path: Path) -> Path:
    """The complaint diagram as Camunda Modeler users often write it: every route out of "Which queue?"
    has a condition (operations included) and none is the default."""
    text = SHIPPED.replace(' default="Flow_route_gw_handle_ops"', "", 1)
    flow = re.search(r'<bpmn:sequenceFlow id="Flow_route_gw_handle_ops"[^>]*?(/>|>)', text)
    assert flow, "the shipped diagram has a flow from route_gw to handle_ops"
    opened = flow.group(0).removesuffix("/>").removesuffix(">") + ">"
    condition = '<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">queue == "operations_manager"'
    replacement = f"{opened}\n      {condition}</bpmn:conditionExpression>\n    "
    text = text.replace(
        flow.group(0), replacement + ("</bpmn:sequenceFlow>" if flow.group(1) == "/>" else ""), 1
    )
    path = tmp_path / "complaint-camunda.bpmn"
    path.write_text(text, encoding="utf-8")
    return path


def _condition(page, flow: str, expression: str) -> None:
    """Select the flow on the canvas and write its condition in the properties panel."""
    page.evaluate(
        "(id) => window.modeler.get('selection').select(window.modeler.get('elementRegistry').get(id))", flow
    )
    group = page.locator("[data-group-id=group-CamundaPlatform__Condition]")
    if not group.locator("#bio-properties-panel-conditionExpression").is_visible():
        group.locator(".bio-properties-panel-group-header").click()
    page.fill("#bio-properties-panel-conditionExpression", expression)
    page.wait_for_timeout(600)  # the panel writes after its debounce


def _modeler(person, mall: str):
    """The designer on the modeler, ready, and the page errors it will meet."""
    designer = person("designer")
    errors = watch(designer)
    designer.goto(f"{mall}/console/processes/modeler")
    designer.wait_for_selector("#modeler[data-ready=true]")
    return designer, errors


def _outcome(page, button: str) -> str:
    page.evaluate("() => { delete document.getElementById('modeler-result').dataset.outcome; }")
    page.click(button)
    page.wait_for_selector("#modeler-result[data-outcome]", timeout=180_000)
    return page.get_attribute("#modeler-result", "data-outcome")


def test_a_designer_opens_a_camunda_modeler_file_breaks_a_route_sees_it_on_the_gateway_fixes_it_deploys_and_rolls_back(
    person, mall, tmp_path
):
    designer, errors = _modeler(person, mall)
    assert designer.locator(".bio-properties-panel").count() == 1
    designer.set_input_files("#open-file", str(camunda_modeler_file(tmp_path)))
    designer.wait_for_selector("#modeler-result.notice")
    assert "complaint-camunda.bpmn" in designer.inner_text("#modeler-result")
    # The checks run as the designer draws: no default out of "Which queue?" is a warning, a lane
    # that is not a queue an error; undone, it is gone.
    designer.wait_for_function("document.querySelector('.bjsl-button').textContent.includes('1 个提醒')")
    designer.evaluate("""() => window.modeler.get('modeling').updateLabel(
        window.modeler.get('elementRegistry').get('Lane_floor_supervisor'), 'floor')""")
    designer.wait_for_function("document.querySelector('.bjsl-button').textContent.includes('1 个错误')")
    designer.click("#undo")
    designer.wait_for_function("document.querySelector('.bjsl-button').textContent.includes('0 个错误')")
    # A notice naming the department to tell, sent to someone other than a department manager, is
    # refused on deploy: the modeler says so on the element as soon as notify_to changes
    designer.evaluate("""() => {
        const element = window.modeler.get('elementRegistry').get('note_who_asked');
        const [properties] = element.businessObject.extensionElements.values.filter((v) => v.$type === 'camunda:Properties');
        const [to] = properties.values.filter((p) => p.name === 'notify_to');
        window.modeler.get('modeling').updateModdleProperties(element, to, { value: 'service_desk' });
    }""")
    designer.wait_for_function("document.querySelector('.bjsl-button').textContent.includes('1 个错误')")
    said = designer.evaluate(
        "() => (window.modeler.get('linting')._issues['note_who_asked'] || []).map((i) => i.message)"
    )
    assert any("并不通知部门经理" in message for message in said), said
    designer.click("#undo")
    designer.wait_for_function("document.querySelector('.bjsl-button').textContent.includes('0 个错误')")
    # The "change element" menu offers no element routing refuses (a service task was chosen, then refused)
    designer.evaluate("""() => window.modeler.get('popupMenu').open(
        window.modeler.get('elementRegistry').get('handle_floor'), 'bpmn-replace', { x: 200, y: 200 })""")
    menu = designer.locator(".djs-popup")
    assert menu.locator("[data-id=replace-with-script-task]").count() == 1
    assert menu.locator("[data-id=replace-with-service-task]").count() == 0
    designer.keyboard.press("Escape")

    # A route left without a condition (as other modelers leave them) is refused naming the flow: the
    # canvas goes to the flow and the designer reads why (going to a flow threw, and the page hung)
    _condition(
        designer, "Flow_route_gw_handle_floor", "queue == “floor_supervisor”"
    )  # typed with Chinese quotes
    designer.wait_for_function("document.querySelector('.bjsl-button').textContent.includes('1 个错误')")
    _condition(designer, "Flow_route_gw_handle_floor", "")
    designer.wait_for_function("document.querySelector('.bjsl-button').textContent.includes('1 个错误')")
    said = designer.evaluate(
        "() => (window.modeler.get('linting')._issues['Flow_route_gw_handle_floor'] || []).map((i) => i.message)"
    )
    assert any("既无条件也不是默认流" in message for message in said), said
    assert _outcome(designer, "#dry-run") == "refused"
    assert "既没有条件" in designer.inner_text("#modeler-result.error")

    _condition(designer, "Flow_route_gw_handle_floor", 'queue == "floor"')
    assert not designer.is_disabled("#undo")
    assert _outcome(designer, "#dry-run") == "failed"
    gateway = designer.locator(".djs-element.problem[data-element-id=route_gw]")
    assert gateway.count() == 1
    note = designer.inner_text(".problem-note[data-element=route_gw]")
    assert "route_gw" in note and "探测投诉" in note
    assert re.search(r"覆盖 \d+/\d+ 个元素", designer.inner_text("#modeler-result"))
    assert designer.locator(".djs-element.unreached[data-element-id=handle_floor]").count() == 1
    screenshot(designer, "60-designer-dry-run-marks-the-gateway")

    _condition(designer, "Flow_route_gw_handle_floor", 'queue == "floor_supervisor"')
    designer.fill("#deploy-note", "每条分派路线写明条件")
    assert _outcome(designer, "#deploy") == "deployed"
    assert "第 2 版" in designer.inner_text("#modeler-result")
    assert "第 2 版" in designer.inner_text("h1")  # the heading names the version now being edited
    assert designer.locator(".djs-element.problem").count() == 0
    screenshot(designer, "61-designer-deployed-with-coverage")

    designer.goto(f"{mall}/console/processes")
    assert designer.locator("#versions tr[data-version='2'] .status.active").count() == 1
    row = designer.locator("#versions tr[data-version='1']")
    row.locator("input[name=reason]").fill("新版分派路线待复核，先回到第 1 版")
    row.locator("form.activate button").click()
    expect(designer.locator("#versions tr[data-version='1'] .status.active")).to_have_count(1)
    assert "新版分派路线待复核" in designer.inner_text("#activations-complaint")
    reads_chinese(designer)
    screenshot(designer, "62-designer-activated-version-1-again")

    designer.goto(f"{mall}/console/processes/diff?old=1&new=2")
    designer.wait_for_selector("#diff-new[data-ready=true]")
    assert designer.locator("#diff-new .djs-element.diff-changed[data-element-id=route_gw]").count() == 1
    assert (
        designer.locator(
            "#diff-old .djs-element.diff-changed[data-element-id=Flow_route_gw_handle_ops]"
        ).count()
        == 1
    )
    screenshot(designer, "63-designer-visual-diff")
    assert errors == []


def _deploy(mall: str, tokens, bpmn: str, note: str) -> int:
    answer = httpx.post(
        f"{mall}/routing/processes",
        json={"bpmn": bpmn, "dmn": {"triage.dmn": TRIAGE}, "bpmn_name": "complaint.bpmn", "note": note},
        headers=bearer(tokens, "process_designer", subject="designer"),
        timeout=180,
    )
    assert answer.status_code == 201, answer.text
    return answer.json()["version"]


def _with_open_case(script_head: str) -> str:
    changed = SHIPPED.replace(
        '<bpmn:script>last_resolver = ""', f'<bpmn:script>{script_head}last_resolver = ""', 1
    )
    assert changed != SHIPPED
    return changed


def test_an_operations_manager_sees_an_incident_moves_it_to_a_fixed_version_and_retries_it_to_its_next_task(
    person, mall, tokens, desk_api
):
    # A script that fails only for data no probe carries: the version deploys, a real case then breaks.
    _deploy(
        mall,
        tokens,
        _with_open_case('if "蓄意故障" in (complaint.get("description") or ""):\n    x = hash("x")\n'),
        "立案脚本改动",
    )
    broken = desk_api(description="店员态度恶劣，蓄意故障")
    fixed = _deploy(mall, tokens, _with_open_case("# 已修正\n"), "修正立案脚本")

    ops = person("ops")
    errors = watch(ops)
    reload_until(ops, f"{mall}/console/incidents", f"#incidents tr[data-case='{broken['id']}']")
    assert ops.get_attribute(f"#incidents tr[data-case='{broken['id']}']", "data-element") == "open_case"
    row = ops.inner_text(f"#incidents tr[data-case='{broken['id']}']")
    assert "立案" in row  # the step by its Chinese name
    ops.wait_for_selector("#diagram[data-ready=true]")
    assert ops.locator(".djs-element.case-incident[data-element-id=open_case]").count() == 1
    reads_chinese(ops)
    screenshot(ops, "64-ops-incident-lit")
    # the case page says it stopped, in words, and leads the repairer to the incidents page
    ops.goto(f"{mall}/console/cases/{broken['id']}")
    assert "流程故障已停止" in ops.inner_text("#case-stopped")
    assert "流程在此环节出错" in ops.inner_text("#timeline tr[data-kind=incident]")
    assert "Exception" not in ops.inner_text(
        "#timeline tr[data-kind=incident]"
    )  # folded: 错误详情（技术信息）
    reads_chinese(ops)
    ops.click("#repair-link")
    ops.wait_for_selector(f"#incidents tr[data-case='{broken['id']}']")

    ops.select_option("#migrate-form select[name=to_version]", str(fixed))
    ops.fill("#migrate-form input[name=reason]", "第 3 版已修正立案脚本")
    ops.click("#migrate-retry")
    expect(ops.locator("#no-incidents")).to_have_count(1)
    assert "已重试" in ops.inner_text("main")
    screenshot(ops, "65-ops-incident-moved-and-retried")

    ops.goto(f"{mall}/console/cases/{broken['id']}")
    assert "楼层主管处理商户投诉" in ops.inner_text("#open-tasks")
    assert ops.locator("#timeline tr[data-kind=case_migrated]").count() == 1
    assert errors == []

    admin = person("admin")
    admin_errors = watch(admin)
    admin.goto(f"{mall}/console/cases/{broken['id']}")
    admin.wait_for_selector("#diagram[data-ready=true]")
    assert (
        admin.locator("#facts-hidden").count() == 1
    )  # the case, without the complaint intake keeps from admins
    screenshot(admin, "66-admin-case-page")
    assert admin_errors == []


def _label_sizes(page) -> dict:
    """The rendered height of the diagram's visible labels: font size times the SVG's scale on screen."""
    return page.evaluate("""() => {
        const box = document.getElementById('diagram').getBoundingClientRect();
        const sizes = [...document.querySelectorAll('#diagram .djs-element text')].filter(text => {
            const r = text.getBoundingClientRect();
            return text.textContent.trim() && r.width && r.right > box.left && r.left < box.right
                && r.bottom > box.top && r.top < box.bottom;
        }).map(text => { const m = text.getScreenCTM(); return parseFloat(getComputedStyle(text).fontSize) * Math.hypot(m.a, m.b); });
        return { count: sizes.length, smallest: Math.min(...sizes) };
    }""")


def test_an_operations_manager_reads_the_case_where_it_is_and_fires_its_timer_to_escalate_it(
    person, mall, desk_api
):
    case = desk_api()
    ops = person("ops")
    errors = watch(ops)
    url = f"{mall}/console/cases/{case['id']}"
    reload_until(ops, url, "#timer-list tr[data-element=handle_floor_timeout]")
    ops.wait_for_selector("#diagram[data-ready=true]")

    sizes = _label_sizes(ops)
    assert sizes["count"] > 5 and sizes["smallest"] >= 11, sizes
    task = ops.locator("#diagram .djs-element.case-current[data-element-id=handle_floor]")
    assert task.count() == 1 and task.is_visible()
    box, diagram = task.bounding_box(), ops.locator("#diagram").bounding_box()
    assert diagram["x"] <= box["x"] and box["x"] + box["width"] <= diagram["x"] + diagram["width"]
    labels = ops.inner_text("#diagram")
    assert "楼层主管处理商户投诉" in labels and "Handle" not in labels
    ops.click("[data-controls=diagram] [data-action=fit]")
    assert (
        ops.locator("#diagram .djs-element[data-element-id=Lane_floor_supervisor] text").text_content()
        == "楼层主管"
    )
    ops.click("[data-controls=diagram] [data-action=here]")
    reads_chinese(ops)
    screenshot(ops, "67-ops-case-diagram-where-it-is")

    row = ops.locator("#timer-list tr[data-element=handle_floor_timeout]")
    row.locator("form.fire input[name=reason]").fill("商户拒不配合，提前上报营运部")
    row.locator("form.fire button").click()
    assert "定时器已触发" in ops.inner_text("main")
    assert "营运部经理处理" in ops.inner_text("#open-tasks")
    assert ops.locator("#timeline tr[data-kind=timer_fired]").count() == 1
    assert ops.locator("#timeline tr[data-kind='complaint.escalated']").count() >= 1
    ops.wait_for_selector("#diagram[data-ready=true]")
    assert ops.locator("#diagram .djs-element.case-current[data-element-id=handle_ops]").count() == 1
    screenshot(ops, "68-ops-timer-fired-escalated")

    ops.set_viewport_size({"width": 390, "height": 844})
    ops.reload()
    ops.wait_for_selector("#diagram[data-ready=true]")
    screenshot(ops, "69-ops-case-page-390px")
    assert ops.evaluate("document.documentElement.scrollWidth") <= 400
    timer = ops.locator("#timer-list tbody tr").first  # a card on a phone, its forms folded away
    assert timer.locator("td[data-label]").first.is_visible()
    assert not timer.locator("form.fire").is_visible()
    timer.locator("details.timer-more > summary").click()
    assert timer.locator("form.fire input[name=reason]").is_visible()
    assert timer.bounding_box()["width"] <= 390
    screenshot(ops, "69b-ops-timer-card-390px")
    assert errors == []


def test_a_user_task_drawn_in_the_modeler_can_be_given_form_fields_at_once(person, mall):
    designer, errors = _modeler(person, mall)

    new_id = designer.evaluate("""() => {
        const registry = window.modeler.get('elementRegistry');
        const task = window.modeler.get('modeling').appendShape(
            registry.get('handle_floor'), { type: 'bpmn:UserTask' }, { x: 900, y: 1000 });
        window.modeler.get('selection').select(task);
        return task.id;
    }""")

    group = designer.locator("[data-group-id=group-CamundaPlatform__FormData]")
    expect(group).to_have_count(1)
    # a field just added reads 新字段 (the panel's own "<empty>" said nothing)
    group.locator(".bio-properties-panel-group-header").click()
    group.locator(".bio-properties-panel-add-entry").click()
    expect(group.locator(".bio-properties-panel-collapsible-entry-header-title").first).to_have_text("新字段")
    xml = designer.evaluate("async () => (await window.modeler.saveXML()).xml")
    assert re.search(
        rf'<bpmn:userTask id="{new_id}"[^>]*>\s*<bpmn:extensionElements>\s*<camunda:formData', xml
    )
    designer.click("#undo")  # the field
    designer.click("#undo")  # the task and its form go together
    gone = designer.evaluate("async () => (await window.modeler.saveXML()).xml")
    assert new_id not in gone
    # a task's fields are listed as staff read them, the id beside
    designer.evaluate(
        "() => window.modeler.get('selection').select(window.modeler.get('elementRegistry').get('merchant_call'))"
    )
    titles = group.locator(".bio-properties-panel-collapsible-entry-header-title")
    expect(titles.first).to_have_text("已致电商户负责人（called）")
    screenshot(designer, "62b-designer-form-fields-by-label")
    assert errors == []


def test_renaming_a_task_on_the_canvas_renames_the_chinese_name_the_designer_sees(person, mall):
    designer, errors = _modeler(person, mall)

    opened = designer.evaluate("""() => {
        const task = window.modeler.get('elementRegistry').get('handle_floor');
        window.modeler.get('directEditing').activate(task);
        const text = document.querySelector('.djs-direct-editing-content').innerText;
        window.modeler.get('directEditing').cancel();
        return text;
    }""")
    names = designer.evaluate("""() => {
        const task = window.modeler.get('elementRegistry').get('handle_floor');
        window.modeler.get('modeling').updateLabel(task, '楼层主管跟进投诉');
        const properties = task.businessObject.extensionElements.values.find(v => v.$type === 'camunda:Properties');
        return [task.businessObject.name, properties.values.find(p => p.name === 'name.zh-CN').value];
    }""")

    # the editor opens on the name on the canvas, not the drawn "Handle merchant complaint"
    assert opened == "楼层主管处理商户投诉"
    assert names == ["Handle merchant complaint", "楼层主管跟进投诉"]
    designer.click("#undo")  # one undo takes the rename back
    assert (
        designer.evaluate("""() => window.modeler.get('elementRegistry').get('handle_floor').businessObject
        .extensionElements.values.find(v => v.$type === 'camunda:Properties').values
        .find(p => p.name === 'name.zh-CN').value""")
        == "楼层主管处理商户投诉"
    )
    assert errors == []


def test_the_modeler_asks_for_a_wider_screen_on_a_phone_and_the_migration_page_counts_first(person, mall):
    ops = person("ops")
    errors = watch(ops)
    ops.goto(f"{mall}/console/processes/migrate")
    ops.select_option("select[name=from_version]", "1")
    ops.select_option("select[name=to_version]", "1")
    ops.fill("#migration-form input[name=reason]", "核对迁移数量")
    ops.click("#dry-run")
    assert ops.get_attribute("#migration-result", "data-dry-run") == "true"
    assert ops.inner_text("#count-moved") == "0"
    reads_chinese(ops)
    screenshot(ops, "70-ops-migration-dry-run")

    designer = person("designer")
    designer.set_viewport_size({"width": 390, "height": 844})
    designer.goto(f"{mall}/console/processes/modeler")
    assert designer.locator("#modeler-narrow").is_visible() and "更宽的屏幕" in designer.inner_text(
        "#modeler-narrow"
    )
    screenshot(designer, "71-designer-modeler-on-a-phone")
    assert errors == []
