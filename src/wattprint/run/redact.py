"""Credentials out of stored command lines: a run's command is readable by everyone who reads the store (a team's
PostgreSQL, the server), so the values of options named like secrets, URL passwords and ``KEY=value`` words of
such names are replaced with ``REDACTED`` before it is stored. ``store_command = false`` keeps command lines out.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence

REDACTED = "REDACTED"
"""What a credential becomes: a plain word, so the stored command line stays valid shell without quotes."""

SECRET_WORDS = frozenset({
    "token", "tokens", "password", "passwd", "pwd", "pass", "passphrase", "secret", "secrets", "key", "apikey",
    "auth", "authorization", "credential", "credentials", "cookie", "session", "sessionid", "authtoken",
    "accesstoken", "apitoken", "secretkey", "privatekey", "accesskey", "signature", "sig", "dsn",
})
"""A name is a secret's when its last word is one of these: ``--api-key``, ``--hf_token``, ``PGPASSWORD`` ... but
not ``--key-file``, ``--max-tokens`` or ``--auth-type``, whose values say nothing secret."""

_GLUED = ("password", "passwd", "passphrase", "secret", "token", "apikey", "credentials")
"""Endings that make a secret's name even when glued to a prefix without a separator (``PGPASSWORD``)."""
_NAME_WORDS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
_ENV_WORD = re.compile(r"^([A-Za-z_][A-Za-z0-9_.-]*)=(.*)$", re.DOTALL)
_URL_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^/?#@\s:]*)(?::(?P<password>[^/?#@\s]*))?@")
_QUERY_PARAM = re.compile(r"(?P<lead>[?&;])(?P<name>[^=&;#\s]+)=(?P<value>[^&;#\s]*)")


def is_secret_name(name: str) -> bool:
    """Whether an option or variable name (``--api-key``, ``HF_TOKEN``, ``clientSecret``) names a credential."""
    words = [word.lower() for word in _NAME_WORDS.findall(name.lstrip("-"))]
    if not words:
        return False
    last = words[-1]
    if last in SECRET_WORDS:
        return last != "tokens" or len(words) == 1  # --max-tokens is a number of tokens
    if "".join(words[-2:]) in SECRET_WORDS:  # api_key spelt apikey, access_token spelt accesstoken
        return True
    return last.endswith(_GLUED)  # PGPASSWORD, MYSQL_PWD's cousins, GITHUBTOKEN


def redact_text(text: str) -> str:
    """``text`` without URL passwords (``postgresql://u:REDACTED@h/db``; a user alone, often a token, becomes
    ``REDACTED``) and without the values of query parameters named like secrets (``?token=REDACTED``)."""

    def userinfo(match: re.Match[str]) -> str:
        if match.group("password") is not None:
            return f"{match.group('scheme')}{match.group('user')}:{REDACTED}@"
        return f"{match.group('scheme')}{REDACTED}@"

    def parameter(match: re.Match[str]) -> str:
        if is_secret_name(match.group("name")) and match.group("value"):
            return f"{match.group('lead')}{match.group('name')}={REDACTED}"
        return match.group(0)

    return _QUERY_PARAM.sub(parameter, _URL_USERINFO.sub(userinfo, text))


def redact_argv(argv: Sequence[str]) -> list[str]:
    """The words of a command line with every credential replaced by ``REDACTED``.

    ``--token=abc`` and ``--password hunter2`` (the next word, unless it is an option itself), ``HF_TOKEN=abc``
    (a variable of such a name, as ``env`` or ``docker -e`` take it), URL passwords and secret query parameters
    in any word.
    """
    words: list[str] = []
    value_next = False
    for word in argv:
        if value_next:
            value_next = False
            if not word.startswith("-"):
                words.append(REDACTED)
                continue
        if word.startswith("-") and len(word) > 1 and word != "--":
            name, equals, value = word.partition("=")
            if is_secret_name(name):
                if equals:
                    words.append(f"{name}={REDACTED}")
                else:
                    words.append(word)
                    value_next = True
                continue
            words.append(f"{name}={redact_text(value)}" if equals else redact_text(word))
            continue
        variable = _ENV_WORD.match(word)
        if variable is not None and is_secret_name(variable.group(1)):
            words.append(f"{variable.group(1)}={REDACTED}")
            continue
        words.append(redact_text(word))
    return words


def redact_command(command: str) -> str:
    """A command line (as ``shlex.join`` wrote it) with its credentials replaced by ``REDACTED``."""
    try:
        argv = shlex.split(command)
    except ValueError:  # not shell syntax: redact what can be found in the text itself
        return redact_text(command)
    return shlex.join(redact_argv(argv))
