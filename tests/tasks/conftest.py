import os
import sys

# the local OpenAI-protocol test server lives next to the judge tests
sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir, "verify_judge"))
