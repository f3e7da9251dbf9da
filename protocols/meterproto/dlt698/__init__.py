"""DL/T 698.45: link frame, application services, security envelope, fragmentation, catalogue.

frame.py is MicroPython-safe (link frame, HCS/FCS, stream decoder). The rest is host-only:
apdu.py (A-XDR data, GET/ACTION-Normal, LINK, ``parse_apdu`` for every APDU, ``describe``),
services.py (CONNECT, RELEASE, GET list/record/next, SET, ACTION list, REPORT, ERROR),
security.py (SECURITY-Request/-Response and the security provider interface), fragment.py
(link-layer fragments) and catalogue.py (OIs with data types, scalers and units). This file
imports nothing so that ``import meterproto.dlt698.frame`` works on MicroPython.
"""
