"""What one stick of the pool can do now: is it the stick its name stands for, has its SIM
credit, do its sends go out. The worker asks at each connect, after each send and at each
balance check; the rules are ``routing.py``'s pure ones (:func:`routing.judge_identity`,
:class:`routing.SendHealth`, ``modem/ussd.py``), this module reads the facts for them and
records the outcome for ``smsbridge status``. Each method returns whether the stick's
ability to send changed, for the worker to tell the pool.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from smsbridge.clock import Clock
from smsbridge.config.sections import ModemConfig
from smsbridge.errors import CommandError, DatabaseError, ModemError, ModemTimeout
from smsbridge.models import to_iso
from smsbridge.modem import ussd
from smsbridge.modem.base import Modem, ModemStatus, ussd_of
from smsbridge.pool.routing import Identity, Known, Sender, SendHealth, judge_identity
from smsbridge.pool.sending import Outcome, SendResult
from smsbridge.privacy import neutralise
from smsbridge.retry import RetryPolicy
from smsbridge.store import Store

log = logging.getLogger(__name__)

# A stick that cannot send tries again after send_retry_seconds, doubling up to this.
RETRY_CAP_SECONDS = 3600.0

class Stick:
    """One stick's identity, credit and send health, kept by its worker's thread."""

    def __init__(self, config: ModemConfig, clock: Clock) -> None:
        self.config = config
        self.name = config.name
        self.clock = clock
        self.health = SendHealth()
        self._credit_warning: str | None = None
        self._streak: list[int] = []  # the replies of the current run of failed sends

    def _backoff(self) -> RetryPolicy:
        return RetryPolicy(self.config.send_retry_seconds, RETRY_CAP_SECONDS)

    def _state(self, store: Store, **values: object) -> None:
        try:
            store.state.update({f"modem.{self.name}.{k}": None if v is None else str(v)
                                for k, v in values.items()})
        except DatabaseError as exc:
            log.debug("%s state not recorded: %s", self.name, exc)

    # -- identity --------------------------------------------------------------------

    def check_identity(self, store: Store, status: ModemStatus,
                       again: Callable[[], ModemStatus]) -> Known:
        """The stick behind the port is the one this name stands for, or an accepted
        new one; else ModemError (it is not used: the worker tries again later, and a
        reload with its IMSI/IMEI in the config lets it join). ``again`` reads the
        status once more: nothing is recorded or refused on one reading (a line lost
        to noise must not make a stick a stranger)."""
        state = store.state.read()
        seen = _identity(status)
        last = Identity(state.get(f"modem.{self.name}.imsi"),
                        state.get(f"modem.{self.name}.imei"))
        cfg = self.config
        configured = Identity(cfg.imsi or None, cfg.imei or None)
        known = judge_identity(seen, last, configured, join_new=cfg.new_stick == "join")
        if known is not Known.SAME and _identity(again()) != seen:
            log.warning("%s: two readings of its IMSI/IMEI disagree; its identity is not "
                        "judged this time", self.name)
            return Known.SAME
        if known is Known.REFUSED:
            expected = configured if configured.known else last
            self._state(store, unknown_stick=neutralise(str(seen)),
                        unknown_stick_at=to_iso(self.clock.now()))
            raise ModemError(f"another stick is on {cfg.port} ({seen}; expected {expected}):"
                             " not used until [[modems]] imsi/imei name it (or new_stick ="
                             " \"join\")")
        if known is Known.NEW:
            log.warning("%s is another stick now (%s; before: %s): it starts afresh, and "
                        "what the old one held goes back to the queue when its lease runs "
                        "out", self.name, seen, last)
            # Its leases are the old stick's: kept from this one's recovery, they return
            # to the queue when they run out, as a dead stick's do.
            store.leases.disown(self.name, to=f"{self.name} ({last})")
        if known is not Known.SAME:
            self._state(store, imsi=seen.imsi, imei=seen.imei)
        self._state(store, unknown_stick=None, unknown_stick_at=None)
        return known

    # -- sends -----------------------------------------------------------------------

    def judge(self, store: Store, result: SendResult) -> bool:
        """What a send says about the stick: a run of failures stops it claiming, and
        the first success brings it back. True when it changed."""
        before = self.health
        if result.outcome is Outcome.SENT:
            self._streak.clear()
            self.health = before.succeeded()
            if before.can_send:
                return False
            log.warning("%s sends again (%s is over)", self.name, before.reason)
            self._state(store, cannot_send=None, cannot_send_at=None)
            return True
        if result.outcome is not Outcome.FAILED:
            return False
        if result.reply_id is not None:
            self._streak.append(result.reply_id)
        now = self.clock.now()
        self.health = before.failed(result.reason or "?", now, limit=self.config.send_failures,
                                    backoff=self._backoff())
        if self.health.can_send:
            return False
        # The replies it failed on wait for no retry delay: the others send them now.
        store.leases.due_now(self._streak, at=to_iso(now))
        self._streak.clear()
        if not before.can_send:
            return False
        log.error("%s cannot send: %s; the other modems take its replies, and it tries "
                  "again at %s", self.name, self.health.reason,
                  to_iso(self.health.retry_at or now))
        self._state(store, cannot_send=self.health.reason, cannot_send_at=to_iso(now))
        return True

    # -- credit ----------------------------------------------------------------------

    def check_balance(self, store: Store, modem: Modem, *, sends: bool) -> bool:
        """Ask the balance code; record what it says for ``status``, warn under the
        thresholds, and stop (or resume) sending by it. True when that changed."""
        cfg = self.config
        asker = ussd_of(modem)
        if asker is None:
            return False
        try:
            text = asker.ussd(cfg.balance_ussd)
        except (CommandError, ModemTimeout) as exc:
            log.warning("%s: no answer to the balance code %s: %s", self.name,
                        cfg.balance_ussd, exc)
            self._state(store, balance_error=neutralise(str(exc)))
            return False
        now = self.clock.now()
        today = now.astimezone().date()
        balance = ussd.parse_balance(text)
        warning = "; ".join(ussd.credit_warnings(balance, ussd.CreditLimits(
            cfg.min_credit, cfg.min_sms, cfg.expiry_warn_days), today)) or None
        if warning and warning != self._credit_warning:
            log.warning("%s credit: %s (the operator said: %s)", self.name, warning,
                        neutralise(text))
            # Whoever listens on the hook (the administrator's phone) hears it too.
            store.hooks.add_alert("credit", self.name, f"{self.name} credit: {warning}",
                                  at=to_iso(now))
        elif not warning and self._credit_warning:
            log.info("%s credit is fine again: %s", self.name, neutralise(text))
        self._credit_warning = warning
        self._state(store, balance_raw=neutralise(text), balance_at=to_iso(now),
                    balance_credit=balance.credit, balance_sms=balance.sms_left,
                    balance_until=balance.active_until.isoformat()
                    if balance.active_until else None,
                    credit_warning=warning, balance_error=None)
        if not sends:
            return False
        empty = ussd.cannot_send(balance, today)
        if empty and self.health.can_send:
            self.health = self.health.no_credit(empty, now, backoff=self._backoff())
            log.error("%s cannot send: %s; the other modems take its replies", self.name,
                      empty)
            store.hooks.add_alert("cannot_send", self.name,
                                  f"{self.name} cannot send: {empty}", at=to_iso(now))
            self._state(store, cannot_send=empty, cannot_send_at=to_iso(now))
            return True
        if not empty and not self.health.can_send and self.health.failures == 0:
            # Topped up: what stopped it was the balance, not failed sends.
            log.warning("%s sends again (topped up: %s)", self.name, neutralise(text))
            self.health = self.health.succeeded()
            self._state(store, cannot_send=None, cannot_send_at=None)
            return True
        return False


def _identity(status: ModemStatus) -> Identity:
    """What the status says the stick is; an answer not shaped like an IMSI (6 to 15
    digits) or an IMEI (14 to 17 digits) says nothing."""
    imsi = status.imsi if status.imsi and status.imsi.isdigit() and \
        6 <= len(status.imsi) <= 15 else None
    imei = status.imei if status.imei and status.imei.isdigit() and \
        14 <= len(status.imei) <= 17 else None
    return Identity(imsi, imei)


class Board:
    """What the workers tell each other about the pool's senders (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._senders: dict[str, Sender] = {}

    def publish(self, sender: Sender) -> None:
        with self._lock:
            self._senders[sender.name] = sender

    def forget(self, name: str) -> None:
        with self._lock:
            self._senders.pop(name, None)

    def senders(self) -> list[Sender]:
        with self._lock:
            return list(self._senders.values())
