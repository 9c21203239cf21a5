/**
 * The provider contract: one suite, run against every provider module in src/providers/registry.ts
 * (PROVIDER_MODULES), each made by the registry's createProvider with a real config pointing at its
 * local fake (a real socket on 127.0.0.1; the simulator is in-process). Each adapter below says how
 * its fake produces each behaviour, or why the provider cannot have it ("not applicable" rows are
 * listed as skipped, with the reason). Adding a provider = one folder, one registry line, and one
 * adapter here that passes; a registered module without an adapter fails the first test.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { messageKey, parseKey } from '../../src/journal/delivery.js';
import type { Journal } from '../../src/journal/journal.js';
import { createProvider, PROVIDER_MODULES, providerModule } from '../../src/providers/registry.js';
import type {
  DeliveryReport,
  OutboundMessage,
  Provider,
  ReportBatch,
  SubmitResult,
  WebhookRequest,
} from '../../src/providers/types.js';
import { FakeNhn } from '../support/fakeNhn.js';
import { FakeSmsc } from '../support/fakeSmsc.js';
import { FakeSolapi } from '../support/fakeSolapi.js';
import { plannedJournal } from '../support/journal.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** What a fake is made to do for a whole submission. */
type Behaviour =
  | 'normal'
  | 'throttled'
  | 'unavailable'
  | 'noAnswer'
  | 'badCredentials'
  | 'oddAnswer'
  | 'oddLookup'
  | 'echoesSecret';

/** A message the rig sent, as the fake holds it. */
interface Sent {
  key: string;
  to: string;
  providerId: string;
}

interface Rig {
  provider: Provider;
  /** the settings it was made with (`providers.<name>` without `type`) */
  config: Record<string, unknown>;
  /** a webhook POST as the provider makes it, carrying these messages' final reports, with the secret */
  webhookPost?(sent: Sent[]): { request: WebhookRequest; body: Buffer };
  /** the secrets in the provider's config (never to be seen in a message or error) */
  secrets: string[];
  /** whether the fake holds this key (what really reached the provider) */
  took(key: string): boolean;
  /** the id the fake gave this key */
  idOf(key: string): string | undefined;
  /** the fake has been told (acknowledged) that the report of this id was stored */
  acked(sent: Sent): Promise<boolean>;
  /** push providers whose fake does not make reports on its own: make them now (`failed`: a failure report) */
  emit(sent: Sent[], failed?: boolean): void;
  /** one poll that brings the reports of these messages: `ok` delivered, `failed` failed */
  poll(ok: Sent[], failed?: Sent[]): Promise<ReportBatch>;
  /**
   * the report of an already-final message offered again: `same` (a duplicate) or `contradicting`
   * (a late report saying the opposite); null when the provider cannot produce it
   */
  again(sent: Sent[], how: 'same' | 'contradicting'): Promise<ReportBatch> | null;
}

interface Adapter {
  type: string;
  /** recipients that make the fake answer per message */
  to: { ok: string; permanent: string; unknownCode: string; retryable: string | null; reportFails: string };
  rig(b: Behaviour): Promise<Rig>;
  /** rows this provider cannot have, and why */
  notApplicable: Partial<Record<Row, string>>;
}

type Row =
  | 'retryable'
  | 'fatal'
  | 'oddAnswer'
  | 'lookup'
  | 'oddLookup'
  | 'push'
  | 'pushRefused'
  | 'late'
  | 'webhook'
  | 'secrets';

const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'ums-contract-'));

async function make(type: string, config: Record<string, unknown>, stateDir: string): Promise<Provider> {
  // as src/app/lanes.ts makes them: the journal's side reads the keys
  const p = await createProvider(type, { type, ...config }, { stateDir, readKey: parseKey });
  cleanup.push(() => p.close());
  return p;
}

// --- the simulator: in-process, its knobs are its config, its memory is its carrier log ---------

const sim: Adapter = {
  type: 'sim',
  // 010-0CCC-Cnnn: 1062 refused at intake (unregistered sender), 3032 accepted then failed
  to: {
    ok: '01020000001',
    permanent: '01001062000',
    unknownCode: '01001999000',
    retryable: null,
    reportFails: '01003032000',
  },
  notApplicable: {
    retryable: 'the simulator refuses only with permanent 1xxx intake codes; it has no retryable refusal',
    fatal: 'the simulator has no credentials to refuse',
    oddAnswer: 'the simulator answers in-process with typed results: there is no wire answer to misshape',
    oddLookup: 'its lookup reads its own carrier log in-process: there is no listing answer to misshape',
    late: "the simulator decides each message's result once, at intake (one dlr per id in its carrier log): it never reports a second, different result",
    secrets: "the simulator's config holds no secret",
    webhook:
      'the simulator lives inside the process: nothing posts to it, its reports are polled or pushed in-process',
  },
  async rig(b) {
    const dir = tmp();
    const store = path.join(dir, 'carrier.jsonl');
    const knobs: Record<string, unknown> =
      {
        throttled: { throttleRate: 1 },
        unavailable: { unavailableRate: 1 },
        noAnswer: { ambiguousRate: 1 },
      }[b as string] ?? {};
    const config = { tps: 0, latencyMs: 0, dlrDelayMs: 1, store, ...knobs };
    const provider = await make('sim', config, dir);
    const lines = (): { t: string; key?: string; id?: string; ids?: string[] }[] =>
      fs.existsSync(store)
        ? fs
            .readFileSync(store, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l))
        : [];
    const poll = async (ok: Sent[], failed: Sent[] = []): Promise<ReportBatch> => {
      let batch: ReportBatch = { reports: [], ack: async () => undefined };
      await until(async () => {
        batch = await provider.pollReports!();
        return [...ok, ...failed].every((s) => batch.reports.some((r) => r.providerId === s.providerId));
      }, "the simulator's reports");
      return batch;
    };
    return {
      provider,
      config,
      secrets: [],
      took: (key) => lines().some((l) => l.t === 'acc' && l.key === key),
      idOf: (key) => lines().find((l) => l.t === 'acc' && l.key === key)?.id,
      acked: async (s) => lines().some((l) => l.t === 'ack' && l.ids!.includes(s.providerId)),
      emit: () => undefined, // its reports come due by themselves (dlrDelayMs)
      poll,
      again: (sent, how) => (how === 'same' ? poll(sent) : null), // unacked: offered again
    };
  },
};

// --- Solapi: the fake REST API over HTTP --------------------------------------------------------

const SOLAPI_KEY = 'NCSCONTRACTKEY01';
const SOLAPI_SECRET = 'contract-secret-Zq81xWv0p7Lk';
const SOLAPI_WRONG_SECRET = 'wrong-secret-Hh27YtRe95Mn';
const SOLAPI_HOOK_SECRET = 'hook-contract-Uu83PqLs02Vb';

const solapi: Adapter = {
  type: 'solapi',
  // 0100000CCCC: 1062 refused at intake, 1024 Solapi's own error (retryable), 3032 failed later
  to: {
    ok: '01020000001',
    permanent: '01000001062',
    unknownCode: '01000001999',
    retryable: '01000001024',
    reportFails: '01000003032',
  },
  notApplicable: {
    push: 'Solapi pushes reports by webhook to `ums listen` (the webhook rows), not through subscribeReports; its provider polls',
    pushRefused: 'no subscribeReports (see above); a poll batch not acked is offered again (the poll rows)',
  },
  async rig(b) {
    const dir = tmp();
    const fake = await FakeSolapi.start({
      apiKey: SOLAPI_KEY,
      apiSecret: SOLAPI_SECRET,
      reportDelayMs: 0,
      tps: b === 'throttled' ? 0.5 : 0,
      failSendsWith: b === 'unavailable' ? 503 : b === 'echoesSecret' ? 500 : null,
      failSendsMessage: `signature made with ${SOLAPI_SECRET} by ${SOLAPI_KEY} is not accepted`,
      dropAnswer: () => b === 'noAnswer' || b === 'oddLookup',
      sendAnswer: () => (b === 'oddAnswer' ? { ok: true, received: 1 } : undefined),
      listAnswer: () => (b === 'oddLookup' ? { messageList: [{ to: '01020000001' }] } : undefined),
    });
    cleanup.push(() => fake.close());
    const secret = b === 'badCredentials' ? SOLAPI_WRONG_SECRET : SOLAPI_SECRET;
    const config = {
      apiKey: SOLAPI_KEY,
      apiSecret: secret,
      baseUrl: fake.url,
      tps: 100,
      timeoutMs: 3000,
      webhookSecret: SOLAPI_HOOK_SECRET,
    };
    const provider = await make('solapi', config, dir);
    const byKey = (key: string) => fake.messages.find((m) => m.customFields.umsKey === key);
    const poll = async (ok: Sent[], failed: Sent[] = []): Promise<ReportBatch> => {
      let batch: ReportBatch = { reports: [], ack: async () => undefined };
      await until(async () => {
        batch = await provider.pollReports!();
        return [...ok, ...failed].every((s) => batch.reports.some((r) => r.providerId === s.providerId));
      }, "Solapi's reports");
      return batch;
    };
    return {
      provider,
      config,
      // Solapi posts a JSON array of message objects; the secret as the URL's last segment
      webhookPost: (sent) => ({
        request: { segments: [SOLAPI_HOOK_SECRET], headers: { 'content-type': 'application/json' } },
        body: Buffer.from(
          JSON.stringify(fake.webhookBody((m) => sent.some((s) => s.providerId === m.messageId))),
        ),
      }),
      secrets: [secret, SOLAPI_HOOK_SECRET],
      took: (key) => byKey(key)?.intakeCode === null,
      idOf: (key) => byKey(key)?.messageId,
      // a poll acknowledges by moving its cursor: what was acked is not offered by the next poll
      acked: async (s) => !(await provider.pollReports!()).reports.some((r) => r.providerId === s.providerId),
      emit: () => undefined, // final once reportDelayMs has passed
      poll,
      again: (sent, how) => {
        if (how === 'contradicting') {
          // Solapi changes its mind later: the message's final code becomes a failure, updated after
          for (const s of sent) {
            const m = byKey(s.key)!;
            m.finalCode = '3040';
            m.finalAt += 1;
          }
        }
        return poll(sent);
      },
    };
  },
};

// --- NHN Cloud: the fake SMS v3.0 / AlimTalk v2.3 API over HTTP ----------------------------------

const NHN_APP = 'nhnContractApp01';
const NHN_SECRET = 'nhn-contract-secret-Qw83Lk';
const NHN_WRONG_SECRET = 'nhn-wrong-secret-Pz19Xc';
const NHN_HOOK_SIGNATURE = 'nhn-hook-signature-Rt52Vb';

const nhn: Adapter = {
  type: 'nhn',
  // outcomes by number: -2019 invalid number (permanent), -4242 a code ums does not know, -2021
  // NHN's queue failure (retryable), 3001 accepted then failed at the carrier
  to: {
    ok: '01020000001',
    permanent: '01099990001',
    unknownCode: '01099990004',
    retryable: '01099990002',
    reportFails: '01000003001',
  },
  notApplicable: {
    push: 'NHN pushes reports by webhook to `ums listen` (the webhook rows), not through subscribeReports; its provider polls',
    pushRefused: 'no subscribeReports (see above); a poll batch not acked is offered again (the poll rows)',
  },
  async rig(b) {
    const dir = tmp();
    const fake = await FakeNhn.start({
      appKey: NHN_APP,
      secretKey: NHN_SECRET,
      webhookSignature: NHN_HOOK_SIGNATURE,
      reportDelayMs: 0,
      tps: b === 'throttled' ? 0.5 : 0,
      failSendsWith: b === 'unavailable' ? 503 : b === 'echoesSecret' ? 500 : null,
      failSendsMessage: `secret ${NHN_SECRET} of app ${NHN_APP} is not accepted`,
      dropAnswer: () => b === 'noAnswer' || b === 'oddLookup',
      sendAnswer: () => (b === 'oddAnswer' ? { ok: true, received: 1 } : undefined),
      listAnswer: () =>
        b === 'oddLookup'
          ? { header: { isSuccessful: true, resultCode: 0 }, body: { data: 'x' } }
          : undefined,
      outcomes: {
        '01099990001': { intake: -2019 },
        '01099990004': { intake: -4242 },
        '01099990002': { intake: -2021 },
      },
    });
    cleanup.push(() => fake.close());
    const secret = b === 'badCredentials' ? NHN_WRONG_SECRET : NHN_SECRET;
    const config = {
      appKey: NHN_APP,
      secretKey: secret,
      baseUrl: fake.url,
      alimtalkBaseUrl: fake.url,
      tps: 100,
      timeoutMs: 3000,
      webhookSignature: NHN_HOOK_SIGNATURE,
    };
    const provider = await make('nhn', config, dir);
    const byKey = (key: string) => fake.byKey(key);
    const poll = async (ok: Sent[], failed: Sent[] = []): Promise<ReportBatch> => {
      let batch: ReportBatch = { reports: [], ack: async () => undefined };
      await until(async () => {
        batch = await provider.pollReports!();
        return [...ok, ...failed].every((s) => batch.reports.some((r) => r.providerId === s.providerId));
      }, "NHN's reports");
      return batch;
    };
    return {
      provider,
      config,
      // NHN posts {event, hooks: [...]} with the console's static signature in a header
      webhookPost: (sent) => ({
        request: { segments: [], headers: { 'x-toast-webhook-signature': NHN_HOOK_SIGNATURE } },
        body: Buffer.from(
          JSON.stringify({
            event: 'MESSAGE_RESULT_UPDATE',
            hooks: sent.flatMap((x) => {
              const r = byKey(x.key);
              return r && r.finalAt <= Date.now() ? [fake.resultHook(r)] : [];
            }),
          }),
        ),
      }),
      secrets: [secret, NHN_HOOK_SIGNATURE],
      took: (key) => byKey(key) !== undefined,
      idOf: (key) => {
        const r = byKey(key);
        return r ? `${r.requestId}:${r.recipientSeq}` : undefined;
      },
      // a poll acknowledges by remembering what it reported: an acked report is not offered again
      acked: async (s) => !(await provider.pollReports!()).reports.some((r) => r.providerId === s.providerId),
      emit: () => undefined, // final once reportDelayMs has passed
      poll,
      again: (sent, how) => {
        if (how === 'contradicting') {
          for (const s of sent) {
            const r = byKey(s.key)!;
            r.resultCode = '3001';
            r.finalAt += 1;
          }
        }
        return poll(sent);
      },
    };
  },
};

// --- SMPP: the fake SMSC over TCP -----------------------------------------------------------------

const SMPP_PASSWORD = 'pw7Xq2Lm';

const smppAdapter: Adapter = {
  type: 'smpp',
  to: {
    ok: '01020000001',
    permanent: '01099990001',
    unknownCode: '01099990004',
    retryable: '01099990002',
    reportFails: '01099990003',
  },
  notApplicable: {
    lookup:
      'SMPP cannot ask the SMSC what it holds by our key (query_sm needs the id the lost answer carried): no lookup, the engine marks such rows unknown',
    oddLookup: 'no lookup (see above)',
    webhook: 'SMPP receipts and replies come over the bound link itself (deliver_sm), not over HTTP',
  },
  async rig(b) {
    const dir = tmp();
    const smsc = await FakeSmsc.start({
      systemId: 'ums',
      password: SMPP_PASSWORD,
      tps: b === 'throttled' ? 0.5 : 0,
      refuse: { '01099990001': 0x0b, '01099990002': 0x64, '01099990004': 0x4a7 }, // 0x4a7: a vendor code
      dropAfterSubmits: b === 'noAnswer' ? 1 : undefined,
      garbageAnswer: () => b === 'oddAnswer',
      receipts: false, // made by emit(), when the test says
    });
    cleanup.push(() => smsc.stop());
    if (b === 'unavailable') await smsc.stopListening();
    const password = b === 'badCredentials' ? 'pw-wrong1' : SMPP_PASSWORD;
    const config = {
      host: '127.0.0.1',
      port: smsc.port,
      systemId: 'ums',
      password,
      tps: 0,
      requestTimeoutMs: 2000,
      unavailableAfterMs: 400,
      reconnectMaxMs: 200,
    };
    const provider = await make('smpp', config, dir);
    const answers: { id: string; status: number }[] = [];
    const emit = (sent: Sent[], failed = false): void => {
      for (const s of sent) {
        const stat = failed ? 'UNDELIV' : 'DELIVRD';
        const text = `id:${parseInt(s.providerId, 16)} sub:001 dlvrd:${failed ? '000' : '001'} submit date:2401151230 done date:2401151230 stat:${stat} err:${failed ? '001' : '000'} text:`;
        void smsc
          .sendReceipt(text, { receipted_message_id: s.providerId, message_state: failed ? 5 : 2 }, s.to)
          .then((status) => answers.push({ id: s.providerId, status }));
      }
    };
    // `ums report --sync`: bind, collect what the SMSC sends until it is quiet, answer on ack()
    const poll = async (ok: Sent[], failed: Sent[] = []): Promise<ReportBatch> => {
      const polling = (
        provider as Provider & { pollReports(quietMs: number, maxMs: number): Promise<ReportBatch> }
      ).pollReports(300, 5000);
      emit(ok);
      emit(failed, true);
      return polling;
    };
    return {
      provider,
      config,
      secrets: [password],
      took: (key) => smsc.messages.some((m) => m.to === key.split('|')[1]),
      idOf: (key) => smsc.messages.find((m) => m.to === key.split('|')[1])?.ids[0],
      acked: async (s) => answers.some((a) => a.id === s.providerId && a.status === 0),
      emit,
      poll,
      again: (sent, how) => (how === 'same' ? poll(sent) : poll([], sent)),
    };
  },
};

// SMPP messages carry no key to the SMSC: its fake is asked by recipient (the key's second half here)
const keyFor = (a: Adapter, to: string, row: number): string =>
  a === smppAdapter ? `c:${row}:0|${to}` : messageKey('c', row, 0);

const ADAPTERS: Adapter[] = [sim, solapi, nhn, smppAdapter];

function message(key: string, to: string): OutboundMessage {
  return {
    key: key.split('|')[0]!,
    to,
    from: '0212345678',
    channel: 'sms',
    subject: null,
    text: '주문하신 상품이 발송되었습니다.',
    parts: 1,
  };
}

/** Each message's class, as the engine reads a SubmitResult. */
function classes(r: SubmitResult, n: number): string[] {
  if (r.kind !== 'results') return Array<string>(n).fill(r.kind);
  return r.outcomes.map((o) =>
    o.kind === 'rejected' ? `rejected-${o.retryable ? 'retryable' : 'permanent'}` : o.kind,
  );
}

function applicable(a: Adapter, row: Row): boolean {
  return a.notApplicable[row] === undefined;
}

/** `it`, or `it.skip` naming why this provider cannot have the row. */
function rowIt(a: Adapter, row: Row, title: string, fn: () => Promise<void>): void {
  const why = a.notApplicable[row];
  if (why === undefined) it(title, fn);
  else it.skip(`${title} — not applicable: ${why}`, fn);
}

/** A planned journal whose rows go to `tos`, claimed by the provider; the messages to submit. */
function journalFor(
  a: Adapter,
  tos: string[],
): { journal: Journal; messages: OutboundMessage[]; ids: number[] } {
  const journal = plannedJournal(tos.length, (i) => ({ to: tos[i]! }));
  cleanup.push(() => journal.close());
  const d = journal.delivery();
  const claimed = d.claim(d.nextPlanned('c', 'sms', 0, 100), a.type);
  return {
    journal,
    messages: claimed.map((m) => message(messageKey('c', m.row, m.leg), m.to)),
    ids: claimed.map((m) => m.id),
  };
}

/** Submit one by one (SMPP carries one per submit), settle `sent` in the journal, and say what was sent. */
async function sendAll(
  rig: Rig,
  journal: Journal,
  messages: OutboundMessage[],
  ids: number[],
): Promise<Sent[]> {
  const sent: Sent[] = [];
  for (const [i, m] of messages.entries()) {
    const r = await rig.provider.submit([m]);
    const o = r.kind === 'results' ? r.outcomes[0] : undefined;
    if (o?.kind !== 'accepted') throw new Error(`expected accepted, got ${JSON.stringify(r)}`);
    journal.delivery().settle([
      {
        id: ids[i]!,
        kind: 'sent',
        providerId: o.providerId,
        at: new Date().toISOString(),
        partIds: o.partIds,
      },
    ]);
    sent.push({ key: m.key, to: m.to, providerId: o.providerId });
  }
  return sent;
}

const statuses = (j: Journal): string[] => [...j.messages('c')].map((m) => m.status);

it('covers every registered provider module', () => {
  expect(ADAPTERS.map((a) => a.type).sort()).toEqual(PROVIDER_MODULES.map((m) => m.type).sort());
});

describe.each(ADAPTERS.map((a) => [a.type, a] as const))('provider contract: %s', (_type, a) => {
  describe('outcome classes of submit()', () => {
    it('accepted: a provider id, and the fake holds the message', async () => {
      const rig = await a.rig('normal');
      const key = keyFor(a, a.to.ok, 1);
      const r = await rig.provider.submit([message(key, a.to.ok)]);
      expect(classes(r, 1)).toEqual(['accepted']);
      const o = r.kind === 'results' ? r.outcomes[0] : undefined;
      expect(o?.kind === 'accepted' && o.providerId).toBe(rig.idOf(key));
      expect(rig.took(key)).toBe(true);
    });

    it('rejected, permanent: a refusal the same message cannot pass', async () => {
      const rig = await a.rig('normal');
      const key = keyFor(a, a.to.permanent, 1);
      const r = await rig.provider.submit([message(key, a.to.permanent)]);
      expect(classes(r, 1)).toEqual(['rejected-permanent']);
      expect(r.kind === 'results' && r.outcomes[0]!.kind === 'rejected' && r.outcomes[0]!.code).toMatch(/\S/);
      expect(rig.took(key)).toBe(false);
    });

    it('an unknown refusal code is a permanent refusal, never "accepted"', async () => {
      const rig = await a.rig('normal');
      const key = keyFor(a, a.to.unknownCode, 1);
      const r = await rig.provider.submit([message(key, a.to.unknownCode)]);
      expect(classes(r, 1)).toEqual(['rejected-permanent']);
      expect(rig.took(key)).toBe(false);
    });

    rowIt(a, 'retryable', 'rejected, retryable: a refusal to try again later', async () => {
      const rig = await a.rig('normal');
      const r = await rig.provider.submit([message(keyFor(a, a.to.retryable!, 1), a.to.retryable!)]);
      expect(classes(r, 1)).toEqual(['rejected-retryable']);
    });

    it('throttled: over the rate, nothing taken', async () => {
      const rig = await a.rig('throttled');
      const key = keyFor(a, a.to.ok, 1);
      const r = await rig.provider.submit([message(key, a.to.ok)]);
      expect(classes(r, 1)).toEqual(['throttled']);
      expect(rig.took(key)).toBe(false);
    });

    it('unavailable: the provider is down, nothing taken', async () => {
      const rig = await a.rig('unavailable');
      const key = keyFor(a, a.to.ok, 1);
      const r = await rig.provider.submit([message(key, a.to.ok)]);
      expect(classes(r, 1)).toEqual(['unavailable']);
      expect(rig.took(key)).toBe(false);
    });

    it('ambiguous: the message reached the provider and its answer was lost', async () => {
      const rig = await a.rig('noAnswer');
      const key = keyFor(a, a.to.ok, 1);
      const r = await rig.provider.submit([message(key, a.to.ok)]);
      expect(classes(r, 1)).toEqual(['ambiguous']);
      expect(rig.took(key)).toBe(true); // so "unavailable" (send again) would have been a duplicate
    });

    rowIt(a, 'fatal', 'fatal: the provider refuses our credentials, the run stops', async () => {
      const rig = await a.rig('badCredentials');
      const key = keyFor(a, a.to.ok, 1);
      const r = await rig.provider.submit([message(key, a.to.ok)]);
      expect(classes(r, 1)).toEqual(['fatal']);
      expect(rig.took(key)).toBe(false);
    });

    rowIt(
      a,
      'oddAnswer',
      'an answer of a shape the provider does not know is ambiguous, never "not taken"',
      async () => {
        const rig = await a.rig('oddAnswer');
        const key = keyFor(a, a.to.ok, 1);
        const r = await rig.provider.submit([message(key, a.to.ok)]);
        expect(classes(r, 1)).toEqual(['ambiguous']);
      },
    );
  });

  describe('look-up resolves ambiguity', () => {
    if (!applicable(a, 'lookup')) {
      it(`has no lookup — not applicable: ${a.notApplicable.lookup}`, async () => {
        const rig = await a.rig('normal');
        expect(rig.provider.lookup).toBeUndefined(); // a lookup added later must take this row
      });
    }

    rowIt(a, 'lookup', 'found -> its provider id; never sent -> absent', async () => {
      const rig = await a.rig('noAnswer');
      const key = keyFor(a, a.to.ok, 1);
      expect((await rig.provider.submit([message(key, a.to.ok)])).kind).toBe('ambiguous');
      const found = await rig.provider.lookup!([key, 'c:2:0']);
      expect(found.get(key)).toEqual({ providerId: rig.idOf(key) });
      expect(found.has('c:2:0')).toBe(false);
      expect(found.size).toBe(1);
    });

    rowIt(
      a,
      'oddLookup',
      'a look-up answer of an unexpected shape cannot tell: it throws, never "absent"',
      async () => {
        const rig = await a.rig('oddLookup');
        const key = keyFor(a, a.to.ok, 1);
        expect((await rig.provider.submit([message(key, a.to.ok)])).kind).toBe('ambiguous');
        await expect(rig.provider.lookup!([key])).rejects.toThrow(/cannot tell|shape/);
      },
    );
  });

  describe('reports: matched to the message, acknowledged after the commit', () => {
    rowIt(
      a,
      'push',
      'push: the handler commits through the journal; acked only once it has resolved',
      async () => {
        const rig = await a.rig('normal');
        const { journal, messages, ids } = journalFor(a, [a.to.ok, a.to.reportFails]);
        let release!: () => void;
        const gate = new Promise<void>((r) => (release = r));
        const batches: DeliveryReport[][] = [];
        const sent = await sendAll(rig, journal, messages, ids);
        rig.provider.subscribeReports!(async (b) => {
          batches.push(b.reports);
          await gate; // the journal's commit, slow
          journal.delivery().applyReports(a.type, b.reports);
          await b.ack();
        });
        rig.emit(sent.slice(0, 1));
        rig.emit(sent.slice(1), true);
        await until(
          () => sent.every((s) => batches.flat().some((r) => r.providerId === s.providerId)),
          'the pushed reports',
        );
        await sleep(50);
        for (const s of sent) expect(await rig.acked(s)).toBe(false);
        expect(statuses(journal)).toEqual(['sent', 'sent']);
        release();
        for (const s of sent) await until(() => rig.acked(s), `the ack of ${s.providerId}`);
        expect(statuses(journal)).toEqual(['delivered', 'failed']);
      },
    );

    rowIt(
      a,
      'pushRefused',
      'push: a handler that fails (nothing stored) acks nothing, and the report comes again',
      async () => {
        const rig = await a.rig('normal');
        const { journal, messages, ids } = journalFor(a, [a.to.ok]);
        let calls = 0;
        let ackedAtRetry: boolean | null = null;
        let statusAtRetry: string[] = [];
        const sent = await sendAll(rig, journal, messages, ids);
        rig.provider.subscribeReports!(async (b) => {
          if (++calls === 1) throw new Error('disk full');
          if (ackedAtRetry === null) {
            ackedAtRetry = await rig.acked(sent[0]!);
            statusAtRetry = statuses(journal);
          }
          journal.delivery().applyReports(a.type, b.reports);
          await b.ack();
        });
        rig.emit(sent);
        await until(() => calls >= 1, 'the first push');
        await sleep(30);
        rig.emit(sent); // an SMSC sends a receipt again after a refusal; the simulator offers it again by itself
        await until(() => rig.acked(sent[0]!), 'the ack after the retry');
        expect(calls).toBeGreaterThanOrEqual(2);
        expect(ackedAtRetry).toBe(false); // the failed call acked nothing
        expect(statusAtRetry).toEqual(['sent']);
        expect(statuses(journal)).toEqual(['delivered']);
      },
    );

    it('poll: the batch matches the messages (journal), and is acked only by ack()', async () => {
      const rig = await a.rig('normal');
      const { journal, messages, ids } = journalFor(a, [a.to.ok, a.to.reportFails]);
      const sent = await sendAll(rig, journal, messages, ids);
      const batch = await rig.poll(sent.slice(0, 1), sent.slice(1));
      const ours = batch.reports.filter((r) => sent.some((s) => s.providerId === r.providerId));
      expect(ours.map((r) => r.status).sort()).toEqual(['delivered', 'failed']);
      for (const r of ours) {
        const s = sent.find((x) => x.providerId === r.providerId)!;
        if (r.key !== null) expect(r.key).toBe(s.key);
      }
      journal.delivery().applyReports(a.type, batch.reports);
      expect(statuses(journal)).toEqual(['delivered', 'failed']);
      expect(await rig.acked(sent[0]!)).toBe(false);
      await batch.ack();
      for (const s of sent) await until(() => rig.acked(s), `the ack of ${s.providerId}`);
    });

    it('a duplicate report never changes a final state', async () => {
      const rig = await a.rig('normal');
      const { journal, messages, ids } = journalFor(a, [a.to.ok]);
      const sent = await sendAll(rig, journal, messages, ids);
      const first = await rig.poll(sent);
      expect(journal.delivery().applyReports(a.type, first.reports)).toBe(1);
      // committed, not acked (a crash between the two): the same report comes again
      const dup = await rig.again(sent, 'same')!;
      const same = dup.reports.filter((r) => r.providerId === sent[0]!.providerId);
      expect(same.map((r) => r.status)).toEqual(['delivered']);
      expect(journal.delivery().applyReports(a.type, dup.reports)).toBe(0);
      expect(statuses(journal)).toEqual(['delivered']);
      await dup.ack();
    });

    rowIt(a, 'late', 'a late report saying the opposite never downgrades a final state', async () => {
      const rig = await a.rig('normal');
      const { journal, messages, ids } = journalFor(a, [a.to.ok]);
      const sent = await sendAll(rig, journal, messages, ids);
      const first = await rig.poll(sent);
      expect(journal.delivery().applyReports(a.type, first.reports)).toBe(1);
      const late = await rig.again(sent, 'contradicting')!;
      const ours = late.reports.filter((r) => r.providerId === sent[0]!.providerId);
      expect(ours.map((r) => r.status)).toEqual(['failed']); // the fake did say the opposite
      expect(journal.delivery().applyReports(a.type, late.reports)).toBe(0);
      expect(statuses(journal)).toEqual(['delivered']);
      await late.ack();
    });
  });

  describe('webhook: what the provider posts to `ums listen` (/hooks/<provider name>)', () => {
    if (!applicable(a, 'webhook')) {
      it(`has no webhook — not applicable: ${a.notApplicable.webhook}`, () => {
        expect(providerModule(a.type)!.webhook).toBeUndefined(); // a webhook added later must take this row
      });
    }

    rowIt(
      a,
      'webhook',
      'refused without the secret; parsed into reports matched to the messages; a repeat changes nothing; another shape is refused',
      async () => {
        const rig = await a.rig('normal');
        const endpoint = providerModule(a.type)!.webhook!.endpoint(a.type, { type: a.type, ...rig.config });
        const { journal, messages, ids } = journalFor(a, [a.to.ok, a.to.reportFails]);
        const sent = await sendAll(rig, journal, messages, ids);
        let post = rig.webhookPost!(sent);
        await until(() => {
          post = rig.webhookPost!(sent);
          const p = endpoint.parse(post.body);
          return p.ok && sent.every((s) => p.reports.some((r) => r.providerId === s.providerId));
        }, 'the final reports');
        expect(endpoint.open).toBe(false);
        expect(endpoint.authorize({ segments: ['not-the-secret'], headers: {} })).toBe(false);
        expect(endpoint.authorize({ segments: [], headers: {} })).toBe(false);
        expect(endpoint.authorize(post.request)).toBe(true);
        const parsed = endpoint.parse(post.body);
        if (!parsed.ok) throw new Error(parsed.reason);
        for (const r of parsed.reports) {
          const s = sent.find((x) => x.providerId === r.providerId)!;
          if (r.key !== null) expect(r.key).toBe(s.key);
        }
        expect(journal.delivery().applyReports(a.type, parsed.reports)).toBe(2);
        expect(statuses(journal)).toEqual(['delivered', 'failed']);
        // the provider retries a POST it saw no 200 for: nothing changes
        const again = endpoint.parse(post.body);
        expect(again.ok && journal.delivery().applyReports(a.type, again.reports)).toBe(0);
        expect(statuses(journal)).toEqual(['delivered', 'failed']);
        for (const odd of ['{}', 'not json', '[]', JSON.stringify({ hello: 'world' })]) {
          const p = endpoint.parse(Buffer.from(odd));
          expect(p.ok, odd).toBe(false);
          if (!p.ok) for (const secret of rig.secrets) expect(p.reason).not.toContain(secret);
        }
      },
    );
  });

  rowIt(a, 'secrets', 'secrets never appear in an outcome, a message or a thrown error', async () => {
    const seen: string[] = [];
    let secrets: string[] = [];
    const record = (v: unknown): void => {
      seen.push(v instanceof Error ? `${v.message}\n${v.stack ?? ''}` : JSON.stringify(v));
    };
    for (const b of [
      'badCredentials',
      'unavailable',
      'noAnswer',
      'oddAnswer',
      'oddLookup',
      'echoesSecret',
    ] as Behaviour[]) {
      const rig = await a.rig(b);
      secrets = [...secrets, ...rig.secrets];
      const key = keyFor(a, a.to.ok, 1);
      await rig.provider.submit([message(key, a.to.ok)]).then(record, record);
      if (rig.provider.lookup) await rig.provider.lookup([key]).then((m) => record([...m]), record);
      if (rig.provider.pollReports) await rig.provider.pollReports().then((r) => record(r.reports), record);
    }
    expect(secrets.length).toBeGreaterThan(0);
    expect(seen.join('\n')).toMatch(/\w/);
    for (const s of new Set(secrets)) for (const text of seen) expect(text).not.toContain(s);
  });
});
