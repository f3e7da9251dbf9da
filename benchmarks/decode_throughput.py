"""Decode throughput: meterbench's DL/T 645 decoding against PyPI ``dlt645`` 3.2.0, in one run.

The corpus is real: the DL/T 645-2007 reply frames of ``shared/vectors/frames.json`` (captures
published with other implementations) that *both* decoders turn into a value, repeated into
one stream (as published: some with FE preambles) and read in serial-sized chunks.

Two figures, each as frames per second and as a ratio against the peer measured in the same run:

framing      bytes -> checked frames (start, length, checksum, end).
full decode  bytes -> the values the frames carry: meterbench's StreamDecoder, parse_reply and
             the item catalogue's codecs (exact Decimals, dates, BCD texts); the peer's
             deserialize_with_remaining and its client's handle_response (floats).

The peer can log every frame (loguru, to the console and files); it is measured in its fastest
configuration, with ``dlt645.disable_logging()`` and the standard logging module off, and its
client made once outside the timing (making one deep-copies its item map).
Needs ``pip install -e '.[test]'`` (which brings ``dlt645``).

    python benchmarks/decode_throughput.py [--frames 10000] [--chunk 64] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

from meterproto.dlt645 import messages
from meterproto.dlt645.di import lookup
from meterproto.dlt645.frame import StreamDecoder

VECTORS = Path(__file__).resolve().parents[1].parent / "shared" / "vectors" / "frames.json"


def real_replies() -> list[bytes]:
    """The published DL/T 645-2007 reply frames (as captured, preambles included)."""
    found = json.loads(VECTORS.read_text(encoding="utf-8"))["frames"]
    return [
        bytes.fromhex(v["hex"])
        for v in found
        if v["protocol"] == "dlt645-2007"
        and v["valid"]
        and v["expect"].get("direction") == "response"
    ]


def our_value(frame: Any) -> Any:
    """The value a reply frame carries, as the host's meter client decodes it."""
    reply = messages.parse_reply(frame, 2007)
    if isinstance(reply, messages.ReadReply):
        item = lookup(reply.di)
        return None if item is None else item.decode(reply.payload)
    if isinstance(reply, messages.ReadAddressReply):
        return reply.meter_address
    return None


@cache
def peer_service() -> Any:
    """The peer's client, made once and outside the timing (it deep-copies its item map)."""
    from dlt645.service.clientsvc.client_service import MeterClientService

    return MeterClientService(None)  # type: ignore[arg-type]  # decoding only, no line


def peer_value(service: Any, frame: Any) -> Any:
    """The peer client's value for a reply (it checks the address against its own)."""
    service.address = bytearray(frame.addr)
    item = service.handle_response(frame)
    return None if item is None else item.value


def corpus(frames: int) -> tuple[bytes, int]:
    """``frames`` replies that both decoders turn into a value, cycled into one stream."""
    from dlt645.protocol.protocol import DLT645Protocol

    service = peer_service()
    usable = []
    for raw in real_replies():
        (ours,) = StreamDecoder().feed(raw)
        _, theirs = DLT645Protocol.deserialize_with_remaining(raw)
        if ours.abnormal or theirs is None:
            continue  # a refusal carries no value
        if our_value(ours) is not None and peer_value(service, theirs) is not None:
            usable.append(raw)
    return b"".join(usable[n % len(usable)] for n in range(frames)), len(usable)


def ours_framing(capture: bytes, chunk: int) -> int:
    decoder = StreamDecoder()
    count = 0
    for i in range(0, len(capture), chunk):
        count += len(decoder.feed(capture[i : i + chunk]))
    return count + len(decoder.flush())


def ours_values(capture: bytes, chunk: int) -> int:
    decoder = StreamDecoder()
    count = 0
    for i in range(0, len(capture), chunk):
        for frame in decoder.feed(capture[i : i + chunk]):
            count += our_value(frame) is not None
    return count


def _peer_frames(capture: bytes, chunk: int) -> Iterator[Any]:
    from dlt645.protocol.protocol import DLT645Protocol

    parse = DLT645Protocol.deserialize_with_remaining
    buffer = b""
    for i in range(0, len(capture), chunk):
        buffer += capture[i : i + chunk]
        while True:
            buffer, frame = parse(buffer)
            if frame is None:
                break
            yield frame


def peer_framing(capture: bytes, chunk: int) -> int:
    return sum(1 for _ in _peer_frames(capture, chunk))


def peer_values(capture: bytes, chunk: int) -> int:
    service = peer_service()
    return sum(peer_value(service, f) is not None for f in _peer_frames(capture, chunk))


def best_rate(
    fn: Callable[[bytes, int], int], capture: bytes, chunk: int, repeat: int
) -> tuple[float, int]:
    best = float("inf")
    found = 0
    for _ in range(repeat):
        start = time.perf_counter()
        found = fn(capture, chunk)
        best = min(best, time.perf_counter() - start)
    return found / best, found


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--frames", type=int, default=10000)
    parser.add_argument("--chunk", type=int, default=64, help="bytes per read")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)
    import dlt645

    dlt645.disable_logging()

    capture, kinds = corpus(args.frames)
    print(
        f"corpus: {args.frames} real reply frames ({kinds} distinct), {len(capture)} bytes, "
        f"read in {args.chunk}-byte chunks, best of {args.repeat}"
    )
    for name, ours_fn, peer_fn in (
        ("framing", ours_framing, peer_framing),
        ("full decode", ours_values, peer_values),
    ):
        ours, ours_found = best_rate(ours_fn, capture, args.chunk, args.repeat)
        theirs, theirs_found = best_rate(peer_fn, capture, args.chunk, args.repeat)
        print(f"{name}:")
        print(f"  meterbench                : {ours:10,.0f} frames/s  ({ours_found} frames)")
        print(f"  dlt645 3.2.0, logging off : {theirs:10,.0f} frames/s  ({theirs_found} frames)")
        print(f"  ratio meterbench/dlt645   : {ours / theirs:.2f}x  (target >= 1x)")


if __name__ == "__main__":
    main()
