"""Docstring insertion that leaves the code byte for byte alone, and Bash comments."""

import ast
import keyword
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codenook.assist.tools.docstrings import (
    MODULE,
    DocstringError,
    Edit,
    bash_functions,
    insert_bash_header,
    insert_docstrings,
    missing_docstrings,
    plan_docstrings,
)


def undo(result: str, edits: list[Edit], original: str) -> str:
    """``result`` with each edit's text taken out again (and the replaced text put back)."""
    out, pos, shift = [], 0, 0
    for e in sorted(edits, key=lambda e: e.start):
        at = e.start + shift
        assert result[at : at + len(e.text)] == e.text
        out.append(result[pos:at])
        out.append(original[e.start : e.end])
        pos = at + len(e.text)
        shift += len(e.text) - (e.end - e.start)
    out.append(result[pos:])
    return "".join(out)


def check(source: str, docs: dict[str, str], **kw: object) -> str:
    """Insert, then check the promises: it parses, and minus the inserts it is the original."""
    result = insert_docstrings(source, docs, **kw)  # type: ignore[arg-type]
    ast.parse(result.removeprefix("\ufeff"))
    edits = plan_docstrings(source, docs, **kw)  # type: ignore[arg-type]
    for e in edits:
        # Each insert is whitespace around one string literal, nothing else.
        assert isinstance(ast.literal_eval(e.text.strip()), str)
    assert undo(result, edits, source) == source
    return result


def test_targets_module_classes_functions_methods() -> None:
    src = (
        "import os\n\n\n"
        "@dataclass\nclass A:\n"
        '    """Has one."""\n\n'
        "    class Inner:\n        def m(self):\n            def local():\n                pass\n\n"
        "    async def run(self):\n        pass\n\n\n"
        "async def main():\n    pass\n"
    )
    found = [(t.kind, t.name, t.line, t.indent) for t in missing_docstrings(src)]
    assert found == [
        ("module", MODULE, 1, ""),
        ("class", "A.Inner", 8, "        "),
        ("method", "A.Inner.m", 9, "            "),
        ("method", "A.run", 13, "        "),
        ("function", "main", 17, "    "),
    ]
    every = {t.name for t in missing_docstrings(src, all_=True)}
    assert "A" in every
    assert missing_docstrings(src)[1].source.startswith("    class Inner:\n")
    a = next(t for t in missing_docstrings(src, all_=True) if t.name == "A")
    assert a.source.startswith("@dataclass\nclass A:") and a.has_docstring


def test_decorators_async_and_header_comments() -> None:
    src = (
        "@app.route('/x', methods=['GET'])\n"
        "@cache(key=lambda r: r.id)\n"
        "async def handler(req: dict[str, int] = {'a': 1}) -> 'Resp':  # keep: me\n"
        "    # first comment\n"
        "    return req\n"
    )
    out = check(src, {"handler": "Serve /x."})
    assert out == src.replace("# keep: me\n", '# keep: me\n    """Serve /x."""\n')


def test_multi_line_docstring_layout_and_escapes() -> None:
    src = "class A:\n    def m(self):\n        pass\n"
    out = check(src, {"A.m": 'Do it.\n\nArgs:\n    x: a "path" like C:\\tmp.'})
    assert out == (
        "class A:\n    def m(self):\n"
        '        """Do it.\n\n        Args:\n            x: a "path" like C:\\\\tmp.\n        """\n'
        "        pass\n"
    )
    tree = ast.parse(out)
    method = tree.body[0].body[0]  # type: ignore[attr-defined]
    assert ast.get_docstring(method) == 'Do it.\n\nArgs:\n    x: a "path" like C:\\tmp.'


def test_one_line_function_is_split() -> None:
    src = "def f(): return 1\n\nclass A: pass\n"
    out = check(src, {"f": "One.", "A": "Nothing."})
    assert (
        out == 'def f():\n    """One."""\n    return 1\n\nclass A:\n    """Nothing."""\n    pass\n'
    )


def test_one_line_method_with_several_statements() -> None:
    src = "class A:\n  def f(self): x = 1; return x  # note\n"
    out = check(src, {"A.f": "Two."})
    assert out == 'class A:\n  def f(self):\n    """Two."""\n    x = 1; return x  # note\n'


def test_one_line_function_in_a_tab_file_keeps_its_blank() -> None:
    src = "class B:\n\tdef m(self): pass\n"
    out = check(src, {"B.m": "M."})
    # The space after the colon cannot be part of a tab indentation: it stays where it was.
    assert out == 'class B:\n\tdef m(self): \n\t\t"""M."""\n\t\tpass\n'


def test_tabs() -> None:
    src = "class B:\n\tdef m(self):\n\t\tif x:\n\t\t\treturn 1\n"
    out = check(src, {"B": "Bee.", "B.m": "Em.\n\nLonger."})
    assert out == (
        'class B:\n\t"""Bee."""\n\tdef m(self):\n\t\t"""Em.\n\n\t\tLonger.\n\t\t"""\n'
        "\t\tif x:\n\t\t\treturn 1\n"
    )


def test_crlf_line_endings_are_kept() -> None:
    src = "import os\r\n\r\ndef f():\r\n    return os.sep\r\n"
    out = check(src, {MODULE: "Mod.", "f": "Eff.\n\nMore."})
    assert out == (
        '"""Mod."""\r\n\r\nimport os\r\n\r\ndef f():\r\n'
        '    """Eff.\r\n\r\n    More.\r\n    """\r\n    return os.sep\r\n'
    )
    assert "\n" not in out.replace("\r\n", "")


def test_module_docstring_after_shebang_and_encoding_line() -> None:
    src = "#!/usr/bin/env python3\n# -*- coding: utf-8 -*-\nimport sys\n"
    out = check(src, {MODULE: "Tool."})
    assert out == '#!/usr/bin/env python3\n# -*- coding: utf-8 -*-\n"""Tool."""\n\nimport sys\n'
    assert out.startswith("#!")


def test_module_docstring_of_empty_and_comment_only_files() -> None:
    assert check("", {MODULE: "Empty."}) == '"""Empty."""\n'
    assert check("# note", {MODULE: "Note."}) == '# note\n"""Note."""\n'


def test_existing_docstrings_left_alone_unless_replace() -> None:
    src = 'def f():\n    """Old."""\n    return 1\n'
    assert [t.name for t in missing_docstrings(src)] == [MODULE]
    assert insert_docstrings(src, {"f": "New."}) == src
    out = check(src, {"f": "New."}, replace=True)
    assert out == 'def f():\n    """New."""\n    return 1\n'


def test_definitions_in_if_blocks_and_duplicates() -> None:
    src = "if X:\n    def f():\n        pass\nelse:\n    def f():\n        pass\n"
    assert [t.name for t in missing_docstrings(src)][1:] == ["f", "f#2"]
    out = check(src, {"f#2": "Second."})
    assert out.count('"""Second."""') == 1
    assert out.index('"""Second."""') > out.index("else:")


def test_bad_input() -> None:
    with pytest.raises(DocstringError, match="does not parse"):
        missing_docstrings("def f(:\n")
    with pytest.raises(DocstringError, match=r"No such definition.*nope"):
        insert_docstrings("def f():\n    pass\n", {"nope": "x"})
    with pytest.raises(DocstringError, match="empty"):
        insert_docstrings("def f():\n    pass\n", {"f": '  """ """ '})
    with pytest.raises(DocstringError, match="style"):
        insert_docstrings("def f():\n    pass\n", {"f": "x"}, style="javadoc")


def test_model_wrapped_quotes_are_removed() -> None:
    out = check("def f(): ...\n", {"f": '"""Quoted by the model."""'})
    assert '"""Quoted by the model."""' in out and '""""' not in out


# ---------------------------------------------------------------------- property

NAMES = st.from_regex(r"[a-z_][a-z0-9_]{0,6}", fullmatch=True).filter(
    lambda s: not keyword.iskeyword(s) and not keyword.issoftkeyword(s)
)
TRICKY = st.sampled_from(['"', "'", "\\", '"""', "\x00", "\x1b", "é", "{x}", "#"])
WORDS = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp")), min_size=1
)
LINE = st.lists(st.one_of(WORDS, TRICKY), min_size=1, max_size=4).map(" ".join)
DOCS = (
    st.lists(st.one_of(LINE, st.just("")), min_size=0, max_size=3)
    .flatmap(
        lambda middle: st.tuples(LINE, st.just(middle), LINE).map(
            lambda t: "\n".join([t[0], *t[1], t[2]]) if t[1] else t[0]
        )
    )
    # A text wrapped in triple quotes is taken as a model's quoting and unwrapped
    # (test_model_wrapped_quotes_are_removed), so it is not verbatim text here.
    .filter(lambda d: not re.fullmatch(r'(?s)("""|\'\'\').*\1', d))
)


@st.composite
def python_modules(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A module of functions and classes in random shapes, and the qualified names in it."""
    nl = draw(st.sampled_from(["\n", "\r\n"]))
    unit = draw(st.sampled_from(["    ", "  ", "\t"]))
    lines: list[str] = []
    names: list[str] = []
    for i in range(draw(st.integers(1, 4))):
        name = f"{draw(NAMES)}_{i}"
        shape = draw(st.sampled_from(["block", "oneline", "async", "decorated", "class"]))
        if shape == "block":
            lines += [f"def {name}(a, b=(1, 2)):  # c", f"{unit}# inside", f"{unit}return a"]
        elif shape == "oneline":
            lines += [f"def {name}(x): return x"]
        elif shape == "async":
            lines += [f"async def {name}(", f"{unit}x: int,", ") -> None:", f"{unit}await x"]
        elif shape == "decorated":
            lines += ["@staticmethod", f"def {name}(): ..."]
        else:
            lines += [f"class {name}:", f"{unit}def m(self): pass", "", f"{unit}def n(self):"]
            lines += [f"{unit}{unit}return 1"]
            names += [f"{name}.m", f"{name}.n"]
        names.append(name)
        lines.append("")
    return nl.join(lines) + nl, [MODULE, *names]


def qualified_nodes(tree: ast.Module) -> dict[str, ast.AST]:
    nodes: dict[str, ast.AST] = {MODULE: tree}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            nodes[node.name] = node
            if isinstance(node, ast.ClassDef):
                for sub in node.body:
                    if isinstance(sub, ast.FunctionDef):
                        nodes[f"{node.name}.{sub.name}"] = sub
    return nodes


@settings(max_examples=150, deadline=None)
@given(module=python_modules(), data=st.data())
def test_property_inserts_parse_and_leave_the_rest_byte_identical(
    module: tuple[str, list[str]], data: st.DataObject
) -> None:
    source, names = module
    chosen = data.draw(st.lists(st.sampled_from(names), unique=True, min_size=1))
    docs = {n: data.draw(DOCS) for n in chosen}
    result = check(source, docs)
    nodes = qualified_nodes(ast.parse(result))
    for name, doc in docs.items():
        assert ast.get_docstring(nodes[name]) == doc  # type: ignore[arg-type]
    if "\r\n" in source:
        assert "\n" not in result.replace("\r\n", "")


# ---------------------------------------------------------------------- Bash

SCRIPT = """#!/usr/bin/env bash
set -euo pipefail

usage() {
  echo "usage"
}

function main {
  cat <<'EOF'
not_a_function() {
EOF
  helper "$@"
}

  helper () {
    :
  }
function with_parens() {
  :
}
"""


def test_bash_functions_both_forms_not_in_heredocs() -> None:
    assert bash_functions(SCRIPT) == ["usage", "main", "helper", "with_parens"]


def test_bash_header_keeps_the_shebang_first() -> None:
    out = insert_bash_header(SCRIPT, "Usage: tool.sh FILE\n\nDoes a thing.", {})
    assert out.startswith("#!/usr/bin/env bash\n# Usage: tool.sh FILE\n#\n# Does a thing.\nset -e")
    assert out.replace("# Usage: tool.sh FILE\n#\n# Does a thing.\n", "") == SCRIPT


def test_bash_header_without_shebang_and_function_comments() -> None:
    src = "x() {\r\n  :\r\n}\r\n  y() { :; }\r\n"
    out = insert_bash_header(src, "Usage: x", {"x": "Does x.", "y": "Does y.\nTwice."})
    assert out == (
        "# Usage: x\r\n# Does x.\r\nx() {\r\n  :\r\n}\r\n"
        "  # Does y.\r\n  # Twice.\r\n  y() { :; }\r\n"
    )


def test_bash_comments_above_functions() -> None:
    out = insert_bash_header(SCRIPT, "", {"main": "Entry point.", "helper": "Helps."})
    assert "\n# Entry point.\nfunction main {\n" in out
    assert "\n  # Helps.\n  helper () {\n" in out
    assert out.startswith("#!/usr/bin/env bash\nset -euo")
    with pytest.raises(DocstringError, match="not_a_function"):
        insert_bash_header(SCRIPT, "", {"not_a_function": "x"})


def test_bash_header_on_a_shebang_only_file() -> None:
    assert insert_bash_header("#!/bin/sh", "Usage: s", {}) == "#!/bin/sh\n# Usage: s\n"
