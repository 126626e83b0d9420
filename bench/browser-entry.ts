// Bundled by bench/run.ts for a Chromium page: the benchmarks on real IndexedDB.
import { benchAdmission } from './admission-core';
import { benchBudgetAdmission } from './budget-admission';
import { benchCacheLookup } from './cache-core';

Object.assign(globalThis, {
  runAdmissionBench: benchAdmission,
  runCacheBench: benchCacheLookup,
  runBudgetBench: benchBudgetAdmission,
});
