/**
 * English, the catalog every other language is checked against (test/unit/i18n.test.ts): one key per
 * line a person reads; `{name}` is filled from the parameters given to `t()`. JSON keys and codes are
 * never translated and never come from here.
 */
export const en = {
  'lang.name': 'English',

  // --- issue 15, Korean output: places, errors, help ---
  'at.row': 'row {n}',
  'at.line': 'line {n}',
  'at.column': 'column {n}',
  'at.columnName': 'column "{name}"',
  'err.langFlag': '--lang "{value}": use ko or en',
  'err.configLang': '{file}: lang "{value}": use ko or en',
  'help.defaultIs': '(default: ',
  'help.choicesAre': '(choices: ',
  'help.program':
    'Unified messaging for Korean businesses: SMS, LMS, MMS, AlimTalk and RCS campaigns from a CSV',
  'help.lang': "language of what ums prints: ko or en (default: the config's lang:, else LANG)",
  'help.version': 'output the version number',
  'help.help': 'display help for command',
  'help.afterError': '(run `ums --help` for usage)',
  'help.title.usage': 'Usage:',
  'help.title.options': 'Options:',
  'help.title.commands': 'Commands:',
  'help.title.arguments': 'Arguments:',
  'help.title.global': 'Global Options:',
  'help.send': 'plan a campaign from a recipient CSV and a template, then send it',
  'help.send.template': 'message template (YAML front matter + body)',
  'help.send.campaign': 'campaign id (default: a digest of the CSV and template)',
  'help.provider': 'send every channel through this provider',
  'help.send.tps': "override the provider's messages-per-second (parts)",
  'help.send.dryRun': 'plan and show the plan; send nothing',
  'help.send.encoding': 'CSV encoding: auto, utf8 or cp949',
  'help.send.phoneColumn': 'the column holding phone numbers',
  'help.send.limit': 'send at most N messages in this run (the rest stay planned for the next run)',
  'help.json': 'print one JSON document on stdout',
  'help.send.yes': 'do not ask for confirmation',
  'help.send.config': 'config file (default ./ums.config.yaml)',
  'help.send.db': 'journal file (default from the config, ./.ums/journal.db)',
  'help.send.csv': 'recipient list: a header row, one recipient per row',
  'help.resume':
    'continue an interrupted campaign (default: every armed unfinished one, oldest first); never sends a row twice, never a draft',
  'help.resume.tps': "override the provider's parts per second",
  'help.resume.limit': 'send at most N messages in this run',
  'help.resume.resendUnknown':
    'resend rows whose outcome is unknown and cannot be looked up (may duplicate them)',
  'help.config': 'config file',
  'help.db': 'journal file',
  'help.campaignId': 'campaign id',
  'help.cancel':
    'cancel a campaign: rows not yet sent become `cancelled` and nothing sends them; rows already with a provider keep their state',
  'help.campaignIdSee': 'campaign id (see `ums campaigns`)',
  'help.report': 'what happened: totals by status and channel, costs, delivery rate and lag, failures',
  'help.report.sync': 'first pull delivery reports from providers that are polled',
  'help.report.failed': 'list the rows that did not go out (numbers masked)',
  'help.report.campaign': 'campaign id (default: the latest)',
  'help.export': 'one row per recipient (and fallback leg), full phone numbers',
  'help.export.format':
    'csv (UTF-8 with BOM, for Excel), json or xlsx (default: xlsx for -o *.xlsx, else csv)',
  'help.export.encoding': 'CSV only: utf8 (with BOM) or cp949 (older Korean Excel)',
  'help.export.excelText':
    'CSV only: write numbers with a leading 0 (phone numbers) as ="010..." so Excel keeps the 0',
  'help.export.output': 'write here (created 0600) instead of stdout',
  'help.campaigns': 'list the campaigns in the journal: date, files, state and counts',
  'help.optout': 'the suppression list: numbers that are never messaged (skipped at planning)',
  'help.optout.add': 'add numbers (any format)',
  'help.optout.note': 'why',
  'help.optout.remove': 'remove numbers',
  'help.optout.list': 'the list (numbers masked; --json gives them whole)',
  'help.optout.json': 'one JSON document',
  'help.optout.import':
    'add every number of a CSV (phone column) or a plain list, one per line; FILE may be a pipe, or - for stdin',
  'help.init': 'write an example config, template and recipient CSV into the current folder',
  'help.inbox': 'list messages recipients sent us (SMPP MO), newest first; opt-out replies are marked',
  'help.inbox.limit': 'show at most N messages',
  'help.listen':
    'receive provider webhooks (delivery reports) at /hooks/<provider name> and store them in the journal; answers 200 once they are committed',
  'help.listen.port': 'port to listen on (0: any free port)',
  'help.listen.host': 'address to bind (put a TLS proxy in front for the internet)',
  'help.listen.provider': 'serve only this provider (default: every configured provider that has a webhook)',
  'help.listen.maxBody': 'largest request body accepted',
} as const;

export type MessageKey = keyof typeof en;
