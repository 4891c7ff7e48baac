// bench:core — frames/s through the core of the data path on one thread:
// rx ring → VlanEngine (learn, lookup, forward) → tx ring, for 64, 512 and
// 1514-byte frames, beside a plain copy loop over the same bytes measured in
// the same run. A benchmark, not a test: it asserts nothing and prints ratios.
// Runs on the main thread of its own process: `npm run bench:core`.

import { VlanEngine } from '../src/forwarding/vlan-engine.js';
import { Ring } from '../src/core/ring.js';
import { ETHERTYPE_IPV4, frame } from '../test/helpers/frames.js';

const SIZES = [64, 512, 1514];
const BATCH = 256; // frames per round: what one wake-up of a worker would see
const SECONDS = Number(process.env.DIVES_BENCH_SECONDS ?? 1.5);
const ROUNDS = 3; // best of, to shed noise from the shared machine
const RING_BYTES = 256 * 1024; // the rings the switch allocates per port direction

/** The station 02:00:00:00:00:host. */
const station = (host: number): number => 0x020000000000 + host;

/** Frames alternating between two stations so every frame after the first two is a learned unicast. */
function makeFrames(size: number): Buffer[] {
  return [0, 1].map((i) => frame({ dst: station(2 - i), src: station(1 + i), ethertype: ETHERTYPE_IPV4, padTo: size, fill: 0xa5 }));
}

interface Figure { fps: number; gbps: number }

function figure(frames: number, size: number, ns: bigint): Figure {
  const s = Number(ns) / 1e9;
  return { fps: frames / s, gbps: (frames * size * 8) / s / 1e9 };
}

/** Rings and an engine with two ports, and the handler a forwarding thread would give consume(). */
function path(size: number) {
  const rx = Ring.create(RING_BYTES);
  const tx1 = Ring.create(RING_BYTES);
  const tx2 = Ring.create(RING_BYTES);
  const engine = new VlanEngine(10);
  engine.addPort(1, false, tx1);
  engine.addPort(2, false, tx2);
  engine.nowMs = Date.now();
  const frames = makeFrames(size);
  const handler = (buf: Buffer, off: number, len: number, meta: number): void => {
    engine.forward(buf, off, len, meta);
  };
  return { rx, tx1, tx2, engine, frames, handler };
}

/** The engine path: consume a batch from rx, forward each frame into a tx ring, commit. Only that is timed. */
function benchEngine(size: number): Figure {
  const { rx, tx1, tx2, frames, handler } = path(size);
  const drain = (): void => {};
  let done = 0;
  let spent = 0n;
  const deadline = process.hrtime.bigint() + BigInt(Math.round(SECONDS * 1e9));
  while (process.hrtime.bigint() < deadline) {
    for (let i = 0; i < BATCH; i++) rx.write(frames[i & 1], 0, size, 1 + (i & 1));
    rx.commit();
    const t0 = process.hrtime.bigint();
    const n = rx.consume(BATCH, handler);
    tx1.commit();
    tx2.commit();
    spent += process.hrtime.bigint() - t0;
    done += n;
    tx1.consume(BATCH, drain);
    tx2.consume(BATCH, drain);
  }
  return figure(done, size, spent);
}

/** The whole single-thread pipeline: producer write + engine + consumer read, all timed. */
function benchPipeline(size: number): Figure {
  const { rx, tx1, tx2, frames, handler } = path(size);
  let sink = 0;
  const drain = (buf: Buffer, off: number): void => {
    sink ^= buf[off];
  };
  let done = 0;
  const t0 = process.hrtime.bigint();
  const deadline = t0 + BigInt(Math.round(SECONDS * 1e9));
  while (process.hrtime.bigint() < deadline) {
    for (let i = 0; i < BATCH; i++) rx.write(frames[i & 1], 0, size, 1 + (i & 1));
    rx.commit();
    done += rx.consume(BATCH, handler);
    tx1.commit();
    tx2.commit();
    tx1.consume(BATCH, drain);
    tx2.consume(BATCH, drain);
  }
  if (sink === 256) console.log('');
  return figure(done, size, process.hrtime.bigint() - t0);
}

/** The peer: copy each frame's bytes from one buffer to another, nothing else. */
function benchCopy(size: number): Figure {
  const src = Buffer.from(new SharedArrayBuffer(RING_BYTES));
  const dst = Buffer.from(new SharedArrayBuffer(RING_BYTES));
  const stride = (size + 15) & ~7;
  const slots = Math.floor((RING_BYTES) / stride);
  let done = 0;
  let spent = 0n;
  const deadline = process.hrtime.bigint() + BigInt(Math.round(SECONDS * 1e9));
  let slot = 0;
  while (process.hrtime.bigint() < deadline) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < BATCH; i++) {
      const at = slot * stride;
      src.copy(dst, at, at, at + size);
      slot = slot + 1 === slots ? 0 : slot + 1;
    }
    spent += process.hrtime.bigint() - t0;
    done += BATCH;
  }
  return figure(done, size, spent);
}

function best(fn: (size: number) => Figure, size: number): Figure {
  let top: Figure = { fps: 0, gbps: 0 };
  for (let r = 0; r < ROUNDS; r++) {
    const f = fn(size);
    if (f.fps > top.fps) top = f;
  }
  return top;
}

const rows: Record<string, unknown>[] = [];
const mfps = (f: Figure): string => (f.fps / 1e6).toFixed(2);
console.log(`bench:core — one thread, best of ${ROUNDS} × ${SECONDS}s, batch ${BATCH}; Node ${process.version}`);
console.log('size  engine Mfps  (Gbit/s)  pipeline Mfps  copy-loop Mfps  engine/copy  pipeline/copy');
for (const size of SIZES) {
  const copy = best(benchCopy, size);
  const engine = best(benchEngine, size);
  const pipe = best(benchPipeline, size);
  const r1 = engine.fps / copy.fps;
  const r2 = pipe.fps / copy.fps;
  console.log(
    `${String(size).padStart(4)}  ${mfps(engine).padStart(11)}  ${engine.gbps.toFixed(1).padStart(8)}  ${mfps(pipe).padStart(13)}  ${mfps(copy).padStart(14)}  ${r1.toFixed(2).padStart(11)}  ${r2.toFixed(2).padStart(13)}`,
  );
  rows.push({ size, engineFps: engine.fps, pipelineFps: pipe.fps, copyFps: copy.fps, engineOverCopy: r1, pipelineOverCopy: r2 });
}
console.log('engine = consume rx ring + learn/lookup + copy into tx ring + commit; pipeline adds the producer write and the tx consumer;');
console.log('copy-loop = Buffer#copy of the same bytes. Aims: engine ≥ 5 Mfps at 64 bytes; engine/copy ≥ 0.50 at 1514 bytes.');
if (process.env.DIVES_BENCH_JSON) console.log(JSON.stringify(rows));
