"""Endpoints by URL: anything pyserial opens (device paths, pty paths, ``socket://``,
``rfc2217://``, ``loop://``), with the line settings from config, opened exclusively.

Exclusive means two things. The OS lock (``flock`` on POSIX ports), which keeps a second process
from interleaving bytes, and a registry in this process keyed by the resolved device, so two bench
positions configured with different names for one adapter (``/dev/ttyUSB0`` and its
``/dev/serial/by-id`` link) are refused instead of fighting over the line.
"""

from __future__ import annotations

import errno
import os
import termios
import threading
from urllib.parse import urlsplit

import serial

from meterbench.transport.errors import PortInUseError, PortOpenError
from meterbench.transport.settings import SerialSettings

_registry: set[str] = set()
_registry_lock = threading.Lock()

# Schemes whose every open is a separate, private line (nothing to share or lock).
_PRIVATE_SCHEMES = {"loop"}


def endpoint_key(url: str) -> str | None:
    """The identity two opens of one physical line share, or None for private lines."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if "://" not in url or scheme == "file" or len(scheme) == 1:  # a path (or C:\ on Windows)
        path = parts.path if scheme == "file" else url
        return "dev:" + os.path.realpath(path)
    if scheme in _PRIVATE_SCHEMES:
        return None
    return f"{scheme}://{parts.netloc.lower()}{parts.path}"


def open_serial(
    url: str, settings: SerialSettings, *, exclusive: bool = True, read_timeout: float = 0.1
) -> tuple[serial.Serial, str | None]:
    """Open ``url`` with ``settings``; returns the pyserial object and its registry key.

    Raises PortInUseError when the line is already open here or locked elsewhere, and
    PortOpenError with pyserial's reason for anything else.
    """
    key = endpoint_key(url) if exclusive else None
    if key is not None:
        with _registry_lock:
            if key in _registry:
                raise PortInUseError(f"{url} is already open in this process ({key[4:] or key})")
            _registry.add(key)
    kwargs = settings.pyserial_kwargs()
    if key is not None and _is_pty(key[4:]):
        # A pty has no parity: Linux clears PARENB on pty slaves, and some kernels then refuse
        # to set it again (EINVAL). Bytes pass unchanged either way.
        kwargs["parity"] = serial.PARITY_NONE
    try:
        port = serial.serial_for_url(
            url,
            do_not_open=True,
            timeout=read_timeout,
            write_timeout=2.0,
            exclusive=exclusive if key is not None and key.startswith("dev:") else None,
            **kwargs,
        )
        port.open()
    except serial.SerialException as exc:
        release(key)
        text = _reason(exc)
        if "exclusively lock" in str(exc) or getattr(exc, "errno", None) == errno.EAGAIN:
            raise PortInUseError(f"{url} is in use by another program ({text})") from None
        raise PortOpenError(f"cannot open {url}: {text}") from None
    except (ValueError, OSError, termios.error) as exc:
        release(key)
        raise PortOpenError(f"cannot open {url}: {exc}") from None
    return port, key


def _reason(exc: serial.SerialException) -> str:
    """pyserial's reason without the repeated "could not open port X:" wrapping."""
    number = getattr(exc, "errno", None)
    if isinstance(number, int):
        return os.strerror(number)
    text = str(exc)
    head, sep, tail = text.partition(": ")
    if sep and "open port" in head.lower():
        text = tail
    return text.replace("[Errno 111] ", "").replace("[Errno 2] ", "")


def _is_pty(path: str) -> bool:
    """Unix98 pty slaves have character-device majors 136-143."""
    try:
        rdev = os.stat(path).st_rdev
    except OSError:
        return False
    return 136 <= os.major(rdev) <= 143


def release(key: str | None) -> None:
    """Forget a registry key (the port was closed)."""
    if key is None:
        return
    with _registry_lock:
        _registry.discard(key)
