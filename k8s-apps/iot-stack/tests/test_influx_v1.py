"""The shared module: log line format, exit codes of run_main, /query parsing, line protocol.

(The HTTP client itself is exercised in test_http_client.py and against influxd.)
"""

import json

import pytest


@pytest.fixture
def service(influx_v1, monkeypatch):
    """Name the service "test" for one test, then restore the one the scripts set."""
    monkeypatch.setattr(influx_v1, "_service", influx_v1._service)
    influx_v1.configure(service="test")


def records(capsys):
    return [json.loads(line) for line in capsys.readouterr().err.splitlines()]


def test_log_is_one_json_object_per_line_with_the_service(influx_v1, service, capsys):
    influx_v1.log("info", "something", count=2, when=object)
    [record] = records(capsys)
    assert list(record) == ["ts", "level", "service", "event", "count", "when"]
    assert record["service"] == "test" and record["level"] == "info"
    assert record["ts"].endswith("+00:00") and len(record["ts"]) == 25


def test_run_main_logs_the_written_fields_and_exits_0(influx_v1, service, capsys):
    assert influx_v1.run_main(lambda: {"b": 1, "a": 2}) == influx_v1.EXIT_OK == 0
    [record] = records(capsys)
    assert list(record)[3:] == ["event", "b", "a"] and record["event"] == "written"


@pytest.mark.parametrize("error,event,code", [
    ("ConfigError", "config_invalid", 2),
    ("NoData", "not_enough_data", 3),
    ("InfluxUnreachable", "influx_unreachable", 4),
    ("InfluxError", "influx_error", 5),
    ("ZeroDivisionError", "unexpected_error", 1),
])
def test_run_main_turns_each_failure_into_one_line_and_an_exit_code(
        influx_v1, service, capsys, error, event, code):
    exc = getattr(influx_v1, error, None) or ZeroDivisionError

    def job():
        raise exc("what went wrong")

    assert influx_v1.run_main(job) == code
    [record] = records(capsys)
    assert record["level"] == "error" and record["event"] == event
    assert record["error"] == "what went wrong"
    assert record.get("error_type") == ("ZeroDivisionError" if code == 1 else None)


@pytest.mark.parametrize("answer,result", [
    (b'{"results":[{"statement_id":0,"series":[{"name":"m","values":[[1,2]]}]}]}',
     [{"name": "m", "values": [[1, 2]]}]),
    (b'{"results":[{"statement_id":0}]}', []),
    (b'{"results":[{"error":"database not found: x"}]}', "query failed: database not found"),
    (b'<html>proxy</html>', "unexpected /query answer: b'<html>proxy</html>'"),
    (b'{"results":[]}', "unexpected /query answer"),
])
def test_query_returns_the_series_or_raises_influx_error(influx_v1, monkeypatch, answer,
                                                         result):
    sent = []
    monkeypatch.setattr(influx_v1, "request", lambda *args: sent.append(args) or answer)
    ic = {"db": "iot"}
    if isinstance(result, list):
        assert influx_v1.query(ic, "SELECT 1") == result
    else:
        with pytest.raises(influx_v1.InfluxError, match=result.replace("(", r"\(")):
            influx_v1.query(ic, "SELECT 1")
    assert sent == [(ic, "GET", "/query", {"db": "iot", "q": "SELECT 1", "epoch": "s"})]


def test_line_protocol_escaping(influx_v1):
    line = influx_v1.line_protocol("m x", {"a,b": "c=d"}, {"s": 'say "hi"', "n": 3, "f": 1.5}, 7)
    assert line == 'm\\ x,a\\,b=c\\=d f=1.5,n=3i,s="say \\"hi\\"" 7'
