"""The device side: a GSM modem on a pseudo-terminal (and TCP), for tests, demos and benches.

``settings`` says how the modem behaves. ``core`` is the modem, without I/O: it parses
command lines and hands each command to ``general_commands`` (27.007) or
``sms_commands`` (27.005), both over ``state`` (session, SIM, storage, the network).
``server`` serves it on a pty and TCP from one thread; ``device`` is the Emulator, the
control API that tests, the CLI and the benchmarks use.
Nothing in smsbridge's product path imports this package.

Example::

    with Emulator(EmulatorSettings(storage_size=5), link="/tmp/gsm") as emu:
        emu.inject_text("+6281234567890", "Ada pencurian di pasar")
"""

from smsbridge.emulator.device import Emulator
from smsbridge.emulator.settings import EmulatorSettings
from smsbridge.emulator.state import SentSms

__all__ = ["Emulator", "EmulatorSettings", "SentSms"]
