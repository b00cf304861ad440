"""``smsbridge demo``: the real daemon against the built-in modem emulator.

Everything is real but the radio: the emulator serves a pseudo-terminal, the daemon
opens it with the AT backend, writes a real SQLite database, and the citizens'
phones are the emulator's network side. Used by the README's quick start.

It lives under ``cli/`` because it drives the whole daemon, which only the CLI may
import; ``demo_cmd.py`` is the command that presents its result.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from smsbridge.config import load as config_mod
from smsbridge.daemon import Daemon
from smsbridge.emulator import Emulator, EmulatorSettings
from smsbridge.emulator.settings import pool_settings
from smsbridge.errors import DemoFailed
from smsbridge.i18n import _, ngettext
from smsbridge.sdnotify import Notifier

# A realistic mix for a city police complaint line: Indonesian reports, a national
# and international number, a long report in several parts, emoji, an operator's
# notice from an alphanumeric sender, a follow-up, and a citizen asking with CEK.
REPORTS: list[tuple[str, str]] = [
    ("+6281234567001", "Ada balap liar dan knalpot brong di Jl. Sudirman depan Indomaret, "
                       "tiap malam sekitar jam 11. Sangat bising, warga tidak bisa tidur."),
    ("081398765432", "Lapor pak, ada judi sabung ayam di belakang Pasar Kliwon, RT 03 RW 05. "
                     "Ramai sore ini."),
    ("+6285711122233", "Selamat malam Bapak/Ibu petugas. Saya mau melaporkan ada sekelompok "
                       "pemuda mabuk-mabukan di pos ronda Gang Melati 2 dekat masjid Al-Ikhlas. "
                       "Mereka sudah di sana sejak jam 8 malam, teriak-teriak dan memutar musik "
                       "keras, beberapa membawa botol minuman keras oplosan. Warga takut keluar "
                       "rumah. Mohon segera ditindak. Terima kasih."),
    ("+6282233344455", "Ada perkelahian di depan Kafe Senja Jl. Diponegoro 😡🚓 tolong cepat "
                       "datang!"),
    ("TELKOMSEL", "Sisa pulsa Anda Rp2.500. Isi ulang sekarang dan nikmati bonus kuota 1GB."),
    ("081398765432", "Tambahan: pelakunya sekitar 10 orang, pakai motor hitam tanpa plat."),
]


# The field loop: the desk sends the first report to an officer, who checks it on the
# spot and answers with their verification word; the reporter hears it was confirmed.
OFFICER = ("budi", "+6281211110042", "mawarku")
OFFICER_ANSWER = "{word} {ticket} {code} BENAR ada 6 motor knalpot brong, sudah ditegur"


@dataclass
class DemoResult:
    directory: Path
    config_path: Path
    cases: list[dict]
    replies: list[tuple[str, str]]  # (recipient, text) as the citizens' phones got them
    # The modem each reply went out from, beside ``replies`` (one name per reply).
    via: list[str] = dataclasses.field(default_factory=list)


def write_demo_config(directory: Path, ports: list[str]) -> Path:
    """One [modem] for one port; a pool of [[modems]] (each role both) for several."""
    path = directory / "config.toml"
    if len(ports) == 1:
        modems = f"[modem]\nport = {ports[0]!r}\ncommand_timeout = 5.0\n\n"
    else:
        modems = "[modem]\ncommand_timeout = 5.0\n\n" + "".join(
            f"[[modems]]\nname = \"modem{i}\"\nport = {port!r}\n\n"
            for i, port in enumerate(ports, start=1))
    path.write_text(
        "# Written by `smsbridge demo`: the demo's database and emulator.\n" + modems
        + "[database]\npath = \"cases.db\"\n\n"
        "[daemon]\npoll_seconds = 2.0\n\n"
        f"[[officers]]\nname = {OFFICER[0]!r}\nnumber = {OFFICER[1]!r}\nword = {OFFICER[2]!r}\n",
        encoding="utf-8")
    path.chmod(0o600)  # it holds a verification word
    return path


def run_demo(directory: Path, *, say: Callable[[str], None] = print,
             timeout: float = 60.0, modems: int = 1) -> DemoResult:
    """The demo on one emulated modem, or on a pool of ``modems`` (the reports spread
    over them, each modem with a SIM of another network)."""
    directory.mkdir(parents=True, exist_ok=True)
    settings = EmulatorSettings(storage_size=30, send_delay=0.2)
    links = ([directory / "modem"] if modems == 1 else
             [directory / f"modem{i}" for i in range(1, modems + 1)])
    with contextlib.ExitStack() as stack:
        pool = [stack.enter_context(Emulator(mine, link=str(link)))
                for mine, link in zip(pool_settings(settings, modems) if modems > 1
                                      else [settings], links, strict=True)]
        emu = _Pool(pool)
        config_path = write_demo_config(directory, [str(link) for link in links])
        cfg = config_mod.load(config_path)
        daemon = Daemon(cfg, notifier=Notifier({}))
        failure: list[BaseException] = []

        def run() -> None:
            try:
                daemon.run()
            except BaseException as exc:  # reported below, in the caller's thread
                failure.append(exc)

        def wait(predicate: Callable[[_Pool], bool], failed: str) -> None:
            """``failed``: what to say when the daemon did not do it within {seconds}."""
            if not emu.wait_for(lambda e: bool(failure) or predicate(e), timeout):
                raise DemoFailed(failed.format(seconds=f"{timeout:g}"))
            if failure:
                raise DemoFailed(_("the daemon stopped: {error}").format(
                    error=failure[0])) from failure[0]

        thread = threading.Thread(target=run, name="demo-daemon", daemon=True)
        thread.start()
        try:
            say(ngettext("emulated modem on {port}; daemon started",
                         "emulated modems on {port}; daemon started", modems).format(
                             port=emu.port))
            for i, (sender, text) in enumerate(REPORTS):
                emu.inject_text(sender, text, modem=i)
            if modems > 1:
                say(_("{count} SMS sent to the complaint line by citizens' phones, spread "
                      "over {modems} modems").format(count=len(REPORTS), modems=modems))
            else:
                say(_("{count} SMS sent to the complaint line by citizens' phones").format(
                    count=len(REPORTS)))
            # Five reports make four cases (one is a follow-up), one notice makes none:
            # four acknowledgements go out.
            wait(lambda e: len(_replies(e)) >= 4,
                 _("the daemon did not answer the reports within {seconds} s"))
            ack = next(text for number, text in _replies(emu) if number == "+6281234567001")
            ticket = next(word.rstrip(".") for word in ack.split() if "-" in word
                          and word[:1].isalpha() and word.rstrip(".")[-1:].isdigit())
            emu.inject_text("081234567001", f"CEK {ticket}")
            say(_("a citizen asks about their report: {sms}").format(sms=f"CEK {ticket}"))
            wait(lambda e: len(_replies(e)) >= 5,
                 _("the daemon did not answer the CEK query within {seconds} s"))
            code = _dispatch(cfg, ticket)
            say(_("the desk sends {ticket} to officer {officer}: {command}").format(
                ticket=ticket, officer=OFFICER[0],
                command=f"smsbridge cases dispatch {ticket} --to {OFFICER[0]}"))
            wait(lambda e: any(n == OFFICER[1] for n, _text in _replies(e)),
                 _("the daemon did not send the case to the officer within {seconds} s"))
            answer = OFFICER_ANSWER.format(word=OFFICER[2], ticket=ticket, code=code)
            emu.inject_text(OFFICER[1], answer)
            say(_("the officer checks on the spot and answers: {sms}").format(sms=answer))
            wait(lambda e: len(_replies(e)) >= 8,
                 _("the daemon did not confirm the answer and tell the reporter within "
                   "{seconds} s"))
        finally:
            daemon.stop()
            thread.join(timeout=30)
        replies = _replies(emu)  # in the order they went out, from any modem
        sent_by = {reply: name for name, e in zip(emu.names, pool, strict=True)
                   for reply in _replies(e)}
        via = [sent_by[reply] for reply in replies]
    from smsbridge.models import CaseQuery
    from smsbridge.store import Store

    store = Store.from_config(cfg, create=False)
    try:
        cases = [_case_row(c) for c in reversed(store.cases.query(CaseQuery(limit=None)))]
    finally:
        store.close()
    return DemoResult(directory, config_path, cases, replies, via if modems > 1 else [])


def _dispatch(cfg: config_mod.Config, ticket: str) -> str:
    """What `smsbridge cases dispatch TICKET --to budi` does; the dispatch's code."""
    from smsbridge.fieldwork.answers import Roster
    from smsbridge.fieldwork.texts import FieldTexts
    from smsbridge.store import Store

    officers, team = Roster.from_config(cfg).resolve(OFFICER[0])
    texts = FieldTexts.from_config(cfg)
    with Store.from_config(cfg, create=False) as store:
        _, [record] = store.field.dispatch(ticket, officers, team=team, operator="demo",
                                           compose=lambda case, code: texts.for_case(
                                               case, code=code))
    return record.code or ""


class _Pool:
    """The demo's emulated modems seen as one line: SMS in through one of them (the
    first unless told), what all of them sent."""

    def __init__(self, modems: list[Emulator]) -> None:
        self.modems = modems
        self.names = [f"modem{i}" for i in range(1, len(modems) + 1)]

    @property
    def port(self) -> str:
        return ", ".join(e.port for e in self.modems)

    @property
    def sent(self) -> list:
        return sorted((sms for e in self.modems for sms in e.sent), key=lambda sms: sms.at)

    def inject_text(self, sender: str, text: str, *, modem: int = 0) -> None:
        self.modems[modem % len(self.modems)].inject_text(sender, text)

    def wait_for(self, predicate: Callable[[_Pool], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not predicate(self):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True


def _replies(emu: Emulator | _Pool) -> list[tuple[str, str]]:
    """Whole replies as phones show them: parts of one long SMS joined."""
    whole: list[tuple[str, str]] = []
    pending: dict[tuple[str, int], dict[int, str]] = {}
    for sms in emu.sent:
        if sms.concat is None or sms.concat.total == 1:
            whole.append((sms.recipient, sms.text))
            continue
        key = (sms.recipient, sms.concat.reference)
        parts = pending.setdefault(key, {})
        parts[sms.concat.sequence] = sms.text
        if len(parts) == sms.concat.total:
            whole.append((sms.recipient, "".join(parts[i] for i in sorted(parts))))
    return whole


def _case_row(case) -> dict:
    from smsbridge.privacy import mask_number

    return {"ticket": case.ticket, "status": case.status,
            "reporter": mask_number(case.reporter), "text": case.text,
            "flags": ",".join(case.flags)}
