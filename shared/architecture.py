"""The diagram of services and topics in docs/architecture.md, drawn from the code.

    python -m shared.architecture                                  # print the mermaid block
    python -m shared.architecture --write docs/architecture.md     # rewrite it between the markers (make docs)

Producers come from :data:`shared.topics.TOPICS` (each ``Topic`` names its ``producers``);
consumers from the ``consumer.subscribe(topics.X, Contract, handler[, group_suffix=…])`` calls in
each ``services/<service>/bootstrap.py``, read with :mod:`ast` (the services are not imported, so
drawing the diagram needs neither their settings nor Kafka). A subscription in a consumer group of
its own (``group_suffix``) is drawn with the suffix on its arrow. A topic no service of the
platform consumes is drawn towards the systems outside it.

``tests/unit/shared/test_architecture_doc.py`` fails when the committed block differs from what
this module draws now.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from shared import topics as topics_module
from shared.topics import TOPICS

REPO_ROOT = Path(__file__).resolve().parent.parent
SERVICES_DIR = REPO_ROOT / "services"
DOC = REPO_ROOT / "docs" / "architecture.md"
BEGIN = "<!-- BEGIN GENERATED: services and topics (python -m shared.architecture; `make docs` rewrites it) -->"
END = "<!-- END GENERATED -->"
OUTSIDE = "outside"  # the node for systems outside the platform


class ArchitectureError(ValueError):
    """A bootstrap's subscription could not be read; the message names the file and the line."""


@dataclass(frozen=True, order=True)
class Subscription:
    """One ``consumer.subscribe`` call found in a bootstrap."""

    service: str
    topic: str
    group_suffix: str | None = None  # None: the service's own consumer group


def services(root: Path = SERVICES_DIR) -> list[str]:
    """The services: every folder under services/ with a bootstrap.py, sorted."""
    return sorted(p.parent.name for p in root.glob("*/bootstrap.py"))


def subscriptions(root: Path = SERVICES_DIR) -> list[Subscription]:
    """Every subscription of every service, sorted (service, topic, group suffix)."""
    found: list[Subscription] = []
    for service in services(root):
        found.extend(_subscriptions_in(root / service / "bootstrap.py", service))
    return sorted(set(found), key=lambda s: (s.service, s.topic, s.group_suffix or ""))


def _subscriptions_in(path: Path, service: str) -> list[Subscription]:
    module = _parse(path)
    found = []
    for node in ast.walk(module):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "subscribe"):
            continue
        where = f"{path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path}:{node.lineno}"
        topic_arg = node.args[0] if node.args else _keyword(node, "topic")
        if topic_arg is None:
            raise ArchitectureError(f"{where}: subscribe() without a topic")
        suffix_arg = node.args[3] if len(node.args) > 3 else _keyword(node, "group_suffix")
        topic = _topic_name(topic_arg, where)
        suffix = None if suffix_arg is None else _string(suffix_arg, module, path, where)
        found.append(Subscription(service, topic, suffix))
    return found


def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _topic_name(node: ast.expr, where: str) -> str:
    """``topics.X`` or ``X`` (a constant of shared.topics), or a literal topic name."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        name = node.value
    elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "topics":
        name = getattr(topics_module, node.attr, None)
    elif isinstance(node, ast.Name):
        name = getattr(topics_module, node.id, None)
    else:
        name = None
    if not isinstance(name, str):
        raise ArchitectureError(f"{where}: cannot tell the topic of subscribe({ast.unparse(node)}, …): "
                                "write it as topics.<NAME> from shared.topics")
    if name not in {t.name for t in TOPICS}:
        raise ArchitectureError(f"{where}: {name} is not in shared.topics.TOPICS")
    return name


def _string(node: ast.expr, module: ast.Module, path: Path, where: str, depth: int = 0) -> str:
    """Resolve a group suffix to its text: a literal, a name assigned in the same file, or
    ``module.NAME`` of a module the file imports from the repository (read with ast as well)."""
    if depth > 5:
        raise ArchitectureError(f"{where}: cannot resolve the group suffix {ast.unparse(node)}")
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        value = _assigned(module, node.id)
        if value is not None:
            return _string(value, module, path, where, depth + 1)
        imported = _imported_module_file(module, node.id, attribute=True)
        if imported is not None:
            other, name = imported
            value = _assigned(_parse(other), name)
            if value is not None:
                return _string(value, _parse(other), other, where, depth + 1)
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        imported = _imported_module_file(module, node.value.id)
        if imported is not None:
            other, _ = imported
            other_module = _parse(other)
            value = _assigned(other_module, node.attr)
            if value is not None:
                return _string(value, other_module, other, where, depth + 1)
    raise ArchitectureError(f"{where}: cannot resolve the group suffix {ast.unparse(node)} to a string")


def _assigned(module: ast.Module, name: str) -> ast.expr | None:
    """The value last assigned to ``name`` anywhere in the module (``name = …``), if any."""
    value = None
    for node in ast.walk(module):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            value = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == name and node.value:
            value = node.value
    return value


def _imported_module_file(module: ast.Module, alias: str, attribute: bool = False) -> tuple[Path, str] | None:
    """Where the name ``alias`` comes from: (the repository file of its module, the name in it).

    ``from a.b import c`` binds c to the module a/b/c.py (or, with ``attribute``, to the name c in
    a/b.py); ``import a.b as c`` binds c to a/b.py."""
    for node in ast.walk(module):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for name in node.names:
                if (name.asname or name.name) != alias:
                    continue
                base = REPO_ROOT.joinpath(*node.module.split("."))
                if not attribute and (base / f"{name.name}.py").is_file():
                    return base / f"{name.name}.py", name.name
                if attribute and base.with_suffix(".py").is_file():
                    return base.with_suffix(".py"), name.name
        elif isinstance(node, ast.Import):
            for name in node.names:
                if name.asname == alias or (name.asname is None and name.name == alias):
                    file = REPO_ROOT.joinpath(*name.name.split(".")).with_suffix(".py")
                    if file.is_file():
                        return file, ""
    return None


def _node_id(topic: str) -> str:
    return "t_" + re.sub(r"[^a-z0-9]+", "_", topic.removeprefix("ohs.").lower()).strip("_")


def render(root: Path = SERVICES_DIR) -> str:
    """The mermaid flowchart of services and topics (without the code fence)."""
    names = services(root)
    subs = subscriptions(root)
    consumed = {s.topic for s in subs}
    lines = [
        "flowchart LR",
        "  %% services: producers from shared/topics.py, consumers from services/*/bootstrap.py",
    ]
    for service in names:
        lines.append(f'  {service}(["{service}"])')
    lines.append(f'  {OUTSIDE}(("outside the platform"))')
    for topic in TOPICS:
        lines.append(f'  {_node_id(topic.name)}[["{topic.name}"]]')
    for topic in TOPICS:
        for producer in topic.producers:
            if producer == OUTSIDE:  # published from outside the platform (a provincial monitoring gateway)
                lines.append(f"  {OUTSIDE} --> {_node_id(topic.name)}")
                continue
            if producer not in names:
                raise ArchitectureError(f"shared/topics.py: {topic.name} names producer {producer!r}, "
                                        f"which has no services/{producer}/bootstrap.py")
            lines.append(f"  {producer} --> {_node_id(topic.name)}")
    for topic in TOPICS:
        for sub in (s for s in subs if s.topic == topic.name):
            arrow = f'-->|"{sub.group_suffix} group"|' if sub.group_suffix else "-->"
            lines.append(f"  {_node_id(topic.name)} {arrow} {sub.service}")
        if topic.name not in consumed:
            lines.append(f"  {_node_id(topic.name)} -.-> {OUTSIDE}")
    return "\n".join(lines) + "\n"


def block(root: Path = SERVICES_DIR) -> str:
    """What sits between the markers in docs/architecture.md: the fenced mermaid diagram."""
    return f"```mermaid\n{render(root)}```\n"


def committed_block(doc: Path = DOC) -> str:
    """The generated block as committed in ``doc`` (the text between the markers)."""
    text = doc.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        raise ArchitectureError(f"{doc}: the markers {BEGIN!r} and {END!r} are missing")
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n") + "\n"


def write(doc: Path = DOC, root: Path = SERVICES_DIR) -> bool:
    """Rewrite the generated block of ``doc``; True when it changed."""
    text = doc.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        raise ArchitectureError(f"{doc}: the markers {BEGIN!r} and {END!r} are missing")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    new = f"{head}{BEGIN}\n{block(root)}{END}{tail}"
    if new != text:
        doc.write_text(new, encoding="utf-8")
    return new != text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.architecture", description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=Path, metavar="DOC", help="rewrite the block between the markers in DOC")
    args = parser.parse_args(argv)
    try:
        if args.write:
            changed = write(args.write)
            print(f"{args.write}: {'diagram rewritten' if changed else 'diagram already up to date'}")
        else:
            sys.stdout.write(block())
    except ArchitectureError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
