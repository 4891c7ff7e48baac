// Classic pcap (the libpcap file format tcpdump and Wireshark read): the 24-byte file
// header and the 16-byte record header, little-endian, microsecond timestamps,
// LINKTYPE_ETHERNET. The forwarding thread writes record headers into capture records
// (src/forwarding/frame-observer.ts); main writes the file header and the records
// (src/capture/captures.ts). Pure.
//
// File header:
//
// | byte | size | field         | value                                      |
// |------|------|---------------|--------------------------------------------|
// | 0    | 4    | magic         | 0xa1b2c3d4: microsecond timestamps          |
// | 4    | 2    | version major | 2                                          |
// | 6    | 2    | version minor | 4                                          |
// | 8    | 4    | thiszone      | 0 (timestamps are UTC)                     |
// | 12   | 4    | sigfigs       | 0                                          |
// | 16   | 4    | snaplen       | PCAP_SNAPLEN: frames are never cut         |
// | 20   | 4    | network       | 1, LINKTYPE_ETHERNET                       |
//
// Record header: seconds, microseconds, captured length, length on the wire (4 bytes
// each); the frame follows.

export const PCAP_MAGIC_US = 0xa1b2c3d4;
export const LINKTYPE_ETHERNET = 1;
/** The longest frame a record may hold: a 64 KiB offloaded segment fits whole. */
export const PCAP_SNAPLEN = 262144;
export const PCAP_FILE_HEADER_LEN = 24;
export const PCAP_RECORD_HEADER_LEN = 16;

/** The file header of a capture. */
export function pcapFileHeader(): Buffer {
  const b = Buffer.alloc(PCAP_FILE_HEADER_LEN);
  b.writeUInt32LE(PCAP_MAGIC_US, 0);
  b.writeUInt16LE(2, 4);
  b.writeUInt16LE(4, 6);
  b.writeInt32LE(0, 8);
  b.writeUInt32LE(0, 12);
  b.writeUInt32LE(PCAP_SNAPLEN, 16);
  b.writeUInt32LE(LINKTYPE_ETHERNET, 20);
  return b;
}

/** One record: its header for a frame seen at `ms` (milliseconds since the epoch), then the frame. */
export function pcapRecord(ms: number, frame: Uint8Array): Buffer {
  const b = Buffer.alloc(PCAP_RECORD_HEADER_LEN + frame.length);
  const sec = Math.floor(ms / 1000);
  b.writeUInt32LE(sec, 0);
  b.writeUInt32LE(Math.floor((ms - sec * 1000) * 1000), 4);
  b.writeUInt32LE(frame.length, 8);
  b.writeUInt32LE(frame.length, 12);
  b.set(frame, PCAP_RECORD_HEADER_LEN);
  return b;
}

/** A frame read back from a pcap file: its time (ms since the epoch) and bytes. */
export interface PcapFrame {
  ms: number;
  frame: Buffer;
}

/** Read a little-endian microsecond pcap file (what this file writes); throws on anything else. */
export function readPcap(file: Buffer): { linktype: number; frames: PcapFrame[] } {
  if (file.length < PCAP_FILE_HEADER_LEN || file.readUInt32LE(0) !== PCAP_MAGIC_US) throw new Error('not a little-endian microsecond pcap file');
  const frames: PcapFrame[] = [];
  let at = PCAP_FILE_HEADER_LEN;
  while (at + PCAP_RECORD_HEADER_LEN <= file.length) {
    const incl = file.readUInt32LE(at + 8);
    const ms = file.readUInt32LE(at) * 1000 + file.readUInt32LE(at + 4) / 1000;
    const start = at + PCAP_RECORD_HEADER_LEN;
    if (start + incl > file.length) throw new Error(`pcap record at byte ${at} is cut short`);
    frames.push({ ms, frame: Buffer.from(file.subarray(start, start + incl)) });
    at = start + incl;
  }
  return { linktype: file.readUInt32LE(20), frames };
}
