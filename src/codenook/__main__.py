"""Allow ``python -m codenook``."""

from codenook.cli.main import main

raise SystemExit(main())
