"""Reporters' numbers stay masked; citizens' text cannot drive an operator's terminal."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsbridge.privacy import MaskPolicy, csv_safe, mask_number, neutralise


def test_number_is_masked_as_the_issue_shows():
    assert mask_number("+6285712345611") == "+62 857 ••••• 11"
    assert mask_number("+6281234567110") == "+62 812 ••••• 10"
    assert mask_number("081234567110") == "0812 ••••• 10"


@pytest.mark.parametrize(("policy", "shown"), [
    (MaskPolicy(prefix=True, last_digits=1), "+62 857 ••••• 1"),
    (MaskPolicy(prefix=False, last_digits=2), "••••• 11"),
    (MaskPolicy(prefix=True, last_digits=0), "+62 857 •••••"),
    (MaskPolicy(prefix=False, last_digits=0), "•••••"),
])
def test_the_mask_can_be_made_to_show_less(policy, shown):
    assert mask_number("+6285712345611", policy) == shown


def test_the_mask_can_never_show_more_than_two_digits():
    with pytest.raises(ValueError):
        MaskPolicy(last_digits=3)


@pytest.mark.parametrize("service", ["TELKOMSEL", "3636", "123", ""])
def test_services_and_short_codes_are_shown_as_they_are(service):
    assert mask_number(service) == service


@settings(max_examples=300)
@given(st.from_regex(r"\+?[0-9]{6,15}", fullmatch=True))
def test_a_mask_shows_at_most_the_network_prefix_and_two_digits(number):
    masked = mask_number(number)
    digits = number.lstrip("+")
    head, dots, tail = masked.lstrip("+").partition("•••••")
    assert dots and "•" not in head + tail
    head, tail = head.replace(" ", ""), tail.strip()
    assert digits.startswith(head) and digits.endswith(tail)
    assert len(tail) <= 2
    # The network: +62 and the operator's three digits, 0 and three, or two of a
    # foreign number's; and always four digits or more hidden.
    assert len(head) <= (5 if digits.startswith("62") else 4 if digits[0] == "0" else 2)
    assert len(digits) - len(head) - len(tail) >= 4


def test_every_length_of_number_is_shown_with_the_same_five_dots():
    # Indonesian mobile numbers: 10 to 13 digits written nationally (0812 3456 78…).
    lengths = {len(mask_number("+62" + "8" * n)) for n in range(9, 13)}
    assert lengths == {len("+62 888 ••••• 88")}


TERMINAL_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@settings(max_examples=300)
@given(st.text())
def test_neutralised_text_has_no_control_character_left(text):
    assert not TERMINAL_CONTROLS.search(neutralise(text))
    assert "\n" not in neutralise(text)
    assert not TERMINAL_CONTROLS.search(neutralise(text, multiline=True))


@pytest.mark.parametrize(("attack", "shown"), [
    ("\x1b[2Jhapus layar", "␛[2Jhapus layar"),             # clear screen
    ("\x1b]0;judul\x07", "␛]0;judul␇"),                     # retitle the window
    ("laporan asli\rpalsu", "laporan asli␍palsu"),          # overwrite the line
    ("abc\x08\x08\x08xyz", "abc␈␈␈xyz"),                     # backspace over text
    ("\x9b31m", "<U+009B>31m"),                              # 8-bit CSI
    ("abc\u202edcba", "abc<U+202E>dcba"),                    # bidi override
])
def test_terminal_attacks_are_shown_not_executed(attack, shown):
    assert neutralise(attack) == shown


def test_multiline_keeps_lines_and_reads_crlf_as_a_line_end():
    assert neutralise("satu\r\ndua\tx", multiline=True) == "satu\ndua    x"
    assert neutralise("satu\r\ndua") == "satu⏎dua"


def test_ordinary_indonesian_text_and_emoji_pass_unchanged():
    text = "Ada judi di Jl. Merdeka No. 5, tiap malam jam 22.00 😡 — tolong!"
    assert neutralise(text) == text


@pytest.mark.parametrize("cell", ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\t=x", "=HYPERLINK(\"x\")"])
def test_csv_cell_that_a_spreadsheet_would_run_gets_a_quote(cell):
    assert csv_safe(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["+62 812 ••••• 10", "••••• 10", "+6281234567110", "laporan", "",
                                  "0812", "+62 812 ••••• 10 ~kpfmdaobhcje"])
def test_csv_numbers_and_plain_text_stay_as_they_are(cell):
    assert csv_safe(cell) == cell


def test_numbers_inside_free_text_are_masked_for_logs():
    from smsbridge.privacy import mask_numbers_in

    line = '+CLIP: "+6281234567110",145,,,,0'
    assert mask_numbers_in(line) == '+CLIP: "+62 812 ••••• 10",145,,,,0'
    assert mask_numbers_in("^RSSI:14") == "^RSSI:14"


@pytest.mark.parametrize("sender", [" 12345678", "12345678", "0812345678 "])
def test_a_sender_name_made_of_digits_is_masked_like_a_number(sender):
    masked = mask_number(sender)
    assert "•••••" in masked and sender.strip() not in masked


@pytest.mark.parametrize("invisible", ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff",
                                       "\U000e0041", "\u200e"])
def test_invisible_characters_are_made_visible(invisible):
    shown = neutralise(f"judi{invisible}pasar")
    assert invisible not in shown and "<U+" in shown


@pytest.mark.parametrize("url, shown", [
    ("https://user:secret@h.example/x?token=abc", "https://user:****@h.example/x?token=****"),
    ("https://tok3n@h.example/x", "https://****@h.example/x"),
    ("http://127.0.0.1:8080/hook", "http://127.0.0.1:8080/hook"),
])
def test_hook_url_credentials_are_masked(url, shown):
    from smsbridge.privacy import mask_url

    assert mask_url(url) == shown
