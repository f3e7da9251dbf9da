"""Drivers for the devices on a bench: meters, bench controllers, source and reference."""
