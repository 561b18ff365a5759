#!/usr/bin/env python3
"""Independent checker for the bundles-j evaluation set (python3 stdlib only): ../check_bundle_set.py on this
folder with prefix "j" (the checker this set's writer ran, shared by every set; it differed only in the letter)."""
import os
import runpy
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.argv = [os.path.join(HERE, "..", "check_bundle_set.py"), HERE, "j"]
runpy.run_path(sys.argv[0], run_name="__main__")
