// VS Code client for the pqltools language server (`pql lsp`).
// All language intelligence lives in the server; this file starts it, forwards settings, and
// offers a command that restarts it (after upgrading pqltools, or changing its command).
"use strict";

const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function serverOptions(config) {
  const [command, ...args] = config.get("server.command", ["pql", "lsp"]);
  return { command, args, transport: TransportKind.stdio };
}

function documentSelector(config) {
  const selector = [{ scheme: "file", language: "pql" }, { scheme: "untitled", language: "pql" }];
  if (config.get("json", true)) {
    // the server analyses only JSON that looks like segment definitions
    selector.push({ scheme: "file", language: "json" }, { scheme: "file", language: "jsonc" });
  }
  return selector;
}

function createClient() {
  const config = vscode.workspace.getConfiguration("pqltools");
  return new LanguageClient("pqltools", "PQL (pqltools)", serverOptions(config), {
    documentSelector: documentSelector(config),
    initializationOptions: {
      debounceMs: config.get("debounceMs", 100),
      eligibility: config.get("eligibility", true),
      workspaceDiagnostics: config.get("workspaceDiagnostics", true),
    },
    synchronize: {
      configurationSection: "pqltools",
      fileEvents: vscode.workspace.createFileSystemWatcher("**/{pyproject,pqltools}.toml"),
    },
  });
}

async function restart() {
  if (client) {
    await client.stop();
  }
  client = createClient();
  await client.start();
}

async function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand("pqltools.restartServer", restart),
    { dispose: () => client && client.stop() },
  );
  client = createClient();
  await client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
