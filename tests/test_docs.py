"""The developer docs name only what exists, and name every setting Rakel reads.

Docs drift silently: a setting added to `bot/settings.py` without a README row, a
layout line for a folder that moved, a `make` verb that was renamed. These tests read
the docs the way a new engineer would and check each name against the tree.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
ARCHITECTURE = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
SETTING = re.compile(r"\bRAKEL_[A-Z0-9_]*[A-Z0-9]\b")


def section(markdown: str, heading: str) -> str:
    """The text under `heading` (any level) up to the next heading of the same or higher level."""
    match = re.search(rf"^(#+) {re.escape(heading)}\s*$", markdown, re.MULTILINE)
    assert match, f"no heading {heading!r}"
    level = len(match.group(1))
    rest = markdown[match.end() :]
    end = re.search(rf"^#{{1,{level}}} ", rest, re.MULTILINE)
    return rest[: end.start()] if end else rest


def settings_read() -> set[str]:
    """Every RAKEL_* variable `bot/settings.py` reads, literal or derived from a declared key."""
    from bot import settings

    source = Path(settings.__file__).read_text(encoding="utf-8")
    names = set(SETTING.findall(source))
    # Contact details are read as RAKEL_<KEY> for each declared key.
    names |= {f"RAKEL_{key.upper()}" for key in settings.CONTACT_DEFAULTS}
    # Secrets are read as RAKEL_<NAME> by Settings.secret(name), wherever a process asks.
    for top in ("bot", "devtools"):
        for path in (ROOT / top).rglob("*.py"):
            if "scaled" in path.parts:  # the scaled profile's own secrets: docs/scaling.md
                continue
            text = path.read_text(encoding="utf-8")
            names |= {f"RAKEL_{n.upper()}" for n in re.findall(r"secret\(\s*[\"'](\w+)", text)}
    return names


def configuration_table() -> set[str]:
    table = section(README, "Configuration")
    rows = [line for line in table.splitlines() if line.startswith("|")]
    assert len(rows) > 3, "the configuration table is missing or broken"
    names: set[str] = set()
    for row in rows:
        first_cell = row.split("|")[1]
        names |= set(SETTING.findall(first_cell))
    return names


def test_every_setting_is_in_the_readme_table() -> None:
    missing = settings_read() - configuration_table()
    assert not missing, (
        f"bot/settings.py reads these, the README table lacks them: {sorted(missing)}"
    )


def test_the_readme_table_names_only_settings_that_are_read() -> None:
    unknown = configuration_table() - settings_read()
    assert not unknown, f"the README table names settings nobody reads: {sorted(unknown)}"


def test_the_configuration_table_is_one_table() -> None:
    """A blank line inside a Markdown table ends it; the rest renders as plain text."""
    table = section(README, "Configuration")
    lines = table.strip().splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("|"))
    last = max(i for i, line in enumerate(lines) if line.startswith("|"))
    assert all(line.startswith("|") for line in lines[first : last + 1])


def layout_paths() -> list[str]:
    paths = []
    for line in section(README, "Layout").splitlines():
        if not line.startswith("    "):
            continue
        first = line.strip().split("  ")[0]
        paths += [name.strip() for name in first.split(",") if name.strip()]
    return paths


def test_the_layout_names_only_what_exists() -> None:
    paths = layout_paths()
    assert len(paths) >= 8
    missing = [path for path in paths if not (ROOT / path).exists()]
    assert not missing, f"README layout names paths that do not exist: {missing}"


def test_every_top_level_package_is_in_the_layout() -> None:
    listed = {path.rstrip("/") for path in layout_paths()}
    packages = {p.parent.name for p in ROOT.glob("*/*.py")}
    assert "bot" in packages
    assert packages <= listed, f"packages missing from the README layout: {packages - listed}"


def make_help() -> dict[str, str]:
    result = subprocess.run(
        ["make", "--no-print-directory", "help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    verbs = {}
    for line in result.stdout.splitlines():
        match = re.match(r"\s*make (\S+)\s+(.*)", line)
        if match:
            verbs[match.group(1)] = match.group(2)
    return verbs


def makefile_recipes() -> dict[str, list[str]]:
    recipes: dict[str, list[str]] = {}
    current = None
    for line in (ROOT / "Makefile").read_text(encoding="utf-8").splitlines():
        target = re.match(r"^([a-z][a-z-]*):", line)
        if target:
            current = target.group(1)
            recipes[current] = []
        elif line.startswith("\t") and current:
            recipes[current].append(line.strip())
    return recipes


def test_make_help_lists_every_verb_and_each_verb_runs_something_real() -> None:
    verbs = make_help()
    recipes = makefile_recipes()
    assert {"run", "test", "test-fast", "setup", "eval", "lint"} <= set(verbs)
    phony = re.search(r"^\.PHONY:(.*)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert phony
    assert set(phony.group(1).split()) == set(verbs), "a verb lacks a ## help text or .PHONY"
    for verb in verbs:
        for command in recipes[verb]:
            for module in re.findall(r"python -m ([\w.]+)", command):
                if module in {"pytest", "bot.cli"}:
                    continue
                path = ROOT / module.replace(".", "/")
                assert path.with_suffix(".py").exists() or (path / "__main__.py").exists(), (
                    f"make {verb} runs python -m {module}, which does not exist"
                )
            for script in re.findall(
                r"\b((?:scripts|teams|devtools)/[\w./-]+\.(?:py|sh))", command
            ):
                assert (ROOT / script).exists(), f"make {verb} runs {script}, which does not exist"


def test_every_make_verb_the_readme_names_exists() -> None:
    named = set(re.findall(r"^\s+make ([a-z][a-z-]*)", README, re.MULTILINE))
    assert named
    unknown = named - set(make_help())
    assert not unknown, f"README names make verbs that do not exist: {sorted(unknown)}"


def test_every_cli_command_the_docs_name_exists() -> None:
    result = subprocess.run(
        ["python", "-m", "bot.cli", "--help"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    commands = set(re.search(r"\{([^}]*)\}", result.stdout).group(1).split(","))
    docs = README + "".join(p.read_text(encoding="utf-8") for p in (ROOT / "docs").glob("*.md"))
    named = set(re.findall(r"python -m bot\.cli ([a-z][a-z-]*)", docs))
    assert named
    unknown = named - commands
    assert not unknown, f"docs name CLI commands that do not exist: {sorted(unknown)}"


# --- docs/architecture.md: the module map ---------------------------------------


def module_map() -> list[str]:
    rows = [
        line for line in section(ARCHITECTURE, "Module map").splitlines() if line.startswith("|")
    ]
    modules = []
    for row in rows[2:]:
        package = ""
        for name in re.findall(r"`([\w./]+)`", row.split("|")[2]):
            if "/" not in name:  # `bot/content/` (`files.py`, …): a module of that package
                name = package + name
            elif name.endswith("/"):
                package = name
            modules.append(name)
    return modules


def test_the_module_map_names_only_modules_that_exist() -> None:
    modules = module_map()
    assert len(modules) >= 20
    missing = [m for m in modules if not (ROOT / m).exists()]
    assert not missing, (
        f"docs/architecture.md maps concerns to modules that do not exist: {missing}"
    )


def test_every_package_has_an_entry_in_the_module_map() -> None:
    mapped = {m.rstrip("/") for m in module_map()}
    # Our two code packages (`bot/` is a namespace package, so: every folder with code).
    packages = {
        str(p.parent.relative_to(ROOT))
        for top in ("bot", "devtools")
        for p in (ROOT / top).rglob("*.py")
        if "migrations" not in p.parts
    }
    assert "bot" in packages
    unmapped = {
        package
        for package in packages
        if package not in mapped and not any(m.startswith(package + "/") for m in mapped)
    }
    assert not unmapped, f"packages with no entry in docs/architecture.md's module map: {unmapped}"


def test_every_test_docs_security_cites_exists() -> None:
    """The "proved by" column is only worth something while those tests exist."""
    text = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    cited = 0
    current = None
    for path, name in re.findall(r"`(tests/[\w/]+\.py)?::(test_\w+)`", text):
        current = path or current
        assert current, f"::{name} cited before any test file"
        source = (ROOT / current).read_text(encoding="utf-8")
        assert re.search(rf"def {name}\(", source), f"docs/security.md cites {current}::{name}"
        cited += 1
    assert cited >= 30
