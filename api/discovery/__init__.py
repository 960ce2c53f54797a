"""Discovery of Allworx devices on a site's LAN, and Plug 'n' Play install windows."""
from api.discovery.routes import blp  # noqa: F401
