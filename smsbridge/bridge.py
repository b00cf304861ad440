"""One step of smsbridge's job: drain the modem -> store -> commit -> delete -> reply.

The order is the product's promise. A message leaves the modem only after the
transaction holding it (with its case and the reply to send) has committed, so a
crash at any point loses nothing; a message listed again after a crash is known by
the hash of its raw PDU, so nothing is stored twice. Sending is a separate, slow
step (seconds per SMS, ``pool/sending.py``) that the worker interleaves with draining,
so a backlog of replies never lets the SIM fill up; the bridge only queues replies.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from smsbridge import intake
from smsbridge.clock import Clock, SystemClock
from smsbridge.config.sections import Config
from smsbridge.errors import DatabaseError, PduError
from smsbridge.fieldwork.answers import FieldFacts
from smsbridge.fieldwork.bridge import FieldBridge
from smsbridge.models import Case, InboundRecord, NewCase, to_iso
from smsbridge.modem.base import STO_SENT, STO_UNSENT, Modem, StoredMessage
from smsbridge.numbers import normalize, reply_problem
from smsbridge.privacy import mask_number, mask_numbers_in
from smsbridge.replies import ReplyDecision, Templates, parse_command
from smsbridge.sms import pdu as pdu_codec
from smsbridge.sms.fields import is_alphanumeric_toa
from smsbridge.store import Store
from smsbridge.store.retriage import Decided
from smsbridge.triage import rules as triage
from smsbridge.triage.urgent import Urgent

log = logging.getLogger(__name__)

UNKNOWN_SENDER = "unknown"
STORED_SUBMIT = (STO_UNSENT, STO_SENT)
# How far back sibling parts of a long SMS are looked for. Concatenation references
# are only 8 bits: a phone reuses one within days, so a part must not be matched
# with an old, unrelated part that happens to share (sender, reference, total).
PART_LOOKBACK = timedelta(days=1)


@dataclass
class DrainResult:
    listed: int = 0
    stored: int = 0
    already_stored: int = 0
    deleted: int = 0
    new_cases: list[str] = field(default_factory=list)


class Bridge:
    """The daemon's unit of work, over one modem and one store (both injected)."""

    def __init__(self, modem: Modem, store: Store, config: Config, *,
                 clock: Clock | None = None, name: str = "modem"):
        self.modem = modem
        self.store = store
        # The pool's name of this modem: what messages record they came in on, and what
        # leases and sends are recorded under.
        self.name = name
        # The modem the replies being queued should prefer (the one the report came in on).
        self._received_on: str | None = name
        # The daemon's clock (the store's too).
        self.clock: Clock = clock or SystemClock()
        # Why each item was set aside since the daemon last asked (take_set_aside).
        self.set_aside: list[str] = []
        # Set while the line's reply budget is spent: what ``status`` shows.
        self.over_budget: str | None = None
        self.reconfigure(config)

    def take_set_aside(self) -> list[str]:
        """The reasons of items set aside since the last call (for ``status``)."""
        taken, self.set_aside = self.set_aside, []
        return taken

    def reconfigure(self, config: Config) -> None:
        """Take a reloaded config (SIGHUP): templates, windows, limits."""
        self.config = config
        self.templates = Templates.from_config(config.replies)
        self.operator = config.daemon.operator_name
        self.blocklist = {normalize(n, config.daemon.country_code) for n in config.abuse.blocklist}
        self.policy = intake.Policy(
            short_code_max_digits=config.abuse.short_code_max_digits,
            loop_threshold=config.abuse.loop_threshold,
            replies_per_hour=config.abuse.replies_per_hour,
            replies_enabled=config.replies.enabled,
            line_replies_per_hour=config.abuse.line_replies_per_hour,
            line_replies_per_day=config.abuse.line_replies_per_day,
            case_text_max_chars=config.daemon.case_text_max_chars)
        self.field = FieldBridge(self.store, config)
        self.rules = triage.Rules.from_section(config.categories, config.desk.places)
        self.urgent = Urgent.from_keywords(config.desk.urgent)

    # -- receiving ---------------------------------------------------------------------

    def drain(self) -> DrainResult:
        """Move every message in the modem's storage into the database, then delete it."""
        result = DrainResult()
        listed = self.modem.list_stored()
        result.listed = sum(1 for m in listed if m.status not in STORED_SUBMIT)
        if not listed:
            return result
        now = self.clock.now()
        keep: set[int] = set()
        self._received_on = self.name
        with self.store.transaction():
            for message in listed:
                if message.status in STORED_SUBMIT:
                    # Our own replies written to storage to be sent (AT+CMGW): the send
                    # path owns them, neither a report nor ours to delete here.
                    keep.add(message.index)
                    continue
                made = len(result.new_cases)
                fresh: bool | None
                try:
                    # A savepoint per message: one that cannot be handled is rolled back
                    # alone and set aside, never the batch, never the line.
                    with self.store.transaction():
                        fresh = self._ingest(message, now, result)
                except DatabaseError:
                    raise  # the database's trouble, not the message's: nothing is deleted
                except Exception as exc:
                    del result.new_cases[made:]  # rolled back with the savepoint
                    fresh = self._set_aside(message, exc, now)
                    if fresh is None:
                        keep.add(message.index)
                        continue
                if fresh:
                    result.stored += 1
                else:
                    result.already_stored += 1
        # Committed: only now may the messages leave the modem.
        for message in listed:
            if message.index in keep:
                continue
            self.modem.delete(message.index)
            result.deleted += 1
        return result

    def _set_aside(self, message: StoredMessage, exc: Exception, now: datetime
                   ) -> bool | None:
        """Keep a message whose handling failed unexpectedly, raw and flagged with the
        reason, so it can leave the SIM and the next reports go on; True when stored
        now, False when it was stored before, None when even that failed (it then stays
        on the modem, and is tried again at the next drain)."""
        reason = f"set aside: {type(exc).__name__}: {mask_numbers_in(str(exc))}"[:500]
        log.error("message at slot %d could not be handled, %s", message.index, reason,
                  exc_info=exc)
        self.set_aside.append(reason)
        try:
            with self.store.transaction():
                digest = message.key
                if self.store.inbox.seen(digest, self.name):
                    return False
                self.store.inbox.add(pdu_hash=digest, pdu=message.pdu.hex().upper(),
                                     kind="undecodable", error=reason,
                                     received_at=to_iso(now), modem=self.name)
                return True
        except DatabaseError:
            raise
        except Exception as again:
            log.error("message at slot %d could not even be set aside (%s: %s); it stays on "
                      "the modem", message.index, type(again).__name__, again)
            return None

    def _ingest(self, message: StoredMessage, now: datetime, result: DrainResult) -> bool:
        digest = message.key
        if self.store.inbox.seen(digest, self.name):
            return False
        raw_hex = message.pdu.hex().upper()
        try:
            decoded = pdu_codec.decode(message.pdu)
        except PduError as exc:
            self._ingest_undecodable(digest, raw_hex, exc, now, result)
            return True
        if isinstance(decoded, pdu_codec.StatusReport):
            self.store.inbox.add(
                pdu_hash=digest, pdu=raw_hex, kind="status_report", received_at=to_iso(now),
                sender=normalize(decoded.recipient, self.config.daemon.country_code),
                sender_toa=decoded.recipient_toa, smsc=decoded.smsc,
                sent_at=to_iso(decoded.discharged_at), text=None, modem=self.name)
            self._record_delivery(decoded, now)
            return True
        self._ingest_deliver(decoded, digest, raw_hex, now, result)
        return True

    def _ingest_undecodable(self, digest: str, raw_hex: str, exc: PduError, now: datetime,
                            result: DrainResult) -> None:
        # Stored raw and shown to operators as a case, then deleted from the SIM like
        # any other: a PDU we cannot read must never clog the storage.
        message_id = self.store.inbox.add(
            pdu_hash=digest, pdu=raw_hex, kind="undecodable", error=str(exc),
            received_at=to_iso(now), modem=self.name)
        case = self.store.cases.create(
            NewCase(reporter=UNKNOWN_SENDER, channel="sms", received_at=to_iso(now),
                    text=f"[undecodable SMS: {exc}]", incomplete=True,
                    flags=("undecodable",)),
            operator=self.operator)
        self.store.inbox.attach([message_id], case.id)
        result.new_cases.append(case.ticket)
        log.warning("stored an undecodable PDU as case %s: %s", case.ticket, exc)

    def _ingest_deliver(self, sms: pdu_codec.Deliver, digest: str, raw_hex: str, now: datetime,
                        result: DrainResult) -> None:
        country = self.config.daemon.country_code
        sender = sms.sender if sms.is_alphanumeric else normalize(sms.sender, country)
        concat = sms.concat if sms.concat and sms.concat.total > 1 else None
        message_id = self.store.inbox.add(
            pdu_hash=digest, pdu=raw_hex, kind="deliver", received_at=to_iso(now),
            sender=sender, sender_toa=sms.sender_toa, smsc=sms.smsc,
            sent_at=to_iso(sms.timestamp), text=sms.text,
            concat_ref=concat.reference if concat else None,
            concat_total=concat.total if concat else None,
            concat_seq=concat.sequence if concat else None, modem=self.name)
        if concat is None:
            self._handle_text(sender, sms.is_alphanumeric, sms.text, [message_id], now, result)
            return
        parts = self.store.inbox.waiting_parts(sender, concat.reference, concat.total,
                                               since=to_iso(now - PART_LOOKBACK),
                                               modem=self.name)
        by_seq: dict[int, InboundRecord] = {}
        for part in parts:
            by_seq.setdefault(part.concat_seq or 0, part)
        if len(by_seq) < concat.total:
            log.info("part %d of %d from %s waits for its siblings", concat.sequence,
                     concat.total, mask_number(sender))
            return
        text = "".join(by_seq[seq].text or "" for seq in sorted(by_seq))
        self._handle_text(sender, sms.is_alphanumeric, text, [p.id for p in parts], now, result)

    def expire_parts(self) -> list[str]:
        """Turn parts that waited past the timeout into cases marked incomplete."""
        now = self.clock.now()
        cutoff = now - timedelta(minutes=self.config.daemon.part_timeout_minutes)
        made: list[str] = []
        with self.store.transaction():
            for group in self.store.inbox.stale_part_groups(before=to_iso(cutoff)):
                by_seq = {p.concat_seq: p for p in group}
                total = group[0].concat_total or len(by_seq)
                # The missing parts are marked where they belong, so an officer reading
                # the case sees that, and where, the report has a gap.
                text = "".join(by_seq[seq].text or "" if seq in by_seq else "[…]"
                               for seq in range(1, total + 1))
                result = DrainResult()
                # The sender's type of address decides, not its characters: " 12345678"
                # from an alphanumeric sender is a service's name, not a phone number.
                alphanumeric = any(p.sender_toa is not None and is_alphanumeric_toa(p.sender_toa)
                                   for p in group)
                self._received_on = group[0].modem or None
                try:
                    with self.store.transaction():
                        self._handle_text(group[0].sender or UNKNOWN_SENDER, alphanumeric,
                                          text, [p.id for p in group], now, result,
                                          incomplete=True)
                except DatabaseError:
                    raise
                except Exception as exc:
                    # Never again: the parts are marked done (they stay stored), so one bad
                    # group cannot fail every housekeeping round after this one.
                    log.error("parts %s could not be made a case, set aside: %s: %s",
                              ",".join(str(p.id) for p in group), type(exc).__name__,
                              mask_numbers_in(str(exc)), exc_info=exc)
                    self.store.inbox.finish([p.id for p in group], at=to_iso(now))
                    continue
                made += result.new_cases
                log.warning("made case(s) %s from %d of %d parts after waiting",
                            ",".join(result.new_cases) or "-", len(by_seq), total)
        return made

    # -- what a text means ----------------------------------------------------------------

    def _handle_text(self, sender: str, alphanumeric: bool, text: str, message_ids: list[int],
                     now: datetime, result: DrainResult, *, incomplete: bool = False) -> None:
        # Whatever follows (a case, a follow-up, an answer, or nothing for a service
        # sender), these messages are dealt with and must not be picked up again.
        self.store.inbox.finish(message_ids, at=to_iso(now))
        # Only a registered officer's number is read as an answer; then no verification
        # word rests anywhere in clear: not in the messages, the case, its history.
        fieldwork = None if alphanumeric else self.field.facts(sender, text)
        raw, text = text, self.field.hide(text, message_ids, fieldwork)
        facts = self._facts(sender, alphanumeric, text, incomplete, now, fieldwork)
        decision = intake.decide(facts, self.policy)
        if isinstance(decision, intake.Ignore):
            log.info("stored a message from %s %s (no case, no reply)", decision.reason,
                     mask_number(sender))
        elif isinstance(decision, intake.AnswerStatus):
            self._answer_status(facts, decision, message_ids, now)
        elif isinstance(decision, intake.FollowUp):
            self._follow_up(facts, decision, message_ids, now)
        elif isinstance(decision, intake.FieldAnswer):
            assert facts.fieldwork is not None
            self.field.carry_out(sender, facts.fieldwork, decision, message_ids, now)
        else:
            self._open_case(facts, decision, message_ids, now, result)
        if facts.fieldwork is None and not alphanumeric:
            self.field.attempt(sender, raw, message_ids, now)

    def _facts(self, sender: str, alphanumeric: bool, text: str, incomplete: bool,
               now: datetime, fieldwork: FieldFacts | None) -> intake.Facts:
        """What intake.decide needs to know about this text, read from the store."""
        hour_ago = to_iso(now - timedelta(hours=1))
        command = parse_command(text, self.config.replies.status_keywords,
                                self.config.tickets.prefix, self.config.tickets.digits)
        asked = open_case = None
        if command is not None and not incomplete:
            asked = (self.store.cases.latest_of(sender) if command.ticket is None
                     else self.store.cases.find_of(command.ticket, reporter=sender))
        elif self.config.daemon.followup_minutes:
            window = timedelta(minutes=self.config.daemon.followup_minutes)
            open_case = self.store.cases.open_case_of(sender, since=to_iso(now - window))
        return intake.Facts(
            sender=sender, text=text, alphanumeric=alphanumeric, incomplete=incomplete,
            blocked=sender in self.blocklist, command=command,
            identical_last_hour=self.store.inbox.count_from(sender, since=hour_ago, text=text),
            replies_last_hour=self.store.outbox.count_auto_replies(sender, since=hour_ago),
            line_replies_last_hour=self.store.outbox.count_auto_replies(since=hour_ago),
            line_replies_last_day=self.store.outbox.count_auto_replies(
                since=to_iso(now - timedelta(days=1))),
            number_problem=reply_problem(sender), open_case=open_case, asked_case=asked,
            fieldwork=fieldwork)

    def _answer_status(self, facts: intake.Facts, decision: intake.AnswerStatus,
                       message_ids: list[int], now: datetime) -> None:
        case, command = decision.case, facts.command
        assert command is not None
        if case is not None:
            text = self.templates.render_status(case.ticket, case.status)
            self.store.inbox.attach(message_ids, case.id)
        elif command.ticket is None:
            text = self.templates.no_case
        else:
            # The same answer for "no such ticket" and "not your ticket": a CEK must not
            # tell a stranger that a ticket exists, let alone its state. The ticket is
            # the canonical one, never what was typed (parse_command).
            text = self.templates.render_unknown(command.ticket)
        self._reply(facts.sender, case, text, "status", decision.reply, now)
        log.info("status query from %s answered (%s)", mask_number(facts.sender),
                 case.ticket if case else "no case")

    def _follow_up(self, facts: intake.Facts, decision: intake.FollowUp,
                   message_ids: list[int], now: datetime) -> None:
        case = decision.case
        # Two sticks, or a network's delay, can deliver a reporter's second SMS before
        # the first: the SMS centre's time stamps put the texts in the order sent.
        sent = self.store.retriage.earliest_sent(message_ids=message_ids)
        first = self.store.retriage.earliest_sent(case_id=case.id)
        before = bool(sent and first and sent < first)
        self.store.inbox.attach(message_ids, case.id)
        if decision.repeated:
            note = "the same text again"
        elif decision.capped:
            note = (f"kept as a message only: the case's text is at its limit of "
                    f"{self.policy.case_text_max_chars:,} characters")
        else:
            note = facts.text if not before else f"sent before the case's text: {facts.text}"
        self.store.cases.add_followup(case.id, facts.text, append=decision.append, note=note,
                                      at=to_iso(now), operator=self.operator, before=before)
        if not case.urgent and not decision.repeated:
            # "dia bawa parang": a further SMS can make a report urgent.
            found = self.urgent.words_in(facts.text)
            if found:
                self.store.desk.mark_urgent(case.id, found, operator=self.operator)
        if decision.append:
            self._redecide(case.id)
        if decision.flag_loop:
            self.store.cases.flag(case.id, "loop", operator=self.operator,
                                  note="same text more than "
                                       f"{self.policy.loop_threshold} times in an hour")
        log.info("follow-up from %s added to case %s", mask_number(facts.sender), case.ticket)

    def _redecide(self, case_id: int) -> None:
        """A follow-up completed the report: its category and place are decided again
        from the whole text, unless an operator set them."""
        if self.store.retriage.operator_set(case_id, daemon=self.operator):
            return
        case = self.store.cases.by_id(case_id)
        found = triage.classify(case.text, self.rules)
        self.store.retriage.apply([Decided(case.id, found.category, found.place)],
                                  operator=self.operator, why="with the reporter's follow-up")

    def _open_case(self, facts: intake.Facts, decision: intake.OpenCase,
                   message_ids: list[int], now: datetime, result: DrainResult) -> None:
        found = self._triage(facts.text, now)
        case = self.store.cases.create(
            NewCase(reporter=facts.sender, text=facts.text, channel="sms",
                    received_at=to_iso(now), incomplete=facts.incomplete,
                    flags=decision.flags, category=found.category, place=found.place,
                    incident_id=found.incident_id, urgent=self.urgent.words_in(facts.text)),
            operator=self.operator)
        self.store.inbox.attach(message_ids, case.id)
        result.new_cases.append(case.ticket)
        if self.config.hook.command or self.config.hook.url:
            self.store.hooks.add(case.id, at=to_iso(now))
        self._reply(facts.sender, case, self.templates.render_ack(case.ticket), "ack",
                    decision.reply, now)
        log.info("new case %s from %s", case.ticket, mask_number(facts.sender))

    def _triage(self, text: str, now: datetime) -> triage.Triage:
        """The report's category and place, and the open case of its category it may
        repeat (received within ``[desk] related_minutes``)."""
        found = triage.classify(text, self.rules)
        minutes = self.config.desk.related_minutes
        if not minutes:
            return found
        recent = self.store.desk.recent_open(
            found.category, since=to_iso(now - timedelta(minutes=minutes)))
        return triage.relate(found, text, recent,
                             min_similarity=self.config.desk.related_similarity)

    def _reply(self, sender: str, case: Case | None, text: str, kind: str,
               decision: ReplyDecision, now: datetime) -> None:
        self._note_budget(decision, now)
        if decision.send:
            self.store.outbox.add(sender, text, kind=kind, created_by=self.operator,
                                  case_id=case.id if case else None, at=to_iso(now),
                                  prefer_modem=self._received_on)
        elif case is not None:
            self.store.cases.add_note(case.id, f"no automatic reply: {decision.reason}",
                                      operator=self.operator)

    def _note_budget(self, decision: ReplyDecision, now: datetime) -> None:
        """Say once that the line's reply budget is spent, and once that it is back."""
        if decision.over_budget and self.over_budget is None:
            self.over_budget = f"{decision.reason} (since {to_iso(now)})"
            log.warning("%s: reports are stored, not acknowledged", decision.reason)
        elif decision.send and self.over_budget is not None:
            self.over_budget = None
            log.info("the line's reply budget allows automatic replies again")

    def _record_delivery(self, report: pdu_codec.StatusReport, now: datetime) -> None:
        if not report.final:
            return
        number = normalize(report.recipient, self.config.daemon.country_code)
        matched = self.store.outbox.record_delivery(number, report.reference,
                                                    delivered=report.delivered,
                                                    status=report.status, at=to_iso(now),
                                                    modem=self.name)
        if not matched:
            log.info("status report for an unknown message (ref %d) ignored", report.reference)
