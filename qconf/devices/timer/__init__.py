"""A generic memory-mapped timer (register-compatible with Arm's CMSDK APB timer)."""
