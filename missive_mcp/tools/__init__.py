"""The MCP tools, one module per resource; each module ends with its rows of the registration table.

Tool modules do not use `from __future__ import annotations`: the SDK reads each tool's signature several times
while the server is built (`inspect.signature(eval_str=True)`, `get_type_hints`), and string annotations would
be compiled and evaluated each time, a fifth of building every toolset's tools."""
