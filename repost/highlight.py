"""Fenced code highlighted with Pygments (CSS classes), its regex lexers run on fewer calls.

Highlighting is most of what a code-heavy post costs to parse, and most of that is Pygments'
`RegexLexer` loop: at each position it calls every rule of the current state in turn until one
matches, a Python call per rule (a Python state has 54). Here each state's rules are joined into
one alternation, `(?P<r0>rule0)|(?P<r1>rule1)|...`: the regex engine tries them in the same order
at the same position, and the first that matches is the one the loop would have taken, known by
its group. Its token is the group's text; a rule with a callback gets its own match again, so
callbacks see exactly what Pygments gives them. Lexing is 35-50% cheaper for Python,
JavaScript, Java or Go (`tests/test_highlight.py` checks the tokens of every such lexer), once
a lexer has gone through enough text to pay for compiling the joined rules (`JOIN_AFTER`).

A state whose rules cannot be joined (a backreference or a conditional group, whose numbers
would shift; anything that does not compile) keeps the rule-by-rule loop. Lexers that replace
Pygments' loop, and any Pygments whose loop is not one of those checked here, are left as they are.
"""
from __future__ import annotations

import hashlib
import html
import re
import types
from functools import lru_cache
from typing import Any, Iterator

# A fence with a language, as both engines write it and nh3 leaves it: text only inside (nh3
# escapes & < > in text), so a <pre><code> of raw HTML holding tags is left as it is.
_FENCE = re.compile(r'<pre><code class="language-([^"]*)">([^<]*)</code></pre>')
# Pygments' RegexLexer.get_tokens_unprocessed, the loop `_tokens` repeats, as Pygments 2.15 to 2.20
# write it (`loop_digest` of its source): any other Pygments keeps its own loop.
_KNOWN_LOOP = "b413f38c1cecb313847631c79fa21cbfea4f173aacae67f60e84b849bb816ade"
# Characters a lexer goes through rule by rule before its states are joined: joining costs a
# compile (13 ms for Python's root state, 54 rules; 1-2 ms for Java's or Go's) that saves about
# 0.4 us a character; so a site with little code never pays it, and a lexer kept busy soon gains.
JOIN_AFTER = 20_000
_GLOBAL_FLAGS = re.compile(r"\(\?([aiLmsux]+)\)")  # only allowed at the start of a pattern
_NUMBERED = re.compile(r"\\[1-9]|\(\?P=|\(\?\(")  # a backreference or a conditional group


def highlight_fences(clean: str) -> str:
    """Pygments classes for the fenced code of sanitised HTML."""
    if '<pre><code class="language-' not in clean:
        return clean

    def one(match: re.Match) -> str:
        out = highlight(html.unescape(match.group(2)), html.unescape(match.group(1)))
        return out or match.group(0)

    return _FENCE.sub(one, clean)


def highlight(code: str, lang: str) -> str:
    """Pygments classes for known languages, else ''."""
    name = re.sub(r"[^\w+#.-]", "", lang or "")[:40]
    lexer = _lexer(name) if name else None
    if lexer is None:
        return ""
    from pygments import highlight as pygmentize

    body = pygmentize(code, lexer, _formatter())
    return f'<pre class="highlight"><code class="language-{html.escape(name)}">{body}</code></pre>\n'


@lru_cache(maxsize=256)
def _lexer(name: str):
    """Pygments looks a lexer up by scanning every plugin; once per name is enough."""
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        return quicken(get_lexer_by_name(name))
    except ClassNotFound:
        return None


@lru_cache(maxsize=1)
def _formatter():
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(nowrap=True, classprefix="hl-")


def quicken(lexer: Any) -> Any:
    """The lexer, lexing through `_tokens` when it uses Pygments' own, known loop."""
    from pygments.lexer import RegexLexer

    if type(lexer).get_tokens_unprocessed is RegexLexer.get_tokens_unprocessed and _known_loop():
        lexer.get_tokens_unprocessed = types.MethodType(_tokens, lexer)
    return lexer


@lru_cache(maxsize=1)
def _known_loop() -> bool:
    """Whether this Pygments' loop is the one `_tokens` repeats. Its source is cut from the file
    by indentation (`inspect.getsource` tokenizes it: milliseconds in every parse worker)."""
    from pygments.lexer import RegexLexer

    code = RegexLexer.get_tokens_unprocessed.__code__
    try:  # not linecache: it imports tokenize, whose import compiles dozens of regexes
        with open(code.co_filename, encoding="utf-8") as f:
            lines = f.readlines()
    except (OSError, UnicodeDecodeError):
        return False
    if len(lines) < code.co_firstlineno:
        return False
    first = lines[code.co_firstlineno - 1]
    indent = len(first) - len(first.lstrip())
    source = [first]
    for line in lines[code.co_firstlineno:]:
        if line.strip() and len(line) - len(line.lstrip()) <= indent:
            break
        source.append(line)
    return loop_digest("".join(source)) == _KNOWN_LOOP


def loop_digest(source: str) -> str:
    """sha256 of a function's source, blank lines and indentation dropped, and the one message
    Pygments up to 2.17 formatted with % written as later versions write it."""
    text = "\n".join(line.strip() for line in source.splitlines() if line.strip())
    text = text.replace('"wrong state def: %r" % new_state', 'f"wrong state def: {new_state!r}"')
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class _States(dict):
    """A lexer's states (its `_tokens`), each with its rules joined when they can be: made on
    first use, since a lexer visits few of its states, and only once the lexer has gone through
    `JOIN_AFTER` characters, since a small site would spend more compiling than it saves."""

    def __init__(self, tokendefs: dict, flags: int):
        super().__init__()
        self.tokendefs, self.flags = tokendefs, flags
        self.lexed, self.joining = 0, False

    def __missing__(self, state: Any) -> tuple:
        rules = self.tokendefs[state]
        found = self[state] = (_join(rules, self.flags) if self.joining else None, rules)
        return found

    def count(self, chars: int) -> None:
        self.lexed += chars
        if self.lexed > JOIN_AFTER:
            self.joining = True
            self.clear()


_STATES: dict[int, _States] = {}


def _join(rules: list, flags: int) -> tuple | None:
    """(match of the joined rules, the rule of each group number), or None."""
    if len(rules) < 2:
        return None
    parts = []
    for i, (rexmatch, _, _) in enumerate(rules):
        pattern = getattr(rexmatch, "__self__", None)
        if type(pattern) is not re.Pattern or type(pattern.pattern) is not str or rexmatch != pattern.match:
            return None
        text = pattern.pattern
        if _NUMBERED.search(text):
            return None
        lead = _GLOBAL_FLAGS.match(text)
        if lead:  # `(?s)rule` -> `(?s:rule)`: the same flags, for this rule alone
            text = f"(?{lead.group(1)}:{text[lead.end():]}{chr(10) if 'x' in lead.group(1) else ''})"
        parts.append(f"(?P<r{i}>{text})")
    try:
        joined = re.compile("|".join(parts), flags)
    except (re.error, RecursionError, OverflowError, ValueError):
        return None
    by_group: list = [None] * (joined.groups + 1)
    for i, rule in enumerate(rules):
        by_group[joined.groupindex[f"r{i}"]] = rule
    return joined.match, by_group


def _tokens(lexer: Any, text: str, stack: tuple = ("root",)) -> Iterator[tuple]:
    """`RegexLexer.get_tokens_unprocessed`, with each state's rules tried in one regex call."""
    from pygments.token import Error, Whitespace, _TokenType

    tokendefs = lexer._tokens  # per class, or per instance for a few lexers
    states = _STATES.get(id(tokendefs))
    if states is None or states.tokendefs is not tokendefs:
        states = _STATES[id(tokendefs)] = _States(tokendefs, type(lexer).flags)
    if not states.joining:
        states.count(len(text))
    pos = 0
    statestack = list(stack)
    joined, rules = states[statestack[-1]]
    while True:
        m = None
        if joined is not None:
            found = joined[0](text, pos)
            if found is not None:
                group = found.lastindex  # the rule's own group: it closes after any inside it
                rexmatch, action, new_state = joined[1][group]
                if action is not None and type(action) is not _TokenType:
                    m = rexmatch(text, pos)  # a callback reads the rule's own groups
                    end = m.end()
                else:
                    m, end = found, found.end(group)
        else:
            for rexmatch, action, new_state in rules:
                m = rexmatch(text, pos)
                if m:
                    group, end = 0, m.end()
                    break
        if m:
            if action is not None:
                if type(action) is _TokenType:
                    yield pos, action, m.group(group)
                else:
                    yield from action(lexer, m)
            pos = end
            if new_state is not None:
                if isinstance(new_state, tuple):
                    for state in new_state:
                        if state == "#pop":
                            if len(statestack) > 1:
                                statestack.pop()
                        elif state == "#push":
                            statestack.append(statestack[-1])
                        else:
                            statestack.append(state)
                elif isinstance(new_state, int):
                    if abs(new_state) >= len(statestack):  # pop, but keep at least one state
                        del statestack[1:]
                    else:
                        del statestack[new_state:]
                elif new_state == "#push":
                    statestack.append(statestack[-1])
                else:
                    raise AssertionError(f"wrong state def: {new_state!r}")
                joined, rules = states[statestack[-1]]
            continue
        try:
            if text[pos] == "\n":  # at the end of a line, back to "root"
                statestack = ["root"]
                joined, rules = states["root"]
                yield pos, Whitespace, "\n"
                pos += 1
                continue
            yield pos, Error, text[pos]
            pos += 1
        except IndexError:
            break
