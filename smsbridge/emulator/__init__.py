"""The device side: a GSM modem on a pseudo-terminal (and TCP), for tests, demos and benches.

``settings`` says how the modem behaves, ``core`` is the modem (AT commands, SIM
storage, the network; no I/O), ``device`` serves it on a pty and TCP from one thread.
Nothing in smsbridge's product path imports this package.

Example::

    with Emulator(EmulatorSettings(storage_size=5), link="/tmp/gsm") as emu:
        emu.inject_text("+6281234567890", "Ada pencurian di pasar")
"""

from smsbridge.emulator.device import Emulator
from smsbridge.emulator.settings import EmulatorSettings
from smsbridge.emulator.state import SentSms

__all__ = ["Emulator", "EmulatorSettings", "SentSms"]
