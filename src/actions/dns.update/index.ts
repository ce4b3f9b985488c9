// dns.update: points records at this server — RFC 2136 (nsupdate with a TSIG key) or the Hetzner
// DNS API — and waits until the zone's authoritative server answers exactly the new values. The
// shell is run.sh, verify.sh and records.sh beside this file.
import { usageError } from '../../errors.js';
import type { DnsUpdateInput } from '../../runbook/schema.generated.js';
import { callShell, type Action, type ExpandContext } from '../action.js';

type DnsRecord = DnsUpdateInput['records'][number];

const defaultTtl = 300;
const defaultApiUrl = 'https://dns.hetzner.com/api/v1';

// Record names and values end up in RECORDS (one record a line) and in an nsupdate script (one
// command per line), so a newline could smuggle in commands; `$`, backquote and backslash (nsupdate's
// escape) are refused too, as they were when the script was an unquoted here-document.
const unsafeInScript = /[\n\r$`\\]/;
const plainName = /^(@|\*|[A-Za-z0-9_*]([A-Za-z0-9_.-]*[A-Za-z0-9_.])?)$/;

const fail = (step: string, message: string) => usageError(`step ${step}: dns.update: ${message}`);

const checkInput = (input: DnsUpdateInput, context: ExpandContext): void => {
  const step = context.stepId;
  if (!plainName.test(input.zone.replace(/\.$/, ''))) throw fail(step, `zone '${input.zone}' is not a domain name`);
  if (input.server !== undefined && !/^[A-Za-z0-9:._-]+$/.test(input.server))
    throw fail(step, `server '${input.server}' is not a host name or address`);
  if (!/^\d+$/.test(String(input.port ?? 53))) throw fail(step, `port '${input.port}' is not a number`);
  const seen = new Set<string>();
  for (const record of input.records) {
    if (!plainName.test(record.name)) throw fail(step, `record name '${record.name}' is not a relative name, '@' or an absolute name`);
    if (unsafeInScript.test(record.value) || (record.type === 'TXT' && /"/.test(record.value.replace(/^"(.*)"$/, '$1'))))
      throw fail(step, `record ${record.name} ${record.type}: the value may not contain a newline, $, \`, \\ or an inner "`);
    const key = `${record.name} ${record.type}`;
    // Each name+type is replaced as a whole (delete, then add), so a second value would delete the first.
    if (seen.has(key)) throw fail(step, `record ${key} is listed twice; one value per name and type`);
    seen.add(key);
  }
  for (const [field, name] of [
    ['key_secret', input.key_secret],
    ['token_secret', input.token_secret],
  ] as const) {
    if (name !== undefined && !context.secrets.includes(name))
      throw fail(step, `${field} '${name}' is not a declared secret; add it to the runbook's secrets`);
  }
  if (input.provider === 'hetzner' && input.token_secret === undefined)
    throw fail(step, 'provider hetzner needs token_secret (the secret holding the API token)');
  if (input.provider === 'rfc2136' && input.server === undefined)
    throw fail(step, "provider rfc2136 needs server (the zone's primary server)");
};

/** One record a line, "NAME TTL TYPE VALUE" as in a zone file: the RECORDS the shell reads (records.sh). */
const recordLines = (records: readonly DnsRecord[]): string =>
  records.map((record) => `${record.name} ${record.ttl ?? defaultTtl} ${record.type} ${record.value}`).join('\n');

/** A secret's value for the shell: a reference to the environment variable, never the value. */
const fromSecret = (variable: string, secret: string): string => `${variable}="\${${secret}}"`;

/** What run and verify share: the zone and its records. */
const zoneInputs = (input: DnsUpdateInput) => ({
  PORT: String(input.port ?? 53),
  ZONE: input.zone.replace(/\.$/, ''),
  RECORDS: recordLines(input.records),
});

/** rfc2136 sends one update to the zone's server, signed when a key is given; hetzner talks to its API only. */
const runText = (input: DnsUpdateInput): string => {
  const { PORT, ZONE, RECORDS } = zoneInputs(input);
  if (input.provider === 'hetzner') {
    const apiUrl = (input.api_url ?? defaultApiUrl).replace(/\/$/, '');
    return callShell('rb_dns_update_run', { PROVIDER: 'hetzner', ZONE, API_URL: apiUrl, RECORDS }, [
      fromSecret('API_TOKEN', input.token_secret!),
    ]);
  }
  const key = input.key_secret;
  return callShell(
    'rb_dns_update_run',
    { PROVIDER: 'rfc2136', SERVER: input.server, PORT, ZONE, RECORDS, ...(key ? {} : { TSIG_KEY: '' }) },
    key ? [fromSecret('TSIG_KEY', key)] : [],
  );
};

export const dnsUpdate: Action<DnsUpdateInput> = {
  name: 'dns.update',
  description: 'Sets DNS records through RFC 2136 (nsupdate with a TSIG key) or the Hetzner DNS API.',
  verifies: "The zone's authoritative server answers exactly the new value of every record.",
  requires: (input) => (input.provider === 'hetzner' ? ['curl', 'jq', 'dig'] : ['nsupdate', 'dig']),
  // Repointing a name is reversible and loses no data; recover-full asks for confirmation anyway.
  destructive: () => false,
  expand: (input, context) => {
    checkInput(input, context);
    // Secondaries and caches lag; the primary usually answers within seconds of the update.
    const verify = callShell('rb_dns_update_verify', { SERVER: input.server ?? '', ...zoneInputs(input) });
    return { run: runText(input), verify: { run: verify, retries: 30, interval: '2s', timeout: '10s' } };
  },
};
