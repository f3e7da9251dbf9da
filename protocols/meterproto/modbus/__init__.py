"""Modbus RTU (frequency converters, temperature transmitters on a water bench). Host-only."""
