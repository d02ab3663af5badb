"""The `rapport` command: the development system, operator tools and the benchmark."""
