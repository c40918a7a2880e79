"""Tables, repositories and the unit of work: the only place that talks SQL."""
