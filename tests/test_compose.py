"""docker-compose.yaml, checked without Docker (none runs here): it parses, follows
the official Airflow file's structure, every mounted path and referenced file
exists, the preset connection builds the right hook, and the image's install
step works when run here."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import pytest
import yaml

from influxdb_write.hooks import InfluxDBWriteHook

ROOT = Path(__file__).parent.parent
COMPOSE = ROOT / "docker-compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"
AIRFLOW_SERVICES = {
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-init",
    "airflow-cli",
    "airflow-worker",
    "flower",
}
_VARIABLE = re.compile(r"\$\$|\$\{(\w+)(?::?-([^}]*))?\}|\$(\w+)")


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Compose's variable substitution: ``${VAR}``, ``${VAR:-default}``, ``$VAR``, ``$$``."""
    if isinstance(value, str):

        def substitute(match: re.Match[str]) -> str:
            if match.group(0) == "$$":
                return "$"
            name = match.group(1) or match.group(3)
            return env.get(name) or match.group(2) or ""

        return _VARIABLE.sub(substitute, value)
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    return value


def compose(env: dict[str, str] | None = None) -> dict[str, Any]:
    return dict(interpolate(yaml.safe_load(COMPOSE.read_text()), env or {}))


def test_services_follow_the_official_file() -> None:
    services = compose()["services"]
    assert set(services) == AIRFLOW_SERVICES | {"postgres", "redis", "influxdb"}
    images = {name: service["image"] for name, service in services.items()}
    assert len({images[name] for name in AIRFLOW_SERVICES}) == 1
    for name in AIRFLOW_SERVICES:
        assert services[name]["build"] == "."
        assert services[name]["user"] in ("50000:0", "0:0")
        env = services[name]["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
        assert env["AIRFLOW_CONFIG"] == "/opt/airflow/config/airflow.cfg"
    for name in ("postgres", "redis", "influxdb"):
        assert re.fullmatch(r"[\w./-]+:\d[\w.-]*", images[name]), (
            f"{name} image is not pinned: {images[name]}"
        )
    assert services["influxdb"]["image"].startswith("influxdb:2.")
    commands = {str(services[name].get("command")) for name in AIRFLOW_SERVICES}
    assert {
        "api-server",
        "scheduler",
        "dag-processor",
        "triggerer",
        "celery worker",
        "celery flower",
    } <= commands


def test_healthchecks_order_the_start() -> None:
    services = compose()["services"]
    for name, service in services.items():
        if name not in ("airflow-init", "airflow-cli"):
            assert service["healthcheck"]["test"], name
        for target, rule in service.get("depends_on", {}).items():
            assert target in services, f"{name} depends on unknown {target}"
            if rule["condition"] == "service_healthy":
                assert "healthcheck" in services[target], (
                    f"{name} waits for {target}, which has no healthcheck"
                )
            else:
                assert (target, rule["condition"]) == ("airflow-init", "service_completed_successfully")
    for name in AIRFLOW_SERVICES:
        for server in ("postgres", "redis", "influxdb"):
            assert services[name]["depends_on"][server]["condition"] == "service_healthy", (name, server)
    for name in AIRFLOW_SERVICES - {"airflow-init", "airflow-cli"}:
        assert services[name]["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"
    for name in ("airflow-scheduler", "airflow-worker"):
        assert services[name]["depends_on"]["airflow-apiserver"]["condition"] == "service_healthy"


def test_celery_workers_scale_and_reach_redis_and_postgres() -> None:
    """The CeleryExecutor as in the official file: every Airflow service finds the
    broker and the result backend, and ``--scale airflow-worker=N`` can start N
    workers (a fixed container name or a published host port would refuse a second)."""
    services = compose()["services"]
    for name in AIRFLOW_SERVICES:
        env = services[name]["environment"]
        assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://:@redis:6379/0"
        database = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
        assert database == "postgresql+psycopg2://airflow:airflow@postgres/airflow"
        assert env["AIRFLOW__CELERY__RESULT_BACKEND"] == f"db+{database}"
    assert "6379" in {str(port) for port in services["redis"]["expose"]}
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert "ports" not in services["redis"]

    worker = services["airflow-worker"]
    assert "container_name" not in worker and "ports" not in worker
    assert 'inspect ping -d "celery@${HOSTNAME}"' in worker["healthcheck"]["test"][1]
    # dumb-init passes SIGTERM to the worker alone, which then finishes its running tasks.
    assert worker["environment"]["DUMB_INIT_SETSID"] == "0"
    assert services["flower"]["profiles"] == ["flower"]


def test_local_executor_remains_an_option() -> None:
    services = compose({"AIRFLOW_EXECUTOR": "LocalExecutor"})["services"]
    assert {services[name]["environment"]["AIRFLOW__CORE__EXECUTOR"] for name in AIRFLOW_SERVICES} == {
        "LocalExecutor"
    }
    assert "--scale airflow-worker=0" in COMPOSE.read_text()


def test_init_creates_the_pool_of_the_backfill_dag() -> None:
    """The backfill DAG's tasks wait forever in a pool that does not exist."""
    (pool,) = re.findall(
        r'^POOL = "(\w+)"$', (ROOT / "dags" / "influxdb_backfill_archive.py").read_text(), re.M
    )
    for env, slots in (({}, "4"), ({"INFLUXDB_WRITE_POOL_SLOTS": "12"}, "12")):
        script = compose(env)["services"]["airflow-init"]["command"][1]
        assert f'airflow pools set {pool} "{slots}" ' in script


def test_every_mounted_path_and_referenced_file_exists() -> None:
    services = compose()["services"]
    mounts = [volume.split(":") for service in services.values() for volume in service.get("volumes", [])]
    host_paths = [ROOT / host for host, *_ in mounts if host.startswith((".", "/"))]
    assert {path.name for path in host_paths} >= {"dags", "logs", "config", "plugins", "influxdb-init"}
    for path in host_paths:
        assert path.exists(), f"mounted {path} does not exist"
    named = {host for host, *_ in mounts if not host.startswith((".", "/"))}
    assert named == set(compose()["volumes"])
    assert (ROOT / "Dockerfile").is_file()

    # The InfluxDB image runs executable *.sh files of the init folder after its setup.
    (init,) = [path for path in host_paths if path.name == "influxdb-init"]
    scripts = sorted(init.glob("*.sh"))
    assert scripts
    for script in scripts:
        assert script.stat().st_mode & 0o111, f"{script} is not executable, so InfluxDB would not run it"
        subprocess.run(["bash", "-n", str(script)], check=True)


def test_plugins_mount_loads_without_import_errors() -> None:
    """The compose file mounts plugins/; Airflow's plugin loader must not import
    the package's files one by one (plugins/.airflowignore)."""
    code = (
        "from airflow import plugins_manager as pm; pm.ensure_plugins_loaded(); import json; "
        "print(json.dumps(pm.get_import_errors() if hasattr(pm, 'get_import_errors') else pm.import_errors))"
    )
    env = {"AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {}


def test_preset_connection_builds_the_hook_for_the_influxdb_service(monkeypatch: pytest.MonkeyPatch) -> None:
    for env in ({}, {"INFLUXDB_ORG": "acme", "INFLUXDB_TOKEN": "t0k"}):
        services = compose(env)["services"]
        influx = services["influxdb"]["environment"]
        airflow_env = services["airflow-scheduler"]["environment"]
        monkeypatch.setenv(
            "AIRFLOW_CONN_INFLUXDB_WRITE_DEFAULT", airflow_env["AIRFLOW_CONN_INFLUXDB_WRITE_DEFAULT"]
        )
        settings = InfluxDBWriteHook().settings
        assert settings.url == "http://influxdb:8086"
        assert settings.org == influx["DOCKER_INFLUXDB_INIT_ORG"] == env.get("INFLUXDB_ORG", "demo")
        assert settings.bucket == influx["DOCKER_INFLUXDB_INIT_BUCKET"] == "energy"
        assert (
            settings.token
            == influx["DOCKER_INFLUXDB_INIT_ADMIN_TOKEN"]
            == env.get("INFLUXDB_TOKEN", "demo-token-change-me")
        )
        assert settings.api == "v2"
        # InfluxDB 2 refuses a password shorter than 8 characters at setup.
        assert len(influx["DOCKER_INFLUXDB_INIT_PASSWORD"]) >= 8


def test_the_sample_dags_find_their_buckets_and_targets() -> None:
    services = compose()["services"]
    influx = services["influxdb"]["environment"]
    buckets = {influx["DOCKER_INFLUXDB_INIT_BUCKET"], *influx["INFLUXDB_EXTRA_BUCKETS"].split()}
    assert buckets == {"energy", "manual", "monitoring"}
    dags = "\n".join(path.read_text() for path in (ROOT / "dags").glob("*.py"))
    for bucket in buckets:
        assert f'"{bucket}"' in dags
    # The HTTP checks DAG probes the compose services by their names and ports.
    for host, port in re.findall(r'"http://([\w-]+):(\d+)/', dags):
        assert host in services, host
        assert f"{port}:{port}" in services[host]["ports"]


def dockerfile() -> tuple[str, list[tuple[list[str], str]], str]:
    """The Dockerfile's base image, its COPY steps (sources, destination) and its RUN command."""
    text = DOCKERFILE.read_text()
    (image,) = re.findall(r"^ARG AIRFLOW_IMAGE=(\S+)$", text, re.M)
    copies = []
    for line in re.findall(r"^COPY (.+)$", text, re.M):
        parts = [part for part in line.split() if not part.startswith("--")]
        copies.append((parts[:-1], parts[-1]))
    (run,) = re.findall(r"^RUN (.+)$", text, re.M)
    return image, copies, run


def test_dockerfile_builds_on_the_pinned_official_image() -> None:
    image, copies, run = dockerfile()
    assert re.fullmatch(r"apache/airflow:3\.\d+\.\d+", image)
    assert shlex.split(run)[:2] == ["pip", "install"]
    ignored = [line for line in (ROOT / ".dockerignore").read_text().splitlines() if line and line[0] != "#"]
    for sources, _ in copies:
        for source in sources:
            assert (ROOT / source).exists(), source
            assert not any(fnmatch(source, pattern) for pattern in ignored), f"{source} is in .dockerignore"


def test_dockerfile_install_step_works_here(tmp_path: Path) -> None:
    """The image's RUN line, run here on what its COPY lines copy: it builds the
    package and resolves it with the image's Airflow (a dry run: installing all of
    Airflow again is the image's job)."""
    image, copies, run = dockerfile()
    context = tmp_path / "image"
    for sources, destination in copies:
        target = context / destination.lstrip("/")
        for source in sources:
            if (ROOT / source).is_dir():
                shutil.copytree(ROOT / source, target, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy(ROOT / source, target)
    command = shlex.split(run.replace("${AIRFLOW_VERSION}", image.rsplit(":", 1)[1]))
    args = [str(context / arg.lstrip("/")) if arg.startswith("/opt/") else arg for arg in command[2:]]
    report = tmp_path / "report.json"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--report", str(report), "--quiet", *args],
        check=True,
        timeout=600,
    )
    installs = {item["metadata"]["name"] for item in json.loads(report.read_text())["install"]}
    assert "airflow-provider-influxdb-write" in installs

    (package,) = [arg for arg in args if arg.startswith(str(context))]
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(wheels), package],
        check=True,
        timeout=600,
    )
    (wheel,) = wheels.glob("airflow_provider_influxdb_write-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        (entry_points,) = [name for name in names if name.endswith("entry_points.txt")]
        assert "influxdb_write.provider:get_provider_info" in archive.read(entry_points).decode()
    shipped = {name for name in names if name.startswith("influxdb_write/") and name.endswith(".py")}
    in_repo = {
        str(path.relative_to(ROOT / "plugins"))
        for path in (ROOT / "plugins" / "influxdb_write").rglob("*.py")
    }
    assert shipped == in_repo
