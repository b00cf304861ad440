"""One path for every change of a case (``Store.change_case``): the case, its history and
the reporters' notices commit together, whoever changes it: an operator's update, a
merge, an officer's answer. Each tells the reporter exactly once; the reporters of the
reports merged into an incident hear what became of it; their CEKs never cost them that
news."""

from __future__ import annotations

import pytest
from rigs import START, BridgeRig

from smsbridge.clock import ManualClock
from smsbridge.config import load as config_mod
from smsbridge.fieldwork.answers import Roster
from smsbridge.fieldwork.texts import FieldTexts
from smsbridge.models import CaseQuery
from smsbridge.privacy import mask_number
from smsbridge.replies import Notices
from smsbridge.store import Store

OFFICER = "+6281234560001"
REPORTERS = [f"+62812345670{i:02d}" for i in range(1, 9)]
CONFIG = {
    "officers": [{"name": "budi", "number": "0812-3456-0001", "word": "mawarku"}],
    "fieldwork": {"notify_duplicate": True},
}


class Rig(BridgeRig):
    def report(self, reporter: str, text: str = "Ada judi sabung ayam di Pasar Kliwon") -> str:
        self.sms(reporter, text)
        self.clock.advance(minutes=30)  # past the follow-up window: each SMS its own case
        self.step()
        return self.store.cases.query(CaseQuery(limit=1))[0].ticket

    def notices_to(self, number: str) -> list[str]:
        return [t for t in self.replies_to(number) if not t.startswith(("Laporan Anda",
                                                                          "Tiket "))]

    def dispatch(self, ticket: str) -> str:
        """Send the case to budi; the one-time code his answer must carry."""
        officers, team = Roster.from_config(self.config).resolve("budi")
        texts = FieldTexts.from_config(self.config)
        _, records = self.store.field.dispatch(
            ticket, officers, team=team, operator="sari",
            compose=lambda case, code: texts.for_case(case, None, code))
        self.step()
        return records[0].code

    @property
    def notices(self) -> Notices:
        return Notices.from_config(self.config)


@pytest.fixture
def rig(db_path):
    clock = ManualClock(START)
    with Store.open(db_path, clock=clock) as store:
        yield Rig(store, clock, config_mod.from_dict(CONFIG))


def test_update_merge_and_field_answer_each_tell_the_reporter_exactly_once(rig):
    updated, merged, original, answered = (rig.report(n) for n in REPORTERS[:4])
    rig.store.change_case(updated, notices=rig.notices, operator="sari", status="checking")
    rig.store.change_case(updated, notices=rig.notices, operator="sari", status="confirmed")
    rig.store.desk.merge(original, [merged], operator="sari", notices=rig.notices)
    code = rig.dispatch(answered)
    rig.sms(OFFICER, f"mawarku {answered} {code} benar ada 5 orang")
    rig.step()
    assert rig.notices_to(REPORTERS[0]) == [rig.notices.text("confirmed", updated)]
    assert rig.notices_to(REPORTERS[1]) == [rig.notices.text("duplicate", merged)]
    assert rig.notices_to(REPORTERS[2]) == []
    assert rig.notices_to(REPORTERS[3]) == [rig.notices.text("confirmed", answered)]
    for ticket in (updated, merged, answered):
        notes = [n for a, n in rig.events(int(ticket[3:])) if a == "notice"]
        assert len(notes) == 1 and "the reporter is told the case is" in notes[0]


def test_an_officers_resolved_on_a_case_being_checked_is_one_notice(rig):
    ticket = rig.report(REPORTERS[0])
    code = rig.dispatch(ticket)
    rig.sms(OFFICER, f"mawarku {ticket} {code} selesai sudah dibubarkan")
    rig.step()
    assert rig.store.cases.get(ticket).status == "resolved"
    assert rig.notices_to(REPORTERS[0]) == [rig.notices.text("resolved", ticket)]


def test_reporters_of_every_merged_report_hear_the_incident_confirmed_and_resolved_once(rig):
    # Seven reports of one incident, one of them sent twice by the same number.
    tickets = [rig.report(n) for n in REPORTERS[:7]]
    tickets.append(rig.report(REPORTERS[3]))
    original, others = tickets[0], tickets[1:]
    rig.store.desk.merge(original, others[:3], operator="sari", notices=rig.notices)
    # A report merged into one that was itself merged is part of the incident too.
    rig.store.desk.merge(others[0], others[3:], operator="sari", notices=rig.notices)
    for status in ("checking", "confirmed", "resolved"):
        rig.store.change_case(original, notices=rig.notices, operator="sari", status=status)
    rig.step()
    for reporter in REPORTERS[:7]:
        incident = [t for t in rig.notices_to(reporter)
                    if "benar" in t or "selesai" in t]
        assert len(incident) == 2, (reporter, rig.notices_to(reporter))
    own = [t for t in rig.notices_to(REPORTERS[3]) if "digabung" in t]
    assert len(own) == 2  # each of their two reports was merged: said of each


def test_a_reporters_ceks_never_cost_them_the_notice(rig):
    ticket = rig.report(REPORTERS[0])
    for _ in range(6):
        rig.sms(REPORTERS[0], f"CEK {ticket}")
        rig.step()
    rig.store.change_case(ticket, notices=rig.notices, operator="sari", status="checking")
    rig.store.change_case(ticket, notices=rig.notices, operator="sari", status="confirmed")
    rig.step()
    assert rig.notices_to(REPORTERS[0]) == [rig.notices.text("confirmed", ticket)]


def test_notices_still_count_against_the_line_budget(rig):
    rig.configure(abuse=rig.config.abuse.__class__(line_replies_per_hour=1))
    ticket = rig.report(REPORTERS[0])  # its acknowledgement spends the line's hour
    rig.store.change_case(ticket, notices=rig.notices, operator="sari", status="checking")
    rig.store.change_case(ticket, notices=rig.notices, operator="sari", status="confirmed")
    rig.step()
    assert rig.notices_to(REPORTERS[0]) == []
    assert any(a == "notice" and "budget" in (n or "") for a, n in rig.events(int(ticket[3:])))


def test_cases_merge_on_the_command_line_tells_each_reporter(cli, config_file):
    config_file.write_text(config_file.read_text() + "[fieldwork]\nnotify_duplicate = true\n")
    # The ticket on stdout; that the two look like one incident is said on stderr.
    first = cli("cases", "add", "--reporter", "081234567001", "tawuran di jalan A").stdout
    second = cli("cases", "add", "--reporter", "081234567002", "tawuran jalan A").stdout
    first, second = first.strip(), second.strip()
    cli("cases", "merge", first, second)
    shown = cli("cases", "show", second).output
    assert f"notice (duplicate) to {mask_number('+6281234567002')}" in shown
    assert "notice" not in cli("cases", "show", first).output
