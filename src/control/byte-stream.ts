// ByteStream: the control socket's binary stream for one request (`capture` without a
// FILE): the line "stream", then chunks — each its length in hex on a line, then the bytes
// — and a chunk of length 0 before the command's reply (docs/console.md, "The protocol";
// the decoder is control-protocol.ts's ReplyDecoder). A ByteSink to the capture: write()
// says when the client is behind, and the client going away closes it. Main thread.

import type { Socket } from 'node:net';
import type { ByteSink } from '../capture/byte-sink.js';
import { STREAM_END, STREAM_START, chunkHeader } from './control-protocol.js';

export interface ByteStream extends ByteSink {
  /** Send the end of the stream (unless the client went away); the reply follows. */
  finish(): void;
}

export function byteStream(socket: Socket): ByteStream {
  let closed = socket.destroyed;
  let finished = false;
  const gone = (): void => {
    closed = true;
  };
  socket.once('close', gone);
  socket.write(STREAM_START);
  return {
    write(chunk) {
      if (closed || finished || chunk.length === 0) return !closed;
      socket.write(chunkHeader(chunk.length));
      return socket.write(chunk);
    },
    drained: () => (closed || !socket.writableNeedDrain ? Promise.resolve() : drainedOrClosed(socket)),
    get closed() {
      return closed || socket.destroyed;
    },
    error: null,
    end: async () => undefined,
    finish() {
      if (finished) return;
      finished = true;
      socket.off('close', gone);
      if (!closed && !socket.destroyed) socket.write(STREAM_END);
    },
  };
}

/** Wait until the socket takes writes again or is gone, leaving no listener behind either way. */
export function drainedOrClosed(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}
