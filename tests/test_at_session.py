"""The sans-I/O AT session: bytes in, events out, with transcripts of real modems' answers."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsbridge.errors import CommandError, ModemError
from smsbridge.modem.at import (
    AtSession,
    Echo,
    Final,
    PduLine,
    Prompt,
    Response,
    Urc,
    answer_value,
    command_prefix,
    message_reference,
    parse_cops,
    parse_cpms,
    parse_creg,
    parse_csca,
    parse_csq,
    parse_final,
    unquoted,
    urc_event,
)
from smsbridge.modem.base import NewMessage, NewStatusReport, OtherEvent

OK = Final(True, None, None, "OK")

# A PDU as a Huawei E173 lists it (SMS-DELIVER from +6281234567890, "hello").
PDU1 = "07912658050000F0040D91261824537698F00000420150317153800568656C6C6F"
PDU2 = "07912658050000F0040D91261824537698F000004201503171738005C8329BFD06"
# A status report as Wavecom's manual shows after +CDS (27.005 §3.4.1, PDU mode).
CDS_PDU = "0006D60B911326880736F4111011719551401110117195714000"


def run(command: str | None, data: bytes, session: AtSession | None = None) -> list:
    session = session or AtSession()
    if command is not None:
        session.send(command)
    session.receive_data(data)
    return session.events()


def test_send_writes_the_command_and_a_carriage_return():
    assert AtSession().send("AT+CMGF=0") == b"AT+CMGF=0\r"


def test_ok_ends_the_running_command():
    session = AtSession()
    events = run("ATE0", b"\r\nOK\r\n", session)
    assert events == [OK]
    assert session.running is None


def test_a_second_command_while_one_runs_is_refused():
    session = AtSession()
    session.send("AT+CSQ")
    with pytest.raises(ModemError, match="still running"):
        session.send("AT+CREG?")


def test_echo_of_the_command_is_reported_apart_from_the_answer():
    events = run("AT+CSQ", b"AT+CSQ\r\r\n+CSQ: 18,99\r\n\r\nOK\r\n")
    assert events == [Echo("AT+CSQ"), Response("+CSQ: 18,99"), OK]


def test_huawei_cmgl_listing_yields_headers_and_pdu_lines():
    # Huawei E173 AT manual, AT+CMGL=4 in PDU mode.
    data = (f"\r\n+CMGL: 1,1,,24\r\n{PDU1}\r\n"
            f"+CMGL: 2,0,,24\r\n{PDU2}\r\n\r\nOK\r\n").encode()
    events = run("AT+CMGL=4", data)
    assert events == [
        Response("+CMGL: 1,1,,24"), PduLine("+CMGL: 1,1,,24", bytes.fromhex(PDU1)),
        Response("+CMGL: 2,0,,24"), PduLine("+CMGL: 2,0,,24", bytes.fromhex(PDU2)),
        OK,
    ]


def test_cmti_between_two_lines_of_a_cmgl_answer_is_unsolicited():
    data = (f"+CMGL: 1,1,,24\r\n{PDU1}\r\n"
            f"+CMTI: \"SM\",3\r\n"
            f"+CMGL: 2,0,,24\r\n{PDU2}\r\nOK\r\n").encode()
    events = run("AT+CMGL=4", data)
    urcs = [e for e in events if isinstance(e, Urc)]
    assert urcs == [Urc("+CMTI", '"SM",3', '+CMTI: "SM",3')]
    assert [e.header for e in events if isinstance(e, PduLine)] == [
        "+CMGL: 1,1,,24", "+CMGL: 2,0,,24"]


def test_urc_between_a_cmgl_header_and_its_pdu_line_leaves_the_pdu_to_the_header():
    data = f"+CMGL: 1,1,,24\r\n^RSSI:17\r\n{PDU1}\r\nOK\r\n".encode()
    events = run("AT+CMGL=4", data)
    assert events == [Response("+CMGL: 1,1,,24"), Urc("^RSSI", "17", "^RSSI:17"),
                      PduLine("+CMGL: 1,1,,24", bytes.fromhex(PDU1)), OK]


def test_creg_is_the_answer_while_creg_query_runs_and_unsolicited_otherwise():
    session = AtSession()
    assert run("AT+CREG?", b"+CREG: 0,1\r\nOK\r\n", session) == [Response("+CREG: 0,1"), OK]
    assert run(None, b"+CREG: 1\r\n", session) == [Urc("+CREG", "1", "+CREG: 1")]
    # ...and during any other command too.
    assert run("AT+CSQ", b"+CREG: 5\r\n+CSQ: 9,99\r\nOK\r\n", session) == [
        Urc("+CREG", "5", "+CREG: 5"), Response("+CSQ: 9,99"), OK]


def test_cds_status_report_urc_carries_its_pdu_line():
    events = run(None, f"\r\n+CDS: 25\r\n{CDS_PDU}\r\n".encode())
    assert events == [Urc("+CDS", "25", "+CDS: 25", bytes.fromhex(CDS_PDU))]


def test_cds_pdu_line_in_the_middle_of_a_cmgl_answer_goes_to_the_urc():
    data = (f"+CMGL: 1,1,,24\r\n+CDS: 25\r\n{CDS_PDU}\r\n{PDU1}\r\nOK\r\n").encode()
    events = run("AT+CMGL=4", data)
    assert events == [
        Response("+CMGL: 1,1,,24"), Urc("+CDS", "25", "+CDS: 25", bytes.fromhex(CDS_PDU)),
        PduLine("+CMGL: 1,1,,24", bytes.fromhex(PDU1)), OK]


@pytest.mark.parametrize("line, name", [
    ('+CMTI: "SM",5', "+CMTI"), ('+CDSI: "SR",2', "+CDSI"), ("RING", "RING"),
    ('+CLIP: "+6281234567890",145,,,,0', "+CLIP"), ("^RSSI:14", "^RSSI"),
    ("^BOOT:20952548,0,0,0,72", "^BOOT"), ("^MODE:5,4", "^MODE"), ("^SRVST:2", "^SRVST"),
    ("RDY", "RDY"), ("Call Ready", "CALL READY"), ("+CPIN: READY", "+CPIN"),
])
def test_known_urcs_are_named(line, name):
    (urc,) = run(None, f"\r\n{line}\r\n".encode())
    assert isinstance(urc, Urc) and urc.name == name and urc.known


def test_unknown_vendor_urc_during_a_command_is_unsolicited_not_an_answer():
    events = run("AT+CPMS?", b'^XYZ: 1\r\n+CPMS: "SM",2,30,"SM",2,30,"SM",2,30\r\nOK\r\n')
    assert events[0] == Urc("^XYZ", "1", "^XYZ: 1")
    assert not events[0].known
    assert events[1] == Response('+CPMS: "SM",2,30,"SM",2,30,"SM",2,30')


def test_free_text_answers_are_responses():
    # SIMCom SIM800 manual: AT+CGMI answers "SIMCOM_Ltd", AT+CGSN plain digits.
    assert run("AT+CGMI", b"\r\nSIMCOM_Ltd\r\n\r\nOK\r\n") == [Response("SIMCOM_Ltd"), OK]
    assert run("AT+CGSN", b"\r\n861234567890123\r\n\r\nOK\r\n") == [
        Response("861234567890123"), OK]


def test_quectel_ati_identification_is_a_block_of_responses():
    data = b"\r\nQuectel\r\nEC25\r\nRevision: EC25EFAR06A03M4G\r\n\r\nOK\r\n"
    assert run("ATI", data) == [Response("Quectel"), Response("EC25"),
                                Response("Revision: EC25EFAR06A03M4G"), OK]


@pytest.mark.parametrize("line, final", [
    ("ERROR", Final(False, None, None, "ERROR")),
    ("+CMS ERROR: 321", Final(False, "CMS", 321, "invalid memory index")),
    ("+CMS ERROR: 314", Final(False, "CMS", 314, "SIM busy")),
    ("+CME ERROR: 14", Final(False, "CME", 14, "SIM busy")),
    ("+CME ERROR: 16", Final(False, "CME", 16, "incorrect password")),
    ("+CME ERROR: SIM busy", Final(False, "CME", 14, "SIM busy")),
    ("+CMS ERROR: 9999", Final(False, "CMS", 9999, None)),
    ("COMMAND NOT SUPPORT", Final(False, None, None, "COMMAND NOT SUPPORT")),
    ("NO CARRIER", Final(False, None, None, "NO CARRIER")),
])
def test_final_result_codes_carry_kind_code_and_name(line, final):
    assert parse_final(line) == final
    assert run("AT+CMGR=1", f"\r\n{line}\r\n".encode()) == [final]


def test_final_error_becomes_a_command_error_with_the_code():
    err = Final(False, "CMS", 500, "unknown error").error("AT+CMGS=23")
    assert isinstance(err, CommandError)
    assert (err.kind, err.code, err.command) == ("CMS", 500, "AT+CMGS=23")
    assert "500" in str(err) and "unknown error" in str(err)


def test_cmgs_prompt_then_pdu_then_message_reference():
    session = AtSession()
    session.send("AT+CMGS=18")
    session.receive_data(b"\r\n> ")
    assert session.events() == [Prompt()]
    assert session.send_pdu("0011000B9126") == b"0011000B9126\x1a"
    session.receive_data(b"\r\n+CMGS: 42\r\n\r\nOK\r\n")
    assert session.events() == [Response("+CMGS: 42"), OK]


def test_cmgs_with_echo_on_reports_the_echoed_command_and_pdu():
    session = AtSession()
    session.send("AT+CMGS=18")
    session.receive_data(b"AT+CMGS=18\r\r\n> ")
    assert session.events() == [Echo("AT+CMGS=18"), Prompt()]
    session.send_pdu("0011000b9126")
    session.receive_data(b"0011000b9126\x1a\r\n+CMGS: 7\r\n\r\nOK\r\n")
    assert session.events() == [Echo("0011000b9126"), Response("+CMGS: 7"), OK]


def test_prompt_is_not_reported_outside_a_send_command():
    assert run("AT+CSQ", b"\r\n> ") == []


def test_pdu_cannot_be_sent_before_the_prompt():
    session = AtSession()
    session.send("AT+CMGS=18")
    with pytest.raises(ModemError, match="prompt"):
        session.send_pdu("00")


def test_garbage_bytes_are_dropped_and_lines_still_parse():
    data = b"\xff\xfe\x00\r\n+CMTI: \"SM\",\x013\r\n\x80\x81\r\nOK\r\n"
    session = AtSession()
    events = run(None, data, session)
    assert events == [Urc("+CMTI", '"SM",3', '+CMTI: "SM",3'), Urc("", "", "OK")]


@pytest.mark.parametrize("ending", [b"\r\n", b"\n", b"\r", b"\n\r", b"\r\r\n"])
def test_any_line_ending_variant_separates_lines(ending):
    data = ending.join([b"+CSQ: 20,99", b"", b"OK"]) + ending
    assert run("AT+CSQ", data) == [Response("+CSQ: 20,99"), OK]


def test_abort_forgets_the_running_command_so_late_lines_are_unsolicited():
    session = AtSession()
    session.send("AT+CMGL=4")
    session.abort()
    assert session.running is None
    assert run(None, b"OK\r\n", session) == [Urc("", "", "OK")]
    assert session.send("AT") == b"AT\r"


def test_command_prefix_names_the_answer_lines():
    assert command_prefix("AT+CMGL=4") == "+CMGL"
    assert command_prefix("AT^SYSINFO") == "^SYSINFO"
    assert command_prefix("at+creg?") == "+CREG"
    assert command_prefix("ATE0") is None


TRANSCRIPT = (
    b"AT+CMGL=4\r\r\n"
    + f"+CMGL: 0,1,,24\r\n{PDU1}\r\n".encode()
    + b'+CMTI: "SM",3\r\n^RSSI:17\r\n'
    + f"+CMGL: 1,0,,24\r\n{PDU2}\r\n".encode()
    + f"+CDS: 25\r\n{CDS_PDU}\r\n".encode()
    + b"\r\nOK\r\n"
    + b"RING\r\n"
)


def _events_for(chunks: list[bytes]) -> list:
    session = AtSession()
    session.send("AT+CMGL=4")
    out = []
    for chunk in chunks:
        session.receive_data(chunk)
        out.extend(session.events())
    return out


WHOLE = _events_for([TRANSCRIPT])


def test_transcript_yields_every_kind_of_event():
    kinds = {type(e) for e in WHOLE}
    assert kinds == {Echo, Response, PduLine, Urc, Final}
    assert len([e for e in WHOLE if isinstance(e, PduLine)]) == 2


def test_split_at_every_single_byte_boundary_gives_the_same_events():
    for cut in range(1, len(TRANSCRIPT)):
        assert _events_for([TRANSCRIPT[:cut], TRANSCRIPT[cut:]]) == WHOLE, cut


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(TRANSCRIPT)), max_size=30))
def test_any_split_of_the_stream_gives_the_same_events(cuts):
    points = sorted(set(cuts))
    bounds = zip([0, *points], [*points, len(TRANSCRIPT)], strict=True)
    chunks = [TRANSCRIPT[a:b] for a, b in bounds]
    assert _events_for(chunks) == WHOLE


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_raise(data):
    session = AtSession()
    session.send("AT+CMGL=4")
    session.receive_data(data)
    session.events()


# -- answer parsers ----------------------------------------------------------------------


@pytest.mark.parametrize("line, expected", [
    ('+CPMS: "SM",3,30,"SM",3,30,"SM",3,30', ("SM", 3, 30)),
    ("+CPMS: 3,30,3,30,3,30", (None, 3, 30)),
    ('+CPMS: "ME",0,255', ("ME", 0, 255)),
    ("+CPMS: 7,20", (None, 7, 20)),
    ("+CPMS: ", None),
])
def test_cpms_answers_of_every_shape_parse(line, expected):
    assert parse_cpms(line) == expected


@pytest.mark.parametrize("line, stat", [
    ("+CREG: 0,1", 1), ("+CREG: 2,5,\"00AB\",\"1234\"", 5), ("+CREG: 3", 3),
    ("+CREG: 1,\"00AB\",\"1234\"", 1), ("+CREG: x", None),
])
def test_creg_answer_and_urc_forms_parse(line, stat):
    assert parse_creg(line) == stat


@pytest.mark.parametrize(("line", "rssi"), [
    ("+CSQ: 20,99", 20), ("+CSQ: 99,99", 99), ("+CSQ: ,99", None), ("+CSQ: ", None),
])
def test_csq_gives_the_raw_rssi(line, rssi):
    assert parse_csq(line) == rssi


@pytest.mark.parametrize(("line", "operator"), [
    ('+COPS: 0,0,"TELKOMSEL",2', "TELKOMSEL"), ('+COPS: 0,2,"51010"', "51010"),
    ("+COPS: 0", None), ('+COPS: 0,0,""', None),
])
def test_cops_gives_the_operator_only_when_registered(line, operator):
    assert parse_cops(line) == operator


@pytest.mark.parametrize(("line", "smsc"), [
    ('+CSCA: "+6281100000",145', "+6281100000"), ('+CSCA: "",129', None), ("+CSCA: ", None),
])
def test_csca_gives_the_smsc_number_or_none(line, smsc):
    assert parse_csca(line) == smsc


def test_answer_value_is_the_first_answer_line_without_its_prefix():
    answer = [Response("+CPIN: SIM PIN"), PduLine("+CMGR: 0,,5", b"\x00")]
    assert answer_value(answer, "+CPIN") == "SIM PIN"
    assert answer_value([Response("huawei")], "+CGMI") == "huawei"
    assert answer_value([], "+CPIN") is None
    assert unquoted(' "E173" ') == "E173" and unquoted("") is None and unquoted(None) is None


@pytest.mark.parametrize(("urc", "event"), [
    (Urc("+CMTI", '"SM",3', '+CMTI: "SM",3'), NewMessage("SM", 3)),
    (Urc("+CMTI", '"",0', '+CMTI: "",0'), NewMessage("SM", 0)),
    (Urc("+CDSI", '"SR",7', '+CDSI: "SR",7'), NewStatusReport("SR", 7)),
    (Urc("+CDS", "25", "+CDS: 25", b"\x00\x06"), NewStatusReport(None, None, b"\x00\x06")),
    (Urc("+CMTI", '"SM",x', '+CMTI: "SM",x'), OtherEvent('+CMTI: "SM",x')),
    (Urc("RING", "", "RING"), OtherEvent("RING")),
])
def test_urcs_become_the_events_the_daemon_sees(urc, event):
    assert urc_event(urc) == event


@pytest.mark.parametrize("lines, reference", [
    (["+CMGS: 12"], 12),
    (["+CMSS: 255"], 255),
    (["+CMGS: 7,\"26/12/01,10:00:00+28\""], 7),  # <mr>,<scts> (27.005 §3.5.1, text mode)
    ([], None),  # OK alone: sent, the reference left out
    (["\xff#~%&@ ZZ"], None),  # noise in its place
    (["+CMGS: "], None),
    (["+CMGS: 300"], None),  # a TP-MR is one octet
])
def test_the_reference_of_an_accepted_send_is_read_or_unknown(lines, reference):
    prefix = "+CMSS" if lines and lines[0].startswith("+CMSS") else "+CMGS"
    assert message_reference([Response(line) for line in lines], prefix) == reference
