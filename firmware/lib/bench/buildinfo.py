"""Build identity. ``meterbench firmware build`` replaces this file in its output with the
version hash of the built file set; a source tree reports "source"."""

VERSION = "0.1.0"
HASH = "source"
