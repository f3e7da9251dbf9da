"""Small shims so the MicroPython-safe modules import on CPython and on MicroPython alike."""

try:
    # MicroPython folds const() at compile time; CPython has no such module.
    from micropython import const  # noqa: F401  # pyright: ignore[reportMissingImports]
except ImportError:  # CPython

    def const(value):
        return value


try:
    from binascii import hexlify as _hexlify
except ImportError:  # pragma: no cover - every MicroPython port we target has binascii

    def _hexlify(data):
        return "".join("%02x" % b for b in data).encode()


def to_hex(data):
    """Lower-case hex of a bytes-like object, on CPython and MicroPython."""
    return _hexlify(bytes(data)).decode()


def from_hex(text):
    """Bytes from hex text; spaces, colons and a 0x prefix are tolerated."""
    text = text.strip()
    if text[:2] in ("0x", "0X"):
        text = text[2:]
    clean = text.replace(" ", "").replace(":", "").replace("\n", "").replace("\t", "")
    if len(clean) % 2:
        raise ValueError("odd number of hex digits")
    out = bytearray(len(clean) // 2)
    for i in range(len(out)):
        out[i] = int(clean[2 * i : 2 * i + 2], 16)
    return bytes(out)
