"""``python -m nn``: see ``nn.cli``."""

import sys

from nn.cli import main

sys.exit(main())
