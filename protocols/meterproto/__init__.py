"""meterproto: meter and bench-controller wire formats, sans-I/O.

Bytes in, frames out. Nothing here opens a port, sleeps, logs or retries. The modules named
MicroPython-safe in their docstrings (crc, compat, link, dlt645.frame) also run on the bench
controllers, so this package file imports nothing.
"""
