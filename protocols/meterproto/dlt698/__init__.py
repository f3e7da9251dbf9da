"""DL/T 698.45 basic link frame and a small APDU reader.

frame.py is MicroPython-safe (link frame, HCS/FCS, stream decoder); apdu.py is host-only (GET,
ACTION and LINK APDUs, A-XDR data values, ``describe``). This file imports nothing so that
``import meterproto.dlt698.frame`` works on MicroPython.
"""
