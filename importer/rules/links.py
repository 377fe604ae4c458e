"""Links: social profiles (URL <-> handle, one canonical link per network), WhatsApp links, web addresses."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from importer.records import ContactType
from importer.errors import Code
from importer.rules.phones import phone
from importer.rules.text import Problem

# ---------------------------------------------------------------- links

_NETWORK_HOSTS = {
    "facebook.com": ContactType.FACEBOOK,
    "fb.com": ContactType.FACEBOOK,
    "fb.me": ContactType.FACEBOOK,
    "instagram.com": ContactType.INSTAGRAM,
    "instagr.am": ContactType.INSTAGRAM,
    "twitter.com": ContactType.TWITTER,
    "x.com": ContactType.TWITTER,
    "youtube.com": ContactType.YOUTUBE,
    "youtu.be": ContactType.YOUTUBE,
    "tiktok.com": ContactType.TIKTOK,
    "pinterest.com": ContactType.PINTEREST,
    "pin.it": ContactType.PINTEREST,
    "vk.com": ContactType.VK,
    "vk.ru": ContactType.VK,
    "vkontakte.ru": ContactType.VK,
    "m.me": ContactType.FB_MESSENGER,
    "messenger.com": ContactType.FB_MESSENGER,
    "t.me": ContactType.TELEGRAM,
    "telegram.me": ContactType.TELEGRAM,
    "telegram.dog": ContactType.TELEGRAM,
    "wa.me": ContactType.WHATSAPP,
    "whatsapp.com": ContactType.WHATSAPP,
}
_PINTEREST_CC = re.compile(r"(?:.+\.)?pinterest\.(?:[a-z]{2,3}|co\.[a-z]{2}|com\.[a-z]{2})")
HOSTNAME = re.compile(r"(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+[^\W\d_]{2,63}\.?", re.UNICODE)


def network_of(host: str) -> ContactType | None:
    """The network a host belongs to (subdomains included: m.facebook.com)."""
    labels = host.split(".")
    for i in range(len(labels) - 1):
        t = _NETWORK_HOSTS.get(".".join(labels[i:]))
        if t is not None:
            return t
    if _PINTEREST_CC.fullmatch(host):
        return ContactType.PINTEREST
    return None


class _Link:
    __slots__ = ("scheme", "host", "segments", "query")

    def __init__(self, scheme: str, host: str, segments: list[str], query: str):
        self.scheme, self.host, self.segments, self.query = scheme, host, segments, query


# A plain link ("https://www.instagram.com/shop/"): urlsplit would give exactly these parts
# (lower-case scheme and host, no user, port, query or fragment), without its cost.
# tests/test_normalize.py checks the two agree.
_PLAIN_LINK = re.compile(r"(https?)://([a-z0-9.-]+)((?:/[A-Za-z0-9._@~-]*)*)", re.ASCII)


def split_link(value: str) -> _Link | None:
    """A link with or without scheme, or None when the value is a bare name."""
    m = _PLAIN_LINK.fullmatch(value)
    if m is not None:
        return _Link(m[1], m[2].rstrip("."), [s for s in m[3].split("/") if s], "")
    return _split_link_general(value)


def _split_link_general(value: str) -> _Link | None:
    if "://" not in value:
        head = value.split("/", 1)[0].lower()
        if "/" not in value and not head.startswith("www.") and network_of(head) is None:
            return None
        if " " in head or "@" in head or not head:
            return None
        value = "https://" + value
    try:
        parts = urlsplit(value)
        host = (parts.hostname or "").rstrip(".")
    except ValueError:
        return None
    return _Link(parts.scheme.lower(), host, [s for s in parts.path.split("/") if s], parts.query)


_NAME = {  # handle characters each network allows (length is Ecwid's business)
    ContactType.FACEBOOK: re.compile(r"[A-Za-z0-9._-]+"),
    ContactType.INSTAGRAM: re.compile(r"[A-Za-z0-9._]+"),
    ContactType.TWITTER: re.compile(r"[A-Za-z0-9_]+"),
    ContactType.YOUTUBE: re.compile(r"[A-Za-z0-9._-]+"),
    ContactType.TIKTOK: re.compile(r"[A-Za-z0-9._]+"),
    ContactType.PINTEREST: re.compile(r"[A-Za-z0-9_]+"),
    ContactType.VK: re.compile(r"[A-Za-z0-9._]+"),
    ContactType.FB_MESSENGER: re.compile(r"[A-Za-z0-9._-]+"),
    ContactType.TELEGRAM: re.compile(r"[A-Za-z0-9_]+"),
}
_CANONICAL = {
    ContactType.FACEBOOK: "https://www.facebook.com/{}",
    ContactType.INSTAGRAM: "https://www.instagram.com/{}",
    ContactType.TWITTER: "https://x.com/{}",
    ContactType.YOUTUBE: "https://www.youtube.com/@{}",
    ContactType.TIKTOK: "https://www.tiktok.com/@{}",
    ContactType.PINTEREST: "https://www.pinterest.com/{}",
    ContactType.VK: "https://vk.com/{}",
    ContactType.FB_MESSENGER: "https://m.me/{}",
    ContactType.TELEGRAM: "https://t.me/{}",
}
SOCIAL_TYPES = frozenset(_CANONICAL)
# First path segments that are site pages, not profiles.
_RESERVED = frozenset(
    "groups events pages watch share sharer sharer.php photo.php story.php login home i intent search "
    "profile.php hashtag explore p reel reels stories tv shorts playlist results embed feed joinchat s".split()
)


def _profile_name(t: ContactType, link: _Link) -> tuple[str, str] | str:
    """(canonical link, handle) from a profile link on the right network, or an error message."""
    segs, example = link.segments, _CANONICAL[t].format("name")
    if t is ContactType.FACEBOOK and segs == ["profile.php"]:
        ids = parse_qs(link.query).get("id", [""])
        if ids[0].isdigit():
            return f"https://www.facebook.com/profile.php?id={ids[0]}", ids[0]
    if t is ContactType.YOUTUBE and len(segs) == 2 and segs[0] in ("c", "channel", "user"):
        name = segs[1]
        if not _NAME[t].fullmatch(name):
            return f"{name!r} is not a valid YouTube name"
        return f"https://www.youtube.com/{segs[0]}/{name}", name
    if t is ContactType.FB_MESSENGER and len(segs) == 2 and segs[0] == "t":
        segs = segs[1:]  # messenger.com/t/<name>
    if t is ContactType.TELEGRAM and len(segs) == 2 and segs[0] == "s":
        segs = segs[1:]  # t.me/s/<name>: the channel preview
    if len(segs) != 1 or link.host in ("youtu.be", "pin.it", "fb.me"):
        return f"not a profile link: expected a link like {example}"
    return _social_name(t, segs[0])


def _social_name(t: ContactType, name: str) -> tuple[str, str] | str:
    if t in (ContactType.YOUTUBE, ContactType.TIKTOK) or name.startswith("@"):
        name = name.removeprefix("@")
    if not name or not _NAME[t].fullmatch(name):
        return f"{name!r} is not a valid {t.value} name: it may contain {_allowed_chars(t)}"
    if name.lower() in _RESERVED:  # a site page, not a profile; bare names too, so canonical links stay valid
        return f"{name!r} is a page of the site, not a profile: expected a link like {_CANONICAL[t].format('name')}"
    return _CANONICAL[t].format(name), name


def _allowed_chars(t: ContactType) -> str:
    extra = _NAME[t].pattern[len("[A-Za-z0-9") : -2]
    return "letters, digits" + ("".join(f" and {c!r}" for c in extra) if extra else "")


def social(t: ContactType, value: str) -> tuple[str, str, Problem]:
    link = split_link(value)
    if link is None:  # a bare handle: @shop or shop
        got = _social_name(t, value)
        if isinstance(got, str):
            return value, "", (Code.INVALID_HANDLE, got)
        return got[0], got[1], None
    if link.scheme not in ("http", "https") or not link.host:
        return value, "", (Code.INVALID_URL, f"{value!r} is not an http(s) link")
    network = network_of(link.host)
    if network is not t:
        hint = f"; set the type to {network.value}" if network else ""
        where = network.value if network else link.host
        return value, "", (Code.WRONG_NETWORK, f"{value!r} links to {where}, not {t.value}{hint}")
    got = _profile_name(t, link)
    if isinstance(got, str):
        return value, "", (Code.INVALID_HANDLE, got)
    return got[0], got[1], None


def whatsapp(value: str, region: str | None) -> tuple[str, Problem]:
    lower = value.lower()
    link = split_link(value) if ("://" in lower or "wa.me" in lower or "whatsapp" in lower) else None
    if link is None:
        return phone(value, region)
    if network_of(link.host) is not ContactType.WHATSAPP:
        return value, (Code.WRONG_NETWORK, f"{value!r} is not a WhatsApp number or wa.me link")
    digits = parse_qs(link.query).get("phone", [""])[0] or (link.segments[0] if link.segments else "")
    if not digits.lstrip("+").isdigit():
        return value, (Code.INVALID_PHONE, f"{value!r} has no phone number: expected https://wa.me/<number>")
    return phone("+" + digits.lstrip("+"), None)


# An http(s) link already in the form url gives (lower-case scheme and host, no user or port).
_PLAIN_URL = re.compile(r"https?://[a-z0-9-]+(?:\.[a-z0-9-]+)+(?:/[A-Za-z0-9._~/-]*)?", re.ASCII)
_WHITESPACE = re.compile(r"\s")  # the characters str.isspace() is true for


def url(value: str) -> tuple[str, Problem]:
    if _PLAIN_URL.fullmatch(value):
        return value, None
    return _url_general(value)


def _url_general(value: str) -> tuple[str, Problem]:
    text = value
    if "://" not in text:  # "www.shop.com" or "shop.com/page": a host name first, so add https://
        if not HOSTNAME.fullmatch(text.split("/", 1)[0]):
            return value, _not_a_url(value)
        text = "https://" + text
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        return value, _not_a_url(value)
    if parts.scheme.lower() not in ("http", "https") or not host or _WHITESPACE.search(text):
        return value, _not_a_url(value)
    netloc = parts.netloc if "@" in parts.netloc else parts.netloc.lower()
    rest = text[len(parts.scheme) + 3 + len(parts.netloc) :]
    return f"{parts.scheme.lower()}://{netloc}{rest}", None


def _not_a_url(value: str) -> Problem:
    return Code.INVALID_URL, f"{value!r} is not a web address (expected https://host/...)"


# ---------------------------------------------------------------- types

_ALIASES: dict[str, ContactType] = {t.value.lower().replace("_", ""): t for t in ContactType}