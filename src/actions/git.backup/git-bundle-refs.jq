# git.backup: `git bundle list-heads` lines ("SHA REF") read raw, as one object {REF: SHA}.
[inputs | capture("^(?<sha>[0-9a-f]+) (?<ref>.+)$") | {(.ref): .sha}] | add
