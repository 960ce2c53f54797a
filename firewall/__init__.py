"""Vendor-neutral router model, per-platform parsers, and the exposure analysis over them."""
