"""Every string the desk shows to a person, in one place (Vietnamese; English comes with #6).

Code names stay English; only the values here are Vietnamese. Formatting helpers for dates
and genders live here too, since how a date reads is part of the language.
"""

from __future__ import annotations

from datetime import date

from checkin.model import Gender, Source, Status

WINDOW_TITLE = "Tiếp nhận người bệnh — BHYT"

# -- banner ----------------------------------------------------------------------------------

STATUS_TITLE: dict[Status, str] = {
    Status.ELIGIBLE: "ĐỦ ĐIỀU KIỆN HƯỞNG BHYT",
    Status.WARNING: "CẦN KIỂM TRA",
    Status.NOT_ELIGIBLE: "KHÔNG ĐỦ ĐIỀU KIỆN HƯỞNG BHYT",
    Status.UNVERIFIED: "CHƯA XÁC MINH",
}
STATUS_SHORT: dict[Status, str] = {
    Status.ELIGIBLE: "Đủ điều kiện",
    Status.WARNING: "Cần kiểm tra",
    Status.NOT_ELIGIBLE: "Không đủ ĐK",
    Status.UNVERIFIED: "Chưa xác minh",
}
SOURCE_WORDS: dict[Source, str] = {
    Source.ONLINE: "Tra cứu trực tuyến cổng BHXH",
    Source.CACHE: "Theo kết quả tra cứu đã lưu",
    Source.NONE: "Chưa có kết quả tra cứu",
}
IDLE_TITLE = "SẴN SÀNG"
IDLE_MESSAGE = "Đưa mã QR trên thẻ BHYT, CCCD hoặc VssID vào trước camera"
BUSY_TITLE = "ĐANG TRA CỨU…"
BUSY_MESSAGE = "Đang kiểm tra thông tin thẻ với cổng BHXH"
NEXT_ACTION = "Tiếp theo: {action}"
RESULT_CODE = "Mã kết quả {code}"
DETAIL_SEPARATOR = " · "

# -- queue number ----------------------------------------------------------------------------

QUEUE_LABEL = "SỐ THỨ TỰ"
QUEUE_EMPTY = "—"
QUEUE_REOPENED = "Đã tiếp nhận hôm nay: giữ số cũ"

# -- patient panel ---------------------------------------------------------------------------

PATIENT_TITLE = "Thông tin người bệnh"
FIELD_NAME = "Họ và tên"
FIELD_BIRTH = "Ngày sinh"
FIELD_GENDER = "Giới tính"
FIELD_CARD = "Mã thẻ BHYT"
FIELD_SOCIAL = "Mã số BHXH"
FIELD_CITIZEN = "Số CCCD"
FIELD_FACILITY = "Nơi ĐK KCB ban đầu"
FIELD_VALIDITY = "Hạn thẻ"
VALIDITY_RANGE = "{start} – {end}"
EMPTY_FIELD = "—"
GENDER_WORDS: dict[Gender, str] = {Gender.MALE: "Nam", Gender.FEMALE: "Nữ"}

# -- camera and visits -----------------------------------------------------------------------

CAMERA_TITLE = "Camera"
CAMERA_WAITING = "Đang mở camera…"
CAMERA_NONE = "Không có camera"
CAMERA_ENDED = "Camera đã dừng"
VISITS_TITLE = "Người bệnh tiếp nhận hôm nay ({count})"
VISITS_COLUMNS = ("STT", "Họ và tên", "Trạng thái", "Mã KQ", "Giờ")

# -- status bar ------------------------------------------------------------------------------

READY = "Sẵn sàng. F5: làm mới danh sách · Ctrl+V: dán mã QR · Ctrl+Q: thoát"
BAD_QR = "Mã QR không hợp lệ: {reason}"
NOT_UTF8_QR = "Mã QR không đọc được (không phải văn bản UTF-8)"
CAMERA_ERROR = "Lỗi camera: {reason}"
INTAKE_FAILED = (
    "Không tiếp nhận được người bệnh do lỗi ngoài dự kiến (đã ghi nhật ký). Vui lòng quét lại."
)
CHECKED_IN = "Đã tiếp nhận {name}: số thứ tự {number}"
REOPENED = "{name} đã được tiếp nhận hôm nay: giữ số thứ tự {number}"
VISITS_ERROR = "Không tải được danh sách hôm nay (đã ghi nhật ký)"
UNEXPECTED = "Có lỗi ngoài dự kiến; đã ghi vào nhật ký. Có thể tiếp tục làm việc."
EMPTY_PASTE = "Bộ nhớ tạm không có mã QR để dán"
CONFIG_ERROR = "Cấu hình chưa đúng: {reason}"

# -- actions ---------------------------------------------------------------------------------

ACTION_REFRESH = "Làm mới danh sách"
ACTION_PASTE = "Dán mã QR"
ACTION_QUIT = "Thoát"


def dmy(value: str | None) -> str:
    """``YYYY-MM-DD`` → ``dd/mm/yyyy``; a bare year or anything else is shown as it is."""
    if not value:
        return EMPTY_FIELD
    try:
        return date.fromisoformat(value).strftime("%d/%m/%Y")
    except ValueError:
        return value


def gender(value: Gender | None) -> str:
    return GENDER_WORDS.get(value, EMPTY_FIELD) if value else EMPTY_FIELD


def validity(start: str | None, end: str | None) -> str:
    if not start and not end:
        return EMPTY_FIELD
    return VALIDITY_RANGE.format(start=dmy(start), end=dmy(end))
