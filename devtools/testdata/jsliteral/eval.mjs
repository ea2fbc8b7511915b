// Evaluates the JavaScript literals of cases.json as JavaScript does and
// prints what JSON.stringify makes of each, or the name of the error it
// throws: the golden file that devtools' literal decoder is checked
// against (TestJSLiteralMatchesNode; TestJSLiteralGoldenIsNodes runs this
// script again and compares). Each literal is evaluated in strict mode in
// a fresh context, as an expression. Non-ASCII characters are written as
// \u escapes so that the golden file shows no invisible ones.
//
//   node eval.mjs cases.json > golden.json
import { readFileSync } from 'node:fs';
import vm from 'node:vm';

const cases = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const ascii = (s) => s.replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
const results = cases.map(({ src }) => {
  try {
    const v = vm.runInNewContext('"use strict";(' + src + '\n)', {}, { timeout: 1000 });
    const json = JSON.stringify(v);
    return json === undefined ? { src, undefined: true } : { src, json };
  } catch (e) {
    return { src, error: e && e.name ? e.name : String(e) };
  }
});
process.stdout.write('[\n' + results.map((r) => ascii(JSON.stringify(r))).join(',\n') + '\n]\n');
