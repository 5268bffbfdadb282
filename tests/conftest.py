import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests", "sw"))
sys.path.insert(0, os.path.join(ROOT, "tests", "soc", "accel"))
