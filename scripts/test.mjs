// `npm test`: type check, lint, unit tests, the builds, web-ext lint and the real-browser tests,
// in that order. Every stage runs even if an earlier one failed, and the last line counts them all:
// each Vitest test is one test, and each check (type check, ESLint, a build, web-ext lint) is one.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';

const REPORTS = '.tmp/reports';
rmSync(REPORTS, { recursive: true, force: true });
mkdirSync(REPORTS, { recursive: true });

let passed = 0;
let failed = 0;
const failures = [];

function run(label, command, args, env = {}) {
  console.log(`\n=== ${label}: ${command} ${args.join(' ')}`);
  const r = spawnSync(command, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  return r.status === 0;
}

function check(label, command, args, env) {
  if (run(label, command, args, env)) passed += 1;
  else {
    failed += 1;
    failures.push(label);
  }
}

function vitest(label, args) {
  const report = `${REPORTS}/${label.replace(/\W+/g, '-')}.json`;
  const ok = run(label, 'npx', [
    'vitest',
    'run',
    ...args,
    '--reporter=default',
    '--reporter=json',
    `--outputFile=${report}`,
  ]);
  if (!existsSync(report)) {
    failed += 1;
    failures.push(`${label} (no report: the runner did not start)`);
    return;
  }
  const r = JSON.parse(readFileSync(report, 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests + (r.numTotalTests === 0 ? 1 : 0);
  // A file that failed to load has no tests in it but must still count as a failure.
  const broken = r.testResults.filter((f) => f.status === 'failed' && f.assertionResults.length === 0).length;
  failed += broken;
  if (!ok || r.numFailedTests > 0 || broken > 0) failures.push(label);
}

check('type check', 'npx', ['tsc', '--noEmit']);
check('formatting', 'npx', ['prettier', '--check', '.']);
check('lint', 'npx', ['eslint', '.']);
check('import circles', 'node', ['scripts/check-cycles.mjs']);
check('unused files, exports and dependencies', 'npx', ['knip']);
vitest('unit tests', []);
check('build chrome-mv3', 'npx', ['wxt', 'build']);
check('build firefox-mv2', 'npx', ['wxt', 'build', '-b', 'firefox']);
check('build firefox-mv3', 'npx', ['wxt', 'build', '-b', 'firefox', '--mv3']);
check('build demo chrome-mv3', 'npx', ['wxt', 'build'], { PACE_DEMO_URL: 'http://127.0.0.1:18787' });
check('web-ext lint firefox-mv2', 'npx', ['web-ext', 'lint', '--source-dir', '.output/firefox-mv2', '--self-hosted']);
vitest('real-browser tests', ['--config', 'vitest.e2e.config.ts']);

console.log('');
if (failures.length) console.log(`Failed: ${failures.join('; ')}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
