"""Watch-target matching: names, aliases, executives, products, the keyword rule and exclusions.

A target matches a text when
  * its keyword rule matches (when it has one), otherwise any of its names/aliases/executives/
    products occurs, and
  * none of its exclusion words occurs (``招行`` + exclusion ``招聘`` never matches a 招行招聘 advert).
Names made only of ASCII letters/digits (``CMB``) match as whole words only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from yuqing.analysis import rules
from yuqing.analysis.lang import normalise


@dataclass(frozen=True)
class TargetSpec:
    id: int
    name: str
    aliases: tuple[str, ...] = ()
    executives: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    rule: str | None = None
    exclude: tuple[str, ...] = ()
    is_own: bool = True

    @property
    def names(self) -> tuple[str, ...]:
        """The organisation's own names (name first, then aliases), for entity-level analysis."""
        return (self.name, *self.aliases)

    @property
    def all_terms(self) -> tuple[str, ...]:
        return (*self.names, *self.executives, *self.products)


@dataclass(frozen=True)
class CompiledTarget:
    spec: TargetSpec
    rule: rules.Node | None
    names_norm: tuple[str, ...]
    terms_norm: tuple[str, ...]
    exclude_norm: tuple[str, ...]
    anchors: tuple[str, ...] = ()  # a match needs one of these as a substring (cheap pre-filter)
    anchor_re: re.Pattern[str] | None = None  # the anchors as one expression (one C-level search)


@dataclass(frozen=True)
class TargetMatch:
    target_id: int
    name: str
    via: str  # rule | name | alias | executive | product
    matched_terms: tuple[str, ...]
    spans: tuple[tuple[int, int], ...] = field(default=())  # where the target's names occur


def compile_target(spec: TargetSpec) -> CompiledTarget:
    """Parse the rule once (raises ValidationError on a malformed rule)."""
    node = rules.parse(spec.rule) if spec.rule and spec.rule.strip() else None
    norm = lambda xs: tuple(dict.fromkeys(n for x in xs if (n := normalise(x).strip())))  # noqa: E731
    terms_norm = norm(spec.all_terms)
    anchors = tuple(dict.fromkeys(rules.positive_terms(node))) if node is not None else terms_norm
    anchor_re = re.compile("|".join(map(re.escape, anchors))) if anchors else None
    return CompiledTarget(spec, node, norm(spec.names), terms_norm, norm(spec.exclude), anchors, anchor_re)


def match_one(target: CompiledTarget, text_norm: str) -> TargetMatch | None:
    """Match one compiled target against normalised text."""
    if target.anchor_re is not None and not target.anchor_re.search(text_norm):
        return None
    if any(rules.find_spans(text_norm, x) for x in target.exclude_norm):
        return None
    found_terms = tuple(t for t in target.terms_norm if rules.find_spans(text_norm, t))
    if target.rule is not None:
        if not rules.evaluate(target.rule, text_norm):
            return None
        via = "rule"
        matched = tuple(
            t for t in dict.fromkeys(rules.positive_terms(target.rule)) if rules.find_spans(text_norm, t)
        )
    else:
        if not found_terms:
            return None
        spec = target.spec
        first = found_terms[0]
        if first == normalise(spec.name):
            via = "name"
        elif first in target.names_norm:
            via = "alias"
        elif first in {normalise(e) for e in spec.executives}:
            via = "executive"
        else:
            via = "product"
        matched = found_terms
    spans = tuple(sorted(s for n in target.names_norm for s in rules.find_spans(text_norm, n)))
    return TargetMatch(target.spec.id, target.spec.name, via, matched, spans)


def _matches(text_norm: str, targets: Iterable[CompiledTarget]) -> list[TargetMatch]:
    return [m for t in targets if (m := match_one(t, text_norm)) is not None]


def match_targets(text: str, targets: Iterable[CompiledTarget]) -> list[TargetMatch]:
    """All targets the text concerns, in the given order."""
    return _matches(normalise(text), targets)


def scan_targets(text: str, targets: Sequence[CompiledTarget]) -> tuple[list[TargetMatch], set[str]]:
    """The targets the text concerns, and the names of the targets it names but whose exclusion
    words occur in it: the monitoring scheme says the text is not about them (a 招聘 advert), so
    their names are not its entities or words either — otherwise the name alone would pull such
    texts into the target's events. The text is normalised once for both."""
    norm = normalise(text)
    excluded = {
        n
        for t in targets
        if t.exclude_norm
        and any(x in norm for x in t.exclude_norm)  # cheap and rarely true: first
        and any(term in norm for term in t.terms_norm)
        and any(rules.find_spans(norm, x) for x in t.exclude_norm)
        for n in t.spec.all_terms
    }
    return _matches(norm, targets), excluded


def extra_words(specs: Sequence[TargetSpec]) -> tuple[str, ...]:
    """Words to add to the segmenter: every target's names, executives and products."""
    return tuple(sorted({w for s in specs for w in s.all_terms if w.strip()}))
