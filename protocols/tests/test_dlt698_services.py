"""DL/T 698.45 services, SECURITY envelopes, fragmentation and the OI catalogue: frames of an
independent implementation, round trips and mutation fuzzing of every builder and parser."""

from __future__ import annotations

import contextlib
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meterproto.compat import from_hex
from meterproto.dlt645.frame import DecodeError, EncodeError
from meterproto.dlt698 import apdu as ap
from meterproto.dlt698 import catalogue as cat
from meterproto.dlt698 import fragment as fr
from meterproto.dlt698 import security as sec
from meterproto.dlt698 import services as sv
from meterproto.dlt698.apdu import Data
from meterproto.dlt698.frame import Frame, decode_frame

FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Frames PyPI dlt698 1.0.1 (client and server) exchanged with each other on TCP; the APDUs of
# CONNECT, GET, SET, ACTION and RELEASE, request and response.
PYPI_CONNECT_REQUEST = (
    "02000010fffff800000000000000000000000000000000000000000004000400010400000000640000"
)
PYPI_CONNECT_RESPONSE = (
    "8200" + "00" * 32 + "0010fffff8000000000000000000000000000000000000000000"
    "040004000104000000006400000000"
)
PYPI_FRAMES = {
    "get": "68120043000000138e050101200f020000370816",
    "get_reply": "681700c3000000fab7850101200f0200011213880000a18216",
    "energy_reply": "682f00c3000000725185010200100200010105060000303906000030390600003039"
    "060000303906000030390000825e16",
    "dar_reply": "681500c3000000acbf8501034000020000040000d2a216",
    "set": "681a00430000004baf060105400002001c07e9010203040500a77116",
    "set_reply": "681400c300000087bb86010540000200040000894216",
    "action": "681a00430000004baf07010640007f001c07e90102030405002d9516",
    "action_reply": "681500c3000000acbf87010640007f0004000000bb9a16",
    "release": "680d00430000002af10307001b6d16",
    "release_reply": "680f00c300000012d48307000000c84c16",
    "login": "6819008100000099a1010000000507ea0c02030b142f00c1c61616",
}


def test_connect_apdus_of_an_independent_implementation() -> None:
    request = ap.parse_apdu(from_hex(PYPI_CONNECT_REQUEST))
    assert isinstance(request, sv.ConnectRequest)
    assert request.parameters.version == 0x10 and request.parameters.receive_frame == 1024
    assert request.parameters.timeout == 100 and request.mechanism == 0
    assert sv.encode_apdu(request) == from_hex(PYPI_CONNECT_REQUEST)
    response = ap.parse_apdu(from_hex(PYPI_CONNECT_RESPONSE))
    assert isinstance(response, sv.ConnectResponse) and response.result == 0
    assert sv.encode_apdu(response) == from_hex(PYPI_CONNECT_RESPONSE)


@pytest.mark.parametrize("key", sorted(PYPI_FRAMES))
def test_frames_of_an_independent_implementation_round_trip(key: str) -> None:
    frame = decode_frame(from_hex(PYPI_FRAMES[key]))
    parsed = ap.parse_apdu(frame.apdu)
    assert not isinstance(parsed, ap.OtherApdu)
    assert sv.encode_apdu(parsed) == frame.apdu


def test_decoded_values_of_the_independent_frames() -> None:
    def apdu(key: str) -> Any:
        return ap.parse_apdu(decode_frame(from_hex(PYPI_FRAMES[key])).apdu)

    assert apdu("get_reply").data == Data(0x12, 5000)
    energy = apdu("energy_reply")
    assert cat.engineering(energy.oad, energy.data) == ([Decimal("123.45")] * 5, "kWh")
    assert apdu("dar_reply").dar == 4 and sv.dar_name(4) == "object undefined"
    assert apdu("set") == sv.SetRequestNormal(
        5, "40000200", Data(0x1C, datetime(2025, 1, 2, 3, 4, 5))
    )
    assert apdu("set_reply") == sv.SetResponseNormal(5, "40000200", 4)
    assert apdu("action").omd == "40007f00" and apdu("action_reply").dar == 4
    assert apdu("release") == sv.ReleaseRequest(7) and apdu("release_reply").result == 0
    login = apdu("login")
    assert isinstance(login, ap.LinkRequest) and login.request_type_name == "login"
    assert login.heartbeat == 5


def test_report_and_error_response() -> None:
    report = sv.ReportNotification(
        3, (sv.ResultNormal("30160200", Data(0x06, 7)), sv.ResultNormal("40000200", dar=4))
    )
    raw = sv.encode_apdu(report)
    assert raw[:2] == b"\x88\x01" and ap.parse_apdu(raw) == report
    assert report.oads == ("30160200", "40000200")
    ack = sv.ReportResponse(3, 1, report.oads)
    assert ap.parse_apdu(sv.encode_apdu(ack)) == ack
    assert ap.parse_apdu(b"\xee\x05\x02") == sv.ErrorResponse(5, 2)


def test_link_builders_match_the_published_login() -> None:
    frame = decode_frame(
        from_hex("681e008105111111111111009e7601000000b407e90403040f14050000e8b016")
    )
    login = ap.parse_apdu(frame.apdu)
    assert sv.link_request(0, 180, login.time, 0) == frame.apdu
    stamp = datetime(2025, 4, 3, 15, 20, 5)
    raw = sv.link_response(0, 0x80, stamp, stamp, stamp)
    assert ap.parse_apdu(raw) == ap.LinkResponse(0, 0x80, stamp, stamp, stamp)


# -- strategies ----------------------------------------------------------------------------------

piids = st.integers(0, 255)
oads = st.binary(min_size=4, max_size=4).map(lambda b: b.hex())
tags = st.one_of(st.none(), st.binary(min_size=10, max_size=10))
scalars = st.one_of(
    st.integers(-(2**31), 2**31 - 1).map(lambda v: Data(0x05, v)),
    st.integers(0, 2**32 - 1).map(lambda v: Data(0x06, v)),
    st.integers(0, 65535).map(lambda v: Data(0x12, v)),
    st.integers(0, 255).map(lambda v: Data(0x16, v)),
    st.just(Data(0x00, None)),
    st.booleans().map(lambda b: Data(0x03, b)),
    st.binary(max_size=40).map(lambda b: Data(0x09, b)),
    st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31)).map(
        lambda d: Data(0x1C, d.replace(microsecond=0))
    ),
)
datas = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3).flatmap(
        lambda items: st.sampled_from([0x01, 0x02]).map(lambda t: Data(t, tuple(items)))
    ),
    max_leaves=8,
)
results = st.one_of(
    st.builds(sv.ResultNormal, oads, datas),
    st.builds(lambda o, d: sv.ResultNormal(o, dar=d), oads, st.integers(0, 255)),
)
csds = st.one_of(
    st.builds(sv.Csd, oads),
    st.builds(sv.Csd, oads, st.lists(oads, max_size=3).map(tuple)),
)


@st.composite
def records(draw: Any) -> sv.ResultRecord:
    columns = tuple(draw(st.lists(csds, min_size=1, max_size=3)))
    if draw(st.booleans()):
        return sv.ResultRecord(draw(oads), columns, dar=draw(st.integers(0, 255)))
    rows = draw(st.lists(st.tuples(*[datas for _ in columns]), max_size=3).map(lambda r: tuple(r)))
    return sv.ResultRecord(draw(oads), columns, rows)


rsds = st.one_of(
    st.just(sv.Rsd(0)),
    st.builds(lambda o, d: sv.Rsd(1, o, (d,)), oads, scalars),
    st.builds(lambda o, a, b, c: sv.Rsd(2, o, (a, b, c)), oads, scalars, scalars, scalars),
    st.builds(lambda n: sv.Rsd(9, last=n), st.integers(0, 255)),
    st.builds(lambda t: sv.Rsd(4, raw=t + b"\x01"), st.binary(min_size=7, max_size=7)),
)
follows = st.one_of(
    st.none(),
    st.builds(lambda r: sv.FollowReport(normal=tuple(r)), st.lists(results, max_size=2)),
    st.builds(
        lambda r: sv.FollowReport(records=tuple(r)), st.lists(records(), min_size=1, max_size=2)
    ),
)
parameters = st.builds(
    sv.ConnectParameters,
    st.integers(0, 0xFFFF),
    st.binary(min_size=8, max_size=8),
    st.binary(min_size=16, max_size=16),
    st.integers(0, 0xFFFF),
    st.integers(0, 0xFFFF),
    st.integers(0, 255),
    st.integers(0, 0xFFFF),
    st.integers(0, 0xFFFFFFFF),
)
texts = st.text(alphabet="0123456789ABCDEF", min_size=0, max_size=0)
factory = st.builds(
    sv.FactoryVersion,
    *[st.text(alphabet="0123456789AZ", min_size=n, max_size=n) for n in (4, 4, 6, 4, 6, 8)],
)
sids = st.builds(sec.Sid, st.integers(0, 2**32 - 1), st.binary(max_size=8))
pairs = st.lists(st.tuples(oads, datas), max_size=3).map(tuple)

apdus = st.one_of(
    st.builds(ap.GetRequestNormal, piids, oads, tags),
    st.builds(lambda p, o, d: ap.GetResponseNormal(p, o, d, None), piids, oads, datas),
    st.builds(
        lambda p, o, d: ap.GetResponseNormal(p, o, None, d), piids, oads, st.integers(0, 255)
    ),
    st.builds(ap.ActionRequestNormal, piids, oads, datas, tags),
    st.builds(ap.ActionResponseNormal, piids, oads, st.integers(0, 255), st.none() | datas),
    st.builds(
        ap.LinkRequest,
        piids,
        st.integers(0, 2),
        st.integers(0, 0xFFFF),
        st.datetimes(datetime(2000, 1, 1), datetime(2099, 1, 1)).map(
            lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)
        ),
    ),
    st.builds(
        lambda p, m, pw, c, s, t, par: sv.ConnectRequest(
            p, par, m, pw if m == 1 else "", c if m > 1 else b"", s if m > 1 else b"", t
        ),
        piids,
        st.integers(0, 3),
        st.text(alphabet="abc123", max_size=8),
        st.binary(max_size=8),
        st.binary(max_size=8),
        tags,
        parameters,
    ),
    st.builds(
        sv.ConnectResponse,
        piids,
        factory,
        parameters,
        st.integers(0, 255),
        st.none() | st.binary(max_size=8),
        st.just(b""),
        follows,
        tags,
    ),
    st.builds(sv.ReleaseRequest, piids, tags),
    st.builds(sv.ReleaseResponse, piids, st.integers(0, 255), follows, tags),
    st.builds(sv.GetRequestNormalList, piids, st.lists(oads, max_size=4).map(tuple), tags),
    st.builds(sv.GetRequestRecord, piids, oads, rsds, st.lists(csds, max_size=3).map(tuple), tags),
    st.builds(
        sv.GetResponseNormalList, piids, st.lists(results, max_size=3).map(tuple), follows, tags
    ),
    st.builds(sv.GetResponseRecord, piids, records(), follows, tags),
    st.builds(sv.GetRequestNext, piids, st.integers(0, 0xFFFF), tags),
    st.builds(
        lambda p, last, n, r, d, f, t: (
            sv.GetResponseNext(p, last, n, results=tuple(r), follow=f, time_tag=t)
            if d is None
            else sv.GetResponseNext(p, last, n, dar=d, follow=f, time_tag=t)
        ),
        piids,
        st.booleans(),
        st.integers(0, 0xFFFF),
        st.lists(results, max_size=2),
        st.none() | st.integers(0, 255),
        follows,
        tags,
    ),
    st.builds(
        lambda p, n, r: sv.GetResponseNext(p, True, n, records=tuple(r)),
        piids,
        st.integers(0, 0xFFFF),
        st.lists(records(), min_size=1, max_size=2),
    ),
    st.builds(sv.SetRequestNormal, piids, oads, datas, tags),
    st.builds(sv.SetRequestNormalList, piids, pairs, tags),
    st.builds(sv.SetResponseNormal, piids, oads, st.integers(0, 255), follows, tags),
    st.builds(
        sv.SetResponseNormalList,
        piids,
        st.lists(st.tuples(oads, st.integers(0, 255)), max_size=3).map(tuple),
        follows,
        tags,
    ),
    st.builds(sv.ActionRequestList, piids, pairs, tags),
    st.builds(
        sv.ActionResponseList,
        piids,
        st.lists(
            st.builds(sv.ActionResult, oads, st.integers(0, 255), st.none() | datas), max_size=3
        ).map(tuple),
        follows,
        tags,
    ),
    st.builds(
        lambda p, r, t: sv.ReportNotification(p, tuple(r), (), t),
        piids,
        st.lists(results, max_size=3),
        tags,
    ),
    st.builds(
        lambda p, r, t: sv.ReportNotification(p, (), tuple(r), t),
        piids,
        st.lists(records(), min_size=1, max_size=2),
        tags,
    ),
    st.builds(
        sv.ReportResponse, piids, st.integers(1, 2), st.lists(oads, max_size=3).map(tuple), tags
    ),
    st.builds(sv.ErrorResponse, piids, st.integers(0, 255)),
    st.builds(
        lambda mode, data, verify, rn, mac, sid: sec.SecurityRequest(
            mode,
            data,
            verify,
            rn if verify in (1, 2) else b"",
            mac if verify in (0, 2) else b"",
            sid if verify in (0, 3) else None,
        ),
        st.integers(0, 1),
        st.binary(max_size=20),
        st.integers(0, 3),
        st.binary(max_size=16),
        st.binary(max_size=8),
        sids,
    ),
    st.builds(
        lambda mode, data, dar, mac: sec.SecurityResponse(
            mode, data if mode < 2 else b"", dar if mode == 2 else None, mac
        ),
        st.integers(0, 2),
        st.binary(max_size=20),
        st.integers(0, 255),
        st.none() | st.binary(max_size=8),
    ),
)


@FAST
@given(message=apdus)
def test_every_apdu_round_trips(message: Any) -> None:
    raw = sv.encode_apdu(message)
    assert ap.parse_apdu(raw) == message
    frame = Frame(b"\x01\x02\x03\x04\x05\x06", 0x43, raw)
    assert ap.describe(decode_frame(frame.encode()))["name"] == message.name


def _mutate(raw: bytes, ops: list[tuple[int, int, int]]) -> bytes:
    b = bytearray(raw)
    for kind, pos, value in ops:
        if not b:
            b.append(value)
            continue
        i = pos % len(b)
        if kind == 0:
            b[i] = value
        elif kind == 1:
            del b[i]
        elif kind == 2:
            b.insert(i, value)
        else:
            del b[i:]
    return bytes(b)


@FAST
@given(
    message=apdus,
    ops=st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 10_000), st.integers(0, 255)),
        min_size=1,
        max_size=4,
    ),
)
def test_mutated_apdus_raise_only_decode_error(message: Any, ops: list[Any]) -> None:
    mutated = _mutate(sv.encode_apdu(message), ops)
    with contextlib.suppress(DecodeError):
        parsed = ap.parse_apdu(mutated)
        with contextlib.suppress(EncodeError):  # what parses must encode (or say why not)
            sv.encode_apdu(parsed)
    with contextlib.suppress(DecodeError):
        sec.parse_security(mutated)
    with contextlib.suppress(DecodeError):
        fr.parse_fragment(mutated)


@FAST
@given(data=st.binary(max_size=80))
def test_random_bytes_raise_only_decode_error(data: bytes) -> None:
    for tag in (0x02, 0x82, 0x05, 0x85, 0x06, 0x86, 0x07, 0x87, 0x88, 0x10, 0x90):
        with contextlib.suppress(DecodeError):
            ap.parse_apdu(bytes((tag,)) + data)


@FAST
@given(
    piid=st.integers(-5, 400),
    oad=st.text(max_size=10),
    dar=st.integers(-5, 400),
    data=datas,
)
def test_impossible_values_raise_only_encode_error(
    piid: int, oad: str, dar: int, data: Data
) -> None:
    for message in (
        ap.GetRequestNormal(piid, oad),
        sv.SetRequestNormal(piid, oad, data),
        sv.SetResponseNormal(piid, oad, dar),
        sv.GetResponseNormalList(piid, (sv.ResultNormal(oad, dar=dar),)),
        sv.ResultNormal(oad),  # not an APDU at all
        sec.SecurityResponse(piid, dar=dar),
    ):
        with contextlib.suppress(EncodeError):
            sv.encode_apdu(message)


# -- SECURITY ------------------------------------------------------------------------------------


def test_plaintext_rn_and_mac_with_the_simulated_provider() -> None:
    meter, client = sec.SimulatedSecurity(b"sim-key", seed=1), sec.SimulatedSecurity(b"sim-key")
    address = bytes.fromhex("420000150723")
    inner = ap.get_request_normal("40000200", 3)
    rn = client.random()
    request = sec.SecurityRequest(sec.PLAINTEXT, inner, sec.VERIFY_RN, rn=rn)
    parsed = ap.parse_apdu(sv.encode_apdu(request))
    assert parsed == request and parsed.inner == ap.GetRequestNormal(3, "40000200")
    reply = ap.get_response_normal("40000200", Data(0x1C, datetime(2025, 1, 1)), 3)
    mac = meter.response_mac(address, rn, reply)
    assert client.verify_response(address, rn, reply, mac)
    assert not client.verify_response(address, rn, reply[:-1] + b"\x01", mac)
    assert not sec.SimulatedSecurity(b"other").verify_response(address, rn, reply, mac)
    sid, signed = client.sign_request(address, inner)
    assert meter.verify_request(address, sid, inner, signed)
    assert not meter.verify_request(address, sec.Sid(sid.tag + 1, sid.extra), inner, signed)
    with pytest.raises(DecodeError, match="ciphertext"):
        _ = sec.SecurityRequest(sec.CIPHERTEXT, b"\x01", sec.VERIFY_RN, rn=rn).inner


# -- fragmentation -------------------------------------------------------------------------------


@FAST
@given(apdu=st.binary(min_size=2, max_size=600), size=st.integers(3, 64))
def test_split_and_reassemble(apdu: bytes, size: int) -> None:
    if len(apdu) <= size:
        with pytest.raises(EncodeError):
            fr.split(apdu, size)
        return
    pieces = fr.split(apdu, size)
    assert pieces[0].kind == fr.FIRST and pieces[-1].kind == fr.LAST
    assert all(p.kind == fr.MIDDLE for p in pieces[1:-1])
    assert all(len(p.encode()) <= size for p in pieces)
    r = fr.Reassembler()
    out = [r.accept(fr.parse_fragment(p.encode())) for p in pieces]
    assert out[:-1] == [None] * (len(pieces) - 1) and out[-1] == apdu and not r.active


def test_out_of_sequence_fragments_are_errors() -> None:
    pieces = fr.split(bytes(range(30)), 8)
    r = fr.Reassembler()
    r.accept(pieces[0])
    with pytest.raises(DecodeError, match="out of sequence"):
        r.accept(pieces[2])
    with pytest.raises(DecodeError, match="without a first"):
        r.accept(pieces[1])
    with pytest.raises(DecodeError, match="longer than"):
        small = fr.Reassembler(limit=10)
        for p in pieces:
            small.accept(p)
    with pytest.raises(DecodeError, match="no data"):
        fr.parse_fragment(b"\x05\x80\x01")


def test_fragment_header_agrees_with_pypi_dlt698() -> None:
    link = pytest.importorskip("dlt698.protocol.link")
    kinds = {
        fr.FIRST: link.FragmentType.first,
        fr.MIDDLE: link.FragmentType.middle,
        fr.LAST: link.FragmentType.last,
        fr.ACK: link.FragmentType.acknowledgement,
    }
    for kind, theirs in kinds.items():
        data = b"" if kind == fr.ACK else b"\xaa\xbb"
        ours = fr.Fragment(0x123, kind, data).encode()
        assert ours == link.encode_fragment(link.Fragment(sequence=0x123, type=theirs, data=data))
        decoded = link.decode_fragment(ours)
        assert (decoded.sequence, decoded.type, decoded.data) == (0x123, theirs, data)


# -- catalogue -----------------------------------------------------------------------------------


def test_catalogue_scales_and_names() -> None:
    assert cat.energy_oad(0x0010) == "00100201" and cat.energy_oad(0x0020, 4) == "00200205"
    assert cat.name("00100203") == "forward active energy [tariff 2]"
    assert cat.name("20000202") == "voltage [B]" and cat.name("20040201") == "active power [total]"
    assert cat.integer("00100201", Data(0x06, 123456)) == Decimal("1234.56")
    assert cat.integer("20010201", Data(0x05, -1500)) == Decimal("-1.500")
    with pytest.raises(DecodeError, match="expected data type 06H"):
        cat.integer("00100201", Data(0x05, 1))
    with pytest.raises(DecodeError, match="not one number"):
        cat.integer("00100200", Data(0x01, ()))
    assert cat.engineering("200f0200", Data(0x12, 5000)) == (Decimal("50.00"), "Hz")
    assert cat.engineering("40000200", Data(0x1C, datetime(2025, 1, 1))) == (
        datetime(2025, 1, 1),
        "",
    )
    assert cat.unscale(Decimal("220.1"), -1) == 2201
    with pytest.raises(EncodeError, match="decimals"):
        cat.unscale(Decimal("220.15"), -1)
    with pytest.raises(ValueError, match="8 hex digits"):
        cat.split_oad("0010020")


def test_catalogue_agrees_with_pypi_dlt698_standard() -> None:
    standard = pytest.importorskip("dlt698.standard")
    checked = 0
    for (oi, attribute), entry in cat.CATALOGUE.items():
        theirs = standard.find_object(oi)
        if theirs is None or attribute != 2 or entry.record:
            continue
        attr = next(a for a in theirs.attributes if a.number == attribute)
        if attr.scaling is not None:
            assert (attr.scaling.scaler, standard.unit_symbol(attr.scaling.unit)) == (
                entry.scaler,
                entry.unit,
            ), hex(oi)
        wanted = attr.element_type if attr.element_type is not None else attr.type
        assert int(wanted) == entry.element_type(1), hex(oi)
        checked += 1
    assert checked >= 15
