"""Typed application keys shared by the web modules."""

from __future__ import annotations

import aiohttp
from aiohttp import web

from bot.db import Database
from bot.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
DATABASE = web.AppKey("database", Database)
HTTP = web.AppKey("http", aiohttp.ClientSession)
