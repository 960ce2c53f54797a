"""Renderings of an audit summary for the tools that consume it (JUnit, SARIF, Prometheus, Nagios, HTML)."""
