import sys

from repost.cli import main

sys.exit(main())
