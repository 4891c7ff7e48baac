// A command's stream: lines a command sends after its reply, as they happen, until the
// client stops it (`monitor`, src/control/commands/monitor.ts). The command returns a
// CommandStream; a transport that can carry one (the control socket,
// src/control/control-server.ts) opens it with a LineSink over its connection and keeps
// the StreamHandle until the client stops it or goes. Types only; main thread.

/** Where a stream's lines go: one client's connection. */
export interface LineSink {
  /**
   * False while the client has not read what it was sent (its socket buffer is full).
   * A stream drops lines meanwhile rather than hold them, and says so once it is true again.
   */
  readonly ready: boolean;
  /** Send one line (no newline in it); only while ready. */
  write(line: string): void;
}

/** An open stream, as the transport holds it. */
export interface StreamHandle {
  /** The sink is ready again (its socket drained): send what is owed, e.g. how many lines were dropped. */
  resume(): void;
  /** The client stopped the stream or went away: send nothing more, and let go of what the stream holds. */
  close(): void;
}

/** What a streaming command returns beside its reply. */
export interface CommandStream {
  /** Start sending lines to `sink`; `json` asks for each line's JSON form. */
  open(sink: LineSink, json: boolean): StreamHandle;
}
