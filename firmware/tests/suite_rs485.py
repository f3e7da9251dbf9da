from bench.clock import ManualClock
from bench.hal.sim import SimPin, SimUart
from bench.rs485 import Rs485, char_time_us

from meterproto.compat import from_hex
from meterproto.link import messages as m

REQUEST = from_hex("FE FE FE FE 68 42 00 00 15 07 23 68 11 04 33 34 34 35 36 16")
REPLY = from_hex("68 42 00 00 15 07 23 68 91 06 33 34 34 35 38 56 46 16")


async def _sleep(ms):
    _CLOCK.advance_us(ms * 1000)


_CLOCK = ManualClock()


def _port(responder=None, echo=False):
    uart = SimUart()
    uart.responder = responder
    de = SimPin()
    port = Rs485(uart, de, _CLOCK, _sleep, _CLOCK.advance_us, echo=echo)
    return port, uart, de


def test_char_time():
    assert char_time_us(9600, 8, m.PARITY_NONE, 1) == 1042
    assert char_time_us(2400, 8, m.PARITY_EVEN, 1) == 4584


async def test_dlt645_reply_ends_at_frame_end():
    port, uart, de = _port(lambda req: b"\xfe\xfe" + REPLY + b"\x00\x00trailing")
    uart.inject(b"stale")
    status, reply = await port.transact(REQUEST, m.FRAMING_DLT645, 500)
    assert status == m.RS485_OK
    assert reply == REPLY
    assert bytes(uart.written) == REQUEST
    assert de.history == [0, 1, 0] and de.value() == 0  # DE high only while sending


async def test_timeout_returns_what_arrived():
    port, uart, _ = _port(lambda req: REPLY[:7])
    status, reply = await port.transact(REQUEST, m.FRAMING_DLT645, 300)
    assert status == m.RS485_TIMEOUT and reply == REPLY[:7]
    assert port.timeouts == 1


async def test_local_echo_is_removed_and_checked():
    port, uart, _ = _port(lambda req: req + REPLY, echo=True)
    status, reply = await port.transact(REQUEST, m.FRAMING_DLT645, 500)
    assert status == m.RS485_OK and reply == REPLY
    port2, _, _ = _port(lambda req: b"\x00" + req[1:] + REPLY, echo=True)
    status, _ = await port2.transact(REQUEST, m.FRAMING_DLT645, 500)
    assert status == m.RS485_ECHO_MISMATCH


async def test_raw_framing_ends_on_idle_line():
    port, uart, _ = _port(lambda req: b"\x01\x02\x03")
    port.configure(9600, 8, m.PARITY_NONE, 1)
    status, reply = await port.transact(b"\x10", m.FRAMING_RAW, 1000)
    assert status == m.RS485_OK and reply == b"\x01\x02\x03"
    assert uart.settings == {"baudrate": 9600, "bits": 8, "parity": None, "stop": 1}


def test_configure_rejects_bad_settings():
    port, _, _ = _port()
    for args in ((9600, 9, 0, 1), (9600, 8, 5, 1), (9600, 8, 0, 3), (50, 8, 0, 1)):
        try:
            port.configure(*args)
        except ValueError:
            continue
        raise AssertionError("accepted %r" % (args,))


async def test_concurrent_transactions_do_not_interleave():
    import asyncio

    port, uart, _ = _port(lambda req: b"\x68" + req[1:2] * 3 + b"\x16")
    a, b = await asyncio.gather(
        port.transact(b"\x01A", m.FRAMING_RAW, 300), port.transact(b"\x02B", m.FRAMING_RAW, 300)
    )
    assert a == (m.RS485_OK, b"\x68AAA\x16") and b == (m.RS485_OK, b"\x68BBB\x16")
    assert bytes(uart.written) == b"\x01A\x02B"
