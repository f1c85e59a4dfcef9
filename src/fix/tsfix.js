"use strict";
// Asks TypeScript's language service for its code fixes at one diagnostic and prints
// them as one JSON line: the fixes' text changes (UTF-16 offsets, as TypeScript
// counts) and, for every file they touch, the text the service saw. It only reads
// the project; cars applies the changes itself (src/fix/tsfix.rs).
// usage: node tsfix.js TYPESCRIPT ROOT FILE LINE COLUMN CODE COMMAND
const fs = require("fs");
const path = require("path");

const [tsPath, root, file, line, column, code, command] = process.argv.slice(2);
const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");

let ts;
try {
  ts = require(tsPath);
} catch (e) {
  out({ error: `cannot load typescript: ${e.message.split("\n")[0]}` });
  process.exit(0);
}
if (typeof ts.createLanguageService !== "function") {
  out({ error: `typescript ${ts.version} has no language-service API` });
  process.exit(0);
}

const inRoot = (p) => p === root || p.startsWith(root + path.sep);
const abs = path.resolve(root, file);

// The words after `tsc` in the session's command, up to the next shell operator.
function tscArgs(cmd) {
  const words = (cmd || "").split(/\s+/).filter(Boolean);
  const i = words.findIndex((w) => /(^|\/)tsc$/.test(w));
  if (i < 0) return null;
  const args = [];
  for (const w of words.slice(i + 1)) {
    if (/^(&&|\|\|?|;)$/.test(w)) break;
    args.push(w);
  }
  return args;
}

// The options tsc used: files on its command line mean no tsconfig (as tsc does);
// else `--project`, else the tsconfig.json tsc finds from the root.
const cli = tscArgs(command);
const parsed = cli ? ts.parseCommandLine(cli) : { options: {}, fileNames: [] };
let options = parsed.options;
let fileNames = parsed.fileNames.map((f) => path.resolve(root, f));
let config;
if (parsed.options.project) {
  config = path.resolve(root, parsed.options.project);
  if (ts.sys.directoryExists(config)) config = path.join(config, "tsconfig.json");
} else if (fileNames.length === 0) {
  config = ts.findConfigFile(root, ts.sys.fileExists);
}
if (config && inRoot(config) && ts.sys.fileExists(config)) {
  const overrides = Object.assign({}, parsed.options);
  delete overrides.project;
  const host = Object.assign({}, ts.sys, { onUnRecoverableConfigFileDiagnostic: () => {} });
  const cfg = ts.getParsedCommandLineOfConfigFile(config, overrides, host);
  if (cfg) {
    options = cfg.options;
    fileNames = cfg.fileNames;
  }
}
if (!fileNames.includes(abs)) fileNames.push(abs);

const seen = new Map();
const read = (f) => {
  if (!seen.has(f)) seen.set(f, ts.sys.fileExists(f) ? ts.sys.readFile(f) : undefined);
  return seen.get(f);
};
const service = ts.createLanguageService(
  {
    getScriptFileNames: () => fileNames,
    getScriptVersion: () => "0",
    getScriptSnapshot: (f) => {
      const text = read(f);
      return text === undefined ? undefined : ts.ScriptSnapshot.fromString(text);
    },
    getCurrentDirectory: () => root,
    getCompilationSettings: () => options,
    getDefaultLibFileName: (o) => ts.getDefaultLibFilePath(o),
    fileExists: ts.sys.fileExists,
    readFile: ts.sys.readFile,
    readDirectory: ts.sys.readDirectory,
    directoryExists: ts.sys.directoryExists,
    getDirectories: ts.sys.getDirectories,
  },
  ts.createDocumentRegistry()
);

const program = service.getProgram();
const source = program && program.getSourceFile(abs);
if (!source) {
  out({ error: `typescript ${ts.version} did not load ${file}` });
  process.exit(0);
}
const num = Number(code.replace(/^TS/, ""));
const lines = source.getLineStarts().length;
if (line < 1 || line > lines) {
  out({ error: `${file} has no line ${line}` });
  process.exit(0);
}
const start = ts.getPositionOfLineAndCharacter(source, line - 1, Math.max(0, column - 1));
// The diagnostic's own span when the service reports it; else the word at the column
// (the service's options may not report it, e.g. noUnusedLocals given elsewhere).
const diagnostic = [
  ...program.getSyntacticDiagnostics(source),
  ...program.getSemanticDiagnostics(source),
  ...service.getSuggestionDiagnostics(abs),
].find((d) => d.code === num && d.start === start);
let end = start;
if (diagnostic) end = start + diagnostic.length;
else while (end < source.text.length && /[\w$]/.test(source.text[end])) end++;

const newLine = source.text.includes("\r\n") ? "\r\n" : "\n";
const format = Object.assign(ts.getDefaultFormatCodeSettings(newLine), {
  indentSize: 2,
  tabSize: 2,
});
let fixes;
try {
  fixes = service.getCodeFixesAtPosition(abs, start, end, [num], format, {});
} catch (e) {
  out({ error: `typescript ${ts.version} failed: ${e.message.split("\n")[0]}` });
  process.exit(0);
}
out({
  version: ts.version,
  reported: Boolean(diagnostic),
  fixes: fixes
    // A fix with commands (install @types/...) or a new file is not a text edit.
    .filter((f) => !f.commands && f.changes.every((c) => !c.isNewFile))
    .map((f) => ({
      name: f.fixName,
      description: f.description,
      changes: f.changes.map((c) => ({
        file: inRoot(c.fileName) ? path.relative(root, c.fileName).split(path.sep).join("/") : c.fileName,
        text: read(c.fileName) === undefined ? null : read(c.fileName),
        edits: c.textChanges.map((t) => ({ start: t.span.start, length: t.span.length, text: t.newText })),
      })),
    })),
});
