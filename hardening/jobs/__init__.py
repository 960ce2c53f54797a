"""Background duties: the leader, schedules, webhooks, install windows, the credential-test budget."""
