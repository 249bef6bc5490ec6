"""Rasa input channels for Rakel. All of them mask personal data on entry."""
