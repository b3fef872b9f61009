"""Every string the desk shows to a person, as functions over the translation catalog.

Each function returns the text in the current language (:func:`ui.i18n.tr`; Vietnamese is the
key, English lives in ``ui/lang_en.py``), so a window re-labels itself by calling them again
after a language switch. Code names stay English; only the literals here are Vietnamese.

Messages that come from the core (``checkin.eligibility`` verdicts, built in Vietnamese) are
translated by :func:`core_words`: an exact catalog entry first, then the few patterns the core
fills with dates and codes, else the Vietnamese text as it is (never an empty label).
"""

from __future__ import annotations

import re
from datetime import date, datetime

from checkin.eligibility import ACCOUNT_REFUSED_WORDS, Decision
from checkin.model import Gender, Source, Status
from ui.i18n import VIETNAMESE, language, tr

EMPTY_FIELD = "—"
DETAIL_SEPARATOR = " · "


def window_title() -> str:
    return tr("Tiếp nhận người bệnh — BHYT")


# -- banner ----------------------------------------------------------------------------------


def status_title(status: Status) -> str:
    return {
        Status.ELIGIBLE: tr("ĐỦ ĐIỀU KIỆN HƯỞNG BHYT"),
        Status.WARNING: tr("CẦN KIỂM TRA"),
        Status.NOT_ELIGIBLE: tr("KHÔNG ĐỦ ĐIỀU KIỆN HƯỞNG BHYT"),
        Status.UNVERIFIED: tr("CHƯA XÁC MINH"),
    }[status]


def status_short(status: Status) -> str:
    return {
        Status.ELIGIBLE: tr("Đủ điều kiện"),
        Status.WARNING: tr("Cần kiểm tra"),
        Status.NOT_ELIGIBLE: tr("Không đủ ĐK"),
        Status.UNVERIFIED: tr("Chưa xác minh"),
    }[status]


def source_words(source: Source) -> str:
    return {
        Source.ONLINE: tr("Tra cứu trực tuyến cổng BHXH"),
        Source.CACHE: tr("Theo kết quả tra cứu đã lưu"),
        Source.NONE: tr("Chưa có kết quả tra cứu"),
    }[source]


def idle_title() -> str:
    return tr("SẴN SÀNG")


def idle_message() -> str:
    return tr(
        "Đưa mã QR trên thẻ BHYT, CCCD hoặc VssID vào trước camera, hoặc đặt thẻ CCCD lên đầu đọc"
    )


def busy_title() -> str:
    return tr("ĐANG TRA CỨU…")


def busy_message() -> str:
    return tr("Đang kiểm tra thông tin thẻ với cổng BHXH")


def next_action(action: str) -> str:
    return tr("Tiếp theo: {action}", action=core_words(action))


def result_code(code: str) -> str:
    return tr("Mã kết quả {code}", code=code)


def cached_age(checked_at: str | None, now: datetime | None = None) -> str:
    """``"lúc 09:12 (3 giờ trước)"``: when a cached answer was had, and how long ago."""
    if not checked_at:
        return tr("không rõ thời điểm")
    try:
        then = datetime.fromisoformat(checked_at)
    except ValueError:
        return checked_at
    now = now or datetime.now().astimezone()
    if then.tzinfo is None:
        then = then.astimezone()
    minutes = max(0, int((now - then).total_seconds() // 60))
    if minutes < 60:
        ago = tr("{n} phút trước", n=minutes)
    elif minutes < 48 * 60:
        ago = tr("{n} giờ trước", n=minutes // 60)
    else:
        ago = tr("{n} ngày trước", n=minutes // (24 * 60))
    local = then.astimezone()
    same_day = local.date() == now.astimezone().date()
    stamp = local.strftime("%H:%M" if same_day else "%H:%M %d/%m/%Y")
    return tr("lúc {time} ({ago})", time=stamp, ago=ago)


def decision_detail(decision: Decision, now: datetime | None = None) -> str:
    """Where a verdict came from: online, the cache (with its age), or nothing."""
    parts = [source_words(decision.source)]
    if decision.source is Source.CACHE:
        parts[0] = tr("Theo kết quả tra cứu đã lưu {age}", age=cached_age(decision.checked_at, now))
    if decision.result_code:
        parts.append(result_code(decision.result_code))
    return DETAIL_SEPARATOR.join(parts)


# -- offline bar and counters ----------------------------------------------------------------


def offline_title() -> str:
    return tr("MẤT KẾT NỐI CỔNG BHXH")


def offline_message() -> str:
    return tr("Vẫn tiếp nhận: ghi “chưa xác minh”, tự tra lại khi có mạng.")


def offline_since(minutes: int) -> str:
    return tr("Đã {n} phút", n=minutes)


def offline_cached(age: str) -> str:
    return tr("Kết quả đang hiện là bản lưu {age}", age=age)


def no_gateway() -> str:
    return tr("CHƯA CẤU HÌNH CỔNG BHXH: mọi lượt tiếp nhận là “chưa xác minh”. Báo IT.")


def pending_count(count: int) -> str:
    return tr("Chờ tra lại: {count}", count=count)


def attention_count(count: int) -> str:
    return tr("Cần xử lý: {count}", count=count)


def officer_label(name: str, masked_id: str) -> str:
    return tr("Cán bộ: {name} ({id})", name=name, id=masked_id)


# -- queue number ----------------------------------------------------------------------------


def queue_label() -> str:
    return tr("SỐ THỨ TỰ")


def queue_reopened() -> str:
    return tr("Đã tiếp nhận hôm nay: giữ số cũ")


# -- patient panel ---------------------------------------------------------------------------


def patient_title() -> str:
    return tr("Thông tin người bệnh")


def field_caption(key: str) -> str:
    return {
        "name": tr("Họ và tên"),
        "birth": tr("Ngày sinh"),
        "gender": tr("Giới tính"),
        "card": tr("Mã thẻ BHYT"),
        "social": tr("Mã số BHXH"),
        "citizen": tr("Số CCCD"),
        "facility": tr("Nơi ĐK KCB ban đầu"),
        "validity": tr("Hạn thẻ"),
    }[key]


def gender(value: Gender | None) -> str:
    if value is Gender.MALE:
        return tr("Nam")
    if value is Gender.FEMALE:
        return tr("Nữ")
    return EMPTY_FIELD


def dmy(value: str | None) -> str:
    """``YYYY-MM-DD`` → ``dd/mm/yyyy``; a bare year or anything else is shown as it is."""
    if not value:
        return EMPTY_FIELD
    try:
        return date.fromisoformat(value).strftime("%d/%m/%Y")
    except ValueError:
        return value


def validity(start: str | None, end: str | None) -> str:
    if not start and not end:
        return EMPTY_FIELD
    return f"{dmy(start)} – {dmy(end)}"


def duplicate_warning(count: int, numbers: str) -> str:
    return (
        tr(
            "Có thể trùng người bệnh: cùng họ tên và ngày sinh với số thứ tự {numbers} hôm nay"
            " (mã thẻ/CCCD khác). Kiểm tra giấy tờ trước khi chuyển khám.",
            numbers=numbers,
        )
        if count
        else ""
    )


def chip_reading() -> str:
    return tr("Đang đọc chip CCCD…")


def chip_identity_read() -> str:
    return tr("Đã đọc thông tin từ chip; đang đọc ảnh và chữ ký số…")


def chip_photo_missing() -> str:
    return tr("Chip không có ảnh")


def chip_badge(hashes_ok: bool | None, signature_ok: bool | None, trusted: bool | None) -> str:
    """What passive authentication proved, plainly: never "authentic" without a CSCA."""
    if hashes_ok is None:
        return tr("Chưa kiểm tra chữ ký số của chip")
    if not hashes_ok or signature_ok is False:
        return tr("CẢNH BÁO: dữ liệu chip không khớp chữ ký số. Kiểm tra giấy tờ gốc.")
    if trusted is None:
        return tr("Dữ liệu chip nguyên vẹn, nhưng chưa xác thực chữ ký số (không có CSCA)")
    if trusted:
        return tr("Chip xác thực: chữ ký số hợp lệ theo CSCA đã cấu hình")
    return tr("CẢNH BÁO: chữ ký số không thuộc CSCA tin cậy. Kiểm tra giấy tờ gốc.")


def photo_caption() -> str:
    return tr("Ảnh trên chip")


# -- camera and visits -----------------------------------------------------------------------


def camera_waiting() -> str:
    return tr("Đang mở camera…")


def camera_none() -> str:
    return tr("Không có camera")


def camera_ended() -> str:
    return tr("Camera đã dừng")


def camera_paused() -> str:
    return tr("Camera tạm dừng trong lúc mở Cài đặt")


def camera_lost(camera: str) -> str:
    return tr("Mất tín hiệu {camera}, đang kết nối lại…", camera=camera)


def camera_running(camera: str, fps: float, decode_ms: float) -> str:
    """The caption under the preview: which camera, how many frames a second, decode time."""
    return tr(
        "{camera} · {fps:.0f} hình/giây · đọc mã {ms:.0f} ms", camera=camera, fps=fps, ms=decode_ms
    )


def visits_title(shown: int, total: int) -> str:
    if shown == total:
        return tr("Người bệnh tiếp nhận hôm nay ({count})", count=total)
    return tr("Người bệnh tiếp nhận hôm nay ({shown}/{count})", shown=shown, count=total)


def visits_columns() -> list[str]:
    return [tr("STT"), tr("Họ và tên"), tr("Trạng thái"), tr("Mã KQ"), tr("Giờ"), tr("Ghi chú")]


def filter_names() -> dict[str, str]:
    """The status filter's choices, in order: key → label."""
    return {
        "all": tr("Tất cả"),
        Status.ELIGIBLE.value: tr("Đủ điều kiện"),
        Status.WARNING.value: tr("Cần kiểm tra"),
        Status.NOT_ELIGIBLE.value: tr("Không đủ ĐK"),
        Status.UNVERIFIED.value: tr("Chưa xác minh"),
        "attention": tr("Cần xử lý"),
    }


def filter_label() -> str:
    return tr("Lọc (F6):")


def search_placeholder() -> str:
    return tr("Tìm tên hoặc số (F3), gõ không dấu được")


def note_attention() -> str:
    return tr("⚠ Tra lại: không đủ ĐK — cần xử lý")


def note_pending() -> str:
    return tr("Chờ tra lại")


def note_duplicate(numbers: str) -> str:
    return tr("Có thể trùng STT {numbers}", numbers=numbers)


# -- status bar ------------------------------------------------------------------------------


def ready() -> str:
    return tr("Sẵn sàng. Quét mã QR, đặt thẻ CCCD lên đầu đọc, hoặc F2 để nhập tay.")


def shortcuts_hint() -> str:
    return tr(
        "F2 nhập tay · F3 tìm · F5 làm mới · F6 lọc · F7 xử lý xong · F8 in phiếu"
        " · Ctrl+V dán mã · Ctrl+L khóa · Ctrl+Q thoát · F9 chẩn đoán · Ctrl+, cài đặt"
    )


def bad_qr(reason: str) -> str:
    """The parser's reason is one English line for IT; the desk gets what it means in its
    own language (English shows the line itself)."""
    if language() != VIETNAMESE:
        return tr(
            "Mã QR không hợp lệ: không phải thẻ BHYT, CCCD hay VssID. Quét lại hoặc nhập tay"
            " (F2). Chi tiết: {reason}",
            reason=reason,
        )
    problem = qr_problem(reason)
    if not problem:
        return tr(
            "Mã QR không hợp lệ: không phải thẻ BHYT, CCCD hay VssID. Quét lại hoặc nhập tay (F2)."
        )
    return tr("Mã QR không hợp lệ ({problem}). Quét lại hoặc nhập tay (F2).", problem=problem)


# What a parser reason means, by the words it carries; first match wins.
_QR_PROBLEMS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("empty payload",), "mã rỗng"),
    (("fields, expected", "'|$'", "variant"), "mã bị thiếu hoặc thừa phần, có thể quét chưa trọn"),
    (("date",), "ngày tháng trong mã sai"),
    (("name",), "mã không có họ tên hợp lệ"),
    (("citizen id", "cmnd"), "số CCCD trong mã sai"),
    (("gender",), "giới tính trong mã sai"),
    (("facility",), "mã nơi đăng ký KCB ban đầu sai"),
    (("living-area", "unknown code"), "mã thẻ có ký hiệu lạ"),
)


def qr_problem(reason: str) -> str:
    """A few Vietnamese words for a parser reason; empty when it says nothing more useful
    than 'not a patient QR'."""
    lowered = reason.lower()
    if lowered.startswith(("not a qr or number we know", "unrecognised payload")):
        return ""
    for words, problem in _QR_PROBLEMS:
        if any(word in lowered for word in words):
            return problem
    return ""


def not_utf8_qr() -> str:
    return tr("Mã QR không đọc được (không phải văn bản UTF-8)")


def camera_error(reason: object) -> str:
    """The driver's reason (English, from drivers.camera) in words the desk reads."""
    words = str(reason)
    opened = re.match(r"^cannot open (?P<name>.+?)(;.*)?$", words)
    missing = re.match(r"^no recording at (?P<path>.+?)(;.*)?$", words)
    if opened:
        words = tr(
            "không mở được {name}; cắm lại camera hoặc chọn camera khác (Công cụ → Cài đặt)",
            name=opened["name"],
        )
    elif missing:
        words = tr("không có tệp ghi hình {path}", path=missing["path"])
    return tr("Lỗi camera: {reason}", reason=words)


def intake_failed() -> str:
    return tr(
        "Không tiếp nhận được người bệnh do lỗi ngoài dự kiến (đã ghi nhật ký). Vui lòng quét lại."
    )


def checked_in(name: str, number: int) -> str:
    return tr("Đã tiếp nhận {name}: số thứ tự {number}", name=name, number=number)


def reopened(name: str, number: int) -> str:
    return tr("{name} đã được tiếp nhận hôm nay: giữ số thứ tự {number}", name=name, number=number)


def late_result(name: str, number: int, status: str) -> str:
    return tr(
        "Kết quả đến sau: {name}, số thứ tự {number}: {status} (xem danh sách)",
        name=name,
        number=number,
        status=status,
    )


def reopened_title() -> str:
    return tr("Đã tiếp nhận hôm nay")


def visits_error() -> str:
    return tr("Không tải được danh sách hôm nay (đã ghi nhật ký)")


def unexpected() -> str:
    return tr("Có lỗi ngoài dự kiến; đã ghi vào nhật ký. Có thể tiếp tục làm việc.")


def empty_paste() -> str:
    return tr("Bộ nhớ tạm không có mã QR để dán")


def config_error(reason: str) -> str:
    return tr("Cấu hình chưa đúng: {reason}", reason=reason)


def locked_scan_ignored() -> str:
    return tr("Màn hình đang khóa: đăng nhập để tiếp nhận người bệnh")


def number_only() -> str:
    return tr("Chỉ có số thẻ/CCCD: nhập họ tên và ngày sinh để tra cứu")


def nothing_to_handle() -> str:
    return tr("Chọn một lượt đang 'Cần xử lý' (tô đỏ) rồi nhấn F7 khi đã xử lý xong")


def handle_failed() -> str:
    return tr("Không ghi được 'đã xử lý' (đã ghi nhật ký): thử lại F7, nếu vẫn lỗi báo IT")


def handled(number: int) -> str:
    return tr("Đã xử lý số thứ tự {number}: bỏ khỏi 'Cần xử lý'", number=number)


def nothing_to_print() -> str:
    return tr("Chưa có người bệnh để in phiếu: quét thẻ hoặc chọn một dòng trong danh sách")


def ticket_printed(number: int) -> str:
    return tr("Đã in phiếu số {number}", number=number)


def ticket_saved(number: int, path: str) -> str:
    return tr("Không có máy in: đã lưu phiếu số {number} vào {path}", number=number, path=path)


def ticket_failed(reason: str) -> str:
    return tr("Không in được phiếu: {reason}", reason=reason)


def signed_in(name: str) -> str:
    return tr("Đã đăng nhập: {name}", name=name)


def serial_error(reason: str) -> str:
    return tr("Máy quét nối cổng COM báo lỗi: {reason}", reason=reason)


def serial_lost() -> str:
    return tr("Mất kết nối máy quét cổng COM: kiểm tra cáp; đang tự kết nối lại (chi tiết: F9)")


def serial_back() -> str:
    return tr("Máy quét cổng COM đã kết nối lại")


def serial_caption() -> str:
    return tr("Máy quét COM: mất kết nối")


def chip_failed(reason: str) -> str:
    return tr("Không đọc được chip: {reason}", reason=reason)


def chip_cancelled() -> str:
    return tr("Đã hủy đọc chip (không nhập mã CAN)")


def chip_unavailable(reason: str) -> str:
    return tr("Đầu đọc thẻ chip chưa sẵn sàng: {reason}", reason=reason)


def chip_error_words(kind: str) -> str:
    """A chip failure by its class name, in words the desk can act on."""
    return {
        "WrongAccessKey": tr("thẻ từ chối mã CAN: kiểm tra 6 số cuối của số CCCD in trên thẻ"),
        "AccessNotSupported": tr(
            "thẻ không mở bằng mã CAN: quét mã QR mặt sau thẻ CCCD rồi đặt lại thẻ"
        ),
        "CardRemoved": tr("thẻ bị nhấc ra khi đang đọc: đặt lại thẻ, giữ yên trên đầu đọc"),
        "SecureMessagingError": tr("kênh bảo mật với chip bị lỗi: đặt lại thẻ và đọc lại"),
        "TlvError": tr("chip trả dữ liệu lỗi: đặt lại thẻ và đọc lại"),
        "UnknownCard": tr(
            "thẻ này không phải CCCD gắn chip: đặt đúng thẻ CCCD gắn chip lên đầu đọc"
        ),
        "ReaderError": tr("đầu đọc không sẵn sàng: kiểm tra dây cắm hoặc báo IT"),
    }.get(kind, tr("lỗi khi đọc chip: đặt lại thẻ và thử lại"))


# -- actions and menus -----------------------------------------------------------------------


def action_label(key: str) -> str:
    return {
        "manual": tr("Nhập tay…"),
        "search": tr("Tìm trong danh sách"),
        "refresh": tr("Làm mới danh sách"),
        "filter": tr("Đổi bộ lọc"),
        "print": tr("In phiếu số thứ tự"),
        "handled": tr("Đã xử lý lượt cần xử lý"),
        "paste": tr("Dán mã QR"),
        "lock": tr("Khóa màn hình"),
        "quit": tr("Thoát"),
        "focus_list": tr("Về danh sách"),
        "language": tr("Đổi ngôn ngữ"),
        "settings": tr("Cài đặt…"),
        "diagnostics": tr("Chẩn đoán thiết bị…"),
    }[key]


def menu_title(key: str) -> str:
    return {
        "desk": tr("&Tiếp nhận"),
        "view": tr("&Xem"),
        "language": tr("&Ngôn ngữ"),
        "tools": tr("&Công cụ"),
    }[key]


def settings_saved() -> str:
    return tr(
        "Đã lưu cài đặt. Ngôn ngữ và thời gian tự khóa áp dụng ngay; thiết bị, cổng BHXH và"
        " tệp dữ liệu áp dụng khi mở lại màn hình tiếp nhận."
    )


# -- core messages in the current language ----------------------------------------------------

_DATE = r"\d{2}/\d{2}/\d{4}"
_PATTERNS: list[tuple[re.Pattern[str], str]] = []


def _patterns() -> list[tuple[re.Pattern[str], str]]:
    """The core's sentences that carry values (checkin.eligibility), as regexes with the
    catalog key their translation is filed under."""
    if not _PATTERNS:
        _PATTERNS.extend(
            (re.compile(pattern), key)
            for pattern, key in (
                (rf"^Thẻ còn giá trị sử dụng đến (?P<date>{_DATE})$", "valid_to"),
                (
                    rf"^Thẻ còn giá trị sử dụng đến (?P<date>{_DATE}) \(còn (?P<n>\d+) ngày\)$",
                    "valid_left",
                ),
                (r"^(?P<head>.+?) · ĐKBĐ nơi khác: (?P<code>\S+)$", "elsewhere"),
                (
                    rf"^(?P<head>.+?) · Mã QR ghi thẻ hết hạn (?P<date>{_DATE}): kiểm tra thẻ mới$",
                    "qr_expired",
                ),
                (
                    rf"^(?P<head>.+?) · Mã QR ghi thẻ chưa đến hạn \(từ (?P<date>{_DATE})\)$",
                    "qr_not_yet",
                ),
                (rf"^Thẻ chưa đến hạn sử dụng \(từ (?P<date>{_DATE})\)$", "not_yet"),
                (rf"^Cổng báo hợp lệ nhưng thẻ ghi hết hạn (?P<date>{_DATE})$", "gateway_expired"),
                (
                    r"^Chưa xác minh \((?P<why>[^)]*)\)\. Lần tra cứu lúc"
                    r" (?P<time>\d{2}:\d{2} \d{2}/\d{2}/\d{4}) \((?P<ago>[^)]*)\): (?P<rest>.*)$",
                    "cached",
                ),
            )
        )
    return _PATTERNS


def core_words(message: str) -> str:
    """A Vietnamese sentence from the core, in the current language (see the module doc)."""
    if language() == VIETNAMESE or not message:
        return message
    translated = _dynamic(message)
    if translated != message:
        return translated
    for pattern, key in _patterns():
        found = pattern.match(message)
        if found:
            return _fill(key, found.groupdict())
    return message


def _dynamic(message: str) -> str:
    """``tr`` for text that is not a literal (the AST test covers literals only)."""
    return tr(message)


def _fill(key: str, values: dict[str, str]) -> str:
    if key == "valid_to":
        return tr("Thẻ còn giá trị sử dụng đến {date}", **values)
    if key == "valid_left":
        return tr("Thẻ còn giá trị sử dụng đến {date} (còn {n} ngày)", **values)
    if key == "elsewhere":
        head = core_words(values["head"])
        return tr("{head} · ĐKBĐ nơi khác: {code}", head=head, code=values["code"])
    if key == "qr_expired":
        head = core_words(values["head"])
        when = values["date"]
        return tr("{head} · Mã QR ghi thẻ hết hạn {date}: kiểm tra thẻ mới", head=head, date=when)
    if key == "qr_not_yet":
        head = core_words(values["head"])
        return tr("{head} · Mã QR ghi thẻ chưa đến hạn (từ {date})", head=head, date=values["date"])
    if key == "not_yet":
        return tr("Thẻ chưa đến hạn sử dụng (từ {date})", **values)
    if key == "gateway_expired":
        return tr("Cổng báo hợp lệ nhưng thẻ ghi hết hạn {date}", **values)
    ago = _ago_words(values["ago"])
    return tr(
        "Chưa xác minh ({why}). Lần tra cứu lúc {time} ({ago}): {rest}",
        why=_why_words(values["why"]),
        time=values["time"],
        ago=ago,
        rest=core_words(values["rest"]),
    )


def _why_words(why: str) -> str:
    """Why a cached answer is shown, in the current language."""
    if why == ACCOUNT_REFUSED_WORDS:
        return tr("cổng BHXH từ chối tài khoản bệnh viện, báo IT")
    return tr("cổng BHXH không trả lời")


def _ago_words(ago: str) -> str:
    found = re.fullmatch(r"(\d+) (phút|giờ|ngày) trước", ago)
    if not found:
        return ago
    n, unit = int(found.group(1)), found.group(2)
    if unit == "phút":
        return tr("{n} phút trước", n=n)
    if unit == "giờ":
        return tr("{n} giờ trước", n=n)
    return tr("{n} ngày trước", n=n)
