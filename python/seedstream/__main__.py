"""Entry point of `python -m seedstream` (see seedstream._selfcheck); `python -m seedstream
audit SCRIPT` audits a training step (seedstream.torch.audit)."""

import sys

if sys.argv[1:2] == ["audit"]:
    from seedstream.torch._audit import main as audit_main

    sys.exit(audit_main(sys.argv[2:]))

from seedstream._selfcheck import main  # noqa: E402

sys.exit(main())
