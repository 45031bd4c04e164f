"""missive-mcp: an MCP server for the Missive team inbox."""

__version__ = "0.1.0"
