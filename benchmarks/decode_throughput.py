"""Decode throughput: meterbench's DL/T 645 stream decoder against PyPI ``dlt645`` 3.2.0.

Both decode the same long noisy capture (valid frames with FE preambles, random garbage and
corrupted frames between them), fed in the same serial-sized chunks, in one run. Prints frames
per second for each and the ratio. The target is meterbench >= 3x. Needs ``pip install
-e '.[test]'`` (which brings ``dlt645``).

    python benchmarks/decode_throughput.py [--frames 30000] [--chunk 64] [--repeat 3]
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable

from meterproto.dlt645 import messages
from meterproto.dlt645.frame import StreamDecoder


def make_capture(frames: int, seed: int = 645) -> tuple[bytes, int]:
    """A capture with ``frames`` valid frames, garbage and broken frames between them."""
    rng = random.Random(seed)
    out = bytearray()
    for n in range(frames):
        address = f"{rng.randrange(10**12):012d}"
        kind = n % 4
        if kind == 0:
            frame = messages.read_reply(address, 0x00010000, rng.randbytes(4))
        elif kind == 1:
            frame = messages.read_reply(address, 0x0201FF00, rng.randbytes(6))
        elif kind == 2:
            frame = messages.read(address, 0x02020100)
        else:
            frame = messages.read_reply(address, 0x0001FF00, rng.randbytes(20))
        out += frame.encode(preamble=rng.randint(0, 4))
        garbage = rng.randint(0, 24)
        out += rng.randbytes(garbage)
        if n % 10 == 0:  # a corrupted frame: one byte flipped after the header
            broken = bytearray(
                messages.read_reply(address, 0x00010000, b"\x01\x02\x03\x04").encode(preamble=0)
            )
            broken[rng.randrange(10, len(broken) - 1)] ^= 0x5A
            out += broken
    return bytes(out), frames


def run_meterbench(capture: bytes, chunk: int) -> int:
    decoder = StreamDecoder()
    count = 0
    for i in range(0, len(capture), chunk):
        count += len(decoder.feed(capture[i : i + chunk]))
    return count + len(decoder.flush())


def run_dlt645(capture: bytes, chunk: int) -> int:
    from dlt645.protocol.protocol import DLT645Protocol

    parse = DLT645Protocol.deserialize_with_remaining
    buffer = b""
    count = 0
    for i in range(0, len(capture), chunk):
        buffer += capture[i : i + chunk]
        while True:
            remaining, frame = parse(buffer)
            buffer = remaining
            if frame is None:
                break
            count += 1
    return count


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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=30000)
    parser.add_argument("--chunk", type=int, default=64, help="bytes per read")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    capture, embedded = make_capture(args.frames)
    print(
        f"capture: {len(capture)} bytes, {embedded} valid frames embedded, "
        f"read in {args.chunk}-byte chunks"
    )
    ours, ours_found = best_rate(run_meterbench, capture, args.chunk, args.repeat)
    theirs, theirs_found = best_rate(run_dlt645, capture, args.chunk, args.repeat)
    print(f"meterbench StreamDecoder : {ours:12,.0f} frames/s  ({ours_found} frames found)")
    print(f"dlt645 3.2.0 protocol    : {theirs:12,.0f} frames/s  ({theirs_found} frames found)")
    print(f"ratio meterbench/dlt645  : {ours / theirs:.2f}x  (target >= 3x)")


if __name__ == "__main__":
    main()
