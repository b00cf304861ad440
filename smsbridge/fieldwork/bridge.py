"""The bridge's side of the field loop: the facts about an SMS that may be an officer's
answer, and carrying out what ``intake.decide`` made of it.

Like the rest of the bridge this runs inside the transaction of the drain that stored
the SMS: the answer's record, the case's change, the reporter's notice and the reply
to the officer commit together with the message, or not at all.
"""

from __future__ import annotations

import logging
from datetime import datetime

from smsbridge import intake
from smsbridge.config.sections import Config
from smsbridge.fieldwork.answers import FieldFacts, Refuse, Roster, finding_words, parse_answer
from smsbridge.fieldwork.texts import FieldTexts
from smsbridge.models import to_iso
from smsbridge.privacy import mask_number
from smsbridge.replies import Notices
from smsbridge.store import Store

log = logging.getLogger(__name__)


class FieldBridge:
    def __init__(self, store: Store, config: Config):
        self.store = store
        self.roster = Roster.from_config(config)
        self.findings = finding_words(config)
        self.texts = FieldTexts.from_config(config)
        self.notices = Notices.from_config(config)
        self.prefix, self.digits = config.tickets.prefix, config.tickets.digits
        self.operator = config.daemon.operator_name

    def facts(self, sender: str, text: str) -> FieldFacts | None:
        """None for a citizen's text. An officer's number makes any text an answer; from
        another number only one with an officer's word, a ticket and a finding is
        (someone trying a word: kept, never a report), so a citizen who writes a word
        that happens to be one ("melati 2 ada judi") still reports."""
        answer = parse_answer(text, findings=self.findings, prefix=self.prefix,
                              digits=self.digits)
        officer = self.roster.by_number(sender)
        owners = self.roster.owners_of(answer.word) if answer.word else ()
        if officer is None and not (owners and answer.number and answer.finding):
            return None
        case, dispatched = (self.store.field.answer_facts(answer.number)
                            if answer.number else (None, ()))
        return FieldFacts(answer, officer, tuple(o.name for o in owners), case, dispatched)

    def carry_out(self, sender: str, facts: FieldFacts, decision: intake.FieldAnswer,
                  message_ids: list[int], now: datetime) -> None:
        answer, at = facts.answer, to_iso(now)
        if answer.word:
            self.store.field.hide_word(message_ids, answer.word)
        first = min(message_ids) if message_ids else None
        verdict = decision.verdict
        if isinstance(verdict, Refuse):
            answer_id = self.store.field.record_answer(
                message_id=first, officer=verdict.officer.name if verdict.officer else None,
                case_id=verdict.case_id, ticket=answer.ticket, finding=answer.finding,
                note=answer.note, accepted=False, reason=verdict.reason, at=at)
            log.warning("field answer from %s refused: %s", mask_number(sender),
                        verdict.reason)
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
