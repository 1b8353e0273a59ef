"""Allow ``python -m codenook``."""

from codenook.launch import main

raise SystemExit(main())
