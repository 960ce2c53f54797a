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
