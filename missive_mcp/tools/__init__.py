"""The MCP tools, one module per resource: each tool is a typed function whose docstring is its description, with
its declaration (`declaration.tool`: toolset, title, the endpoint rows it calls) right above it.

Tool modules do not use `from __future__ import annotations`: the SDK reads each tool's signature several times
while the server is built (`inspect.signature(eval_str=True)`, `get_type_hints`), and string annotations would
be compiled and evaluated each time, a fifth of building every toolset's tools."""
