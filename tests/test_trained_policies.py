"""No dead dialogue policies: every policy in config.yml learnt something at training.

Rasa trains a configured policy that has nothing to learn from without failing: TED
logs "Skipping training … as no data was provided" and persists nothing, and
MemoizationPolicy persists an empty lookup. The model then carries a component that
only costs start-up time. These tests read the cached model (trained if missing).
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
import yaml

from bot.settings import PROJECT_ROOT, load_settings

CONFIG = PROJECT_ROOT / "config.yml"


def _learnt(files: dict[str, bytes]) -> bool:
    """Did a policy's persisted files come from training on some data?"""
    if not files:
        return False  # skipped: the policy persisted nothing
    for name, content in files.items():
        if not name.endswith(".json"):
            continue
        try:
            data = json.loads(content)
        except ValueError:
            continue
        if isinstance(data, dict) and "lookup" in data:
            lookup = data["lookup"]
            # RulePolicy keeps its rules under "rules"; memoization the turns themselves.
            learnt = (
                lookup.get("rules") if isinstance(lookup, dict) and "rules" in lookup else lookup
            )
            if not learnt:
                return False
    return True


def policies_that_learnt_nothing(model: Path, config: Path = CONFIG) -> list[str]:
    """The configured policies whose trained component in `model` is missing or empty."""
    configured = [p["name"] for p in yaml.safe_load(config.read_text())["policies"]]
    with tarfile.open(model) as archive:
        members = {m.name.lstrip("/"): m for m in archive.getmembers() if m.isfile()}
        metadata = json.loads(archive.extractfile(members["metadata.json"]).read())  # type: ignore[union-attr]
        nodes = metadata["train_schema"]["nodes"]
        dead = []
        for name in configured:
            node = next(
                (key for key, node in nodes.items() if node["uses"].rsplit(".", 1)[-1] == name),
                None,
            )
            prefix = f"components/{node}/"
            files = {
                path[len(prefix) :]: archive.extractfile(member).read()  # type: ignore[union-attr]
                for path, member in members.items()
                if node and path.startswith(prefix)
            }
            if node is None or not _learnt(files):
                dead.append(name)
    return dead


def _archive(tmp_path: Path, nodes: dict[str, str], files: dict[str, object]) -> Path:
    path = tmp_path / "model.tar.gz"
    metadata = {"train_schema": {"nodes": {k: {"uses": v} for k, v in nodes.items()}}}
    with tarfile.open(path, "w:gz") as archive:
        for name, content in {"metadata.json": metadata, **files}.items():
            data = json.dumps(content).encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_a_skipped_or_empty_policy_is_reported(tmp_path):
    config = tmp_path / "config.yml"
    config.write_text(
        "policies:\n  - name: RulePolicy\n  - name: MemoizationPolicy\n  - name: TEDPolicy\n"
    )
    model = _archive(
        tmp_path,
        {
            "train_RulePolicy0": "rasa.core.policies.rule_policy.RulePolicy",
            "train_MemoizationPolicy1": "rasa.core.policies.memoization.MemoizationPolicy",
            "train_TEDPolicy2": "rasa.core.policies.ted_policy.TEDPolicy",
        },
        {
            "components/train_RulePolicy0/rule_policy.json": {"lookup": {"rules": {"a": "b"}}},
            # No stories: an empty lookup; TED persisted nothing at all.
            "components/train_MemoizationPolicy1/memorized_turns.json": {"lookup": {}},
        },
    )
    assert policies_that_learnt_nothing(model, config) == ["MemoizationPolicy", "TEDPolicy"]


@pytest.mark.e2e
def test_every_configured_policy_learnt_something_in_the_cached_model():
    from bot.train import ensure_model

    model = ensure_model(load_settings())
    assert policies_that_learnt_nothing(model) == []
