import { Command, CommanderError } from 'commander';
import { exitCodeFor, FaultError, InputError, LockedError } from '../errors.js';
import { setLang } from '../i18n/index.js';
import { registerCampaigns } from './campaigns.js';
import { registerCancel } from './cancel.js';
import { type Cli, EXIT, OutputClosed, processCli } from './context.js';
import { registerExport } from './export.js';
import { forTerminal } from './format.js';
import { registerInbox } from './inbox.js';
import { registerInit } from './init.js';
import { earlyLang, errorText, helpText, langFlag, localiseHelp } from './lang.js';
import { registerListen } from './listen.js';
import { registerOptout } from './optout.js';
import { registerReport } from './report.js';
import { registerResume } from './resume.js';
import { registerSend } from './send.js';
import { usageErrorText } from './usageErrors.js';

export async function main(argv: string[], given?: Cli): Promise<number> {
  let cli: Cli;
  try {
    cli = given ?? processCli();
  } catch (err) {
    // UMS_NOW that is not a time: an input error like any other, in the language of the run
    const fallback = processCli(false);
    try {
      setLang(earlyLang(argv, fallback.env, fallback.cwd));
    } catch {
      // a bad --lang too: the UMS_NOW line in English
    }
    return reportError(err, fallback);
  }
  // the language before commander: descriptions (--help) are set as the commands are registered
  try {
    setLang(earlyLang(argv, cli.env, cli.cwd));
    cli.langFlag = langFlag(argv);
  } catch (err) {
    return reportError(err, cli); // --lang fr: one line naming the flag, exit 2
  }
  let exitCode: number = EXIT.ok;
  const setExit = (code: number): void => {
    exitCode = code;
  };
  const program = new Command();
  localiseHelp(program);
  program
    .name('ums')
    .description(
      'Unified messaging for Korean businesses: SMS, LMS, MMS, AlimTalk and RCS campaigns from a CSV',
    )
    .version('0.1.0', '-V, --version', helpText('output the version number'))
    .helpOption('-h, --help', helpText('display help for command'))
    .option('--lang <lang>', "language of what ums prints: ko or en (default: the config's lang:, else LANG)")
    .exitOverride()
    .configureOutput({
      writeOut: (s) => cli.out(s.trimEnd()),
      writeErr: (s) => cli.err(s.trimEnd()),
      outputError: (s, write) => write(usageErrorText(s)),
    })
    .showHelpAfterError(helpText('(run `ums --help` for usage)'));
  registerSend(program, cli, setExit);
  registerResume(program, cli, setExit);
  registerCancel(program, cli, setExit);
  registerReport(program, cli, setExit);
  registerExport(program, cli, setExit);
  registerCampaigns(program, cli, setExit);
  registerOptout(program, cli, setExit);
  registerInit(program, cli, setExit);
  registerInbox(program, cli, setExit);
  registerListen(program, cli, setExit);
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (err) {
    return reportError(err, cli);
  }
}

/** The one place an error becomes a line on stderr and an exit code: never a stack trace. */
function reportError(err: unknown, cli: Cli): number {
  if (err instanceof CommanderError) {
    if (
      err.code === 'commander.helpDisplayed' ||
      err.code === 'commander.version' ||
      err.code === 'commander.help'
    )
      return EXIT.ok;
    return EXIT.input; // commander already printed the message
  }
  if (err instanceof OutputClosed) {
    // `ums ... | head`: the reader has what it wanted; anything else (a full disk under `> file`) is a fault
    if (err.code === 'EPIPE') return EXIT.ok;
    cli.err(`ums: ${err.message}`);
    return EXIT.fault;
  }
  // messages quote what the user gave (CSV values, header names, file names): masked and escaped
  if (err instanceof InputError || err instanceof LockedError || err instanceof FaultError) {
    cli.err(`ums: ${forTerminal(errorText(err.message, err.localised))}`);
    return exitCodeFor(err);
  }
  const e = err as NodeJS.ErrnoException;
  const message = e?.message ?? String(err);
  // Node's messages often start with their code already (`EISDIR: illegal operation…`): say it once
  cli.err(
    `ums: ${forTerminal(`${e?.code && !message.startsWith(`${e.code}:`) && !message.startsWith(`${e.code} `) ? `${e.code}: ` : ''}${message}`)}`,
  );
  if (cli.env.UMS_DEBUG) cli.err(String(e?.stack));
  return exitCodeFor(err);
}
