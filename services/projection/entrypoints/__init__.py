"""How the outside reaches the read side: the Kafka consumer loop and the HTTP API."""
