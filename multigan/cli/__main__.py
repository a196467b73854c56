"""`python -m multigan.cli ...`, as before the command line became a package (`python -m multigan` does the same)."""
import sys

from multigan.cli import main

sys.exit(main())
