"""The emulated modem's 27.005 commands: SMS in PDU mode, its storage, sending.

A mixin of :class:`~smsbridge.emulator.core.ModemCore`, like ``general_commands.py``.
AT+CMGS and AT+CMGW take their PDU after a "> " prompt: :meth:`SmsCommands._prompt`
checks the command line, :meth:`SmsCommands._finish_body` the PDU that follows.
"""

from __future__ import annotations

from smsbridge.emulator.state import AlreadyAnswered, ModemState, Prompt, SentSms, Slot, tpdu_length
from smsbridge.errors import CommandError, PduError
from smsbridge.sms import pdu as pdu_codec

SMS_PRICE = 150  # rupiah: one SMS off the package


class SmsCommands(ModemState):
    """27.005 SMS commands: message format, storage, listing, reading, deleting, sending."""

    def _cmgf(self, op: str, args: list[str]) -> None:
        if op == "?":
            self._info(f"+CMGF: {self.session.cmgf}")
        elif op == "=?":
            self._info("+CMGF: (0)")
        elif args and args[0] == "0":
            self.session.cmgf = 0
        else:
            # Text mode is not emulated: it loses encodings, concatenation and zones.
            raise CommandError("+CMGF", "CMS", 303)

    def _csms(self, op: str, args: list[str]) -> None:
        if op == "?":
            self._info("+CSMS: 0,1,1,1")
        elif op == "=?":
            self._info("+CSMS: (0,1)")
        else:
            self._info("+CSMS: 1,1,1")

    def _csca(self, op: str, args: list[str]) -> None:
        if op == "?":
            kind = 145 if self.smsc.startswith("+") else 129
            self._info(f'+CSCA: "{self.smsc}",{kind}')
        elif op == "=" and args:
            self.smsc = args[0]

    def _cmms(self, op: str, args: list[str]) -> None:
        # 27.005 §3.5.6 "more messages to send": keeps the radio link between sends.
        if op == "?":
            self._info("+CMMS: 0")
        elif op == "=?":
            self._info("+CMMS: (0-2)")
        else:
            self._int("+CMMS", args[0] if args else "0", 0, 2)

    def _cpms(self, op: str, args: list[str]) -> None:
        count = self.settings.cpms_memories
        if op == "=?":
            names = ",".join(f'"{m}"' for m in self.settings.memories)
            self._info("+CPMS: " + ",".join([f"({names})"] * count))
            return
        self._require_sim("+CPMS", "CMS")
        if op == "=":
            offered = self.settings.memories
            if not args or len(args) > 3 or any(a.upper() not in offered for a in args):
                raise CommandError("+CPMS", "CMS", 302)
            mems = [a.upper() for a in args]
            while len(mems) < 3:
                mems.append(self.session.cpms[len(mems)])
            self.session.cpms = (mems[0], mems[1], mems[2])
        sim_used = self._reported_used()
        fields = []
        for memory in self.session.cpms[:count]:
            store = self._store(memory)
            used = sim_used if store is self.storage else len(store)
            usage = f"{used},{len(self._indexes(memory))}"
            fields.append(f'"{memory}",{usage}' if op == "?" else usage)
        self._info("+CPMS: " + ",".join(fields))

    def _reported_used(self) -> int:
        """The SIM's used count as +CPMS reports it."""
        # Quirk (usage_lag): some sticks count a delete only from the second query on.
        if self.settings.usage_lag and self._lagged_used is not None:
            used, self._lagged_used = self._lagged_used, None
            return used
        self._lagged_used = None
        return len(self.storage)

    def _cnmi(self, op: str, args: list[str]) -> None:
        if op == "?":
            self._info("+CNMI: " + ",".join(map(str, self.session.cnmi)))
        elif op == "=?":
            self._info("+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)")
        else:
            limits = (2, 3, 3, 2, 1)
            if len(args) > len(limits):
                raise CommandError("+CNMI", "CMS", 302)
            values = [self._int("+CNMI", a or "0", 0, hi)
                      for a, hi in zip(args, limits, strict=False)]
            values += list(self.session.cnmi[len(values):])
            self.session.cnmi = (values[0], values[1], values[2], values[3], values[4])

    def _cmgl(self, op: str, args: list[str]) -> None:
        if op == "=?":
            self._info("+CMGL: (0-4)")
            return
        self._require_sim("+CMGL", "CMS")
        # 27.005 §3.4.2: in PDU mode <stat> is 0-4 and defaults to 0 (REC UNREAD).
        stat = self._int("+CMGL", args[0] if args else "0", 0, 4)
        if self.settings.cmgl_broken:
            raise AlreadyAnswered()  # Huawei quirk: the listing never answers
        store = self._store(self.session.cpms[0])
        entries = [(i, s) for i, s in sorted(store.items()) if stat in (4, s.stat)]
        for count, (index, slot) in enumerate(entries, start=1):
            self._info(f"+CMGL: {index},{slot.stat},,{tpdu_length(slot.pdu)}",
                       slot.pdu.hex().upper())
            if slot.stat == 0:
                slot.stat = 1
            if self.listing_hook == count:
                self.listing_hook = None
                if self.network.queue:
                    self._deliver_one()

    def _cmgr(self, op: str, args: list[str]) -> None:
        if op == "=?":
            return
        self._require_sim("+CMGR", "CMS")
        index = self._int("+CMGR", args[0] if args else "", 0, 65535)
        slot = self._store(self.session.cpms[0]).get(index)
        if slot is None:
            raise CommandError("+CMGR", "CMS", 321)
        self._info(f"+CMGR: {slot.stat},,{tpdu_length(slot.pdu)}", slot.pdu.hex().upper())
        if slot.stat == 0:
            slot.stat = 1

    def _cmgd(self, op: str, args: list[str]) -> None:
        memory = self.session.cpms[0]
        store = self._store(memory)
        if op == "=?":
            used = ",".join(map(str, sorted(store)))
            self._info(f"+CMGD: ({used}),(0-4)")
            return
        self._require_sim("+CMGD", "CMS")
        index = self._int("+CMGD", args[0] if args else "", 0, 65535)
        flag = self._int("+CMGD", args[1], 0, 4) if len(args) > 1 and args[1] else 0
        if flag == 0:
            if index not in self._indexes(memory):
                raise CommandError("+CMGD", "CMS", 321)
            self._delete(memory, index)
            return
        # 27.005 §3.5.4 <delflag>: 1 read, 2 read+sent, 3 read+sent+unsent, 4 all.
        doomed = {1: {1}, 2: {1, 3}, 3: {1, 2, 3}, 4: {0, 1, 2, 3}}[flag]
        for i in [i for i, s in store.items() if s.stat in doomed]:
            self._delete(memory, i)

    def _cmgs(self, op: str, args: list[str]) -> None:
        pass  # only "=?" reaches here; "=" goes through _prompt

    def _cmgw(self, op: str, args: list[str]) -> None:
        if not self.settings.store_send:
            raise CommandError("+CMGW")

    def _cmss(self, op: str, args: list[str]) -> None:
        # 27.005 §3.5.2: send the SMS-SUBMIT at <index> of <mem2>.
        if not self.settings.store_send:
            raise CommandError("+CMSS")
        if op != "=":
            return
        self._require_sim("+CMSS", "CMS")
        index = self._int("+CMSS", args[0] if args else "", 0, 65535)
        slot = self._store(self.session.cpms[1]).get(index)
        if slot is None:
            raise CommandError("+CMSS", "CMS", 321)
        reference = self._transmit("+CMSS", slot.pdu)
        if self.settings.cmss_marks_sent:
            slot.stat = 3
        self._reference_line("+CMSS", reference)

    def _prompt(self, name: str, args: list[str]) -> Prompt:
        if name == "+CMGW" and not self.settings.store_send:
            raise CommandError(name)
        self._require_sim(name, "CMS")
        length = self._int(name, args[0] if args else "", 1, 255)
        stat = self._int(name, args[1], 2, 3) if name == "+CMGW" and len(args) > 1 else 2
        if name == "+CMGW" and self._free_index(self.session.cpms[1]) is None:
            raise CommandError(name, "CMS", 322)
        return Prompt(name, length, stat)

    def _finish_body(self, prompt: Prompt, body: bytes) -> None:
        try:
            pdu = bytes.fromhex(body.decode("ascii").strip())
        except (UnicodeDecodeError, ValueError):
            raise CommandError(prompt.command, "CMS", 304) from None
        if tpdu_length(pdu) != prompt.length:
            raise CommandError(prompt.command, "CMS", 304)
        if prompt.command == "+CMGW":
            memory = self.session.cpms[1]
            index = self._free_index(memory)
            if index is None:
                raise CommandError(prompt.command, "CMS", 322)
            self._store(memory)[index] = Slot(prompt.stat, pdu)
            self._info(f"+CMGW: {index}")
            self.sink.reply(b"\r\nOK\r\n")
            return
        reference = self._transmit(prompt.command, pdu)
        self._reference_line("+CMGS", reference)
        self.sink.reply(b"\r\nOK\r\n")

    def _reference_line(self, command: str, reference: int) -> None:
        """``+CMGS: <mr>`` / ``+CMSS: <mr>`` before the OK, unless told to answer oddly:
        modems in the field leave the line out, or garble it, on a send that went out, or
        answer a bare ERROR although it did."""
        if self.odd_references <= 0:
            self._info(f"{command}: {reference}")
            return
        self.odd_references -= 1
        if self.odd_reference_kind == "garbage":
            self._info("\xff#~%\xa7&@ ZZ")
        elif self.odd_reference_kind == "error":
            raise CommandError(command)
        elif self.odd_reference_kind == "silent":
            raise AlreadyAnswered()  # it went out; every line of its answer is lost

    def _transmit(self, command: str, pdu: bytes) -> int:
        """Hand an SMS-SUBMIT (SMSC part first) to the network; its TP-MR."""
        if self.fail_sends > 0:
            self.fail_sends -= 1
            raise CommandError(command, "CMS", self.fail_code)
        if self.settings.refuse_sends or (self.sms_left <= 0 and self.credit < SMS_PRICE):
            # 27.005 §3.2.5 38 "network out of order": what a barred or empty SIM gets.
            raise CommandError(command, "CMS", 38)
        try:
            info = pdu_codec.decode_submit(pdu, with_smsc=True)
        except PduError:
            raise CommandError(command, "CMS", 304) from None
        if self.sms_left > 0:
            self.sms_left -= 1
        else:
            self.credit -= SMS_PRICE
        reference = self._next_mr
        self._next_mr = (self._next_mr + 1) % 256
        self.sent.append(SentSms(info.recipient, info.text, pdu, reference, info.concat,
                                 self.clock()))
        if info.status_report_requested and self.settings.status_reports:
            report = pdu_codec.encode_status_report(reference, info.recipient, smsc=self.smsc)
            self.inject(report, report=True)
        return reference
