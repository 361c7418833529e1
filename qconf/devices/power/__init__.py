"""Devices that end the run: the SiFive test finisher and a generic poweroff register."""
