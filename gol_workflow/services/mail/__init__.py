"""E-mail: the outbox, SMTP delivery and operators' notifications."""
