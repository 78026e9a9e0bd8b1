"""The box itself: GPIO LEDs and button, systemd notify/watchdog, hotspot, first boot, doctor."""
