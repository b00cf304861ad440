"""Learned command timeouts as plain values: what a stick's answer times make of them."""

from __future__ import annotations

from smsbridge.modem.timeouts import AnswerTimes, command_key, repeatable


def test_a_command_waits_four_times_its_slowest_recent_answer_within_floor_and_ceiling():
    times = AnswerTimes()
    assert times.timeout("AT+CPMS?", 10.0) == 10.0  # nothing known yet
    for seconds in (0.05, 0.08, 0.1):
        times.record("AT+CPMS?", seconds)
    assert times.timeout("AT+CPMS?", 10.0) == 1.0  # the floor
    for seconds in (0.9, 1.1, 1.5):
        times.record("AT+CMGL=4", seconds)
    assert times.timeout("AT+CMGL=4", 10.0) == 6.0
    times.record("AT+CMGL=4", 4.0)
    assert times.timeout("AT+CMGL=4", 10.0) == 10.0  # the ceiling
    # Another command's pace says nothing of this one's.
    assert times.timeout("AT+CSQ", 30.0) == 30.0


def test_only_idempotent_commands_are_asked_again():
    assert command_key("AT+CMGR=3") == "AT+CMGR=" and command_key("AT+CPMS?") == "AT+CPMS?"
    for command in ("AT+CPMS?", "AT+CMGL=4", "AT+CMGD=3", "AT+CSQ", "AT+CNMI=2,1,0,2,0"):
        assert repeatable(command), command
    for command in ("AT+CMGS=23", "AT+CMSS=4", "AT+CUSD=1,\"*888#\",15", "AT+CPIN=1234",
                    "AT+CFUN=1,1"):
        assert not repeatable(command), command


def test_a_command_not_seen_yet_waits_as_the_sticks_quick_answers_suggest():
    # The identity questions are asked once per connection: never enough of their own.
    times = AnswerTimes()
    for command in ("AT+CPMS?", "AT+CSQ", "AT+CMGL=4"):
        times.record(command, 0.05, quick=True)
    assert times.timeout("AT+CGMM", 10.0) == 10.0  # only its own, unless asked
    assert times.timeout("AT+CGMM", 10.0, stick_wide=True) == 1.0  # the floor
    times.record("AT+CMSS=1", 3.0)  # a send is not a quick answer
    assert times.timeout("AT+CGSN", 10.0, stick_wide=True) == 1.0
