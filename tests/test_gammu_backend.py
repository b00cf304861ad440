"""GammuModem with the real libgammu: its dummy phone (a directory), our emulator over a
pty with an AT connection, the bridge on top, and `smsbridge modem probe`."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from datetime import datetime

import gammu
import pytest
from gammu_dummy import DummyPhone
from rigs import run_smsbridge

from smsbridge.bridge import Bridge
from smsbridge.config.sections import Config, ModemConfig
from smsbridge.emulator import Emulator, EmulatorSettings
from smsbridge.errors import ConfigError, ModemTimeout, PortError, SimError
from smsbridge.models import CaseQuery
from smsbridge.modem.base import NewMessage
from smsbridge.modem.factory import make_modem
from smsbridge.modem.gammu import GammuModem, GammuSettings
from smsbridge.modem.gammu_convert import GammuCommandError, message_key, translate
from smsbridge.pool.sending import Sending
from smsbridge.sms import pdu
from smsbridge.store import Store

REPORTER = "+6281234567890"
WHEN = datetime(2024, 5, 6, 7, 8, 9, tzinfo=pdu.WIB)


@pytest.fixture
def phone(tmp_path):
    return DummyPhone(tmp_path)


class Recorder:
    """A StateMachine factory that notes each call's name and thread, then lets the
    real libgammu StateMachine do it."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, threading.Thread, tuple, dict]] = []

    def __call__(self):
        recorder, real = self, gammu.StateMachine()

        class Spy:
            def __getattr__(self, name):
                method = getattr(real, name)

                def call(*args, **kwargs):
                    recorder.calls.append((name, threading.current_thread(), args, kwargs))
                    return method(*args, **kwargs)
                return call
        return Spy()

    def sent(self) -> list[dict]:
        return [args[0] for name, _, args, _ in self.calls if name == "SendSMS"]


@pytest.fixture
def modem(phone):
    m = make_modem(phone.modem_config())
    m.open()
    yield m
    m.close()


def decoded(modem) -> list:
    return [pdu.decode(m.pdu) for m in modem.list_stored()]


# -- receiving ---------------------------------------------------------------------------


def test_listed_message_decodes_to_the_same_sender_text_and_time(phone, modem):
    phone.deliver(REPORTER, "Ada pencurian di pasar", timestamp=WHEN)
    [sms] = decoded(modem)
    assert (sms.sender, sms.text, sms.timestamp, sms.concat) == (
        REPORTER, "Ada pencurian di pasar", WHEN, None)


def test_multipart_unicode_report_keeps_its_concatenation_info(phone, modem):
    text = "Tolong 🙏 ada perampokan di Jl. Merdeka " * 5
    phone.deliver(REPORTER, text, timestamp=WHEN, reference=77)
    parts = decoded(modem)
    assert len(parts) >= 2
    assert [p.concat for p in parts] == [pdu.Concat(77, len(parts), n)
                                          for n in range(1, len(parts) + 1)]
    assert "".join(p.text for p in parts) == text
    assert {p.sender for p in parts} == {REPORTER} and {p.timestamp for p in parts} == {WHEN}


def test_gsm7_extension_characters_and_alphanumeric_sender_survive(phone, modem):
    phone.deliver("TELKOMSEL", "Pulsa Rp10.000 {bonus} [50%] ~ € ^ |", timestamp=WHEN)
    [sms] = decoded(modem)
    assert sms.is_alphanumeric and sms.sender == "TELKOMSEL"
    assert sms.text == "Pulsa Rp10.000 {bonus} [50%] ~ € ^ |"


def test_status_report_is_listed_as_a_status_report(phone, modem):
    phone.deliver_pdu(pdu.encode_status_report(42, REPORTER, status=0, submitted_at=WHEN))
    [report] = decoded(modem)
    assert isinstance(report, pdu.StatusReport)
    assert (report.reference, report.recipient, report.delivered) == (42, REPORTER, True)
    assert report.submitted_at == WHEN


def test_the_same_message_gives_the_same_key_and_pdu_on_every_listing(phone, modem):
    """The daemon recognises a message listed again after a crash by its key."""
    phone.deliver(REPORTER, "Balap liar " * 30, timestamp=WHEN, reference=5)
    phone.deliver_pdu(pdu.encode_status_report(7, REPORTER, submitted_at=WHEN))
    first = modem.list_stored()
    modem.close()
    again = make_modem(ModemConfig(backend="gammu", gammurc=str(phone.gammurc)))
    again.open()
    try:
        listed = again.list_stored()
        assert [m.pdu for m in listed] == [m.pdu for m in first]
        assert [m.key for m in listed] == [m.key for m in first]
        assert len({m.key for m in first}) == len(first)
    finally:
        again.close()


GAMMU_DELIVER = {
    "SMSC": {"Location": 0, "Number": "+6281100000"}, "Folder": 1, "InboxFolder": 1,
    "Memory": "SM", "Location": 3, "Number": REPORTER, "Text": "Ada pencurian di pasar",
    "Type": "Deliver", "Coding": "Default_No_Compression", "DateTime": WHEN,
    "SMSCDateTime": datetime(2026, 1, 1), "State": "UnRead", "Class": -1,
    "UDH": {"Type": "NoUDH", "Text": b""}, "ReplyViaSameSMSC": 0, "ReplaceMessage": 0,
}


def test_key_ignores_where_a_message_sits_and_whether_it_was_read():
    moved = {**GAMMU_DELIVER, "Location": 100004, "Memory": "ME", "Folder": 3,
             "State": "Read", "SMSCDateTime": datetime(2026, 2, 2)}
    assert message_key(moved) == message_key(GAMMU_DELIVER)


@pytest.mark.parametrize("change", [
    {"Text": "Ada pencurian di pasar!"}, {"Number": "+6281234567891"},
    {"DateTime": datetime(2026, 3, 1, 12, 0, 1)}, {"Class": 0},
    {"UDH": {"Type": "ConcatenatedMessages", "Text": b"\x05\x00\x03\x07\x02\x01"}},
    {"SMSC": {"Number": "+6281100001"}}, {"Type": "Status_Report"},
])
def test_key_changes_with_what_the_message_says(change):
    assert message_key({**GAMMU_DELIVER, **change}) != message_key(GAMMU_DELIVER)


def test_status_report_key_leaves_out_a_discharge_time_the_driver_does_not_read():
    report = {**GAMMU_DELIVER, "Type": "Status_Report", "MessageReference": 7,
              "DeliveryStatus": 0}
    later = {**report, "SMSCDateTime": datetime(2026, 2, 2)}
    assert message_key(later, smsc_time=False) == message_key(report, smsc_time=False)
    assert message_key(later) != message_key(report)


def test_delete_frees_the_slot_and_deleting_twice_is_not_an_error(phone, modem):
    phone.deliver(REPORTER, "satu")
    phone.deliver(REPORTER, "dua")
    listed = modem.list_stored()
    modem.delete(listed[0].index)
    modem.delete(listed[0].index)
    assert [pdu.decode(m.pdu).text for m in modem.list_stored()] == ["dua"]
    assert phone.inbox() == [2]


# -- sending ----------------------------------------------------------------------------


def test_long_unicode_reply_goes_out_in_parts_with_one_reference(phone, modem):
    text = "Laporan LP-000123 diterima 🙏 petugas segera datang. " * 3
    refs = modem.send(REPORTER, text)
    sent = phone.sent()
    assert len(refs) == len(sent) >= 2
    assert {s.number for s in sent} == {REPORTER}
    assert "".join(s.text for s in sent) == text
    concat = [s.concat for s in sent]
    assert {c[0] for c in concat} == {concat[0][0]}
    assert [(c[1], c[2]) for c in concat] == [(len(sent), n) for n in range(1, len(sent) + 1)]


def test_gsm7_reply_with_extension_characters_is_one_sms(phone, modem):
    refs = modem.send(REPORTER, "Tiket LP-000123 {diterima} €")
    assert len(refs) == 1
    [sent] = phone.sent()
    assert (sent.text, sent.udh) == ("Tiket LP-000123 {diterima} €", b"")


@pytest.mark.parametrize("status_report", [True, False])
def test_parts_sent_are_sms_submits_asking_a_status_report_as_configured(phone, status_report):
    recorder = Recorder()
    m = GammuModem(GammuSettings("", gammurc=str(phone.gammurc)), state_machine=recorder)
    m.open()
    try:
        m.send("081234567890", "x" * 200, status_report=status_report)
    finally:
        m.close()
    # gammu's own encoder as the oracle: what SendSMS got, as 23.040 bytes.
    submits = [pdu.decode_submit(gammu.EncodePDU(d, Layout="Submit")) for d in recorder.sent()]
    assert [s.status_report_requested for s in submits] == [status_report] * 2
    assert {s.recipient for s in submits} == {"081234567890"}
    assert "".join(s.text for s in submits) == "x" * 200


# -- the device -------------------------------------------------------------------------


def test_status_reports_what_the_phone_says(modem):
    s = modem.status()
    assert (s.manufacturer, s.model, s.imei, s.sim) == ("Gammu", "Dummy", "999999999999999",
                                                        "READY")
    assert s.registered and s.operator == "GammuT3l" and s.smsc == "123456"
    assert s.storage_memory == "SM" and s.storage_used == 0 and s.storage_total


def test_toml_device_and_connection_drive_the_dummy_phone_without_gammurc(phone):
    m = make_modem(ModemConfig(backend="gammu", port=str(phone.device),
                               gammu_connection="none"))
    phone.deliver(REPORTER, "tanpa gammurc")
    m.open()
    try:
        assert [pdu.decode(x.pdu).text for x in m.list_stored()] == ["tanpa gammurc"]
    finally:
        m.close()


def test_every_gammu_call_runs_on_one_owner_thread(phone):
    recorder = Recorder()
    m = GammuModem(GammuSettings("", gammurc=str(phone.gammurc)), state_machine=recorder)
    phone.deliver(REPORTER, "halo")
    m.open()
    try:
        for message in m.list_stored():
            m.delete(message.index)
        m.send(REPORTER, "balasan")
        m.status()
        m.poll_events(0.01)
        owner = m.owner_thread
    finally:
        m.close()
    threads = {thread for _, thread, _, _ in recorder.calls}
    assert threads == {owner} and owner is not threading.current_thread()


def test_dummy_phone_has_no_new_message_events_so_the_poll_timer_finds_them(phone, modem):
    phone.deliver(REPORTER, "halo")
    assert modem.poll_events(0.05) == []
    assert len(modem.list_stored()) == 1


def test_a_device_that_cannot_be_opened_is_a_port_error(tmp_path):
    m = make_modem(ModemConfig(backend="gammu", port=str(tmp_path / "no" / "such" / "phone"),
                               gammu_connection="none"))
    with pytest.raises(PortError):
        m.open()
    m.close()


def test_a_missing_gammurc_is_a_config_error(tmp_path):
    m = make_modem(ModemConfig(backend="gammu", gammurc=str(tmp_path / "gammurc")))
    with pytest.raises(ConfigError, match="gammu"):
        m.open()
    m.close()


@pytest.mark.parametrize(("error", "expected"), [
    (gammu.ERR_TIMEOUT, ModemTimeout),
    (gammu.ERR_DEVICENOTEXIST, PortError),
    (gammu.ERR_DEVICEOPENERROR, PortError),
    (gammu.ERR_SECURITYERROR, SimError),
    (gammu.ERR_NOSIM, SimError),
    (gammu.ERR_UNKNOWNCONNECTIONTYPESTRING, ConfigError),
    (gammu.ERR_EMPTY, GammuCommandError),
    (gammu.ERR_NOTSUPPORTED, GammuCommandError),
])
def test_gammu_errors_become_our_typed_errors_with_a_clear_line(error, expected):
    exc = error({"Text": "Some words from gammu.", "Where": "SendSMS", "Code": 99})
    mapped = translate(exc, "SendSMS", device="/dev/gsm-modem", seconds=10)
    assert isinstance(mapped, expected)
    assert "\n" not in str(mapped) and str(mapped)


def test_choosing_gammu_without_python_gammu_names_the_extra_to_install():
    code = ("import sys; sys.modules['gammu'] = None\n"
            "from smsbridge.config.sections import ModemConfig\n"
            "from smsbridge.errors import BackendUnavailable\n"
            "from smsbridge.modem.factory import make_modem\n"
            "try:\n"
            "    make_modem(ModemConfig(backend='gammu'))\n"
            "except BackendUnavailable as exc:\n"
            "    print(exc)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=30, check=True).stdout
    assert out.strip().splitlines() == [
        "the gammu backend needs python-gammu: pip install 'smsbridge[gammu]'"]


# -- on top: the bridge and the CLI -----------------------------------------------------


def test_bridge_turns_a_multipart_report_into_one_case_and_replies(phone, modem, db_path):
    store = Store.open(db_path)
    try:
        bridge = Bridge(modem, store, Config())
        phone.deliver(REPORTER, "Ada sekelompok pemuda mabuk di pos ronda. " * 5, reference=9)
        result = bridge.drain()
        assert result.deleted == result.listed >= 2 and phone.inbox() == []
        [case] = store.cases.query(CaseQuery(limit=None))
        assert case.text == "Ada sekelompok pemuda mabuk di pos ronda. " * 5
        sending = Sending(modem, store, Config(), name="modem")
        while sending.send_one().tried:
            pass
        assert [s.text for s in phone.sent()] == [bridge.templates.render_ack(case.ticket)]
    finally:
        store.close()


def test_modem_probe_on_the_gammu_backend(phone, tmp_path, db_path):
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\npath = "{db_path}"\n{phone.toml()}', encoding="utf-8")
    run = run_smsbridge("--config", str(config), "modem", "probe", "--json", timeout=60)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["ready"] is True
    assert report["status"]["manufacturer"] == "Gammu" and report["status"]["sim"] == "READY"


# -- against our emulator over a pty ----------------------------------------------------


# libgammu's AT driver against the emulator on a real pty, as it drives a USB stick. Its
# Init takes about 4 s whatever the modem (until it knows the model it writes byte by
# byte and waits 0.4 s after every command), so these tests are few and each does much.


@pytest.fixture
def at_rig():
    with Emulator(EmulatorSettings()) as emu:
        m = GammuModem(GammuSettings(emu.port, "at"), command_timeout=3)
        m.open()
        try:
            yield emu, m
        finally:
            m.close()


@pytest.mark.slow
def test_gammu_at_driver_lists_reads_and_deletes_what_the_emulator_stored(at_rig):
    emu, m = at_rig
    emu.inject_text(REPORTER, "Ada pencurian di pasar", timestamp=WHEN)
    long_text = "Tolong 🙏 ada perampokan di Jl. Merdeka " * 5
    parts = emu.inject_text(REPORTER, long_text, timestamp=WHEN)
    emu.inject_pdu(pdu.encode_status_report(42, REPORTER, status=0, submitted_at=WHEN,
                                            smsc="+6281100000"))
    assert emu.wait_for(lambda e: e.storage_used == 2 + parts, 5)
    listed = m.list_stored()
    # Each message once: the SIM and ME are separate memories, gammu reads both.
    messages = [pdu.decode(x.pdu) for x in listed]
    assert len(listed) == len({x.index for x in listed}) == 2 + parts
    [single, *multi, report] = messages
    assert (single.sender, single.text, single.timestamp) == (
        REPORTER, "Ada pencurian di pasar", WHEN)
    assert "".join(p.text for p in multi) == long_text
    assert [p.concat.sequence for p in multi] == list(range(1, parts + 1))
    assert isinstance(report, pdu.StatusReport) and report.reference == 42
    # The same messages give the same keys (the daemon's crash dedupe) and PDUs again.
    again = m.list_stored()
    assert [x.pdu for x in again] == [x.pdu for x in listed]
    assert [x.key for x in again] == [x.key for x in listed]
    m.delete(listed[0].index)
    m.delete(listed[0].index)  # deleting an empty slot is not an error
    assert emu.storage_used == 1 + parts
    for x in listed[1:]:
        m.delete(x.index)
    assert emu.storage_used == 0 and m.list_stored() == []


@pytest.mark.slow
def test_gammu_at_driver_sends_single_and_long_unicode_replies_through_the_emulator(at_rig):
    emu, m = at_rig
    assert len(m.send(REPORTER, "Tiket LP-000123 {diterima} €")) == 1
    text = "Laporan LP-000123 diterima 🙏 petugas segera datang. " * 3
    refs = m.send(REPORTER, text, status_report=False)
    [first, *rest] = emu.sent
    assert (first.recipient, first.text, first.concat) == (
        REPORTER, "Tiket LP-000123 {diterima} €", None)
    assert len(refs) == len(rest) >= 2 and refs == [s.reference for s in rest]
    assert "".join(s.text for s in rest) == text
    assert [s.concat.sequence for s in rest] == list(range(1, len(rest) + 1))
    assert {s.concat.reference for s in rest} == {rest[0].concat.reference}


@pytest.mark.slow
def test_gammu_at_driver_takes_an_ok_without_a_readable_reference_as_sent(at_rig):
    emu, m = at_rig
    emu.odd_references(1, "missing")
    assert m.send(REPORTER, "Tiket LP-000123 diterima") == [None]
    emu.odd_references(1, "garbage")
    assert m.send(REPORTER, "Tiket LP-000124 diterima") == [None]
    assert [s.text for s in emu.sent] == ["Tiket LP-000123 diterima",
                                          "Tiket LP-000124 diterima"]


@pytest.mark.slow
def test_gammu_at_driver_announces_new_messages_and_reports_the_modem(at_rig):
    emu, m = at_rig
    emu.inject_text(REPORTER, "halo")
    events = []
    deadline = time.monotonic() + 10
    while not events and time.monotonic() < deadline:
        events = [e for e in m.poll_events(0.5) if isinstance(e, NewMessage)]
    assert events and events[0].memory == "SM"
    s = m.status()
    assert (s.manufacturer, s.model, s.imei, s.imsi, s.sim) == (
        "Huawei", "E173", "861234567890123", "510101234567890", "READY")
    assert s.registration == 1 and s.registered and s.operator == "TELKOMSEL"
    assert s.rssi == 20 and s.smsc == "+6281100000"
    assert (s.storage_memory, s.storage_used, s.storage_total) == ("SM", 1, 30)


@pytest.mark.slow
def test_modem_probe_on_the_gammu_backend_over_the_emulators_pty(tmp_path, db_path):
    config = tmp_path / "config.toml"
    with Emulator(EmulatorSettings()) as emu:
        config.write_text(f'[database]\npath = "{db_path}"\n[modem]\nbackend = "gammu"\n'
                          f'port = "{emu.port}"\ngammu_connection = "at"\n', encoding="utf-8")
        run = run_smsbridge("--config", str(config), "modem", "probe", "--json", timeout=60)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["ready"] is True
    assert report["status"]["model"] == "E173" and report["status"]["registration"] == 1
