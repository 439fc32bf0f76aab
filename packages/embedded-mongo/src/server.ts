/** TCP server: frames messages per connection and answers each command in order. */
import net from 'node:net';
import type { Document } from 'bson';
import type { Engine } from './engine';
import {
  encodeMsg,
  encodeReply,
  lastRequestId,
  MORE_TO_COME,
  OP_QUERY,
  parseMessage,
  type IncomingMessage,
} from './wire';
import { runCommand } from './commands';

const MAX_MESSAGE = 48_000_000;

/**
 * An awaitable hello (the driver's monitor sends it once it has seen a topologyVersion): the server
 * answers after maxAwaitTimeMS, since its topology never changes, and with exhaustAllowed keeps
 * answering every maxAwaitTimeMS with moreToCome set, without further requests.
 */
function isAwaitableHello(msg: IncomingMessage): boolean {
  const name = Object.keys(msg.command)[0]?.toLowerCase();
  return (
    (name === 'hello' || name === 'ismaster') &&
    msg.command.topologyVersion != null &&
    msg.command.maxAwaitTimeMS != null
  );
}

export function createWireServer(engine: Engine, onError: (err: unknown) => void): net.Server {
  let connections = 0;
  return net.createServer((socket) => {
    const connectionId = ++connections;
    socket.setNoDelay(true);
    let pending = Buffer.alloc(0);
    let streamTimer: NodeJS.Timeout | null = null;
    const stopStreaming = () => {
      if (streamTimer) clearTimeout(streamTimer);
      streamTimer = null;
    };

    const answerLater = (msg: IncomingMessage, db: string, responseTo: number) => {
      const wait = Math.max(0, Math.min(Number(msg.command.maxAwaitTimeMS) || 0, 60_000));
      streamTimer = setTimeout(() => {
        streamTimer = null;
        if (socket.destroyed) return;
        const reply = runCommand(msg.command as Document, { engine, db, connectionId });
        socket.write(encodeMsg(responseTo, reply, msg.exhaustAllowed ? MORE_TO_COME : 0));
        if (msg.exhaustAllowed) answerLater(msg, db, lastRequestId());
      }, wait);
      streamTimer.unref();
    };

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
          stopStreaming(); // a new request ends any stream on this connection
          const db =
            msg.opCode === OP_QUERY ? (msg.collection ?? 'admin').split('.')[0] : String(msg.command.$db ?? 'admin');
          if (msg.opCode !== OP_QUERY && isAwaitableHello(msg)) {
            answerLater(msg, db, msg.requestId);
            continue;
          }
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
    socket.on('close', stopStreaming);
    socket.on('error', () => socket.destroy());
  });
}
