"""Entry point of the Rasa server process: Rasa's own CLI, plus our runtime fixes.

`python -m bot.rasa_runtime run ...` takes exactly the arguments of `rasa run ...`.
`bot.cli run rasa` starts Rasa through this module so that every deployment (Procfile,
docker-compose, the tests' process harness) runs with the same fixes.

The fixes are narrow and keep Rasa's behaviour; each says why it exists.
"""

from __future__ import annotations

import functools
import sys
from typing import Any


def precompile_action_result_validation() -> None:
    """Validate action-server responses against a schema that is checked only once.

    Rasa 3.6 validates every action server response with `jsonschema.validate(result,
    schema)`. That function first validates the *schema* against the JSON Schema
    2020-12 meta-schema, on every call: profiling `make bench` with py-spy showed this
    meta-schema check taking a third of the Rasa process's time (docs/performance.md).
    The schema is a constant, so we build its validator once and validate each response
    with it, raising the same `ValidationError` (jsonschema's best match) that Rasa does.
    """
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    if getattr(RemoteAction._validate_action_result, "precompiled", False):
        return

    @functools.lru_cache(maxsize=1)
    def validator() -> Any:
        schema = RemoteAction.action_response_format_spec()
        cls = validator_for(schema)
        cls.check_schema(schema)
        return cls(schema)

    original = RemoteAction._validate_action_result

    @functools.wraps(original)
    def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        error = best_match(validator().iter_errors(result))
        if error is None:
            return True
        # Rasa's own wording, so operators see the same message as before.
        error.message += (
            ". Failed to validate Action server response from API, make sure your "
            "response from the Action endpoint is valid."
        )
        raise error

    # A marker on the function (mypy has no notion of function attributes) makes a second
    # apply() a no-op; replacing Rasa's method is the point of this patch.
    validate_action_result.precompiled = True  # type: ignore[attr-defined]
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]


def memoize_event_type_lookup() -> None:
    """Look up an event class by its type name once, not once per stored event.

    Loading a conversation from the tracker store turns every stored event back into
    an object, and Rasa 3.6 finds each event's class by walking the whole `Event`
    class tree (`all_subclasses`) every time: 9 % of the Rasa process's time under
    `make bench`, growing with the length of the conversation. The tree is fixed once
    Rasa has imported its modules, so a name -> class memo gives the same answers.
    Names that are not found are not memoised: they keep Rasa's own handling
    (default class, or `ValueError`), and a class imported later is still found.
    """
    from rasa.shared.core.events import Event

    if getattr(Event.resolve_by_type, "memoized", False):
        return

    original = Event.resolve_by_type
    found: dict[str, type[Event]] = {}

    @functools.wraps(original)
    def resolve_by_type(type_name: str, default: type[Event] | None = None) -> type[Event] | None:
        cls = found.get(type_name)
        if cls is not None:
            return cls
        try:
            cls = original(type_name)
        except ValueError:
            return original(type_name, default)  # the default, or Rasa's ValueError
        if cls is not None:  # None: Rasa's legacy "topic" events
            found[type_name] = cls
        return cls

    # As above: a marker against patching twice, and the patch of Rasa's method itself.
    resolve_by_type.memoized = True  # type: ignore[attr-defined]
    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[method-assign]


def apply() -> None:
    precompile_action_result_validation()
    memoize_event_type_lookup()


def with_api_token(args: list[str]) -> list[str]:
    """`rasa run --enable-api` arguments plus Rasa's API token, from the settings.

    Added here, inside the process, rather than by whoever starts it: `sys.argv` is
    this process's own copy, while the command line the OS keeps (`ps`,
    /proc/<pid>/cmdline) is readable by every local user. Rasa 3.6 reads the token
    only from `--auth-token`.
    """
    given = any(a == "--auth-token" or a.startswith("--auth-token=") for a in args)
    if args[:1] != ["run"] or "--enable-api" not in args or given:
        return args
    from bot.settings import load_settings

    # One argument with "=": a generated token may start with "-", which argparse would
    # take for an option and refuse ("expected one argument"), so Rasa would not start.
    return [*args, f"--auth-token={load_settings().secret('rasa_token')}"]


def main(argv: list[str] | None = None) -> None:
    apply()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *with_api_token(sys.argv[1:] if argv is None else argv)]
    rasa_main()


if __name__ == "__main__":
    main()
