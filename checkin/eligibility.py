"""From a gateway answer (or its absence) to the desk's verdict.

Every result code of formats.md §6.6 maps to a status, a short Vietnamese message and the
next action for the desk. The table is data; :func:`decide` adds what depends on the answer
(the new card of a 003/004, the facility, the validity window).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime

from checkin.gateway.protocol import CardAnswer
from checkin.model import Source, Status


@dataclass(frozen=True)
class Rule:
    status: Status
    message: str
    action: str


ELIGIBLE, WARNING, NOT_ELIGIBLE, UNVERIFIED = (
    Status.ELIGIBLE,
    Status.WARNING,
    Status.NOT_ELIGIBLE,
    Status.UNVERIFIED,
)
_SELF_PAY = "Không được hưởng BHYT: hướng dẫn khám dịch vụ (tự chi trả)"
_RETRY_LATER = "Vẫn tiếp nhận người bệnh; hệ thống sẽ tra cứu lại sau"
_FIX_OFFICER = "Báo IT kiểm tra họ tên và CCCD cán bộ tra cứu; vẫn tiếp nhận, tra cứu lại sau"

RULES: dict[str, Rule] = {
    "000": Rule(ELIGIBLE, "Thẻ còn giá trị sử dụng", "Tiếp nhận bình thường"),
    "001": Rule(WARNING, "Thẻ do BHXH Bộ Quốc phòng quản lý", "Kiểm tra thẻ và giấy tờ tùy thân"),
    "002": Rule(WARNING, "Thẻ do BHXH Bộ Công an quản lý", "Kiểm tra thẻ và giấy tờ tùy thân"),
    "003": Rule(WARNING, "Thẻ cũ hết hạn, đã được cấp thẻ mới", "Dùng mã và hạn của thẻ mới"),
    "004": Rule(WARNING, "Thẻ cũ còn hạn, đã được cấp thẻ mới", "Dùng mã và hạn của thẻ mới"),
    "010": Rule(NOT_ELIGIBLE, "Thẻ hết hạn sử dụng", _SELF_PAY),
    "050": Rule(NOT_ELIGIBLE, "Không tìm thấy thông tin thẻ", "Kiểm tra lại số thẻ và giấy tờ"),
    "051": Rule(WARNING, "Mã thẻ không đúng", "Kiểm tra và nhập lại mã thẻ"),
    "052": Rule(WARNING, "Mã tỉnh cấp thẻ không đúng", "Kiểm tra ký tự 4–5 của mã thẻ"),
    "053": Rule(WARNING, "Mã quyền lợi không đúng", "Kiểm tra ký tự thứ 3 của mã thẻ"),
    "054": Rule(UNVERIFIED, "CCCD cán bộ tra cứu chưa được đăng ký", _FIX_OFFICER),
    "055": Rule(UNVERIFIED, "Họ tên cán bộ tra cứu không khớp CCCD", _FIX_OFFICER),
    "060": Rule(WARNING, "Sai họ tên", "Xác nhận họ tên với người bệnh rồi tra cứu lại"),
    "061": Rule(WARNING, "Sai họ tên (đúng ký tự đầu)", "Xác nhận họ tên rồi tra cứu lại"),
    "070": Rule(WARNING, "Sai ngày sinh", "Xác nhận ngày sinh với người bệnh rồi tra cứu lại"),
    "080": Rule(WARNING, "Sai giới tính", "Xác nhận giới tính rồi tra cứu lại"),
    "090": Rule(WARNING, "Sai nơi đăng ký KCB ban đầu", "Kiểm tra nơi đăng ký KCB ban đầu"),
    "100": Rule(UNVERIFIED, "Cổng BHXH lỗi khi lấy dữ liệu thẻ", _RETRY_LATER),
    "101": Rule(UNVERIFIED, "Cổng BHXH lỗi máy chủ", _RETRY_LATER),
    "110": Rule(NOT_ELIGIBLE, "Thẻ đã bị thu hồi", _SELF_PAY),
    "120": Rule(NOT_ELIGIBLE, "Thẻ đã báo giảm", _SELF_PAY),
    "121": Rule(NOT_ELIGIBLE, "Thẻ đã báo giảm (chuyển ngoại tỉnh)", _SELF_PAY),
    "122": Rule(NOT_ELIGIBLE, "Thẻ đã báo giảm (chuyển nội tỉnh)", _SELF_PAY),
    "123": Rule(NOT_ELIGIBLE, "Thẻ đã báo giảm (tăng lại cùng đơn vị)", _SELF_PAY),
    "124": Rule(NOT_ELIGIBLE, "Thẻ đã báo giảm (dừng tham gia)", _SELF_PAY),
    "130": Rule(WARNING, "Trẻ em chưa có thẻ", "Làm thủ tục mã thẻ tạm cho trẻ"),
    "205": Rule(WARNING, "Sai định dạng dữ liệu tra cứu", "Kiểm tra số thẻ, họ tên, ngày sinh"),
    "401": Rule(UNVERIFIED, "Cổng BHXH từ chối tài khoản", _FIX_OFFICER),
    "500": Rule(UNVERIFIED, "Cổng BHXH lỗi hoặc tài khoản bị hạn chế", _RETRY_LATER),
}

# Codes that say nothing about the card: the gateway (or our account) failed. Such answers are
# not cached and the visit stays unverified, to be re-checked.
GATEWAY_FAILURE_CODES = frozenset({"054", "055", "100", "101", "401", "500"})
# Of those, the ones that mean the gateway itself is failing (the breaker counts them).
GATEWAY_ERROR_CODES = frozenset({"100", "101", "500"})
UNKNOWN_CODE = Rule(UNVERIFIED, "Cổng BHXH trả mã kết quả lạ", _RETRY_LATER)


@dataclass(frozen=True)
class Decision:
    """The verdict the desk shows, with what it rests on. Keys follow the CLI contract."""

    status: Status
    result_code: str | None
    message: str
    action: str
    source: Source
    card_number: str | None = None
    valid_from: str | None = None
    valid_to: str | None = None
    registered_facility: str | None = None
    checked_at: str | None = None
    error: str | None = None  # why no online answer was had (evidence of the failed lookup)
    attempted_at: str | None = None  # when that failed lookup was tried
    cached_status: Status | None = None  # the cached answer's own verdict, advisory only

    def to_json(self) -> dict:
        data = asdict(self)
        for key in ("status", "source", "cached_status"):
            if data[key] is not None:
                data[key] = data[key].value
        return data

    @classmethod
    def from_json(cls, data: dict) -> Decision:
        values = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        values["status"] = Status(values["status"])
        values["source"] = Source(values["source"])
        if values.get("cached_status"):
            values["cached_status"] = Status(values["cached_status"])
        return cls(**values)


def rule_for(code: str | None) -> Rule:
    return RULES.get(code or "", UNKNOWN_CODE)


def is_card_answer(answer: CardAnswer) -> bool:
    """True when the answer says something about the card (worth caching and trusting)."""
    return answer.result_code in RULES and answer.result_code not in GATEWAY_FAILURE_CODES


EXPIRY_NOTICE_DAYS = 30


def decide(answer: CardAnswer, *, facility_code: str = "", today: date | None = None) -> Decision:
    """The verdict for an answer just had from the gateway."""
    day = today or date.today()
    rule = rule_for(answer.result_code)
    card = _current_card(answer, day)
    status, message, action = rule.status, rule.message, rule.action
    if rule.status is ELIGIBLE:
        status, message, action = _dated_verdict(card, facility_code, day)
    return Decision(
        status=status,
        result_code=answer.result_code,
        message=message,
        action=action,
        source=Source.ONLINE,
        checked_at=answer.received_at,
        **card,
    )


def _dated_verdict(card: dict, facility_code: str, today: date) -> tuple[Status, str, str]:
    """A 000 answer, read against the card's own dates and this hospital's code."""
    valid_from, valid_to = _date(card.get("valid_from")), _date(card.get("valid_to"))
    if valid_from and valid_from > today:
        message = f"Thẻ chưa đến hạn sử dụng (từ {valid_from:%d/%m/%Y})"
        return WARNING, message, "Kiểm tra ngày hiệu lực; chưa hưởng BHYT trước ngày đó"
    if valid_to and valid_to < today:
        message = f"Cổng báo hợp lệ nhưng thẻ ghi hết hạn {valid_to:%d/%m/%Y}"
        return WARNING, message, "Kiểm tra lại thẻ (quy định 15 ngày sau hết hạn khi đang điều trị)"
    parts = [RULES["000"].message]
    if valid_to:
        parts.append(f"đến {valid_to:%d/%m/%Y}")
        left = (valid_to - today).days
        if left <= EXPIRY_NOTICE_DAYS:
            parts.append(f"(còn {left} ngày)")
    if facility_code and card.get("registered_facility") not in (None, facility_code):
        parts.append(f"· ĐKBĐ nơi khác: {card['registered_facility']}")
    return ELIGIBLE, " ".join(parts), RULES["000"].action


NO_ANSWER_WORDS = "cổng BHXH không trả lời"
ACCOUNT_REFUSED_WORDS = "cổng BHXH từ chối tài khoản bệnh viện, báo IT"


def from_cache(
    answer: CardAnswer, *, error: str, now: datetime, why: str = NO_ANSWER_WORDS
) -> Decision:
    """Gateway down (or refusing the account: ``why``), cached answer available: show it,
    honestly, as unverified."""
    cached = decide(answer)
    age = _age_words(answer.received_at, now)
    return Decision(
        status=UNVERIFIED,
        result_code=answer.result_code,
        message=f"Chưa xác minh ({why}). Lần tra cứu {age}: {cached.message}",
        action=_RETRY_LATER,
        source=Source.CACHE,
        card_number=cached.card_number,
        valid_from=cached.valid_from,
        valid_to=cached.valid_to,
        registered_facility=cached.registered_facility,
        checked_at=answer.received_at,
        error=error,
        attempted_at=now.isoformat(timespec="seconds"),
        cached_status=cached.status,
    )


def without_answer(
    error: str,
    *,
    message: str | None = None,
    at: datetime | None = None,
    printed: tuple[str | None, str | None] = (None, None),
) -> Decision:
    """No answer at all: admitted, unverified, re-checked later (NĐ 188/2025 Art. 38(2)).

    ``printed``: the validity the QR itself carries (from, to). The gateway's word is what
    counts, but a card whose own QR says it ran out two years ago deserves a look at the
    papers now rather than a surprise at the re-check."""
    moment = at or datetime.now().astimezone()
    words = message or "Chưa xác minh: cổng BHXH không trả lời"
    warning = printed_validity_warning(*printed, today=moment.date())
    return Decision(
        status=UNVERIFIED,
        result_code=None,
        message=f"{words} · {warning}" if warning else words,
        action=_RETRY_LATER,
        source=Source.NONE,
        error=error,
        attempted_at=moment.isoformat(timespec="seconds"),
    )


def printed_validity_warning(
    valid_from: str | None, valid_to: str | None, *, today: date
) -> str | None:
    """What the QR's own dates say against today, when they say something is wrong."""
    ends, starts = _date(valid_to), _date(valid_from)
    if ends is not None and ends < today:
        return f"Mã QR ghi thẻ hết hạn {ends:%d/%m/%Y}: kiểm tra thẻ mới"
    if starts is not None and starts > today:
        return f"Mã QR ghi thẻ chưa đến hạn (từ {starts:%d/%m/%Y})"
    return None


def _current_card(answer: CardAnswer, today: date) -> dict:
    """003: the new card. 004: both are valid; the one valid on the day of the visit."""
    new = answer.new_card
    use_new = answer.result_code == "003" or (
        answer.result_code == "004" and (_date(new.valid_from) or today) <= today if new else False
    )
    if new and new.card_number and use_new:
        return {
            "card_number": new.card_number,
            "valid_from": new.valid_from,
            "valid_to": new.valid_to,
            "registered_facility": new.registered_facility or answer.registered_facility,
        }
    return {
        "card_number": answer.card_number,
        "valid_from": answer.valid_from,
        "valid_to": answer.valid_to,
        "registered_facility": answer.registered_facility,
    }


def _date(iso: str | None) -> date | None:
    try:
        return date.fromisoformat(iso) if iso else None
    except ValueError:
        return None


def _age_words(received_at: str, now: datetime) -> str:
    try:
        then = datetime.fromisoformat(received_at)
    except ValueError:
        return "trước đây"
    local = then.astimezone()
    minutes = max(0, int((now - then).total_seconds() // 60))
    if minutes < 60:
        ago = f"{minutes} phút trước"
    elif minutes < 48 * 60:
        ago = f"{minutes // 60} giờ trước"
    else:
        ago = f"{minutes // (24 * 60)} ngày trước"
    return f"lúc {local:%H:%M %d/%m/%Y} ({ago})"
