"""``smsbridge emulator``: a GSM modem without hardware, to try smsbridge or demo it."""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType

import click

from smsbridge.cli import handle_errors, main
from smsbridge.emulator import Emulator, EmulatorSettings
from smsbridge.emulator.settings import pool_settings
from smsbridge.errors import EncodeError, PduError

CONTROL_HELP = """\
control lines on stdin:
  <sender> <text>      an SMS arrives, e.g.  +6281234567890 Ada pencurian di pasar
  /pdu <hex>           a raw PDU arrives (SMSC part first)
  /silent on|off       the modem stops / resumes answering
  /reboot              the modem restarts (settings lost)
  /vanish <seconds>    the port disappears and comes back
  /fail <count> [code] the next sends answer +CMS ERROR <code> (default 500)
  /busy <seconds>      the SIM answers "busy"
  /status              storage, network queue and sent count
with --modems N, "@2 " before a line sends it to modem 2 (without it: modem 1)"""


class _Terminated(Exception):
    """SIGTERM arrived: leave the control loop and stop the emulator cleanly."""


@main.command("emulator")
@click.option("--link", metavar="PATH", help="Symlink pointing at the pty, e.g. /tmp/gsm-modem.")
@click.option("--tcp", "tcp_port", type=click.IntRange(0, 65535), metavar="PORT",
              help="Also serve the modem on 127.0.0.1:PORT (socket://127.0.0.1:PORT).")
@click.option("--storage", type=click.IntRange(1, 1000), default=30, show_default=True,
              help="SIM storage slots.")
@click.option("--first-index", type=click.IntRange(0, 1), default=1, show_default=True,
              help="Index of the first storage slot (0 or 1, both exist in the field).")
@click.option("--send-delay", type=click.FloatRange(0), default=0.0, show_default=True,
              help="Seconds from the PDU's Ctrl-Z to +CMGS.")
@click.option("--latency", type=click.FloatRange(0), default=0.0, show_default=True,
              help="Seconds before each answer.")
@click.option("--delivery-gap", type=click.FloatRange(0), default=0.0, show_default=True,
              help="Minimum seconds between two incoming messages.")
@click.option("--baud", type=click.IntRange(0), default=0, show_default=True,
              help="Pace the line at this speed (0: no pacing).")
@click.option("--pin", metavar="PIN", help="The SIM asks for this PIN at start.")
@click.option("--modems", type=click.IntRange(1, 8), default=1, show_default=True,
              help="Run this many modems (a pool), each on its own pty (--link PATH gives "
                   "PATH1, PATH2 …) with a SIM of another network.")
@click.option("--stdin/--no-stdin", "use_stdin", default=True, show_default=True,
              help="Read control lines from stdin; end of stdin stops the emulator. "
                   "With --no-stdin it runs until SIGTERM or Ctrl-C.")
@handle_errors
def emulator_cmd(link: str | None, tcp_port: int | None, storage: int, first_index: int,
                 send_delay: float, latency: float, delivery_gap: float, baud: int,
                 pin: str | None, modems: int, use_stdin: bool) -> None:
    """Run an emulated GSM modem on a pty (and TCP) and print its port.

    It speaks AT commands in PDU mode like a USB modem with a SIM; point
    [modem] port at the printed path. Stop it with Ctrl-C, SIGTERM or end of stdin.

    \b
    Example:
        smsbridge emulator --link /tmp/gsm-modem --tcp 7000 --send-delay 2
        smsbridge emulator --link /tmp/gsm- --modems 3 --send-delay 3
    """
    settings = EmulatorSettings(storage_size=storage, first_index=first_index,
                                send_delay=send_delay, command_latency=latency,
                                delivery_gap=delivery_gap, baudrate=baud, pin=pin)
    if modems == 1:
        pool = [Emulator(settings, link=link, tcp_port=tcp_port)]
    else:
        pool = [Emulator(mine, link=f"{link}{i + 1}" if link else None,
                         tcp_port=tcp_port + i if tcp_port else tcp_port)
                for i, mine in enumerate(pool_settings(settings, modems))]
    _serve(pool, use_stdin)


def _serve(pool: list[Emulator], use_stdin: bool) -> None:
    stop = threading.Event()

    def terminate(signum: int, frame: FrameType | None) -> None:
        stop.set()
        raise _Terminated()

    previous = signal.signal(signal.SIGTERM, terminate)
    started: list[Emulator] = []
    try:
        for emulator in pool:
            emulator.start()
            started.append(emulator)
        for i, emulator in enumerate(pool, start=1):
            if len(pool) == 1:
                click.echo(f"port: {emulator.port}")
            else:
                click.echo(f"port {i}: {emulator.port} ({emulator.settings.operator})")
            if emulator.tcp_url:
                click.echo(f"tcp: {emulator.tcp_url}")
        if use_stdin:
            click.echo(CONTROL_HELP)
        sys.stdout.flush()
        if use_stdin:
            for line in sys.stdin:
                click.echo(control_pool(pool, line.strip()))
        else:
            stop.wait()
    except (_Terminated, KeyboardInterrupt):
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not cut stop() short
        for emulator in started:
            emulator.stop()
        signal.signal(signal.SIGTERM, previous)
    click.echo("emulator stopped")


def control_pool(pool: list[Emulator], line: str) -> str:
    """A control line for one modem of the pool ("@2 …"), or /status for all of them."""
    if line.startswith("@"):
        which, _, line = line[1:].partition(" ")
        if not which.isdigit() or not 1 <= int(which) <= len(pool):
            return f"no modem {which!r}; they are 1 to {len(pool)}"
        return control(pool[int(which) - 1], line.strip())
    if line == "/status" and len(pool) > 1:
        return "\n".join(f"{i}: {control(e, line)}" for i, e in enumerate(pool, start=1))
    return control(pool[0], line)


def control(emulator: Emulator, line: str) -> str:
    """Apply one control line; return what to tell the administrator."""
    if not line:
        return ""
    word, _, rest = line.partition(" ")
    rest = rest.strip()
    try:
        if not word.startswith("/"):
            if not rest:
                return "usage: <sender> <text>"
            parts = emulator.inject_text(word, rest)
            return f"queued {parts} part(s) from {word}"
        if word == "/pdu":
            emulator.inject_pdu(rest)
            return "queued 1 raw PDU"
        if word == "/silent" and rest in ("on", "off"):
            emulator.set_silent(rest == "on")
            return f"silent {rest}"
        if word == "/reboot":
            emulator.reboot()
            return "rebooted"
        if word == "/vanish":
            emulator.vanish(float(rest or "5"))
            return f"vanished for {float(rest or '5'):g} s"
        if word == "/fail":
            count, _, code = rest.partition(" ")
            emulator.fail_sends(int(count or "1"), int(code or "500"))
            return f"the next {int(count or '1')} send(s) fail"
        if word == "/busy":
            emulator.sim_busy(float(rest or "10"))
            return "SIM busy"
        if word == "/status":
            return (f"storage {emulator.storage_used}/{emulator.settings.storage_size}, "
                    f"network queue {emulator.network_queue}, sent {len(emulator.sent)}")
    except (EncodeError, PduError, ValueError) as exc:
        return f"refused: {exc}"
    return f"unknown control line {line!r}\n{CONTROL_HELP}"
