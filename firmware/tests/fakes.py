"""Small helpers shared by the firmware suites."""

from bench import app, config
from bench.clock import ManualClock
from bench.hal.sim import SimHal

from meterproto import link


class FakeBoot:
    def __init__(self, safe=False):
        self.safe = safe
        self.boot_id = 7
        self.reason = "test" if safe else ""


def make_server(positions=2, safe=False, greet=True, **cfg_overrides):
    """A link server on the sim HAL; ``greet``: a host has already said HELLO (its reply
    discarded), as every request other than HELLO, STATUS_GET and RESET needs."""
    hal = SimHal(positions=positions, clock=ManualClock())
    cfg = dict(config.DEFAULTS)
    cfg.update(cfg_overrides)
    server = app.build(hal, cfg, FakeBoot(safe))
    if greet:
        hello(server, seq=250)
    return server, hal


def replies(server):
    """Messages the server has queued, decoded."""
    dec = link.LinkDecoder()
    return [link.parse(f) for f in dec.feed(server.take_output())]


def request(server, msg_type, seq=1, **fields):
    server.feed(link.encode(msg_type, seq, **fields))
    return replies(server)


def hello(server, seq=1, protocol=link.PROTOCOL_VERSION):
    return request(server, link.HELLO, seq, protocol=protocol, host_caps=0, heartbeat_ms=0)


def ack(server, ids, seq=1):
    """RESULT_ACK for these result ids."""
    return request(server, link.RESULT_ACK, seq, ids=link.pack_result_ids(ids))
