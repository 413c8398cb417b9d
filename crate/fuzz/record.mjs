// Writes crate/fuzz/RESULTS.md from run.sh's results.tsv (executions and crashes per target) and
// min.tsv (what the minimised corpora became). The hand-written block between `<!-- notes -->` and
// `<!-- /notes -->` in the previous RESULTS.md (argument 3) is carried over.
import { existsSync, readFileSync } from 'node:fs';
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
const minimised = existsSync(process.argv[3] ?? '') ? readFileSync(process.argv[3], 'utf8').trim().split('\n').filter(Boolean) : [];
if (minimised.length) {
  const why = { committed: 'replaces the seeds in crate/fuzz/corpus/', large: 'too large to commit; kept in build/fuzz/', real: 'seeded with samples of the real logs; kept in build/fuzz/, never committed' };
  lines.push('| target | minimised inputs | size on disk | corpus |', '|---|---|---|---|');
  for (const [t, n, kb, fate] of minimised.map((l) => l.split('\t'))) lines.push(`| ${t} | ${n} | ${kb} KB | ${why[fate] ?? fate} |`);
  lines.push('');
}
const previous = existsSync(process.argv[4] ?? '') ? readFileSync(process.argv[4], 'utf8') : '';
const notes = previous.match(/<!-- notes -->[\s\S]*?<!-- \/notes -->/);
lines.push(notes ? notes[0] : '<!-- notes -->\n<!-- /notes -->', '');
console.log(lines.join('\n'));
