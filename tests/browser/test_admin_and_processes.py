"""The admin's users page, and the designer's modeler and version diff, in the browser."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import screenshot

PASSWORD = "demo-password-for-tests"  # what the person fixture logs in with


def test_the_admin_creates_a_floor_supervisor_with_a_floor_and_deactivating_it_ends_its_session(person, mall):
    admin = person("admin")
    assert admin.url.endswith("/console/admin/users")

    admin.fill("#create-user [name=username]", "floor5")
    admin.fill("#create-user [name=display_name]", "五楼楼管 吴刚")
    admin.fill("#create-user [name=password]", PASSWORD)
    admin.check("#create-user input[name=roles][value=floor_supervisor]")
    admin.click("#create-user button.primary")
    expect(admin.locator(".field-error[data-field=floors]")).to_have_count(
        1
    )  # a floor supervisor needs floors
    screenshot(admin, "50-admin-user-needs-a-floor")
    admin.check("#create-user input[name=floors][value='5F']")
    admin.fill("#create-user [name=password]", PASSWORD)  # a refused form never shows a password again
    admin.click("#create-user button.primary")
    row = admin.locator("#users tr[data-username=floor5]")
    assert "五层" in row.inner_text() and "楼层主管" in row.inner_text()  # the floor by its name
    screenshot(admin, "51-admin-user-created")

    floor5 = person("floor5")
    assert "五楼楼管 吴刚" in floor5.inner_text("#who") and "(五层)" in floor5.inner_text("#who")
    assert floor5.locator("#queue-empty").count() == 1

    row.locator("a").click()
    admin.click("#deactivate")
    expect(admin.locator("h1 small.error")).to_have_count(1)
    screenshot(admin, "52-admin-user-deactivated")
    floor5.goto(f"{mall}/console/queue")
    assert "/console/login" in floor5.url  # its session ended with the deactivation
    screenshot(floor5, "53-floor5-logged-out")


def _modeler(page, mall: str):
    page.goto(f"{mall}/console/processes/modeler")
    page.wait_for_selector("#modeler[data-ready=true]")


def _deploy(page, note: str) -> str:
    page.fill("#deploy-note", note)
    page.click("#deploy")
    page.wait_for_selector("#modeler-result[data-outcome]", timeout=120_000)
    return page.inner_text("#modeler-result")


def test_the_designer_deploys_a_changed_diagram_sees_a_refused_one_marked_and_compares_the_versions(
    person, mall
):
    designer = person("designer")
    assert designer.url.endswith("/console/processes")

    _modeler(designer, mall)
    designer.evaluate("""() => {
        const element = window.modeler.get('elementRegistry').get('handle_floor');
        window.modeler.get('modeling').updateLabel(element, '楼层主管跟进商户投诉');
    }""")
    assert "2" in _deploy(designer, "楼层任务改名")
    screenshot(designer, "54-designer-deployed")

    _modeler(designer, mall)
    designer.evaluate("""() => {
        const element = window.modeler.get('elementRegistry').get('resolved_floor');
        window.modeler.get('modeling').updateProperties(element, { script: 'import os' });
    }""")
    refused = _deploy(designer, "不安全的脚本")
    assert (
        "resolved_floor" in refused and designer.get_attribute("#modeler-result", "data-outcome") == "refused"
    )
    marked = designer.locator(".djs-element.problem[data-element-id=resolved_floor]")
    assert marked.count() == 1 and "import" in designer.inner_text(
        ".problem-note[data-element=resolved_floor]"
    )
    screenshot(designer, "55-designer-refused-diagram")

    designer.goto(f"{mall}/console/processes")
    assert designer.locator("#versions tbody tr").count() == 2  # the refused one was not kept
    designer.select_option("#diff-form select[name=old]", "1")
    designer.select_option("#diff-form select[name=new]", "2")
    designer.click("#diff-form button")
    changed = designer.locator("#element-diff tr.diff-changed[data-element=handle_floor]")
    # renamed on the canvas: its Chinese name, the one the designer saw, changed
    assert changed.count() == 1 and "楼层主管跟进商户投诉" in changed.inner_text()
    assert "楼层主管跟进商户投诉" in designer.text_content("#text-diff")
    screenshot(designer, "56-designer-version-diff")
