"""Rapport's read side: folds canonical events into per-customer views and serves them."""
