// A minimal MCP host for the e2e scripts, with no dependencies: it runs a stdio MCP server
// command, speaks raw JSON-RPC (protocol 2025-06-18, as today's hosts do) and prints one JSON
// document describing what it saw: the initialize result, every prompt, resource and tool
// (all pages), one prompt, one resource, and the answers to the tools/call requests named in
// HOST_CALLS (JSON: [{"name":…,"arguments":{…}}]). Usage: node host.mjs CMD ARGS…
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

const [cmd, ...args] = process.argv.slice(2);
const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "inherit"] });
const pending = new Map();
let nextId = 1;
const frames = [];
createInterface({ input: child.stdout }).on("line", (line) => {
  if (!line.trim()) return;
  frames.push(line);
  const msg = JSON.parse(line);
  if (msg.id !== undefined && pending.has(msg.id) && !msg.method) {
    pending.get(msg.id)(msg);
    pending.delete(msg.id);
  } else if (msg.method && msg.id !== undefined) {
    // Server-to-host requests: answer roots/list and ping; refuse the rest.
    const result = msg.method === "roots/list" ? { roots: [] } : msg.method === "ping" ? {} : undefined;
    const reply = result ? { jsonrpc: "2.0", id: msg.id, result } : { jsonrpc: "2.0", id: msg.id, error: { code: -32601, message: "not supported by the test host" } };
    child.stdin.write(JSON.stringify(reply) + "\n");
  }
});
const timer = setTimeout(() => { console.error("host: timed out"); process.exit(3); }, 120000);

function request(method, params) {
  const id = nextId++;
  child.stdin.write(JSON.stringify({ jsonrpc: "2.0", id, method, params }) + "\n");
  return new Promise((resolve) => pending.set(id, resolve));
}
async function all(method, key) {
  const out = [];
  let cursor;
  do {
    const r = await request(method, cursor ? { cursor } : {});
    if (r.error) return { error: r.error };
    out.push(...r.result[key]);
    cursor = r.result.nextCursor;
  } while (cursor);
  return out;
}

const init = await request("initialize", { protocolVersion: "2025-06-18", capabilities: { roots: { listChanged: true } }, clientInfo: { name: "e2e-host", version: "1" } });
child.stdin.write(JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }) + "\n");
const report = { initialize: init.result ?? init.error };
report.prompts = await all("prompts/list", "prompts");
report.resources = await all("resources/list", "resources");
report.tools = await all("tools/list", "tools");
const simple = Array.isArray(report.prompts) ? report.prompts.find((p) => !(p.arguments ?? []).some((a) => a.required)) : undefined;
if (simple) report.prompt = (await request("prompts/get", { name: simple.name, arguments: {} })).result;
if (Array.isArray(report.resources) && report.resources.length) report.resource = (await request("resources/read", { uri: report.resources[0].uri })).result;
report.calls = [];
for (const c of JSON.parse(process.env.HOST_CALLS ?? "[]")) {
  const r = await request("tools/call", c);
  report.calls.push(r.result ?? { error: r.error });
}
clearTimeout(timer);
console.log(JSON.stringify(report));
child.stdin.end();
setTimeout(() => process.exit(0), 3000).unref();
child.on("exit", () => process.exit(0));
