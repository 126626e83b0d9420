/**
 * chat.send: a new message, checked, stored with its answer's job (and its attachments) in one
 * transaction, and sent at once when the queue would; chat.preview measures the same message
 * without storing anything.
 */
import { formatCount } from '../../limits/format';
import {
  checkAttachments,
  contextPdfProblem,
  PDF_TOKENS_PER_PAGE,
  type AttachmentInput,
  type CheckedAttachment,
} from '../../attachments/attachment-check';
import { contextWithNewMessage, type ContextTurn } from '../../claude/context-size';
import { contextWindow } from '../../claude/models';
import {
  cacheableRequest,
  messageRequest,
  thinkingProblem,
  type ChatSettings,
  type MessageRequest,
} from '../../claude/request';
import { estimateTokens } from '../../claude/token-estimate';
import { cacheKey } from '../../cache/cache-key';
import { addExchange, withAttachmentData } from '../../chat/conversation-store';
import { quota } from '../../limits/admission';
import { decideBudget, maxWebSearches } from '../../limits/budget';
import { pagePreview } from '../../reach/page-text';
import { PaceFailure, type ReplyOf, type RequestOf } from '../../protocol';
import { isUnsent } from '../../queue/job-states';
import { readForSend, sameDay, type SendReadDeps, type SendReads } from '../../queue/read-ahead';
import { admitAtOnceInTx } from '../../queue/send-at-once';
import { checkModel, checkPrompt } from '../../settings/validate';
import { checkedThinking, checkRoom, checkSize, roomProblem } from './chat-checks';
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

/** The payload's fields a message is composed from (chat.send's and chat.preview's). */
interface MessageInput {
  conversationId: string | null;
  text: string;
  model?: string | null;
  attachments?: AttachmentInput[];
  thinking?: string;
  webSearch?: boolean;
}

/** Base64 characters of the attachments already in the conversation: they are sent again with every request. */
const earlierBase64 = (reads: SendReads) =>
  reads.earlier.reduce((n, m) => n + (m.attachments ?? []).reduce((k, a) => k + Math.ceil(a.bytes / 3) * 4, 0), 0);

/** The checks that need no reads: the text, the model chosen, the thinking effort, the attachments. */
function checkMessage(input: MessageInput, { preview = false } = {}) {
  // A preview is asked as soon as something is attached, before the question is typed: priced without it.
  const prompt = preview && input.text.trim() === '' ? { ok: true as const, value: '' } : checkPrompt(input.text);
  if (!prompt.ok) throw new PaceFailure({ code: 'invalid_input', message: prompt.message, field: 'text' });
  const chosenModel = input.model == null ? undefined : checkModel(input.model);
  if (chosenModel && !chosenModel.ok)
    throw new PaceFailure({ code: 'invalid_input', message: chosenModel.message, field: 'model' });
  const thinking = checkedThinking(input.thinking);
  return { prompt: prompt.value, chosenModel: chosenModel?.value, thinking, attachments: input.attachments ?? [] };
}

/**
 * The message as it would be sent, from the reads: its settings (a new chat takes the payload's
 * thinking and search; an existing one keeps its own), its attachments checked, and its request.
 */
async function composeMessage(
  d: Deps,
  reads: SendReads,
  input: MessageInput,
  checked: ReturnType<typeof checkMessage>,
): Promise<{
  settings: ChatSettings;
  attached: CheckedAttachment[];
  context: ContextTurn[];
  request: MessageRequest;
}> {
  const base: ChatSettings = checked.chosenModel
    ? { ...reads.chatSettings, model: checked.chosenModel }
    : reads.chatSettings;
  const settings: ChatSettings =
    input.conversationId === null
      ? {
          ...base,
          thinking: checked.thinking ?? 'off',
          webSearch: input.webSearch === true,
        }
      : base;
  const problem = thinkingProblem(settings.model, settings.thinking ?? 'off', settings.maxTokens);
  if (problem) throw new PaceFailure({ code: 'invalid_input', message: problem, field: 'thinking' });
  let attached: CheckedAttachment[] = [];
  if (checked.attachments.length > 0) {
    const textBytes = settings.systemPrompt.length + checked.prompt.length + earlierBase64(reads);
    const result = await checkAttachments(checked.attachments, d.newId, textBytes);
    if (!result.ok) throw new PaceFailure({ code: 'invalid_input', message: result.message, field: 'attachments' });
    attached = result.attachments;
  }
  const refs = attached.map((a) => a.ref);
  const context = contextWithNewMessage(reads.earlier, checked.prompt, refs);
  // Earlier turns' PDFs are sent again: the request's pages are all of them together.
  const pdfProblem = contextPdfProblem(context);
  if (pdfProblem) throw new PaceFailure({ code: 'invalid_input', message: pdfProblem, field: 'attachments' });
  const data = new Map(attached.map((a) => [a.ref.id, a.data]));
  // The new message's bytes are at hand; earlier messages' are read from their rows.
  const full = await withAttachmentData(
    d.db,
    context.map((t) =>
      t.attachments ? { ...t, attachments: t.attachments.map((a) => ({ ...a, data: a.data ?? data.get(a.id) })) } : t,
    ),
  );
  return { settings, attached, context: full, request: messageRequest(settings, full) };
}

export async function chatSend(d: Deps, payload: RequestOf<'chat.send'>): Promise<ReplyOf<'chat.send'>> {
  const { conversationId, later = false } = payload;
  const { db, now, newId } = d;
  const checked = checkMessage(payload);
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
  const { settings, attached, context, request } = await composeMessage(d, reads, payload, checked);
  const cacheHours = atOnce ? reads.cacheHours : 0;
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
    context,
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
      text: checked.prompt,
      now: t,
      newId,
      model: settings.model,
      chosenModel: checked.chosenModel,
      later,
      attachments: attached.map((a) => ({ ref: a.ref, bytes: a.bytes })),
      options: conversationId === null ? { thinking: settings.thinking, webSearch: settings.webSearch } : undefined,
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

/**
 * chat.preview: what the message would cost and what would stop it, measured as chat.send would
 * build it, with nothing stored (the same figures and lines as page.read's preview, lib/reach/page-text.ts).
 */
export async function chatPreview(d: Deps, payload: RequestOf<'chat.preview'>): Promise<ReplyOf<'chat.preview'>> {
  const checked = checkMessage(payload, { preview: true });
  const reads = await readForSend(readDeps(d), payload.conversationId);
  if (!reads.conversationFound) {
    throw new PaceFailure({
      code: 'invalid_input',
      message: 'That conversation no longer exists. Start a new chat.',
      action: 'new_chat',
    });
  }
  const { settings, context, request } = await composeMessage(d, reads, payload, checked);
  const t = d.now();
  const tokens = estimateTokens({ system: settings.systemPrompt, messages: context });
  const webSearches = maxWebSearches(request);
  // The spend budget's own decision (admission's), so the preview never says other than the send will.
  const { monthStart } = reads.limits;
  // Priced as the queue prices a send it has not counted: an estimate (a long-prompt tier near it applies), at the
  // prompt cache's write price when the cache is on. The queue may then ask Anthropic's count, which can only lower it.
  const decided = decideBudget(t, monthStart, reads.spent.budget, reads.spent.spend, reads.spent.ledger(monthStart), {
    model: settings.model,
    inputTokens: tokens,
    maxTokens: settings.maxTokens,
    estimated: true,
    ...(settings.promptCache === 'off' ? {} : { promptCache: settings.promptCache }),
    ...(webSearches > 0 ? { webSearches } : {}),
  });
  const budget = decided.ok
    ? null
    : decided.reason === 'refused'
      ? decided.error.message
      : 'Its worst case is more than your budget has left beside the requests on their way: it would wait for them to settle.';
  const pdfs = context.flatMap((c) => c.attachments ?? []).filter((a) => a.kind === 'pdf');
  const notes =
    pdfs.length > 0
      ? [
          `PDF pages are estimated at ${formatCount(PDF_TOKENS_PER_PAGE)} tokens each; Anthropic's count is asked before it is sent.`,
        ]
      : [];
  return pagePreview({
    chars: 0,
    model: settings.model,
    maxTokens: settings.maxTokens,
    limits: reads.limits,
    monthLeft: quota(t, reads.limits, reads.state).monthLeft,
    window: (d.contextWindow ?? contextWindow)(settings.model),
    message: { tokens, webSearches, budget, notes },
  });
}
