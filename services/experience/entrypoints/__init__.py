"""How the outside world reaches the write side: HTTP and the Kafka intake topic."""
