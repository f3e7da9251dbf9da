"""Typed errors of the meter clients, each with a one-line message naming the meter.

Transport failures that concern the whole bus (the port vanished, could not be opened) stay
TransportError; these concern one meter: it did not answer, refused, or answered nonsense.
"""

from __future__ import annotations


class MeterError(Exception):
    """Base class: something went wrong with one meter."""

    def __init__(self, message: str, address: str | None = None) -> None:
        super().__init__(message)
        self.address = address


class MeterTimeout(MeterError):
    """The meter did not answer within the deadline, on any attempt."""

    def __init__(self, message: str, address: str | None = None, attempts: int = 1) -> None:
        super().__init__(message, address)
        self.attempts = attempts


class MeterBadReply(MeterError):
    """The meter answered, but the reply was corrupt, malformed or inconsistent."""


class MeterAbnormalReply(MeterError):
    """The meter refused the request (abnormal reply); ``errors`` names the bits set."""

    def __init__(
        self,
        message: str,
        address: str | None = None,
        *,
        function: int = 0,
        error_word: int = 0,
        errors: tuple[str, ...] = (),
        version: int = 2007,
    ) -> None:
        super().__init__(message, address)
        self.function = function
        self.error_word = error_word
        self.errors = errors
        self.version = version


class MeterWriteUnknown(MeterTimeout):
    """A write got no reply: the meter may or may not have taken it, so it is never reported
    as done. ``confirmed`` is what a read-back showed: True (the meter holds the value),
    False (it does not), None (the value cannot be read back or the read-back failed).
    A subclass of MeterTimeout, so callers that treat silence as failure still do."""

    def __init__(
        self,
        message: str,
        address: str | None = None,
        attempts: int = 1,
        *,
        confirmed: bool | None = None,
    ) -> None:
        super().__init__(message, address, attempts)
        self.confirmed = confirmed


class MeterUnsupported(MeterError):
    """The meter's protocol edition has no way to do what was asked (nothing was sent)."""


class MeterDarError(MeterAbnormalReply):
    """A DL/T 698.45 meter answered with a data access result other than success; ``dar`` is
    the code and ``errors`` holds its name (``"read/write denied"``, ``"object undefined"``)."""

    def __init__(self, message: str, address: str | None = None, *, dar: int, name: str) -> None:
        super().__init__(message, address, error_word=dar, errors=(name,), version=698)
        self.dar = dar
