"""The Airflow UI as a user meets it, in headless Chromium against a real Airflow
(API server, scheduler, DAG processor: one stack for the module) with the sample
DAGs and a real influxd.

Runs on the Airflow of the test venv (3.3.2); Airflow 3.0 has no Test button.
On failure, a screenshot and the page's HTML are saved under the test's
temporary folder, and the path is printed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from airflow_stack import AirflowStack, start_airflow
from browser import click, replace_text, report_page, start_chromium, toasts, wait
from influxdb_write.regions import REGIONS
from influxdb_write.settings import EXTRA_BY_NAME, ConnectionSettings
from servers import InfluxDB1

DAGS = Path(__file__).parent.parent / "dags"
TOKEN = "ui-token-never-shown-5c1e"
MANUAL = "influxdb_manual_write"
BUCKET = "ui_manual"  # the sample DAG tests own the database "manual"
DIALOG = "//div[@role='dialog']"
FIELD_ROW = "./ancestor::div[@data-scope='field' and @data-part='root'][1]"


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory, influxd: InfluxDB1) -> Iterator[AirflowStack]:
    influxd.create(BUCKET)
    conn = {"conn_type": "influxdb_write", "host": influxd.url, "password": TOKEN, "extra": {"api": "v1"}}
    stack = start_airflow(
        tmp_path_factory.mktemp("airflow-ui"),
        DAGS,
        AIRFLOW_CONN_INFLUXDB_WRITE_DEFAULT=json.dumps(conn),
        AIRFLOW__CORE__PLUGINS_FOLDER=str(DAGS.parent / "plugins"),
    )
    try:
        stack.wait_for_dags({MANUAL})
        assert stack.api("PATCH", f"/dags/{MANUAL}", json={"is_paused": False}).ok
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    driver = start_chromium()
    yield driver
    driver.quit()


@pytest.fixture
def page(chromium: Any, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """The browser; if the test fails, the page it was on is saved."""
    yield chromium
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        print(report_page(chromium, tmp_path, "The UI test failed"))


def open_connection_form(page: Any, ui: AirflowStack) -> Any:
    page.get(f"{ui.url}/connections")
    click(page, "//button[contains(., 'Add Connection')]", "the Add Connection button")
    kind = wait("the type choice", lambda: page.find_element(By.XPATH, f"{DIALOG}//input[@role='combobox']"))
    kind.send_keys("InfluxDB (write)")
    kind.send_keys(Keys.ENTER)
    wait("the URL field", lambda: page.find_element(By.NAME, "host"))
    return page.find_element(By.XPATH, DIALOG)


def choose(page: Any, extra: str, label: str) -> None:
    box = page.find_element(By.XPATH, f"//input[@name='element_{extra}']/..//input[@role='combobox']")
    box.send_keys(label)
    box.send_keys(Keys.ENTER)


def test_connection_form_shows_the_fields_and_no_null(
    page: Any, ui: AirflowStack, influxd: InfluxDB1
) -> None:
    dialog = open_connection_form(page, ui)
    for label in ("URL (overrides region)", "Username (InfluxDB 1.x only)", "API token"):
        assert label in dialog.text
    assert page.find_element(By.NAME, "password").get_attribute("type") == "password"  # masked
    assert not page.find_elements(By.NAME, "port") and not page.find_elements(By.NAME, "schema")
    page.find_element(By.NAME, "connection_id").send_keys("ui_form")
    page.find_element(By.NAME, "host").send_keys(influxd.url)
    page.find_element(By.NAME, "password").send_keys(TOKEN)

    click(page, f"{DIALOG}//button[contains(., 'Extra Fields')]", "the Extra Fields section")
    labels = [extra.label for extra in EXTRA_BY_NAME.values()]

    def every_extra_shown() -> str:
        text: str = page.find_element(By.XPATH, DIALOG).text
        return text if all(label in text for label in labels) else ""

    text = wait(f"the extra fields {labels}", every_extra_shown)
    assert "my-org" in text and "my-bucket" in text  # the examples, in the descriptions
    assert not re.search(r"\bnull\b", text), text
    region = EXTRA_BY_NAME["region"].unset_label
    assert region in text  # what "no region" reads as

    # Region, precision and API are choice lists; the region's first choice is "none".
    click(page, "//input[@name='element_region']/..//input[@role='combobox']", "the region choice list")
    options = wait("the region choices", lambda: page.find_elements(By.XPATH, "//*[@role='option']"))
    assert [option.text for option in options] == [region, *REGIONS]
    options[0].click()  # keeps "none"; Escape would close the whole dialog
    for extra in ("precision", "api"):
        assert page.find_elements(By.XPATH, f"//input[@name='element_{extra}']/..//input[@role='combobox']")

    page.find_element(By.ID, "element_bucket").send_keys(BUCKET)
    choose(page, "api", "v1")
    click(page, f"{DIALOG}//button[contains(., 'Save')]", "Save")
    wait("the saved connection", lambda: ui.api("GET", "/connections/ui_form").ok)
    saved = ui.api("GET", "/connections/ui_form").json()
    assert saved["port"] is None and saved["password"] == "***"
    extra = json.loads(saved["extra"])
    # Airflow's API hides the value of every extra whose name holds a secret's word ("proxy").
    hidden = {name for name, value in extra.items() if value == "***"}
    assert hidden <= {"proxy_from_env"}, hidden
    settings = ConnectionSettings.from_parts(
        host=saved["host"],
        port=None,
        login=None,
        password=TOKEN,
        extra={name: value for name, value in extra.items() if name not in hidden},
    )
    assert (settings.url, settings.bucket, settings.api) == (influxd.url, BUCKET, "v1")


def answers(page: Any, expected: str) -> list[str]:
    """The Test answers on screen: ``expected``, or Airflow 3.3.2's own "Bad Request"."""
    return [text for text in toasts(page) if expected in text or "Bad Request" in text]


def shows(element: Any, text: str) -> bool:
    return text in element.text


def test_test_button_checks_a_saved_connection_without_a_port(
    page: Any, ui: AirflowStack, influxd: InfluxDB1
) -> None:
    for conn_id, bucket in (("ui_ok", BUCKET), ("ui_no_db", "nodb")):
        body = {
            "connection_id": conn_id,
            "conn_type": "influxdb_write",
            "host": influxd.url,
            "password": TOKEN,
            "extra": json.dumps({"bucket": bucket, "api": "v1"}),
        }
        assert ui.api("POST", "/connections", json=body).status_code == 201
    page.get(f"{ui.url}/connections")
    for conn_id, expected in (
        ("ui_ok", f"{influxd.url} accepts writes to '{BUCKET}' with this token (v1 API)"),
        ("ui_no_db", 'database not found: "nodb"'),
    ):
        click(
            page, f"//tr[contains(., '{conn_id}')]//button[@aria-label='Test Connection']", f"Test {conn_id}"
        )
        shown = wait(f"the answer to Test {conn_id}", partial(answers, page, expected))
        assert all(expected in text for text in shown), shown  # 3.3.2 without the fix: "Bad Request"
        assert TOKEN not in " ".join(shown)


@pytest.fixture(scope="module")
def typed_run(chromium: Any, ui: AirflowStack, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A run of the manual DAG triggered from its form, finished."""
    page = chromium
    try:
        page.get(f"{ui.url}/dags/{MANUAL}")
        click(page, "//button[normalize-space(.)='Trigger']", "the Trigger button")
        wait("the trigger form", lambda: page.find_element(By.ID, "element_value"))
        for field, value in (
            ("element_bucket", BUCKET),
            ("element_measurement", "ui reading"),
            ("element_site", "lab, room=2"),
            ("element_sensor", 'probe "A"'),
            ("element_field", "temp"),
            ("element_value", "21"),
            ("element_note", "typed in the UI"),
        ):
            replace_text(page, field, value)
        click(page, f"{DIALOG}//button[normalize-space(.)='Trigger']", "the form's Trigger button")
        url = wait("the new run's page", lambda: "/runs/" in page.current_url and page.current_url)
    except Exception:
        print(report_page(page, tmp_path_factory.mktemp("ui-trigger"), "Triggering from the form failed"))
        raise
    return ui.wait_for_run(MANUAL, url.rsplit("/runs/", 1)[1])


def test_trigger_form_writes_the_point(typed_run: dict[str, Any], influxd: InfluxDB1) -> None:
    assert typed_run["state"] == "success"
    rows = influxd.rows('SELECT * FROM "ui reading"', BUCKET)
    assert [(r["site"], r["sensor"], r["temp"], r["note"]) for r in rows] == [
        ("lab, room=2", 'probe "A"', 21.0, "typed in the UI")
    ]


def test_the_form_refuses_what_cannot_be_written_beside_the_field(page: Any, ui: AirflowStack) -> None:
    runs_before = ui.api("GET", f"/dags/{MANUAL}/dagRuns").json()["total_entries"]
    page.get(f"{ui.url}/dags/{MANUAL}")
    click(page, "//button[normalize-space(.)='Trigger']", "the Trigger button")
    for field, value, reason in (
        ("value", "[1, 2]", "Value must be one of: number, boolean"),
        ("value", '{"a": 1}', "Value must be one of: number, boolean"),
        ("site", "", "This field is required"),
    ):
        replace_text(page, f"element_{field}", value)
        row = page.find_element(By.ID, f"element_{field}").find_element(By.XPATH, FIELD_ROW)
        wait(f"the reason beside {field}", partial(shows, row, reason))
        button = page.find_element(By.XPATH, f"{DIALOG}//button[normalize-space(.)='Trigger']")
        assert not button.is_enabled()
        replace_text(page, f"element_{field}", {"value": "1", "site": "lab"}[field])
    assert ui.api("GET", f"/dags/{MANUAL}/dagRuns").json()["total_entries"] == runs_before


def task_log(ui: AirflowStack, run_id: str) -> list[dict[str, Any]]:
    answer = ui.api(
        "GET",
        f"/dags/{MANUAL}/dagRuns/{run_id}/taskInstances/write_point/logs/1",
        headers={"Accept": "application/x-ndjson"},
    )
    answer.raise_for_status()
    return [json.loads(line) for line in answer.text.splitlines() if line.strip()]


def test_task_log_shows_one_summary_and_no_token(
    page: Any, ui: AirflowStack, typed_run: dict[str, Any]
) -> None:
    run_id = typed_run["dag_run_id"]
    events = task_log(ui, run_id)
    summaries = [e["event"] for e in events if str(e.get("event", "")).startswith("Wrote ")]
    assert len(summaries) == 1 and summaries[0].startswith(f"Wrote 1 line to '{BUCKET}' in 1 batch"), (
        summaries
    )
    assert TOKEN not in json.dumps(events)

    page.get(f"{ui.url}/dags/{MANUAL}/runs/{run_id}/tasks/write_point")
    wait("the summary in the log", lambda: summaries[0] in page.find_element(By.TAG_NAME, "body").text)
    assert page.find_element(By.TAG_NAME, "body").text.count("Wrote ") == 1
    assert TOKEN not in page.page_source
    # InfluxDB 1.x has no UI with bucket pages: no "InfluxDB bucket" link in the Details tab.
    links = ui.api("GET", f"/dags/{MANUAL}/dagRuns/{run_id}/taskInstances/write_point/links").json()
    assert links["extra_links"] == {"InfluxDB bucket": None}, links
    page.get(f"{ui.url}/dags/{MANUAL}/runs/{run_id}/tasks/write_point/details")
    body = page.find_element(By.TAG_NAME, "body")
    wait("the Details tab", lambda: "Extra Links" in body.text and "Task ID" in body.text)
    assert "InfluxDB bucket" not in body.text


def measurements(influxd: InfluxDB1, db: str) -> list[str]:
    return [name for series in influxd.query("SHOW MEASUREMENTS", db) for (name,) in series["values"]]


def test_a_template_error_is_the_task_error_shown_first(
    page: Any, ui: AirflowStack, influxd: InfluxDB1
) -> None:
    conf = {"bucket": BUCKET, "measurement": "refused", "site": "ends in \\", "field": "v", "value": 1}
    answer = ui.api("POST", f"/dags/{MANUAL}/dagRuns", json={"logical_date": None, "conf": conf})
    assert answer.status_code == 200, answer.text
    run = ui.wait_for_run(MANUAL, answer.json()["dag_run_id"])
    assert run["state"] == "failed"
    reason = "line_protocol could not be rendered, so nothing was written"

    # Logged after Airflow's "Pre Execute" log group is closed, not inside it.
    events = task_log(ui, run["dag_run_id"])
    names = [e.get("event") for e in events]
    opened = names.index("::group::Pre Execute")
    closed = names.index("::endgroup::", opened)
    failed = next(i for i, event in enumerate(events) if reason in json.dumps(event))
    assert opened < closed < failed
    assert "ends with a backslash" in json.dumps(events[failed])

    page.get(f"{ui.url}/dags/{MANUAL}/runs/{run['dag_run_id']}/tasks/write_point")
    body = page.find_element(By.TAG_NAME, "body")
    wait("the reason, shown with every log group closed", lambda: reason in body.text)
    assert "ends with a backslash" in body.text
    assert "refused" not in measurements(influxd, BUCKET)
