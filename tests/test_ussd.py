"""USSD: +CUSD answers in the shapes modems give them, what an Indonesian operator's
balance answer says, and asking the built-in emulator over a real pty on both backends."""

from __future__ import annotations

from datetime import date

import pytest

from smsbridge.config.sections import ModemConfig
from smsbridge.emulator import Emulator, EmulatorSettings
from smsbridge.modem.factory import make_modem
from smsbridge.modem.ussd import (
    Balance,
    CreditLimits,
    cannot_send,
    credit_warnings,
    parse_balance,
    parse_cusd,
)
from smsbridge.sms import gsm7

TEXT = "Sisa pulsa Rp12.500. Aktif s.d. 31/12/2026. Paket SMS: 250 SMS"


def test_a_cusd_line_is_read_as_text_ucs2_hex_or_huawei_packed_hex():
    packed = gsm7.pack(gsm7.encode(TEXT)).hex().upper()
    ucs2 = TEXT.encode("utf-16-be").hex().upper()
    for line in (f'+CUSD: 0,"{TEXT}",15', f'+CUSD: 0,"{packed}",15',
                 f'+CUSD: 2,"{ucs2}",72'):
        answer = parse_cusd(line)
        assert answer.text == TEXT, line
    assert parse_cusd("+CUSD: 4").status == 4
    assert parse_cusd('+CUSD: 1,"1. Cek pulsa 2. Paket",15').status == 1


@pytest.mark.parametrize("text, credit, sms, until", [
    (TEXT, 12_500, 250, date(2026, 12, 31)),
    ("Pulsa Anda Rp0. Masa aktif 05-01-2027", 0, None, date(2027, 1, 5)),
    ("Sisa saldo Rp 1.250,00; berlaku hingga 2/1/27; bonus SMS 0", 1_250, 0, date(2027, 1, 2)),
    ("Maaf, layanan tidak tersedia.", None, None, None),
])
def test_a_balance_answer_gives_credit_sms_left_and_active_period(text, credit, sms, until):
    assert parse_balance(text) == Balance(text, credit, sms, until)


def test_thresholds_warn_and_an_empty_or_expired_card_cannot_send():
    today = date(2026, 12, 25)
    limits = CreditLimits(min_credit=5_000, min_sms=50, warn_days=7)
    assert credit_warnings(parse_balance(TEXT), limits, today) == [
        "the card expires on 2026-12-31 (6 day(s) left)"]
    low = Balance("", credit=2_000, sms_left=10)
    assert credit_warnings(low, limits, today) == [
        "credit Rp2.000 is under Rp5.000", "10 SMS left in the package, under 50"]
    assert cannot_send(Balance("", credit=0, sms_left=0), today) == \
        "no credit and no SMS package left"
    assert cannot_send(Balance("", credit=0, sms_left=40), today) is None
    assert "expired" in cannot_send(Balance("", active_until=date(2026, 12, 1)), today)


@pytest.mark.parametrize("backend", ["at", pytest.param("gammu", marks=pytest.mark.slow)])
def test_the_emulator_answers_the_balance_code_like_an_operator_and_runs_out(tmp_path,
                                                                            backend):
    with Emulator(EmulatorSettings(credit=25_000, sms_package=500),
                  link=str(tmp_path / "modem")) as emu:
        modem = make_modem(ModemConfig(port=emu.port, backend=backend, gammu_connection="at",
                                       command_timeout=3.0))
        modem.open()
        try:
            full = parse_balance(modem.ussd("*888#", timeout=15))
            emu.run_out_of_credit()
            empty = parse_balance(modem.ussd("*888#", timeout=15))
        finally:
            modem.close()
    assert (full.credit, full.sms_left, full.active_until) == (25_000, 500, date(2027, 6, 30))
    assert (empty.credit, empty.sms_left) == (0, 0)


def test_modem_balance_asks_every_stick_and_says_which_cannot_send(tmp_path, cli):
    config = tmp_path / "pool.toml"
    config.write_text(
        f'[database]\npath = "{tmp_path / "cases.db"}"\n'
        '[modem]\ncommand_timeout = 2.0\nsim_busy_wait = 1.0\n'
        f'[[modems]]\nname = "tsel"\nport = "{tmp_path / "a"}"\nbalance_ussd = "*888#"\n'
        f'[[modems]]\nname = "xl"\nport = "{tmp_path / "b"}"\nbalance_ussd = "*123#"\n',
        encoding="utf-8")
    with Emulator(EmulatorSettings(credit=25_000), link=str(tmp_path / "a")), \
            Emulator(EmulatorSettings(balance_code="*123#"), link=str(tmp_path / "b")) as xl:
        fine = cli("modem", "balance", "--all", config=config)
        xl.run_out_of_credit()
        empty = cli("modem", "balance", "--all", "--json", config=config, ok=False)
    assert "tsel (*888#): Rp25.000, 500 SMS in the package, active until 2027-06-30" \
        in fine.output
    assert "the operator said: Sisa pulsa Rp25.000" in fine.output
    assert empty.exit_code == 1
    tsel, xl_said = __import__("json").loads(empty.output)
    assert tsel["cannot_send"] is None and tsel["warnings"] == []
    assert xl_said["credit"] == 0 and xl_said["cannot_send"] == \
        "no credit and no SMS package left"
    assert xl_said["warnings"] == ["credit Rp0 is under Rp5.000",
                                   "0 SMS left in the package, under 20"]


def test_a_stick_out_of_credit_tells_the_hook_once_with_no_case_and_no_number(
        tmp_path, db_path):
    """The balance check of a stick (over the emulator's pty) that ran out: the hook
    hears "credit" and "cannot send" once each, about the stick, not about a case."""
    import json
    import shlex

    from smsbridge.clock import SystemClock
    from smsbridge.config.sections import Config
    from smsbridge.hooks import HookRunner
    from smsbridge.pool.stick import Stick
    from smsbridge.store import Store

    out = tmp_path / "hook.jsonl"
    cfg = Config().replace(hook={"command": f"cat >> {shlex.quote(str(out))}; echo >> "
                                            f"{shlex.quote(str(out))}"})
    with Emulator(EmulatorSettings(credit=25_000, sms_package=500),
                  link=str(tmp_path / "modem")) as emu, Store.open(db_path) as store:
        modem_cfg = ModemConfig(name="sim1", port=emu.port, command_timeout=3.0,
                                balance_ussd="*888#")
        modem = make_modem(modem_cfg)
        modem.open()
        try:
            stick = Stick(modem_cfg, SystemClock())
            stick.check_balance(store, modem, sends=True)  # all is well: no alert
            assert store.hooks.due_alerts(at="9999") == []
            emu.run_out_of_credit()
            assert stick.check_balance(store, modem, sends=True)  # stops sending
            stick.check_balance(store, modem, sends=True)  # the same news: no second alert
        finally:
            modem.close()
        runner = HookRunner(cfg, store.path)
        assert runner.run_due(store) == 2
        assert runner.run_due(store) == 0  # delivered: done
    alerts = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
    assert [(a["kind"], a["modem"]) for a in alerts] == [("credit", "sim1"),
                                                         ("cannot_send", "sim1")]
    assert alerts[0]["alert"].startswith("sim1 credit: credit Rp0 is under Rp5.000")
    assert "ticket" not in alerts[0] and "reporter" not in alerts[0]
