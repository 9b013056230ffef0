"""Keyword rules (监测方案): parser and matcher.

Syntax (operators in upper case; see docs/analysis.md)::

    招商银行 OR 招行 OR CMB          any of the terms
    (招行 OR 招商银行) AND 信用卡      both sides
    招行 信用卡                      adjacency is an implicit AND
    招行 NOT 招聘                    NOT is a prefix operator: A NOT B == A AND (NOT B)
    "China Merchants Bank"          quoted phrase (may contain spaces and operators' words)
    华信 NEAR/10 收费                both terms within 10 characters of each other (gap between them)
    |  &  !                        short forms of OR, AND, NOT

Precedence: NOT > NEAR > AND (explicit or implicit) > OR. Matching is case-insensitive on
full-width-normalised text. A term made only of ASCII letters/digits matches as a whole word
(``CMB`` does not match inside ``CMBC``); other terms match as substrings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from yuqing.analysis.lang import normalise
from yuqing.errors import ValidationError

Span = tuple[int, int]


@dataclass(frozen=True)
class Term:
    text: str
    pos: int  # position in the rule source

    def spans(self, text: str) -> list[Span]:
        return find_spans(text, self.text)


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


@dataclass(frozen=True)
class Near:
    left: Node
    right: Node
    distance: int


Node = Term | Or | And | Not | Near


@dataclass
class MatchTrace:
    """Which terms of a rule occurred in a text (for ``yuqing targets test``)."""

    matched: bool
    found: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


_ASCII_WORD = re.compile(r"^[a-z0-9][a-z0-9 ._&'-]*$")


def find_spans(text: str, term: str) -> list[Span]:
    """Occurrences of ``term`` in normalised ``text``; whole words for ASCII terms."""
    if not term:
        return []
    out: list[Span] = []
    whole_word = bool(_ASCII_WORD.match(term))
    start = text.find(term)
    n = len(term)
    while start >= 0:
        end = start + n
        if not whole_word or (
            (start == 0 or not text[start - 1].isascii() or not text[start - 1].isalnum())
            and (end == len(text) or not text[end].isascii() or not text[end].isalnum())
        ):
            out.append((start, end))
        start = text.find(term, start + 1)
    return out


# --- tokenizer ---------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""(?P<ws>\s+)
      |(?P<lpar>[(（])
      |(?P<rpar>[)）])
      |(?P<quote>["“”])
      |(?P<near>NEAR/(?P<dist>\d+))
      |(?P<op>AND\b|OR\b|NOT\b|[|&!])
      |(?P<word>[^\s()（）"“”|&!]+)""",
    re.VERBOSE,
)


def _error(rule: str, pos: int, what: str) -> ValidationError:
    caret = rule + "\n" + " " * _display_width(rule[:pos]) + "^"
    return ValidationError(
        f"规则语法错误，位置 {pos} / rule syntax error at position {pos}: {what}\n{caret}",
        code="invalid_rule",
        position=pos,
    )


def _display_width(s: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in s)


def _tokenize(rule: str) -> list[tuple[str, str, int]]:
    tokens: list[tuple[str, str, int]] = []
    i = 0
    while i < len(rule):
        if rule[i] in '"“”':
            close = min((j for j in (rule.find(q, i + 1) for q in '"“”') if j >= 0), default=-1)
            if close < 0:
                raise _error(rule, i, "引号未闭合 / unclosed quote")
            phrase = rule[i + 1 : close]
            if not phrase.strip():
                raise _error(rule, i, "空短语 / empty phrase")
            tokens.append(("term", phrase, i))
            i = close + 1
            continue
        m = _TOKEN.match(rule, i)
        if m is None:  # pragma: no cover - the word class matches any other character
            raise _error(rule, i, "无法识别 / unexpected character")
        kind = m.lastgroup or ""
        if kind == "dist":
            kind = "near"
        if kind == "near":
            tokens.append(("near", m.group("dist"), i))
        elif kind == "op":
            op = {"|": "OR", "&": "AND", "!": "NOT"}.get(m.group(), m.group())
            tokens.append((op.lower(), op, i))
        elif kind == "word":
            word = m.group()
            if word.startswith("NEAR/") or word == "NEAR":
                raise _error(rule, i, "NEAR 需要写成 NEAR/数字 / NEAR needs a distance, e.g. NEAR/10")
            tokens.append(("term", word, i))
        elif kind in ("lpar", "rpar"):
            tokens.append((kind, m.group(), i))
        i = m.end()
    return tokens


class _Parser:
    def __init__(self, rule: str) -> None:
        self.rule = rule
        self.tokens = _tokenize(rule)
        self.i = 0

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str, int]:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def end_pos(self) -> int:
        return len(self.rule)

    def parse(self) -> Node:
        if not self.tokens:
            raise _error(self.rule, 0, "规则为空 / empty rule")
        node = self.parse_or()
        tok = self.peek()
        if tok is not None:
            raise _error(self.rule, tok[2], f"多余的 {tok[1]!r} / unexpected {tok[1]!r}")
        return node

    def parse_or(self) -> Node:
        items = [self.parse_and()]
        while (tok := self.peek()) is not None and tok[0] == "or":
            self.take()
            items.append(self.parse_and())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def parse_and(self) -> Node:
        items = [self.parse_near()]
        while (tok := self.peek()) is not None and tok[0] in ("and", "term", "lpar", "not"):
            if tok[0] == "and":
                self.take()
            items.append(self.parse_near())
        return items[0] if len(items) == 1 else And(tuple(items))

    def parse_near(self) -> Node:
        left = self.parse_unary()
        while (tok := self.peek()) is not None and tok[0] == "near":
            self.take()
            right = self.parse_unary()
            for side, pos in ((left, tok[2]), (right, tok[2])):
                if not _positional(side):
                    raise _error(
                        self.rule, pos, "NEAR 两侧须为词语或 OR 组合 / NEAR needs terms or OR-groups of terms"
                    )
            left = Near(left, right, int(tok[1]))
        return left

    def parse_unary(self) -> Node:
        tok = self.peek()
        if tok is None:
            raise _error(
                self.rule, self.end_pos(), "规则不完整，缺少词语 / rule ends where a term is expected"
            )
        if tok[0] == "not":
            self.take()
            return Not(self.parse_unary())
        if tok[0] == "term":
            self.take()
            text = normalise(tok[1]).strip()
            return Term(text, tok[2])
        if tok[0] == "lpar":
            self.take()
            node = self.parse_or()
            close = self.peek()
            if close is None or close[0] != "rpar":
                pos = close[2] if close else self.end_pos()
                raise _error(self.rule, tok[2] if close is None else pos, "括号未闭合 / unclosed parenthesis")
            self.take()
            return node
        raise _error(self.rule, tok[2], f"此处应为词语，而不是 {tok[1]!r} / expected a term, got {tok[1]!r}")


def _positional(node: Node) -> bool:
    if isinstance(node, Term | Near):
        return True
    if isinstance(node, Or):
        return all(_positional(n) for n in node.items)
    return False


def parse(rule: str) -> Node:
    """Parse a rule; raises :class:`yuqing.errors.ValidationError` pointing at the position."""
    return _Parser(rule).parse()


def _spans(node: Node, text: str) -> list[Span]:
    if isinstance(node, Term):
        return node.spans(text)
    if isinstance(node, Or):
        return [s for n in node.items for s in _spans(n, text)]
    if isinstance(node, Near):
        out = []
        for a in _spans(node.left, text):
            for b in _spans(node.right, text):
                gap = max(a[0], b[0]) - min(a[1], b[1])
                if gap <= node.distance:
                    out.append((min(a[0], b[0]), max(a[1], b[1])))
        return out
    raise TypeError(node)


def evaluate(node: Node, text: str) -> bool:
    """Does the (already normalised) text satisfy the rule?"""
    if isinstance(node, Term | Near):
        return bool(_spans(node, text))
    if isinstance(node, Or):
        return any(evaluate(n, text) for n in node.items)
    if isinstance(node, And):
        return all(evaluate(n, text) for n in node.items)
    return not evaluate(node.item, text)


def terms(node: Node) -> list[str]:
    if isinstance(node, Term):
        return [node.text]
    if isinstance(node, Or | And):
        return [t for n in node.items for t in terms(n)]
    if isinstance(node, Near):
        return terms(node.left) + terms(node.right)
    return terms(node.item)


def positive_terms(node: Node, negated: bool = False) -> list[str]:
    """Terms that count for a match (not under NOT)."""
    if isinstance(node, Term):
        return [] if negated else [node.text]
    if isinstance(node, Or | And):
        return [t for n in node.items for t in positive_terms(n, negated)]
    if isinstance(node, Near):
        return positive_terms(node.left, negated) + positive_terms(node.right, negated)
    return positive_terms(node.item, not negated)


def trace(node: Node, text: str) -> MatchTrace:
    """Evaluate and list which of the rule's terms occur in the text."""
    seen = dict.fromkeys(terms(node))
    found = [t for t in seen if find_spans(text, t)]
    missing = [t for t in seen if t not in found]
    return MatchTrace(evaluate(node, text), found, missing)


def to_string(node: Node) -> str:
    """Canonical text of a parsed rule (for display)."""
    if isinstance(node, Term):
        return f'"{node.text}"' if re.search(r"[\s()|&!]|^(AND|OR|NOT)$", node.text) else node.text
    if isinstance(node, Or):
        return "(" + " OR ".join(to_string(n) for n in node.items) + ")"
    if isinstance(node, And):
        return "(" + " AND ".join(to_string(n) for n in node.items) + ")"
    if isinstance(node, Near):
        return f"({to_string(node.left)} NEAR/{node.distance} {to_string(node.right)})"
    return f"NOT {to_string(node.item)}"
