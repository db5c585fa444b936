#!/usr/bin/env node
// Parse and analyse KQL files with Microsoft's Kusto language service (the engine behind the
// Kusto editors), against the Log Analytics tables in schemas.json.
//
// Usage: node check.js FILE...
// Prints every diagnostic as FILE:LINE:COLUMN: SEVERITY CODE MESSAGE and a summary line; exits 1
// when any file has an error-severity diagnostic (syntax errors and unresolved names alike: the
// analyser reports an unknown table, column or function as an error), 2 on a usage error.
'use strict';
const fs = require('fs');
const path = require('path');

// The package is a Bridge.NET build: its runtime must be loaded first, and it defines globals.
require('@kusto/language-service-next/bridge.js');
require('@kusto/language-service-next/Kusto.Language.Bridge.js');
const K = globalThis.Kusto.Language;

function globals() {
  const schemas = JSON.parse(fs.readFileSync(path.join(__dirname, 'schemas.json'), 'utf8'));
  const tables = Object.keys(schemas)
    .filter((name) => !name.startsWith('_'))
    .map((name) => new K.Symbols.TableSymbol.$ctor7(name, schemas[name], null));
  const db = new K.Symbols.DatabaseSymbol.ctor('svchunt', tables);
  return K.GlobalState.Default.WithDatabase(db);
}

function lineAndColumn(text, offset) {
  const before = text.slice(0, offset).split('\n');
  return [before.length, before[before.length - 1].length + 1];
}

function main(files) {
  if (files.length === 0) {
    console.error('usage: node check.js FILE...');
    return 2;
  }
  const state = globals();
  let errors = 0;
  let warnings = 0;
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    const code = K.KustoCode.ParseAndAnalyze(text, state);
    const diagnostics = code.GetDiagnostics();
    for (let i = 0; i < diagnostics.Count; i++) {
      const d = diagnostics.getItem(i);
      const [line, column] = lineAndColumn(text, d.Start);
      console.log(`${file}:${line}:${column}: ${d.Severity} ${d.Code} ${d.Message}`);
      if (d.Severity === 'Error') errors++;
      else warnings++;
    }
  }
  console.log(`kusto-check: ${files.length} file(s), ${errors} error(s), ${warnings} other diagnostic(s)`);
  return errors > 0 ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
