/**
 * Bench only (built when PACE_BENCH is set, never in a store build): the baseline of
 * `npm run bench -- firstword`. Enter streams the prompt with the SDK called directly from this
 * page and shows the text as it comes, with no queue, no storage and no port in between.
 * The key and base URL come in the page's query (?key=...&base=...): the bench's local server's.
 */
import Anthropic from '@anthropic-ai/sdk';

const query = new URLSearchParams(location.search);
const client = new Anthropic({
  apiKey: query.get('key') ?? '',
  baseURL: query.get('base') ?? '',
  dangerouslyAllowBrowser: true,
  maxRetries: 0,
});
const prompt = document.getElementById('prompt') as HTMLTextAreaElement;
const answer = document.getElementById('answer')!;

prompt.addEventListener('keydown', (event) => {
  if (event.key !== 'Enter') return;
  event.preventDefault();
  answer.textContent = '';
  void send(prompt.value).catch((err: unknown) => {
    answer.dataset.error = err instanceof Error ? err.message : String(err);
  });
});

async function send(text: string): Promise<void> {
  const stream = await client.messages.create({
    model: query.get('model') ?? 'claude-sonnet-4-6',
    max_tokens: 1024,
    messages: [{ role: 'user', content: text }],
    stream: true,
  });
  for await (const event of stream) {
    if (event.type === 'content_block_delta' && event.delta.type === 'text_delta')
      answer.textContent += event.delta.text;
  }
  answer.dataset.done = 'true';
}
