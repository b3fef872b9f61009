"""The real gateway client against the sandbox gateway on a real loopback port."""

from __future__ import annotations

import logging
import socket
import time

import pytest
import requests

from checkin.gateway import CardQuery, GatewayAuthError, GatewayClient, GatewayUnavailable
from checkin.gateway.protocol import password_hash
from checkin.model import Officer
from checkin.sandbox import load_population

POPULATION = load_population()
ACCOUNT = POPULATION.accounts[0]
OFFICER = Officer(POPULATION.officers[0].name, POPULATION.officers[0].citizen_id)
SECRETS = (
    ACCOUNT.password,
    password_hash(ACCOUNT.password),
    password_hash(ACCOUNT.password).lower(),
)


class RecordingSession(requests.Session):
    """A real session that remembers the keyword arguments of every request."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[dict] = []

    def request(self, method, url, **kwargs):  # type: ignore[override]
        self.calls.append(kwargs)
        return super().request(method, url, **kwargs)


@pytest.fixture(autouse=True)
def no_faults(healthy_sandbox):
    return healthy_sandbox


def client_for(sandbox, **kwargs) -> GatewayClient:
    options = {"timeout_s": 2.0, "connect_timeout_s": 1.0}
    options.update(kwargs)
    password = options.pop("password", ACCOUNT.password)
    officer = options.pop("officer", OFFICER)
    return GatewayClient(sandbox.url, ACCOUNT.username, password, officer, **options)


def person(key: str):
    return next(p for p in POPULATION.people if p.key == key)


def query_for(p, number: str | None = None) -> CardQuery:
    return CardQuery(number or p.card_number, p.full_name, p.date_of_birth)


def test_eligible_card_by_every_kind_of_number(sandbox):
    p = person("eligible-old")
    client = client_for(sandbox)
    for number in (p.card_number, p.social_insurance_number, p.citizen_id):
        answer = client.check_card(query_for(p, number))
        assert answer.result_code == "000", number
        assert answer.card_number == p.card_number
        assert answer.full_name == p.full_name
        assert answer.valid_to and answer.raw["maKetQua"] == "000"


def test_expected_codes_come_back_for_registered_people(sandbox):
    client = client_for(sandbox)
    seen = set()
    for p in POPULATION.people:
        if p.qr_overrides:
            continue  # their QR differs from the registry on purpose; covered by intake tests
        number = p.card_number or p.social_insurance_number or p.citizen_id
        answer = client.check_card(query_for(p, number))
        assert answer.result_code == p.expected_code, p.key
        seen.add(answer.result_code)
    assert {"000", "003", "004", "010", "050", "110"} <= seen


def test_token_is_taken_once_and_reused(sandbox):
    session = RecordingSession()
    client = client_for(sandbox, session=session)
    p = person("eligible-old")
    for _ in range(3):
        client.check_card(query_for(p))
    paths = [c.get("params") is None for c in session.calls]
    assert paths.count(True) == 1  # one token request (no query params), three card checks
    assert len(session.calls) == 4


def test_verify_is_passed_on_every_request(sandbox):
    session = RecordingSession()
    client = client_for(sandbox, session=session)
    client.check_card(query_for(person("eligible-old")))
    assert session.calls and all(c["verify"] is True for c in session.calls)
    assert all(c["timeout"] == (1.0, 2.0) for c in session.calls)
    with pytest.raises(ValueError):
        client_for(sandbox, verify=False)


def test_expired_token_is_refreshed_once_transparently(sandbox):
    client = client_for(sandbox)
    p = person("eligible-old")
    client.check_card(query_for(p))
    sandbox.faults.set("expire_tokens")
    assert client.check_card(query_for(p)).result_code == "000"


def test_401_with_empty_body_twice_is_an_auth_error(sandbox):
    client = client_for(sandbox)
    sandbox.faults.set("401_empty")
    with pytest.raises(GatewayAuthError):
        client.check_card(query_for(person("eligible-old")))


def test_wrong_password_is_an_auth_error_without_secrets(sandbox):
    client = client_for(sandbox, password="wrong")
    with pytest.raises(GatewayAuthError) as err:
        client.check_card(query_for(person("eligible-old")))
    assert "wrong" not in str(err.value) and password_hash("wrong") not in str(err.value)


def test_officer_fields_are_sent(sandbox):
    stranger = Officer("Người Lạ", "079090009999")
    answer = client_for(sandbox, officer=stranger).check_card(query_for(person("eligible-old")))
    assert answer.result_code == "054"
    wrong_name = Officer("Tên Khác", OFFICER.citizen_id)
    answer = client_for(sandbox, officer=wrong_name).check_card(query_for(person("eligible-old")))
    assert answer.result_code == "055"


@pytest.mark.parametrize("mode", ["down", "http500", "garbage"])
def test_broken_gateway_is_unavailable(sandbox, mode):
    client = client_for(sandbox)
    sandbox.faults.set(mode)
    with pytest.raises(GatewayUnavailable):
        client.check_card(query_for(person("eligible-old")))


def test_slow_gateway_times_out_within_the_timeout(sandbox):
    client = client_for(sandbox, timeout_s=0.5)
    client.take_token()
    sandbox.faults.set("slow", delay_s=3)
    started = time.monotonic()
    with pytest.raises(GatewayUnavailable, match=r"did not answer within 0\.5 s"):
        client.check_card(query_for(person("eligible-old")))
    assert time.monotonic() - started < 2.0


def test_a_trickling_gateway_is_given_up_on_at_the_deadline(sandbox):
    """GIVEN a gateway that sends its headers, then a byte every 0.2 s (each read is quick, so
    requests' read timeout never fires) WHEN a card is checked with 0.5 s + 0.5 s timeouts
    THEN the call gives up after about 1 s, not after the whole body (~12 s)."""
    client = client_for(sandbox, timeout_s=0.5, connect_timeout_s=0.5)
    client.take_token()
    sandbox.faults.set("trickle", delay_s=0.2)
    started = time.monotonic()
    with pytest.raises(GatewayUnavailable, match=r"did not finish answering within 1 s"):
        client.check_card(query_for(person("eligible-old")))
    assert time.monotonic() - started < 2.5


def test_a_reply_stalling_longer_than_the_read_timeout_is_a_timeout(sandbox):
    """GIVEN headers at once, then nothing for longer than the read timeout WHEN a card is
    checked THEN it is the usual 'did not answer' (urllib3's raw-read timeout is translated)."""
    client = client_for(sandbox, timeout_s=0.5, connect_timeout_s=0.5)
    client.take_token()
    sandbox.faults.set("trickle", delay_s=2.0)
    with pytest.raises(GatewayUnavailable, match=r"did not answer within 0\.5 s"):
        client.check_card(query_for(person("eligible-old")))


def test_a_reply_nested_past_the_stack_is_garbage_not_a_crash():
    """A body of 100,000 '[' makes json.loads raise RecursionError: the gateway is treated as
    answering garbage (unavailable), so intake registers the visit unverified."""
    client = GatewayClient("http://127.0.0.1:9", "u", "p", OFFICER)
    with pytest.raises(GatewayUnavailable, match="not JSON"):
        client._json_body(200, b"[" * 100_000)


def test_refused_connection_is_unavailable():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = GatewayClient(f"http://127.0.0.1:{port}", "u", "p", OFFICER, connect_timeout_s=0.5)
    with pytest.raises(GatewayUnavailable, match="cannot reach"):
        client.check_card(CardQuery("0123456789", "A", "1980"))


def test_no_credentials_in_logs_or_errors(sandbox, caplog):
    caplog.set_level(logging.DEBUG)
    client = client_for(sandbox, timeout_s=0.3)
    p = person("eligible-old")
    client.check_card(query_for(p))
    token = client._token.access_token
    messages = []
    for mode in ("down", "http500", "garbage", "slow", "401_empty"):
        sandbox.faults.set(mode, delay_s=1)
        try:
            client.check_card(query_for(p))
        except Exception as exc:
            messages.append(str(exc))
            assert exc.__cause__ is None
            assert exc.__context__ is None or exc.__suppress_context__
    sandbox.faults.set("none")
    text = caplog.text + "\n".join(messages)
    for secret in (*SECRETS, token, "token=", "password="):
        assert secret not in text


def test_a_gzip_reply_is_read(sandbox):
    """requests asks for gzip; a gateway or proxy that compresses its reply must still be
    read (the body is read from the raw stream against a deadline, so it is unzipped there)."""
    import gzip
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    p = person("eligible-old")
    answer = {
        "maKetQua": "000",
        "ghiChu": "ok",
        "maThe": p.card_number,
        "hoTen": p.full_name,
        "ngaySinh": "12/05/1985",
        "gtTheTu": "01/01/2026",
        "gtTheDen": "31/12/2027",
        "maDKBD": "01001",
    }

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.path.startswith("/api/token/take"):
                reply = {"maKetQua": "200", "APIKey": {"access_token": "t", "id_token": "i"}}
            else:
                reply = answer
            body = gzip.compress(json.dumps(reply).encode())
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = GatewayClient(f"http://127.0.0.1:{server.server_port}", "u", "p", OFFICER)
        got = client.check_card(query_for(p))
    finally:
        server.shutdown()
    assert got.result_code == "000"
