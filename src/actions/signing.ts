// The backup actions' sign_with input, one way for all four: the shell's SIGN_WITH (lib/backup.sh
// signs the manifest with it and the verification checks the stored signature) and ssh-keygen.

/** `SIGN_WITH`: the path of the ed25519 private key that signs the manifest; empty: unsigned. */
export const signingValues = (input: { sign_with?: string }): { SIGN_WITH: string } => ({ SIGN_WITH: input.sign_with ?? '' });

/** ssh-keygen signs and checks the signature, when the backup is signed. */
export const signingRequires = (input: { sign_with?: string }): string[] => (input.sign_with ? ['ssh-keygen'] : []);

/**
 * The public key production.yaml carries as an example for backup_public_key. Nobody has its private
 * key: restores that trusted it could never accept a backup, so it is refused like the example age
 * recipient (secrets.backup's EXAMPLE_RECIPIENT).
 */
export const EXAMPLE_SIGNER = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILw6Zc0bIoBwurg/S7WdGfq8UZi8DXjQqET1YCAJ3Ack runbook-example';

/** Why public key lines cannot be trusted signers, or undefined: the example key of the shipped runbooks. */
export const exampleSignerProblem = (lines: string): string | undefined =>
  lines.includes(EXAMPLE_SIGNER.split(' ')[1]!)
    ? `holds the example public key shipped with the runbooks, whose private key nobody has: make your own (ssh-keygen -t ed25519 -N '' -f /etc/runbook/backup-signing-key) and put its .pub line in backup_public_key`
    : undefined;
