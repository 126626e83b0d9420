/** queue.* and limits.*: the waiting messages, Anthropic's pause, and the limits they wait under. */
import { learnedLimitsInput } from '../../limits/learned-limits';
import { allowProbe, readLimits, readServerLimits, saveLimits } from '../../limits/limiter-store';
import { checkLimits } from '../../limits/plans';
import { PaceFailure, type ReplyOf, type RequestOf } from '../../protocol';
import * as jobStore from '../../queue/job-store';
import type { Deps } from './deps';
import { formRefused } from './refusals';

export async function queueClear(d: Deps): Promise<ReplyOf<'queue.clear'>> {
  const cancelled = await jobStore.clear(d.db);
  void d.pump();
  return { cancelled };
}

export async function queueTryNow(d: Deps): Promise<ReplyOf<'queue.tryNow'>> {
  const allowed = await allowProbe(d.db, d.now());
  void d.pump();
  return { allowed };
}

export async function limitsSave(d: Deps, input: RequestOf<'limits.save'>): Promise<ReplyOf<'limits.save'>> {
  const checked = checkLimits(input);
  if (!checked.ok) {
    const first = Object.values(checked.errors)[0] ?? 'These limits are not valid.';
    throw new PaceFailure({ code: 'invalid_input', message: first, fields: checked.errors });
  }
  await saveLimits(d.db, checked.value);
  // Waiting jobs see the new limits at once.
  void d.pump();
  return checked.value;
}

export async function limitsUseLearned(d: Deps): Promise<ReplyOf<'limits.useLearned'>> {
  const [current, server] = await Promise.all([readLimits(d.db), readServerLimits(d.db)]);
  if (!server)
    throw new PaceFailure({
      code: 'invalid_input',
      message:
        "Pace has not seen this key's limits yet: they come with Anthropic's answers. Send a message, then try again.",
    });
  const checked = checkLimits(learnedLimitsInput(current, server));
  if (!checked.ok) throw new PaceFailure(formRefused(checked.errors, 'These limits are not valid.'));
  await saveLimits(d.db, checked.value);
  void d.pump();
  return checked.value;
}
