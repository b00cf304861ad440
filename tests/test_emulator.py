"""The GSM modem emulator, spoken to over its real pty (or TCP) with plain reads and writes."""

from __future__ import annotations

import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smsbridge.emulator import Emulator, EmulatorSettings
from smsbridge.sms import pdu

FINAL = re.compile(rb"\r\n(OK|ERROR|\+CM[ES] ERROR: [^\r]*)\r\n")
# A hand-made SMS-DELIVER (23.040 §9.2.2.1): SMSC +6281100000, from +6281234567, "hi".
HAND_PDU = bytes.fromhex("06912618010000" "04" "0A91261832547600" "00" "62119261850082" "02E834")


class Wire:
    """The driver's end of the line: raw bytes with deadlines, nothing clever."""

    def __init__(self, fd: int):
        self.fd = fd
        self.buf = b""

    @classmethod
    def open(cls, path: str) -> Wire:
        return cls(os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK))

    def close(self) -> None:
        os.close(self.fd)

    def send(self, data: bytes | str) -> None:
        os.write(self.fd, data.encode() if isinstance(data, str) else data)

    def _fill(self, deadline: float) -> bool:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        readable, _, _ = select.select([self.fd], [], [], left)
        if readable:
            chunk = os.read(self.fd, 65536)
            if not chunk:
                raise EOFError("the line closed")
            self.buf += chunk
        return True

    def until(self, pattern: bytes | re.Pattern[bytes], timeout: float = 5.0) -> bytes:
        """Everything up to and including ``pattern``; the rest stays buffered."""
        regex = pattern if isinstance(pattern, re.Pattern) else re.compile(re.escape(pattern))
        deadline = time.monotonic() + timeout
        while (match := regex.search(self.buf)) is None:
            if not self._fill(deadline):
                raise TimeoutError(f"no {regex.pattern!r} within {timeout} s; got {self.buf!r}")
        taken, self.buf = self.buf[:match.end()], self.buf[match.end():]
        return taken

    def quiet_for(self, seconds: float) -> bytes:
        """What arrives within ``seconds`` (for proving that nothing comes)."""
        deadline = time.monotonic() + seconds
        while self._fill(deadline):
            pass
        taken, self.buf = self.buf, b""
        return taken

    def command(self, cmd: str, timeout: float = 5.0) -> str:
        self.send(cmd + "\r")
        return self.until(FINAL, timeout).decode("latin-1")


def lines(answer: str) -> list[str]:
    return [line for line in answer.split("\r\n") if line]


def with_settings(**overrides: object) -> pytest.MarkDecorator:
    """Run a test against an emulator built with these EmulatorSettings."""
    return pytest.mark.parametrize("emulator", [overrides], indirect=True, ids=["settings"])


@pytest.fixture
def emulator(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Emulator]:
    settings = EmulatorSettings(**getattr(request, "param", {}))
    with Emulator(settings, link=str(tmp_path / "gsm-modem")) as emu:
        yield emu


@pytest.fixture
def wire(emulator: Emulator) -> Iterator[Wire]:
    """An initialised line, as a driver leaves it: echo off, numeric errors, +CMTI/+CDSI on."""
    line = Wire.open(emulator.port)
    line.command("ATE0")
    assert line.command("AT+CMEE=1;+CMGF=0;+CNMI=2,1,0,2,0").endswith("\r\nOK\r\n")
    yield line
    line.close()


def sms_in(emulator: Emulator, wire: Wire, sender: str = "+6281234567", text: str = "hi") -> int:
    """Inject one SMS and return the index its +CMTI announced."""
    emulator.inject_text(sender, text)
    urc = wire.until(re.compile(rb'\+CMTI: "SM",(\d+)\r\n'))
    return int(re.search(rb",(\d+)", urc)[1])


# ------------------------------------------------------------------ basic commands
def test_echo_is_on_at_power_on_and_ate0_turns_it_off(emulator: Emulator) -> None:
    line = Wire.open(emulator.port)
    assert line.command("AT") == "AT\r\r\nOK\r\n"
    assert line.command("ATE0") == "ATE0\r\r\nOK\r\n"
    assert line.command("AT") == "\r\nOK\r\n"
    line.close()


def test_unknown_command_is_error_and_cme_error_with_cmee(emulator: Emulator) -> None:
    line = Wire.open(emulator.port)
    line.command("ATE0")
    assert lines(line.command("AT+NOSUCH")) == ["ERROR"]
    line.command("AT+CMEE=1")
    assert lines(line.command("AT+NOSUCH")) == ["+CME ERROR: 100"]
    line.command("AT+CMEE=2")
    assert lines(line.command("AT+CMGR=9")) == ["+CMS ERROR: invalid memory index"]
    line.close()


def test_identity_and_network_commands_answer_like_an_e173(wire: Wire) -> None:
    assert lines(wire.command("AT+CGMI")) == ["huawei", "OK"]
    assert lines(wire.command("AT+CGMM")) == ["E173", "OK"]
    assert lines(wire.command("AT+CGSN")) == ["861234567890123", "OK"]
    assert lines(wire.command("AT+CIMI")) == ["510101234567890", "OK"]
    assert lines(wire.command("AT+CSQ")) == ["+CSQ: 20,99", "OK"]
    assert lines(wire.command("AT+CREG?")) == ["+CREG: 0,1", "OK"]
    assert lines(wire.command("AT+COPS?")) == ['+COPS: 0,0,"TELKOMSEL",2', "OK"]
    assert lines(wire.command("AT+CSCA?")) == ['+CSCA: "+6281100000",145', "OK"]
    assert lines(wire.command("AT+CPIN?")) == ["+CPIN: READY", "OK"]
    assert lines(wire.command("AT+CFUN?")) == ["+CFUN: 1", "OK"]
    assert lines(wire.command("AT+CNMI?")) == ["+CNMI: 2,1,0,2,0", "OK"]


def test_registration_cell_and_operator_code_answer_in_the_asked_format(wire: Wire) -> None:
    # 27.007 §7.2 / §10.1.20 / §7.3, what Gammu's GetNetworkInfo asks, in its order.
    assert lines(wire.command("AT+CREG=2;+CGREG=2")) == ["OK"]
    assert lines(wire.command("AT+CGATT?")) == ["+CGATT: 1", "OK"]
    assert lines(wire.command("AT+CREG?")) == ['+CREG: 2,1,"2B5C","0000A1F3"', "OK"]
    assert lines(wire.command("AT+CGREG?")) == ['+CGREG: 2,1,"2B5C","0000A1F3"', "OK"]
    assert lines(wire.command("AT+COPS=3,2;+COPS?")) == ['+COPS: 0,2,"51010",2', "OK"]
    assert lines(wire.command("AT+COPS=3,0;+COPS?")) == ['+COPS: 0,0,"TELKOMSEL",2', "OK"]


def test_sim_and_phone_memory_are_separate_storages(emulator: Emulator, wire: Wire) -> None:
    """A driver reading SM then ME (Gammu does) finds each message once; <mem3> decides
    where the network's messages land (27.005 §3.2.2)."""
    emulator.inject_text("+6281234567890", "di SIM")
    wire.until(b'+CMTI: "SM",1\r\n')
    assert lines(wire.command('AT+CPMS="ME"')) == ["+CPMS: 0,23,1,30,1,30", "OK"]
    assert lines(wire.command("AT+CMGL=4")) == ["OK"]
    assert lines(wire.command('AT+CPMS="SM","ME","ME"')) == ["+CPMS: 1,30,0,23,0,23", "OK"]
    emulator.inject_text("+6281234567890", "di ME")
    wire.until(b'+CMTI: "ME",1\r\n')
    assert lines(wire.command("AT+CMGL=4"))[0].startswith("+CMGL: 1,")
    assert lines(wire.command('AT+CPMS="ME";+CMGD=1;+CPMS?')) == [
        '+CPMS: 1,23,1,23,1,23', '+CPMS: "ME",0,23,"ME",0,23,"ME",0,23', "OK"]
    assert emulator.storage_used == 1 and len(emulator.stored()) == 1


def test_text_mode_is_refused_pdu_mode_accepted(wire: Wire) -> None:
    assert lines(wire.command("AT+CMGF=1")) == ["+CMS ERROR: 303"]
    assert lines(wire.command("AT+CMGF?")) == ["+CMGF: 0", "OK"]


@pytest.mark.parametrize(("memories", "expected"), [
    (1, "+CPMS: 0,30"), (2, "+CPMS: 0,30,0,30"), (3, "+CPMS: 0,30,0,30,0,30")])
def test_cpms_answers_with_the_configured_number_of_memories(
        tmp_path: Path, memories: int, expected: str) -> None:
    with Emulator(EmulatorSettings(cpms_memories=memories), link=str(tmp_path / "m")) as emu:
        line = Wire.open(emu.port)
        line.command("ATE0")
        assert lines(line.command('AT+CPMS="SM","SM","SM"')) == [expected, "OK"]
        query = lines(line.command("AT+CPMS?"))[0]
        assert query.count('"SM"') == memories
        line.close()


def test_sim_pin_gates_sms_commands_until_entered(tmp_path: Path) -> None:
    with Emulator(EmulatorSettings(pin="1234"), link=str(tmp_path / "m")) as emu:
        line = Wire.open(emu.port)
        line.command("ATE0;+CMEE=1")
        assert lines(line.command("AT+CPIN?")) == ["+CPIN: SIM PIN", "OK"]
        assert lines(line.command("AT+CMGL=4")) == ["+CMS ERROR: 311"]
        assert lines(line.command('AT+CPIN="0000"')) == ["+CME ERROR: 16"]
        assert lines(line.command('AT+CPIN="1234"')) == ["OK"]
        assert lines(line.command("AT+CPIN?")) == ["+CPIN: READY", "OK"]
        assert lines(line.command("AT+CMGL=4")) == ["OK"]
        line.close()


def test_three_wrong_pins_lock_the_sim_behind_the_puk(tmp_path: Path) -> None:
    with Emulator(EmulatorSettings(pin="1234"), link=str(tmp_path / "m")) as emu:
        line = Wire.open(emu.port)
        line.command("ATE0;+CMEE=1")
        for _ in range(3):
            line.command('AT+CPIN="9999"')
        assert lines(line.command("AT+CPIN?")) == ["+CPIN: SIM PUK", "OK"]
        assert lines(line.command('AT+CPIN="1234"')) == ["+CME ERROR: 12"]
        line.close()


# ------------------------------------------------------------------ receiving
def test_new_message_is_announced_by_cmti_only_when_cnmi_asks(emulator: Emulator) -> None:
    line = Wire.open(emulator.port)
    line.command("ATE0")
    emulator.inject_text("+6281234567", "tanpa CNMI")
    assert emulator.wait_for(lambda e: e.storage_used == 1, 5)
    assert b"+CMTI" not in line.quiet_for(0.2)
    line.command("AT+CNMI=2,1,0,2,0")
    emulator.inject_text("+6281234567", "dengan CNMI")
    assert line.until(b"\r\n") + line.until(b"\r\n") == b'\r\n+CMTI: "SM",2\r\n'
    line.close()


def test_listing_shows_pdu_with_length_and_marks_unread_as_read(
        emulator: Emulator, wire: Wire) -> None:
    index = sms_in(emulator, wire, text="Ada pencurian di pasar")
    first = lines(wire.command("AT+CMGL=4"))
    stored = emulator.stored()[index]
    assert first == [f"+CMGL: {index},0,,{len(stored) - 1 - stored[0]}", stored.hex().upper(),
                     "OK"]
    assert lines(wire.command("AT+CMGL=4"))[0].startswith(f"+CMGL: {index},1,,")
    assert lines(wire.command("AT+CMGL=0")) == ["OK"]
    decoded = pdu.decode(bytes.fromhex(first[1]))
    assert (decoded.sender, decoded.text) == ("+6281234567", "Ada pencurian di pasar")


def test_cmgr_reads_one_slot_and_an_empty_slot_is_cms_321(
        emulator: Emulator, wire: Wire) -> None:
    index = sms_in(emulator, wire)
    answer = lines(wire.command(f"AT+CMGR={index}"))
    assert answer[0].startswith("+CMGR: 0,,") and answer[2] == "OK"
    assert lines(wire.command(f"AT+CMGR={index}"))[0].startswith("+CMGR: 1,,")
    assert lines(wire.command(f"AT+CMGR={index + 1}")) == ["+CMS ERROR: 321"]


def test_cmgd_deletes_one_slot_and_delflag_4_deletes_all(
        emulator: Emulator, wire: Wire) -> None:
    indexes = [sms_in(emulator, wire, text=f"pesan {n}") for n in range(3)]
    assert lines(wire.command(f"AT+CMGD={indexes[0]}")) == ["OK"]
    assert lines(wire.command(f"AT+CMGD={indexes[0]}")) == ["OK"]  # already empty: still OK
    assert sorted(emulator.stored()) == indexes[1:]
    assert lines(wire.command("AT+CMGD=1,4")) == ["OK"]
    assert emulator.storage_used == 0


def test_cmgd_delflag_1_keeps_unread_messages(emulator: Emulator, wire: Wire) -> None:
    read = sms_in(emulator, wire)
    wire.command(f"AT+CMGR={read}")
    unread = sms_in(emulator, wire)
    wire.command("AT+CMGD=1,1")
    assert list(emulator.stored()) == [unread]


@with_settings(storage_size=2)
def test_full_storage_holds_messages_at_network_until_a_slot_frees(
        emulator: Emulator, wire: Wire) -> None:
    for n in range(4):
        emulator.inject_text("+6281234567", f"laporan {n}")
    assert emulator.wait_for(lambda e: e.storage_used == 2 and e.network_queue == 2, 5)
    wire.until(b'+CMTI: "SM",2\r\n')
    assert lines(wire.command("AT+CPMS?"))[0] == '+CPMS: "SM",2,2,"SM",2,2,"SM",2,2'
    wire.command("AT+CMGD=1")
    wire.until(b'+CMTI: "SM",1\r\n')
    assert emulator.network_queue == 1
    texts = [pdu.decode(p).text for p in emulator.stored().values()]
    assert texts == ["laporan 2", "laporan 1"]


@with_settings(first_index=0, storage_size=3)
def test_storage_indexes_can_start_at_zero(emulator: Emulator, wire: Wire) -> None:
    assert sms_in(emulator, wire) == 0
    assert lines(wire.command("AT+CMGR=3")) == ["+CMS ERROR: 321"]


def test_multipart_text_is_queued_as_its_parts(emulator: Emulator, wire: Wire) -> None:
    assert emulator.inject_text("+6281234567", "x" * 400) == 3
    assert emulator.wait_for(lambda e: e.storage_used == 3, 5)
    parts = [pdu.decode(p) for p in emulator.stored().values()]
    assert [p.concat.sequence for p in parts] == [1, 2, 3]
    assert "".join(p.text for p in parts) == "x" * 400


def test_raw_pdus_including_malformed_ones_are_stored_as_given(
        emulator: Emulator, wire: Wire) -> None:
    emulator.inject_pdu(HAND_PDU)
    emulator.inject_pdu("07FF")
    wire.until(b'+CMTI: "SM",2\r\n')
    listing = lines(wire.command("AT+CMGL=4"))
    assert listing[1] == HAND_PDU.hex().upper()
    assert listing[2:] == ["+CMGL: 2,0,,0", "07FF", "OK"]
    assert pdu.decode(HAND_PDU).text == "hi"


def test_cmti_can_land_between_the_lines_of_a_cmgl_answer(
        emulator: Emulator, wire: Wire) -> None:
    sms_in(emulator, wire, text="satu")
    sms_in(emulator, wire, text="dua")
    emulator.hold_network(True)
    emulator.inject_text("+6281234567", "tiga")
    emulator.urc_during_next_listing(after=1)
    answer = lines(wire.command("AT+CMGL=4"))
    assert [a.split(":")[0] if a[0] in "+O" else "PDU" for a in answer] == [
        "+CMGL", "PDU", "+CMTI", "+CMGL", "PDU", "OK"]
    assert answer[2] == '+CMTI: "SM",3'


@with_settings(delivery_gap=60)
def test_delivery_gap_keeps_the_next_message_at_the_network(
        emulator: Emulator, wire: Wire) -> None:
    emulator.inject_text("+6281234567", "satu")
    emulator.inject_text("+6281234567", "dua")
    assert emulator.wait_for(lambda e: e.storage_used == 1, 5)
    assert emulator.network_queue == 1


def test_delivery_gap_spaces_deliveries_at_least_that_far_apart(tmp_path: Path) -> None:
    gap = 0.15
    with Emulator(EmulatorSettings(delivery_gap=gap), link=str(tmp_path / "m")) as emu:
        emu.inject_text("+6281234567", "satu")
        emu.inject_text("+6281234567", "dua")
        assert emu.wait_for(lambda e: e.storage_used == 1, 5)
        first = time.monotonic()
        assert emu.wait_for(lambda e: e.storage_used == 2, 5)
        # A lower bound only: the second delivery cannot come sooner than the gap.
        assert time.monotonic() - first >= gap * 0.5


# ------------------------------------------------------------------ sending
def send(wire: Wire, submit: pdu.Submit) -> str:
    wire.send(f"AT+CMGS={submit.tpdu_length}\r")
    wire.until(b"\r\n> ")
    wire.send(submit.pdu.hex().upper().encode() + b"\x1a")
    return wire.until(FINAL).decode()


def test_send_with_prompt_answers_the_message_reference(emulator: Emulator, wire: Wire) -> None:
    submits = pdu.encode_submit("+628111222333", "Laporan Anda diterima", status_report=False)
    assert lines(send(wire, submits[0])) == ["+CMGS: 0", "OK"]
    assert lines(send(wire, submits[0])) == ["+CMGS: 1", "OK"]
    sent = emulator.sent
    assert [(s.recipient, s.text, s.reference) for s in sent] == [
        ("+628111222333", "Laporan Anda diterima", 0), ("+628111222333",
                                                         "Laporan Anda diterima", 1)]
    assert sent[0].pdu == submits[0].pdu


def test_send_asking_a_status_report_stores_one_and_emits_cdsi(
        emulator: Emulator, wire: Wire) -> None:
    submit = pdu.encode_submit("+628111222333", "tiket LP000001", status_report=True)[0]
    answer = send(wire, submit)
    mr = int(re.search(r"\+CMGS: (\d+)", answer)[1])
    wire.until(b'+CDSI: "SM",1\r\n')
    report = pdu.decode(emulator.stored()[1])
    assert isinstance(report, pdu.StatusReport)
    assert (report.reference, report.recipient, report.status) == (mr, "+628111222333", 0)


def test_multipart_send_records_each_part_with_its_concat_info(
        emulator: Emulator, wire: Wire) -> None:
    for submit in pdu.encode_submit("+628111222333", "y" * 200, status_report=False):
        send(wire, submit)
    assert [s.concat.sequence for s in emulator.sent] == [1, 2]


def test_esc_after_the_prompt_cancels_the_send(emulator: Emulator, wire: Wire) -> None:
    wire.send("AT+CMGS=18\r")
    wire.until(b"> ")
    wire.send(b"0011\x1b")
    assert lines(wire.until(FINAL).decode()) == ["OK"]
    assert emulator.sent == []
    assert lines(wire.command("AT")) == ["OK"]


def test_wrong_length_or_bad_hex_after_the_prompt_is_cms_304(wire: Wire) -> None:
    submit = pdu.encode_submit("+628111222333", "halo", status_report=False)[0]
    wire.send(f"AT+CMGS={submit.tpdu_length + 1}\r")
    wire.until(b"> ")
    wire.send(submit.pdu.hex().encode() + b"\x1a")
    assert lines(wire.until(FINAL).decode()) == ["+CMS ERROR: 304"]
    wire.send("AT+CMGS=3\r")
    wire.until(b"> ")
    wire.send(b"00zz11\x1a")
    assert lines(wire.until(FINAL).decode()) == ["+CMS ERROR: 304"]


@with_settings(storage_size=1)
def test_writing_to_full_storage_is_cms_322(emulator: Emulator, wire: Wire) -> None:
    sms_in(emulator, wire)
    assert lines(wire.command("AT+CMGW=18")) == ["+CMS ERROR: 322"]


def test_send_delay_holds_the_answer_at_least_that_long(tmp_path: Path) -> None:
    delay = 0.2
    with Emulator(EmulatorSettings(send_delay=delay, echo=False),
                  link=str(tmp_path / "m")) as emu:
        line = Wire.open(emu.port)
        submit = pdu.encode_submit("+628111222333", "halo", status_report=False)[0]
        line.send(f"AT+CMGS={submit.tpdu_length}\r")
        line.until(b"> ")
        started = time.monotonic()
        line.send(submit.pdu.hex().encode() + b"\x1a")
        line.until(b"OK\r\n")
        assert emu.sent[0].at - started >= delay
        line.close()


def test_pyserial_opens_the_link_like_a_device(emulator: Emulator) -> None:
    with serial.serial_for_url(emulator.port, baudrate=115200, timeout=5) as port:
        port.write(b"ATE0\r")
        assert port.read_until(b"OK\r\n").endswith(b"\r\nOK\r\n")
        port.write(b"AT+CGMM\r")
        assert port.read_until(b"OK\r\n") == b"\r\nE173\r\n\r\nOK\r\n"


@with_settings(storage_size=30, echo=False)
def test_a_thousand_reports_drain_through_thirty_slots_without_loss(emulator: Emulator) -> None:
    line = Wire.open(emulator.port)
    for n in range(1000):
        emulator.inject_text("+6281234567", f"laporan {n}")
    texts = []
    while len(texts) < 1000:
        listing = lines(line.command("AT+CMGL=4"))
        for header, hexpdu in zip(listing[:-1:2], listing[1:-1:2], strict=True):
            texts.append(pdu.decode(bytes.fromhex(hexpdu)).text)
            line.command(f"AT+CMGD={header.split(' ')[1].split(',')[0]}")
    assert sorted(texts) == sorted(f"laporan {n}" for n in range(1000))
    assert emulator.network_queue == 0
    line.close()


# ------------------------------------------------------------------ faults
def test_silent_modem_answers_nothing_until_it_recovers(emulator: Emulator, wire: Wire) -> None:
    emulator.set_silent(True)
    wire.send("AT\r")
    assert wire.quiet_for(0.3) == b""
    emulator.set_silent(False)
    assert lines(wire.command("AT")) == ["OK"]


def test_garbage_reaches_the_line_and_the_modem_still_answers(
        emulator: Emulator, wire: Wire) -> None:
    emulator.inject_garbage(b"\xff\x00\x81junk\r\n")
    assert wire.until(b"junk\r\n").endswith(b"\xff\x00\x81junk\r\n")
    assert lines(wire.command("AT")) == ["OK"]


def test_failed_sends_answer_cms_error_then_sending_works_again(
        emulator: Emulator, wire: Wire) -> None:
    submit = pdu.encode_submit("+628111222333", "halo", status_report=False)[0]
    emulator.fail_sends(2, code=500)
    assert lines(send(wire, submit)) == ["+CMS ERROR: 500"]
    assert lines(send(wire, submit)) == ["+CMS ERROR: 500"]
    assert lines(send(wire, submit)) == ["+CMGS: 0", "OK"]
    assert len(emulator.sent) == 1


def test_busy_sim_answers_314_and_cme_14_then_recovers(emulator: Emulator, wire: Wire) -> None:
    emulator.sim_busy(60)
    assert lines(wire.command("AT+CMGL=4")) == ["+CMS ERROR: 314"]
    assert lines(wire.command("AT+CPIN?")) == ["+CME ERROR: 14"]
    assert lines(wire.command("AT+CGMI")) == ["huawei", "OK"]  # not a SIM command
    emulator.sim_busy(0)
    assert lines(wire.command("AT+CMGL=4")) == ["OK"]


@with_settings(sim_busy_at_start=60)
def test_sim_is_busy_right_after_power_on_when_configured(wire: Wire) -> None:
    assert lines(wire.command('AT+CPMS="SM","SM","SM"')) == ["+CMS ERROR: 314"]


@with_settings(boot_urcs=("RDY", "SMS Ready"))
def test_reboot_loses_settings_keeps_storage_and_announces_itself(
        emulator: Emulator, wire: Wire) -> None:
    index = sms_in(emulator, wire)
    emulator.reboot()
    wire.until(b"\r\nRDY\r\n\r\nSMS Ready\r\n")
    assert wire.command("AT") == "AT\r\r\nOK\r\n"  # echo is back on
    assert lines(wire.command("AT+CNMI?"))[-2:] == ["+CNMI: 0,0,0,0,0", "OK"]
    assert list(emulator.stored()) == [index]


def test_cfun_reset_answers_ok_then_reboots(emulator: Emulator, wire: Wire) -> None:
    assert lines(wire.command("AT+CFUN=1,1")) == ["OK"]
    assert wire.command("AT") == "AT\r\r\nOK\r\n"


@with_settings(pin="1234")
def test_reboot_asks_for_the_pin_again(emulator: Emulator) -> None:
    line = Wire.open(emulator.port)
    line.command('ATE0;+CPIN="1234"')
    emulator.reboot()
    assert lines(line.command("AT+CPIN?"))[-2:] == ["+CPIN: SIM PIN", "OK"]
    line.close()


def test_port_vanishes_and_reappears_at_the_same_link(emulator: Emulator, wire: Wire) -> None:
    index = sms_in(emulator, wire)
    emulator.vanish(0.2)
    assert not os.path.lexists(emulator.port)
    with pytest.raises((EOFError, OSError)):
        wire.until(b"never", timeout=2)
    emulator.inject_text("+6281234567", "while away")
    assert emulator.wait_for(lambda e: not e.vanished, 5)
    assert os.path.exists(emulator.port)
    again = Wire.open(emulator.port)
    assert again.command("AT") == "AT\r\r\nOK\r\n"  # came back rebooted
    assert emulator.wait_for(lambda e: e.storage_used == 2, 5)
    assert index in emulator.stored()
    again.close()


@with_settings(cmgl_broken=True)
def test_broken_cmgl_never_answers_but_cmgr_still_reads(emulator: Emulator, wire: Wire) -> None:
    index = sms_in(emulator, wire)
    wire.send("AT+CMGL=4\r")
    assert wire.quiet_for(0.3) == b""
    assert lines(wire.command(f"AT+CMGR={index}"))[0].startswith("+CMGR: 0,,")


@with_settings(usage_lag=True)
def test_usage_count_lags_one_query_behind_a_delete(emulator: Emulator, wire: Wire) -> None:
    index = sms_in(emulator, wire)
    wire.command(f"AT+CMGD={index}")
    assert lines(wire.command("AT+CPMS?"))[0].startswith('+CPMS: "SM",1,30')
    assert lines(wire.command("AT+CPMS?"))[0].startswith('+CPMS: "SM",0,30')


def test_urcs_of_any_kind_can_be_emitted(emulator: Emulator, wire: Wire) -> None:
    emulator.emit_urc("^RSSI:14")
    assert wire.until(b"\r\n^RSSI:14\r\n")


def test_line_noise_never_stops_the_modem_answering(emulator: Emulator, wire: Wire) -> None:
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.binary(max_size=200))
    def check(noise: bytes) -> None:
        wire.send(noise.replace(b"\x1a", b"").replace(b"\x1b", b"") + b"\rATE0\r")
        wire.until(re.compile(rb"ATE0\r|\r\nOK\r\n|ERROR[^\r]*\r\n"))
        wire.quiet_for(0.01)
        assert lines(wire.command("AT+CMEE=1;+CGMM"))[-2:] == ["E173", "OK"]

    check()


# ------------------------------------------------------------------ timing model
def test_command_latency_delays_each_answer_at_least_that_long(tmp_path: Path) -> None:
    latency = 0.1
    with Emulator(EmulatorSettings(command_latency=latency, echo=False),
                  link=str(tmp_path / "m")) as emu:
        line = Wire.open(emu.port)
        started = time.monotonic()
        line.command("AT")
        line.command("AT")
        assert time.monotonic() - started >= 2 * latency
        line.close()


def test_baud_rate_paces_the_answer_bytes(tmp_path: Path) -> None:
    with Emulator(EmulatorSettings(baudrate=9600, echo=False), link=str(tmp_path / "m")) as emu:
        line = Wire.open(emu.port)
        started = time.monotonic()
        answer = line.command("AT+CMGL=?;+CNMI=?;+CPMS=?;+CGMM;+CGSN;+CSCA?")
        # 9600 baud carries 960 bytes/s: the answer cannot arrive sooner than its size says.
        assert time.monotonic() - started >= len(answer) / 960 * 0.9
        line.close()


# ------------------------------------------------------------------ TCP
def test_tcp_clients_speak_to_the_same_modem_and_hear_its_urcs(tmp_path: Path) -> None:
    with Emulator(EmulatorSettings(echo=False), link=str(tmp_path / "m"), tcp_port=0) as emu:
        assert emu.tcp_url == f"socket://127.0.0.1:{emu.tcp_port}"
        sock = socket.create_connection(("127.0.0.1", emu.tcp_port), timeout=5)
        remote = Wire(sock.fileno())
        assert lines(remote.command("AT+CNMI=2,1,0,2,0;+CGMI")) == ["huawei", "OK"]
        pty = Wire.open(emu.port)
        emu.inject_text("+6281234567", "lewat TCP")
        remote.until(b'+CMTI: "SM",1\r\n')
        pty.until(b'+CMTI: "SM",1\r\n')
        assert lines(remote.command("AT+CMGR=1"))[0].startswith("+CMGR: 0,,")
        pty.close()
        sock.close()


def test_tcp_port_is_back_after_the_modem_vanished(tmp_path: Path) -> None:
    with Emulator(EmulatorSettings(echo=False), tcp_port=0) as emu:
        port = emu.tcp_port
        emu.vanish(0.1)
        assert emu.wait_for(lambda e: not e.vanished, 5)
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            assert lines(Wire(sock.fileno()).command("AT")) == ["OK"]


# ------------------------------------------------------------------ smsbridge emulator
def run_cli(link: Path) -> tuple[subprocess.Popen[bytes], Wire]:
    proc = subprocess.Popen([sys.executable, "-m", "smsbridge", "emulator", "--link", str(link)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    out = Wire(proc.stdout.fileno())
    assert out.until(b"\n", timeout=20) == f"port: {link}\n".encode()
    return proc, out


def test_cli_emulator_serves_injects_from_stdin_and_stops_on_sigterm(tmp_path: Path) -> None:
    link = tmp_path / "gsm-modem"
    proc, out = run_cli(link)
    try:
        line = Wire.open(str(link))
        assert line.command("ATE0;+CNMI=2,1,0,2,0") == "ATE0;+CNMI=2,1,0,2,0\r\r\nOK\r\n"
        proc.stdin.write(b"+6281234567890 Ada pencurian di pasar\n")
        proc.stdin.flush()
        out.until(b"queued 1 part(s) from +6281234567890\n")
        line.until(b'+CMTI: "SM",1\r\n')
        pdu_line = lines(line.command("AT+CMGR=1"))[1]
        assert pdu.decode(bytes.fromhex(pdu_line)).text == "Ada pencurian di pasar"
        line.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        assert out.until(b"emulator stopped\n")
        assert not link.exists()
    finally:
        proc.kill()
        proc.wait()


def test_cli_emulator_stops_cleanly_at_end_of_stdin(tmp_path: Path) -> None:
    link = tmp_path / "gsm-modem"
    proc, out = run_cli(link)
    try:
        proc.stdin.write(b"/status\n")
        proc.stdin.close()
        assert proc.wait(timeout=20) == 0
        assert b"\nstorage 0/30, network queue 0, sent 0\n" in out.until(b"emulator stopped\n")
        assert not link.exists()
    finally:
        proc.kill()
        proc.wait()


def test_emulator_starts_again_after_stop_with_its_storage(tmp_path: Path) -> None:
    emu = Emulator(EmulatorSettings(echo=False), link=str(tmp_path / "m"))
    emu.inject_text("+6281234567", "sebelum start")
    for _ in range(2):
        with emu:
            line = Wire.open(emu.port)
            assert lines(line.command("AT")) == ["OK"]
            assert emu.wait_for(lambda e: e.storage_used == 1, 5)
            line.close()
        assert not (tmp_path / "m").exists()
