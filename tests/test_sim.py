"""The SIM unlock decision both backends share: plain values in, a decision or SimError out."""

from __future__ import annotations

import pytest

from smsbridge.errors import SimError
from smsbridge.modem.sim import EnterPin, Ready, SimFacts, decide, fingerprint, pin_refused


def test_a_ready_sim_needs_nothing():
    assert decide(SimFacts("READY", pin="")) == Ready()
    assert decide(SimFacts("READY", pin="1234", refused=fingerprint("1234"))) == Ready()


def test_a_sim_asking_for_its_pin_gets_the_configured_one():
    assert decide(SimFacts("SIM PIN", pin="1234")) == EnterPin("1234")


def test_a_sim_asking_for_a_pin_none_is_configured_says_what_to_set():
    with pytest.raises(SimError, match=r"SIM needs a PIN: set \[modem\] pin"):
        decide(SimFacts("SIM PIN", pin=""))


def test_a_refused_pin_is_never_sent_again():
    with pytest.raises(SimError, match="refused the configured PIN before; not trying again"):
        decide(SimFacts("SIM PIN", pin="9999", refused=fingerprint("9999")))


def test_a_corrected_pin_is_tried_although_an_earlier_one_was_refused():
    assert decide(SimFacts("SIM PIN", pin="1234", refused=fingerprint("9999"))) == EnterPin(
        "1234")


def test_after_the_pin_was_entered_a_sim_still_locked_is_not_given_it_twice():
    with pytest.raises(SimError, match="SIM not usable: AT\\+CPIN\\? answered SIM PIN"):
        decide(SimFacts("SIM PIN", pin="1234", pin_entered=True))
    assert decide(SimFacts("READY", pin="1234", pin_entered=True)) == Ready()


@pytest.mark.parametrize(("state", "message"), [
    ("SIM PUK", "needs its PUK: unlock it in a phone"),
    ("NOT INSERTED", "no SIM card: insert one"),
    ("BUSY", "SIM not usable: AT\\+CPIN\\? answered BUSY"),
    (None, "SIM not usable: AT\\+CPIN\\? answered None"),
    ("PH-NET PIN", "SIM not usable: AT\\+CPIN\\? answered PH-NET PIN"),
])
def test_states_only_a_person_can_fix_say_what_to_do(state, message):
    with pytest.raises(SimError, match=message):
        decide(SimFacts(state, pin="1234"))


def test_the_error_names_the_backend_that_reported_the_state():
    with pytest.raises(SimError, match="SIM not usable: gammu reports SIM PIN2"):
        decide(SimFacts("SIM PIN2", pin="1234", source="gammu reports"))


def test_a_pin_is_never_spelled_out_by_its_fingerprint_or_its_decision():
    assert "4821" not in fingerprint("4821") and "4821" not in repr(EnterPin("4821"))
    assert fingerprint("4821") == fingerprint("4821") != fingerprint("4822")


def test_a_pin_just_refused_says_it_is_not_retried():
    assert "not retried" in str(pin_refused()) and isinstance(pin_refused(), SimError)
