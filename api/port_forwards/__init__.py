"""On-demand port-forward verification of a site's routers, and the outside probe role."""
from api.port_forwards.routes import blp  # noqa: F401
