"""``python -m shapelens …`` is ``shapelens …``."""
import sys

from .cli import main

sys.exit(main())
