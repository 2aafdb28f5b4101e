"""Agents: typed Python functions as tools a model can call.

So far this package holds the tool registry: :func:`tool` and :class:`ToolRegistry` turn a typed
function with a Google-style docstring into an OpenAI tool schema and call it with arguments checked
against that schema. A domain builds its tools this way (the factory domain's
``fathom.domains.factory.plant_tools``).

* :class:`Tool`, :func:`tool`: one tool (the decorator form refuses an undocumented function);
* :class:`ToolRegistry`: ``register``, ``schemas()``, ``call(name, arguments)``;
* :class:`ToolError` (model-caused; feed the message back), :class:`UnknownToolError`,
  :class:`ToolArgumentError`.

Not here yet: the agent loop, traces, the MCP server and client.
"""

from __future__ import annotations

from fathom.agent._registry import Tool, ToolArgumentError, ToolError, ToolRegistry, UnknownToolError, tool

__all__ = ["Tool", "ToolArgumentError", "ToolError", "ToolRegistry", "UnknownToolError", "tool"]
