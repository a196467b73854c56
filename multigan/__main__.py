"""`python -m multigan ...`, which is also what `torchrun -m multigan train RECIPE` runs in each process."""
import sys

from multigan.cli import main

sys.exit(main())
