# secrets.backup verify: how a secrets manifest (the input) differs from the step's inputs, $files
# (the listed paths) and $recipients: its entries must be exactly the listed files, each once, and
# its recipients exactly the listed keys. One message each; none when they agree.
([.entries[]?.path] | sort) as $entries
| [ (($files - $entries)[] | "\(.): listed, but not among the backup's entries"),
    (($entries - $files)[] | "\(tojson): among the backup's entries, but not listed"),
    ($entries | group_by(.)[] | select(length > 1) | "\(.[0] | tojson): twice among the backup's entries"),
    (if ((.recipients // []) | sort) != ($recipients | sort) then "the manifest's recipients are not the listed ones" else empty end) ]
