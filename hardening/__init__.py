"""Checks, policy data, the audit engine and remediation planning (neither a driver nor an endpoint)."""
