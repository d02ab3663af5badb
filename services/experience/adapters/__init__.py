"""PostgreSQL and Kafka behind small interfaces the handlers depend on."""
