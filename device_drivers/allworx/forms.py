"""Read an IST OIS page: its title, form fields (as a browser would submit them) and id'd cells."""
from __future__ import annotations

from dataclasses import dataclass, field
from html import unescape
from html.parser import HTMLParser

from device_drivers.allworx.errors import Garbled


@dataclass
class ParsedPage:
    title: str = ""
    values: dict[str, str] = field(default_factory=dict)   # what a browser would submit
    fields: set[str] = field(default_factory=set)           # every named control, checked or not
    ids: dict[str, str] = field(default_factory=dict)       # text of elements with an id
    messages: list[str] = field(default_factory=list)       # <p class="message"> notes


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)   # keep &nbsp; in the title as the device sends it
        self.page = ParsedPage()
        self._text_target: tuple[str, str] | None = None     # ("title"|"id"|"message", key)
        self._select: str | None = None
        self._select_first: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "title":
            self._text_target = ("title", "")
        elif tag == "input" and a.get("name"):
            self._input(a)
        elif tag == "select" and a.get("name"):
            self._select, self._select_first = a["name"], None
            self.page.fields.add(a["name"])
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if self._select_first is None:
                self._select_first = value
            if "selected" in a:
                self.page.values[self._select] = value
        elif "id" in a:
            self._text_target = ("id", a["id"])
        elif tag == "p" and a.get("class") == "message":
            self._text_target = ("message", "")
            self.page.messages.append("")

    def _input(self, a: dict[str, str]) -> None:
        name, kind = a["name"], a.get("type", "text").lower()
        if kind in ("submit", "button", "reset", "image"):
            return
        self.page.fields.add(name)
        if kind in ("checkbox", "radio"):
            if "checked" in a:
                self.page.values[name] = a.get("value") or "on"
        else:
            self.page.values[name] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select:
            if self._select not in self.page.values and self._select_first is not None:
                self.page.values[self._select] = self._select_first    # browsers submit the first option
            self._select = None
        elif tag in ("title", "td", "span", "div", "p", "th"):
            self._text_target = None

    def handle_data(self, data: str) -> None:
        self._append(data)

    def handle_entityref(self, name: str) -> None:
        self._append(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self._append(f"&#{name};")

    def _append(self, text: str) -> None:
        if self._text_target is None:
            return
        kind, key = self._text_target
        if kind == "title":
            self.page.title += text
        elif kind == "id":
            self.page.ids[key] = self.page.ids.get(key, "") + unescape(text)
        else:
            self.page.messages[-1] += unescape(text)


def parse(text: str) -> ParsedPage:
    """The page's parts; Garbled when html.parser gives up on the markup."""
    parser = _Parser()
    try:
        parser.feed(text)
        parser.close()
    except AssertionError as exc:       # _markupbase's verdict on e.g. "<![foo[": not a page we can read
        raise Garbled(f"unreadable HTML: {exc}") from None
    return parser.page
