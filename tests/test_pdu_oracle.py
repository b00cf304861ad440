"""Differential tests: python-gammu (libgammu) as an independent PDU codec.

Both directions: what gammu encodes we decode to the same text, sender, time and part
information; what we encode gammu decodes to the same text and number.

Known gammu quirks these tests work around (gammu 1.45):
- EncodePDU writes DateTime's wall-clock fields and always zone 00, ignoring tzinfo.
- EncodePDU takes TP-MTI from the dict's "Type", not from its Layout argument.
- DecodePDU of GSM-7 text with extension characters returns Length in septets and a
  "Text" with garbage after a NUL: the text is cut at the first NUL.
- DecodePDU of UCS2 text doubles every "~" and then cuts the result to the original
  length in UTF-16 units ("a~b" -> "a~~", possibly inside a surrogate pair); that view
  is compared with ours after the same transformation.
- EncodePDU writes a one-letter name ("P") as the number "0"; real alphanumeric
  senders have at least two characters, and so do the generated ones.
- EncodePDU writes a name made only of digits and the dial characters p/P/w/W
  ("P0") as a number; generated names hold at least one other letter.
- EncodePDU writes "~" in UCS2 text as U+0001 or worse (its internal escape
  character), so texts that need UCS2 go to gammu without "~" in that direction.
- EncodePDU reads a number starting "00" as international; generated short codes
  start with 1-9, as real ones do.
- EncodeSMS with Unicode=False transliterates characters outside GSM-7 ("ç" -> "c"),
  so it is asked for Unicode exactly when the text does not fit GSM-7.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smsbridge.sms import gsm7, pdu

gammu = pytest.importorskip("gammu")
# Thousands of generated messages through libgammu: about a minute, the full suite's tier.
pytestmark = pytest.mark.slow

ORACLE = settings(
    max_examples=3400,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                           HealthCheck.data_too_large],
)
MAX_PARTS = 5

GSM_BASIC = "".join(c for c in gsm7.DEFAULT_ALPHABET if c != "\x1b")
GSM_EXTENDED = GSM_BASIC + "".join(gsm7.EXTENSION.values())
INDONESIAN_REPORTS = (
    "saya mau lapor ada pencurian motor di Jl. Sudirman no 12 tadi malam jam 23.00 tolong "
    "segera ditindak pak polisi terima kasih rumah tetangga dibobol maling kecelakaan lalu "
    "lintas di perempatan Cempaka Putih korban luka-luka 2 orang penipuan online transfer Rp "
    "1.500.000 ke rekening BCA atas nama Budi"
)
INDONESIAN = INDONESIAN_REPORTS.split()
EMOJI = "😀😂🙏👮🚓🔥❤️👍🏽🇮🇩" + "abc "
OTHER_SCRIPTS = st.characters(
    min_codepoint=0x20, max_codepoint=0x1FAFF,
    blacklist_categories=("Cs", "Cc", "Co", "Cn"),
)

def long_texts(piece: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Texts of 1 to 5 parts: a generated piece repeated, plus a generated tail.

    Repeating keeps generation cheap (it dominates the run time for 700-character
    texts) while part boundaries still fall on every kind of character.
    """
    return st.builds(lambda head, times, tail: head * times + tail,
                     piece, st.integers(1, 12), piece)


texts = st.one_of(
    long_texts(st.text(alphabet=GSM_BASIC, max_size=70)),
    long_texts(st.text(alphabet=GSM_EXTENDED, max_size=50)),
    long_texts(st.lists(st.sampled_from(INDONESIAN), max_size=12).map(" ".join)),
    long_texts(st.text(alphabet=EMOJI, max_size=20)),
    long_texts(st.text(alphabet=OTHER_SCRIPTS, max_size=30)),
    long_texts(st.text(alphabet=GSM_EXTENDED + "éêçšžłЖЯ你好🙂", max_size=30)),
).filter(lambda t: pdu.parts_needed(t) <= MAX_PARTS)

international = st.builds(lambda cc, rest: f"+{cc}{rest}", st.sampled_from(["62", "1", "44", "61"]),
                          st.text("0123456789", min_size=7, max_size=12))
national = st.one_of(
    st.text("0123456789", min_size=8, max_size=11).map(lambda d: "08" + d),
    # Short codes (see the module docstring on a leading "00").
    st.builds(str.__add__, st.sampled_from("123456789"),
              st.text("0123456789", min_size=2, max_size=4)),
)
alphanumeric = st.builds(
    lambda head, tail: (head + tail).strip() or head,
    st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 -",
            min_size=1, max_size=10),
).filter(lambda name: len(name) >= 2 and any(c.isalpha() and c not in "pPwW" for c in name))
numbers = st.one_of(international, national)
senders = st.one_of(international, national, alphanumeric)
naive_times = st.datetimes(datetime(2000, 1, 1), datetime(2089, 12, 31, 23, 59, 59)).map(
    lambda t: t.replace(microsecond=0))
zones = st.integers(-48, 56).map(lambda q: timezone(timedelta(minutes=15 * q)))
aware_times = st.builds(lambda t, z: t.replace(tzinfo=z), naive_times, zones)


def gammu_deliver_pdus(sender: str, text: str, when: datetime) -> list[tuple[bytes, dict]]:
    """gammu.EncodeSMS + EncodePDU: the parts as a modem would list them."""
    parts = gammu.EncodeSMS({
        "Class": -1,
        "Unicode": not pdu.fits_gsm7(text),
        "Entries": [{"ID": "ConcatenatedTextLong", "Buffer": text}],
    })
    out = []
    for part in parts:
        part.update(Number=sender, Type="Deliver", DateTime=when,
                    SMSC={"Location": 0, "Number": "+6281100000"})
        out.append((gammu.EncodePDU(part, "Deliver"), part))
    return out


def gammu_text(decoded: dict) -> str:
    return decoded["Text"].split("\x00", 1)[0]


def as_gammu_shows(text: str, coding: str) -> str:
    """Our text as gammu's DecodePDU would show it (see the module docstring)."""
    if coding.startswith("Unicode") and "~" in text:
        units = len(text.encode("utf-16-be"))
        doubled = text.replace("~", "~~").encode("utf-16-be")[:units]
        return doubled.decode("utf-16-be", errors="replace")
    return text


def gammu_concat(udh: dict) -> tuple[int, int, int] | None:
    if udh["Type"] == "NoUDH":
        return None
    reference = udh["ID8bit"] if udh["ID8bit"] >= 0 else udh["ID16bit"]
    return reference, udh["AllParts"], udh["PartNumber"]


@ORACLE
@given(sender=senders, text=texts, when=naive_times)
def test_we_decode_what_gammu_encodes(sender, text, when):
    if not pdu.fits_gsm7(text):
        text = text.replace("~", "")
    pdus = gammu_deliver_pdus(sender, text, when)
    decoded = [pdu.decode(raw) for raw, _ in pdus]
    for msg, (_, part) in zip(decoded, pdus, strict=True):
        assert msg.sender == sender
        assert msg.is_alphanumeric == (not sender.lstrip("+").isdigit())
        assert msg.smsc == "+6281100000"
        # gammu writes the wall-clock fields with zone 00 (see the module docstring).
        assert msg.timestamp == when.replace(tzinfo=UTC)
        assert msg.text == part["Text"]
        concat = msg.concat and (msg.concat.reference, msg.concat.total, msg.concat.sequence)
        assert concat == gammu_concat(part["UDH"])
    assert "".join(m.text for m in decoded) == text


@ORACLE
@given(number=numbers, text=texts, reference=st.integers(0, 0xFFFF),
       report=st.booleans())
def test_gammu_decodes_what_we_encode_for_sending(number, text, reference, report):
    parts = pdu.encode_submit(number, text, reference=reference, status_report=report)
    assert len(parts) == pdu.parts_needed(text)
    texts_seen = []
    for seq, part in enumerate(parts, 1):
        assert part.tpdu_length == len(part.pdu) - 1
        decoded = gammu.DecodePDU(part.pdu, SMSC=True)
        assert decoded["Type"] == "Submit"
        assert decoded["Number"] == number
        expected_concat = (reference & 0xFF, len(parts), seq) if len(parts) > 1 else None
        assert gammu_concat(decoded["UDH"]) == expected_concat
        ours = pdu.decode_submit(part.pdu).text
        assert gammu_text(decoded) == as_gammu_shows(ours, decoded["Coding"])
        texts_seen.append(ours)
    assert "".join(texts_seen) == text


@ORACLE
@given(sender=senders, text=texts, when=aware_times, reference=st.integers(0, 0xFFFF),
       wide=st.booleans())
def test_gammu_decodes_what_we_deliver(sender, text, when, reference, wide):
    raws = pdu.encode_deliver(sender, text, timestamp=when, reference=reference,
                              wide_reference=wide)
    texts_seen = []
    for seq, raw in enumerate(raws, 1):
        decoded = gammu.DecodePDU(raw, SMSC=True)
        assert decoded["Type"] == "Deliver"
        assert decoded["Number"] == sender
        assert decoded["DateTime"] == when
        assert decoded["DateTime"].utcoffset() == when.utcoffset()
        ref = reference if wide else reference & 0xFF
        assert gammu_concat(decoded["UDH"]) == ((ref, len(raws), seq) if len(raws) > 1 else None)
        ours = pdu.decode(raw).text
        assert gammu_text(decoded) == as_gammu_shows(ours, decoded["Coding"])
        texts_seen.append(ours)
    assert "".join(texts_seen) == text
