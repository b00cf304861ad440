"""The bridge's side of the field loop: the facts about an SMS that may be an officer's
answer, and carrying out what ``intake.decide`` made of it.

Like the rest of the bridge this runs inside the transaction of the drain that stored
the SMS: the answer's record, the case's change, the reporter's notice and the reply
to the officer commit together with the message, or not at all.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta

from smsbridge import intake
from smsbridge.config.sections import Config
from smsbridge.fieldwork.answers import (
    Answer,
    DispatchFacts,
    FieldFacts,
    Officer,
    Refuse,
    Roster,
    finding_words,
    judge,
    lock_due,
    parse_answer,
    word_hash,
)
from smsbridge.fieldwork.texts import FieldTexts
from smsbridge.models import to_iso
from smsbridge.privacy import mask_number
from smsbridge.replies import Notices
from smsbridge.store import Store

log = logging.getLogger(__name__)


class FieldBridge:
    def __init__(self, store: Store, config: Config):
        self.store = store
        self.hook = bool(config.hook.command or config.hook.url)
        self.roster = Roster.from_config(config)
        self.findings = finding_words(config)
        self.texts = FieldTexts.from_config(config)
        self.notices = Notices.from_config(config)
        self.prefix, self.digits = config.tickets.prefix, config.tickets.digits
        self.operator = config.daemon.operator_name
        section = config.fieldwork
        self.limits = {"guess": section.guess_limit, "leak": section.leak_limit}
        self.window = timedelta(minutes=section.guess_window_minutes)

    def _parse(self, text: str) -> Answer:
        """The answer in ``text``, its note with every word masked (it is stored, shown
        in the timeline and exported)."""
        answer = parse_answer(text, findings=self.findings, prefix=self.prefix,
                              digits=self.digits)
        return replace(answer, note=self.roster.mask(answer.note, also=answer.word))

    def hide(self, text: str, message_ids: list[int], facts: FieldFacts | None) -> str:
        """``text`` with every verification word masked, and so its stored messages
        (text and raw PDU): an officer's SMS loses what stands in the word's place, any
        SMS a roster word wherever it stands. What the rest of the bridge reads."""
        typed = facts.answer.word if facts is not None else None
        words = self.roster.words_pattern(also=typed)
        if words is None or not words.search(text):
            return text
        self.store.field.hide_words(message_ids, words)
        return self.roster.mask(text, also=typed)

    def facts(self, sender: str, text: str) -> FieldFacts | None:
        """None for a citizen's text: only a registered officer's number is read as an
        answer. Any other sender is a citizen whatever its first word (a flower's name is
        a street's name too), and gets what any citizen gets: nothing it sees tells a
        right word from a wrong one (``attempt`` keeps a note for the desk)."""
        officer = self.roster.by_number(sender)
        if officer is None:
            return None
        answer = self._parse(text)
        case, sent = (self.store.field.answer_facts(answer.number, officer.name)
                      if answer.number else (None, DispatchFacts()))
        locked = bool(self.store.field.locked([word_hash(officer.word)]))
        return FieldFacts(answer, officer, (), case, sent, locked)

    def attempt(self, sender: str, text: str, message_ids: list[int], now: datetime) -> None:
        """A citizen's text shaped like an answer (a word, a ticket, a finding) is also
        kept as a refused answer, so the desk sees someone trying words; one carrying a
        real word counts against that word. The citizen's treatment is not touched."""
        answer = self._parse(text)
        if not answer.shaped:
            return
        assert answer.word is not None
        owners = self.roster.owners_of(answer.word)
        case = self.store.field.answer_facts(answer.number)[0] if answer.number else None
        verdict = judge(FieldFacts(answer, None, tuple(o.name for o in owners), case))
        assert isinstance(verdict, Refuse)
        self._refused(sender, answer, verdict, message_ids, now, owners)

    def _refused(self, sender: str, answer: Answer, verdict: Refuse, message_ids: list[int],
                 now: datetime, owners: tuple[Officer, ...]) -> int:
        """Record a refused answer; count it against the word it tried, and lock the word
        when it has been tried too often."""
        hashed = word_hash(owners[0].word) if verdict.attempt and owners else None
        answer_id = self.store.field.record_answer(
            message_id=min(message_ids) if message_ids else None,
            officer=verdict.officer.name if verdict.officer else None,
            case_id=verdict.case_id, ticket=answer.ticket, finding=answer.finding,
            note=answer.note, accepted=False, reason=verdict.reason, at=to_iso(now),
            code=answer.code, attempt=verdict.attempt, word_hash=hashed)
        log.warning("field answer from %s refused: %s", mask_number(sender), verdict.reason)
        if hashed is None or verdict.attempt is None:
            return answer_id
        limit = self.limits[verdict.attempt]
        failures = self.store.field.attempts(hashed, verdict.attempt,
                                             since=to_iso(now - self.window))
        if lock_due(failures, limit):
            names = ", ".join(o.name for o in self.roster.owners_of(owners[0].word))
            how = ("wrong words from their numbers" if verdict.attempt == "guess"
                   else "answers carrying it from numbers not registered for it")
            minutes = int(self.window.total_seconds() // 60)
            reason = (f"{failures} {how} within {minutes} min, the last from "
                      f"{mask_number(sender)}")
            if self.store.field.lock(hashed, owners=names, reason=reason, at=to_iso(now)):
                self._alert(names, reason, verdict.case_id, now)
        return answer_id

    def _alert(self, names: str, reason: str, case_id: int | None, now: datetime) -> None:
        """Tell the desk a word is locked: the journal, the case tried (``cases watch``,
        its timeline) and the hook; ``smsbridge status`` reads the lock itself."""
        alert = (f"verification word of {names} LOCKED after guessing: {reason}; their "
                 "answers are refused until the administrator changes the word in the "
                 "config and reloads (SIGHUP)")
        log.error("%s", alert)
        if case_id is None:
            return
        self.store.cases.event(case_id, self.operator, "alert", note=alert)
        if self.hook:
            self.store.hooks.add(case_id, at=to_iso(now), alert=alert)

    def locks(self) -> list[tuple[str, str, str, str]]:
        """The locks on the words the config holds now."""
        return self.store.field.locked(self.roster.word_hashes())

    def carry_out(self, sender: str, facts: FieldFacts, decision: intake.FieldAnswer,
                  message_ids: list[int], now: datetime) -> None:
        answer, at = facts.answer, to_iso(now)
        first = min(message_ids) if message_ids else None
        verdict = decision.verdict
        if isinstance(verdict, Refuse):
            targets = (verdict.officer,) if verdict.officer else ()
            answer_id = self._refused(sender, answer, verdict, message_ids, now, targets)
            if decision.reply.send:
                # No case: the neutral reply counts against the reply budgets.
                item = self.store.outbox.add(sender, self.texts.neutral(), kind="field",
                                             created_by=self.operator, at=at)
                self.store.field.set_reply(answer_id, item.id)
            return
        case, answer_id = self.store.field.apply(verdict, message_id=first, ticket=answer.ticket,
                                                 notices=self.notices, at=at)
        reply = self.texts.confirmation(case.ticket, finding=verdict.finding,
                                        status=case.status, changed=bool(verdict.steps))
        item = self.store.outbox.add(verdict.officer.number, reply, kind="field",
                                     case_id=case.id, created_by=self.operator, at=at)
        self.store.field.set_reply(answer_id, item.id)
        log.info("field answer from %s on %s: %s -> %s", verdict.officer.name, case.ticket,
                 verdict.finding or "note", case.status)
