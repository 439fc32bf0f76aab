/** TCP server: frames messages per connection and answers each command in order. */
import net from 'node:net';
import type { Engine } from './engine';
import { encodeMsg, encodeReply, OP_QUERY, parseMessage } from './wire';
import { runCommand } from './commands';

const MAX_MESSAGE = 48_000_000;

export function createWireServer(engine: Engine, onError: (err: unknown) => void): net.Server {
  let connections = 0;
  return net.createServer((socket) => {
    const connectionId = ++connections;
    socket.setNoDelay(true);
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length >= 4) {
        const size = pending.readInt32LE(0);
        if (size < 16 || size > MAX_MESSAGE) {
          socket.destroy();
          return;
        }
        if (pending.length < size) break;
        const frame = pending.subarray(0, size);
        pending = pending.subarray(size);
        try {
          const msg = parseMessage(frame);
          const db = msg.opCode === OP_QUERY ? (msg.collection ?? 'admin').split('.')[0] : String(msg.command.$db ?? 'admin');
          const reply = runCommand(msg.command, { engine, db, connectionId });
          if (msg.moreToCome) continue;
          socket.write(msg.opCode === OP_QUERY ? encodeReply(msg.requestId, reply) : encodeMsg(msg.requestId, reply));
        } catch (err) {
          onError(err);
          socket.destroy();
          return;
        }
      }
    });
    socket.on('error', () => socket.destroy());
  });
}
