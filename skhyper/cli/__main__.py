"""``python -m skhyper.cli``: the same as the ``skhyper`` command."""

import sys

from . import main

sys.exit(main())
