# files.backup: the manifest's own fields, from --arg source and --slurpfile files (the listing that
# held across a whole copy-and-check).
{source: {path: $source}, files: $files[0]}
