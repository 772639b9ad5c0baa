"""What the package ships: the wheel holds ``influxdb_write`` and its metadata and
nothing else, carries the licence and ``py.typed``, registers the provider, and
declares every third-party module the package imports."""

from __future__ import annotations

import ast
import configparser
import email
import importlib.metadata
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

import influxdb_write

ROOT = Path(__file__).resolve().parent.parent
PLUGINS = ROOT / "plugins"
PACKAGE = PLUGINS / "influxdb_write"
DIST_INFO = f"airflow_provider_influxdb_write-{influxdb_write.__version__}.dist-info"

# Never part of a source tree: virtualenvs, caches, build output, Airflow's logs.
_NOT_SOURCE = {
    ".git",
    "build",
    "dist",
    "logs",
    "__pycache__",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    ".hypothesis",
}

# Imported by the package and installed with apache-airflow. `airflow` itself, and
# the modules that Airflow 3.0 and 3.1 build their connection forms from:
# hooks.py imports flask_appbuilder, flask_babel and wtforms only inside
# get_connection_form_widgets(), which only those Airflow versions' UI calls, and
# their Airflow installs them. Newer Airflow versions may not have them at all, so
# these three must never be imported at module level.
AIRFLOW_PROVIDED = {"airflow"}
AIRFLOW_UI_ONLY = {"flask_appbuilder", "flask_babel", "wtforms"}

# Extras for developing the package, not for its users.
DEVELOPMENT_EXTRAS = {"test", "bench"}


def pyproject() -> dict[str, Any]:
    tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from Python 3.11")
    project: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return project


def source_files() -> set[str]:
    """The package's files as the wheel should hold them: every .py file on disk
    (whatever modules exist at test time) plus the py.typed marker."""
    files = {path for path in PACKAGE.rglob("*.py") if "__pycache__" not in path.parts}
    files.add(PACKAGE / "py.typed")
    return {path.relative_to(PLUGINS).as_posix() for path in files}


def _ignore(directory: str, names: list[str]) -> set[str]:
    return {
        name
        for name in names
        if name in _NOT_SOURCE or name.startswith(".venv") or name.endswith(".egg-info")
    }


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[zipfile.ZipFile]:
    """The wheel, built as pip builds it from a checkout, from a copy of the
    repository as it is on disk: building in place would write build/ and
    *.egg-info into the work tree, and setuptools would ship any stale module
    left in build/lib."""
    # pyproject.toml's license and license-files need setuptools>=77, which the
    # test extra installs; with an older one, pip builds in isolation instead and
    # fetches the setuptools that [build-system] asks for.
    setuptools = Version(importlib.metadata.version("setuptools"))
    no_isolation = ["--no-build-isolation"] if setuptools >= Version("77") else []
    base = tmp_path_factory.mktemp("packaging")
    source = base / "source"
    shutil.copytree(ROOT, source, symlinks=True, ignore=_ignore)
    out = base / "wheels"
    pip = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", *no_isolation]
    subprocess.run(
        [*pip, "-w", str(out), str(source)],
        check=True,
        timeout=600,
    )
    (built,) = out.glob("*.whl")
    assert built.name == f"{DIST_INFO.removesuffix('.dist-info')}-py3-none-any.whl"
    with zipfile.ZipFile(built) as archive:
        yield archive


def test_wheel_holds_the_package_and_its_metadata_only(wheel: zipfile.ZipFile) -> None:
    names = wheel.namelist()
    assert {name.split("/", 1)[0] + "/" for name in names} == {"influxdb_write/", f"{DIST_INFO}/"}
    for name in names:
        parts = name.split("/")
        assert not {"tests", "dags", "bench", "docs", "scripts", "__pycache__"} & set(parts), name
        assert not name.endswith((".pyc", ".pyo")), name


def test_wheel_ships_every_module_and_py_typed(wheel: zipfile.ZipFile) -> None:
    shipped = {name for name in wheel.namelist() if name.startswith("influxdb_write/")}
    assert "influxdb_write/py.typed" in shipped
    assert shipped == source_files()


def test_wheel_carries_the_licence(wheel: zipfile.ZipFile) -> None:
    assert wheel.read(f"{DIST_INFO}/licenses/LICENSE") == (ROOT / "LICENSE").read_bytes()
    metadata = email.message_from_bytes(wheel.read(f"{DIST_INFO}/METADATA"))
    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata.get_all("License-File") == ["LICENSE"]


def test_wheel_registers_the_provider(wheel: zipfile.ZipFile) -> None:
    entry_points = configparser.ConfigParser()
    entry_points.read_string(wheel.read(f"{DIST_INFO}/entry_points.txt").decode())
    assert dict(entry_points["apache_airflow_provider"]) == {
        "provider_info": "influxdb_write.provider:get_provider_info"
    }


def _normalized(requirement: str) -> str:
    parsed = Requirement(requirement)
    parsed.name = canonicalize_name(parsed.name)
    return str(parsed)


def test_wheel_requires_exactly_the_declared_runtime_dependencies(wheel: zipfile.ZipFile) -> None:
    metadata = email.message_from_bytes(wheel.read(f"{DIST_INFO}/METADATA"))
    runtime = {
        _normalized(requirement)
        for requirement in metadata.get_all("Requires-Dist") or []
        if "extra ==" not in str(Requirement(requirement).marker)
    }
    assert runtime == {_normalized(requirement) for requirement in pyproject()["dependencies"]}


def _imports(tree: ast.Module) -> Iterator[tuple[str, bool]]:
    """(top-level name, imported at module level) for each absolute import.
    Imports in class bodies and under ``if``/``try`` run at import time too:
    only those inside a function count as not at module level."""

    def visit(node: ast.AST, in_function: bool) -> Iterator[tuple[str, bool]]:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split(".")[0], not in_function
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0], not in_function
        inside = in_function or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        for child in ast.iter_child_nodes(node):
            yield from visit(child, inside)

    yield from visit(tree, False)


def _import_names(distributions: set[str]) -> set[str]:
    """The modules these distributions provide. One that is not installed (an
    optional extra, say) is taken to provide the module of its own name."""
    provided = {name.replace("-", "_") for name in distributions}
    for module, providers in importlib.metadata.packages_distributions().items():
        if distributions & {canonicalize_name(provider) for provider in providers}:
            provided.add(module)
    return provided


def test_every_third_party_import_is_declared() -> None:
    project = pyproject()
    runtime: set[str] = {canonicalize_name(Requirement(r).name) for r in project["dependencies"]}
    optional: set[str] = {
        canonicalize_name(Requirement(requirement).name)
        for extra, requirements in project.get("optional-dependencies", {}).items()
        if extra not in DEVELOPMENT_EXTRAS
        for requirement in requirements
    }
    from_runtime = _import_names(runtime) | AIRFLOW_PROVIDED | AIRFLOW_UI_ONLY
    from_optional = _import_names(optional)

    imported: dict[str, set[str]] = {}  # module -> files importing it at module level
    lazily: dict[str, set[str]] = {}  # module -> files importing it inside a function
    for path in sorted(PACKAGE.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        where = path.relative_to(ROOT).as_posix()
        for module, top_level in _imports(ast.parse(path.read_text(), str(path))):
            if module in sys.stdlib_module_names or module == "influxdb_write":
                continue
            (imported if top_level else lazily).setdefault(module, set()).add(where)

    undeclared = {
        module: sorted(imported.get(module, set()) | lazily.get(module, set()))
        for module in imported.keys() | lazily.keys()
        if module not in from_runtime and module not in from_optional
    }
    assert not undeclared, f"imported but not declared in [project] dependencies: {undeclared}"

    eager_optional = {
        module: sorted(files - FRAME_MODULES)
        for module, files in imported.items()
        if module not in from_runtime and module in from_optional and files - FRAME_MODULES
    }
    assert not eager_optional, f"optional dependencies imported at module level: {eager_optional}"

    eager_ui = {module: sorted(imported[module]) for module in AIRFLOW_UI_ONLY & imported.keys()}
    assert not eager_ui, f"Airflow 3.0/3.1 UI modules imported at module level: {eager_ui}"


# Modules that exist to work on frames: they import pyarrow at module level, and
# are themselves imported only inside functions, once a frame is given.
FRAME_MODULES = {
    "plugins/influxdb_write/line_protocol/frame_columns.py",
    "plugins/influxdb_write/line_protocol/frame_sources.py",
}


def test_frame_modules_are_loaded_only_when_a_frame_is_given() -> None:
    names = {Path(path).stem for path in FRAME_MODULES}
    eager = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in tree.body:  # module level only; imports in functions run when called
            module = (node.module or "").split(".")[-1] if isinstance(node, ast.ImportFrom) else ""
            if isinstance(node, ast.ImportFrom) and node.level and module in names:
                eager.append(path.relative_to(ROOT).as_posix())
    assert not eager, f"frame modules imported at module level by {eager}"


def test_other_pythons_install_the_declared_dependencies() -> None:
    """`make test` runs the codec, client and template tests on the other supported
    Pythons with the Makefile's CORE_REQUIREMENTS: every runtime dependency but
    Airflow, and test tools as the test extra declares them."""
    project = pyproject()
    (line,) = [
        line for line in (ROOT / "Makefile").read_text().splitlines() if line.startswith("CORE_REQUIREMENTS")
    ]
    core = {_normalized(word) for word in line.split(":=", 1)[1].split()}
    runtime = {_normalized(r) for r in project["dependencies"]} - {_normalized("apache-airflow>=3.0")}
    tools = {_normalized(r) for r in project["optional-dependencies"]["test"]}
    assert runtime <= core, f"runtime dependencies missing from CORE_REQUIREMENTS: {runtime - core}"
    assert core - runtime <= tools, f"not declared in the test extra: {core - runtime - tools}"
