# files.backup: the manifest's own fields, from --arg source and --slurpfile listing (the listing that
# held across a whole copy-and-check: files-backup-list.jq; its clashes are empty by then).
{source: {path: $source}} + ($listing[0] | del(.clashes))
