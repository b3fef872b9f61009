"""A local stand-in for the BHXH gateway (formats.md §6), speaking its protocol over real HTTP.

Endpoints:

- ``POST /api/token/take``: form (or JSON) ``username``, ``password`` (MD5 hex, any case).
- ``POST /api/egw/KQNhanLichSuKCB2024?token=…&id_token=…&username=…&password=…``: form (or
  JSON) ``maThe, hoTen, ngaySinh, hoTenCb, cccdCb``; the decision is :func:`rules.decide`.
- ``POST /_sandbox/faults`` and ``GET /_sandbox/stats``: test controls, loopback clients only.

A card check carrying an ``Idempotency-Key`` header (draft-ietf-httpapi-idempotency-key-header;
the desk's outbox sends its entry's key) that was answered before, for the same account and the
same card question (number, name, birth date), gets that answer again without a second lookup;
the same key with another question gets 422. Answers about the card are kept for
:data:`IDEMPOTENCY_TTL_S`; those about the account or the request (:data:`NOT_REMEMBERED`) are
not, so a fixed account is looked up afresh. ``lookups_by_card`` counts
the lookups made, ``requests_by_card`` every request, ``replays_by_card`` the repeats answered
from the record.

Credentials travel in the query string, so nothing here logs a request URL, and card numbers,
IDs and tokens are logged masked to their last four characters.
"""

from __future__ import annotations

import base64
import collections
import ipaddress
import json
import logging
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from checkin.config import GatewayConfig
from checkin.sandbox.faults import Faults
from checkin.sandbox.population import Population, load_population, resolve_date
from checkin.sandbox.rules import CardRequest, CardView, Decision, decide

log = logging.getLogger("checkin.sandbox")

TOKEN_PATH = "/api/token/take"
CARD_CHECK_PATH = "/api/egw/KQNhanLichSuKCB2024"
FAULTS_PATH = "/_sandbox/faults"
STATS_PATH = "/_sandbox/stats"
MAX_BODY_BYTES = 64 * 1024
IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_TTL_S = 24 * 3600.0
IDEMPOTENCY_LIMIT = 200_000  # answers kept at most (oldest dropped first)
# Replies about the request rather than the card (the officer is not registered, the name
# does not match the officer's ID, malformed parameters): once IT fixes the cause the same
# request must be looked up afresh, so they are not kept under the idempotency key.
NOT_REMEMBERED = frozenset({"054", "055", "205"})
HISTORY_LIMIT = 50

# formats.md §6.5, in that order.
REPLY_FIELDS = (
    "maKetQua",
    "ghiChu",
    "maThe",
    "hoTen",
    "ngaySinh",
    "gioiTinh",
    "diaChi",
    "maDKBD",
    "cqBHXH",
    "gtTheTu",
    "gtTheDen",
    "maKV",
    "ngayDu5Nam",
    "maSoBHXH",
    "maTheCu",
    "maTheMoi",
    "gtTheTuMoi",
    "gtTheDenMoi",
    "maDKBDMoi",
    "tenDKBDMoi",
    "dsLichSuKCB2018",
    "dsLichSuKT2018",
)
CARD_FIELDS = ("maThe", "hoTen", "ngaySinh", "hoTenCb", "cccdCb")

_HTML_500 = (
    b"<!DOCTYPE html><html><head><title>500 - Internal server error.</title></head>"
    b"<body><h1>Server Error</h1><p>500 - Internal server error.</p></body></html>"
)
_GARBAGE = b'<html><body>He thong dang bao tri</body></html>\n{"maKetQua":"00'
_TRICKLE_BODY = b'{"maKetQua": "000", "ghiChu": "trickled, one byte at a time"}'


def mask(value: str | None) -> str:
    """Last four characters only, for logs and stats."""
    if not value:
        return "…"
    return "…" + value[-4:] if len(value) > 4 else "…"


# --- tokens ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    access_token: str
    id_token: str
    username: str
    client_ip: str
    expires_at: float  # time.monotonic()
    generation: int


class TokenStore:
    """Issued tokens; a token works until its TTL, a fault bumps the generation, or never
    from another IP (the real gateway binds tokens to the caller's IP)."""

    def __init__(self, ttl_s: float, faults: Faults) -> None:
        self._ttl_s = ttl_s
        self._faults = faults
        self._lock = threading.Lock()
        self._tokens: dict[str, Token] = {}
        self.issued = 0

    def issue(self, username: str, client_ip: str) -> tuple[Token, datetime]:
        token = Token(
            access_token=base64.b64encode(secrets.token_bytes(96)).decode("ascii"),
            id_token=str(uuid.uuid4()),
            username=username,
            client_ip=client_ip,
            expires_at=time.monotonic() + self._ttl_s,
            generation=self._faults.token_generation,
        )
        with self._lock:
            self._prune()
            self._tokens[token.access_token] = token
            self.issued += 1
        return token, datetime.now(UTC) + timedelta(seconds=self._ttl_s)

    def find(self, access_token: str) -> Token | None:
        with self._lock:
            token = self._tokens.get(access_token)
        if token is None or not self._alive(token):
            return None
        return token

    def active(self) -> int:
        with self._lock:
            return sum(1 for t in self._tokens.values() if self._alive(t))

    def _alive(self, token: Token) -> bool:
        fresh = token.expires_at > time.monotonic()
        return fresh and token.generation == self._faults.token_generation

    def _prune(self) -> None:
        for key in [k for k, t in self._tokens.items() if not self._alive(t)]:
            del self._tokens[key]


def expires_text(moment: datetime) -> str:
    """``2025-01-01T03:51:20.1047187Z``: absolute UTC with seven fractional digits."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


# --- replies ---------------------------------------------------------------------------------


def _dmy(value: date | None) -> str | None:
    return value.strftime("%d/%m/%Y") if value else None


def _birth_text(value: str) -> str:
    return value if len(value) == 4 else _dmy(date.fromisoformat(value))  # type: ignore[return-value]


def empty_reply(code: str, note: str) -> dict[str, Any]:
    reply: dict[str, Any] = dict.fromkeys(REPLY_FIELDS)
    reply.update(maKetQua=code, ghiChu=note, dsLichSuKT2018=[])
    return reply


def card_reply(decision: Decision, today: date, history: list[dict]) -> dict[str, Any]:
    """The full §6.5 reply for ``decision``; card data only for the codes that carry it."""
    reply = empty_reply(decision.code, decision.message)
    person, card = decision.person, decision.card
    if not decision.has_card_data or person is None or card is None:
        return reply
    reply.update(
        maThe=card.card_number,
        hoTen=person.full_name,
        ngaySinh=_birth_text(person.date_of_birth),
        gioiTinh="Nam" if person.gender == "male" else "Nữ",
        diaChi=person.address,
        maDKBD=card.registered_facility,
        cqBHXH=person.issuing_office,
        gtTheTu=_dmy(card.valid_from),
        gtTheDen=_dmy(card.valid_to),
        maKV=person.area_code or "",
        ngayDu5Nam=_dmy(resolve_date(person.five_year_date, today)),
        maSoBHXH=person.social_insurance_number,
        dsLichSuKT2018=list(history),
    )
    if decision.new_card is not None:
        reply.update(_new_card_fields(card, decision.new_card))
    reply["ghiChu"] = _note(decision, reply)
    return reply


def _new_card_fields(old: CardView, new: CardView) -> dict[str, Any]:
    return {
        "maTheCu": old.card_number,
        "maTheMoi": new.card_number,
        "gtTheTuMoi": _dmy(new.valid_from),
        "gtTheDenMoi": _dmy(new.valid_to),
        "maDKBDMoi": new.registered_facility,
        "tenDKBDMoi": new.registered_facility_name,
    }


def _note(decision: Decision, reply: dict[str, Any]) -> str:
    """The gateway's free-text sentence: the code's message, then the card's particulars."""
    until = reply["gtTheDen"] or "không thời hạn"
    text = (
        f"{decision.message} Họ tên: {reply['hoTen']}, Ngày sinh: {reply['ngaySinh']}, "
        f"Giới tính: {reply['gioiTinh']}! (Địa chỉ: {reply['diaChi'] or ''}; "
        f"Nơi KCBBĐ: {reply['maDKBD']}; Hạn thẻ: {reply['gtTheTu']} - {until}"
    )
    if reply["ngayDu5Nam"]:
        text += f"; Thời điểm đủ 5 năm liên tục: {reply['ngayDu5Nam']}"
    if reply["maTheMoi"]:
        text += f"; Thẻ mới: {reply['maTheMoi']}, hạn thẻ mới: {reply['gtTheTuMoi']}"
        text += f" - {reply['gtTheDenMoi'] or 'không thời hạn'}"
    return text + ")."


# --- shared state ----------------------------------------------------------------------------


class _State:
    """Everything the request handlers share; every mutation under ``lock``."""

    def __init__(
        self, population: Population, faults: Faults, ttl_s: float, today: Callable[[], date]
    ) -> None:
        self.population = population
        self.faults = faults
        self.tokens = TokenStore(ttl_s, faults)
        self.today = today
        self.lock = threading.Lock()
        self.lookups_by_card: collections.Counter[str] = collections.Counter()
        self.requests_by_card: collections.Counter[str] = collections.Counter()
        self.replays_by_card: collections.Counter[str] = collections.Counter()
        self.history: dict[str, list[dict]] = {}
        self.answered: collections.OrderedDict[tuple[str, str], _Answered] = (
            collections.OrderedDict()
        )
        self.stopping = threading.Event()

    def answered_before(self, username: str, key: str, request: CardRequest) -> _Answered | None:
        """The answer kept for this account's key, if any and not expired (counted)."""
        now = time.monotonic()
        with self.lock:
            while self.answered:
                oldest = next(iter(self.answered.values()))
                if now - oldest.at < IDEMPOTENCY_TTL_S:
                    break
                self.answered.popitem(last=False)
            found = self.answered.get((username, key))
            if found is not None and found.same_question(request):
                self.replays_by_card[request.number.strip()] += 1
            return found

    def remember(self, username: str, key: str, request: CardRequest, reply: dict) -> None:
        with self.lock:
            self.answered[(username, key)] = _Answered(request, reply, time.monotonic())
            while len(self.answered) > IDEMPOTENCY_LIMIT:
                self.answered.popitem(last=False)

    def count_request(self, number: str) -> None:
        with self.lock:
            self.requests_by_card[number] += 1

    def record_lookup(self, number: str, decision: Decision, username: str) -> list[dict]:
        """Count the lookup; log it against the person's card; return that card's log."""
        with self.lock:
            self.lookups_by_card[number] += 1
            if decision.person is None:
                return []
            entries = self.history.setdefault(decision.person.card_number, [])
            entries.append(self._history_entry(decision, username))
            del entries[:-HISTORY_LIMIT]
            return list(entries)

    def _history_entry(self, decision: Decision, username: str) -> dict[str, str]:
        return {
            "userKT": username,
            "thoiGianKT": datetime.now().strftime("%Y%m%d%H%M"),
            "thongBao": decision.message,
            "maLoi": decision.code,
            "maCSKCB": self.population.facility_code,
            "tenCSKCB": self.population.facility_name,
        }

    def stats(self) -> dict[str, Any]:
        with self.lock:
            lookups = _masked_counts(self.lookups_by_card)
            requests = _masked_counts(self.requests_by_card)
            replays = _masked_counts(self.replays_by_card)
        return {
            "lookups": lookups,
            "requests": requests,
            "replays": replays,
            "tokens_issued": self.tokens.issued,
            "tokens_active": self.tokens.active(),
            "fault": self.faults.state.to_json(),
        }


@dataclass(frozen=True)
class _Answered:
    """A card check answered under an idempotency key: what was asked, what was said, when."""

    request: CardRequest
    reply: dict
    at: float  # time.monotonic()

    def same_question(self, request: CardRequest) -> bool:
        """The same card, name and birth date: whichever officer asks again (the desk may
        have been restarted under another officer), the answer stands."""
        mine = self.request
        return (mine.number.strip(), mine.full_name, mine.date_of_birth) == (
            request.number.strip(),
            request.full_name,
            request.date_of_birth,
        )


def _masked_counts(counter: collections.Counter[str]) -> dict[str, int]:
    out: collections.Counter[str] = collections.Counter()
    for number, count in counter.items():
        out[mask(number)] += count
    return dict(out)


# --- HTTP ------------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: _State

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("sandbox: connection error from %s", client_address[0])


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    server_version = "egw-sandbox"
    sys_version = ""
    timeout = 60
    server: _Server

    # Quiet: the default access log prints the request line, query string and all.
    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    @property
    def state(self) -> _State:
        return self.server.state

    @property
    def path_only(self) -> str:
        return urlsplit(self.path).path

    def _dispatch(self, method: str) -> None:
        body = self._read_body()
        if body is None:
            return
        route = _ROUTES.get(self.path_only)
        try:
            if route is None:
                self.send_json(404, {"maKetQua": "404", "ghiChu": "Không tìm thấy đường dẫn."})
            elif route[0] != method:
                self.send_json(405, {"maKetQua": "405", "ghiChu": "Phương thức không hỗ trợ."})
            else:
                route[1](self, body)
        except ConnectionError:
            self.close_connection = True  # the client went away (e.g. it timed out)
        except Exception as exc:  # never let a traceback (with its locals) reach stderr
            log.warning("sandbox: %s on %s", type(exc).__name__, self.path_only)
            self.send_json(500, {"maKetQua": "500", "ghiChu": "Lỗi hệ thống."})

    def _read_body(self) -> bytes | None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY_BYTES:
            self.close_connection = True
            self.send_json(413, {"maKetQua": "205", "ghiChu": "Dữ liệu gửi lên không hợp lệ."})
            return None
        return self.rfile.read(length) if length else b""

    def send_json(self, status: int, payload: Any) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_bytes(status, body, "application/json; charset=utf-8")

    def send_bytes(self, status: int, body: bytes, content_type: str | None) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)
        log.info("sandbox: %s %s -> %d", self.command, self.path_only, status)

    def query(self) -> dict[str, str]:
        values = parse_qs(urlsplit(self.path).query, keep_blank_values=True)
        return {k: v[0] for k, v in values.items()}

    def is_loopback_client(self) -> bool:
        try:
            address = ipaddress.ip_address(self.client_address[0])
        except ValueError:
            return False
        mapped = getattr(address, "ipv4_mapped", None)
        return address.is_loopback or bool(mapped and mapped.is_loopback)

    def apply_fault(self, card_check: bool) -> bool:
        """Act out the current fault; True when the request has been dealt with."""
        state = self.state.faults.state
        if state.mode == "slow":
            self.state.stopping.wait(state.delay_s)
            return False
        if state.mode == "down":
            self.close_connection = True
            log.info("sandbox: %s %s -> dropped (fault down)", self.command, self.path_only)
            return True
        if state.mode == "http500":
            self.send_bytes(500, _HTML_500, "text/html; charset=utf-8")
            return True
        if state.mode == "garbage":
            self.send_bytes(200, _GARBAGE, "application/json; charset=utf-8")
            return True
        if state.mode == "401_empty" and card_check:
            self.send_bytes(401, b"", None)
            return True
        if state.mode == "trickle":
            self.trickle(_TRICKLE_BODY, state.delay_s)
            return True
        return False

    def trickle(self, body: bytes, every_s: float) -> None:
        """Headers at once, then the body a byte at a time (stops when the sandbox stops or
        the client hangs up)."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.flush()
        try:
            for byte in body:
                if self.state.stopping.wait(every_s):
                    break
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
        except OSError:  # the client gave up: what the fault is for
            self.close_connection = True
        log.info("sandbox: %s %s -> 200 (fault trickle)", self.command, self.path_only)


def _parse_body(handler: _Handler, body: bytes) -> dict[str, Any] | None:
    """Form-urlencoded or JSON, whichever it is; None when it is neither."""
    content_type = handler.headers.get("Content-Type", "")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if "json" in content_type or text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            return None
        return data if isinstance(data, dict) else None
    return {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}


# --- routes ----------------------------------------------------------------------------------


def _take_token(handler: _Handler, body: bytes) -> None:
    if handler.apply_fault(card_check=False):
        return
    fields = _parse_body(handler, body) or {}
    username, password = fields.get("username"), fields.get("password")
    account = handler.state.population.account(username) if isinstance(username, str) else None
    if account is None or not _md5_matches(password, account.password_md5):
        handler.send_json(401, {"maKetQua": "401"})
        return
    token, expires = handler.state.tokens.issue(account.username, handler.client_address[0])
    handler.send_json(
        200,
        {
            "maKetQua": "200",
            "APIKey": {
                "access_token": token.access_token,
                "id_token": token.id_token,
                "token_type": "Bearer",
                "username": account.username,
                "expires_in": expires_text(expires),
            },
        },
    )


def _md5_matches(given: Any, expected_upper: str) -> bool:
    return isinstance(given, str) and secrets.compare_digest(given.upper(), expected_upper)


def _check_card(handler: _Handler, body: bytes) -> None:
    state = handler.state
    fields = _parse_body(handler, body)
    number = fields.get("maThe") if fields else None
    if isinstance(number, str):
        state.count_request(number.strip())
    if handler.apply_fault(card_check=True):
        return
    auth_problem = _auth_problem(handler)
    if auth_problem:
        handler.send_json(401, {"maKetQua": "401", "ghiChu": auth_problem})
        return
    request = _card_request(fields)
    today = state.today()
    if request is None:
        handler.send_json(200, card_reply(Decision("205"), today, []))
        return
    username = handler.query()["username"]
    key = handler.headers.get(IDEMPOTENCY_HEADER, "").strip()
    if key:
        earlier = state.answered_before(username, key, request)
        if earlier is not None:
            if not earlier.same_question(request):
                handler.send_json(
                    422,
                    {"maKetQua": "422", "ghiChu": "Idempotency-Key đã dùng cho yêu cầu khác."},
                )
            else:
                handler.send_json(200, earlier.reply)
            return
    decision = decide(state.population, request, today)
    history = state.record_lookup(request.number.strip(), decision, username)
    log.info("sandbox: card check %s -> %s", mask(request.number), decision.code)
    reply = card_reply(decision, today, history)
    if key and decision.code not in NOT_REMEMBERED:
        state.remember(username, key, request, reply)
    handler.send_json(200, reply)


def _card_request(fields: dict[str, Any] | None) -> CardRequest | None:
    if fields is None:
        return None
    values = [fields.get(name) for name in CARD_FIELDS]
    if not all(isinstance(v, str) for v in values):
        return None
    return CardRequest(*values)


def _auth_problem(handler: _Handler) -> str | None:
    """Why the query-string credentials fail, in Vietnamese; None when they are good."""
    query = handler.query()
    state = handler.state
    token = state.tokens.find(query.get("token", ""))
    if token is None:
        return "Token không hợp lệ hoặc đã hết hạn."
    if query.get("id_token") != token.id_token:
        return "id_token không khớp với token."
    if token.client_ip != handler.client_address[0]:
        return "Token không được cấp cho địa chỉ IP này."
    account = state.population.account(query.get("username", ""))
    if account is None or account.username != token.username:
        return "Tài khoản không khớp với token."
    if not _md5_matches(query.get("password"), account.password_md5):
        return "Mật khẩu không đúng."
    return None


def _set_faults(handler: _Handler, body: bytes) -> None:
    if not handler.is_loopback_client():
        handler.send_json(403, {"error": "sandbox controls are loopback-only"})
        return
    try:
        data = json.loads(body or b"{}")
        if not isinstance(data, dict):
            raise ValueError("body must be a JSON object")
        fault = handler.state.faults.set(str(data.get("mode", "none")), data.get("delay_s"))
    except ValueError as exc:  # JSONDecodeError is a ValueError
        handler.send_json(400, {"error": str(exc)})
        return
    handler.send_json(200, {"fault": fault.to_json()})


def _get_stats(handler: _Handler, body: bytes) -> None:
    if not handler.is_loopback_client():
        handler.send_json(403, {"error": "sandbox controls are loopback-only"})
        return
    handler.send_json(200, handler.state.stats())


_ROUTES: dict[str, tuple[str, Callable[[_Handler, bytes], None]]] = {
    TOKEN_PATH: ("POST", _take_token),
    CARD_CHECK_PATH: ("POST", _check_card),
    FAULTS_PATH: ("POST", _set_faults),
    STATS_PATH: ("GET", _get_stats),
}


# --- the public object -----------------------------------------------------------------------


class Sandbox:
    """The sandbox gateway. ``with Sandbox() as sb: requests.post(sb.url + …)``."""

    def __init__(
        self,
        population: Path | str | Population | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        token_ttl_s: float = 600,
        today: Callable[[], date] | None = None,
    ) -> None:
        if not isinstance(population, Population):
            population = load_population(population)
        self.population = population
        self.host = host
        self.port = port
        self.faults = Faults()
        self._state = _State(population, self.faults, token_ttl_s, today or date.today)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._serving = False

    @property
    def lookups_by_card(self) -> collections.Counter[str]:
        """Card checks looked up (authenticated, a result code given), per ``maThe`` as sent;
        repeats answered from the idempotency record are not lookups (``replays_by_card``)."""
        return self._state.lookups_by_card

    @property
    def replays_by_card(self) -> collections.Counter[str]:
        """Repeats of an answered ``Idempotency-Key`` request, answered from the record."""
        return self._state.replays_by_card

    @property
    def requests_by_card(self) -> collections.Counter[str]:
        """Card-check requests received, per ``maThe``, including those failed by a fault or 401."""
        return self._state.requests_by_card

    @property
    def tokens_issued(self) -> int:
        return self._state.tokens.issued

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("sandbox not started: call start(), bind() or serve_forever()")
        return f"http://{_url_host(self.host)}:{self.port}"

    def gateway_config(self, **overrides: Any) -> GatewayConfig:
        """The ``[gateway]`` settings a desk needs to use this sandbox: its URL, its first
        account, its first registered officer and the facility code."""
        account, officer = self.population.accounts[0], self.population.officers[0]
        settings: dict[str, Any] = {
            "url": self.url,
            "username": account.username,
            "password": account.password,
            "officer_name": officer.name,
            "officer_id": officer.citizen_id,
            "facility_code": self.population.facility_code,
        }
        settings.update(overrides)
        return GatewayConfig(**settings)

    def stats(self) -> dict[str, Any]:
        return self._state.stats()

    def bind(self) -> Sandbox:
        """Open the listening socket (port 0 picks a free one); idempotent."""
        if self._server is None:
            server_class = _Server6 if ":" in self.host else _Server
            self._server = server_class((self.host, self.port), _Handler)
            self._server.state = self._state
            self.port = self._server.server_address[1]
            self._state.stopping.clear()
        return self

    def start(self) -> Sandbox:
        """Serve in a daemon thread; returns at once."""
        self.bind()
        if self._thread is None:
            self._serving = True
            self._thread = threading.Thread(
                target=self._server.serve_forever,  # type: ignore[union-attr]
                kwargs={"poll_interval": 0.1},
                name=f"sandbox-{self.port}",
                daemon=True,
            )
            self._thread.start()
            log.info("sandbox: listening on %s", self.url)
        return self

    def serve_forever(self) -> None:
        """Serve in the foreground until Ctrl-C (or :meth:`stop` from another thread)."""
        self.bind()
        self._serving = True
        log.info("sandbox: listening on %s", self.url)
        try:
            self._server.serve_forever(poll_interval=0.2)  # type: ignore[union-attr]
        except KeyboardInterrupt:
            log.info("sandbox: interrupted")
        finally:
            self._close()

    def stop(self) -> None:
        """Stop serving and release the port; safe to call twice."""
        self._state.stopping.set()
        server = self._server
        if server is not None and self._serving:
            server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._close()

    def _close(self) -> None:
        self._state.stopping.set()
        server, self._server = self._server, None
        if server is not None:
            server.server_close()
        self._serving = False

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _url_host(host: str) -> str:
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host
