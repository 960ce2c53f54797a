"""Running audits: inputs from the inventory, gathering facts, evaluating checks, summaries, verification."""
