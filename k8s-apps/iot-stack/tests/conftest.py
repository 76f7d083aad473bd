"""Shared fixtures: the two scripts and influx_v1 as modules, a real influxd on loopback, and
a script runner that lays out /app as the pod sees it (the script and influx_v1.py only).

influxd tests run when influxd is on PATH; with XTASK_E2E=1 a missing influxd FAILS them
(it is a required tool there), without it they are skipped with the reason.
"""

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

STACK = Path(__file__).resolve().parents[1]
REPO = STACK.parents[1]
SUNRISE = STACK / "sunrise" / "sunrise_to_influx.py"
FORECAST = STACK / "forecasting" / "forecast.py"
INFLUX_V1 = STACK / "common" / "influx_v1.py"
E2E = os.environ.get("XTASK_E2E") == "1"
# In the pod, influx_v1.py sits next to the script in /app; in-process, it is found here.
sys.path.insert(0, str(INFLUX_V1.parent))


def load_module(path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def sunrise():
    return load_module(SUNRISE)


@pytest.fixture(scope="session")
def forecast():
    return load_module(FORECAST)


@pytest.fixture(scope="session")
def influx_v1():
    import influx_v1
    return influx_v1


def require_tool(name):
    """Path of a tool; under XTASK_E2E=1 a missing tool fails, otherwise it skips."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} not found on PATH"
        if E2E:
            pytest.fail(f"{message}; XTASK_E2E=1 requires it")
        pytest.skip(f"{message} (set XTASK_E2E=1 to make this a failure)")
    return path


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def influx_query(url, q, db=None, method="GET"):
    params = {"q": q, "epoch": "s"}
    if db:
        params["db"] = db
    full = f"{url}/query?{urllib.parse.urlencode(params)}"
    with urllib.request.urlopen(urllib.request.Request(full, method=method), timeout=10) as r:
        result = json.loads(r.read())["results"][0]
    assert "error" not in result, result
    return result.get("series", [])


@pytest.fixture(scope="session")
def influxd(tmp_path_factory):
    """A real influxd 1.x on 127.0.0.1 with a temp data dir; yields its base URL."""
    binary = require_tool("influxd")
    root = tmp_path_factory.mktemp("influxd")
    http_port, rpc_port = free_port(), free_port()
    config = root / "influxdb.conf"
    config.write_text(f"""
reporting-disabled = true
bind-address = "127.0.0.1:{rpc_port}"
[meta]
  dir = "{root}/meta"
[data]
  dir = "{root}/data"
  wal-dir = "{root}/wal"
  query-log-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:{http_port}"
  log-enabled = false
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
""")
    log = open(root / "influxd.log", "wb")
    proc = subprocess.Popen([binary, "run", "-config", str(config)], stdout=log,
                            stderr=subprocess.STDOUT, env={**os.environ, "HOME": str(root)})
    url = f"http://127.0.0.1:{http_port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(f"{url}/ping", timeout=1) as r:
                if r.status == 204:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"influxd did not start: {(root / 'influxd.log').read_text()[-2000:]}")
        time.sleep(0.1)
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture
def database(influxd, request):
    """A fresh database per test; yields its name."""
    name = "t_" + "".join(c if c.isalnum() else "_" for c in request.node.name)[:60]
    influx_query(influxd, f'CREATE DATABASE "{name}"', method="POST")
    yield name
    influx_query(influxd, f'DROP DATABASE "{name}"', method="POST")


def configmap_files(script):
    """The files of a script's ConfigMap (kustomization.yaml), i.e. what /app holds."""
    return [script, INFLUX_V1]


def stage_app(app, files, layout="flat"):
    """Lay out `app` like the ConfigMap volume at /app, holding only `files`.

    flat: the files themselves. kubelet: as the kubelet writes a ConfigMap volume, each
    key a link to ..data/<key>, ..data a link to a timestamped directory with the files.
    """
    app.mkdir(exist_ok=True)
    target = app
    if layout == "kubelet":
        target = app / "..2026_01_01_00_00_00.000000000"
        target.mkdir()
        (app / "..data").symlink_to(target.name)
    for path in files:
        shutil.copyfile(path, target / path.name)
        if layout == "kubelet":
            (app / path.name).symlink_to(f"..data/{path.name}")
    return app


def run_script(path, env, files=None, layout="flat"):
    """Run a script as the CronJob would; return (exit code, stdout, stderr, log records).

    The script runs as `python <app>/<script>` from a temporary /app holding its ConfigMap's
    files (or `files`), with no PYTHONPATH and the working directory elsewhere, so imports
    resolve exactly as in the pod.
    """
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("INFLUX_", "SUN_", "FORECAST_", "PYTHON"))}
    clean["PYTHONDONTWRITEBYTECODE"] = "1"  # as in the image; /app is read-only there
    with tempfile.TemporaryDirectory() as tmp:
        app = stage_app(Path(tmp) / "app", configmap_files(path) if files is None else files,
                        layout)
        proc = subprocess.run([sys.executable, str(app / path.name)], env={**clean, **env},
                              cwd=tmp, capture_output=True, text=True, timeout=60)
    records = [json.loads(line) for line in proc.stderr.splitlines() if line.startswith("{")]
    return proc.returncode, proc.stdout, proc.stderr, records
