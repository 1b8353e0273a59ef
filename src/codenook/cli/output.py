"""Writing a command's document to stdout or to a file, never half-written."""

from __future__ import annotations

import sys

from codenook.safefile import write_file


def write_text(text: str, output: str | None, *, force: bool) -> None:
    """Print ``text``, or write it atomically to ``output`` (refusing to overwrite).

    The file goes through :func:`codenook.safefile.write_file`: a folder, a missing
    folder or a symbolic link at ``output`` is refused with one line; ``force``
    overwrites a file (or replaces a link itself, never what it points to).
    """
    if output is None:
        sys.stdout.write(text)
        return
    # Exports hold the user's conversations: private to them unless they share the file.
    written = write_file(output, text, mode=0o600, force=force, exclusive=not force)
    if written.replaced_link is not None:
        print(
            f"Replaced the symbolic link {output} (to {written.replaced_link}) with the file.",
            file=sys.stderr,
        )
    print(f"Wrote {output}.", file=sys.stderr)
