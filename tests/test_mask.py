"""One mask for a reporter's number, the same wherever it is shown: the CLI's tables and
JSON, exports, hook payloads and the journal; ``[privacy]`` makes it show less."""

from __future__ import annotations

import csv
import io
import json

import pytest
from conftest import write_config
from rigs import DaemonProcess, run_smsbridge, wait_until

from smsbridge import privacy

NUMBER = "+6285712345611"
DOTS = "\u2022" * 5
SHOWN = f"+62 857 {DOTS} 11"
# What no mask may show: any run of the number's hidden digits.
HIDDEN = "1234561"


@pytest.fixture(autouse=True)
def _keep_the_process_mask(monkeypatch):
    # The CLI sets the process's mask from [privacy]; the next test starts from ours.
    monkeypatch.setattr(privacy, "_policy", privacy._policy)


def test_the_cli_shows_the_same_mask_in_every_table_export_and_json(cli, tmp_path):
    cli("cases", "add", "--reporter", "085712345611", "--channel", "phone", "Ada judi di pasar")
    cli("cases", "reply", "LP-000001", "Petugas menuju lokasi.")
    outputs = {
        "list": cli("cases", "list").output,
        "list --json": json.loads(cli("cases", "list", "--json").output)[0]["reporter"],
        "show": cli("cases", "show", "LP-000001").output,
        "export csv": next(csv.DictReader(io.StringIO(cli("export").output)))["reporter"],
        "export json": json.loads(cli("export", "--format", "json").output)[0]["reporter"],
        "outbox": cli("outbox", "list", "--json").output,
    }
    cli("cases", "list", "--reporter", "085712345611")
    outputs["audit"] = cli("audit").output
    for name, text in outputs.items():
        assert HIDDEN not in text, name
    assert outputs["list --json"] == outputs["export csv"] == outputs["export json"] == SHOWN
    for name in ("show", "outbox", "audit"):
        assert SHOWN in outputs[name] or json.dumps(SHOWN) in outputs[name], name


def test_a_masked_number_as_shown_is_refused_as_a_lookup(cli):
    result = cli("cases", "list", "--reporter", SHOWN, ok=False)
    assert result.exit_code == 1 and "masked number" in result.output


def test_privacy_section_makes_every_mask_show_less(cli, tmp_path, db_path):
    (tmp_path / "less").mkdir()
    config = write_config(tmp_path / "less", db_path,
                          "[privacy]\nmask_prefix = false\nmask_last_digits = 1\n")
    cli("cases", "add", "--reporter", NUMBER, "Ada judi di pasar", config=config)
    listed = json.loads(cli("cases", "list", "--json", config=config).output)
    exported = next(csv.DictReader(io.StringIO(cli("export", config=config).output)))
    assert listed[0]["reporter"] == exported["reporter"] == f"{DOTS} 1"


def test_privacy_section_refuses_a_mask_that_shows_more(cli, tmp_path, db_path):
    (tmp_path / "more").mkdir()
    config = write_config(tmp_path / "more", db_path, "[privacy]\nmask_last_digits = 4\n")
    result = cli("cases", "list", ok=False, config=config)
    assert result.exit_code == 2 and "mask_last_digits" in result.output


@pytest.mark.slow
def test_the_daemon_masks_the_same_way_in_the_journal_and_the_hook(tmp_path, emulator):
    hook_out = tmp_path / "hook.json"
    d = DaemonProcess(tmp_path, emulator.port,
                      f'[hook]\ncommand = "cat > {hook_out}"\n'
                      "[privacy]\nmask_prefix = false\nmask_last_digits = 1\n")
    try:
        d.start()
        emulator.inject_text(NUMBER, "Ada judi di pasar")
        wait_until(lambda: len(emulator.sent) >= 1, 30, "the reply")
        wait_until(lambda: hook_out.exists() and hook_out.read_text(), 30, "the hook")
        assert d.terminate() == 0
    finally:
        d.stop()
    shown = f"{DOTS} 1"
    assert json.loads(hook_out.read_text())["reporter"] == shown
    journal = d.log_text()
    assert f"new case LP-000001 from {shown}" in journal
    # Nothing of the number but its last digit: not its network either ([privacy]).
    assert not any(form in journal for form in ("12345611", "62857", "62 857", "0857"))
    listed = run_smsbridge("--config", str(d.config), "cases", "list", "--json", timeout=60)
    assert json.loads(listed.stdout)[0]["reporter"] == shown
