"""What the schemathesis tests (stateless and stateful) treat apart, and why: one list for both."""

# Operations that contact devices: with no device behind the (loopback) address they rightly answer
# with their documented 502/504. The generic "no 5xx" check is replaced by: documented, and never 500.
DEVICE_CONTACT = {"/api/v1/sites/{site_id}/install-windows", "/api/v1/install-windows/{window_id}/close",
                  "/api/v1/remediations", "/api/v1/remediations/{remediation_id}/apply",
                  "/api/v1/remediations/{remediation_id}/confirm", "/api/v1/remediations/{remediation_id}/rollback",
                  "/api/v1/sites/{site_id}/port-forwards/verify", "/api/v1/sites/{site_id}/discover"}

# Bodies with rules OpenAPI cannot express (a valid cron, a known check id, a public webhook URL)
SEMANTIC = {("POST", "/api/v1/sites/{site_id}/schedules"), ("POST", "/api/v1/sites/{site_id}/waivers"),
            ("POST", "/api/v1/webhooks")}


def negates_authorization(case) -> bool:
    """Whether a generated case is invalid in its Authorization header (missing or broken on purpose).

    The tests add their token to every call; for such a case they must not, or the API rightly answers
    200 to what schemathesis counts as a negative case. Named by the phase data when it says so; an
    operation with no header parameters of its own can only have its security header negated.
    """
    from schemathesis.core.parameters import ParameterLocation

    if case.meta is None:
        return False
    data = case.meta.phase.data
    targets = [(data.parameter_location, data.parameter),
               *((m.parameter_location, m.parameter) for m in getattr(data, "mutations", ()))]
    if any(location == ParameterLocation.HEADER and (name or "").lower() == "authorization"
           for location, name in targets):
        return True
    header = case.meta.components.get(ParameterLocation.HEADER)
    declared = [p for p in case.operation.definition.raw.get("parameters", []) if p.get("in") == "header"]
    return header is not None and header.mode.is_negative and not declared
