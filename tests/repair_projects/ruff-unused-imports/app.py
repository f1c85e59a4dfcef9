import json
import os
from typing import Dict, List

DATA: Dict[str, int] = json.loads("{}")
