import sys

from masa.cli import main

sys.exit(main())
