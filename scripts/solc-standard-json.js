#!/usr/bin/env node
// Behaves like `solc --version` / `solc --standard-json` using the pinned npm solc (solcjs/wasm),
// so py-solc-x can drive it. No native solc exists in the registries this project uses.
"use strict";
const path = require("path");
const fs = require("fs");
const solc = require(path.join(__dirname, "..", "node_modules", "solc"));

const args = process.argv.slice(2);
if (args.includes("--version")) {
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
  process.exit(0);
}
if (!args.includes("--standard-json")) {
  process.stderr.write("only --version and --standard-json are supported\n");
  process.exit(2);
}
const input = fs.readFileSync(0, "utf8");
// Sources arrive complete from the caller; an import that is missing is an error, not a file lookup.
const missing = (p) => ({ error: `source not provided: ${p}` });
const output = solc.compile(input, { import: missing });
// solcjs may print ">>> " banner lines to stdout; the JSON document is the only line starting with "{".
const json = output.split("\n").filter((l) => !l.startsWith(">>> ")).join("\n");
process.stdout.write(json);
