"""The emulated modem's 27.007 commands: identity, SIM lock, radio, network registration.

A mixin of :class:`~smsbridge.emulator.core.ModemCore`; each handler gets the operator
(``?``, ``=?``, ``=`` or none) and the arguments, answers through the sink and raises
CommandError for a +CME ERROR.
"""

from __future__ import annotations

from smsbridge.emulator.state import AlreadyAnswered, ModemState, _block
from smsbridge.errors import CommandError
from smsbridge.sms import gsm7


class GeneralCommands(ModemState):
    """27.007 general, SIM and network commands (and the few a Huawei stick accepts)."""

    def _accept(self, op: str, args: list[str]) -> None:
        pass

    def _cmee(self, op: str, args: list[str]) -> None:
        if op == "?":
            self._info(f"+CMEE: {self.session.cmee}")
        elif op == "=?":
            self._info("+CMEE: (0-2)")
        else:
            self.session.cmee = self._int("+CMEE", args[0] if args else "0", 0, 2, "CME")

    def _cscs(self, op: str, args: list[str]) -> None:
        # 27.007 §5.5. Only what text-mode and phonebook strings would be in: PDU mode
        # (all we serve) ignores it, but Gammu's init asks for it and gives up on an error.
        charsets = ("GSM", "IRA", "UCS2")
        if op == "?":
            self._info(f'+CSCS: "{self.session.cscs}"')
        elif op == "=?":
            self._info("+CSCS: (" + ",".join(f'"{c}"' for c in charsets) + ")")
        elif args and args[0].strip('"').upper() in charsets:
            self.session.cscs = args[0].strip('"').upper()
        else:
            raise CommandError("+CSCS", "CME", 4)

    def _cpin(self, op: str, args: list[str]) -> None:
        if self.clock() < self.sim.busy_until:
            raise CommandError("+CPIN", "CME", 14)
        if op == "?":
            self._info(f"+CPIN: {self.sim.state}")
            return
        if op != "=" or not args:
            raise CommandError("+CPIN", "CME", 3)
        state = self.sim.state
        if state == "SIM PUK":
            raise CommandError("+CPIN", "CME", 12)
        if state == "READY":
            raise CommandError("+CPIN", "CME", 3)
        if args[0] != self.sim.pin:
            # Three wrong PINs lock the SIM (31.102): why a driver must never retry one.
            self.sim.wrong_tries += 1
            raise CommandError("+CPIN", "CME", 16)
        self.sim.unlocked = True

    def _cusd(self, op: str, args: list[str]) -> None:
        # 27.007 §7.15: AT+CUSD=<n>[,<str>[,<dcs>]]. OK at once; the network's answer
        # follows a moment later as "+CUSD: <m>,<str>,<dcs>", as on a Huawei stick.
        if op != "=" or len(args) < 2:
            return  # AT+CUSD=0/1/2 alone: presentation on/off, cancel
        self._require_sim("+CUSD", "CME")
        code = _ussd_string(args[1].strip('"'))
        if code == self.settings.balance_code:
            text = self.balance_text()
        else:
            text = "Maaf, layanan tidak tersedia."
        if self.settings.manufacturer.lower() == "huawei":
            # Huawei sticks give USSD strings as GSM 7-bit packed octets in hex.
            text = gsm7.pack(gsm7.encode(text) or []).hex().upper()
        elif self.session.cscs == "UCS2":
            # 27.007 §5.5: strings in the UCS2 character set are hex of 16-bit units.
            text = text.encode("utf-16-be").hex().upper()
        self.later.append((self.clock() + 0.2, _block(f'+CUSD: 0,"{text}",15')))

    def balance_text(self) -> str:
        """A balance answer the way an Indonesian operator words one."""
        day = "/".join(reversed(self.active_until.split("-")))
        pulsa = f"{self.credit:,}".replace(",", ".")
        return (f"Sisa pulsa Rp{pulsa}. Aktif s.d. {day}. Paket SMS: {max(self.sms_left, 0)} "
                "SMS. Info *888*1#")

    def _csq(self, op: str, args: list[str]) -> None:
        rssi = self.settings.rssi if self.radio_on else 99
        self._info(f"+CSQ: {rssi},99")

    def _creg(self, op: str, args: list[str]) -> None:
        if op == "?":
            self._info(self._registration("+CREG", self.session.creg_n))
        elif op == "=?":
            self._info("+CREG: (0-2)")
        else:
            self.session.creg_n = self._int("+CREG", args[0] if args else "0", 0, 2, "CME")

    def _cgreg(self, op: str, args: list[str]) -> None:
        # 27.007 §10.1.20, the packet-domain twin of +CREG; Gammu's GetNetworkInfo sets
        # it and gives up when it is unknown. The stick attaches where it registers.
        if op == "?":
            self._info(self._registration("+CGREG", self.session.cgreg_n))
        elif op == "=?":
            self._info("+CGREG: (0-2)")
        else:
            self.session.cgreg_n = self._int("+CGREG", args[0] if args else "0", 0, 2, "CME")

    def _cgatt(self, op: str, args: list[str]) -> None:
        # 27.007 §10.1.9: attached to the packet domain whenever registered.
        if op == "?":
            self._info(f"+CGATT: {int(self.radio_on and self.settings.registration in (1, 5))}")
        elif op == "=?":
            self._info("+CGATT: (0-1)")

    def _registration(self, name: str, n: int) -> str:
        stat = self.settings.registration if self.radio_on else 0
        if n == 2 and stat in (1, 5):
            # 27.007 §7.2: with <n>=2 the answer names the cell, <lac> and <ci> in hex.
            return f'{name}: {n},{stat},"{self.settings.lac}","{self.settings.cell}"'
        return f"{name}: {n},{stat}"

    def _cops(self, op: str, args: list[str]) -> None:
        numeric = self.settings.imsi[:5]  # MCC+MNC: the home network's code
        if op == "?":
            if self.radio_on and self.settings.registration in (1, 5):
                fmt = self.session.cops_format
                name = numeric if fmt == 2 else self.settings.operator
                self._info(f'+COPS: 0,{fmt},"{name}",2')
            else:
                self._info("+COPS: 0")
        elif op == "=?":
            self._info(f'+COPS: (2,"{self.settings.operator}","{self.settings.operator}",'
                       f'"{numeric}",2),,(0-4),(0-2)')
        elif args and args[0] == "3":
            # 27.007 §7.3 <mode>=3: only sets the <format> of later answers (Gammu asks
            # for the numeric code, then the name).
            self.session.cops_format = self._int("+COPS", args[1] if len(args) > 1 else "0",
                                                 0, 2, "CME")

    def _cgmi(self, op: str, args: list[str]) -> None:
        self._info(self.settings.manufacturer)

    def _cgmm(self, op: str, args: list[str]) -> None:
        self._info(self.settings.model)

    def _cgmr(self, op: str, args: list[str]) -> None:
        self._info(self.revision)

    def _cgsn(self, op: str, args: list[str]) -> None:
        self._info(self.settings.imei)

    def _cimi(self, op: str, args: list[str]) -> None:
        self._require_sim("+CIMI", "CME")
        self._info(self.settings.imsi)

    def _cfun(self, op: str, args: list[str]) -> None:
        if op == "?":
            self._info(f"+CFUN: {1 if self.radio_on else 0}")
        elif op == "=?":
            self._info("+CFUN: (0,1,4),(0-1)")
        elif op == "=":
            fun = self._int("+CFUN", args[0] if args else "", 0, 4, "CME")
            reset = len(args) > 1 and args[1] == "1"
            if reset:
                # 27.007 §8.2: reset before setting; the OK goes out first, then the boot.
                self.sink.reply(b"\r\nOK\r\n")
                self.boot()
                raise AlreadyAnswered()
            self.radio_on = fun == 1


def _ussd_string(value: str) -> str:
    """A USSD code as typed (``*888#``), or packed GSM 7-bit in hex as libgammu and
    Huawei's tools send it (``2A1C0E3702``)."""
    if value and len(value) % 2 == 0 and all(c in "0123456789abcdefABCDEF" for c in value):
        raw = bytes.fromhex(value)
        return gsm7.decode(gsm7.unpack(raw, len(raw) * 8 // 7)).rstrip("@\r")
    return value
