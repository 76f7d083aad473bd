"""Each script runs from an /app that holds only its ConfigMap's two keys, as in the pod.

The CronJob runs `python /app/<script>`. Python puts the script's directory first on
sys.path (resolving the kubelet's symlinks to the directory that holds every key), and
that is the only place influx_v1 can come from: run_script clears PYTHONPATH and runs
from another directory.
"""

import pytest

from conftest import FORECAST, INFLUX_V1, SUNRISE, run_script

SCRIPTS = {"sunrise": (SUNRISE, "SUN_LATITUDE is required"),
           "forecast": (FORECAST, "FORECAST_MEASUREMENT is required")}


@pytest.mark.parametrize("layout", ["flat", "kubelet"])
@pytest.mark.parametrize("service", sorted(SCRIPTS))
def test_missing_config_exits_2_with_one_json_line_from_a_two_file_app(service, layout):
    script, own_setting = SCRIPTS[service]
    code, stdout, stderr, records = run_script(script, {}, [script, INFLUX_V1], layout)
    assert code == 2, stderr
    assert stdout == "" and "Traceback" not in stderr
    assert len(stderr.splitlines()) == 1 and len(records) == 1
    [record] = records
    assert list(record) == ["ts", "level", "service", "event", "error"]
    assert (record["level"], record["service"], record["event"]) == (
        "error", service, "config_invalid")
    assert "INFLUX_URL is required" in record["error"] and own_setting in record["error"]


@pytest.mark.parametrize("service", sorted(SCRIPTS))
def test_without_influx_v1_in_app_the_script_cannot_start(service):
    """The control for the test above: nothing but /app supplies the module."""
    script, _ = SCRIPTS[service]
    code, _, stderr, _ = run_script(script, {}, [script])
    assert code == 1
    assert "ModuleNotFoundError: No module named 'influx_v1'" in stderr
