// A Redux DevTools monitor for the Go integration tests, on the real
// socketcluster-client. It logs in as a monitor, subscribes to the channel
// the server names, prints every message it receives as one JSON line on
// stdout, and transmits the JSON lines it reads on stdin
// ({"event": …, "data": …}).
//
//   node monitor.mjs ws://127.0.0.1:PORT/socketcluster/ [credentials-json]
import { create } from 'socketcluster-client';
import readline from 'node:readline';

const url = new URL(process.argv[2]);
const credentials = process.argv[3] ? JSON.parse(process.argv[3]) : {};
const socket = create({
  hostname: url.hostname,
  port: Number(url.port),
  path: url.pathname,
  secure: url.protocol === 'wss:',
  autoReconnect: true,
  autoReconnectOptions: { initialDelay: 100, maxDelay: 1000 },
});

const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

(async () => {
  for await (const { error } of socket.listener('error')) out({ error: String(error) });
})();

(async () => {
  for await (const _ of socket.listener('connect')) {
    try {
      const name = await socket.invoke('login', credentials);
      const channel = socket.subscribe(name);
      // Consume before the subscription is confirmed: a channel drops what
      // arrives while nobody iterates it, and an app may answer at once.
      (async () => {
        for await (const data of channel) out({ message: data });
      })();
      await channel.listener('subscribe').once();
      out({ ready: true, channel: name });
    } catch (err) {
      out({ error: String(err) });
    }
  }
})();

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  try {
    const { event, data } = JSON.parse(line);
    socket.transmit(event, data);
  } catch (err) {
    out({ error: 'bad command: ' + String(err) });
  }
});
rl.on('close', () => process.exit(0));
