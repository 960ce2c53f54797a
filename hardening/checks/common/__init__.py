"""What check modules share, and the only module they import helpers from: results about one device,
results from the router's forwards, password scoring and login tests."""
from hardening.checks.common.device import (
                                            DECLARED_NOTE,
                                            NO_SERVER,
                                            bad_value,
                                            bool_setting,
                                            channel_errors,
                                            device_result,
                                            fact_evidence,
                                            outside_probes,
                                            per_device,
                                            read_fact,
                                            target,
                                            undecided,
)
from hardening.checks.common.passwords import (
                                               Strength,
                                               assess,
                                               login_result,
                                               prior_verdict,
                                               reveal,
                                               secret_evidence,
                                               strength_result,
)
from hardening.checks.common.router import (
                                            ALLWORX_ROLES,
                                            NO_ALLWORX,
                                            NO_ROUTER,
                                            Verdict,
                                            finish,
                                            forward_check,
                                            is_offline,
                                            not_applicable,
                                            readable_routers,
                                            ref_evidence,
                                            ref_source,
                                            router_device_id,
                                            router_provenance,
                                            strongest_provenance,
)

__all__ = ["DECLARED_NOTE", "NO_SERVER", "bad_value", "bool_setting", "channel_errors", "device_result",
           "fact_evidence", "outside_probes", "per_device", "read_fact", "target", "undecided", "Strength", "assess",
           "login_result", "prior_verdict", "reveal", "secret_evidence", "strength_result", "ALLWORX_ROLES",
           "NO_ALLWORX", "NO_ROUTER",
           "Verdict", "finish", "forward_check", "is_offline", "not_applicable", "readable_routers", "ref_evidence",
           "ref_source", "router_device_id", "router_provenance", "strongest_provenance"]
