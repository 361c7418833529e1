"""UARTs: NS16550A (``ns16550a``), Arm PL011 (``pl011``), Arm CMSDK APB UART
(``cmsdk-apb-uart``). ``types`` declares them; each model is a module of its own."""
