"""Helpers shared by the test suites (snmpsim process management, snmprec parsing)."""
