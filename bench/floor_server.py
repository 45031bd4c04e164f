"""The cold-start floor: a one-tool `MCPServer` on the same SDK, served over stdio."""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer

server = MCPServer("floor")


@server.tool()
def echo(text: str) -> str:
    """Return the text unchanged."""
    return text


if __name__ == "__main__":
    server.run("stdio")
