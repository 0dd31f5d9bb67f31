import sys

from tsscan.cli import main

sys.exit(main())
