"""The projection's ties to the outside: PostgreSQL for views and offsets, Kafka for records in and views out."""
