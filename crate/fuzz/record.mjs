// Writes crate/fuzz/RESULTS.md from run.sh's results.tsv: executions and crashes per target.
import { readFileSync } from 'node:fs';
import { execSync } from 'node:child_process';

const rows = readFileSync(process.argv[2], 'utf8').trim().split('\n').map((l) => l.split('\t'));
const sh = (c) => { try { return execSync(c, { encoding: 'utf8' }).trim(); } catch { return '?'; } };
const goal = 10_000_000;
const lines = [
  '# Fuzzing figures',
  '',
  `Written by \`make fuzz\` (crate/fuzz/run.sh) on ${new Date().toISOString().slice(0, 10)}, commit ${sh('git rev-parse --short HEAD')},`,
  `${sh('rustc +nightly --version')}, cargo-fuzz ${sh('cargo fuzz --version')}, libFuzzer without sanitizer (\`-s none\`),`,
  'with `-malloc_limit_mb=64 -rss_limit_mb=1024`: an allocation over 64 MB counts as a crash. The harnesses are',
  '`shopper_intent::testing::fuzz` and `shopper_intent_cli::fuzzing`; the corpora are replayed by the stable test suite.',
  '',
  '| target | executions | seconds | executions/s | crashes | goal (10M) |',
  '|---|---|---|---|---|---|',
];
for (const [t, runs, secs, crashes, status] of rows) {
  const n = Number(runs);
  const rate = Math.round(n / Number(secs));
  lines.push(`| ${t} | ${n.toLocaleString('en-US')} | ${secs} | ${rate.toLocaleString('en-US')} | ${crashes}${status !== '0' ? ` (exit ${status})` : ''} | ${n >= goal ? 'reached' : 'not reached'} |`);
}
lines.push('');
console.log(lines.join('\n'));
