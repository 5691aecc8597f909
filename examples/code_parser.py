"""CodeParser: the code_parser tool, called directly and through a ToolManager.

.venv/bin/python examples/code_parser.py [FILE]
"""

import json
import sys
from pathlib import Path

from pylot.bridge.tool_manager import ToolManager
from pylot.bridge.tools.code_parser import CodeParser

SOURCE = '''import math


class Circle:
    """A circle of a given radius."""

    def area(self, r: float) -> float:
        return math.pi * r * r
'''

code = Path(sys.argv[1]).read_text(encoding="utf-8") if len(sys.argv) > 1 else SOURCE
parser = CodeParser()
view = parser.execute(code)  # the language is detected when not given
print(f"{parser.name}: {view['language']}, ok={view['ok']}")
for symbol in view["symbols"]:
    print(f"  {symbol['kind']:8} {symbol['name']:12} lines {symbol['start_line']}-{symbol['end_line']}")
print("  imports:", [i["module"] for i in view["imports"]])

manager = ToolManager([parser])  # a CodeParser is a Tool
broken = manager.call("code_parser", {"code": "function f( {\n", "language": "javascript"})
print(json.dumps({"ok": broken["ok"], "errors": broken["errors"]}))
