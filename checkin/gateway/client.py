"""HTTP client for the BHXH insurance gateway (formats.md §6), over ``requests``.

Credentials travel in the query string of every card check (the protocol's choice), so this
module never puts a URL into a log line or an exception message: errors carry the host and
what went wrong, nothing else, and are raised ``from None`` so that a logged traceback cannot
leak the URL of the failed request either.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import requests
import urllib3

from checkin.gateway.protocol import (
    CARD_CHECK_PATH,
    IDEMPOTENCY_HEADER,
    TOKEN_PATH,
    CardAnswer,
    CardQuery,
    card_check_body,
    parse_card_reply,
    password_hash,
)
from checkin.model import Officer

if TYPE_CHECKING:
    from checkin.config import GatewayConfig

log = logging.getLogger(__name__)


class _RedactQueryStrings(logging.Filter):
    """urllib3 logs every request line, query string included, at DEBUG. The gateway's query
    string holds the token and the password hash, so it is cut from those records whatever
    level logging is set to."""

    _QUERY = re.compile(r"\?[^\s\"']*")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "?" in message:
            record.msg = self._QUERY.sub("?<redacted>", message)
            record.args = None
        return True


for _name in ("urllib3.connectionpool", "urllib3.util.retry", "requests"):
    logging.getLogger(_name).addFilter(_RedactQueryStrings())

READ_CHUNK = 64 * 1024
MAX_BODY_BYTES = 4 * 1024 * 1024  # a card answer is a few kB; more is not a gateway talking
TOKEN_SAFETY_MARGIN = timedelta(seconds=30)
DEFAULT_TOKEN_LIFETIME = timedelta(minutes=10)


class GatewayError(Exception):
    """The gateway gave no usable answer. Messages are safe to show and to log.

    ``status`` and ``raw`` are the HTTP status and the body (as text) of the reply that failed,
    None when there was no reply: the evidence of the failed lookup (formats.md §7). They are
    on the exception, not on the client, because lookups run in parallel. ``raw`` never holds
    a token: a token reply's key is cut out (:func:`_token_reply_text`)."""

    def __init__(self, message: str, *, status: int | None = None, raw: str | None = None):
        super().__init__(message)
        self.status = status
        self.raw = raw


class GatewayUnavailable(GatewayError):
    """Down, slow, refusing, erroring (5xx) or talking nonsense: try again later."""


class GatewayAuthError(GatewayError):
    """The account was refused even after a fresh token: a configuration problem for IT."""


@dataclass(frozen=True)
class CardReply:
    """A card check's answer with the HTTP exchange it came from: the status and the body as
    received (text), for the evidence of the lookup."""

    answer: CardAnswer
    status: int
    raw: str


@dataclass(frozen=True)
class _Token:
    access_token: str
    id_token: str
    expires_at: datetime


class GatewayClient:
    """One desk's connection to the gateway, acting as one officer.

    Thread-safe: lookups may run in parallel; the token is taken once and shared.
    """

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        officer: Officer,
        *,
        timeout_s: float = 5.0,
        connect_timeout_s: float = 3.0,
        verify: bool | str = True,
        session: requests.Session | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if verify is False:
            raise ValueError("certificate verification cannot be turned off")
        self._base = base_url.rstrip("/")
        self._host = urlsplit(self._base).netloc
        self._username = username
        self._password_md5 = password_hash(password)
        self.officer = officer
        self._timeout = (connect_timeout_s, timeout_s)
        self._verify = verify
        self._session = session or requests.Session()
        self._clock = clock or (lambda: datetime.now(UTC))
        self._token: _Token | None = None
        self._token_lock = threading.Lock()

    @classmethod
    def from_config(cls, config: GatewayConfig) -> GatewayClient:
        """A client for the ``[gateway]`` section, acting as its configured officer."""
        return cls(
            config.url,
            config.username,
            config.password,
            config.officer,
            timeout_s=config.timeout_s,
            connect_timeout_s=config.connect_timeout_s,
            verify=config.verify,
        )

    @property
    def timeout_s(self) -> float:
        return self._timeout[1]

    def close(self) -> None:
        self._session.close()

    def check_card(self, query: CardQuery, *, idempotency_key: str | None = None) -> CardAnswer:
        """Ask about one card; a fresh token is taken once if the gateway says 401.

        ``idempotency_key`` (an outbox entry's) goes in an ``Idempotency-Key`` header
        (draft-ietf-httpapi-idempotency-key-header): a gateway that honours it (the sandbox
        does) answers a repeat of an answered request from its record instead of looking the
        card up again, so a desk killed between the answer and its commit re-checks once.
        """
        return self.check_card_reply(query, idempotency_key=idempotency_key).answer

    def check_card_reply(
        self, query: CardQuery, *, idempotency_key: str | None = None
    ) -> CardReply:
        """:meth:`check_card`, with the HTTP status and the raw body of the answer."""
        body = card_check_body(query, self.officer)
        headers = {IDEMPOTENCY_HEADER: idempotency_key} if idempotency_key else None
        for attempt in (1, 2):
            token = self._current_token()
            status, reply, content = self._post(
                CARD_CHECK_PATH, body, params=self._auth_params(token), headers=headers
            )
            text = _text_of(content)
            if status == 401 or str(reply.get("maKetQua", "")) == "401":
                self._drop_token(token)
                if attempt == 1:
                    continue
                raise GatewayAuthError(
                    "the gateway refused the desk's token twice; check the account",
                    status=status,
                    raw=text,
                )
            if "maKetQua" not in reply:
                raise GatewayUnavailable(
                    f"the gateway answered HTTP {status} without a result code",
                    status=status,
                    raw=text,
                )
            return CardReply(parse_card_reply(reply, self._clock()), status, text)
        raise AssertionError("unreachable")

    def take_token(self) -> None:
        """Take a token now (the connection test in diagnostics uses this)."""
        self._current_token(force=True)

    # -- token ---------------------------------------------------------------------------

    def _current_token(self, force: bool = False) -> _Token:
        with self._token_lock:
            token = self._token
            if force or token is None or self._clock() >= token.expires_at - TOKEN_SAFETY_MARGIN:
                self._token = token = self._take_token()
            return token

    def _drop_token(self, used: _Token) -> None:
        with self._token_lock:
            if self._token is used:
                self._token = None

    def _take_token(self) -> _Token:
        form = {"username": self._username, "password": self._password_md5}
        try:
            status, reply, content = self._post(TOKEN_PATH, form)
        except GatewayError as exc:
            exc.raw = _token_reply_text(exc.raw)
            raise
        key = reply.get("APIKey") if isinstance(reply.get("APIKey"), dict) else None
        if status == 401 or str(reply.get("maKetQua")) in ("401", "402", "403"):
            code = reply.get("maKetQua", status)
            raise GatewayAuthError(
                f"the gateway refused the account (token code {code})",
                status=status,
                raw=_token_reply_text(_text_of(content)),
            )
        if str(reply.get("maKetQua")) != "200" or not key or not key.get("access_token"):
            raise GatewayUnavailable(
                f"the gateway gave no token (HTTP {status})",
                status=status,
                raw=_token_reply_text(_text_of(content)),
            )
        return _Token(
            access_token=str(key["access_token"]),
            id_token=str(key.get("id_token", "")),
            expires_at=self._expiry(key.get("expires_in")),
        )

    def _expiry(self, value: object) -> datetime:
        """``expires_in`` is an absolute UTC timestamp, not seconds (formats.md §6.2)."""
        if isinstance(value, str):
            try:
                stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
                return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
            except ValueError:
                pass
        return self._clock() + DEFAULT_TOKEN_LIFETIME

    def _auth_params(self, token: _Token) -> dict[str, str]:
        return {
            "token": token.access_token,
            "id_token": token.id_token,
            "username": self._username,
            "password": self._password_md5,
        }

    # -- transport -----------------------------------------------------------------------

    def _post(
        self,
        path: str,
        form: dict[str, str],
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict, bytes]:
        """POST form-encoded; return (HTTP status, JSON object, body). 4xx/5xx bodies may still
        hold a ``maKetQua`` (formats.md §6.8), so the body is read before the status is judged.
        A :class:`GatewayError` raised once a reply came carries its status (and body)."""
        deadline = time.monotonic() + self._timeout[0] + self._timeout[1]
        try:
            response = self._session.post(
                self._base + path,
                params=params,
                data=form,
                headers=headers,
                timeout=self._timeout,
                verify=self._verify,  # on every request: env CA bundles override the session
                allow_redirects=False,
                stream=True,  # the body is read below, against a deadline for the whole call
            )
            try:
                content = self._read_body(response, deadline)
            except GatewayError as exc:
                exc.status = response.status_code
                raise
            finally:
                response.close()
        except requests.exceptions.SSLError:
            raise GatewayUnavailable(f"TLS to {self._host} failed (certificate?)") from None
        except requests.exceptions.ConnectTimeout:
            raise GatewayUnavailable(
                f"no connection to {self._host} within {self._timeout[0]:g} s"
            ) from None
        except requests.exceptions.Timeout:
            raise GatewayUnavailable(
                f"{self._host} did not answer within {self._timeout[1]:g} s"
            ) from None
        except requests.exceptions.ConnectionError:
            raise GatewayUnavailable(f"cannot reach {self._host} (refused or dropped)") from None
        except requests.exceptions.RequestException as exc:
            raise GatewayUnavailable(
                f"request to {self._host} failed: {type(exc).__name__}"
            ) from None
        try:
            body = self._json_body(response.status_code, content)
        except GatewayError as exc:
            exc.status, exc.raw = response.status_code, _text_of(content)
            raise
        return response.status_code, body, content

    def _read_body(self, response: requests.Response, deadline: float) -> bytes:
        """The whole body by ``deadline``: requests' read timeout bounds each read, not the
        call, so a gateway dribbling a byte a second would otherwise hold a scan for minutes."""
        raw = response.raw
        read = getattr(raw, "read1", None) or raw.read
        parts: list[bytes] = []
        size = 0
        while True:
            try:  # decoded: requests asks for gzip/deflate, and the raw stream does not unzip
                chunk = read(READ_CHUNK, decode_content=True)
            except urllib3.exceptions.ReadTimeoutError:  # raw reads are not wrapped by requests
                raise GatewayUnavailable(
                    f"{self._host} did not answer within {self._timeout[1]:g} s"
                ) from None
            except (urllib3.exceptions.HTTPError, OSError):
                raise GatewayUnavailable(
                    f"cannot reach {self._host} (dropped while answering)"
                ) from None
            if not chunk:
                return b"".join(parts)
            parts.append(chunk)
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise GatewayUnavailable(f"{self._host} answered more than {MAX_BODY_BYTES} bytes")
            if time.monotonic() > deadline:
                raise GatewayUnavailable(
                    f"{self._host} did not finish answering within"
                    f" {self._timeout[0] + self._timeout[1]:g} s"
                )

    def _json_body(self, status: int, content: bytes) -> dict:
        try:
            body = json.loads(content) if content else {}
        except (ValueError, RecursionError):  # garbage, or JSON nested past the stack
            body = None
        if isinstance(body, dict) and ("maKetQua" in body or status == 401):
            return body
        if status == 401:
            return {}
        if status >= 500:
            raise GatewayUnavailable(f"{self._host} answered HTTP {status}")
        if body is None or not isinstance(body, dict):
            raise GatewayUnavailable(f"{self._host} answered something that is not JSON")
        return body


def _text_of(content: bytes) -> str:
    """A reply's body as text, for the evidence (bytes that are not UTF-8 replaced)."""
    return content.decode("utf-8", errors="replace")


def _token_reply_text(text: str | None) -> str | None:
    """A token reply's body for the evidence, without its ``APIKey`` (the token itself)."""
    if not text:
        return text
    try:
        body = json.loads(text)
    except (ValueError, RecursionError):
        return text
    if isinstance(body, dict) and "APIKey" in body:
        body["APIKey"] = "<removed>"
        return json.dumps(body, ensure_ascii=False)
    return None if "access_token" in text or "id_token" in text else text
