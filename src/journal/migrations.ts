/** Numbered schema migrations: append only; a journal records the highest one applied. */
export const MIGRATIONS: { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE campaigns (
        id            TEXT PRIMARY KEY,
        digest        TEXT NOT NULL,
        csv_path      TEXT NOT NULL,
        template_path TEXT NOT NULL,
        state         TEXT NOT NULL,            -- planning | planned | sending | done
        rows          INTEGER NOT NULL DEFAULT 0,
        settings      TEXT NOT NULL,            -- JSON: encoding, phone column, prices, routes, sender
        created_at    TEXT NOT NULL,
        planned_at    TEXT,
        finished_at   TEXT
      );
      CREATE TABLE messages (
        id          INTEGER PRIMARY KEY,
        campaign_id TEXT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
        row         INTEGER NOT NULL,           -- 1-based CSV data row
        leg         INTEGER NOT NULL DEFAULT 0, -- 0 the message, 1 its fallback
        to_addr     TEXT,
        channel     TEXT,
        status      TEXT NOT NULL,
        reason      TEXT,
        parts       INTEGER NOT NULL DEFAULT 0,
        bytes       INTEGER NOT NULL DEFAULT 0,
        subject     TEXT,
        body        TEXT,
        cost_est    REAL NOT NULL DEFAULT 0,
        cost        REAL,
        provider    TEXT,
        provider_id TEXT,
        attempts    INTEGER NOT NULL DEFAULT 0,
        sent_at     TEXT,
        done_at     TEXT
      );
      CREATE UNIQUE INDEX messages_by_row ON messages(campaign_id, row, leg);
    `,
  },
  {
    version: 2,
    sql: `
      CREATE INDEX messages_by_provider_id ON messages(provider, provider_id) WHERE provider_id IS NOT NULL;
      -- every delivery report as received, matched or not: nothing a carrier says is dropped
      CREATE TABLE reports (
        id          INTEGER PRIMARY KEY,
        provider    TEXT NOT NULL,
        provider_id TEXT,
        message_key TEXT,
        message_id  INTEGER REFERENCES messages(id),
        status      TEXT NOT NULL,             -- delivered | failed
        code        TEXT,
        text        TEXT,
        reported_at TEXT,
        received_at TEXT NOT NULL,
        applied     INTEGER NOT NULL           -- 1: changed its message; 0: duplicate, late or unmatched
      );
      CREATE INDEX reports_by_message ON reports(message_id);
      CREATE TABLE locks (
        campaign_id TEXT PRIMARY KEY,
        pid         INTEGER NOT NULL,
        host        TEXT NOT NULL,
        command     TEXT NOT NULL,
        started_at  TEXT NOT NULL
      );
    `,
  },
  {
    version: 3,
    sql: `
      -- per-row template variables for channels whose provider substitutes them (AlimTalk, RCS): JSON
      ALTER TABLE messages ADD COLUMN vars TEXT;
      -- 1: an ad without night consent, never sent inside quiet hours
      ALTER TABLE messages ADD COLUMN defer_at_night INTEGER NOT NULL DEFAULT 0;
      -- the suppression list: numbers that asked not to be messaged (080 수신거부, MO "STOP", provider codes)
      CREATE TABLE optouts (
        phone      TEXT PRIMARY KEY,          -- normalised as messages.to_addr
        source     TEXT NOT NULL,             -- manual | import | mo | provider
        note       TEXT,
        created_at TEXT NOT NULL
      );
      -- messages recipients sent us (SMPP MO)
      CREATE TABLE inbound (
        id          INTEGER PRIMARY KEY,
        provider    TEXT NOT NULL,
        provider_id TEXT,
        from_addr   TEXT NOT NULL,
        to_addr     TEXT NOT NULL,
        text        TEXT NOT NULL,
        received_at TEXT NOT NULL,
        opted_out   INTEGER NOT NULL DEFAULT 0
      );
      -- A fallback leg (leg 1) is 'held' until its AlimTalk/RCS message (leg 0) settles: it goes
      -- when that failed (unless the number opted out), and is not needed when it was delivered.
      -- In the database, so no code path can settle a message and forget its leg.
      CREATE TRIGGER fallback_when_failed AFTER UPDATE OF status ON messages
        WHEN NEW.leg = 0 AND NEW.status = 'failed' AND OLD.status <> 'failed'
      BEGIN
        UPDATE messages SET status = CASE WHEN EXISTS (SELECT 1 FROM optouts WHERE phone = NEW.to_addr) THEN 'skipped' ELSE 'planned' END,
                            reason = CASE WHEN EXISTS (SELECT 1 FROM optouts WHERE phone = NEW.to_addr) THEN 'opted_out: the number opted out' ELSE NULL END
        WHERE campaign_id = NEW.campaign_id AND row = NEW.row AND leg = 1 AND status = 'held';
      END;
      CREATE TRIGGER fallback_not_needed AFTER UPDATE OF status ON messages
        WHEN NEW.leg = 0 AND NEW.status = 'delivered' AND OLD.status <> 'delivered'
      BEGIN
        UPDATE messages SET status = 'skipped', reason = 'fallback_unneeded: the ' || NEW.channel || ' message was delivered'
        WHERE campaign_id = NEW.campaign_id AND row = NEW.row AND leg = 1 AND status = 'held';
      END;
    `,
  },
  {
    version: 4,
    sql: `
      -- a message a provider split (SMPP) has one provider id per part; each part's receipt lands here,
      -- and the message is delivered when every part is, failed when any part failed
      CREATE TABLE message_parts (
        message_id  INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        part        INTEGER NOT NULL,           -- 1-based
        provider_id TEXT NOT NULL,
        status      TEXT,                       -- NULL until its report: delivered | failed
        reported_at TEXT,
        PRIMARY KEY (message_id, part)
      );
      CREATE INDEX message_parts_by_provider_id ON message_parts(provider_id);
    `,
  },
  {
    version: 5,
    sql: `
      -- the RCS kind decided at planning (sms | lms | mms | text_template | image_template; NULL on
      -- other channels): the provider sends what was planned and priced, never re-typing by length
      ALTER TABLE messages ADD COLUMN rcs_kind TEXT;
      -- RCS messages planned before this column went out typed by the provider: a template id made
      -- a text template, a subject or over 100 characters an LMS, the rest an SMS. Same here, so a
      -- campaign resumed across the upgrade sends what it would have.
      UPDATE messages SET rcs_kind = CASE
          WHEN (SELECT json_extract(settings, '$.rcs.templateId') FROM campaigns WHERE campaigns.id = messages.campaign_id) IS NOT NULL THEN 'text_template'
          WHEN subject IS NOT NULL OR bytes > 100 THEN 'lms'
          ELSE 'sms'
        END
      WHERE channel = 'rcs' AND leg = 0;
    `,
  },
  {
    version: 6,
    sql: `
      -- The campaign lifecycle: planning -> draft (planned, not confirmed) -> armed (the operator said
      -- send) -> done, and cancelled. A campaign planned before this was 'planned' whether a dry run
      -- made it or not: it becomes a draft, never sent by a bare \`ums resume\`. One whose sending had
      -- begun ('sending') was confirmed: armed.
      UPDATE campaigns SET state = CASE state WHEN 'planned' THEN 'draft' WHEN 'sending' THEN 'armed' ELSE state END;
      -- An AlimTalk/RCS message skipped when it was to be claimed (its number opted out after
      -- planning) takes its held fallback leg with it: the recipient gets neither.
      CREATE TRIGGER fallback_when_skipped AFTER UPDATE OF status ON messages
        WHEN NEW.leg = 0 AND NEW.status = 'skipped' AND OLD.status <> 'skipped'
      BEGIN
        UPDATE messages SET status = 'skipped', reason = NEW.reason
        WHERE campaign_id = NEW.campaign_id AND row = NEW.row AND leg = 1 AND status = 'held';
      END;
    `,
  },
  {
    version: 7,
    sql: `
      -- the recipient a report names (SMPP receipts), so a report kept before its message's ids were
      -- committed can be matched as carefully later as at once
      ALTER TABLE reports ADD COLUMN to_addr TEXT;
      -- Reports that matched no message yet (a receipt faster than the commit of its submit's answer):
      -- one row per spelling of the ids they name (ref_kind 'id') or the key they carry ('key'). When a
      -- message's provider id (and part ids) are committed, its early reports are found here and
      -- applied in the same transaction; a row goes once its report matched.
      CREATE TABLE early_reports (
        report_id INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
        provider  TEXT NOT NULL,
        ref_kind  TEXT NOT NULL,              -- id | key
        ref       TEXT NOT NULL
      );
      CREATE INDEX early_reports_by_ref ON early_reports(provider, ref_kind, ref);
      CREATE INDEX early_reports_by_report ON early_reports(report_id);
      INSERT INTO early_reports (report_id, provider, ref_kind, ref)
        SELECT id, provider, 'id', provider_id FROM reports WHERE message_id IS NULL AND provider_id IS NOT NULL AND provider_id <> '';
      INSERT INTO early_reports (report_id, provider, ref_kind, ref)
        SELECT id, provider, 'key', message_key FROM reports WHERE message_id IS NULL AND message_key IS NOT NULL AND message_key <> '';
    `,
  },
  {
    version: 8,
    sql: `
      -- Routes across providers (failover): each time a provider's waiting messages moved to another
      -- one of their route, how many, from and to whom, why, and since when the first one was failing
      CREATE TABLE route_moves (
        id          INTEGER PRIMARY KEY,
        campaign_id TEXT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
        channel     TEXT NOT NULL,
        from_provider TEXT NOT NULL,
        to_provider   TEXT NOT NULL,
        count       INTEGER NOT NULL,
        why         TEXT NOT NULL,              -- unavailable | fatal | route (the config changed)
        detail      TEXT,                       -- the provider's words (redacted)
        since       TEXT,                       -- when the provider began failing
        moved_at    TEXT NOT NULL
      );
      CREATE INDEX route_moves_by_campaign ON route_moves(campaign_id);
      -- No index of waiting messages by provider: a lane reads them in row order through
      -- messages_by_row, skipping the other lanes' rows, and an index maintained at every planned row
      -- cost planning a fifth of its speed (bench/plan, 1,000,000 rows).
    `,
  },
  {
    version: 9,
    sql: `
      -- The fallback leg's triggers (3 and 6), the same, fired by done_at instead of status. Every
      -- move of a message to an end (failed, delivered, skipped: statements of delivery.ts) writes
      -- its done_at, test/unit/transitions.test.ts holds them to it; a claim, a settle as sent, a
      -- release write none. SQLite ran each row's AFTER UPDATE OF status triggers, as sub-programs,
      -- for every row a claim or a settle moved, only to find their WHEN false: a fifth of those two
      -- statements' cost (bench/send.js's, counted by callgrind).
      DROP TRIGGER fallback_when_failed;
      DROP TRIGGER fallback_not_needed;
      DROP TRIGGER fallback_when_skipped;
      CREATE TRIGGER fallback_when_failed AFTER UPDATE OF done_at ON messages
        WHEN NEW.leg = 0 AND NEW.status = 'failed' AND OLD.status <> 'failed'
      BEGIN
        UPDATE messages SET status = CASE WHEN EXISTS (SELECT 1 FROM optouts WHERE phone = NEW.to_addr) THEN 'skipped' ELSE 'planned' END,
                            reason = CASE WHEN EXISTS (SELECT 1 FROM optouts WHERE phone = NEW.to_addr) THEN 'opted_out: the number opted out' ELSE NULL END
        WHERE campaign_id = NEW.campaign_id AND row = NEW.row AND leg = 1 AND status = 'held';
      END;
      CREATE TRIGGER fallback_not_needed AFTER UPDATE OF done_at ON messages
        WHEN NEW.leg = 0 AND NEW.status = 'delivered' AND OLD.status <> 'delivered'
      BEGIN
        UPDATE messages SET status = 'skipped', reason = 'fallback_unneeded: the ' || NEW.channel || ' message was delivered'
        WHERE campaign_id = NEW.campaign_id AND row = NEW.row AND leg = 1 AND status = 'held';
      END;
      CREATE TRIGGER fallback_when_skipped AFTER UPDATE OF done_at ON messages
        WHEN NEW.leg = 0 AND NEW.status = 'skipped' AND OLD.status <> 'skipped'
      BEGIN
        UPDATE messages SET status = 'skipped', reason = NEW.reason
        WHERE campaign_id = NEW.campaign_id AND row = NEW.row AND leg = 1 AND status = 'held';
      END;
    `,
  },
];
