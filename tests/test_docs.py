"""The docs tell the truth: their code runs, their tables match the code.

Every Python block in the README and on the docs site either runs here (the
blocks of one page in order, in one namespace, as a reader would paste them) or
is marked ``<!-- fragment: why -->`` and at least compiles; the README's
example DAG runs in Airflow against a real influxd. The operator's argument
table lists exactly its arguments, with their defaults. (The connection table
is checked against ``settings.Extra`` in tests/test_settings.py; the sample
DAGs are included in the site from ``dags/`` by reference and tested in
tests/test_sample_dags.py; ``make docs`` builds the site with ``--strict``.)
"""

from __future__ import annotations

import ast
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_cli import airflow_home, output_of, run_dag, v1_connection
from servers import InfluxDB1

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"(?:<!-- fragment: (?P<why>.+?) -->\n)?```python\n(?P<code>.*?)```", re.DOTALL)
TOKEN = "docs-token-never-shown-5b8"


def python_blocks(page: Path) -> list[tuple[int, str, str | None]]:
    """(line, code, why it is a fragment or None) of each Python block that is not an include."""
    text = page.read_text(encoding="utf-8")
    found = []
    for match in BLOCK.finditer(text):
        if not match["code"].startswith("--8<--"):
            found.append((text[: match.start("code")].count("\n") + 1, match["code"], match["why"]))
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_python_block_runs_or_says_why_not(page: Path, tmp_path: Path) -> None:
    runnable = []
    for line, code, why in python_blocks(page):
        compile(code, f"{page.name}:{line}", "exec")
        if why is None:
            runnable.append(f"# {page.name}, line {line}\n{code}")
    if not runnable:
        return
    script = tmp_path / "blocks.py"
    script.write_text("\n".join(runnable))
    env = {"PYTHONPATH": str(ROOT / "plugins"), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    ran = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr[-3000:]


def test_the_readme_example_dag_writes_what_it_says(tmp_path: Path, influxd: InfluxDB1) -> None:
    ((_, code, why),) = python_blocks(ROOT / "README.md")
    assert why is None
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "readme_example.py").write_text(code.replace('bucket="energy"', 'bucket="readme_energy"'))
    influxd.query('DROP DATABASE "readme_energy"')
    influxd.create("readme_energy")
    env = airflow_home(tmp_path / "home", dags, v1_connection(influxd.url, TOKEN))
    run = run_dag(env, "readme_hourly_meters", "2025-01-01T04:00:00+00:00")
    assert run.returncode == 0, output_of(run)[-3000:]
    assert "Wrote 2 lines to 'readme_energy' in 1 batch" in output_of(run)
    rows = influxd.rows("SELECT * FROM meter", "readme_energy")
    # Records without a time get the run's data interval end (04:00 for this hourly run).
    assert sorted((r["meter"], r["kwh"], r["time"]) for r in rows) == [
        ("m-001", 0.245, 1735704000000000000),
        ("m-002", 0.997, 1735704000000000000),
    ]


def test_the_operator_argument_table_lists_its_arguments_and_defaults() -> None:
    from influxdb_write.operators import InfluxDBWriteOperator

    text = (ROOT / "docs" / "operator.md").read_text(encoding="utf-8")
    table = text[text.index("| argument | what | default |") :].split("\n\n")[0]
    documented: dict[str, str] = {}
    for row in table.splitlines()[2:]:
        names, _, default = (cell.strip() for cell in row.strip("|").rsplit("|", 2))
        for name in re.findall(r"`(\w+)`", names):
            documented[name] = default
    parameters = {
        name: parameter
        for name, parameter in inspect.signature(InfluxDBWriteOperator.__init__).parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
    }
    assert sorted(documented) == sorted(parameters)
    for name, default in documented.items():
        literal = re.fullmatch(r"`([^`]+)`", default)
        if literal:  # a default written as code must be the code's default
            value = parameters[name].default
            expected = (
                ast.literal_eval(literal[1]) if literal[1] not in ("influxdb_write_default",) else literal[1]
            )
            assert value == expected, (name, value, default)
        elif default == "none":  # nothing: None, or an empty sequence
            assert parameters[name].default in (None, (), []), name


def test_the_error_catalogue_names_every_public_error() -> None:
    import influxdb_write.client as client
    import influxdb_write.line_protocol as line_protocol
    from influxdb_write.input_errors import EmptyInputError, InvalidInputError
    from influxdb_write.operators import TemplateRenderError

    public = {name for module in (client, line_protocol) for name in module.__all__ if name.endswith("Error")}
    public |= {error.__name__ for error in (EmptyInputError, InvalidInputError, TemplateRenderError)}
    catalogue = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    assert sorted(name for name in public if f"`{name}" not in catalogue) == []
