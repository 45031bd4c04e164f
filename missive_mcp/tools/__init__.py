"""The MCP tools, one module per resource; each module ends with its rows of the registration table."""
