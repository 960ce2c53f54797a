"""The checks: one module per area, each check a small registered unit with a pure evaluation.

Importing this package registers nothing; `hardening.checks.registry.load_all()` imports CHECK_MODULES.
"""
