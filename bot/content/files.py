"""Reading content files: strict YAML and schema validation with precise errors."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import jsonschema
import yaml

SCHEMA_DIR = Path(__file__).parent


class ContentError(ValueError):
    """A content file is invalid; the message names the file and the field."""

    def __init__(
        self, message: str, *, path: Path | str | None = None, field: str | None = None
    ) -> None:
        self.path = Path(path) if path is not None else None
        self.field = field
        where = []
        if path is not None:
            where.append(str(path))
        if field is not None:
            where.append(f"field '{field}'")
        super().__init__(": ".join([*where, message]))


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys and keeps dates as text.

    Duplicate keys would silently keep the last value; dates stay strings so the
    schema (and authors) see exactly what the file says.
    """


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: set[Any] = set()
    for key_node, _value in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=True)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_yaml(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_StrictLoader)  # noqa: S506
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ContentError(f"cannot read YAML: {exc}", path=path) from exc


@functools.cache
def _validator(schema_name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMA_DIR / schema_name).read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def validate(data: Any, schema_name: str, path: Path) -> None:
    """Raise ContentError for the first schema violation, naming the field."""
    errors = sorted(_validator(schema_name).iter_errors(data), key=lambda e: list(e.path))
    if not errors:
        return
    error = errors[0]
    field = ".".join(str(part) for part in error.path) or None
    if error.validator == "required":
        missing = error.message.split("'")[1]
        field = f"{field}.{missing}" if field else missing
        raise ContentError("missing required field", path=path, field=field)
    if error.validator == "additionalProperties":
        raise ContentError(f"unknown field ({error.message})", path=path, field=field)
    raise ContentError(error.message, path=path, field=field)
