import sys

from mbc_navigator.cli.main import main

sys.exit(main())
