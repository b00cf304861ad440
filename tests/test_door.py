"""The daemon is the only door to a reporter's number: through a real daemon process,
with the real CLI run as another user, who cannot read the keys."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from rigs import DaemonProcess, as_user, query, said, wait_until

REPORTER = "+6285712345611"
WALK_IN = "+6281377788899"
OPERATOR_UID = 61002

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(os.geteuid() != 0,
                                 reason="needs a second user; only root can become one")]


def operator_runs(where: Path, config: Path, *args: str) -> tuple[int, str]:
    """``smsbridge ARGS`` as another user (uid 61002, in the database's group), in a
    forked child: the exit code and what it printed."""
    from click.testing import CliRunner

    from smsbridge.cli import main

    out = where / "out.json"

    def work() -> None:
        result = CliRunner().invoke(main, ["--config", str(config), *args],
                                    env={"SMSBRIDGE_OPERATOR": "", "COLUMNS": "100"})
        import traceback

        failed = ("".join(traceback.format_exception(result.exception))
                  if result.exception is not None
                  and not isinstance(result.exception, SystemExit) else "")
        out.write_text(json.dumps([result.exit_code, result.output + failed]))

    pid, read = as_user(OPERATOR_UID, 0, [0], work)
    outcome = said(read)
    os.waitpid(pid, 0)
    assert outcome == "ok", outcome
    code, output = json.loads(out.read_text())
    out.unlink()
    return code, output


@pytest.fixture
def state():
    """A directory the daemon (root) and an operator of its group can both reach."""
    where = Path(tempfile.mkdtemp(prefix="smsbridge-door-"))
    where.chmod(0o770)
    try:
        yield where
    finally:
        shutil.rmtree(where)


def _preload() -> None:
    """What the child's command imports, imported by the parent (the child cannot read
    the source tree of every machine it runs on)."""
    import smsbridge.cli.cases_cmd
    import smsbridge.cli.desk
    import smsbridge.cli.filing
    import smsbridge.cli.output
    import smsbridge.cli.reveal
    import smsbridge.cli.when
    import smsbridge.sealing.door
    import smsbridge.triage.rules
    import smsbridge.triage.urgent  # noqa: F401


def test_an_operator_gets_numbers_only_from_the_daemon_which_records_who_asked(
        state: Path, emulator):
    _preload()
    daemon = DaemonProcess(state, emulator.port)
    daemon.config.chmod(0o644)
    try:
        daemon.start()
        daemon.wait_running()
        emulator.inject_text(REPORTER, "ada judi di pasar gede")
        wait_until(lambda: query(daemon.db, "SELECT count(*) FROM cases") == [(1,)], 30,
                   "the report's case")
        wait_until(lambda: (state / "smsbridge.sock").exists(), 10, "the door")
        key = state / "smsbridge.key"
        assert oct(key.stat().st_mode & 0o777) == "0o600" and key.stat().st_uid == 0

        # Without --reveal nothing needs the daemon: the mask, read from the file.
        code, out = operator_runs(state, daemon.config, "cases", "list", "--json")
        assert code == 0 and json.loads(out)[0]["reporter"] == "+62 857 ••••• 11"

        code, out = operator_runs(state, daemon.config, "cases", "list", "--json",
                                  "--reveal", "--as", "budi")
        assert code == 0, out
        assert json.loads(out)[0]["reporter"] == REPORTER

        code, out = operator_runs(state, daemon.config, "cases", "show", "LP-000001",
                                  "--reveal", "--as", "budi")
        assert code == 0 and REPORTER in out, out
        # One look, one record: the case, its messages and its replies in one line.
        shows = query(daemon.db, "SELECT detail FROM audit_log WHERE action = 'reveal'"
                                 " AND detail LIKE '%cases show%'")
        assert len(shows) == 1, shows
        assert "numbers of 1 reporters, 1 senders, 1 recipients; 1 case: LP-000001" in (
            shows[0][0])

        code, out = operator_runs(state, daemon.config, "cases", "list", "--json",
                                  "--reporter", "085712345611")
        assert code == 0, out
        assert [c["ticket"] for c in json.loads(out)] == ["LP-000001"]

        code, out = operator_runs(state, daemon.config, "messages", "--all", "--sender",
                                  "085712345611")
        assert code == 0 and "ada judi di pasar gede" in out, out

        # An export with numbers is a reveal of every case in it.
        code, out = operator_runs(state, daemon.config, "cases", "list", "--csv",
                                  "--reveal", "--as", "budi")
        assert code == 0 and REPORTER in out.splitlines()[1], out

        code, out = operator_runs(state, daemon.config, "cases", "add", "--reporter",
                                  "081377788899", "--channel", "phone",
                                  "ada tawuran di stasiun balapan")
        assert code == 0, out
        assert query(daemon.db, "SELECT reporter_mask FROM cases WHERE id = 2") == [
            ("+62 813 ••••• 99",)]

        # The daemon's own audit names the caller as the kernel gave it, beside --as.
        rows = query(daemon.db, "SELECT login, operator, action, detail FROM audit_log"
                                " WHERE login LIKE '%via the daemon%' ORDER BY id")
        assert {r[2] for r in rows} == {"reveal", "lookup", "seal"}
        assert all(r[0].startswith(f"uid {OPERATOR_UID} (via the daemon") for r in rows)
        assert ("budi", "reveal") in {(r[1], r[2]) for r in rows}
        assert all(REPORTER not in r[3] and "12345611" not in r[3] for r in rows)
        assert daemon.terminate() == 0
    finally:
        daemon.stop()

    # The daemon stopped: what needs it says so in one line; the rest still works.
    code, out = operator_runs(state, daemon.config, "cases", "list", "--reveal")
    assert code == 1 and out.count("\n") == 1 and "the daemon is not running" in out
    code, out = operator_runs(state, daemon.config, "cases", "list")
    assert code == 0 and "LP-000002" in out and WALK_IN not in out
    text = "\n".join(repr(r) for t in ("cases", "messages", "outbox")
                     for r in query(daemon.db, f"SELECT * FROM {t}"))
    assert REPORTER not in text and "85712345611" not in text and "81377788899" not in text
