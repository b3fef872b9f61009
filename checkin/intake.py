"""The desk's path for one patient: parse, look up, decide, register.

Intake never blocks a patient on the gateway: without an answer the visit is registered as
unverified, with the evidence of the failed lookup, and queued for a re-check (NĐ 188/2025
Art. 38(2)). Everything here is plain Python; the Qt desk runs it on worker threads.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from checkin import eligibility
from checkin.breaker import CircuitBreaker
from checkin.eligibility import Decision
from checkin.formats import ParseFailure, PayloadError, parse_payload
from checkin.gateway import (
    CardAnswer,
    CardQuery,
    GatewayClient,
    GatewayError,
    GatewayUnavailable,
)
from checkin.model import Identity, Officer, mask_number
from checkin.store import LookupRecord, Store, Visit, now_local

log = logging.getLogger(__name__)


def why_not_admissible(identity: Identity) -> str | None:
    """Why a parsed scan cannot become a visit, or None. A scanner that gives the card number
    alone: the gateway cannot be asked without the name and birth date, so a visit made now
    could never be re-checked."""
    if identity.full_name and identity.date_of_birth:
        return None
    return (
        "a number alone cannot be checked in: the gateway needs the name and birth"
        " date (the desk asks for them; from the command line use `checkin check`)"
    )


@dataclass(frozen=True)
class IntakeResult:
    visit: Visit
    identity: Identity
    decision: Decision
    reopened: bool = False  # the person was already checked in today: same visit, same number

    def to_json(self) -> dict:
        return {
            "visit_id": self.visit.id,
            "queue_number": self.visit.queue_number,
            "reopened": self.reopened,
            "patient": self.identity.to_json(),
            "decision": self.decision.to_json(),
        }


@dataclass(frozen=True)
class Recheck:
    """A verdict and the lookup it rests on (None when nothing was asked), to record with it
    in the same transaction: a re-check's outcome, or an intake's visit."""

    decision: Decision
    lookup: LookupRecord | None


class Intake:
    """Check-in logic over a store and (optionally) a gateway client."""

    def __init__(
        self,
        store: Store,
        gateway: GatewayClient | None,
        *,
        officer: Officer | None = None,
        facility_code: str = "",
        cache_max_age: timedelta = timedelta(hours=72),
        clock: Callable[[], datetime] = now_local,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self.store = store
        self.gateway = gateway
        self.breaker = breaker or CircuitBreaker()
        self.probing_in_background = False  # set by the outbox sender while it runs
        self.officer = officer or (gateway.officer if gateway else Officer("", ""))
        self.facility_code = facility_code
        self.cache_max_age = cache_max_age
        self.clock = clock

    def handle(
        self, text: str, *, presented_at: datetime | None = None, intake_key: str | None = None
    ) -> IntakeResult:
        """One scanned text to a registered visit. Raises :class:`PayloadError` for text that
        is not a patient's QR (nothing is written then). The same ``intake_key`` twice (a
        retry after a crash) gives the same visit."""
        presented = presented_at or self.clock()
        parsed = parse_payload(text)
        if isinstance(parsed, ParseFailure):
            raise PayloadError(parsed.reason)
        missing = why_not_admissible(parsed)
        if missing:
            raise PayloadError(missing)
        return self.admit(parsed, presented_at=presented, intake_key=intake_key)

    def admit(
        self,
        identity: Identity,
        *,
        presented_at: datetime | None = None,
        intake_key: str | None = None,
    ) -> IntakeResult:
        presented = presented_at or self.clock()
        outcome = self._check(identity)
        decision = _with_card_number(outcome.decision, identity)
        visit, reopened = self.store.register_visit(
            identity,
            decision,
            presented_at=presented,
            intake_key=intake_key,
            lookup=outcome.lookup,  # audited with the visit, in its transaction
        )
        return IntakeResult(visit, identity, visit.decision, reopened)

    def check(self, identity: Identity) -> Decision:
        """Eligibility for one identity: online when the gateway answers, else the cache.
        The lookup is audited without a visit (``checkin check``).

        While the breaker is open no lookup is sent: the answer comes from the cache at once.
        """
        outcome = self._check(identity)
        if outcome.lookup is not None:
            self.store.record_attempt(outcome.lookup)
        return _with_card_number(outcome.decision, identity)

    def _check(self, identity: Identity) -> Recheck:
        """The decision and the lookup it rests on (None when nothing was asked), unwritten."""
        if self.gateway is None:
            return Recheck(self._fallback(identity, NO_GATEWAY, message=NO_GATEWAY_MESSAGE), None)
        if not identity.full_name or not identity.date_of_birth:
            return Recheck(self._fallback(identity, NO_NAME, message=NO_NAME_MESSAGE), None)
        sent, lookup = self._ask(identity)
        answer, error = sent.answer, sent.error
        if answer is None:
            if sent.refused:  # not "down": IT must act
                decision = self._fallback(
                    identity, error, message=ACCOUNT_MESSAGE, why=eligibility.ACCOUNT_REFUSED_WORDS
                )
                return Recheck(decision, lookup)
            return Recheck(self._fallback(identity, error or "no answer"), lookup)
        if eligibility.is_card_answer(answer):
            today = self.clock().date()
            decision = eligibility.decide(answer, facility_code=self.facility_code, today=today)
            return Recheck(decision, lookup)
        cached = self._cached(identity)
        if cached is not None:
            reason = f"gateway code {answer.result_code}"
            return Recheck(eligibility.from_cache(cached, error=reason, now=self.clock()), lookup)
        return Recheck(eligibility.decide(answer, facility_code=self.facility_code), lookup)

    def recheck(self, visit: Visit, *, idempotency_key: str | None = None) -> Recheck:
        """Ask the gateway again about an earlier visit; never answers from the cache. The
        lookup is returned, not written: the caller stores it with the outcome.
        ``idempotency_key`` (the outbox entry's) travels with the request, see
        :meth:`GatewayClient.check_card`."""
        identity = visit.identity
        outcome = self._recheck(identity, idempotency_key)
        lookup = outcome.lookup and replace(outcome.lookup, visit_id=visit.id)
        return Recheck(_with_card_number(outcome.decision, identity), lookup)

    def _recheck(self, identity: Identity, idempotency_key: str | None) -> Recheck:
        if self.gateway is None:
            return Recheck(eligibility.without_answer(NO_GATEWAY, message=NO_GATEWAY_MESSAGE), None)
        if not identity.full_name or not identity.date_of_birth:
            return Recheck(eligibility.without_answer(NO_NAME, message=NO_NAME_MESSAGE), None)
        sent, lookup = self._ask(identity, idempotency_key=idempotency_key)
        answer = sent.answer
        if answer is None:
            return Recheck(eligibility.without_answer(sent.error or "no answer"), lookup)
        if not eligibility.is_card_answer(answer):
            return Recheck(eligibility.without_answer(f"gateway code {answer.result_code}"), lookup)
        return Recheck(eligibility.decide(answer, facility_code=self.facility_code), lookup)

    def probe(self) -> bool:
        """When offline and the cooldown has passed, see whether the gateway is back (a token
        request: it reaches the gateway without looking anyone up). True when online."""
        if self.gateway is None:
            return False
        if self.breaker.online:
            return True
        if not self.breaker.allow():
            return False
        try:
            self.gateway.take_token()
        except GatewayError as exc:
            self.breaker.failed(str(exc))
            return False
        self.breaker.succeeded()
        return True

    def _may_send(self) -> bool:
        """While a background prober runs (the outbox sender), a patient's scan is never the
        probe: offline, it is answered at once from the cache, and only the prober spends a
        timeout finding out whether the gateway is back. Alone (``checkin intake``), the
        breaker lets one lookup through after its cooldown."""
        if self.probing_in_background:
            return self.breaker.online
        return self.breaker.allow()

    def _ask(
        self, identity: Identity, *, idempotency_key: str | None = None
    ) -> tuple[_Sent, LookupRecord]:
        """One lookup through the breaker: what it gave, and the lookup (with its evidence),
        returned, not written: the caller stores it with the visit it was for."""
        assert self.gateway is not None
        number = identity.lookup_number
        query = CardQuery(number, identity.full_name, identity.date_of_birth or "")
        at = self.clock()
        if not self._may_send():
            error = f"not sent: gateway offline ({self.breaker.status.last_error})"
            lookup = LookupRecord(
                self.officer, number, None, error, False, at, query=query, sent=False
            )
            return _Sent(None, error, None, None), lookup
        sent = self._send(query, idempotency_key)
        answer = sent.answer
        cache = answer is not None and eligibility.is_card_answer(answer)
        lookup = LookupRecord(
            self.officer,
            number,
            answer,
            sent.error,
            cache,
            at,
            query=query,
            http_status=sent.status,
            raw_reply=sent.raw,
        )
        return sent, lookup

    def _send(self, query: CardQuery, idempotency_key: str | None = None) -> _Sent:
        assert self.gateway is not None
        try:
            reply = self.gateway.check_card_reply(query, idempotency_key=idempotency_key)
        except GatewayError as exc:
            if isinstance(exc, GatewayUnavailable):
                self.breaker.failed(str(exc))
            else:
                self.breaker.succeeded()  # it answered; the account is the problem
            log.warning("lookup of %s failed: %s", mask_number(query.number), exc)
            if isinstance(exc, GatewayUnavailable):
                return _Sent(None, str(exc), exc.status, exc.raw)
            return _Sent(None, f"account refused: {exc}", exc.status, exc.raw, refused=True)
        except Exception as exc:  # an answer no one foresaw: the visit must still be registered
            # one line where the officer or IT reads; the traceback only in debug logging
            log.error("lookup of %s failed unexpectedly: %s", mask_number(query.number), exc)
            log.debug("lookup failure", exc_info=exc)
            reason = f"the gateway's answer could not be read ({type(exc).__name__})"
            self.breaker.failed(reason)
            return _Sent(None, reason, None, None)
        answer = reply.answer
        if answer.result_code in eligibility.GATEWAY_ERROR_CODES:
            self.breaker.failed(f"gateway code {answer.result_code}")
        else:
            self.breaker.succeeded()
        return _Sent(answer, None, reply.status, reply.raw)

    def _fallback(
        self,
        identity: Identity,
        error: str,
        *,
        message: str | None = None,
        why: str = eligibility.NO_ANSWER_WORDS,
    ) -> Decision:
        cached = self._cached(identity)
        if cached is not None:
            return eligibility.from_cache(cached, error=error, now=self.clock(), why=why)
        printed = (identity.valid_from, identity.valid_to)
        return eligibility.without_answer(error, message=message, at=self.clock(), printed=printed)

    def _cached(self, identity: Identity) -> CardAnswer | None:
        return self.store.cached_answer(identity, max_age=self.cache_max_age, now=self.clock())


@dataclass(frozen=True)
class _Sent:
    """What one request to the gateway gave: an answer or an error, and the HTTP evidence."""

    answer: CardAnswer | None
    error: str | None
    status: int | None
    raw: str | None
    refused: bool = False  # the gateway answered but refused the hospital's account


NO_GATEWAY = "no gateway configured"
NO_GATEWAY_MESSAGE = "Chưa xác minh: chưa cấu hình cổng BHXH"
NO_NAME = "name or birth date missing: cannot ask the gateway"
NO_NAME_MESSAGE = "Chưa xác minh: thiếu họ tên hoặc ngày sinh để tra cứu"
ACCOUNT_MESSAGE = "Chưa xác minh: cổng BHXH từ chối tài khoản bệnh viện, báo IT"


def _with_card_number(decision: Decision, identity: Identity) -> Decision:
    """The card asked about, when the answer names none (060, 070, no answer): the contract's
    ``card_number`` is "full 15 characters when known"."""
    if decision.card_number or not identity.card_number:
        return decision
    return replace(decision, card_number=identity.card_number)
