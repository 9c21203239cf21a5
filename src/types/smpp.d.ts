/**
 * The part of `smpp` (farhadi/node-smpp, pinned 0.5.1) that ums uses: a PDU codec and a socket
 * session, nothing more. Our own declarations; the package ships none.
 */
declare module 'smpp' {
  import type { EventEmitter } from 'node:events';
  import type { Server as NetServer, Socket } from 'node:net';

  /** One protocol data unit: header fields, mandatory parameters and TLVs as plain properties. */
  export interface PDU {
    command: string;
    command_id: number;
    command_length: number;
    command_status: number;
    sequence_number: number;
    [field: string]: unknown;
    isResponse(): boolean;
    /** the response PDU to this request (same sequence number) */
    response(options?: Record<string, unknown>): PDU;
    toBuffer(): Buffer;
  }

  export interface PDUConstructor {
    new (command: string, options?: Record<string, unknown>): PDU;
    fromBuffer(buffer: Buffer): PDU | false;
    maxLength: number;
  }

  export interface ConnectOptions {
    host: string;
    port: number;
    [option: string]: unknown;
  }

  /** A TCP session that frames PDUs; it never times a request out and never answers for us. */
  export interface Session extends EventEmitter {
    socket: Socket;
    server?: Server;
    /** false when the socket is not writable (nothing was sent) */
    send(pdu: PDU, responseCallback?: (pdu: PDU) => void, sendCallback?: (pdu: PDU) => void): boolean;
    close(callback?: () => void): void;
    destroy(callback?: () => void): void;
    pause(): void;
    resume(): void;
    on(event: 'pdu', listener: (pdu: PDU) => void): this;
    on(event: 'connect' | 'close', listener: () => void): this;
    on(event: 'error', listener: (err: Error) => void): this;
    on(event: string, listener: (...args: any[]) => void): this;
  }

  export interface Server extends NetServer {
    sessions: Session[];
  }

  export interface ParamDef {
    type: unknown;
    filter?: unknown;
    default?: unknown;
  }

  export interface SmppModule {
    PDU: PDUConstructor;
    connect(options: ConnectOptions, listener?: () => void): Session;
    createServer(listener: (session: Session) => void): Server;
    createServer(options: Record<string, unknown>, listener: (session: Session) => void): Server;
    /** ESME_* names -> command_status codes */
    errors: Record<string, number>;
    commands: Record<string, { id: number; params?: Record<string, ParamDef> }>;
    tlvs: Record<string, { id: number; type: unknown; filter?: unknown }>;
  }

  const smpp: SmppModule;
  export default smpp;
}
