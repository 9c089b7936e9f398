#!/usr/bin/env node
// A tiny MCP server over stdio (newline-delimited JSON-RPC): one tool, forecast. It is the npm
// package examples/e2e.d/55-npm.sh publishes to Verdaccio and then to Vetted.
// WEATHER_DESCRIPTION overrides the tool's description (to show a changed tool being caught).
'use strict';
const readline = require('readline');

const tools = [{
  name: 'forecast',
  description: process.env.WEATHER_DESCRIPTION || "Get tomorrow's weather forecast for a city.",
  inputSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
}];

const send = (msg) => process.stdout.write(JSON.stringify({ jsonrpc: '2.0', ...msg }) + '\n');

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  let msg;
  try { msg = JSON.parse(line); } catch { return; }
  if (msg.id === undefined || msg.id === null) return; // a notification
  switch (msg.method) {
    case 'initialize':
      return send({ id: msg.id, result: {
        protocolVersion: (msg.params && msg.params.protocolVersion) || '2025-06-18',
        capabilities: { tools: {} },
        serverInfo: { name: 'acme-weather-mcp', version: '1.0.0' },
      } });
    case 'ping':
      return send({ id: msg.id, result: {} });
    case 'tools/list':
      return send({ id: msg.id, result: { tools } });
    case 'tools/call': {
      const city = String(((msg.params || {}).arguments || {}).city || 'nowhere');
      return send({ id: msg.id, result: { content: [{ type: 'text', text: `Sunny in ${city} tomorrow.` }] } });
    }
    default:
      return send({ id: msg.id, error: { code: -32601, message: `method not found: ${msg.method}` } });
  }
});
