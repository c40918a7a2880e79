"""Who is who and who may do what: accounts, sessions, tokens, authorisation."""
