"""Pure decisions of the write side: no I/O, no settings, no clock."""
