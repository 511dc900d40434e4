"""`python -m board` is the `board` command."""

from board.cli import main

raise SystemExit(main())
