"""Plug 'n' Play install windows that close by themselves."""
from api.install_windows.routes import blp  # noqa: F401
