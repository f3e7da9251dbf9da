"""CJ/T 188 (household water, gas and heat meters).

frame.py is MicroPython-safe (the controllers pass frames to meters); messages.py is host-only
(request builders, reply parsers, ``describe``). This file imports nothing so that ``import
meterproto.cjt188.frame`` works on MicroPython.
"""
