/** chat.send: a new message, checked, stored with its answer's job in one transaction, and sent at once when the queue would. */
import { contextWithNewMessage } from '../../claude/context-size';
import { cacheableRequest, messageRequest } from '../../claude/request';
import { cacheKey } from '../../cache/cache-key';
import { addExchange } from '../../chat/conversation-store';
import { PaceFailure, type ReplyOf, type RequestOf } from '../../protocol';
import { isUnsent } from '../../queue/job-states';
import { readForSend, sameDay, type SendReadDeps } from '../../queue/read-ahead';
import { admitAtOnceInTx } from '../../queue/send-at-once';
import { checkModel, checkPrompt } from '../../settings/validate';
import { checkRoom, checkSize, roomProblem } from './chat-checks';
import type { Deps } from './deps';
import { missingKey } from './refusals';

const HOUR_MS = 60 * 60 * 1000;

function readDeps(d: Deps): SendReadDeps {
  return {
    db: d.db,
    now: d.now,
    credentials: d.credentials,
    settings: d.settings,
    usagePrefs: d.sendAtOnce?.usagePrefs,
    promptCacheMode: d.sendAtOnce?.promptCacheMode,
  };
}

export async function chatSend(
  d: Deps,
  { conversationId, text, model: chosen, later = false }: RequestOf<'chat.send'>,
): Promise<ReplyOf<'chat.send'>> {
  const { db, now, newId } = d;
  const prompt = checkPrompt(text);
  if (!prompt.ok) throw new PaceFailure({ code: 'invalid_input', message: prompt.message, field: 'text' });
  const chosenModel = chosen == null ? undefined : checkModel(chosen);
  if (chosenModel && !chosenModel.ok)
    throw new PaceFailure({ code: 'invalid_input', message: chosenModel.message, field: 'model' });
  const atOnce = d.sendAtOnce;
  // What the send needs, read while the user typed when that is still current (read-ahead.ts), else now.
  let taken = atOnce?.readAhead?.take(conversationId) ?? {
    reads: readForSend(readDeps(d), conversationId),
    current: () => false,
  };
  let reads = await taken.reads;
  // Made before a day or a month turned: what they counted no longer holds.
  if (!sameDay(reads, now())) {
    taken = { reads: readForSend(readDeps(d), conversationId), current: () => false };
    reads = await taken.reads;
  }
  const { creds } = reads;
  // The failures are reported in this order: no key, no conversation, no room.
  if (!creds) throw new PaceFailure(await missingKey(d));
  if (later && creds.demo) {
    throw new PaceFailure({
      code: 'invalid_input',
      message: 'The demo backend has no Message Batches: add your API key in options to send later at half price.',
      action: 'open_options',
    });
  }
  if (!reads.conversationFound) {
    throw new PaceFailure({
      code: 'invalid_input',
      message: 'That conversation no longer exists. Start a new chat.',
      action: 'new_chat',
    });
  }
  const room = roomProblem(now(), reads.limits, reads.state, reads.active.filter((j) => isUnsent(j.state)).length);
  if (room !== null) throw new PaceFailure(room);
  const settings = chosenModel ? { ...reads.settings, model: chosenModel.value } : reads.chatSettings;
  const cacheHours = atOnce ? reads.cacheHours : 0;
  const context = contextWithNewMessage(reads.earlier, prompt.value);
  const request = messageRequest(settings, context);
  const [, key] = await Promise.all([
    checkSize(d, 'send', creds, settings, context),
    cacheHours > 0 ? cacheKey(cacheableRequest(request, creds.baseURL)) : null,
  ]);
  // The figures the last response brought are written before this send's admission reads them.
  if (!later) await atOnce?.settled?.();
  const t = now();
  const ids = { conversationId: conversationId ?? newId(), userMessageId: newId(), assistantMessageId: newId() };
  const send = {
    jobId: ids.assistantMessageId,
    conversationId: ids.conversationId,
    now: t,
    settings,
    request,
    cache: key === null ? null : { key, ttlMs: cacheHours * HOUR_MS },
    demo: creds.demo,
  };
  const storedMode = Promise.resolve(reads.storedMode);
  // Room is checked again with the insert, in one transaction, so sends racing each other cannot
  // pass the caps; a message the queue would send now is admitted in it too (send-at-once.ts).
  const { exchange, admitted } = await db.transaction('rw', db.tables, async () => {
    await checkRoom(d);
    const exchange = await addExchange(db, {
      conversationId,
      ids,
      text: prompt.value,
      now: t,
      newId,
      model: settings.model,
      chosenModel: chosenModel?.value,
      later,
    });
    const admitted = !later && atOnce?.online() ? await admitAtOnceInTx(db, send) : null;
    return { exchange, admitted };
  });
  // Only now, the admission committed, does its request leave: nothing reaches the network uncounted.
  if (admitted) {
    atOnce?.start(admitted, { creds, settings, storedMode, request });
    return exchange;
  }
  if (later) void d.batches?.tick();
  else void d.pump();
  return exchange;
}
