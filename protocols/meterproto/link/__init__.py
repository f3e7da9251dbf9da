"""Host <-> bench controller link: framing (frame.py) and message table (messages.py).

MicroPython-safe; firmware and host import the same table. Typical use::

    from meterproto import link
    wire = link.encode(link.HELLO, 1, protocol=link.PROTOCOL_VERSION, host_caps=0,
                       heartbeat_ms=1000)
    decoder = link.LinkDecoder()
    for frame in decoder.feed(chunk):
        msg = link.parse(frame)
"""

from meterproto.link.frame import (  # noqa: F401
    CRC_LEN,
    HEADER_LEN,
    MAX_FRAME,
    MAX_PAYLOAD,
    OVERHEAD,
    START,
    EncodeError,
    Frame,
    LinkDecoder,
    LinkError,
    decode_frame,
    encode_frame,
    header_check,
)
from meterproto.link.messages import *  # noqa: F401,F403
