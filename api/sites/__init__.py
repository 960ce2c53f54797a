"""Sites: one customer location with its WAN/LAN addressing and policy inputs."""
from api.sites.routes import blp  # noqa: F401
