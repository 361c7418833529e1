"""Interrupt controllers: the RISC-V CLINT (also the machine timer) and PLIC, the Cortex-M
NVIC (with SysTick and the SCB), the Arm GIC. ``types`` declares them; each model is a
module of its own, ``banks`` what the GIC and the NVIC share."""
