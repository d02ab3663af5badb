"""Use cases of the read side: project a consumed batch, republish views a crash left unpublished."""
