import sys

from gazesdk.cli import main

sys.exit(main())
