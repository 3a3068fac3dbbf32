"""The ``mbcnav`` command line."""
