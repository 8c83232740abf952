// Minimal VS Code client for the pqltools language server (`pql lsp`).
// All language intelligence lives in the server; this file only starts it and forwards settings.
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
    selector.push({ scheme: "file", language: "json" });
  }
  return selector;
}

async function activate(context) {
  const config = vscode.workspace.getConfiguration("pqltools");
  client = new LanguageClient("pqltools", "PQL (pqltools)", serverOptions(config), {
    documentSelector: documentSelector(config),
    initializationOptions: {
      debounceMs: config.get("debounceMs", 100),
      eligibility: config.get("eligibility", true),
    },
    synchronize: {
      configurationSection: "pqltools",
      fileEvents: vscode.workspace.createFileSystemWatcher("**/{pyproject,pqltools}.toml"),
    },
  });
  await client.start();
  context.subscriptions.push({ dispose: () => client && client.stop() });
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
