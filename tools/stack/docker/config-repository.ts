// The stack's configuration repository, as an operator keeps it on the server (/opt/stack in
// production.yaml): compose.yaml and Supabase's init script committed, the secrets in an untracked
// .env beside them that Compose reads. The services: the four databases, and an application
// stand-in for each (health-standin.sh) that reaches its database through the socket folder they
// share as a volume (the engine here has no bridge network) and answers its health check on a
// loopback port only when its data is there.
import { randomSecret } from '../server-config.js';

export const LABEL = 'dev.runbook.test-stack';

/** An application stand-in: the database it reads, the tables that must hold rows, its files. */
export interface Application {
  service: string;
  /** The database container whose socket it shares. */
  database: string;
  user: string;
  dbname: string;
  tables: string[];
  /** A volume mounted at /data, the files that must be there, and a folder of bare repositories. */
  volume?: { name: string; subdir?: string; files?: string[]; repositories?: string };
  /** The prefix of its .env variables: PREFIX_HEALTH_PORT, PREFIX_MIN_FILES (how many files at least). */
  prefix: string;
}

export const DATABASE_SERVICES = ['supabase-db', 'twenty-db', 'gitea-db', 'dam-db'] as const;

/** Named volumes: the databases' data and socket folders, the applications' files. */
export const stackVolumes = (): string[] => [
  ...DATABASE_SERVICES.flatMap((db) => [`${db.replace(/-db$/, '')}_db_data`, `${db.replace(/-db$/, '')}_db_run`]),
  'gitea_data',
  'supabase_storage',
  'dam_data',
];

const appTables = ['core.workspace', 'core.record', 'metadata.event'];

export const APPLICATIONS: Application[] = [
  {
    service: 'supabase-rest',
    database: 'supabase-db',
    user: 'supabase_admin',
    dbname: 'postgres',
    tables: ['auth.users', 'storage.objects', 'public.profiles', 'public.todos'],
    volume: { name: 'supabase_storage' },
    prefix: 'SUPABASE',
  },
  { service: 'twenty-server', database: 'twenty-db', user: 'twenty', dbname: 'twenty', tables: appTables, prefix: 'TWENTY' },
  {
    service: 'gitea',
    database: 'gitea-db',
    user: 'gitea',
    dbname: 'gitea',
    tables: appTables,
    volume: { name: 'gitea_data', files: ['gitea/conf/app.ini', 'ssh/ssh_host_ed25519_key'], repositories: 'git/repositories' },
    prefix: 'GITEA',
  },
  {
    service: 'dam',
    database: 'dam-db',
    user: 'dam',
    dbname: 'dam',
    tables: appTables,
    volume: { name: 'dam_data', subdir: 'originals' },
    prefix: 'DAM',
  },
];

const databaseService = (name: string, user: string, dbname: string, image: string, init?: string): string[] => {
  const short = name.replace(/-db$/, '');
  return [
    `  ${name}:`,
    `    image: ${image}`,
    `    container_name: ${name}`,
    `    network_mode: none`,
    `    stop_signal: SIGINT`,
    `    labels: { ${LABEL}: "yes" }`,
    `    environment:`,
    `      POSTGRES_USER: ${user}`,
    `      POSTGRES_DB: ${dbname}`,
    `      POSTGRES_PASSWORD: \${${short.toUpperCase()}_DB_PASSWORD}`,
    `    volumes:`,
    `      - ${short}_db_data:/var/lib/postgresql/data`,
    `      - ${short}_db_run:/var/run/postgresql`,
    ...(init ? [`      - ${init}:/docker-entrypoint-initdb.d/${short}.sql:ro`] : []),
  ];
};

const applicationService = (app: Application, image: string): string[] => [
  `  ${app.service}:`,
  `    image: ${image}`,
  `    container_name: ${app.service}`,
  `    entrypoint: ["/usr/local/bin/health-standin"]`,
  `    command: ["serve"]`,
  `    network_mode: host`,
  `    labels: { ${LABEL}: "yes" }`,
  `    depends_on: [${app.database}]`,
  `    environment:`,
  `      HEALTH_PORT: \${${app.prefix}_HEALTH_PORT}`,
  `      PGHOST: /var/run/postgresql`,
  `      PGUSER: ${app.user}`,
  `      PGDATABASE: ${app.dbname}`,
  `      HEALTH_TABLES: ${app.tables.join(' ')}`,
  ...(app.volume
    ? [
        `      HEALTH_DIR: /data${app.volume.subdir ? `/${app.volume.subdir}` : ''}`,
        `      HEALTH_MIN_FILES: \${${app.prefix}_MIN_FILES}`,
        `      HEALTH_FILES: "${(app.volume.files ?? []).join(' ')}"`,
        ...(app.volume.repositories
          ? [`      HEALTH_REPOSITORIES: ${app.volume.repositories}`, `      HEALTH_MIN_REPOSITORIES: \${${app.prefix}_MIN_REPOSITORIES}`]
          : []),
      ]
    : []),
  `    volumes:`,
  `      - ${app.database.replace(/-db$/, '')}_db_run:/var/run/postgresql`,
  ...(app.volume ? [`      - ${app.volume.name}:/data:ro`] : []),
];

/** compose.yaml: every service, and the volumes under the names production.yaml's paths use. */
export const composeFile = (image: string): string =>
  [
    '# The stack of the Docker test machine: four PostgreSQL containers and the applications on them.',
    'version: "3.8"',
    'services:',
    ...databaseService('supabase-db', 'supabase_admin', 'postgres', image, './supabase/init.sql'),
    ...databaseService('twenty-db', 'twenty', 'twenty', image),
    ...databaseService('gitea-db', 'gitea', 'gitea', image),
    ...databaseService('dam-db', 'dam', 'dam', image),
    ...APPLICATIONS.flatMap((app) => applicationService(app, image)),
    // The worker has no health endpoint: it only has to run.
    '  twenty-worker:',
    `    image: ${image}`,
    '    container_name: twenty-worker',
    '    entrypoint: ["/bin/sleep", "infinity"]',
    '    network_mode: none',
    `    labels: { ${LABEL}: "yes" }`,
    '    depends_on: [twenty-db]',
    'volumes:',
    ...stackVolumes().flatMap((volume) => [`  ${volume}:`, `    name: ${volume}`, `    labels: { ${LABEL}: "yes" }`]),
    '',
  ].join('\n');

/**
 * The stack's secrets as Compose reads them: database passwords, Supabase's JWT secret; and what
 * this machine chose: the health ports, and how many files each application finds after the seed.
 */
export const envFile = (secrets: Record<string, string>, settings: Record<string, number>): string =>
  [
    'COMPOSE_PROJECT_NAME=stack',
    ...Object.entries(secrets).map(([name, value]) => `${name}=${value}`),
    ...Object.entries(settings).map(([name, value]) => `${name}=${value}`),
    '',
  ].join('\n');

/** New passwords and a JWT secret for one stack. */
export const stackSecrets = (): Record<string, string> => ({
  ...Object.fromEntries(DATABASE_SERVICES.map((db) => [`${db.replace(/-db$/, '').toUpperCase()}_DB_PASSWORD`, randomSecret('pw')])),
  SUPABASE_JWT_SECRET: randomSecret('jwt'),
});
