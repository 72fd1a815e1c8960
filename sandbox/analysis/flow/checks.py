"""Sinks and guards: where a value becomes a finding, a proven-clean sink, or an unknown one."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sandbox.analysis.flow import values as v
from sandbox.analysis.flow.specs import (
    CALL_SINKS,
    COOKIE_SETTINGS,
    DEV_SETTINGS,
    HTML_RESPONSES,
    KIND_CONSTRUCTORS,
    LOCAL_URL_BUILDERS,
    RULES,
    SANITIZERS,
    SECRET_NAME,
    SHELLS,
    SUBPROCESS,
    UNSAFE_YAML_LOADERS,
    WEAK_HASHES,
    WEAK_RANDOM,
    XML_PARSE,
)
from sandbox.analysis.flow.values import CLEAN, Val

if TYPE_CHECKING:
    from sandbox.analysis.flow.interp import Interp
    from sandbox.analysis.flow.statements import Frame

_SECRET = re.compile(SECRET_NAME, re.IGNORECASE)
_DEV_SETTINGS = re.compile(DEV_SETTINGS)
# Where a weak hash matters (names of the enclosing functions or of the hashed data), and where it
# plainly does not (cache keys, ETags, checksums of content).
_SECURITY = re.compile(
    r"passw|pwd|secret|token|sign|auth|salt|credential|session|otp|nonce|api_?key|private|mac",
    re.IGNORECASE,
)
_NOT_SECURITY = re.compile(r"cache|etag|checksum|fingerprint|dedup|shard|bucket", re.IGNORECASE)
_ORDER = {"clean": 0, "unknown": 1, "tainted": 2}


@dataclass
class Verdicts:
    """Per sink location and rule: the worst state seen, and the message of the first finding."""

    states: dict[tuple[str, int, str], str] = field(default_factory=dict)
    messages: dict[tuple[str, int, str], tuple[int, int, int, str]] = field(default_factory=dict)
    quiet: bool = False  # only findings count (a function run without its callers' values)

    def record(
        self, key: tuple[str, int, str], state: str, where: tuple[int, int, int, str]
    ) -> None:
        """Keep the worst state of a sink over every context it was reached in."""
        if self.quiet and state != "tainted":
            return
        if _ORDER[state] >= _ORDER.get(self.states.get(key, "clean"), 0):
            self.states[key] = state
        if state == "tainted":
            self.messages.setdefault(key, where)


def sink(interp: Interp, rule_id: str, node: ast.AST, frame: Frame, value: Val, what: str) -> None:
    """Record what reached a sink: a finding when it is untrusted (per the rule's sources)."""
    rule = RULES[rule_id]
    labels = {v.WEB} | ({v.LOCAL} if rule.local else set())
    if rule_id == "flow-weak-random":
        labels = {v.RAND}
    key = (frame.module.path, getattr(node, "lineno", 1), rule_id)
    if rule_id == "flow-open-redirect" and value.pinned:
        value = value.clean()  # a constant prefix fixes scheme and host (or a local path)
    if value.taint & labels:
        via = " → ".join(frame.chain[-4:])
        origin = value.origin or "untrusted data"
        message = f"{rule.title}: {origin} reaches {what}" + (f" (via {via})" if via else "")
        end = (getattr(node, "end_lineno", None) or key[1], getattr(node, "col_offset", 0) + 1)
        interp.verdicts.record(key, "tainted", (end[0], end[1], _end_col(node), message))
    elif v.UNKNOWN in value.taint:
        interp.verdicts.record(key, "unknown", (0, 0, 0, ""))
    else:
        interp.verdicts.record(key, "clean", (0, 0, 0, ""))


def flag(interp: Interp, rule_id: str, node: ast.AST, frame: Frame, message: str) -> None:
    """Record a finding that is a fact of the code itself (a setting, an unsafe option)."""
    key = (frame.module.path, getattr(node, "lineno", 1), rule_id)
    end = (getattr(node, "end_lineno", None) or key[1], getattr(node, "col_offset", 0) + 1)
    interp.verdicts.record(key, "tainted", (end[0], end[1], _end_col(node), message))


def clear(interp: Interp, rule_id: str, node: ast.AST, frame: Frame) -> None:
    """Record that a sink was seen and found safe."""
    interp.verdicts.record(
        (frame.module.path, getattr(node, "lineno", 1), rule_id), "clean", (0, 0, 0, "")
    )


def _end_col(node: ast.AST) -> int:
    return (getattr(node, "end_col_offset", None) or 0) + 1


def _arg(
    args: list[Val], kwargs: dict[str, Val], pos: int | None, names: tuple[str, ...]
) -> Val | None:
    if pos is not None and pos < len(args):
        return args[pos]
    for name in names:
        if name in kwargs:
            return kwargs[name]
    return None


def external(
    interp: Interp, qual: str, args: list[Val], kwargs: dict[str, Val], node: ast.Call, frame: Frame
) -> Val:
    """A call of a library function: sink checks, then what its result carries."""
    everything = v.join(*args, *kwargs.values()) if args or kwargs else CLEAN
    if qual in CALL_SINKS:
        rule_id, positions, names = CALL_SINKS[qual]
        for pos in positions or (None,):
            value = _arg(args, kwargs, pos, names)
            if value is not None:
                sink(interp, rule_id, node, frame, value, qual)
    if qual in SUBPROCESS:
        _subprocess(interp, qual, args, kwargs, node, frame)
    if qual in HTML_RESPONSES:
        _html_response(interp, qual, args, kwargs, node, frame)
    if qual in XML_PARSE or qual == "yaml.load" or qual.startswith(("hashlib.", "hmac.")):
        _parsers_and_hashes(interp, qual, args, kwargs, node, frame)
    return _result(interp, qual, args, kwargs, everything, node, frame)


def _result(
    interp: Interp,
    qual: str,
    args: list[Val],
    kwargs: dict[str, Val],
    everything: Val,
    node: ast.Call,
    frame: Frame,
) -> Val:
    # Command output and what eval returns are not followed on: the sink itself is the finding.
    done = qual in SUBPROCESS or qual in ("eval", "exec", "os.system", "os.popen")
    if qual in SANITIZERS or done or qual.startswith(("hashlib.", "hmac.", "secrets.")):
        if qual in ("int", "float", "bool") and args and args[0].known:
            try:
                return v.const({"int": int, "float": float, "bool": bool}[qual](args[0].const))
            except (TypeError, ValueError):
                return CLEAN
        return CLEAN
    if qual in LOCAL_URL_BUILDERS or qual.endswith((".url_for", ".reverse")):
        return Val(taint=everything.taint, pinned=True, shape="str", origin=everything.origin)
    if qual in ("input", "os.getenv", "os.environ.get"):
        return Val(taint=frozenset({v.LOCAL}), origin=f"{qual}() at {interp.where(frame, node)}")
    if qual in WEAK_RANDOM:
        return Val(taint=frozenset({v.RAND}), origin=f"{qual}() at {interp.where(frame, node)}")
    if qual == "random.SystemRandom":
        return Val(kind="sysrng")
    if qual in ("markupsafe.Markup", "flask.Markup", "jinja2.Markup"):
        return Val(kind="markup", taint=everything.taint, origin=everything.origin)
    if qual == "lxml.etree.XMLParser":
        return Val(kind=_lxml_parser_kind(kwargs))
    if qual in KIND_CONSTRUCTORS or qual in XML_PARSE:
        kind = KIND_CONSTRUCTORS.get(qual, "xml")
        return Val(kind=kind, taint=everything.taint, origin=everything.origin)
    if qual in ("str", "repr", "format"):
        shape = "str"
        return Val(
            taint=everything.taint,
            shape=shape,
            origin=everything.origin,
            const=str(args[0].const) if args and args[0].known and qual == "str" else v.NOCONST,
        )
    if qual == "dict" and not args:  # dict(a=1, b=2)
        return Val().with_items(dict(kwargs), "dict") if "**" not in kwargs else everything
    if qual in ("frozenset", "set", "tuple") and args and args[0].known:
        try:
            return v.const(
                {"frozenset": frozenset, "set": frozenset, "tuple": tuple}[qual](args[0].const)
            )
        except TypeError:
            return CLEAN
    if qual in ("dict", "list", "tuple", "set", "sorted", "frozenset", "reversed"):
        base = args[0] if args else CLEAN
        return (
            base if qual in ("list", "tuple", "sorted") else Val(taint=everything.taint, items=None)
        )
    if qual.startswith(("django.http.JsonResponse", "flask.jsonify", "json.", "logging.")):
        return Val(taint=everything.taint if qual == "json.loads" else frozenset())
    tainted = [a for a in [*args, *kwargs.values()] if a.tainted]
    pinned = bool(tainted) and all(a.pinned for a in tainted)  # re.sub(..., request.path)
    return Val(taint=everything.taint, origin=everything.origin, pinned=pinned)


def _subprocess(
    interp: Interp, qual: str, args: list[Val], kwargs: dict[str, Val], node: ast.Call, frame: Frame
) -> None:
    command = _arg(args, kwargs, 0, ("args",))
    if command is None:
        return
    shell = kwargs.get("shell")
    if shell is not None and v.truth(shell) is True:
        sink(interp, "flow-command-injection", node, frame, command, f"{qual}(shell=True)")
        return
    items = dict(command.items or ())
    first = items.get(0)
    if first is not None and first.known and str(first.const) in SHELLS and 2 in items:
        sink(interp, "flow-command-injection", node, frame, items[2], f"{qual} ({first.const} -c)")
    elif shell is None or v.truth(shell) is False:
        clear(interp, "flow-command-injection", node, frame)


def _html_response(
    interp: Interp, qual: str, args: list[Val], kwargs: dict[str, Val], node: ast.Call, frame: Frame
) -> None:
    pos, names = HTML_RESPONSES[qual]
    body = _arg(args, kwargs, pos, names)
    ctype = kwargs.get("content_type") or kwargs.get("mimetype") or kwargs.get("media_type")
    if body is None or (ctype is not None and ctype.known and "html" not in str(ctype.const)):
        return
    if body.kind == "markup" or body.shape in ("dict", "list", "obj"):
        return
    sink(interp, "flow-xss", node, frame, body, qual)


def _lxml_parser_kind(kwargs: dict[str, Val]) -> str:
    resolve = kwargs.get("resolve_entities")
    network = kwargs.get("no_network")
    unsafe = (resolve is not None and resolve.known and resolve.const is True) or (
        network is not None and v.truth(network) is False
    )
    return "xml.parser.unsafe" if unsafe else "xml.parser"


def _parsers_and_hashes(
    interp: Interp, qual: str, args: list[Val], kwargs: dict[str, Val], node: ast.Call, frame: Frame
) -> None:
    if qual in XML_PARSE:
        pos, name = XML_PARSE[qual]
        parser = _arg(args, kwargs, pos, (name,) if name else ())
        data = _arg(args, kwargs, 0, ("source", "text", "file", "string", "stream_or_string"))
        unsafe = parser is not None and (parser.kind or "").endswith(".unsafe")
        if unsafe and data is not None:
            sink(interp, "flow-xxe", node, frame, data, f"{qual} with entity resolution on")
        elif data is not None:
            clear(interp, "flow-xxe", node, frame)
    elif qual == "yaml.load":
        loader = _arg(args, kwargs, 1, ("Loader",))
        data = _arg(args, kwargs, 0, ("stream",))
        if data is not None and (loader is None or loader.qual in UNSAFE_YAML_LOADERS):
            sink(interp, "flow-unsafe-deserialization", node, frame, data, "yaml.load")
        elif data is not None and loader is not None and loader.qual is not None:
            clear(interp, "flow-unsafe-deserialization", node, frame)
    else:
        _hash(interp, qual, args, kwargs, node, frame)


def _hash(
    interp: Interp, qual: str, args: list[Val], kwargs: dict[str, Val], node: ast.Call, frame: Frame
) -> None:
    for value in [*args, *kwargs.values()]:
        if v.RAND in value.taint:
            sink(
                interp, "flow-weak-random", node, frame, value, f"{qual} (a secret derived from it)"
            )
    name = qual.rsplit(".", 1)[-1].lower()
    if qual == "hashlib.new":
        algo = _arg(args, kwargs, 0, ("name",))
        name = str(algo.const).lower() if algo is not None and algo.known else ""
    elif qual == "hmac.new":
        digest = _arg(args, kwargs, 2, ("digestmod",))
        name = (digest.qual or str(digest.const)).rsplit(".", 1)[-1].lower() if digest else ""
    if name not in WEAK_HASHES:
        return
    security = kwargs.get("usedforsecurity")
    context = " ".join([*frame.chain[-2:], *(ast.unparse(a) for a in node.args)])
    if (security is not None and v.truth(security) is False) or _NOT_SECURITY.search(context):
        clear(interp, "flow-weak-hash", node, frame)
    elif _SECURITY.search(context):
        message = f"Weak hash: {name} protects a secret or a signature here ({qual})"
        flag(interp, "flow-weak-hash", node, frame, message)
    else:  # an avatar URL, a cache key: nothing in the names says it protects anything
        clear(interp, "flow-weak-hash", node, frame)


def returned(interp: Interp, stmt: ast.Return, value: Val, frame: Frame) -> None:
    """A return: a view returning request data as text (XSS); a secret-named function's result."""
    func = frame.func
    if func is None:
        return
    if func.route is not None and value.shape == "str" and len(frame.chain) == 1:
        sink(interp, "flow-xss", stmt, frame, value, f"the HTML response of {func.name}")
    named = isinstance(stmt.value, ast.Name) and _SECRET.search(stmt.value.id)
    if v.RAND in value.taint and _SECRET.search(func.name) and not named:
        sink(interp, "flow-weak-random", stmt, frame, value, f"the result of {func.name}")


def assigned(interp: Interp, target: ast.expr, value: Val, frame: Frame) -> None:
    """An assignment: session writes, cookie settings, secrets from weak random generators."""
    name = _target_name(interp, target, frame)
    if v.RAND in value.taint and name and _SECRET.search(name):
        sink(interp, "flow-weak-random", target, frame, value, f"{name!r}")
    if isinstance(target, ast.Subscript):
        holder = interp.expr(target.value, frame)
        if holder.kind == "session":
            sink(interp, "flow-trust-boundary", target, frame, value, "the session")
    if name in COOKIE_SETTINGS and (frame.func is None or isinstance(target, ast.Subscript)):
        setting(interp, name, value, target, frame)


def setting(interp: Interp, name: str, value: Val, node: ast.AST, frame: Frame) -> None:
    """``SESSION_COOKIE_SECURE = False`` and friends (Django settings, Flask config)."""
    rule_id = COOKIE_SETTINGS.get(name)
    if rule_id is None or not value.known or _DEV_SETTINGS.search(frame.module.path):
        return
    if value.const is False:
        flag(interp, rule_id, node, frame, f"{RULES[rule_id].title}: {name} is False")
    else:
        clear(interp, rule_id, node, frame)


def _target_name(interp: Interp, target: ast.expr, frame: Frame) -> str:
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Attribute):
        return target.attr
    if isinstance(target, ast.Subscript):
        key = interp.expr(target.slice, frame)
        return str(key.const) if key.known else ""
    return ""
