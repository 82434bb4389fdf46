#!/usr/bin/env python3
"""The benchmark suite, from a checkout: the same as `python -m seedstream bench`.

    python benches/run.py --quick
    python benches/run.py --sizes 1e7 --only random,normal --out /tmp/results

See benches/README.md for what it measures and writes.
"""

import sys

from seedstream._bench.cli import main

if __name__ == "__main__":
    sys.exit(main())
