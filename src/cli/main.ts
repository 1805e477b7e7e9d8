#!/usr/bin/env node
/**
 * The `exai-mcp` command. No arguments: serve MCP over stdio (what an IDE launches). `http`: serve over
 * Streamable HTTP. `ask`: one prompt from the terminal. `doctor`: check the setup. Exit codes: 0 ok, 1 failure, 2 bad usage or
 * configuration.
 */
import { packageVersion } from '../server/version.js';

export const USAGE = `Usage: exai-mcp [command] [options]

Commands:
  (none), stdio               serve MCP over stdio (what Claude Code, Cursor or VS Code launch)
  http [--host H] [--port P]  serve MCP over Streamable HTTP at http://H:P/mcp
                              (default 127.0.0.1:8079; EXAI_HTTP_HOST / EXAI_HTTP_PORT)
  ask "<prompt>" [options]    send one prompt to a model from the terminal (exai-mcp ask --help)
  doctor [options]            check settings, keys, provider connectivity and the store (exai-mcp doctor --help)

Options:
  -h, --help     show this help
  -v, --version  print the version

Settings come from the environment and from a .env file in the working directory
(GLM_API_KEY, KIMI_API_KEY, timeouts, EXAI_*); see the README's configuration table.`;

/**
 * Each command loads its modules when it runs: an IDE spawning the stdio server waits for its answer to
 * initialize, so nothing only the HTTP server, `ask` or `doctor` use is loaded on that path.
 */
async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case 'stdio': {
      // Read while the server loads, and an initialize answered at once: the IDE waits for it (see
      // server/stdio-early.ts). Not in a terminal, where a person typing has no use for it.
      const early =
        rest.length === 0 && !process.stdin.isTTY
          ? (await import('../server/stdio-early.js')).readStdioEarly(packageVersion())
          : undefined;
      const code = await (await import('./serve.js')).runStdio(rest, early);
      // Reading early opened stdin, which holds the process open even paused: release it, or a server that
      // could not start would never exit.
      if (early) process.stdin.destroy();
      return code;
    }
    case 'http':
      return (await import('./serve.js')).runHttp(rest);
    case 'ask':
      return (await import('./ask.js')).runAsk(rest);
    case 'doctor':
      return (await import('./doctor.js')).runDoctor(rest);
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(`${USAGE}\n`);
      return 0;
    case '-v':
    case '--version':
      process.stdout.write(`${packageVersion()}\n`);
      return 0;
    default: {
      const what = command.startsWith('-') ? 'option' : 'command';
      process.stderr.write(`exai-mcp: unknown ${what} "${command}".\n\n${USAGE}\n`);
      return 2;
    }
  }
}

main(process.argv.slice(2)).then(
  code => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`exai-mcp: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
