"""Custom actions. rasa-sdk imports every module here and instantiates every Action
subclass without arguments, so modules do no I/O at import time: services are
created lazily in `bot.actions.services`."""
