"""The write side of Rapport: validate incoming events, store them, relay them to `cx.events.v1`."""
