"""English for the IT screens: settings (``ui/settings.py``) and diagnostics
(``ui/diagnostics.py``). The labels, help and messages of the settings themselves and the
doctor's words are declared with both languages next to the code that uses them
(:mod:`checkin.config`, :mod:`checkin.doctor`) and registered from there."""

from __future__ import annotations

from checkin import config, doctor
from ui.i18n import ENGLISH, register

register(ENGLISH, {p.vi: p.en for p in [*config.phrases(), *doctor.phrases()]})

register(
    ENGLISH,
    {
        # -- settings: window, tabs, buttons
        "Cài đặt — {path}": "Settings — {path}",
        "&Lưu": "&Save",
        "Hủy (Esc)": "Cancel (Esc)",
        "Camera": "Camera",
        "Máy quét": "Scanner",
        "Đầu đọc thẻ chip": "Chip reader",
        "Cổng BHXH": "Gateway",
        "Dữ liệu": "Store",
        "Quầy tiếp đón": "Desk",
        "Tệp cấu hình hiện tại có lỗi: {error}. Sửa các ô bên dưới rồi Lưu.": (
            "The configuration file has an error: {error}. Correct the fields below, then Save."
        ),
        "Chưa lưu: {count} ô chưa đúng (viền đỏ).": (
            "Not saved: {count} field(s) are wrong (outlined in red)."
        ),
        "Chưa lưu: mật khẩu chưa có chỗ giữ an toàn.": (
            "Not saved: there is no safe place for the password."
        ),
        "Không ghi được tệp cấu hình: {error}": "Cannot write the configuration file: {error}",
        "Đã lưu {path}": "Saved {path}",
        "Ký tự đặc biệt {wrong} không có: dùng \\r (Enter), \\t (Tab), \\n, \\\\ hoặc \\xHH"
        " (mã hex, ví dụ \\x02)": "There is no special character {wrong}: use \\r (Enter),"
        " \\t (Tab), \\n, \\\\ or \\xHH (hex code, e.g. \\x02)",
        "Chọn tệp": "Choose a file",
        "Chọn tệp…": "Choose file…",
        "Chọn thư mục": "Choose a folder",
        "…": "…",
        "Tệp dữ liệu": "Database file",
        "SQLite (*.db);;Tất cả (*)": "SQLite (*.db);;All (*)",
        "Đang tìm thiết bị…": "Looking for devices…",
        # -- camera
        "Chọn tệp video…": "Choose video file…",
        "Chọn tệp video": "Choose a video file",
        "Video (*.avi *.mp4 *.mkv *.mov);;Tất cả (*)": "Video (*.avi *.mp4 *.mkv *.mov);;All (*)",
        "Tìm camera": "Find cameras",
        "Chưa xem trước": "No preview yet",
        "Xem trước": "Preview",
        "Thử": "Test",
        "Xem camera trong 3 giây: số khung hình mỗi giây và có đọc được mã QR không": (
            "Watch the camera for 3 seconds: frames per second, and whether a QR code reads"
        ),
        "Camera mô phỏng: video mẫu (để thử)": "Simulated camera: sample video (for testing)",
        "Đang thử camera trong {s:g} giây…": "Testing the camera for {s:g} seconds…",
        "Hãy chọn một camera.": "Choose a camera.",
        "{fps:.1f} khung hình/giây": "{fps:.1f} frames/s",
        "Đọc được mã QR. {what}": "A QR code reads. {what}",
        "Chưa thấy mã QR: đưa một mã vào trước camera": (
            "No QR code seen yet: hold one in front of the camera"
        ),
        "Không có hình": "No picture",
        "Không mở được camera: {error}": "Cannot open the camera: {error}",
        "Camera không gửi hình nào": "The camera sent no picture",
        # -- scanner
        "Máy quét kiểu bàn phím (USB HID)": "Keyboard scanner (USB HID)",
        "Máy quét cổng COM (serial, USB CDC)": "Serial scanner (COM port, USB CDC)",
        "Tìm cổng": "Find ports",
        "Thử cổng COM": "Test COM port",
        "Mở cổng và chờ một lần quét trong 5 giây (loop:// tự gửi một dòng thử)": (
            "Open the port and wait 5 seconds for one scan (loop:// sends itself a test line)"
        ),
        "Cổng ảo vòng lặp (để thử: gửi gì nhận nấy)": (
            "Virtual loop-back port (for testing: echoes what is sent)"
        ),
        "Máy quét mô phỏng: bản ghi mẫu (để thử)": (
            "Simulated scanner: sample recording (for testing)"
        ),
        "Không dùng máy quét cổng COM": "No serial scanner",
        "Chọn hoặc nhập một cổng COM trước.": "Choose or type a COM port first.",
        "Đang mở {url}… quét thử một mã trong {s:g} giây": (
            "Opening {url}… scan a code within {s:g} seconds"
        ),
        "cổng không trả lời": "the port does not answer",
        "Không mở được cổng: {error}": "Cannot open the port: {error}",
        "Mở được cổng nhưng chưa nhận được mã nào.": "The port opens, but no code came.",
        "Đã nhận {n} byte: {scanned} — {what}": "Received {n} bytes: {scanned} — {what}",
        "Lỗi khi thử: {error}": "The test failed: {error}",
        "Theo dõi phím (quét thử)": "Key monitor (test scan)",
        "Các phím nhận được": "Keys received",
        "Chọn ô này (Alt+{key}) rồi quét một mã: mỗi phím máy quét gõ hiện ra với mã ký tự"
        " và khoảng cách (ms). Máy quét cổng COM không gõ vào đây.": (
            "Select this box (Alt+{key}) and scan a code: each key the scanner types shows with"
            " its code point and the gap in ms. Serial (COM) scanners do not type here."
        ),
        "Ô theo dõi phím của máy quét": "Scanner key monitor",
        "Ký tự": "Character",
        "Mã": "Code point",
        "Cách (ms)": "Gap (ms)",
        "Lần quét": "Run",
        "Xóa": "Clear",
        "Lần quét: {n} ký tự. {what}": "Scan: {n} characters. {what}",
        "Gõ tay (hoặc quét quá chậm): {n} ký tự, khoảng cách lớn nhất {gap:.0f} ms. Máy quét"
        " cần gõ {min} ký tự trở lên, mỗi phím cách nhau tối đa {limit:.0f} ms.": (
            "Typed by hand (or scanned too slowly): {n} characters, longest gap {gap:.0f} ms."
            " A scan is {min} characters or more, at most {limit:.0f} ms between keys."
        ),
        "Có ký tự bị hỏng: bố cục bàn phím hoặc bộ gõ làm sai dấu tiếng Việt. Đặt bàn phím US,"
        " tắt Unikey/EVKey, hoặc dùng chế độ cổng COM.": (
            "Some characters are garbled: the keyboard layout or input method breaks Vietnamese"
            " marks. Use the US layout, turn Unikey/EVKey off, or use the scanner's COM mode."
        ),
        "Bộ gõ tiếng Việt (Telex/VNI) đang bật và làm thay đổi chữ máy quét gõ: hãy tắt bộ gõ"
        " khi quét, hoặc dùng chế độ cổng COM.": (
            "A Vietnamese input method (Telex/VNI) is on and changes what the scanner types:"
            " turn it off while scanning, or use the scanner's COM mode."
        ),
        "Mã {kind} hợp lệ: {name}": "Valid {kind} code: {name}",
        "Không phải mã BHYT hoặc CCCD": "Not a BHYT or CCCD code",
        # -- chip reader
        "Làm mới": "Refresh",
        "Đọc thử": "Test read",
        "Kết nối tới thẻ trên đầu đọc và hiện ATR của thẻ": (
            "Connect to the card on the reader and show its ATR"
        ),
        "Đặt thẻ CCCD gắn chip lên đầu đọc rồi nhấn Đọc thử. Nếu không thấy đầu đọc: kiểm tra"
        " dịch vụ PC/SC (Linux: pcscd; Windows: Smart Card).": (
            "Put a chip citizen ID card on the reader and press Test read. No reader listed:"
            " check the PC/SC service (Linux: pcscd; Windows: Smart Card)."
        ),
        "Đầu đọc đang kết nối": "Connected reader",
        "Đầu đọc đầu tiên có thẻ": "The first reader holding a card",
        "Không liệt kê được đầu đọc: {error}": "Cannot list the readers: {error}",
        "{count} đầu đọc đang kết nối": "{count} reader(s) connected",
        "Đang kết nối tới thẻ…": "Connecting to the card…",
        "Đầu đọc {reader}: thẻ trả lời, ATR {atr}": "Reader {reader}: the card answers, ATR {atr}",
        "Dịch vụ PC/SC (pcscd) không chạy: khởi động dịch vụ rồi thử lại.": (
            "The PC/SC service (pcscd) is not running: start it and try again."
        ),
        "Chưa có thẻ trên đầu đọc: đặt thẻ CCCD nằm phẳng trên đầu đọc rồi thử lại.": (
            "No card on the reader: lay the citizen ID card flat on the reader and try again."
        ),
        "Không có đầu đọc nào: cắm đầu đọc thẻ chip.": "No reader: plug in the chip card reader.",
        "Đầu đọc đang được chương trình khác dùng: đóng chương trình đó rồi thử lại.": (
            "Another program is using the reader: close it and try again."
        ),
        "Không tìm thấy đầu đọc đã chọn: {error}": "The chosen reader is not there: {error}",
        "Chưa cài thư viện pyscard: chạy make deps.": "pyscard is not installed: run make deps.",
        "Không đọc được: {error}": "Cannot read: {error}",
        # -- gateway
        "Lưu mật khẩu trong tệp cấu hình (ai đọc được tệp sẽ thấy mật khẩu)": (
            "Keep the password in the configuration file (anyone who can read it sees it)"
        ),
        "Máy này không có kho khóa hệ thống (keyring) nên không giữ được mật khẩu an toàn. Hãy"
        " đặt biến môi trường {env} cho màn hình tiếp đón, hoặc đánh dấu ô dưới đây để lưu mật"
        " khẩu trong tệp cấu hình.": (
            "This computer has no system keyring, so the password cannot be kept safely. Set the"
            " {env} environment variable for the desk, or tick the box below to keep the"
            " password in the configuration file."
        ),
        "Đang dùng mật khẩu từ biến môi trường {env}.": (
            "The password comes from the {env} environment variable."
        ),
        "Mật khẩu đang nằm trong tệp cấu hình.": "The password is in the configuration file.",
        "Đã có mật khẩu trong kho khóa hệ thống; để trống để giữ nguyên.": (
            "The system keyring holds a password; leave this empty to keep it."
        ),
        "Chưa có mật khẩu trong kho khóa hệ thống.": "The system keyring holds no password yet.",
        "Chưa có mật khẩu.": "No password yet.",
        "Kiểm tra kết nối": "Test connection",
        "Sửa các ô viền đỏ trước khi kiểm tra.": "Correct the fields outlined in red first.",
        "Đang kết nối tới {url}…": "Connecting to {url}…",
        "Lỗi khi kiểm tra: {error}": "The check failed: {error}",
        # -- store
        "Dữ liệu tiếp đón và hàng đợi tra cứu lại nằm trong tệp này. Đổi tệp khi đang có lượt"
        " chờ tra cứu lại sẽ để các lượt đó lại trong tệp cũ.": (
            "Visits and the re-check queue live in this file. Changing it while visits wait for"
            " a re-check leaves them behind in the old file."
        ),
        "Đổi tài khoản thì nhập lại mật khẩu của tài khoản {username}": (
            "A new account name needs its password: type the password of {username}"
        ),
        "Tệp cũ {path} còn {count} lượt chờ tra cứu lại; tệp mới sẽ không tra lại"
        " các lượt đó. Chạy “checkin sync” trước, hoặc bấm Lưu lần nữa để vẫn đổi.": (
            "The old file {path} still has {count} visits waiting for a re-check; the new file"
            " will not re-check them. Run “checkin sync” first, or press Save again to change"
            " anyway."
        ),
        # -- diagnostics
        "Chẩn đoán thiết bị và kết nối": "Diagnostics: devices and connections",
        "Nhấn F5 để kiểm tra.": "Press F5 to check.",
        "Kết quả chẩn đoán": "Diagnostic results",
        "Hạng mục": "Item",
        "Tình trạng": "Status",
        "Cách xử lý": "Fix",
        "&Kiểm tra lại (F5)": "&Check again (F5)",
        "&Sao chép báo cáo": "C&opy report",
        "Đang kiểm tra… (tối đa khoảng 5 giây)": "Checking… (about 5 seconds at most)",
        "Không chạy được chẩn đoán: {error}": "The diagnostics could not run: {error}",
        "✗ Cần xử lý: {names}": "✗ Needs attention: {names}",
        "✓ Mọi kiểm tra bắt buộc đều đạt": "✓ Every required check passes",
        "Đã sao chép báo cáo (các số định danh đã được che).": (
            "Report copied (identifying numbers are masked)."
        ),
        "Báo cáo chẩn đoán checkin — {time}": "checkin diagnostic report — {time}",
        "Mọi kiểm tra bắt buộc đều đạt": "Every required check passes",
        "Có lỗi cần xử lý": "Something needs attention",
        " (không bắt buộc)": " (optional)",
    },
)
