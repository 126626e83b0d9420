// Bundled by bench/run.ts for a Chromium page: real IndexedDB.
import { benchAdmission } from './admission-core';

(globalThis as unknown as { runAdmissionBench: typeof benchAdmission }).runAdmissionBench = benchAdmission;
