"""The pure domain: site facts, check catalog, policy and profiles, results, scoring, drift, waivers."""
