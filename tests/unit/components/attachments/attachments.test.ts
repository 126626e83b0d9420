import { afterEach, describe, expect, it, vi } from 'vitest';
import { createChatStore } from '@/components/chat/chat-store';
import { fitted, pageCount } from '@/components/attachments/prepare-file';
import { filesOf, typeRefusal } from '@/components/attachments/pending';
import type { BackgroundClient } from '@/lib/messaging/page-client';
import { objectStreamPdf } from '../../../support/claude-server-fixtures';

type Call = { type: string; payload: Record<string, unknown> };

function fakeClient(reply: (call: Call) => unknown = () => ({ ok: true, data: { conversationId: 'c1' } })) {
  const calls: Call[] = [];
  const client = {
    request: (type: string, payload: Record<string, unknown>) => {
      calls.push({ type, payload });
      return Promise.resolve(reply({ type, payload }));
    },
  } as unknown as BackgroundClient;
  return { client, calls };
}

const pdf = (name = 'report.pdf') =>
  new File(
    ['%PDF-1.4\n1 0 obj << /Type /Pages /Count 2 >>\n2 0 obj << /Type /Page >>\n3 0 obj << /Type /Page >>\n'],
    name,
    {
      type: 'application/pdf',
    },
  );

/** A decoded image of the given size, and a canvas that records what it is asked to draw and encode. */
function fakeImages(width: number, height: number) {
  const canvases: { width: number; height: number; type?: string; quality?: number }[] = [];
  vi.stubGlobal('createImageBitmap', () => Promise.resolve({ width, height, close: () => undefined }));
  vi.stubGlobal(
    'OffscreenCanvas',
    class {
      record: (typeof canvases)[number];
      constructor(w: number, h: number) {
        this.record = { width: w, height: h };
        canvases.push(this.record);
      }
      getContext() {
        return { drawImage: () => undefined };
      }
      convertToBlob({ type, quality }: { type: string; quality: number }) {
        Object.assign(this.record, { type, quality });
        return Promise.resolve(new Blob(['small'], { type }));
      }
    },
  );
  return canvases;
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('attaching files in the composer', () => {
  it('adds a PDF as a chip with its name, size and page count, its bytes in base64', async () => {
    const { client } = fakeClient();
    const store = createChatStore(client);
    await store.getState().attach([pdf()]);
    const [a] = store.getState().pending;
    expect(a).toMatchObject({ kind: 'pdf', name: 'report.pdf', mediaType: 'application/pdf', pages: 2 });
    expect(atob(a!.data)).toContain('%PDF-1.4');
    expect(a!.bytes).toBe(pdf().size);
    expect(store.getState().refused).toEqual([]);
  });

  it('refuses a file that is neither an image nor a PDF, with the reason, and keeps the others', async () => {
    const store = createChatStore(fakeClient().client);
    await store.getState().attach([new File(['x'], 'notes.txt', { type: 'text/plain' }), pdf()]);
    expect(store.getState().pending.map((a) => a.name)).toEqual(['report.pdf']);
    expect(store.getState().refused).toEqual([
      "notes.txt can't be sent: Claude reads JPEG, PNG, GIF and WebP images and PDFs only.",
    ]);
  });

  it('refuses an image over 8000 x 8000 px', async () => {
    fakeImages(9000, 300);
    const store = createChatStore(fakeClient().client);
    await store.getState().attach([new File(['png'], 'wide.png', { type: 'image/png' })]);
    expect(store.getState().pending).toEqual([]);
    expect(store.getState().refused).toEqual(['wide.png is 9000 x 300 px: Claude takes images up to 8000 x 8000 px.']);
  });

  it('draws a large image at 1568 px on its long edge, a JPEG as a JPEG and a WebP as a PNG', async () => {
    const canvases = fakeImages(3136, 1000);
    vi.spyOn(URL, 'createObjectURL').mockReturnValue('blob:thumb');
    const store = createChatStore(fakeClient().client);
    await store
      .getState()
      .attach([
        new File(['jpg'], 'photo.jpg', { type: 'image/jpeg' }),
        new File(['webp'], 'shot.webp', { type: 'image/webp' }),
      ]);
    expect(canvases).toEqual([
      { width: 1568, height: 500, type: 'image/jpeg', quality: 0.9 },
      { width: 1568, height: 500, type: 'image/png', quality: 0.9 },
    ]);
    expect(store.getState().pending.map((a) => [a.mediaType, a.width, a.height, a.url])).toEqual([
      ['image/jpeg', 1568, 500, 'blob:thumb'],
      ['image/png', 1568, 500, 'blob:thumb'],
    ]);
  });

  it('sends a small image as it is', async () => {
    const canvases = fakeImages(800, 600);
    vi.spyOn(URL, 'createObjectURL').mockReturnValue('blob:thumb');
    const store = createChatStore(fakeClient().client);
    await store.getState().attach([new File(['gif'], 'cat.gif', { type: 'image/gif' })]);
    expect(canvases).toEqual([]);
    expect(store.getState().pending[0]).toMatchObject({
      mediaType: 'image/gif',
      width: 800,
      height: 600,
      data: btoa('gif'),
    });
  });

  it('removes a pending attachment and revokes its thumbnail', async () => {
    fakeImages(10, 10);
    const revoked: string[] = [];
    vi.spyOn(URL, 'createObjectURL').mockReturnValue('blob:one');
    vi.spyOn(URL, 'revokeObjectURL').mockImplementation((u: string) => void revoked.push(u));
    const store = createChatStore(fakeClient().client);
    await store.getState().attach([new File(['png'], 'a.png', { type: 'image/png' }), pdf()]);
    store.getState().detach(store.getState().pending[0]!.key);
    expect(store.getState().pending.map((a) => a.name)).toEqual(['report.pdf']);
    expect(revoked).toEqual(['blob:one']);
  });

  it('attaches a screenshot of the tab, named for its title', async () => {
    fakeImages(1280, 720);
    vi.spyOn(URL, 'createObjectURL').mockReturnValue('blob:shot');
    const store = createChatStore(fakeClient().client);
    await store
      .getState()
      .screenshot(() =>
        Promise.resolve({ dataUrl: `data:image/png;base64,${btoa('png bytes')}`, title: 'Example Domain' }),
      );
    expect(store.getState().pending[0]).toMatchObject({
      name: 'Screenshot of Example Domain.png',
      mediaType: 'image/png',
      data: btoa('png bytes'),
    });
  });

  it('says why a screenshot could not be taken', async () => {
    const store = createChatStore(fakeClient().client);
    await store.getState().screenshot(() => Promise.reject(new Error('Missing activeTab permission')));
    expect(store.getState().refused).toEqual([
      "Pace may take a picture of the tab only right after you click its toolbar button: click Pace's button, then Screenshot this tab.",
    ]);
    await store
      .getState()
      .screenshot(() => Promise.reject(new Error('Cannot access contents of url "chrome://newtab/".')));
    expect(store.getState().refused).toEqual([
      'This tab cannot be captured: the browser keeps its own pages (settings, new tab, extension stores) private.',
    ]);
    await store.getState().screenshot(() => Promise.reject(new Error('The tab was closed.')));
    expect(store.getState().refused).toEqual(['The tab could not be captured: The tab was closed.']);
  });
});

describe('sending with attachments', () => {
  it('sends them with the text, as chat.send takes them, and clears them once accepted', async () => {
    const { client, calls } = fakeClient();
    const store = createChatStore(client);
    await store.getState().attach([pdf()]);
    expect(await store.getState().send('Sum it up')).toBe(true);
    expect(calls).toEqual([
      {
        type: 'chat.send',
        payload: {
          conversationId: null,
          text: 'Sum it up',
          attachments: [{ name: 'report.pdf', mediaType: 'application/pdf', data: expect.any(String) as string }],
        },
      },
    ]);
    expect(store.getState().pending).toEqual([]);
  });

  it('keeps them when the send is refused', async () => {
    const { client } = fakeClient(() => ({ ok: false, error: { code: 'budget', message: 'Over budget.' } }));
    const store = createChatStore(client);
    await store.getState().attach([pdf()]);
    expect(await store.getState().send('Sum it up')).toBe(false);
    expect(store.getState().pending.map((a) => a.name)).toEqual(['report.pdf']);
  });

  it('go with the message typed at their Enter only: one sent before it is accepted carries none', async () => {
    let accept: (v: unknown) => void = () => undefined;
    const calls: Call[] = [];
    const client = {
      request: (type: string, payload: Record<string, unknown>) => {
        calls.push({ type, payload });
        // The first send is slow to be accepted (the background asks count_tokens for a PDF).
        return calls.length === 1
          ? new Promise((r) => (accept = r))
          : Promise.resolve({ ok: true, data: { conversationId: 'c1' } });
      },
    } as unknown as BackgroundClient;
    const store = createChatStore(client);
    await store.getState().attach([pdf()]);
    const first = store.getState().send('Sum it up');
    expect(store.getState().pending).toEqual([]);
    const second = store.getState().send('and list the dates');
    await vi.waitFor(() => expect(calls).toHaveLength(1));
    accept({ ok: true, data: { conversationId: 'c1' } });
    expect(await first).toBe(true);
    expect(await second).toBe(true);
    expect(calls.map((c) => c.payload.attachments !== undefined)).toEqual([true, false]);
  });

  it('are given back in front of any attached since, when the send is refused', async () => {
    const { client } = fakeClient(() => ({ ok: false, error: { code: 'budget', message: 'Over budget.' } }));
    const store = createChatStore(client);
    await store.getState().attach([pdf('first.pdf')]);
    const sent = store.getState().send('Sum it up');
    await store.getState().attach([pdf('second.pdf')]);
    expect(await sent).toBe(false);
    expect(store.getState().pending.map((a) => a.name)).toEqual(['first.pdf', 'second.pdf']);
  });
});

describe('thinking and web search', () => {
  it("go with a new chat's first message, and the next new chat starts without them", async () => {
    const { client, calls } = fakeClient();
    const store = createChatStore(client);
    await store.getState().chooseOptions({ thinking: 'high' });
    await store.getState().chooseOptions({ webSearch: true });
    expect(calls).toEqual([]);
    await store.getState().send('Why?');
    expect(calls[0]!.payload).toMatchObject({ thinking: 'high', webSearch: true });
    store.getState().newChat();
    expect(store.getState().options).toEqual({ thinking: 'off', webSearch: false });
  });

  it("chosen in a new chat opened while the first one's message was on its way, stay chosen", async () => {
    let accept: (v: unknown) => void = () => undefined;
    const client = {
      request: () => new Promise((r) => (accept = r)),
    } as unknown as BackgroundClient;
    const store = createChatStore(client);
    const request = vi.fn(() => new Promise((r) => (accept = r)));
    (client as unknown as { request: typeof request }).request = request;
    const sent = store.getState().send('Why?');
    store.getState().newChat();
    await store.getState().chooseOptions({ webSearch: true });
    await vi.waitFor(() => expect(request).toHaveBeenCalledTimes(1));
    accept({ ok: true, data: { conversationId: 'c1' } });
    await sent;
    expect(store.getState().options).toEqual({ thinking: 'off', webSearch: true });
  });

  it('are kept at once for an open conversation, and not sent again with its messages', async () => {
    const { client, calls } = fakeClient((c) =>
      c.type === 'conversation.setOptions'
        ? { ok: true, data: { thinking: 'low', webSearch: false } }
        : { ok: true, data: { conversationId: 'c9' } },
    );
    const store = createChatStore(client);
    store.getState().open('c9');
    await store.getState().chooseOptions({ thinking: 'low' });
    await store.getState().send('Next');
    expect(calls).toEqual([
      { type: 'conversation.setOptions', payload: { conversationId: 'c9', thinking: 'low' } },
      { type: 'chat.send', payload: { conversationId: 'c9', text: 'Next' } },
    ]);
  });

  it("asks the send's preview with the attachments and the options shown", async () => {
    const preview = {
      tokens: 1600,
      inputUsd: 0.005,
      maxUsd: 0.08,
      inputShare: null,
      lines: ['About 1,600 tokens.'],
      blocker: null,
    };
    const { client, calls } = fakeClient(() => ({ ok: true, data: preview }));
    const store = createChatStore(client);
    await store.getState().attach([pdf()]);
    expect(await store.getState().preview('What is it?', { thinking: 'medium', webSearch: true })).toEqual(preview);
    expect(calls[0]).toEqual({
      type: 'chat.preview',
      payload: {
        conversationId: null,
        text: 'What is it?',
        attachments: [{ name: 'report.pdf', mediaType: 'application/pdf', data: expect.any(String) as string }],
        thinking: 'medium',
        webSearch: true,
      },
    });
  });

  it('keeps the thinking pushed while an answer streams, beside its text', () => {
    const store = createChatStore(fakeClient().client);
    store.getState().receive({ type: 'answer.progress', messageId: 'm1', text: 'So', thinking: 'First, ' });
    expect(store.getState().liveThinking).toEqual({ m1: 'First, ' });
    expect(store.getState().live).toEqual({ m1: 'So' });
  });
});

describe('the pure parts', () => {
  it('fits the long edge to 1568 px, the aspect kept', () => {
    expect(fitted(1568, 10)).toEqual({ width: 1568, height: 10 });
    expect(fitted(2000, 4000)).toEqual({ width: 784, height: 1568 });
  });

  it('counts plain page objects of a PDF, not the page tree', async () => {
    expect(pageCount(new Uint8Array(await pdf().arrayBuffer()))).toBe(2);
    expect(pageCount(new TextEncoder().encode('%PDF-1.7 compressed'))).toBeNull();
  });

  it("shows a PDF's plain page tree /Count, and no figure when its pages may be in compressed object streams", () => {
    const page = '<< /Type /Page /Parent 2 0 R >>';
    expect(pageCount(objectStreamPdf([page], ['<< /Type /Pages /Count 12 >>']))).toBe(12);
    // One page object plain and two packed: the plain one alone would be a wrong figure.
    expect(pageCount(objectStreamPdf([page, page], [page]))).toBeNull();
  });

  it('takes the files of a paste or a drop, and none from text', () => {
    const file = new File(['x'], 'pasted.png', { type: 'image/png' });
    expect(filesOf({ files: [file] })).toEqual([file]);
    expect(filesOf({ files: [] })).toEqual([]);
    expect(filesOf(null)).toEqual([]);
    expect(typeRefusal(file)).toBeNull();
  });
});
