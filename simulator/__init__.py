"""A simulated Allworx site (server, phones, Px Expanders) on loopback, built from confirmed facts."""
from simulator.site import Site, start_site

__all__ = ["Site", "start_site"]
