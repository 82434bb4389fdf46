"""Entry point of `python -m seedstream` (see seedstream._selfcheck)."""

import sys

from seedstream._selfcheck import main

sys.exit(main())
