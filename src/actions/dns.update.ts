// dns.update: points records at this server — RFC 2136 (nsupdate with a TSIG key) or the Hetzner
// DNS API — and waits until the zone's authoritative server answers exactly the new values.
import { usageError } from '../errors.js';
import type { DnsUpdateInput } from '../runbook/schema.generated.js';
import { shellAssignments, shellQuote } from '../shell/quote.js';
import type { Action, ExpandContext } from './action.js';

type DnsRecord = DnsUpdateInput['records'][number];

const defaultTtl = 300;
const defaultApiUrl = 'https://dns.hetzner.com/api/v1';

// Record names and values end up in an nsupdate script (one command per line) and in an unquoted
// here-document, so a newline, `$`, backquote or backslash could smuggle in commands: refused.
const unsafeInScript = /[\n\r$`\\]/;
const plainName = /^(@|\*|[A-Za-z0-9_*]([A-Za-z0-9_.-]*[A-Za-z0-9_.])?)$/;

const fail = (step: string, message: string) => usageError(`step ${step}: dns.update: ${message}`);

/** `crm` → `crm.$ZONE`; `@` → `$ZONE`; an absolute `crm.example.com.` stays as it is. */
const fqdnInShell = (name: string): string => (name === '@' ? '$ZONE' : name.endsWith('.') ? name : `${name}.$ZONE`);

/** What `dig +short` prints for a record that holds `value`. */
const expectedAnswer = (record: DnsRecord): string => {
  if (record.type === 'TXT') return record.value.startsWith('"') ? record.value : `"${record.value}"`;
  if (record.type === 'CNAME' || record.type === 'MX') return record.value.endsWith('.') ? record.value : `${record.value}.`;
  return record.value;
};

/** The value as nsupdate wants it: TXT data quoted. */
const nsupdateValue = (record: DnsRecord): string =>
  record.type === 'TXT' && !record.value.startsWith('"') ? `"${record.value}"` : record.value;

/** The API wants names relative to the zone (`@` for its apex). */
const hetznerName = (name: string, zone: string): string => {
  const apex = `${zone.replace(/\.$/, '')}.`;
  if (name === apex) return '@';
  return name.endsWith(`.${apex}`) ? name.slice(0, -apex.length - 1) : name;
};

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

/** The assignments that open the text; the API flavour talks to no DNS server itself. */
const head = (input: DnsUpdateInput, withServer = true, extra: Record<string, string | undefined> = {}) =>
  shellAssignments({
    ...(withServer ? { SERVER: input.server, PORT: String(input.port ?? 53) } : {}),
    ZONE: input.zone.replace(/\.$/, ''),
    ...extra,
  });

const nsupdateRun = (input: DnsUpdateInput): string => {
  const lines = [head(input)];
  const keyed = input.key_secret !== undefined;
  if (keyed) {
    lines.push(
      '# The TSIG key goes to a private temporary file, never onto the command line.',
      'keyfile=$(mktemp)',
      `trap 'rm -f "$keyfile"' EXIT`,
      `(umask 077; printf '%s\\n' "$${input.key_secret}" > "$keyfile")`,
    );
  }
  lines.push(`nsupdate${keyed ? ' -k "$keyfile"' : ''} <<EOF`, 'server $SERVER $PORT', 'zone $ZONE');
  for (const record of input.records) {
    const name = fqdnInShell(record.name);
    lines.push(
      `update delete ${name} ${record.type}`,
      `update add ${name} ${record.ttl ?? defaultTtl} ${record.type} ${nsupdateValue(record)}`,
    );
  }
  lines.push('send', 'EOF');
  return lines.join('\n');
};

const hetznerRun = (input: DnsUpdateInput): string => {
  const lines = [
    head(input, false, { API_URL: (input.api_url ?? defaultApiUrl).replace(/\/$/, '') }),
    '# The API token goes to a private header file, never onto the command line.',
    'headers=$(mktemp)',
    `trap 'rm -f "$headers"' EXIT`,
    `(umask 077; printf 'Auth-API-Token: %s\\n' "$${input.token_secret}" > "$headers")`,
    'api() { curl -sS --fail-with-body --max-time 30 -H @"$headers" "$@"; }',
    `zone_id=$(api "$API_URL/zones?name=$ZONE" | jq -r --arg zone "$ZONE" '.zones[] | select(.name == $zone) | .id')`,
    '[ -n "$zone_id" ] || { echo "zone $ZONE not found in the DNS API" >&2; exit 1; }',
    'set_record() {  # NAME TYPE VALUE TTL: update the record if it exists, else create it',
    '  local body id',
    `  body=$(jq -nc --arg zone_id "$zone_id" --arg name "$1" --arg type "$2" --arg value "$3" --argjson ttl "$4" \\`,
    `    '{zone_id: $zone_id, name: $name, type: $type, value: $value, ttl: $ttl}')`,
    `  id=$(api "$API_URL/records?zone_id=$zone_id" | jq -r --arg name "$1" --arg type "$2" \\`,
    `    'first(.records[] | select(.name == $name and .type == $type) | .id) // empty')`,
    '  if [ -n "$id" ]; then',
    `    api -X PUT -H 'Content-Type: application/json' --data "$body" "$API_URL/records/$id" > /dev/null`,
    '  else',
    `    api -X POST -H 'Content-Type: application/json' --data "$body" "$API_URL/records" > /dev/null`,
    '  fi',
    '  echo "set $1 $2 $3"',
    '}',
  ];
  for (const record of input.records) {
    lines.push(
      `set_record ${[hetznerName(record.name, input.zone), record.type, record.value, record.ttl ?? defaultTtl].map(shellQuote).join(' ')}`,
    );
  }
  return lines.join('\n');
};

const digVerify = (input: DnsUpdateInput): string => {
  const lines = [head(input)];
  if (input.server === undefined) {
    lines.push(
      "# No server given: ask the first of the zone's name servers.",
      'SERVER=$(dig +short NS "$ZONE" | head -n 1)',
      '[ -n "$SERVER" ] || { echo "no name server found for $ZONE" >&2; exit 1; }',
    );
  }
  lines.push(
    'expect_answer() {  # NAME TYPE VALUE: the authoritative server answers exactly VALUE',
    '  local answer',
    '  if ! answer=$(dig @"$SERVER" -p "$PORT" +short +norecurse "$1" "$2"); then',
    '    echo "$1 $2: no answer from $SERVER port $PORT: $answer" >&2',
    '    return 1',
    '  fi',
    '  if [ "$answer" != "$3" ]; then',
    `    echo "$1 $2: $SERVER answers '$answer', expected '$3'" >&2`,
    '    return 1',
    '  fi',
    '  echo "$1 $2 $answer"',
    '}',
  );
  for (const record of input.records) {
    const name = fqdnInShell(record.name);
    lines.push(`expect_answer "${name}" ${record.type} ${shellQuote(expectedAnswer(record))}`);
  }
  return lines.join('\n');
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
    return {
      run: input.provider === 'hetzner' ? hetznerRun(input) : nsupdateRun(input),
      // Secondaries and caches lag; the primary usually answers within seconds of the update.
      verify: { run: digVerify(input), retries: 30, interval: '2s', timeout: '10s' },
    };
  },
};
