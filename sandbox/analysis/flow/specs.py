"""What the dataflow pass knows about libraries: sources, sanitisers, sinks and the rules they feed.

Names are dotted import paths as the code spells them after import resolution
(``from flask import request`` makes ``request`` mean ``flask.request``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    """One rule of the pass (its findings carry ``rule_id`` and ``cwe``)."""

    id: str
    cwe: tuple[int, ...]
    title: str
    severity: str  # high, medium, low
    fix_hint: str
    local: bool = False  # environment/argv/stdin data counts as untrusted too


RULES = {
    rule.id: rule
    for rule in (
        Rule("flow-command-injection", (78,), "Command injection", "high",
             "Pass a list argv without shell=True, or quote every value with shlex.quote.", True),
        Rule("flow-code-injection", (95,), "Code injection", "high",
             "Never evaluate request data; use ast.literal_eval, json, or a table of operations.",
             True),
        Rule("flow-sql-injection", (89,), "SQL injection", "high",
             "Pass values as bound parameters; pick identifiers from a fixed mapping.", True),
        Rule("flow-path-traversal", (22,), "Path traversal", "high",
             "Reduce the name with os.path.basename/secure_filename or check the resolved path "
             "stays under the root."),
        Rule("flow-xss", (79,), "Cross-site scripting", "high",
             "Escape request data (markupsafe.escape, format_html) or render it through an "
             "autoescaping template variable."),
        Rule("flow-template-injection", (1336, 79), "Template injection", "high",
             "Pass request data as template variables, never as template text."),
        Rule("flow-xxe", (611,), "XML external entities", "high",
             "Parse untrusted XML with defusedxml, or an lxml parser with resolve_entities=False "
             "and no_network=True; leave SAX's external-entity features off."),
        Rule("flow-xpath-injection", (643,), "XPath injection", "high",
             "Pass request data as XPath variables ($name with keyword arguments)."),
        Rule("flow-open-redirect", (601,), "Open redirect", "medium",
             "Redirect only to relative paths on this site or to hosts of an allow-list."),
        Rule("flow-weak-random", (330,), "Predictable random value used as a secret", "high",
             "Use the secrets module (token_urlsafe, token_hex, randbelow) for secrets."),
        Rule("flow-cookie-insecure", (614,), "Cookie without Secure", "medium",
             "Set secure=True (and SESSION_COOKIE_SECURE / CSRF_COOKIE_SECURE = True)."),
        Rule("flow-cookie-no-httponly", (1004,), "Sensitive cookie readable by scripts", "medium",
             "Set httponly=True on session and token cookies."),
        Rule("flow-trust-boundary", (501,), "Request data stored in the session", "medium",
             "Validate the value against server-side data before storing it in the session."),
        Rule("flow-ldap-injection", (90,), "LDAP injection", "high",
             "Escape values with escape_filter_chars (or build filters with filter_format)."),
        Rule("flow-unsafe-deserialization", (502,), "Unsafe deserialization", "high",
             "Use json or yaml.safe_load; never unpickle data a client can send.", True),
        Rule("flow-weak-hash", (328,), "Weak hash", "medium",
             "Use SHA-256 or better (pbkdf2/scrypt/argon2 for passwords, HMAC for signatures); "
             "pass usedforsecurity=False where the hash protects nothing."),
    )
}  # fmt: skip

# --- sources ------------------------------------------------------------------------------------
REQUEST_GLOBALS = {"flask.request": "flask.request", "quart.request": "flask.request"}
SESSION_GLOBALS = {"flask.session", "quart.session"}
# Attributes of a request object that carry client data (Flask, Django, DRF, Starlette).
REQUEST_DATA_ATTRS = frozenset({
    "args", "form", "values", "cookies", "headers", "files", "json", "data", "view_args",
    "stream", "query_string", "get_json", "get_data", "GET", "POST", "COOKIES", "META", "FILES",
    "body", "query_params", "path_params", "url", "full_path", "path", "raw_post_data", "path_info",
    "get_full_path",
    "content_params", "read", "readline", "readlines", "form_data", "text",
})  # fmt: skip
# Request attributes that hold the path of this very request (open-redirect safe).
LOCAL_PATH_ATTRS = frozenset({"path", "full_path", "path_info", "get_full_path", "script_root"})
# Functions building URLs of this site (the host is fixed whatever the arguments).
LOCAL_URL_BUILDERS = {"django.urls.reverse", "django.urls.reverse_lazy", "flask.url_for",
                      "django.shortcuts.resolve_url", "django_hosts.resolvers.reverse"}  # fmt: skip
# ORM query methods: what they return is stored data, not the request text they were given.
ORM_METHODS = frozenset({
    "filter", "exclude", "first", "last", "all", "get_or_create", "update_or_create", "latest",
    "earliest", "order_by", "select_related", "prefetch_related", "annotate", "aggregate",
    "exists", "values", "values_list", "only", "defer", "distinct", "in_bulk", "get_object_or_404",
    "one", "one_or_none", "scalar", "filter_by", "query",
})  # fmt: skip
# Settings modules for development and tests: insecure cookie settings there are intended.
DEV_SETTINGS = r"(^|/|_)(dev|development|local|test|tests|testing)(_settings)?\.py$|(^|/)tests?/"
LOCAL_SOURCES = {"os.environ", "os.getenv", "os.environb", "sys.argv", "input", "sys.stdin"}
ROUTE_DECORATORS = {"route", "get", "post", "put", "patch", "delete", "api_route", "websocket"}
SAFE_PARAM_TYPES = {"int", "float", "bool", "UUID", "uuid.UUID", "datetime", "date", "Decimal"}

# --- sanitisers and value-only functions ---------------------------------------------------------
SANITIZERS = frozenset({
    "int", "float", "bool", "len", "abs", "round", "ord", "hash", "isinstance", "callable",
    "uuid.UUID", "decimal.Decimal", "datetime.date", "shlex.quote", "shlex.join", "pipes.quote",
    "html.escape", "markupsafe.escape", "flask.escape", "jinja2.escape", "cgi.escape",
    "django.utils.html.escape", "django.utils.html.conditional_escape",
    "django.utils.html.format_html", "django.utils.html.strip_tags", "bleach.clean",
    "xml.sax.saxutils.escape", "xml.sax.saxutils.quoteattr",
    "os.path.basename", "werkzeug.utils.secure_filename", "werkzeug.secure_filename",
    "werkzeug.security.safe_join", "werkzeug.utils.safe_join", "flask.safe_join",
    "ldap.filter.escape_filter_chars", "ldap.filter.filter_format",
    "ldap3.utils.conv.escape_filter_chars", "ldap.dn.escape_dn_chars",
    "ast.literal_eval", "psycopg2.sql.Identifier", "psycopg2.sql.Literal", "psycopg.sql.Identifier",
    "psycopg.sql.Literal", "urllib.parse.quote_plus", "json.dumps",
    "secrets.token_hex", "secrets.token_urlsafe", "secrets.token_bytes", "secrets.randbelow",
    "secrets.choice", "os.urandom", "uuid.uuid4", "uuid.uuid1", "time.time", "datetime.datetime",
})  # fmt: skip
# Methods whose result carries no attacker text (booleans, numbers, digests).
CLEAN_METHODS = frozenset({
    "startswith", "endswith", "isdigit", "isnumeric", "isdecimal", "isalnum", "isalpha",
    "isidentifier", "count", "index", "find", "rfind", "hexdigest", "digest", "exists", "is_file",
    "is_dir", "is_relative_to", "__len__", "keys_count", "getrandbits_clean", "total_seconds",
})  # fmt: skip
# Validators: a check that passes means the argument is safe from then on.
VALIDATORS = frozenset({
    "django.utils.http.url_has_allowed_host_and_scheme", "django.utils.http.is_safe_url",
    "re.fullmatch", "re.match", "os.path.commonpath", "validators.url",
})  # fmt: skip
VALIDATOR_METHODS = frozenset({
    "startswith", "is_relative_to", "isdigit", "isnumeric", "isdecimal", "isalnum", "isalpha",
    "fullmatch", "match",
})  # fmt: skip
TERMINATORS = {"flask.abort", "werkzeug.exceptions.abort", "sys.exit", "os._exit", "abort"}

# --- sinks: dotted name or method name -> (rule, positions, keywords) of interpreted arguments ---
CALL_SINKS: dict[str, tuple[str, tuple[int, ...], tuple[str, ...]]] = {
    "os.system": ("flow-command-injection", (0,), ("command",)),
    "os.popen": ("flow-command-injection", (0,), ("cmd",)),
    "commands.getoutput": ("flow-command-injection", (0,), ()),
    "subprocess.getoutput": ("flow-command-injection", (0,), ("cmd",)),
    "subprocess.getstatusoutput": ("flow-command-injection", (0,), ("cmd",)),
    "asyncio.create_subprocess_shell": ("flow-command-injection", (0,), ("cmd",)),
    "eval": ("flow-code-injection", (0,), ("source",)),
    "exec": ("flow-code-injection", (0,), ("source",)),
    "compile": ("flow-code-injection", (0,), ("source",)),
    "sqlalchemy.text": ("flow-sql-injection", (0,), ("text",)),
    "pandas.read_sql": ("flow-sql-injection", (0,), ("sql",)),
    "pandas.read_sql_query": ("flow-sql-injection", (0,), ("sql",)),
    "django.db.models.expressions.RawSQL": ("flow-sql-injection", (0,), ("sql",)),
    "open": ("flow-path-traversal", (0,), ("file",)),
    "io.open": ("flow-path-traversal", (0,), ("file",)),
    "codecs.open": ("flow-path-traversal", (0,), ("filename",)),
    "flask.send_file": ("flow-path-traversal", (0,), ("path_or_file",)),
    "os.remove": ("flow-path-traversal", (0,), ("path",)),
    "os.unlink": ("flow-path-traversal", (0,), ("path",)),
    "os.rmdir": ("flow-path-traversal", (0,), ("path",)),
    "os.listdir": ("flow-path-traversal", (0,), ("path",)),
    "os.makedirs": ("flow-path-traversal", (0,), ("name",)),
    "os.rename": ("flow-path-traversal", (0, 1), ()),
    "shutil.rmtree": ("flow-path-traversal", (0,), ("path",)),
    "shutil.copy": ("flow-path-traversal", (0, 1), ()),
    "shutil.copyfile": ("flow-path-traversal", (0, 1), ()),
    "shutil.move": ("flow-path-traversal", (0, 1), ()),
    "markupsafe.Markup": ("flow-xss", (0,), ()),
    "flask.Markup": ("flow-xss", (0,), ()),
    "jinja2.Markup": ("flow-xss", (0,), ()),
    "django.utils.safestring.mark_safe": ("flow-xss", (0,), ()),
    "flask.render_template_string": ("flow-template-injection", (0,), ("source",)),
    "jinja2.Template": ("flow-template-injection", (0,), ("source",)),
    "lxml.etree.XPath": ("flow-xpath-injection", (0,), ("path",)),
    "lxml.etree.ETXPath": ("flow-xpath-injection", (0,), ("path",)),
    "flask.redirect": ("flow-open-redirect", (0,), ("location",)),
    "werkzeug.utils.redirect": ("flow-open-redirect", (0,), ("location",)),
    "django.shortcuts.redirect": ("flow-open-redirect", (0,), ("to",)),
    "django.http.HttpResponseRedirect": ("flow-open-redirect", (0,), ("redirect_to",)),
    "django.http.HttpResponsePermanentRedirect": ("flow-open-redirect", (0,), ("redirect_to",)),
    "starlette.responses.RedirectResponse": ("flow-open-redirect", (0,), ("url",)),
    "fastapi.responses.RedirectResponse": ("flow-open-redirect", (0,), ("url",)),
    "pickle.loads": ("flow-unsafe-deserialization", (0,), ("data",)),
    "pickle.load": ("flow-unsafe-deserialization", (0,), ("file",)),
    "cPickle.loads": ("flow-unsafe-deserialization", (0,), ()),
    "dill.loads": ("flow-unsafe-deserialization", (0,), ()),
    "marshal.loads": ("flow-unsafe-deserialization", (0,), ()),
    "marshal.load": ("flow-unsafe-deserialization", (0,), ()),
    "jsonpickle.decode": ("flow-unsafe-deserialization", (0,), ("string",)),
    "yaml.unsafe_load": ("flow-unsafe-deserialization", (0,), ("stream",)),
    "shelve.open": ("flow-unsafe-deserialization", (0,), ("filename",)),
}
# HTML responses: XSS when the body is request data and the content type is HTML (or not set).
HTML_RESPONSES = {
    "flask.make_response": (0, ("response",)),
    "flask.Response": (0, ("response",)),
    "werkzeug.wrappers.Response": (0, ("response",)),
    "django.http.HttpResponse": (0, ("content",)),
    "starlette.responses.HTMLResponse": (0, ("content",)),
    "fastapi.responses.HTMLResponse": (0, ("content",)),
}
METHOD_SINKS: dict[str, tuple[str, tuple[int, ...], tuple[str, ...]]] = {
    "execute": ("flow-sql-injection", (0,), ("sql", "query", "operation")),
    "executemany": ("flow-sql-injection", (0,), ("sql", "query")),
    "executescript": ("flow-sql-injection", (0,), ("sql_script",)),
    "raw": ("flow-sql-injection", (0,), ("raw_query",)),
    "xpath": ("flow-xpath-injection", (0,), ("_path",)),
    "search_s": ("flow-ldap-injection", (2,), ("filterstr",)),
    "search_st": ("flow-ldap-injection", (2,), ("filterstr",)),
    "search_ext": ("flow-ldap-injection", (2,), ("filterstr",)),
    "search_ext_s": ("flow-ldap-injection", (2,), ("filterstr",)),
}
# Methods that are sinks only on a receiver of a given kind.
KIND_METHOD_SINKS: dict[tuple[str, str], tuple[str, tuple[int, ...], tuple[str, ...]]] = {
    ("ldap", "search"): ("flow-ldap-injection", (2,), ("filterstr",)),
    ("ldap3", "search"): ("flow-ldap-injection", (1,), ("search_filter",)),
    ("xml", "find"): ("flow-xpath-injection", (0,), ("path",)),
    ("xml", "findall"): ("flow-xpath-injection", (0,), ("path",)),
    ("xml", "findtext"): ("flow-xpath-injection", (0,), ("path",)),
    ("xml", "iterfind"): ("flow-xpath-injection", (0,), ("path",)),
    ("jinja.env", "from_string"): ("flow-template-injection", (0,), ("source",)),
    ("path", "read_text"): ("flow-path-traversal", (), ()),
    ("path", "read_bytes"): ("flow-path-traversal", (), ()),
    ("path", "write_text"): ("flow-path-traversal", (), ()),
    ("path", "write_bytes"): ("flow-path-traversal", (), ()),
    ("path", "open"): ("flow-path-traversal", (), ()),
    ("path", "unlink"): ("flow-path-traversal", (), ()),
    ("path", "rmdir"): ("flow-path-traversal", (), ()),
}
SUBPROCESS = {"subprocess.run", "subprocess.call", "subprocess.check_call",
              "subprocess.check_output", "subprocess.Popen"}  # fmt: skip
SHELLS = {"sh", "bash", "/bin/sh", "/bin/bash", "zsh", "cmd", "cmd.exe", "powershell"}

# --- kinds made by constructors ---------------------------------------------------------------
KIND_CONSTRUCTORS = {
    "ldap.initialize": "ldap",
    "ldap3.Connection": "ldap3",
    "pathlib.Path": "path",
    "pathlib.PurePath": "path",
    "xml.etree.ElementTree.parse": "xml",
    "xml.etree.ElementTree.fromstring": "xml",
    "xml.etree.ElementTree.XML": "xml",
    "xml.etree.ElementTree.ElementTree": "xml",
    "xml.sax.make_parser": "sax.parser",
    "random.Random": "rng",
    "jinja2.Environment": "jinja.env",
    "jinja2.sandbox.SandboxedEnvironment": "jinja.sandbox",
}
XML_PARSE = {  # lxml / minidom / pulldom calls that parse with a parser argument
    "lxml.etree.fromstring": (1, "parser"),
    "lxml.etree.XML": (1, "parser"),
    "lxml.etree.parse": (1, "parser"),
    "lxml.etree.iterparse": (None, None),
    "xml.dom.pulldom.parse": (1, "parser"),
    "xml.dom.pulldom.parseString": (1, "parser"),
    "xml.dom.minidom.parse": (1, "parser"),
    "xml.dom.minidom.parseString": (1, "parser"),
    "xml.sax.parse": (None, None),
}
SAX_EXTERNAL_FEATURES = {
    "xml.sax.handler.feature_external_ges", "xml.sax.handler.feature_external_pes",
    "http://xml.org/sax/features/external-general-entities",
    "http://xml.org/sax/features/external-parameter-entities",
}  # fmt: skip
UNSAFE_YAML_LOADERS = {"yaml.Loader", "yaml.UnsafeLoader", "yaml.FullLoader", "yaml.CLoader",
                       "yaml.CUnsafeLoader", "yaml.CFullLoader"}  # fmt: skip
WEAK_RANDOM = {f"random.{name}" for name in (
    "random", "randint", "randrange", "choice", "choices", "sample", "getrandbits", "uniform",
    "shuffle", "randbytes", "triangular", "gauss",
)}  # fmt: skip
WEAK_HASHES = {"md4", "md5", "sha", "sha1", "ripemd160", "md5-sha1"}
SECRET_NAME = (
    r"(token|secret|passw|pwd|salt|nonce|otp|api_?key|^key$|_key$|^sid$|session_?id|_new_id|"
    r"^code$|(otp|reset|verif\w*|auth|login|invite|confirm|access|coupon)_?code|"
    r"(make|gen|generate|new|create|random)_?code|csrf|reset|auth|cookie)"
)
SENSITIVE_COOKIE = r"(sess|token|auth|sid|remember|jwt|csrf|login|key)"
COOKIE_SETTINGS = {
    "SESSION_COOKIE_SECURE": "flow-cookie-insecure",
    "CSRF_COOKIE_SECURE": "flow-cookie-insecure",
    "REMEMBER_COOKIE_SECURE": "flow-cookie-insecure",
    "SESSION_COOKIE_HTTPONLY": "flow-cookie-no-httponly",
    "CSRF_COOKIE_HTTPONLY": None,  # Django's docs: off by default on purpose, not a finding
    "REMEMBER_COOKIE_HTTPONLY": "flow-cookie-no-httponly",
}
