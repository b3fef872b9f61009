"""English for the desk (ui/desk.py, widgets, sign-in, manual entry, ticket, chip) and for the
core's verdict sentences (checkin/eligibility.py), which the desk passes through
:func:`ui.text.core_words`. Keys are the Vietnamese text exactly as written in the code."""

from ui.i18n import ENGLISH, register

DESK = {
    # tools menu
    "&Công cụ": "&Tools",
    "Cài đặt…": "Settings…",
    "Chẩn đoán thiết bị…": "Diagnostics…",
    "Đã lưu cài đặt. Ngôn ngữ và thời gian tự khóa áp dụng ngay; thiết bị, cổng BHXH và"
    " tệp dữ liệu áp dụng khi mở lại màn hình tiếp nhận.":
        "Settings saved. The language and the idle lock apply now; devices, the gateway and"
        " the store apply when the desk is started again.",
    # window, banner
    "Tiếp nhận người bệnh — BHYT": "Patient check-in — health insurance",
    "SẴN SÀNG": "READY",
    "Đưa mã QR trên thẻ BHYT, CCCD hoặc VssID vào trước camera, hoặc đặt thẻ CCCD lên đầu đọc":
        "Hold the QR code of the insurance card, citizen ID or VssID in front of the camera,"
        " or place the chip ID card on the reader",
    "ĐANG TRA CỨU…": "CHECKING…",
    "Đang kiểm tra thông tin thẻ với cổng BHXH": "Checking the card with the BHXH gateway",
    "Tiếp theo: {action}": "Next: {action}",
    "Mã kết quả {code}": "Result code {code}",
    "lúc {time} ({ago})": "at {time} ({ago})",
    "{n} phút trước": "{n} min ago",
    "{n} giờ trước": "{n} h ago",
    "{n} ngày trước": "{n} days ago",
    "không rõ thời điểm": "at an unknown time",
    "Theo kết quả tra cứu đã lưu {age}": "From the saved lookup {age}",
    "ĐỦ ĐIỀU KIỆN HƯỞNG BHYT": "COVERED BY HEALTH INSURANCE",
    "CẦN KIỂM TRA": "CHECK NEEDED",
    "KHÔNG ĐỦ ĐIỀU KIỆN HƯỞNG BHYT": "NOT COVERED BY HEALTH INSURANCE",
    "CHƯA XÁC MINH": "NOT VERIFIED",
    "Đủ điều kiện": "Covered",
    "Cần kiểm tra": "Check needed",
    "Không đủ ĐK": "Not covered",
    "Chưa xác minh": "Not verified",
    "Tra cứu trực tuyến cổng BHXH": "Online lookup at the BHXH gateway",
    "Theo kết quả tra cứu đã lưu": "From a saved lookup",
    "Chưa có kết quả tra cứu": "No lookup result yet",
    "Đã tiếp nhận hôm nay": "Already checked in today",
    # offline strip and counters
    "MẤT KẾT NỐI CỔNG BHXH": "BHXH GATEWAY OFFLINE",
    "Vẫn tiếp nhận: ghi “chưa xác minh”, tự tra lại khi có mạng.":
        "Keep checking in: visits are “not verified” and re-checked when it is back.",
    "Đã {n} phút": "For {n} min",
    "Kết quả đang hiện là bản lưu {age}": "The result shown was saved {age}",
    "CHƯA CẤU HÌNH CỔNG BHXH: mọi lượt tiếp nhận là “chưa xác minh”. Báo IT.":
        "BHXH GATEWAY NOT CONFIGURED: every check-in is “not verified”. Tell IT.",
    "Chờ tra lại: {count}": "Waiting for re-check: {count}",
    "Cần xử lý: {count}": "Need attention: {count}",
    "Cán bộ: {name} ({id})": "Officer: {name} ({id})",
    # queue number and patient panel
    "SỐ THỨ TỰ": "QUEUE NUMBER",
    "Đã tiếp nhận hôm nay: giữ số cũ": "Already checked in today: same number",
    "Thông tin người bệnh": "Patient",
    "Họ và tên": "Full name",
    "Ngày sinh": "Date of birth",
    "Giới tính": "Sex",
    "Mã thẻ BHYT": "Insurance card no.",
    "Mã số BHXH": "Social insurance no.",
    "Số CCCD": "Citizen ID",
    "Nơi ĐK KCB ban đầu": "Registered facility",
    "Hạn thẻ": "Card valid",
    "Nam": "Male",
    "Nữ": "Female",
    "Có thể trùng người bệnh: cùng họ tên và ngày sinh với số thứ tự {numbers} hôm nay"
    " (mã thẻ/CCCD khác). Kiểm tra giấy tờ trước khi chuyển khám.":
        "Possible duplicate: same name and date of birth as queue number {numbers} today"
        " (different card/ID number). Check the papers before sending on.",
    "Đang đọc chip CCCD…": "Reading the ID card chip…",
    "Đã đọc thông tin từ chip; đang đọc ảnh và chữ ký số…":
        "Identity read from the chip; reading the photo and the digital signature…",
    "Chip không có ảnh": "No photo on the chip",
    "Ảnh trên chip": "Chip photo",
    "Chưa kiểm tra chữ ký số của chip": "The chip's digital signature was not checked",
    "CẢNH BÁO: dữ liệu chip không khớp chữ ký số. Kiểm tra giấy tờ gốc.":
        "WARNING: the chip data does not match its digital signature. Check the original papers.",
    "Dữ liệu chip nguyên vẹn, nhưng chưa xác thực chữ ký số (không có CSCA)":
        "Chip data intact, but the digital signature is not verified (no CSCA configured)",
    "Chip xác thực: chữ ký số hợp lệ theo CSCA đã cấu hình":
        "Chip verified: signature valid against the configured CSCA",
    "CẢNH BÁO: chữ ký số không thuộc CSCA tin cậy. Kiểm tra giấy tờ gốc.":
        "WARNING: the signature is not from a trusted CSCA. Check the original papers.",
    # camera and visits
    "Đang mở camera…": "Opening the camera…",
    "Không có camera": "No camera",
    "Camera đã dừng": "Camera stopped",
    "Camera tạm dừng trong lúc mở Cài đặt": "Camera paused while Settings is open",
    "không mở được {name}; cắm lại camera hoặc chọn camera khác (Công cụ → Cài đặt)":
        "cannot open {name}; plug the camera in again or choose another (Tools → Settings)",
    "không có tệp ghi hình {path}": "no recording at {path}",
    "Kết quả đến sau: {name}, số thứ tự {number}: {status} (xem danh sách)":
        "Late result: {name}, queue number {number}: {status} (see the list)",
    "Mất tín hiệu {camera}, đang kết nối lại…": "Lost {camera}; reconnecting…",
    "{camera} · {fps:.0f} hình/giây · đọc mã {ms:.0f} ms":
        "{camera} · {fps:.0f} frames/s · decode {ms:.0f} ms",
    "Người bệnh tiếp nhận hôm nay ({count})": "Patients checked in today ({count})",
    "Người bệnh tiếp nhận hôm nay ({shown}/{count})": "Patients checked in today ({shown}/{count})",
    "STT": "No.",
    "Trạng thái": "Status",
    "Mã KQ": "Code",
    "Giờ": "Time",
    "Ghi chú": "Note",
    "Tất cả": "All",
    "Cần xử lý": "Needs attention",
    "Lọc (F6):": "Filter (F6):",
    "Tìm tên hoặc số (F3), gõ không dấu được": "Search name or number (F3)",
    "⚠ Tra lại: không đủ ĐK — cần xử lý": "⚠ Re-checked: not covered — act now",
    "Chờ tra lại": "Re-check pending",
    "Có thể trùng STT {numbers}": "May be the same person as no. {numbers}",
    "{head} · Mã QR ghi thẻ hết hạn {date}: kiểm tra thẻ mới":
        "{head} · The QR says the card expired on {date}: ask for the new card",
    "{head} · Mã QR ghi thẻ chưa đến hạn (từ {date})":
        "{head} · The QR says the card is not valid yet (from {date})",
    # status bar
    "Sẵn sàng. Quét mã QR, đặt thẻ CCCD lên đầu đọc, hoặc F2 để nhập tay.":
        "Ready. Scan a QR code, place an ID card on the reader, or press F2 to type.",
    "F2 nhập tay · F3 tìm · F5 làm mới · F6 lọc · F7 xử lý xong · F8 in phiếu"
    " · Ctrl+V dán mã · Ctrl+L khóa · Ctrl+Q thoát · F9 chẩn đoán · Ctrl+, cài đặt":
        "F2 type in · F3 search · F5 refresh · F6 filter · F7 handled · F8 print ticket"
        " · Ctrl+V paste · Ctrl+L lock · Ctrl+Q quit · F9 diagnostics · Ctrl+, settings",
    "Chọn một lượt đang 'Cần xử lý' (tô đỏ) rồi nhấn F7 khi đã xử lý xong":
        "Select a visit marked 'Needs attention' (red), then press F7 once it is dealt with",
    "Đã xử lý số thứ tự {number}: bỏ khỏi 'Cần xử lý'":
        "No. {number} dealt with: no longer needs attention",
    "Đã xử lý lượt cần xử lý": "Mark as dealt with",
    "Không ghi được 'đã xử lý' (đã ghi nhật ký): thử lại F7, nếu vẫn lỗi báo IT":
        "Could not record 'dealt with' (logged): press F7 again; if it fails again, call IT",

    "Mã QR không hợp lệ: không phải thẻ BHYT, CCCD hay VssID. Quét lại hoặc nhập tay (F2)."
    " Chi tiết: {reason}":
        "Invalid QR code: not an insurance card, citizen ID or VssID. Scan again or type it"
        " in (F2). Detail: {reason}",
    "Mã QR không hợp lệ: không phải thẻ BHYT, CCCD hay VssID. Quét lại hoặc nhập tay (F2).":
        "Invalid QR code: not an insurance card, citizen ID or VssID. Scan again or type it"
        " in (F2).",
    "Mã QR không hợp lệ ({problem}). Quét lại hoặc nhập tay (F2).":
        "Invalid QR code ({problem}). Scan again or type it in (F2).",
    "Mã QR không đọc được (không phải văn bản UTF-8)": "Unreadable QR code (not UTF-8 text)",
    "Lỗi camera: {reason}": "Camera error: {reason}",
    "Không tiếp nhận được người bệnh do lỗi ngoài dự kiến (đã ghi nhật ký). Vui lòng quét lại.":
        "The patient could not be checked in because of an unexpected error (logged)."
        " Please scan again.",
    "Đã tiếp nhận {name}: số thứ tự {number}": "Checked in {name}: queue number {number}",
    "{name} đã được tiếp nhận hôm nay: giữ số thứ tự {number}":
        "{name} was already checked in today: keeps queue number {number}",
    "Không tải được danh sách hôm nay (đã ghi nhật ký)": "Could not load today's list (logged)",
    "Có lỗi ngoài dự kiến; đã ghi vào nhật ký. Có thể tiếp tục làm việc.":
        "An unexpected error was logged. You can keep working.",
    "Bộ nhớ tạm không có mã QR để dán": "The clipboard holds no QR text to paste",
    "Cấu hình chưa đúng: {reason}": "Configuration incomplete: {reason}",
    "Màn hình đang khóa: đăng nhập để tiếp nhận người bệnh":
        "The screen is locked: sign in to check patients in",
    "Chỉ có số thẻ/CCCD: nhập họ tên và ngày sinh để tra cứu":
        "Only a card/ID number: type the name and date of birth to look it up",
    "Chưa có người bệnh để in phiếu: quét thẻ hoặc chọn một dòng trong danh sách":
        "No patient to print a ticket for: scan a card or pick a row in the list",
    "Đã in phiếu số {number}": "Ticket {number} printed",
    "Không có máy in: đã lưu phiếu số {number} vào {path}":
        "No printer: ticket {number} saved to {path}",
    "Không in được phiếu: {reason}": "The ticket could not be printed: {reason}",
    "Đã đăng nhập: {name}": "Signed in: {name}",
    "Không đọc được chip: {reason}": "Could not read the chip: {reason}",
    "Máy quét nối cổng COM báo lỗi: {reason}": "Serial scanner error: {reason}",
    "Mất kết nối máy quét cổng COM: kiểm tra cáp; đang tự kết nối lại (chi tiết: F9)":
        "Serial scanner disconnected: check the cable; reconnecting by itself (details: F9)",
    "Máy quét cổng COM đã kết nối lại": "Serial scanner connected again",
    "Máy quét COM: mất kết nối": "Serial scanner: disconnected",
    "Đã hủy đọc chip (không nhập mã CAN)": "Chip read cancelled (no CAN entered)",
    "Đầu đọc thẻ chip chưa sẵn sàng: {reason}": "The chip card reader is not ready: {reason}",
    "thẻ từ chối mã CAN: kiểm tra 6 số cuối của số CCCD in trên thẻ":
        "the card refused the CAN: check the last 6 digits of the ID number printed on it",
    "thẻ không mở bằng mã CAN: quét mã QR mặt sau thẻ CCCD rồi đặt lại thẻ":
        "the card does not open with a CAN: scan the QR on the back of the ID card, then place"
        " it again",
    "thẻ bị nhấc ra khi đang đọc: đặt lại thẻ, giữ yên trên đầu đọc":
        "the card was lifted during the read: put it back and hold it still on the reader",
    "kênh bảo mật với chip bị lỗi: đặt lại thẻ và đọc lại":
        "the secure channel with the chip failed: place the card again and re-read",
    "chip trả dữ liệu lỗi: đặt lại thẻ và đọc lại":
        "the chip returned bad data: place the card again and re-read",
    "thẻ này không phải CCCD gắn chip: đặt đúng thẻ CCCD gắn chip lên đầu đọc":
        "this is not a chip citizen ID card: place the chip ID card on the reader",
    "đầu đọc không sẵn sàng: kiểm tra dây cắm hoặc báo IT":
        "the reader is not available: check its cable or tell IT",
    "lỗi khi đọc chip: đặt lại thẻ và thử lại": "chip read error: place the card again and retry",
    # menus and actions
    "Nhập tay…": "Type in…",
    "Tìm trong danh sách": "Search the list",
    "Làm mới danh sách": "Refresh the list",
    "Đổi bộ lọc": "Next filter",
    "In phiếu số thứ tự": "Print queue ticket",
    "Dán mã QR": "Paste QR text",
    "Khóa màn hình": "Lock the screen",
    "Thoát": "Quit",
    "Về danh sách": "Back to the list",
    "Đổi ngôn ngữ": "Switch language",
    "&Tiếp nhận": "&Check-in",
    "&Xem": "&View",
    "&Ngôn ngữ": "&Language",
    # core sentences with values (ui.text.core_words)
    "Thẻ còn giá trị sử dụng đến {date}": "Card valid until {date}",
    "Thẻ còn giá trị sử dụng đến {date} (còn {n} ngày)": "Card valid until {date} ({n} days left)",
    "{head} · ĐKBĐ nơi khác: {code}": "{head} · registered elsewhere: {code}",
    "Thẻ chưa đến hạn sử dụng (từ {date})": "Card not valid yet (from {date})",
    "Cổng báo hợp lệ nhưng thẻ ghi hết hạn {date}":
        "The gateway says valid but the card shows expiry {date}",
    "Chưa xác minh ({why}). Lần tra cứu lúc {time} ({ago}): {rest}":
        "Not verified ({why}). Lookup at {time} ({ago}): {rest}",
    "cổng BHXH không trả lời": "the BHXH gateway did not answer",
    "cổng BHXH từ chối tài khoản bệnh viện, báo IT":
        "the BHXH gateway refused the hospital's account: call IT",
    "Chưa xác minh: cổng BHXH từ chối tài khoản bệnh viện, báo IT":
        "Not verified: the BHXH gateway refused the hospital's account: call IT",
}

SIGN_IN = {
    "Nhập họ và tên cán bộ tiếp nhận.": "Type the officer's full name.",
    "Họ tên cán bộ không được có chữ số.": "The officer's name cannot contain digits.",
    "Nhập đủ họ và tên (ít nhất hai chữ), như trên CCCD.":
        "Type the full name (at least two words), as on the ID card.",
    "Nhập số CCCD 12 chữ số của cán bộ.": "Type the officer's 12-digit citizen ID.",
    "Số CCCD của cán bộ phải đủ 12 chữ số (đang có {n}).":
        "The officer's citizen ID must have 12 digits ({n} typed).",
    "Họ và tên cán bộ": "Officer's full name",
    "Số CCCD (12 số)": "Citizen ID (12 digits)",
    "ví dụ: Nguyễn Văn An": "e.g. Nguyễn Văn An",
    "12 chữ số": "12 digits",
    "Đăng nhập (Enter)": "Sign in (Enter)",
    "Mẹo: quét mã QR trên CCCD của chính cán bộ để điền nhanh. Ctrl+Q: thoát.":
        "Tip: scan the QR code on your own ID card to fill this in. Ctrl+Q: quit.",
    "Màn hình đã khóa": "Screen locked",
    "Khóa lúc {time}. Cán bộ {name} nhập lại số CCCD để mở,"
    " hoặc cán bộ khác đăng nhập thay ca.":
        "Locked at {time}. {name}, type your citizen ID again to unlock, or another officer"
        " signs in for the next shift.",
    "Đăng nhập cán bộ tiếp nhận": "Reception officer sign-in",
    "Mỗi lượt tra cứu thẻ BHYT gửi họ tên và số CCCD của cán bộ tới cổng BHXH"
    " và được ghi vào nhật ký.":
        "Every insurance lookup sends the officer's name and citizen ID to the BHXH gateway"
        " and is written to the audit log.",
}

MANUAL_ENTRY = {
    "Nhập mã thẻ BHYT, mã số BHXH hoặc số CCCD.":
        "Type the insurance card number, social insurance number or citizen ID.",
    "Không phải mã thẻ BHYT (15 ký tự, như DN4010123456789), mã số BHXH (10 số)"
    " hay số CCCD (12 số).":
        "Not an insurance card number (15 characters, like DN4010123456789), a social"
        " insurance number (10 digits) or a citizen ID (12 digits).",
    "Nhập họ và tên người bệnh như trên thẻ.": "Type the patient's full name as on the card.",
    "Họ tên không được có chữ số.": "The name cannot contain digits.",
    "Nhập ngày sinh (ngày/tháng/năm, hoặc chỉ năm sinh).":
        "Type the date of birth (day/month/year, or the year alone).",
    "Ngày sinh không hợp lệ: gõ dạng 12/05/1985 hoặc 1985.":
        "Invalid date of birth: type it like 12/05/1985 or 1985.",
    "Ngày sinh ở tương lai: kiểm tra lại.": "The date of birth is in the future: check it.",
    "Năm sinh quá xa: kiểm tra lại.": "The year of birth is too far back: check it.",
    "Nhập tay thông tin người bệnh": "Type in the patient's details",
    "Dùng khi không quét được thẻ. Cổng BHXH cần số thẻ hoặc số CCCD, họ tên và ngày"
    " sinh đúng như trên thẻ.":
        "For when nothing scans. The BHXH gateway needs the card number or citizen ID, and"
        " the name and date of birth exactly as on the card.",
    "DN4010123456789, 0123456789 hoặc 001185012345": "DN4010123456789, 0123456789 or 001185012345",
    "Họ và tên có dấu, ví dụ: Trần Thị Mai": "Full name with diacritics, e.g. Trần Thị Mai",
    "12/05/1985 hoặc 1985": "12/05/1985 or 1985",
    "Không rõ": "Unknown",
    "Mã thẻ BHYT / mã số BHXH / số CCCD": "Card no. / social insurance no. / citizen ID",
    "Tra cứu (Enter)": "Look up (Enter)",
    "Hủy (Esc)": "Cancel (Esc)",
}

TICKET = {
    "PHIẾU TIẾP NHẬN": "CHECK-IN TICKET",
    "Đủ điều kiện hưởng BHYT": "Covered by health insurance",
    "BHYT: cần kiểm tra thêm tại quầy": "Insurance: to be checked at the desk",
    "Không đủ điều kiện hưởng BHYT (khám dịch vụ)": "Not covered by insurance (self-pay)",
    "BHYT: chưa xác minh, sẽ tra cứu lại": "Insurance: not verified yet, will be re-checked",
    "Đúng tuyến (ĐK KCB ban đầu tại đây)": "In network (registered at this hospital)",
    "Đăng ký KCB ban đầu nơi khác ({code}): hỏi giấy chuyển tuyến":
        "Registered elsewhere ({code}): ask for the referral letter",
    "(in lại)": "(reprint)",
    "Giữ phiếu này và chờ gọi số.": "Keep this ticket and wait for your number.",
    "không tìm thấy máy in nào trên máy này": "no printer found on this computer",
    "máy in không sẵn sàng (kiểm tra giấy, dây cắm hoặc driver)":
        "the printer is not ready (check paper, cable or driver)",
}

CHIP = {
    "Mã CAN của thẻ CCCD": "ID card CAN",
    "Thẻ CCCD gắn chip đã đặt lên đầu đọc. Nhập 6 số cuối của số CCCD in trên thẻ"
    " để mở chip.":
        "A chip ID card is on the reader. Type the last 6 digits of the ID number printed on"
        " the card to open the chip.",
    "6 chữ số": "6 digits",
    "Đọc chip (Enter)": "Read chip (Enter)",
    "Thẻ từ chối mã vừa nhập: kiểm tra lại 6 số cuối số CCCD.":
        "The card refused that code: check the last 6 digits of the ID number.",
    "Mã CAN gồm đúng 6 chữ số (6 số cuối của số CCCD).":
        "The CAN is exactly 6 digits (the last 6 of the ID number).",
}

# checkin/eligibility.py: every rule's message and action, and the fixed sentences.
CORE = {
    "Thẻ còn giá trị sử dụng": "Card valid",
    "Tiếp nhận bình thường": "Check in as usual",
    "Thẻ do BHXH Bộ Quốc phòng quản lý": "Card managed by the Ministry of Defence insurance",
    "Thẻ do BHXH Bộ Công an quản lý": "Card managed by the Ministry of Public Security insurance",
    "Kiểm tra thẻ và giấy tờ tùy thân": "Check the card and an identity document",
    "Thẻ cũ hết hạn, đã được cấp thẻ mới": "Old card expired; a new card has been issued",
    "Thẻ cũ còn hạn, đã được cấp thẻ mới": "Old card still valid; a new card has been issued",
    "Dùng mã và hạn của thẻ mới": "Use the new card's number and dates",
    "Thẻ hết hạn sử dụng": "Card expired",
    "Không được hưởng BHYT: hướng dẫn khám dịch vụ (tự chi trả)":
        "Not covered: direct the patient to self-pay care",
    "Không tìm thấy thông tin thẻ": "Card not found",
    "Kiểm tra lại số thẻ và giấy tờ": "Check the card number and the papers",
    "Mã thẻ không đúng": "Wrong card number",
    "Kiểm tra và nhập lại mã thẻ": "Check and re-enter the card number",
    "Mã tỉnh cấp thẻ không đúng": "Wrong province code on the card",
    "Kiểm tra ký tự 4–5 của mã thẻ": "Check characters 4–5 of the card number",
    "Mã quyền lợi không đúng": "Wrong benefit code",
    "Kiểm tra ký tự thứ 3 của mã thẻ": "Check the 3rd character of the card number",
    "CCCD cán bộ tra cứu chưa được đăng ký": "The officer's citizen ID is not registered",
    "Họ tên cán bộ tra cứu không khớp CCCD": "The officer's name does not match the citizen ID",
    "Báo IT kiểm tra họ tên và CCCD cán bộ tra cứu; vẫn tiếp nhận, tra cứu lại sau":
        "Ask IT to check the officer's name and ID; check in anyway, re-checked later",
    "Sai họ tên": "Wrong name",
    "Xác nhận họ tên với người bệnh rồi tra cứu lại": "Confirm the name with the patient and retry",
    "Sai họ tên (đúng ký tự đầu)": "Wrong name (first letter right)",
    "Xác nhận họ tên rồi tra cứu lại": "Confirm the name and retry",
    "Sai ngày sinh": "Wrong date of birth",
    "Xác nhận ngày sinh với người bệnh rồi tra cứu lại":
        "Confirm the date of birth with the patient and retry",
    "Sai giới tính": "Wrong sex",
    "Xác nhận giới tính rồi tra cứu lại": "Confirm the sex and retry",
    "Sai nơi đăng ký KCB ban đầu": "Wrong registered facility",
    "Kiểm tra nơi đăng ký KCB ban đầu": "Check the registered facility",
    "Cổng BHXH lỗi khi lấy dữ liệu thẻ": "The BHXH gateway failed to fetch the card",
    "Cổng BHXH lỗi máy chủ": "BHXH gateway server error",
    "Vẫn tiếp nhận người bệnh; hệ thống sẽ tra cứu lại sau":
        "Check the patient in; the system will look it up again later",
    "Thẻ đã bị thu hồi": "Card revoked",
    "Thẻ đã báo giảm": "Card withdrawn",
    "Thẻ đã báo giảm (chuyển ngoại tỉnh)": "Card withdrawn (moved to another province)",
    "Thẻ đã báo giảm (chuyển nội tỉnh)": "Card withdrawn (moved within the province)",
    "Thẻ đã báo giảm (tăng lại cùng đơn vị)": "Card withdrawn (re-enrolled with the same employer)",
    "Thẻ đã báo giảm (dừng tham gia)": "Card withdrawn (stopped contributing)",
    "Trẻ em chưa có thẻ": "Child without a card yet",
    "Làm thủ tục mã thẻ tạm cho trẻ": "Register a temporary card number for the child",
    "Sai định dạng dữ liệu tra cứu": "Lookup data badly formatted",
    "Kiểm tra số thẻ, họ tên, ngày sinh": "Check the card number, name and date of birth",
    "Cổng BHXH từ chối tài khoản": "The BHXH gateway refused the account",
    "Cổng BHXH lỗi hoặc tài khoản bị hạn chế": "BHXH gateway error or account restricted",
    "Cổng BHXH trả mã kết quả lạ": "The BHXH gateway returned an unknown result code",
    "Chưa xác minh: cổng BHXH không trả lời": "Not verified: the BHXH gateway did not answer",
    "Chưa xác minh: chưa cấu hình cổng BHXH": "Not verified: no BHXH gateway configured",
    "Chưa xác minh: thiếu họ tên hoặc ngày sinh để tra cứu":
        "Not verified: a name and birth date are needed to look the card up",
    "Kiểm tra ngày hiệu lực; chưa hưởng BHYT trước ngày đó":
        "Check the start date; no insurance cover before it",
    "Kiểm tra lại thẻ (quy định 15 ngày sau hết hạn khi đang điều trị)":
        "Check the card again (the 15-day rule after expiry applies during treatment)",
}

register(ENGLISH, {**DESK, **SIGN_IN, **MANUAL_ENTRY, **TICKET, **CHIP, **CORE})
