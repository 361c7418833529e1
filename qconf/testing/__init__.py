"""Testing firmware on qconf machines: the machine under test (:mod:`qconf.testing.dut`)
and the pytest plugin (:mod:`qconf.testing.plugin`, loaded by pytest when qconf is
installed). Importing this package imports neither."""
