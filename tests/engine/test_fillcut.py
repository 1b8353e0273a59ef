"""A fill's answer ends where it starts writing the suffix again, and a repeat is never shown."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from codenook.engine.fillcut import find_repeat, suffix_lines, trim_suffix_repeat


def _stream(text: str, size: int) -> Iterator[tuple[str, int]]:
    for k in range(0, len(text), size):
        yield text[k : k + size], 1


def _trimmed(text: str, suffix: str, size: int) -> tuple[str, list[str], int]:
    pieces = list(trim_suffix_repeat(_stream(text, size), suffix))
    return "".join(p for p, _ in pieces), [p for p, _ in pieces], sum(n for _, n in pieces)


# (answer the model wrote, suffix, the middle)
CASES = [
    # The gap's line, then the suffix's next line again: cut before it.
    (
        '    with open(path, "r") as f:\n        return [line.rstrip() for line in f]\n\n\n',
        "        return [line.rstrip() for line in f]\n\n\ndef count_words(text):\n",
        '    with open(path, "r") as f:\n',
    ),
    # The cursor's line ends at the gap: blank lines before the repeat belong to the suffix.
    (
        "\n    return a + b\n\n\ndef main():\n    print(add(1, 2))\n",
        "\n\ndef main():\n    print(add(1, 2))\n",
        "\n    return a + b",
    ),
    # A run-on that skips the suffix's first line and repeats its third.
    (
        '    if n % 3 == 0:\n        return "Fizz"\n    return str(n)\n\n\ndef main():\n',
        '    if n % 5 == 0:\n        return "Buzz"\n    return str(n)\n',
        '    if n % 3 == 0:\n        return "Fizz"\n',
    ),
    # No repeat: everything passes.
    ("x * x", "\n\n\nprint(square(3))\n", "x * x"),
    # A short later line of the suffix (return x) may well be written in the gap.
    (
        "    y = x + 1\n    return x",
        "\n    print(y)\n    return x\n",
        "    y = x + 1\n    return x",
    ),
]


@pytest.mark.parametrize("answer, suffix, middle", CASES)
@pytest.mark.parametrize("size", [1, 3, 1000])
def test_only_the_middle_comes_through(answer: str, suffix: str, middle: str, size: int) -> None:
    text, pieces, tokens = _trimmed(answer, suffix, size)
    assert text == middle
    # Nothing of the repeat was ever shown: each piece is part of the final middle.
    assert middle.startswith("".join(pieces))
    if size == 1000:
        assert tokens == 1


def test_a_repeat_stops_reading_the_model() -> None:
    read: list[str] = []

    def model() -> Iterator[tuple[str, int]]:
        for line in ["    x = 1\n", "    return total\n", "never read\n"]:
            read.append(line)
            yield line, 1

    assert "".join(p for p, _ in trim_suffix_repeat(model(), "\n    return total\n")) == (
        "    x = 1"
    )
    assert "never read\n" not in read


def test_short_suffix_lines_match_only_whole_lines() -> None:
    assert suffix_lines(")\n\nelse:\n    pass\n") == [")", "else:", "pass"]
    assert find_repeat("foo(a)\nelse:\n", "\nelse:\n") == 7
    assert find_repeat("elsewhere = 1\n", "\nelse:\n") is None
    assert find_repeat("    else:", "\nelse:\n", final=False) is None
    assert find_repeat("    else:", "\nelse:\n", final=True) == 0
