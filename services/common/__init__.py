"""Code both services need and that is not part of the public contract: kept here once instead of twice."""
