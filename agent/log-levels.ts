// The agent's log levels, for --log-level (cli-command.ts) and a config file's `log_level`
// (config.ts): one list, in a module light enough for the CLI to load at start-up.

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'];
