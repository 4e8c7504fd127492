"""Fitting the model's constants to the real data (the app never imports it)."""
