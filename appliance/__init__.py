"""Event photo appliance: memory card → buffer → publish → bucket → live gallery."""

__version__ = "0.1.0"
