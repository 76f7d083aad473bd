"""What the scripts send over HTTP: auth headers, the /write request, 5xx retries."""

import http.server
import threading

import pytest

INFLUX = {"INFLUX_DB": "iot", "INFLUX_RETRIES": "2", "INFLUX_RETRY_BACKOFF_S": "0"}


def influx(influx_v1, env):
    errors = []
    cfg = influx_v1.influx_config(env, errors)
    assert errors == []
    return cfg


@pytest.fixture
def recorder():
    """A loopback HTTP server that records requests and answers from a script of codes."""
    seen, codes = [], []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            seen.append((self.path, dict(self.headers), body.decode()))
            self.send_response(codes.pop(0) if codes else 204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", seen, codes
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("creds,header", [
    ({"INFLUX_TOKEN": "s3cr3t"}, "Token s3cr3t"),
    ({"INFLUX_USERNAME": "iot", "INFLUX_PASSWORD": "pw"}, "Basic aW90OnB3"),
    ({}, None),
])
def test_write_sends_auth_and_line_protocol(influx_v1, recorder, creds, header):
    url, seen, _ = recorder
    cfg = influx(influx_v1, {"INFLUX_URL": url, **INFLUX, **creds})
    influx_v1.write_points(cfg, ["m,a=b v=1 10"])
    [(path, headers, body)] = seen
    assert path == "/write?db=iot&precision=s"
    assert headers.get("Authorization") == header
    assert body == "m,a=b v=1 10"


def test_server_errors_are_retried_then_reported(forecast, influx_v1, recorder, capsys):
    url, seen, codes = recorder
    codes += [503, 503, 503]
    cfg = forecast.load_config({"INFLUX_URL": url, **INFLUX, "FORECAST_MEASUREMENT": "m",
                                "FORECAST_FIELD": "v", "INFLUX_RP": "weekly"})["influx"]
    with pytest.raises(influx_v1.InfluxError, match="HTTP 503"):
        influx_v1.write_points(cfg, ["m v=1 1"])
    assert len(seen) == 3 and seen[0][0] == "/write?db=iot&precision=s&rp=weekly"
    assert capsys.readouterr().err.count('"event": "influx_retry"') == 2


def test_a_server_error_then_success_is_fine(influx_v1, recorder):
    url, seen, codes = recorder
    codes += [500]
    cfg = influx(influx_v1, {"INFLUX_URL": url, **INFLUX})
    influx_v1.write_points(cfg, ["m v=1 1"])
    assert len(seen) == 2
