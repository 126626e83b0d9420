/// <reference types="node" />
/**
 * A local web page for "Claude where people read" (tests/e2e/{chromium,firefox}/reach.test.ts):
 * an article with navigation, a script, a footer and an aside around it, served on 127.0.0.1, and
 * the words a test looks for in (or not in) what Pace sent.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export const ARTICLE_WORDS = ['Sourdough keeps because its acids slow the moulds', 'feed the starter with equal weights'];
export const NOT_ARTICLE_WORDS = ['NAVIGATION-LINK-TEXT', 'SCRIPT-TEXT-NEVER-SENT', 'FOOTER-LEGAL-TEXT'];

const paragraph = (n: number) =>
  `<p>Paragraph ${n} of the bread article. A loaf rises as the yeast and the bacteria in the starter make gas and acid; the crumb sets in the oven, and the crust browns as its sugars caramelise. Bakers note the time, the temperature and the flour.</p>`;

export const ARTICLE_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Bread that keeps</title>
<script>window.__unused = "SCRIPT-TEXT-NEVER-SENT";</script></head>
<body>
<header><nav><ul><li><a href="/a">NAVIGATION-LINK-TEXT Home</a></li><li><a href="/b">NAVIGATION-LINK-TEXT Recipes</a></li><li><a href="/c">NAVIGATION-LINK-TEXT About</a></li></ul></nav></header>
<main><article>
<h1>Bread that keeps</h1>
<p>${ARTICLE_WORDS[0]}, and a crust that is baked dark keeps the crumb from drying out for days.</p>
${[1, 2, 3, 4, 5, 6].map(paragraph).join('\n')}
<p>To bake it every week, <span id="pick">feed the starter with equal weights</span> of flour and water the night before.</p>
</article></main>
<aside><a href="/x">NAVIGATION-LINK-TEXT Related</a></aside>
<footer><p>FOOTER-LEGAL-TEXT All rights reserved.</p></footer>
<script>document.body.dataset.ready = "SCRIPT-TEXT-NEVER-SENT".length;</script>
</body></html>`;

export async function startArticleSite(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(ARTICLE_HTML);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/bread.html`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
