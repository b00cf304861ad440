"""The bridge's rules in milliseconds: the in-memory modem, a real SQLite file, a held clock.

The same steps as tests/test_bridge.py (which keeps the pty and libgammu for
integration), without a port: what the line decides, stores and answers.
"""

from __future__ import annotations

import dataclasses

import pytest
from rigs import START
from rigs import BridgeRig as Rig

from smsbridge.clock import ManualClock
from smsbridge.errors import PortError
from smsbridge.modem.fake import FakeModem
from smsbridge.sms import pdu
from smsbridge.store import Store

REPORTER = "+6281234567001"
@pytest.fixture
def rig(db_path):
    clock = ManualClock(START)
    with Store.open(db_path, clock=clock) as store:
        yield Rig(store, clock)


def test_report_becomes_a_case_with_its_ticket_acknowledged(rig):
    rig.sms(REPORTER, "Ada judi di belakang pasar")
    rig.step()
    [case] = rig.cases()
    assert case.reporter == REPORTER and case.status == "new"
    assert rig.replies_to(REPORTER) == [rig.bridge.templates.render_ack(case.ticket)]
    assert rig.modem.storage_used == 0


def test_same_words_again_within_the_window_are_recorded_once(rig):
    rig.sms(REPORTER, "Ada judi di pasar")
    rig.step()
    rig.clock.advance(minutes=2)
    rig.sms(REPORTER, "Ada judi di pasar")
    rig.sms(REPORTER, "pelakunya 10 orang")
    rig.step()
    [case] = rig.cases()
    assert case.text == "Ada judi di pasar\npelakunya 10 orang"
    notes = [n for a, n in rig.events(case.id) if a == "followup"]
    assert notes == ["the same text again", "pelakunya 10 orang"]
    assert len(rig.replies_to(REPORTER)) == 1


def test_after_the_window_a_new_report_gets_a_new_ticket(rig):
    rig.sms(REPORTER, "laporan pertama")
    rig.step()
    rig.clock.advance(minutes=11)
    rig.sms(REPORTER, "laporan kedua")
    rig.step()
    assert len(rig.cases()) == 2 and len(rig.replies_to(REPORTER)) == 2


def test_cek_tells_the_state_only_to_the_reporter(rig):
    rig.sms(REPORTER, "Knalpot brong tiap malam")
    rig.step()
    [case] = rig.cases()
    stranger = "+6289999999999"
    rig.sms(REPORTER, f"cek {case.ticket.lower()}")
    rig.sms(stranger, f"CEK {case.ticket}")
    rig.step()
    assert rig.replies_to(REPORTER)[-1] == rig.bridge.templates.render_status(case.ticket, "new")
    assert rig.replies_to(stranger) == [rig.bridge.templates.render_unknown(case.ticket)]
    assert len(rig.cases()) == 1


@pytest.mark.parametrize("typed", ["CEK {t} ?", "cek laporan saya", "CEK {u}", "CEK {s}",
                                   "Cek {t}, tolong dicek"])
def test_every_shape_of_cek_is_a_status_question_never_a_report_or_a_follow_up(rig, typed):
    rig.sms(REPORTER, "Knalpot brong tiap malam")
    rig.step()
    [case] = rig.cases()
    number = case.ticket.split("-")[1]
    rig.clock.advance(minutes=2)  # within the follow-up window: it must not extend it
    rig.sms(REPORTER, typed.format(t=case.ticket, u=f"LP_{number}", s=f"LP/{int(number)}"))
    rig.step()
    [after] = rig.cases()
    assert after.text == "Knalpot brong tiap malam"
    assert rig.replies_to(REPORTER)[-1] == rig.bridge.templates.render_status(case.ticket,
                                                                              "new")


def test_an_unknown_ticket_is_answered_with_the_canonical_ticket_only(rig):
    rig.sms(REPORTER, "CEK lp 000777 ?")
    rig.step()
    assert rig.replies_to(REPORTER) == [rig.bridge.templates.render_unknown("LP-000777")]


def test_services_and_the_blocklist_make_no_case(rig):
    rig.configure(abuse={"blocklist": ["081111111111"]})
    rig.sms("TELKOMSEL", "Sisa pulsa Anda Rp2.500")
    rig.sms("3636", "Promo kuota")
    rig.sms("+6281111111111", "laporan palsu lagi")
    rig.step()
    assert rig.cases() == [] and rig.modem.sent == [] and rig.modem.storage_used == 0


def test_reply_limit_keeps_reports_and_says_why_on_the_case(rig):
    rig.configure(daemon={"followup_minutes": 0.0})  # every SMS a case of its own
    for i in range(7):
        rig.clock.advance(minutes=1)
        rig.sms(REPORTER, f"laporan nomor {i}")
        rig.step()
    assert len(rig.cases()) == 7 and len(rig.replies_to(REPORTER)) == 5
    newest = rig.cases()[0]
    assert ("note", "no automatic reply: reply limit of 5 an hour reached") in rig.events(
        newest.id)


def test_a_sender_too_long_to_answer_is_kept_and_not_answered(rig):
    rig.sms("08123456789012345678", "ada judi")
    rig.step()
    [case] = rig.cases()
    assert rig.modem.sent == []
    assert any("cannot receive SMS" in (n or "") for _, n in rig.events(case.id))


def test_a_lone_part_from_a_digit_name_stays_a_service_message(rig):
    first, _ = pdu.encode_deliver(" 12345678", "promo " * 40, reference=9)
    rig.modem.inject_pdu(first)
    rig.step()
    rig.clock.advance(minutes=31)
    assert rig.bridge.expire_parts() == []
    assert rig.cases() == [] and rig.modem.sent == []


def test_lone_part_from_a_person_becomes_an_incomplete_case_after_the_timeout(rig):
    first, _ = pdu.encode_deliver(REPORTER, "tolong " * 40, reference=9)
    rig.modem.inject_pdu(first)
    rig.step()
    assert rig.cases() == []
    rig.clock.advance(minutes=31)
    [ticket] = rig.bridge.expire_parts()
    [case] = rig.cases()
    assert case.ticket == ticket and case.incomplete and case.text.endswith("[…]")


def test_failed_sends_back_off_then_give_up_with_the_reason_on_the_case(rig):
    rig.configure(outbox={"max_attempts": 3, "retry_base_seconds": 30.0})
    rig.modem.fail_sends(10)
    rig.sms(REPORTER, "Ada tawuran")
    rig.step()
    assert rig.sending.next_due_in() == 30.0
    rig.clock.advance(seconds=30)
    rig.step()
    assert rig.sending.next_due_in() == 60.0
    rig.clock.advance(seconds=60)
    rig.step()
    [case] = rig.cases()
    assert rig.sending.next_due_in() is None and rig.modem.sent == []
    assert any(a == "reply_failed" for a, _ in rig.events(case.id))


class Faulty(FakeModem):
    def send(self, number, text, **kwargs):
        if number == REPORTER:
            raise RuntimeError("a bug nobody expected")
        return super().send(number, text, **kwargs)


class _Poison(bytes):
    def __bytes__(self) -> bytes:
        raise RuntimeError("injected fault while decoding")


def test_an_unexpected_error_sets_one_item_aside_and_the_rest_go_on(db_path):
    clock = ManualClock(START)
    with Store.open(db_path, clock=clock) as store:
        rig = Rig(store, clock, modem=Faulty())
        rig.sms(REPORTER, "balasannya gagal")
        [slot] = rig.sms("+6281234567002", "gagal dibaca")
        rig.sms("+6281234567003", "laporan biasa")
        real = rig.modem.list_stored

        def poisoned():
            return [dataclasses.replace(m, pdu=_Poison(m.pdu)) if m.index == slot else m
                    for m in real()]

        rig.modem.list_stored = poisoned
        rig.step()
        assert {c.reporter for c in rig.cases()} == {REPORTER, "+6281234567003"}
        assert rig.replies_to("+6281234567003") and not rig.replies_to(REPORTER)
        assert rig.modem.storage_used == 0
        reasons = rig.take_set_aside()
        assert len(reasons) == 2 and all("RuntimeError" in r for r in reasons)
        [kept] = store.inbox.recent(without_case=True, kind="undecodable")
        assert kept.error.startswith("set aside: RuntimeError")


def test_a_vanished_modem_raises_for_the_daemon_and_loses_nothing(rig):
    rig.sms(REPORTER, "laporan")
    rig.modem.vanish()
    with pytest.raises(PortError):
        rig.bridge.drain()
    rig.modem.vanish(False)
    rig.step()
    assert len(rig.cases()) == 1 and len(rig.replies_to(REPORTER)) == 1


def test_when_the_lines_budget_is_spent_reports_are_kept_and_it_is_said_once(rig, caplog):
    rig.configure(abuse={"line_replies_per_hour": 3})
    for i in range(6):
        rig.sms(f"+62812345670{i:02d}", f"laporan {i}")
    with caplog.at_level("WARNING", logger="smsbridge.bridge"):
        rig.step()
    assert len(rig.cases()) == 6 and len(rig.modem.sent) == 3
    spent = [r for r in caplog.records if "budget" in r.getMessage()]
    assert len(spent) == 1 and "3 automatic replies an hour" in spent[0].getMessage()
    assert rig.bridge.over_budget and "since" in rig.bridge.over_budget
    rig.clock.advance(minutes=61)
    rig.sms("+6281234567099", "laporan setelah satu jam")
    rig.step()
    assert rig.replies_to("+6281234567099") and rig.bridge.over_budget is None


def test_thirty_huge_follow_ups_stop_growing_the_case_and_drain_quickly(rig):
    import time

    rig.sms(REPORTER, "awal laporan")
    rig.step()
    rig.modem.storage_size = 1000  # a 4,000-character SMS takes 27 slots
    text = "x" * 4000  # a long multi-part SMS, each different
    for i in range(30):
        rig.sms(REPORTER, f"{i:02d}{text}")
    started = time.monotonic()
    rig.step()
    elapsed = time.monotonic() - started
    [case] = rig.cases()
    assert len(case.text) <= 10_000
    assert rig.store.cases.detail(case.ticket).case.messages > 30 * 2  # all kept, as parts
    capped = [n for a, n in rig.events(case.id) if a == "followup" and "limit" in (n or "")]
    assert len(capped) >= 28
    # Well under the watchdog's 60 s (WatchdogSec in the unit), even on a slow box.
    assert elapsed < 30


def test_messages_shows_a_senders_name_and_text_without_their_control_characters(rig,
                                                                                tmp_path,
                                                                                db_path):
    from click.testing import CliRunner
    from conftest import write_config

    from smsbridge.cli import main

    # An alphanumeric sender is up to 11 characters of the sender's choosing.
    rig.modem.inject_pdu(pdu.encode_deliver("PROMO\rINFO", "a\rb\nc\x0cd\u200be")[0])
    rig.step()
    result = CliRunner().invoke(main, ["--config", str(write_config(tmp_path, db_path)),
                                       "messages"])
    assert result.exit_code == 0, result.output
    shown = result.stdout
    for raw in ("\r", "\x0c", "\u200b"):
        assert raw not in shown
    assert "PROMO␍INFO" in shown and "a␍b⏎c␌d<U+200B>e" in shown
