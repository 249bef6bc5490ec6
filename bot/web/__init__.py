"""Rakel's own web service (aiohttp): health, service-desk pages, JSON API, widget."""
