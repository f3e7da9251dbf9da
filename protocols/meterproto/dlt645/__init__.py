"""DL/T 645-2007 and -1997.

frame.py is MicroPython-safe (the controllers pass frames to meters); values.py, di.py and
messages.py are host-only (construct). This file imports nothing so that ``import
meterproto.dlt645.frame`` works on MicroPython.
"""
