// The backup actions' sign_with input, one way for all four: the shell's SIGN_WITH (lib/backup.sh
// signs the manifest with it and the verification checks the stored signature) and ssh-keygen.

/** `SIGN_WITH`: the path of the ed25519 private key that signs the manifest; empty: unsigned. */
export const signingValues = (input: { sign_with?: string }): { SIGN_WITH: string } => ({ SIGN_WITH: input.sign_with ?? '' });

/** ssh-keygen signs and checks the signature, when the backup is signed. */
export const signingRequires = (input: { sign_with?: string }): string[] => (input.sign_with ? ['ssh-keygen'] : []);
