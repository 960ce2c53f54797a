"""Logging that never prints a secret: a filter masks tokens and password-like values."""
from __future__ import annotations

import logging
import re

from flask import Flask

_PATTERNS = [
    (re.compile(r"awxh_[A-Za-z0-9_-]{20,}"), "awxh_***"),
    (re.compile(r"(?i)(bearer\s+)\S+"), r"\1***"),
    (re.compile(r"(?i)((?:password|passwd|secret|community|token|key)[\"']?\s*[:=]\s*[\"']?)[^\s\"',}]+"),
     r"\1***"),
]


class SecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


def mask(text: str) -> str:
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text


def configure_logging(app: Flask) -> None:
    secrets_filter = SecretsFilter()
    for handler in logging.getLogger().handlers + app.logger.handlers:
        handler.addFilter(secrets_filter)
    if not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.addFilter(secrets_filter)
        logging.getLogger().addHandler(handler)
        logging.getLogger().setLevel(app.config.get("LOG_LEVEL", "INFO"))
    logging.getLogger("alembic").setLevel(logging.WARNING)   # migration chatter on every start
