import sys

from mbc_navigator.cli.launch import main

sys.exit(main())
