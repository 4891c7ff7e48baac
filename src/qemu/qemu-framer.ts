// QemuFramer: splits the byte stream of one QEMU socket/stream netdev connection
// (`-netdev stream`, `-netdev socket,connect=`, `-net socket`) into Ethernet frames.
// Talks to nothing itself: the QEMU I/O thread feeds it socket reads and it calls a sink per frame.
//
// Wire format (see docs/wire-protocol.md, "QEMU stream framing"): every frame is a
// 4-byte big-endian length followed by that many frame bytes, back to back, with no
// other delimiters. TCP and UNIX stream sockets keep no read boundaries, so a read may
// end anywhere: inside a header, inside a frame, or after many frames.
//
// Thread safety: one instance per connection, used only by the QEMU I/O thread that
// reads that connection. push() is not re-entrant: a sink must not call push() on the
// framer that is calling it.

/** Bytes in the length header that precedes every frame. */
export const QEMU_HDR_LEN = 4;

/** push() results. After a non-OK result the framer is dead; indexes into FRAMER_REASON_TEXT. */
export const FRAMER_OK = 0;
export const FRAMER_ZERO_LENGTH = 1;
export const FRAMER_RUNT = 2;
export const FRAMER_GIANT = 3;

/** Human text per push() result, for the log line written when a connection is closed. */
export const FRAMER_REASON_TEXT: readonly string[] = Object.freeze([
  'ok',
  'length 0',
  'length under 14',
  'length over maximum',
]);

/** Receives one complete frame: buf[off, off + len). The view is only valid during the call. */
export type FrameSink = (buf: Buffer, off: number, len: number) => void;

// The Ethernet header is the shortest thing worth forwarding, and 65535 is the largest
// length the rest of the switch accepts. These mirror ETH_HLEN and DEFAULT_MAX_FRAME in
// src/core/frame.ts; they are repeated here so this codec depends on no other module.
const MIN_FRAME = 14;
const DEFAULT_MAX_FRAME = 65535;

export class QemuFramer {
  private readonly sink: FrameSink;
  private readonly maxFrame: number;

  // Header assembly: the length is accumulated in a number, so the header never needs
  // buffer space and a header split across reads (1+3, 2+2, 3+1) costs nothing extra.
  private hdrFill = 0;
  private hdrValue = 0;

  // Body assembly. `need` is the validated length of the frame being read (0 while a
  // header is being read); `have` is how many of its bytes sit in `reasm`.
  private need = 0;
  private have = 0;
  private reasm: Buffer | null = null;

  private _error = FRAMER_OK;
  private _badLength = 0;
  private _frames = 0;

  /**
   * @param sink called once per complete frame, in stream order.
   * @param maxFrame largest frame length accepted (default 65535); at least 14.
   */
  constructor(sink: FrameSink, maxFrame: number = DEFAULT_MAX_FRAME) {
    this.sink = sink;
    // A maxFrame under the minimum would reject every frame; clamping keeps the framer
    // usable and this constructor free of a throw that callers would have to route.
    this.maxFrame = Number.isInteger(maxFrame) && maxFrame >= MIN_FRAME ? maxFrame : MIN_FRAME;
  }

  /** FRAMER_OK, or the reason the stream was declared broken. */
  get error(): number {
    return this._error;
  }

  /** The offending length value when error is not FRAMER_OK (0 otherwise). */
  get badLength(): number {
    return this._badLength;
  }

  /** Frames delivered to the sink so far. */
  get frames(): number {
    return this._frames;
  }

  /** Bytes held towards an incomplete header or frame. */
  get pending(): number {
    return this.hdrFill + this.have;
  }

  /** Bytes of reassembly buffer allocated for this connection (0 until a frame straddles two reads). */
  get bufferBytes(): number {
    return this.reasm === null ? 0 : this.reasm.length;
  }

  /**
   * Feeds bytes as read from the socket, chunk[start, end), and calls the sink once per
   * complete frame (a thread that reads into one buffer passes the span it read, so no
   * view is made per read).
   * A frame lying wholly inside `chunk` is passed as a view into `chunk` (no copy); a
   * frame split across reads is passed as a view into the reassembly buffer.
   * Returns FRAMER_OK, or a reason code; frames completed earlier in the same chunk have
   * already been delivered. After a non-OK return the framer is dead: nothing more is
   * delivered and every later push returns the same code. Never throws (unless the sink does).
   */
  push(chunk: Buffer, start = 0, end = chunk.length): number {
    if (this._error !== FRAMER_OK) return this._error;
    let i = start;
    while (i < end) {
      if (this.need === 0) {
        // Reading a header.
        let len: number;
        if (this.hdrFill === 0 && end - i >= QEMU_HDR_LEN) {
          // `>>> 0` keeps lengths with bit 31 set (e.g. 0xffffffff) positive.
          len = ((chunk[i] << 24) | (chunk[i + 1] << 16) | (chunk[i + 2] << 8) | chunk[i + 3]) >>> 0;
          i += QEMU_HDR_LEN;
        } else {
          while (this.hdrFill < QEMU_HDR_LEN && i < end) {
            this.hdrValue = ((this.hdrValue << 8) | chunk[i]) >>> 0;
            this.hdrFill++;
            i++;
          }
          if (this.hdrFill < QEMU_HDR_LEN) break;
          len = this.hdrValue;
          this.hdrFill = 0;
          this.hdrValue = 0;
        }
        // The length is judged as soon as its four bytes are known, before anything is
        // sized from it, so a hostile peer cannot make us allocate or wait for 4 GiB.
        const reason = this.judge(len);
        if (reason !== FRAMER_OK) return this.fail(reason, len);
        this.need = len;
        continue;
      }

      // Reading a frame body.
      const avail = end - i;
      if (this.have === 0 && avail >= this.need) {
        // The whole frame is inside this read: hand out a view, copy nothing.
        const len = this.need;
        this.need = 0;
        this._frames++;
        this.sink(chunk, i, len);
        i += len;
        continue;
      }

      // The frame straddles reads. The buffer is allocated once per connection, sized for
      // the largest acceptable frame, so no later frame ever needs a new one.
      if (this.reasm === null) this.reasm = Buffer.allocUnsafe(this.maxFrame);
      const take = Math.min(this.need - this.have, avail);
      // Buffer#copy moves the bytes with memcpy and allocates no view.
      chunk.copy(this.reasm, this.have, i, i + take);
      this.have += take;
      i += take;
      if (this.have === this.need) {
        const len = this.need;
        this.need = 0;
        this.have = 0;
        this._frames++;
        this.sink(this.reasm, 0, len);
      }
    }
    return FRAMER_OK;
  }

  private judge(len: number): number {
    if (len === 0) return FRAMER_ZERO_LENGTH;
    if (len < MIN_FRAME) return FRAMER_RUNT;
    if (len > this.maxFrame) return FRAMER_GIANT;
    return FRAMER_OK;
  }

  private fail(reason: number, len: number): number {
    this._error = reason;
    this._badLength = len;
    this.need = 0;
    this.have = 0;
    this.hdrFill = 0;
    this.hdrValue = 0;
    return reason;
  }
}

/**
 * Writes the 4-byte big-endian length header for a frame of `len` bytes at out[off..off+3].
 * The caller sizes `out`; nothing is checked here because this runs per frame.
 */
export function writeQemuHeader(len: number, out: Uint8Array, off: number): void {
  out[off] = len >>> 24;
  out[off + 1] = (len >>> 16) & 0xff;
  out[off + 2] = (len >>> 8) & 0xff;
  out[off + 3] = len & 0xff;
}
