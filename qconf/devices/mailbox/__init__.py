"""A two-sided mailbox for heterogeneous machines (registers: ``model.Mailbox``)."""
