// check_i18n.mjs SRC_DIR — fails when a t('key') used in the sources lacks its English or Chinese
// text, or when the two dictionaries do not have the same keys (run by build.sh).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
const used = new Set();
const prefixes = new Set();
for (const f of readdirSync(dir).filter((n) => n.endsWith('.js'))) {
  const s = readFileSync(join(dir, f), 'utf8');
  for (const m of s.matchAll(/\bt\('([^']+)'/g)) (m[1].endsWith('.') ? prefixes : used).add(m[1]);
}
const { DICTS } = await import('file://' + join(dir, 'i18n.js'));
const langs = Object.keys(DICTS);
const problems = [];
for (const k of used) for (const l of langs) if (DICTS[l][k] == null) problems.push(`${l}: no text for "${k}"`);
for (const p of prefixes) for (const l of langs) if (!Object.keys(DICTS[l]).some((k) => k.startsWith(p))) problems.push(`${l}: no "${p}*" texts`);
const [a, ...rest] = langs;
for (const b of rest) {
  for (const k of Object.keys(DICTS[a])) if (DICTS[b][k] == null) problems.push(`${b}: no text for "${k}" (${a} has it)`);
  for (const k of Object.keys(DICTS[b])) if (DICTS[a][k] == null) problems.push(`${a}: no text for "${k}" (${b} has it)`);
}
if (problems.length) {
  console.error('check_i18n: ' + problems.join('\ncheck_i18n: '));
  process.exit(1);
}
