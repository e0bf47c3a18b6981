/**
 * A tiny HTTP client that lives inside a lab namespace (the agent's status API listens on
 * the namespace's 127.0.0.1, which the bench process cannot reach). It reads `METHOD URL`
 * lines on stdin and answers each with one JSON line on stdout:
 *   {"sentAt": <epoch ms just before the request is written>, "status": 200, "doneAt": …}
 * A long-lived process, so a request costs no `ip netns exec` start-up inside a timing.
 */
import { request } from 'node:http';
import { createInterface } from 'node:readline';

const now = (): number => performance.timeOrigin + performance.now();

function send(method: string, url: string): void {
  const sentAt = now();
  const req = request(url, { method, agent: false }, (res) => {
    res.resume();
    res.on('end', () => process.stdout.write(`${JSON.stringify({ sentAt, status: res.statusCode ?? 0, doneAt: now() })}\n`));
  });
  req.on('error', (err) => process.stdout.write(`${JSON.stringify({ sentAt, status: 0, error: err.message, doneAt: now() })}\n`));
  req.end();
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const [method, url] = line.trim().split(/\s+/);
  if (method && url) send(method, url);
});
process.stdout.write('ready\n');
