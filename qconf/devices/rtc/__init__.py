"""Real-time clocks: the Arm PrimeCell PL031."""
