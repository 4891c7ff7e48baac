// HChaCha20 (draft-irtf-cfrg-xchacha, section 2.2): a 32-byte key and a 16-byte input to a
// 32-byte subkey. XChaCha20-Poly1305 is ChaCha20-Poly1305 (RFC 8439) under the subkey
// HChaCha20(key, nonce[0..16)) with the nonce 0000 || nonce[16..24); DiVES puts the two
// sessions in nonce[0..16) so the subkey is one per pair of sessions, derived once and
// kept (src/peer/peer-seal.ts), and only RFC 8439 runs per datagram (src/crypto/aead.ts).
// Any thread; no allocation after construction, never throws.

const ROUNDS = 10; // double rounds: 20 rounds

export class HChaCha20 {
  private readonly x = new Uint32Array(16);

  /** out[0..32) = HChaCha20(key[0..32), in[inAt..inAt+16)). */
  derive(out: Uint8Array, key: Uint8Array, input: Uint8Array, inAt = 0): void {
    const x = this.x;
    x[0] = 0x61707865;
    x[1] = 0x3320646e;
    x[2] = 0x79622d32;
    x[3] = 0x6b206574;
    for (let i = 0; i < 8; i++) x[4 + i] = le32(key, i * 4);
    for (let i = 0; i < 4; i++) x[12 + i] = le32(input, inAt + i * 4);
    for (let r = 0; r < ROUNDS; r++) {
      quarter(x, 0, 4, 8, 12);
      quarter(x, 1, 5, 9, 13);
      quarter(x, 2, 6, 10, 14);
      quarter(x, 3, 7, 11, 15);
      quarter(x, 0, 5, 10, 15);
      quarter(x, 1, 6, 11, 12);
      quarter(x, 2, 7, 8, 13);
      quarter(x, 3, 4, 9, 14);
    }
    for (let i = 0; i < 4; i++) put32(out, i * 4, x[i]);
    for (let i = 0; i < 4; i++) put32(out, 16 + i * 4, x[12 + i]);
  }
}

function quarter(x: Uint32Array, a: number, b: number, c: number, d: number): void {
  x[a] = (x[a] + x[b]) >>> 0;
  x[d] = rotl(x[d] ^ x[a], 16);
  x[c] = (x[c] + x[d]) >>> 0;
  x[b] = rotl(x[b] ^ x[c], 12);
  x[a] = (x[a] + x[b]) >>> 0;
  x[d] = rotl(x[d] ^ x[a], 8);
  x[c] = (x[c] + x[d]) >>> 0;
  x[b] = rotl(x[b] ^ x[c], 7);
}

function rotl(v: number, n: number): number {
  return ((v << n) | (v >>> (32 - n))) >>> 0;
}

function le32(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
}

function put32(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
  b[at + 2] = (v >>> 16) & 0xff;
  b[at + 3] = v >>> 24;
}
