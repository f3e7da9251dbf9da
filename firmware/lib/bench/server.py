"""Link server: frames in, replies and result events out. MicroPython-safe.

The core is synchronous and deterministic (``feed(bytes)``, ``service(now_ms)``,
``take_output()``), so tests and fuzzers drive it directly; ``run(reader, writer)`` wraps it in
asyncio tasks for a real stream. Nothing from the wire can raise out of it: bad CRC, unknown
types and bad lengths are counted and NAKed, handler failures become NAK_INTERNAL plus a LOG
event, and the loop goes on.

Why the run loop is shaped as it is: the service loop (measurements, results, watchdog) never
waits for the host. Output goes to a bounded queue that a separate writer task drains in small
chunks, so a host that keeps the port open but stops reading cannot stall measurement or starve
the watchdog; when the queue overflows the oldest frames are dropped (results are resent until
acknowledged, requests are retried by the host).

Failsafe: when a host has said HELLO and then nothing arrives for ``failsafe_ms``, every output
(relay, valve) goes to its safe state (off) and a LOG says so; the host keeps the link busy
(its client sends STATUS_GET when it has nothing else to say).
"""

from bench.controller import Nak
from meterproto.link import messages as m
from meterproto.link.frame import LinkDecoder, LinkError, encode_frame
from meterproto.link.messages import encode_payload, parse, unpack_result_ids

# Requests allowed before any HELLO and while the host's protocol major differs from ours.
_ALWAYS = (m.HELLO, m.STATUS_GET, m.RESET)
OUT_LIMIT = 4096  # bytes queued for the host before the oldest frames are dropped
WRITE_CHUNK = 128  # bytes per write: a blocking port write never holds the loop for long
CTRL_C = 3


class LinkServer:
    def __init__(self, controller, results, info, flags=0, failsafe_ms=0, ctrl_c_exits=False):
        self.controller = controller
        self.results = results
        self.info = info  # HELLO_REPLY fields other than protocol and flags
        self.base_flags = flags
        self.decoder = LinkDecoder()
        self.seq = 0
        self.rx_frames = 0
        self.tx_frames = 0
        self.bad_frames = 0
        self.unknown = 0
        self.naks = 0
        self.errors = 0
        self.host_seen = False
        self.compatible = True
        self.heartbeat_ms = 0
        self.reset_mode = None
        self.uptime_ms = 0
        self._last_heartbeat = 0
        self.failsafe_ms = failsafe_ms
        self.failsafes = 0
        self._last_rx_ms = 0
        self._failsafe_on = False
        # Safe mode: a Ctrl-C between frames hands the port to the REPL (stock mpremote).
        self.ctrl_c_exits = ctrl_c_exits
        self.out_dropped = 0
        self._out = []
        self._out_bytes = 0
        self._handlers = {
            m.HELLO: self._hello,
            m.RESET: self._reset,
            m.STATUS_GET: self._status_get,
            m.ERR_START: self._err_start,
            m.PERIOD_START: self._period_start,
            m.WINDOW_START: self._window_start,
            m.STOP: self._stop,
            m.RS485_CONFIG: self._rs485_config,
            m.RS485_XFER: self._rs485_xfer,
            m.OUTPUT_SET: self._output_set,
            m.INPUT_CONFIG: self._input_config,
            m.RESULT_ACK: self._result_ack,
        }

    # -- output -------------------------------------------------------------------------
    def _send(self, msg_type, seq, fields):
        frame = encode_frame(msg_type, seq, encode_payload(msg_type, fields))
        self._out.append(frame)
        self._out_bytes += len(frame)
        self.tx_frames += 1
        while self._out_bytes > OUT_LIMIT and len(self._out) > 1:
            self._out_bytes -= len(self._out.pop(0))
            self.out_dropped += 1

    def _event(self, msg_type, fields):
        self.seq = (self.seq + 1) & 0xFF
        self._send(msg_type, self.seq, fields)

    def _nak(self, req_type, seq, reason, detail=0):
        self.naks += 1
        self._send(m.NAK, seq, {"req_type": req_type, "reason": reason, "detail": detail})

    def log(self, level, text):
        self._event(m.LOG, {"level": level, "text": text[:200]})

    def take_output(self):
        """Bytes to write: every frame queued since the last call."""
        out = b"".join(self._out)
        self._out = []
        self._out_bytes = 0
        return out

    # -- input ----------------------------------------------------------------------------
    def feed(self, data):
        for frame in self.decoder.feed(data):
            self.rx_frames += 1
            self._last_rx_ms = self.uptime_ms
            self._failsafe_on = False
            self._dispatch(frame)
        for seq, msg_type in self.decoder.pop_rejects():
            self._nak(msg_type, seq, m.NAK_BAD_CRC)

    def _dispatch(self, frame):
        t = frame.msg_type
        handler = self._handlers.get(t)
        if handler is None:
            self.unknown += 1
            self._nak(t, frame.seq, m.NAK_UNKNOWN_TYPE)
            return
        try:
            fields = parse(frame).fields
        except LinkError:
            self.bad_frames += 1
            self._nak(t, frame.seq, m.NAK_BAD_LENGTH)
            return
        if t not in _ALWAYS:
            if not self.host_seen:
                self._nak(t, frame.seq, m.NAK_NO_HELLO)
                return
            if not self.compatible:
                self._nak(t, frame.seq, m.NAK_VERSION)
                return
        try:
            reply = handler(frame.seq, fields)
        except Nak as e:
            self._nak(t, frame.seq, e.reason, e.detail)
            return
        except Exception as e:  # noqa: BLE001 - a handler bug must not stop the controller
            self.errors += 1
            self._nak(t, frame.seq, m.NAK_INTERNAL)
            self.log(m.LOG_ERROR, "handler %02X failed: %r" % (t, e))
            return
        if reply is None:
            self._send(m.ACK, frame.seq, {"req_type": t})
        elif reply is not False:  # False: the handler replies later by itself
            self._send(reply[0], frame.seq, reply[1])

    # -- handlers ------------------------------------------------------------------------
    def _hello(self, seq, f):
        self.host_seen = True
        self.compatible = m.version_major(f["protocol"]) == m.version_major(m.PROTOCOL_VERSION)
        self.heartbeat_ms = f["heartbeat_ms"]
        fields = dict(self.info)
        fields["protocol"] = m.PROTOCOL_VERSION
        fields["flags"] = self.flags()
        fields["failsafe_ms"] = self.failsafe_ms
        return (m.HELLO_REPLY, fields)

    def _reset(self, seq, f):
        if f["mode"] not in (m.RESET_SOFT, m.RESET_HARD, m.RESET_SAFE, m.RESET_REPL):
            raise Nak(m.NAK_BAD_VALUE, 0)
        self.reset_mode = f["mode"]

    def _status_get(self, seq, f):
        return (m.STATUS, self.status_fields())

    def _err_start(self, seq, f):
        self.controller.gate_start(m.FN_ERROR, f["position"], f["pulses"], f["readings"], f["skip"])

    def _period_start(self, seq, f):
        c = self.controller
        c.gate_start(m.FN_PERIOD, f["position"], f["cycles"], f["readings"], f["skip"])

    def _window_start(self, seq, f):
        c = self.controller
        c.window_start(f["position"], f["input"], f["duration_ms"], f["max_events"])

    def _stop(self, seq, f):
        self.controller.stop(f["position"], f["functions"])

    def _rs485_config(self, seq, f):
        c = self.controller
        c.rs485_config(f["position"], f["baudrate"], f["bits"], f["parity"], f["stop"])

    def _rs485_xfer(self, seq, f):
        import asyncio

        self.controller._rs485(f["position"])  # refuse at once if there is no such port
        asyncio.create_task(self._xfer_task(seq, f))
        return False

    async def _xfer_task(self, seq, f):
        try:
            reply = await self.controller.rs485_xfer(
                f["position"], f["framing"], f["timeout_ms"], f["data"]
            )
            self._send(m.RS485_REPLY, seq, reply)
        except Nak as e:
            self._nak(m.RS485_XFER, seq, e.reason, e.detail)
        except Exception as e:  # noqa: BLE001
            self.errors += 1
            self._nak(m.RS485_XFER, seq, m.NAK_INTERNAL)
            self.log(m.LOG_ERROR, "rs485 failed: %r" % (e,))

    def _output_set(self, seq, f):
        self.controller.output_set(f["position"], f["output"], f["state"])

    def _input_config(self, seq, f):
        self.controller.input_config(f["position"], f["input"], f["min_pulse_us"])

    def _result_ack(self, seq, f):
        try:
            ids = unpack_result_ids(f["ids"])
        except LinkError:
            raise Nak(m.NAK_BAD_LENGTH) from None
        self.results.ack(ids)

    # -- periodic work ----------------------------------------------------------------------
    def flags(self):
        return self.base_flags | (m.FLAG_HOST if self.host_seen else 0)

    def status_fields(self):
        c = self.controller
        d = self.decoder
        return {
            "uptime_ms": self.uptime_ms & 0xFFFFFFFF,
            "boot_id": self.info["boot_id"],
            "rx_frames": self.rx_frames & 0xFFFFFFFF,
            "tx_frames": self.tx_frames & 0xFFFFFFFF,
            "bad_crc": min(d.bad_crc, 0xFFFF),
            "bad_frames": min(d.bad_header + self.bad_frames, 0xFFFF),
            "unknown": min(self.unknown, 0xFFFF),
            "naks": min(self.naks, 0xFFFF),
            "results_pending": min(len(self.results), 0xFFFF),
            "results_dropped": min(self.results.dropped, 0xFFFF),
            "overruns": min(c.overruns(), 0xFFFF),
            "errors": min(self.errors, 0xFFFF),
            "active": c.active_mask(),
            "mem_free": min(c.hal.mem_free(), 0xFFFFFFFF),
            "flags": self.flags(),
        }

    def service(self, now_ms):
        """Poll measurements, (re)send due results, send the heartbeat when it is time."""
        self.uptime_ms = now_ms
        try:
            hal_service = getattr(self.controller.hal, "service", None)
            if hal_service is not None:
                hal_service(now_ms)  # e.g. extend narrow hardware counters (esp32)
            for msg_type, fields in self.controller.poll(now_ms):
                self.results.add(msg_type, fields)
        except Exception as e:  # noqa: BLE001
            self.errors += 1
            self.log(m.LOG_ERROR, "poll failed: %r" % (e,))
        for msg_type, fields in self.results.due(now_ms):
            self._event(msg_type, fields)
        hb = self.heartbeat_ms
        if hb and now_ms - self._last_heartbeat >= hb:
            self._last_heartbeat = now_ms
            self._event(m.HEARTBEAT, self.status_fields())
        self._check_failsafe(now_ms)

    def _check_failsafe(self, now_ms):
        fs = self.failsafe_ms
        if not fs or not self.host_seen or self._failsafe_on:
            return
        if now_ms - self._last_rx_ms >= fs:
            self._failsafe_on = True
            self.failsafes += 1
            switched = self.controller.outputs_safe()
            self.log(m.LOG_WARNING, "host silent %d ms: %d outputs off" % (fs, switched))

    # -- asyncio wrapper ----------------------------------------------------------------------
    def _feed_byte_wise(self, data, state):
        """Safe mode: feed byte by byte; a Ctrl-C outside any frame ends the link so that the
        REPL gets the port (and the rest of what mpremote sent, still unread)."""
        for b in data:
            if b == CTRL_C and not self.decoder.pending:
                self.reset_mode = m.RESET_REPL
                state["stop"] = True
                return
            self.feed(bytes((b,)))

    async def run(self, reader, writer, uptime, sleep_ms, supervisor=None, period_ms=5):
        """Serve until EOF on the reader or a RESET request; returns the reset mode or None."""
        import asyncio

        state = {"stop": False, "writing": False}
        chunk = 1 if self.ctrl_c_exits else 256

        async def pump():
            while not state["stop"]:
                data = await reader.read(chunk)
                if not data:
                    state["stop"] = True
                    break
                if self.ctrl_c_exits:
                    self._feed_byte_wise(data, state)
                else:
                    self.feed(data)
                if self.reset_mode is not None:
                    state["stop"] = True

        async def write_out():
            while True:
                data = self.take_output()
                if not data:
                    await sleep_ms(period_ms)
                    continue
                state["writing"] = True
                for k in range(0, len(data), WRITE_CHUNK):
                    writer.write(data[k : k + WRITE_CHUNK])
                    await writer.drain()
                state["writing"] = False

        reading = asyncio.create_task(pump())
        writing = asyncio.create_task(write_out())
        if supervisor is not None:
            supervisor.register("service", uptime.now())
        while not state["stop"]:
            now = uptime.now()
            self.service(now)
            if supervisor is not None:
                supervisor.beat("service", now)
                supervisor.check(now)
            await sleep_ms(period_ms)
        for _ in range(50):  # let the writer send the last replies (the RESET ACK), bounded
            if not self._out and not state["writing"]:
                break
            await sleep_ms(period_ms)
        reading.cancel()
        writing.cancel()
        return self.reset_mode
