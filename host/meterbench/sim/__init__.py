"""The simulated bench: one physics model behind devices that speak the real wire protocols."""
