/// <reference types="node" />
// A stand-in for the Claude API so Pace can be tried without a key:
//   npx tsx tests/support/demo-server.ts [--port 8787]   (or PACE_DEMO_PORT=8787)
// then point Pace at http://127.0.0.1:8787 with the API key `demo`.
import { startClaudeServer, type Behaviour, type MessagesBody } from './claude-server';

const DEFAULT_PORT = 8787;

function portFromArgs(argv: readonly string[]): string | undefined {
  for (const [i, arg] of argv.entries()) {
    if (arg === '--port') return argv[i + 1];
    if (arg.startsWith('--port=')) return arg.slice('--port='.length);
  }
  return undefined;
}

function parsePort(raw: string | undefined): number {
  if (raw === undefined || raw === '') return DEFAULT_PORT;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`Not a port number: ${raw}`);
  }
  return port;
}

function lastUserText(body: MessagesBody): string {
  const last = [...body.messages].reverse().find((m) => m.role === 'user');
  if (last === undefined) return '';
  // Images and PDFs go before the question: only its text is quoted back.
  return typeof last.content === 'string'
    ? last.content
    : last.content.flatMap((b) => (b.type === 'text' && typeof b.text === 'string' ? [b.text] : [])).join('\n');
}

function demoAnswer(body: MessagesBody): Behaviour {
  const said = Array.from(lastUserText(body).trim());
  const quoted = (said.length > 300 ? `${said.slice(0, 300).join('')}…` : said.join(''))
    .split('\n')
    .map((line) => `> ${line}`)
    .join('\n');
  const turns = body.messages.filter((m) => m.role === 'user').length;
  const text = [
    'You wrote:',
    '',
    quoted,
    '',
    "This is **Pace's demo backend**, not Claude: a small local server that answers every message the same way, so you can try the extension without an API key.",
    '',
    `- Model asked for: \`${body.model}\``,
    `- Messages from you in this conversation: ${turns}`,
    '- Nothing here leaves your computer, and nothing counts against a real Anthropic account.',
    '',
    'A tiny code block, to check that formatting works:',
    '',
    '```ts',
    `const reply = await pace.ask(${JSON.stringify(said.slice(0, 40).join(''))});`,
    'console.log(reply.text);',
    '```',
  ].join('\n');
  return { kind: 'text', text, delayMs: 20 };
}

async function main(): Promise<void> {
  const port = parsePort(portFromArgs(process.argv.slice(2)) ?? process.env.PACE_DEMO_PORT);
  const server = await startClaudeServer({
    port,
    host: '127.0.0.1',
    keys: ['demo'],
    requireBrowserHeader: true,
    defaultBehaviour: demoAnswer,
  });
  console.log(`Pace demo backend on ${server.url}`);
  console.log('API key: demo. Stop with Ctrl+C.');

  const stop = (): void => {
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
