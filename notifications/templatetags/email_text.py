"""``{{ value|nolink }}``: text a person chose (project, file and user names, notification titles)
shown in an email so that no mail client draws it as a link.

Mail clients turn ``https://…``, ``www.…``, ``name.tld/…`` and ``a@b.tld`` into links by themselves,
in text and in HTML bodies alike, so a project named ``evil.com/login`` would become a link in our
own, well-authenticated email. The usual defanging breaks every such pattern visibly and stays
readable: ``evil[.]com/login``, ``https[:]//x[.]y``, ``a[@]b[.]tld``, ``10[.]0[.]0[.]1``.
"""

from __future__ import annotations

import re

from django import template

register = template.Library()

# Full stops a browser or a mail client also reads as a dot in a host name (IDNA).
_DOT = r"[.\u3002\uff0e\uff61]"
_SCHEME = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*):(?=//)")
_HOST_DOT = re.compile(rf"(?<=\w){_DOT}(?=[^\W\d_])")  # a dot followed by a letter: a TLD or a label
_AT = re.compile(r"(?<=\w)@(?=\w)")
_IPV4 = re.compile(rf"\b\d{{1,3}}(?:{_DOT}\d{{1,3}}){{3}}\b")


def defang(value: str) -> str:
    text = _SCHEME.sub(r"\1[:]", str(value))
    text = _IPV4.sub(lambda m: re.sub(_DOT, "[.]", m.group(0)), text)
    text = _HOST_DOT.sub("[.]", text)
    return _AT.sub("[@]", text)


@register.filter
def nolink(value: object) -> str:
    return defang("" if value is None else str(value))
