/** PATH inside the sandbox. */
export const sandboxPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** HOME inside the sandbox: a fresh directory on the sandbox's private /tmp. */
export const sandboxHome = "/tmp/home";

/** TERM for PTY sessions when the caller does not choose one. */
const defaultTerm = "xterm-256color";

/**
 * The complete environment of a sandboxed command: nothing is inherited from Kiln's own process.
 * Sandboxed git runs as a different uid than the repository's owner, so its ownership check
 * (`safe.directory`) is satisfied here, through command-scope config that only this process sees.
 */
export function sandboxEnv(tty: boolean, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: sandboxPath,
    HOME: sandboxHome,
    LANG: "C.UTF-8",
    ...(tty ? { TERM: defaultTerm } : {}),
    GIT_CONFIG_COUNT: "1",
    GIT_CONFIG_KEY_0: "safe.directory",
    GIT_CONFIG_VALUE_0: "*",
    ...extra,
  };
}

// What a host command (danger-full-access) keeps from Kiln's environment: identity, locale, terminal,
// temp dirs and the network plumbing (proxies, CA bundles) that tools need to reach anything. API keys
// and other secrets in Kiln's environment are not passed on.
const hostNames = new Set([
  "PATH",
  "HOME",
  "USER",
  "USERNAME",
  "LOGNAME",
  "SHELL",
  "LANG",
  "LANGUAGE",
  "TZ",
  "TERM",
  "COLORTERM",
  "TMPDIR",
  "TEMP",
  "TMP",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "ALL_PROXY",
  "http_proxy",
  "https_proxy",
  "no_proxy",
  "all_proxy",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
  "NODE_EXTRA_CA_CERTS",
  "REQUESTS_CA_BUNDLE",
  "CURL_CA_BUNDLE",
  "GIT_SSL_CAINFO",
]);

/** The environment of a host command: the sane subset of `parent`, then `extra`. */
export function hostEnv(
  parent: Record<string, string | undefined>,
  tty: boolean,
  extra: Record<string, string> = {},
): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(parent)) {
    if (value !== undefined && (hostNames.has(name) || name.startsWith("LC_"))) kept[name] = value;
  }
  if (tty && kept.TERM === undefined) kept.TERM = defaultTerm;
  if (kept.PATH === undefined) kept.PATH = sandboxPath;
  return { ...kept, ...extra };
}
