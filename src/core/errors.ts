// DivesError: the one error type thrown at set-up and control boundaries
// (console commands, rc files, opening TAPs and sockets). Each carries a stable
// `code` a script can match on and a message a person can act on.
// Used on every thread; the per-frame path never throws and counts drops instead.

/** Stable error codes. New codes are appended; existing ones never change meaning. */
export type DivesErrorCode =
  | 'EBADCMD' // unknown command or wrong mode
  | 'EBADARG' // a command's argument is malformed or out of range
  | 'ERCFILE' // a run-control file line failed
  | 'ETAPPERM' // no permission to open or create a TAP
  | 'ETAPNODEV' // TAP device missing and could not be created
  | 'ETAPBUSY' // TAP device is held by another process
  | 'EATTACHED' // the device or listener is already attached
  | 'ENOTATTACHED' // the device or listener is not attached
  | 'ELISTEN' // a listener could not be opened
  | 'EWORKER' // a thread failed
  | 'ETIMEOUT' // a control request was not answered in time
  | 'EINTERNAL'
  | 'ECTLBUSY' // a live switch already owns the control socket
  | 'ECTLSOCK' // the control socket cannot be created, or `dives ctl` cannot reach it
  | 'EWRITE' // `write FILE` could not save the running-config
  | 'EBUDGET'; // the memory budget has no room for another ring or connection

export class DivesError extends Error {
  readonly code: DivesErrorCode;

  constructor(code: DivesErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DivesError';
    this.code = code;
  }
}

/** True when `err` is a DivesError (also across realms, where instanceof fails). */
export function isDivesError(err: unknown): err is DivesError {
  return err instanceof DivesError || (typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'DivesError');
}
