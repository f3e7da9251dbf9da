"""Errors of the transport layer: the port could not be opened, vanished, or the bus got no usable
reply. Each message is one line that an operator can act on."""

from __future__ import annotations


class TransportError(Exception):
    """Base class of every transport failure."""


class PortOpenError(TransportError):
    """The endpoint could not be opened (bad path, refused connection, no permission)."""


class PortInUseError(PortOpenError):
    """The endpoint is already open in this process or locked by another one."""


class PortLostError(TransportError):
    """The port vanished (adapter unplugged, server gone) and was not back in time."""


class ReplyTimeout(TransportError):
    """No matching reply arrived within the deadline of any attempt."""

    def __init__(self, message: str, attempts: int = 1) -> None:
        super().__init__(message)
        self.attempts = attempts


class CorruptReply(TransportError):
    """Replies arrived but none was usable (bad checksum, malformed data) after all attempts."""

    def __init__(self, message: str, attempts: int = 1) -> None:
        super().__init__(message)
        self.attempts = attempts


class BadFrame(Exception):  # noqa: N818 - a verdict on one frame, raised by a matcher
    """Raised by an exchange's matcher: this frame answers the request but cannot be used."""
