"""The sandbox gateway over real HTTP on a loopback port (formats.md §6)."""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from datetime import UTC, date, datetime

import pytest
import requests

from checkin.sandbox import Sandbox, load_population

USERNAME = "01001_BV"
PASSWORD_MD5 = hashlib.md5(b"sandbox-only").hexdigest().upper()
OFFICER = {"hoTenCb": "Nguyễn Văn Tiếp", "cccdCb": "001090000001"}
TOKEN_PATH = "/api/token/take"
CHECK_PATH = "/api/egw/KQNhanLichSuKCB2024"
# formats.md §6.5, written out here independently of the server's own list.
REPLY_FIELDS = {
    "maKetQua", "ghiChu", "maThe", "hoTen", "ngaySinh", "gioiTinh", "diaChi", "maDKBD", "cqBHXH",
    "gtTheTu", "gtTheDen", "maKV", "ngayDu5Nam", "maSoBHXH", "maTheCu", "maTheMoi", "gtTheTuMoi",
    "gtTheDenMoi", "maDKBDMoi", "tenDKBDMoi", "dsLichSuKCB2018", "dsLichSuKT2018",
}  # fmt: skip
POPULATION = load_population()
MAI = POPULATION.person("eligible-old")


def dmy(iso: str) -> str:
    return iso if len(iso) == 4 else "/".join(reversed(iso.split("-")))


class Desk:
    """A minimal client, just enough to drive the sandbox."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = requests.Session()
        self.query: dict[str, str] = {}

    def take_token(self, username=USERNAME, password=PASSWORD_MD5, as_json=False, timeout=5):
        fields = {"username": username, "password": password}
        body = {"json": fields} if as_json else {"data": fields}
        return self.http.post(self.url + TOKEN_PATH, timeout=timeout, **body)

    def login(self) -> Desk:
        reply = self.take_token()
        assert reply.status_code == 200, reply.text
        key = reply.json()["APIKey"]
        self.query = {
            "token": key["access_token"],
            "id_token": key["id_token"],
            "username": USERNAME,
            "password": PASSWORD_MD5,
        }
        return self

    def check(
        self, number, name, dob, *, officer=OFFICER, as_json=False, query=None, timeout=5, key=None
    ):
        fields = {"maThe": number, "hoTen": name, "ngaySinh": dob, **officer}
        body = {"json": fields} if as_json else {"data": fields}
        params = self.query if query is None else query
        headers = {"Idempotency-Key": key} if key else None
        return self.http.post(
            self.url + CHECK_PATH, params=params, timeout=timeout, headers=headers, **body
        )

    def check_mai(self, **kwargs):
        return self.check(MAI.card_number, MAI.full_name, dmy(MAI.date_of_birth), **kwargs)


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox() as sb:
        yield sb


@pytest.fixture(autouse=True)
def no_faults(request):
    yield
    if "sandbox" in request.fixturenames:
        request.getfixturevalue("sandbox").faults.clear()


@pytest.fixture
def desk(sandbox) -> Desk:
    return Desk(sandbox.url).login()


# --- server basics ---------------------------------------------------------------------------


def test_binds_loopback_on_a_free_port_by_default(sandbox):
    assert sandbox.host == "127.0.0.1"
    assert sandbox.url == f"http://127.0.0.1:{sandbox.port}"
    assert sandbox.port > 0


def test_unknown_path_is_404_json(sandbox):
    reply = requests.get(sandbox.url + "/api/egw/nothing", timeout=5)
    assert reply.status_code == 404
    assert reply.json()["maKetQua"] == "404"
    assert requests.get(sandbox.url + CHECK_PATH, timeout=5).status_code == 405


def test_stop_releases_the_port():
    sb = Sandbox().start()
    url = sb.url
    sb.stop()
    sb.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/_sandbox/stats", timeout=2)


# --- token -----------------------------------------------------------------------------------


@pytest.mark.parametrize("as_json", [False, True])
@pytest.mark.parametrize("password", [PASSWORD_MD5, PASSWORD_MD5.lower()])
def test_token_take_good(sandbox, password, as_json):
    reply = Desk(sandbox.url).take_token(password=password, as_json=as_json)
    assert reply.status_code == 200
    data = reply.json()
    assert data["maKetQua"] == "200"
    key = data["APIKey"]
    assert set(key) == {"access_token", "id_token", "token_type", "username", "expires_in"}
    assert key["token_type"] == "Bearer"
    assert key["username"] == USERNAME
    uuid.UUID(key["id_token"])
    assert key["expires_in"].endswith("Z")
    expires = datetime.fromisoformat(key["expires_in"])
    assert 500 < (expires - datetime.now(UTC)).total_seconds() <= 600


@pytest.mark.parametrize(
    ("username", "password"),
    [(USERNAME, "sandbox-only"), (USERNAME, "0" * 32), ("79999_BV", PASSWORD_MD5), ("", "")],
)
def test_token_take_bad_credentials(sandbox, username, password):
    reply = Desk(sandbox.url).take_token(username=username, password=password)
    assert reply.status_code == 401
    assert reply.json() == {"maKetQua": "401"}


# --- card checks -------------------------------------------------------------------------------


@pytest.mark.parametrize("person", POPULATION.people, ids=lambda p: p.key)
def test_every_person_answers_their_expected_code(desk, person):
    today = date.today()
    view = person.qr_view(today)
    reply = desk.check(
        person.qr_lookup_number(today), view["full_name"], dmy(view["date_of_birth"])
    )
    assert reply.status_code == 200
    data = reply.json()
    assert set(data) == REPLY_FIELDS
    assert data["maKetQua"] == person.expected_code
    assert data["ghiChu"]
    assert data["dsLichSuKCB2018"] is None


@pytest.mark.parametrize("number", [MAI.card_number, MAI.social_insurance_number, MAI.citizen_id])
def test_lookup_by_15_char_10_digit_and_12_digit(desk, number):
    data = desk.check(number, MAI.full_name, "12/05/1985").json()
    assert data["maKetQua"] == "000"
    assert data["maThe"] == "DN4010123456789"
    assert data["maSoBHXH"] == "0123456789"


def test_reply_shape_for_a_valid_card(desk):
    data = desk.check_mai().json()
    assert data["hoTen"] == "Trần Thị Mai"
    assert data["ngaySinh"] == "12/05/1985"
    assert data["gioiTinh"] == "Nữ"
    assert data["maDKBD"] == "01001"
    assert data["cqBHXH"].startswith("Bảo hiểm xã hội")
    assert data["gtTheTu"] == "01/01/2024"
    datetime.strptime(data["gtTheDen"], "%d/%m/%Y")
    assert data["ngayDu5Nam"] == "01/01/2029"
    assert data["maKV"] == ""
    assert data["maTheMoi"] is None
    entry = data["dsLichSuKT2018"][-1]
    assert entry["userKT"] == USERNAME
    assert entry["maLoi"] == "000"
    datetime.strptime(entry["thoiGianKT"], "%Y%m%d%H%M")
    assert entry["thongBao"]


def test_lookup_history_grows_per_card(desk):
    before = len(desk.check_mai().json()["dsLichSuKT2018"])
    assert len(desk.check_mai().json()["dsLichSuKT2018"]) == before + 1


def test_new_card_fields_and_year_only_birth_date(desk):
    person = POPULATION.person("new-card-003")
    data = desk.check(person.card_number, person.full_name, dmy(person.date_of_birth)).json()
    assert data["maKetQua"] == "003"
    assert data["maTheCu"] == person.card_number
    assert data["maTheMoi"] == person.new_card.card_number
    assert data["maDKBDMoi"] == "31001"
    assert data["tenDKBDMoi"]
    for name in ("gtTheTuMoi", "gtTheDenMoi"):
        datetime.strptime(data[name], "%d/%m/%Y")
    retiree = POPULATION.person("retiree-ht3")
    data = desk.check(retiree.social_insurance_number, retiree.full_name, "1948").json()
    assert (data["maKetQua"], data["ngaySinh"], data["maKV"]) == ("000", "1948", "K2")
    assert data["maThe"] == "HT3515109876543"


def test_not_found_carries_no_card_data(desk):
    data = desk.check("0999999999", "Ai Đó", "01/01/1990").json()
    assert data["maKetQua"] == "050"
    assert set(data) == REPLY_FIELDS
    assert data["maThe"] is None
    assert data["hoTen"] is None
    assert data["dsLichSuKT2018"] == []


def test_json_body_is_accepted(desk):
    assert desk.check_mai(as_json=True).json()["maKetQua"] == "000"


def test_officer_codes_054_and_055(desk):
    unknown = {"hoTenCb": "Trần Văn Khách", "cccdCb": "001090999999"}
    assert desk.check_mai(officer=unknown).json()["maKetQua"] == "054"
    wrong_name = {"hoTenCb": "Nguyễn Văn Tiến", "cccdCb": "001090000001"}
    assert desk.check_mai(officer=wrong_name).json()["maKetQua"] == "055"


def test_parameter_format_error_205(desk):
    assert desk.check(MAI.card_number, MAI.full_name, "1985-05-12").json()["maKetQua"] == "205"
    assert desk.check(MAI.card_number, "", "12/05/1985").json()["maKetQua"] == "205"
    missing = desk.http.post(desk.url + CHECK_PATH, params=desk.query, data={"maThe": "x"})
    assert missing.status_code == 200
    assert missing.json()["maKetQua"] == "205"


# --- authentication ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"token": "bm90LWEtdG9rZW4="},
        {"id_token": str(uuid.uuid4())},
        {"password": "0" * 32},
        {"username": "79999_BV"},
        {"token": ""},
    ],
)
def test_bad_query_credentials_give_401(desk, change):
    reply = desk.check_mai(query={**desk.query, **change})
    assert reply.status_code == 401
    assert reply.json()["maKetQua"] == "401"
    assert reply.json()["ghiChu"]


def test_lower_case_md5_in_the_query_is_accepted(desk):
    query = {**desk.query, "password": PASSWORD_MD5.lower()}
    assert desk.check_mai(query=query).json()["maKetQua"] == "000"


def test_token_expires_after_its_ttl():
    with Sandbox(token_ttl_s=0.3) as sb:
        desk = Desk(sb.url).login()
        assert desk.check_mai().status_code == 200
        time.sleep(0.4)
        assert desk.check_mai().status_code == 401
        assert desk.login().check_mai().status_code == 200


def test_expire_tokens_fault_forces_a_new_token(sandbox, desk):
    assert desk.check_mai().status_code == 200
    sandbox.faults.set("expire_tokens")
    assert sandbox.faults.mode == "none"
    assert desk.check_mai().status_code == 401
    assert desk.login().check_mai().status_code == 200


# --- faults ------------------------------------------------------------------------------------


def set_fault(sandbox, **body) -> requests.Response:
    return requests.post(sandbox.url + "/_sandbox/faults", json=body, timeout=5)


def test_fault_down_drops_the_connection(sandbox, desk):
    set_fault(sandbox, mode="down")
    with pytest.raises(requests.ConnectionError):
        desk.check_mai()
    with pytest.raises(requests.ConnectionError):
        desk.take_token()


def test_fault_slow_delays_the_answer(sandbox, desk):
    assert set_fault(sandbox, mode="slow", delay_s=0.3).json()["fault"]["delay_s"] == 0.3
    started = time.monotonic()
    assert desk.check_mai().json()["maKetQua"] == "000"
    assert time.monotonic() - started >= 0.3
    sandbox.faults.set("slow", delay_s=2)
    with pytest.raises(requests.Timeout):
        desk.check_mai(timeout=0.2)


def test_fault_http500(sandbox, desk):
    set_fault(sandbox, mode="http500")
    reply = desk.check_mai()
    assert reply.status_code == 500
    assert reply.headers["Content-Type"].startswith("text/html")
    with pytest.raises(ValueError):
        reply.json()


def test_fault_garbage(sandbox, desk):
    sandbox.faults.set("garbage")
    reply = desk.check_mai()
    assert reply.status_code == 200
    with pytest.raises(ValueError):
        reply.json()


def test_fault_401_empty_hits_card_checks_only(sandbox, desk):
    set_fault(sandbox, mode="401_empty")
    reply = desk.check_mai()
    assert reply.status_code == 401
    assert reply.content == b""
    assert desk.take_token().status_code == 200


def test_fault_none_and_bad_modes(sandbox, desk):
    set_fault(sandbox, mode="http500")
    assert set_fault(sandbox, mode="none").status_code == 200
    assert desk.check_mai().status_code == 200
    assert set_fault(sandbox, mode="explode").status_code == 400
    assert set_fault(sandbox, mode="slow", delay_s="soon").status_code == 400
    with pytest.raises(ValueError):
        sandbox.faults.set("explode")


# --- stats and logging -------------------------------------------------------------------------


def test_stats_count_lookups_per_masked_card():
    with Sandbox() as sb:
        desk = Desk(sb.url).login()
        desk.check_mai()
        desk.check_mai()
        sb.faults.set("down")
        with pytest.raises(requests.ConnectionError):
            desk.check_mai()
        sb.faults.clear()
        assert sb.lookups_by_card["DN4010123456789"] == 2
        assert sb.requests_by_card["DN4010123456789"] == 3
        stats = requests.get(sb.url + "/_sandbox/stats", timeout=5).json()
    assert stats["lookups"] == {"…6789": 2}
    assert stats["requests"] == {"…6789": 3}
    assert stats["replays"] == {}
    assert stats["tokens_issued"] == 1
    assert stats["tokens_active"] == 1
    assert stats["fault"] == {"mode": "none", "delay_s": 0.0}
    assert "DN4010123456789" not in str(stats)


def test_logs_never_hold_full_numbers_tokens_or_query_strings(sandbox, desk, caplog):
    with caplog.at_level(logging.DEBUG, logger="checkin.sandbox"):
        desk.check_mai()
        desk.check(MAI.citizen_id, MAI.full_name, "12/05/1985")
        desk.check_mai(query={**desk.query, "token": "x"})
    text = caplog.text
    assert "…6789" in text
    for secret in (MAI.card_number, MAI.citizen_id, desk.query["token"], PASSWORD_MD5, "?"):
        assert secret not in text


def test_idempotency_key_repeats_are_answered_from_the_record():
    """The outbox's key: a repeat of an answered request is not a second lookup, whichever
    officer sends it; the same key for another card is refused; a failed try is not kept."""
    with Sandbox() as sb:
        desk = Desk(sb.url).login()
        first = desk.check_mai(key="recheck:a")
        other_officer = {"hoTenCb": "Lê Thị Hoa", "cccdCb": "001190000002"}
        again = desk.check_mai(key="recheck:a", officer=other_officer)
        assert first.status_code == again.status_code == 200
        assert again.json() == first.json()
        assert sb.lookups_by_card[MAI.card_number] == 1
        assert sb.replays_by_card[MAI.card_number] == 1
        assert sb.requests_by_card[MAI.card_number] == 2

        misuse = desk.check(MAI.card_number, "Người Khác", dmy(MAI.date_of_birth), key="recheck:a")
        assert misuse.status_code == 422 and misuse.json()["maKetQua"] == "422"

        sb.faults.set("http500")
        assert desk.check_mai(key="recheck:b").status_code == 500
        sb.faults.clear()
        assert desk.check_mai(key="recheck:b").status_code == 200  # looked up: nothing kept
        assert desk.check_mai().status_code == 200  # no key: always a lookup
        assert sb.lookups_by_card[MAI.card_number] == 3
        stats = requests.get(sb.url + "/_sandbox/stats", timeout=5).json()
    assert stats["replays"] == {"…6789": 1}
