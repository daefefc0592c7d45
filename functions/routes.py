"""Route templates of HTTP functions, as Azure Functions writes them (ASP.NET routing):
``orders/{id:int}``, ``files/{*path}``, ``users/{name?}``, ``items/{id:guid}``.

A template is parsed once, at registration, into a regular expression; a malformed template
is an error naming it. Literal segments match without case, as on Azure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Constraints Azure's route templates accept, as the regular expression a value must match.
CONSTRAINTS = {
    "int": r"-?\d+",
    "long": r"-?\d+",
    "float": r"-?\d+(?:\.\d+)?",
    "double": r"-?\d+(?:\.\d+)?",
    "decimal": r"-?\d+(?:\.\d+)?",
    "bool": r"(?i:true|false)",
    "alpha": r"[A-Za-z]+",
    "guid": r"\{?[0-9A-Fa-f]{8}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{12}\}?",
    "datetime": r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?",
}

_PARAMETER = re.compile(
    r"^\{(?P<star>\*)?(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::(?P<constraint>[a-z]+))?(?P<optional>\?)?\}$"
)


class RouteError(ValueError):
    """A route template that cannot be parsed."""


@dataclass(frozen=True)
class Route:
    template: str
    pattern: re.Pattern[str]
    parameters: tuple[str, ...]
    #: The template with every parameter replaced by its constraint: two routes with the same
    #: shape and a method in common clash.
    shape: str

    def match(self, path: str) -> dict[str, str] | None:
        found = self.pattern.fullmatch(path)
        if found is None:
            return None
        return {name: value for name, value in found.groupdict().items() if value is not None}

    def clashes_with(self, other: Route) -> bool:
        """Whether some path is taken by both routes' shapes: the same shape, or the same once
        an optional last parameter is left out."""
        return bool(self._shapes() & other._shapes())

    def _shapes(self) -> set[str]:
        shapes = {self.shape}
        last = self.shape.rsplit("/", 1)[-1]
        if last.endswith("?}") or last == "{*}":
            shapes.add(self.shape.rsplit("/", 1)[0] if "/" in self.shape else "")
        return shapes

    @property
    def literal_segments(self) -> int:
        """How many segments are literal; the router tries more literal routes first."""
        return sum(1 for part in self.shape.split("/") if part and not part.startswith("{"))


def parse_route(template: str) -> Route:
    """Parse ``template`` (without the ``/api/`` prefix)."""
    if not isinstance(template, str):
        raise RouteError(f"a route is a string, not {type(template).__name__}")
    text = template.strip().strip("/")
    if any(character in text for character in "?#\\") and not _only_optional_marks(text):
        raise RouteError(f"the route {template!r} may not hold '?', '#' or '\\' outside a parameter")
    segments = text.split("/") if text else []
    regex_parts: list[str] = []
    shape_parts: list[str] = []
    names: list[str] = []
    for index, segment in enumerate(segments):
        if not segment:
            raise RouteError(f"the route {template!r} has an empty segment")
        if "{" not in segment and "}" not in segment:
            regex_parts.append(re.escape(segment))
            shape_parts.append(segment.lower())
            continue
        found = _PARAMETER.match(segment)
        if found is None:
            raise RouteError(
                f"the route {template!r} has a malformed parameter {segment!r}: write {{name}}, {{name:type}}, "
                "{name?} or {*name}, one per segment"
            )
        name, constraint = found["name"], found["constraint"]
        if name in names:
            raise RouteError(f"the route {template!r} names the parameter {name!r} twice")
        if constraint is not None and constraint not in CONSTRAINTS:
            raise RouteError(
                f"the route {template!r} has an unknown constraint {constraint!r} (known: {', '.join(CONSTRAINTS)})"
            )
        is_last = index == len(segments) - 1
        if (found["star"] or found["optional"]) and not is_last:
            raise RouteError(f"in the route {template!r}, only the last parameter may be optional or catch-all")
        names.append(name)
        value = r"[\s\S]*" if found["star"] else CONSTRAINTS.get(constraint or "", r"[^/]+")
        group = f"(?P<{name}>{value})"
        if found["optional"] or found["star"]:
            regex_parts.append(f"(?:/{group})?" if regex_parts else f"{group}?")
        else:
            regex_parts.append(group)
        mark = "?" if found["optional"] else ""
        shape_parts.append("{*}" if found["star"] else "{" + (constraint or "") + mark + "}")
    regex = ""
    for part in regex_parts:
        if not regex:
            regex = part
        elif part.startswith("(?:/"):
            regex += part
        else:
            regex += "/" + part
    return Route(text, re.compile(f"(?i:{regex})/?" if regex else "/?"), tuple(names), "/".join(shape_parts))


def _only_optional_marks(text: str) -> bool:
    """True when every '?' in ``text`` ends a parameter (``{name?}``) and no '#' or '\\' appears."""
    return "#" not in text and "\\" not in text and text.count("?") == text.count("?}")
