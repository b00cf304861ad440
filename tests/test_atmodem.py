"""AtModem against the emulator over a real pty, through every fault the emulator offers."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable

import pytest

from smsbridge.emulator import Emulator, EmulatorSettings
from smsbridge.errors import CommandError, ModemError, ModemTimeout, PortError, SimError
from smsbridge.modem.atmodem import AtModem
from smsbridge.modem.base import NewMessage, NewStatusReport, OtherEvent
from smsbridge.modem.port import open_port
from smsbridge.sms.pdu import decode

SENDER = "+6281234567890"


def events_until(driver: AtModem, wanted: Callable[[list], bool], timeout: float = 5.0) -> list:
    """Poll events until ``wanted(all seen so far)`` or the deadline."""
    seen: list = []
    deadline = time.monotonic() + timeout
    while not wanted(seen) and time.monotonic() < deadline:
        seen += driver.poll_events(0.2)
    return seen


def deliver(emu: Emulator, driver: AtModem, *texts: str) -> None:
    """Inject messages and wait until the modem announced every one of them."""
    for text in texts:
        emu.inject_text(SENDER, text)
    seen = events_until(driver, lambda s: sum(isinstance(e, NewMessage) for e in s) >= len(texts))
    assert sum(isinstance(e, NewMessage) for e in seen) == len(texts)


def texts(messages) -> list[str]:
    return sorted(decode(m.pdu).text for m in messages)


def test_new_message_is_announced_listed_and_decodable(at_modem):
    emu, modem = at_modem()
    deliver(emu, modem, "lapor: pencurian motor")
    (message,) = modem.list_stored()
    assert message.memory == "SM" and message.status == 0
    assert decode(message.pdu).sender == SENDER
    assert decode(message.pdu).text == "lapor: pencurian motor"


def test_key_is_the_hash_of_the_raw_pdu_as_databases_already_hold_it(at_modem):
    emu, modem = at_modem()
    deliver(emu, modem, "kunci")
    (message,) = modem.list_stored()
    assert message.key == hashlib.sha256(emu.stored()[message.index]).hexdigest()


def test_read_returns_one_slot_and_none_for_an_empty_one(at_modem):
    emu, modem = at_modem()
    deliver(emu, modem, "satu")
    (listed,) = modem.list_stored()
    assert modem.read(listed.index).pdu == listed.pdu
    assert modem.read(listed.index + 1) is None


def test_delete_frees_the_slot_and_an_empty_slot_is_not_an_error(at_modem):
    emu, modem = at_modem()
    deliver(emu, modem, "hapus saya")
    (message,) = modem.list_stored()
    modem.delete(message.index)
    modem.delete(message.index)
    assert modem.list_stored() == []
    assert emu.storage_used == 0


def test_send_long_text_uses_one_reference_and_returns_each_parts_mr(at_modem):
    emu, modem = at_modem()
    mrs = modem.send(SENDER, "Laporan diterima. " * 15)
    assert len(mrs) == len(set(mrs)) == 2
    parts = emu.sent
    assert [p.reference for p in parts] == mrs
    assert {p.concat.reference for p in parts} == {parts[0].concat.reference}
    assert "".join(p.text for p in parts) == "Laporan diterima. " * 15
    modem.send(SENDER, "Laporan kedua. " * 15)
    assert emu.sent[2].concat.reference != parts[0].concat.reference


def test_send_asking_a_status_report_brings_a_status_report_event(at_modem):
    _emu, modem = at_modem()
    (mr,) = modem.send(SENDER, "terima kasih", status_report=True)
    seen = events_until(modem, lambda s: any(isinstance(e, NewStatusReport) for e in s))
    (report,) = [e for e in seen if isinstance(e, NewStatusReport)]
    stored = modem.read(report.index)
    assert decode(stored.pdu).reference == mr


def test_status_tells_identity_network_signal_storage_and_smsc(at_modem):
    emu, modem = at_modem(rssi=17, operator="INDOSAT", storage_size=25)
    deliver(emu, modem, "x")
    s = modem.status()
    assert (s.manufacturer, s.model, s.imei) == ("huawei", "E173", "861234567890123")
    assert (s.sim, s.registration, s.operator) == ("READY", 1, "INDOSAT")
    assert (s.rssi, s.signal_dbm) == (17, -79)
    assert (s.storage_used, s.storage_total) == (1, 25)
    assert s.smsc == "+6281100000"
    assert modem.profile.name == "huawei"


@pytest.mark.parametrize("memories", [1, 2, 3])
def test_cpms_answered_with_one_two_or_three_memories(at_modem, memories):
    emu, modem = at_modem(cpms_memories=memories)
    deliver(emu, modem, "a", "b")
    assert texts(modem.list_stored()) == ["a", "b"]
    assert (modem.status().storage_used, modem.status().storage_total) == (2, 30)


def test_silent_modem_raises_a_typed_timeout_and_recovers_when_it_answers_again(at_modem):
    emu, modem = at_modem(modem={"command_timeout": 0.5})
    emu.set_silent(True)
    with pytest.raises(ModemTimeout) as caught:
        modem.list_stored()
    # A listing counts storage (AT+CPMS?) before AT+CMGL: the first to go unanswered.
    assert caught.value.seconds == 0.5 and caught.value.command == "AT+CPMS?"
    emu.set_silent(False)
    deliver(emu, modem, "masih hidup")
    assert texts(modem.list_stored()) == ["masih hidup"]


def test_garbage_on_the_line_does_not_disturb_commands_or_urcs(at_modem):
    emu, modem = at_modem()
    emu.inject_garbage(b"\xff\x00\xfe\r\n\x81GARBAGE\x07\r\n")
    deliver(emu, modem, "tetap terbaca")
    emu.inject_garbage(b"\xf0\xf1")
    assert texts(modem.list_stored()) == ["tetap terbaca"]


def test_failed_send_raises_command_error_with_the_modems_code(at_modem):
    emu, modem = at_modem()
    emu.fail_sends(1, code=500)
    with pytest.raises(CommandError) as caught:
        modem.send(SENDER, "gagal")
    assert (caught.value.kind, caught.value.code) == ("CMS", 500)
    assert emu.sent == []
    assert len(modem.send(SENDER, "berhasil")) == 1


class FailAfterFirstPart:
    """A real port that arms the emulator's send failure once the first +CMGS answer passed:
    the second part of a message is then refused, deterministically."""

    def __init__(self, port, emu: Emulator) -> None:
        self._port, self._emu, self.url = port, emu, port.url
        self._armed = False

    def write(self, data: bytes) -> None:
        self._port.write(data)

    def read(self, max_wait: float) -> bytes:
        data = self._port.read(max_wait)
        if b"+CMGS:" in data and not self._armed:
            self._armed = True
            self._emu.fail_sends(1, code=332)
        return data

    def close(self) -> None:
        self._port.close()


def test_refusal_mid_way_through_a_long_message_raises_with_the_code(at_modem):
    emu, _ = at_modem(open_modem=False)
    modem = AtModem(emu.port, command_timeout=2.0,
                    opener=lambda url, baud: FailAfterFirstPart(open_port(url), emu))
    modem.open()
    try:
        with pytest.raises(CommandError) as caught:
            modem.send(SENDER, "Laporan diterima. " * 15)
        assert (caught.value.kind, caught.value.code) == ("CMS", 332)
        assert caught.value.name == "network timeout"
        assert len(emu.sent) == 1
    finally:
        modem.close()


def test_sim_busy_at_start_is_waited_out(at_modem):
    emu, modem = at_modem(open_modem=False, sim_busy_at_start=1.0)
    modem.open()
    deliver(emu, modem, "setelah sibuk")
    assert texts(modem.list_stored()) == ["setelah sibuk"]


def test_sim_busy_longer_than_the_wait_raises_the_busy_error(at_modem):
    emu, modem = at_modem(modem={"sim_busy_wait": 0.5})
    emu.sim_busy(30)
    with pytest.raises(CommandError) as caught:
        modem.list_stored()
    assert caught.value.code in (314, 14)


def test_sim_pin_is_entered_when_configured(at_modem):
    emu, modem = at_modem(pin="1234", modem={"pin": "1234"})
    deliver(emu, modem, "pin ok")
    assert modem.status().sim == "READY"


def test_sim_pin_asked_but_not_configured_says_what_to_set(at_modem):
    _emu, modem = at_modem(pin="1234", open_modem=False)
    with pytest.raises(SimError, match=r"set \[modem\] pin"):
        modem.open()
    assert modem.status().sim == "SIM PIN"


def test_wrong_pin_is_never_retried(at_modem):
    _emu, modem = at_modem(pin="1234", open_modem=False, modem={"pin": "9999"})
    for _ in range(4):
        with pytest.raises(SimError, match="PIN"):
            modem.open()
    # Had the driver tried the PIN each time, three attempts would have locked the SIM.
    assert modem.status().sim == "SIM PIN"


def test_a_refused_pin_handed_to_a_new_driver_is_not_sent_again(at_modem):
    """What a daemon that remembers the refusal across reconnects relies on."""
    emu, first = at_modem(pin="1234", open_modem=False, modem={"pin": "9999"})
    with pytest.raises(SimError, match="refused the configured PIN;"):
        first.open()
    first.close()
    assert first.refused_pin is not None
    for _ in range(3):
        again = AtModem(emu.port, pin="9999", command_timeout=2.0,
                        refused_pin=first.refused_pin)
        try:
            with pytest.raises(SimError, match="refused the configured PIN before"):
                again.open()
            assert again.status().sim == "SIM PIN"
        finally:
            again.close()


def test_reboot_is_detected_and_the_modem_reinitialised(at_modem):
    emu, modem = at_modem()
    deliver(emu, modem, "sebelum")
    emu.reboot()
    assert texts(modem.list_stored()) == ["sebelum"]
    # CNMI was restored: new messages are announced again.
    deliver(emu, modem, "sesudah")
    assert texts(modem.list_stored()) == ["sebelum", "sesudah"]


def test_message_stored_while_a_restart_lost_cnmi_is_still_announced(at_modem):
    emu, modem = at_modem(boot_urcs=("^BOOT:12345,0,0,0,72",))
    emu.reboot()
    # Stored with no +CMTI (CNMI is reset) unless the driver re-initialised first:
    # either way the driver must announce it.
    emu.inject_text(SENDER, "setelah boot")
    seen = events_until(modem, lambda s: any(isinstance(e, NewMessage) for e in s))
    assert any(isinstance(e, OtherEvent) and e.line.startswith("^BOOT") for e in seen)
    (new,) = {e for e in seen if isinstance(e, NewMessage)}
    assert decode(modem.read(new.index).pdu).text == "setelah boot"
    deliver(emu, modem, "berikutnya")


def test_port_that_vanished_is_reopened_when_it_comes_back(at_modem):
    emu, modem = at_modem()
    deliver(emu, modem, "sebelum hilang")
    emu.vanish(0.5)
    errors: list[ModemError] = []
    deadline = time.monotonic() + 10
    listed = None
    while listed is None and time.monotonic() < deadline:
        try:
            listed = modem.list_stored()
        except (PortError, ModemTimeout) as exc:
            errors.append(exc)
            emu.wait_for(lambda e: not e.vanished, timeout=0.2)
    assert errors and isinstance(errors[0], PortError)
    assert texts(listed) == ["sebelum hilang"]
    deliver(emu, modem, "sesudah kembali")


@pytest.mark.parametrize("first_index", [0, 1])
def test_hanging_cmgl_falls_back_to_cmgr_slot_by_slot(at_modem, first_index, caplog):
    emu, modem = at_modem(cmgl_broken=True, first_index=first_index, storage_size=5,
                       modem={"command_timeout": 0.5, "profile": "generic"})
    deliver(emu, modem, "a", "b", "c", "d", "e")
    assert set(emu.stored()) == set(range(first_index, first_index + 5))
    with caplog.at_level(logging.WARNING):
        assert texts(modem.list_stored()) == ["a", "b", "c", "d", "e"]
    assert "slot by slot" in caplog.text
    modem.delete(min(emu.stored()))
    assert texts(modem.list_stored()) == ["b", "c", "d", "e"]


@pytest.mark.parametrize("first_index", [0, 1])
def test_storage_indexes_from_zero_or_one(at_modem, first_index):
    emu, modem = at_modem(first_index=first_index)
    deliver(emu, modem, "pertama")
    (message,) = modem.list_stored()
    assert message.index == first_index
    assert modem.read(first_index).pdu == message.pdu


def test_lagging_usage_counter_after_delete_needs_no_slot_scan(at_modem, caplog):
    emu, modem = at_modem(usage_lag=True)
    deliver(emu, modem, "a", "b", "c")
    for message in modem.list_stored()[:2]:
        modem.delete(message.index)
    with caplog.at_level(logging.WARNING):
        assert texts(modem.list_stored()) == ["c"]
    assert "slot by slot" not in caplog.text


def test_cmti_in_the_middle_of_a_listing_is_not_lost(at_modem):
    emu, modem = at_modem()
    deliver(emu, modem, "a", "b")
    emu.hold_network(True)
    emu.inject_text(SENDER, "di tengah daftar")
    emu.urc_during_next_listing(after=1)
    listed = modem.list_stored()
    assert {"a", "b"} <= set(texts(listed))
    seen = events_until(modem, lambda s: any(isinstance(e, NewMessage) for e in s))
    (new,) = [e for e in seen if isinstance(e, NewMessage)]
    assert decode(modem.read(new.index).pdu).text == "di tengah daftar"


def test_unknown_urcs_become_other_events(at_modem):
    emu, modem = at_modem()
    emu.emit_urc("RING")
    emu.emit_urc("^RSSI:12")
    seen = events_until(modem, lambda s: len(s) >= 2)
    assert [e.line for e in seen] == ["RING", "^RSSI:12"]


def test_socket_url_reaches_the_same_modem(at_modem):
    emu = Emulator(EmulatorSettings(), tcp_port=0)
    with emu:
        modem = AtModem(emu.tcp_url, command_timeout=2.0)
        modem.open()
        try:
            assert modem.status().imei == "861234567890123"
        finally:
            modem.close()


def test_missing_port_raises_port_error_with_a_hint(tmp_path):
    modem = AtModem(str(tmp_path / "no-such-tty"))
    with pytest.raises(PortError, match="ttyUSB"):
        modem.open()


def test_a_report_arriving_during_the_listing_does_not_force_a_slot_by_slot_read(at_modem, caplog):
    emu, modem = at_modem()
    deliver(emu, modem, "satu", "dua", "tiga")
    emu.hold_network(True)
    emu.inject_text(SENDER, "empat, tiba saat daftar dibaca")
    emu.urc_during_next_listing(after=1)
    with caplog.at_level("WARNING", logger="smsbridge.modem.atmodem"):
        listed = modem.list_stored()
    assert {"satu", "dua", "tiga"} <= set(texts(listed))
    assert not [r for r in caplog.records if "slot by slot" in r.getMessage()]
    emu.hold_network(False)
    assert "empat, tiba saat daftar dibaca" in texts(modem.list_stored())


@pytest.mark.slow
def test_a_dropped_command_costs_about_a_second_not_the_whole_timeout(at_modem):
    """1 command in 7 gets no answer: a read is followed by a probe after a learned
    wait; the probe's answer coming first says the command was lost, and it is asked
    again, so nothing waits out the 10 s command_timeout and nothing fails."""
    emu, modem = at_modem(modem={"command_timeout": 10.0})
    for _ in range(3):  # what the stick's answer times are learned from
        modem.status()
    emu.drop_commands(7)
    for _ in range(6):
        status = modem.status()
        assert (status.imsi, status.manufacturer) == ("510101234567890", "huawei")
    learned = modem._channel.answer_times
    assert 1.0 <= learned.timeout("AT+CSQ", 10.0) < 10.0


@pytest.mark.slow
def test_a_late_answer_is_never_taken_for_the_next_commands(at_modem):
    """A stick that answers slower than it taught us: the probe behind the command shows
    the answer was late, not lost, and every later answer still lands on its command."""
    emu, modem = at_modem(modem={"command_timeout": 10.0})
    for _ in range(3):
        modem.status()
    emu.set_latency(1.5)  # slower than the learned 1 s
    status = modem.status()
    emu.set_latency(0.0)
    again = modem.status()
    for s in (status, again):
        assert (s.manufacturer, s.model, s.imei, s.imsi) == (
            "huawei", "E173", "861234567890123", "510101234567890")
