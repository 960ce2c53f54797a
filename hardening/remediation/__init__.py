"""Safe router remediation: plan (commands + diff) -> apply under a lock -> verify -> confirm or roll back."""
