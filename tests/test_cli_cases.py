"""``smsbridge cases …`` through click's runner and as real processes on real files."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from rigs import run_smsbridge

from smsbridge.cli import COMMAND_MODULES, main, register_all
from smsbridge.models import CaseQuery
from smsbridge.store import Store

NUMBER = "+6281234567110"
MASKED = "+62 812 ••••• 10"


def add(cli, text: str = "Ada judi di pasar malam", number: str = "081234567110") -> str:
    return cli("cases", "add", "--reporter", number, text).output.strip()


def all_commands(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from all_commands(command, (*prefix, name))


def test_command_table_names_the_module_of_every_command():
    register_all()
    defined = {name: command.callback.__module__.rsplit(".", 1)[1]
               for name, command in main.commands.items()}
    assert defined == COMMAND_MODULES


def test_running_a_command_loads_only_its_own_module():
    probe = ("import sys\nfrom smsbridge.cli import main\n"
             "try:\n    main(['cases', '--help'])\nexcept SystemExit:\n    pass\n"
             "print(sorted(m for m in sys.modules if m.startswith('smsbridge.cli.')))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=60).stdout.splitlines()[-1]
    assert loaded == ("['smsbridge.cli.case_options', 'smsbridge.cli.cases_cmd', "
                      "'smsbridge.cli.field_cmd']")


def test_every_command_help_shows_an_example():
    register_all()
    commands = list(all_commands(main))
    assert ("cases", "list") in [path for path, _ in commands]
    missing = []
    for path, _ in commands:
        result = CliRunner().invoke(main, [*path, "--help"])
        assert result.exit_code == 0, result.output
        if "Example" not in result.output:
            missing.append(" ".join(path))
    assert missing == []


def test_add_prints_a_ticket_and_normalises_the_number(cli, db_path: Path):
    assert add(cli) == "LP-000001"
    with Store.open(db_path) as store:
        case = store.cases.get("1")
    assert (case.reporter, case.channel, case.status) == (NUMBER, "phone", "new")


def test_add_records_the_operator_from_as_then_env(cli, db_path: Path):
    cli("cases", "add", "--reporter", NUMBER, "--channel", "walk-in", "--as", "budi", "datang")
    add(cli)
    with Store.open(db_path) as store:
        assert store.cases.detail("1").events[0].operator == "budi"
        assert store.cases.detail("2").events[0].operator == "sari"
        assert store.cases.get("1").channel == "walk-in"


def test_list_is_newest_first_masked_and_fits_80_columns(cli, monkeypatch):
    add(cli, "laporan pertama")
    add(cli, "laporan kedua " + "sangat panjang " * 10)
    result = cli("cases", "list")
    lines = result.stdout.splitlines()
    assert result.stderr.startswith("2 cases; times in ")
    assert lines[0].startswith("TICKET")
    assert [line.split()[0] for line in lines[1:]] == ["LP-000002", "LP-000001"]
    assert all(len(line) <= 80 for line in lines)
    assert NUMBER not in "".join(lines)
    monkeypatch.setenv("COLUMNS", "120")  # room for the number, masked
    wide = cli("cases", "list").stdout.splitlines()
    assert MASKED in wide[1] and NUMBER not in "".join(wide)


def test_list_filters_by_status_search_and_reporter(cli):
    add(cli, "judi di pasar")
    add(cli, "jalan rusak", number="085700001111")
    add(cli, "judi sabung ayam")
    cli("cases", "update", "LP-000001", "--status", "checking")
    out = cli("cases", "list", "--status", "new,checking", "--search", "judi").output
    assert "LP-000001" in out and "LP-000003" in out and "LP-000002" not in out
    out = cli("cases", "list", "--reporter", "085700001111").output
    assert "LP-000002" in out and "LP-000001" not in out
    assert "LP-000001" not in cli("cases", "list", "--status", "new").output


def test_list_json_is_one_array_with_the_documented_fields(cli):
    add(cli)
    data = json.loads(cli("cases", "list", "--json").output)
    assert isinstance(data, list) and len(data) == 1
    case = data[0]
    for key in ("ticket", "status", "reporter", "text", "received_at", "updated_at",
                "assigned_to", "messages"):
        assert key in case
    assert case["reporter"] == MASKED
    assert case["received_at"].endswith("+00:00")


def test_list_csv_is_masked_neutralised_and_formula_safe(cli):
    add(cli, "=HYPERLINK(\"http://x\")\x1b[2J")
    rows = list(csv.DictReader(io.StringIO(cli("cases", "list", "--csv").output)))
    assert rows[0]["reporter"] == MASKED
    assert rows[0]["text"] == "'=HYPERLINK(\"http://x\")␛[2J"


def test_text_from_sms_cannot_drive_the_terminal(cli):
    add(cli, "laporan\x1b]0;judul\x07\rpalsu\x08\x9b")
    for args in (("cases", "list"), ("cases", "show", "1")):
        out = cli(*args).output
        assert not any(c in out for c in "\x1b\x07\r\x08\x9b")


def test_reveal_shows_the_number_and_records_who_saw_it(cli, db_path: Path):
    add(cli)
    out = cli("cases", "show", "lp1", "--reveal", "--as", "budi").output
    assert NUMBER in out
    with Store.open(db_path) as store:
        event = store.cases.detail("1").events[-1]
    assert (event.action, event.operator) == ("reveal", "budi")
    assert NUMBER not in cli("cases", "show", "lp1").output


def test_show_has_report_history_and_replies(cli):
    add(cli, "Ada judi di pasar")
    cli("cases", "update", "1", "--status", "checking", "--note", "dicek Budi", "--assign", "budi")
    cli("cases", "reply", "LP-000001", "Petugas", "menuju", "lokasi")
    out = cli("cases", "show", "LP-000001").output
    for expected in ("Ada judi di pasar", "status new -> checking: dicek Budi",
                     "assigned to budi", "Petugas menuju lokasi", "queued", MASKED):
        assert expected in out
    data = json.loads(cli("cases", "show", "1", "--json").output)
    assert data["outbox"][0]["state"] == "queued"
    assert [e["action"] for e in data["history"]] == ["created", "status", "assign", "reply"]


def test_reply_says_what_it_costs_before_it_is_queued(cli):
    add(cli, "Ada judi di pasar")
    long = "Mohon kirim lokasi. " * 10
    assert cli("cases", "reply", "1", "--dry-run", long).output == "199 characters: 2 SMS\n"
    refused = cli("cases", "reply", "1", long, ok=False).output
    assert "this reply is 199 characters: 2 SMS; add --yes" in refused
    assert json.loads(cli("cases", "show", "1", "--json").output)["outbox"] == []
    assert "(outbox #1, 199 characters: 2 SMS)" in cli("cases", "reply", "1", long,
                                                       "--yes").output
    out = cli("cases", "reply", "1", "Petugas menuju lokasi 🙏").output
    assert out.startswith("LP-000001: reply queued (outbox #2, 23 characters, letters "
                          "outside the GSM alphabet: 70 a part: 1 SMS)")


def test_update_refusal_names_next_statuses_and_changes_nothing(cli, db_path: Path):
    add(cli)
    result = cli("cases", "update", "1", "--status", "resolved", "--assign", "budi", ok=False)
    assert result.exit_code == 1
    assert result.output.strip() == ("Error: case LP-000001 is new; it cannot become resolved "
                                     "(allowed next: checking, fake, duplicate)")
    with Store.open(db_path) as store:
        assert store.cases.get("1").assigned_to is None


def test_duplicate_of_names_the_other_ticket(cli):
    add(cli)
    add(cli)
    assert cli("cases", "update", "2", "--duplicate-of", "lp-1").output.strip() == \
        "LP-000002: duplicate"
    assert "duplicate (of LP-000001)" in cli("cases", "show", "2").output


@pytest.mark.parametrize(("args", "message"), [
    (("cases", "show", "LP-000099"), "no case with ticket 'LP-000099'"),
    (("cases", "update", "1", "--status", "done"), "unknown status 'done'"),
    (("cases", "list", "--since", "minggu-lalu"), "--since 'minggu-lalu' is not a date"),
    (("cases", "list", "--status", "opened"), "unknown status 'opened'"),
    (("cases", "reply", "1", " "), "the reply is empty"),
    (("cases", "show", "XY-1"), "is not a ticket of this line"),
])
def test_bad_input_is_one_line_and_a_nonzero_exit(cli, args, message):
    add(cli)
    result = cli(*args, ok=False)
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_reading_a_path_with_no_database_creates_nothing(cli, db_path: Path):
    result = cli("cases", "list", ok=False)
    assert result.exit_code == 1 and "no database yet" in result.output
    assert not db_path.exists()


def test_missing_directory_is_reported_even_when_adding(tmp_path: Path):
    config = tmp_path / "c.toml"
    config.write_text(f'[database]\npath = "{tmp_path}/gone/cases.db"\n')
    result = CliRunner().invoke(main, ["--config", str(config), "cases", "add", "--reporter",
                                       NUMBER, "x"])
    assert result.exit_code == 1 and "does not exist" in result.output


def test_corrupt_database_is_one_clear_line(cli, db_path: Path):
    db_path.write_bytes(b"\x00garbage" * 512)
    result = cli("cases", "list", ok=False)
    assert result.exit_code == 1
    assert "not an SQLite database or corrupt" in result.output


# --- as real processes ----------------------------------------------------------


def run(cli_env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return run_smsbridge(*args, env=cli_env, timeout=60)


def test_commands_work_as_processes(cli_env: dict[str, str]):
    added = run(cli_env, "cases", "add", "--reporter", "081234567110", "Ada judi di pasar")
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "LP-000001"
    assert run(cli_env, "cases", "update", "lp1", "--status", "checking").returncode == 0
    assert run(cli_env, "cases", "reply", "1", "Terima kasih").returncode == 0
    listed = run(cli_env, "cases", "list", "--json")
    assert json.loads(listed.stdout)[0]["status"] == "checking"
    shown = run(cli_env, "cases", "show", "LP-000001")
    assert "Terima kasih" in shown.stdout and MASKED in shown.stdout


def test_error_as_a_process_is_one_line_without_traceback(cli_env: dict[str, str]):
    result = run(cli_env, "cases", "show", "LP-000001")
    assert result.returncode == 1
    assert result.stderr.strip().startswith("Error: ") and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


WRITER = """
import sys
from smsbridge.models import NewCase
from smsbridge.store import Store
with Store.open(sys.argv[1], busy_timeout=60) as store:
    for i in range(int(sys.argv[2])):
        store.cases.create(NewCase("+628123456{:04d}".format(i), sys.argv[3] + str(i)),
                          operator=sys.argv[3])
"""


def test_two_processes_writing_at_once_never_fail_and_tickets_stay_unique(db_path: Path,
                                                                           cli_env):
    Store.open(db_path).close()
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(db_path), "200", name],
                                stderr=subprocess.PIPE, text=True) for name in ("a", "b")]
    # Operators' commands run meanwhile, as processes too.
    for _ in range(3):
        result = run(cli_env, "cases", "add", "--reporter", NUMBER, "lewat telepon")
        assert result.returncode == 0, result.stderr
    for writer in writers:
        _, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err
        assert "locked" not in err
    with Store.open(db_path) as store:
        cases = store.cases.query(CaseQuery(limit=None))
    tickets = [c.ticket for c in cases]
    assert len(cases) == 403 and len(set(tickets)) == 403
    assert sorted(c.id for c in cases) == list(range(1, 404))


def test_new_database_file_is_owner_and_group_only(cli, db_path: Path):
    add(cli)
    assert os.stat(db_path).st_mode & 0o007 == 0


def test_every_command_in_the_operators_guide_exists_with_its_options():
    import shlex

    from smsbridge.cli import register_all

    # Commands register as their modules load: load them all, whatever ran before.
    register_all()
    docs = Path(__file__).resolve().parent.parent / "docs"
    # The guide in Bahasa Indonesia and the English one beside it, each checked.
    # A pipe's every command is checked; a bare "-" is stdin, not an option.
    lines = [part for name in ("operators.md", "operators.en.md")
             for line in (docs / name).read_text(encoding="utf-8").splitlines()
             if line.startswith("smsbridge ")
             for part in line.split("  #")[0].split(" > ")[0].split(" | ")]
    assert len(lines) > 20
    for line in lines:
        words = shlex.split(line)[1:]
        command: click.Command = main
        while isinstance(command, click.Group) and words and words[0] in command.commands:
            command = command.commands[words.pop(0)]
        assert not isinstance(command, click.Group), line
        known = {opt for param in command.params for opt in param.opts}
        used = {w for w in words if w.startswith("-") and w != "-"}
        assert used <= known, f"{line}: unknown {used - known}"
