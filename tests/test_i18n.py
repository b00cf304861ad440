"""The desk's language: chosen per operator, the line's default otherwise, and every
marked string translated."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from smsbridge import i18n

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import catalog  # noqa: E402


@pytest.mark.parametrize(("environ", "configured", "chosen"), [
    ({}, None, "id"),                                   # the line's default
    ({}, "en", "en"),                                   # the config's choice
    ({"LANG": "C.UTF-8"}, "en", "en"),                  # C names no language
    ({"LANG": "id_ID.UTF-8"}, "en", "id"),              # the operator's locale wins
    ({"LANG": "en_US.UTF-8", "LC_ALL": "id_ID"}, None, "id"),  # LC_ALL before LANG
    ({"LANGUAGE": "fr:en", "LANG": "id_ID"}, None, "en"),       # LANGUAGE lists several
    ({"LANG": "fr_FR.UTF-8"}, "en", "en"),              # a language we lack is skipped
    ({"SMSBRIDGE_LANG": "en", "LC_ALL": "id_ID"}, "id", "en"),  # ours before all
    ({"LANG": "in_ID"}, None, "id"),                    # the old code for Indonesian
])
def test_the_operators_choice_then_the_lines(environ, configured, chosen):
    assert i18n.choose(configured, environ) == chosen


def test_the_config_named_on_the_command_line_decides(tmp_path: Path):
    from smsbridge.cli import _chosen_language

    config = tmp_path / "config.toml"
    config.write_text('[desk]\nlanguage = "en"\n', encoding="utf-8")
    assert _chosen_language(["--config", str(config), "cases", "list"], {}) == "en"
    assert _chosen_language([f"--config={config}"], {}) == "en"
    assert _chosen_language(["--config", str(tmp_path / "missing.toml")], {}) == "id"
    config.write_text("[desk\nnot toml", encoding="utf-8")
    assert _chosen_language(["--config", str(config)], {}) == "id"


def test_installing_a_language_translates_ours_and_clicks():
    try:
        i18n.install("id")
        import click

        assert i18n._("Show this message and exit.") != "Show this message and exit."
        with pytest.raises(click.UsageError) as raised:
            click.Choice(["a"]).convert("b", None, None)
        assert "bukan" in str(raised.value.message)
    finally:
        i18n.install("en")
    assert i18n._("Show this message and exit.") == "Show this message and exit."


@pytest.mark.parametrize("po", catalog.languages(), ids=lambda p: p.parent.parent.name)
def test_every_marked_string_is_translated_with_its_placeholders(po: Path):
    assert catalog.problems(po) == []


@pytest.mark.slow
def test_the_built_wheel_carries_the_compiled_catalogues(tmp_path: Path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                    str(tmp_path), str(ROOT)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("smsbridge-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "smsbridge/locale/id/LC_MESSAGES/smsbridge.mo" in names


def test_statuses_typed_in_indonesian_are_the_codes_and_errors_list_the_desks_words():
    from smsbridge.errors import InvalidInput
    from smsbridge.tickets import STATUS_WORDS, STATUSES, check_status, status_name

    assert [check_status(w) for w in ("palsu", "Baru", "DICEK", "selesai")] == [
        "fake", "new", "checking", "resolved"]
    try:
        i18n.install("id")
        # Every name the desk reads in Indonesian can be typed back.
        assert all(STATUS_WORDS[status_name(s)] == s for s in STATUSES)
        with pytest.raises(InvalidInput, match=r"tidak dikenal.*baru, dicek"):
            check_status("palsuu")
    finally:
        i18n.install("en")
    with pytest.raises(InvalidInput, match=r"unknown status.*new, checking"):
        check_status("palsuu")
